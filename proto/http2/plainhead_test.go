package http2

import "testing"

func TestPlainHead(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Head
	}{
		{"request", "GET /x HTTP/1.1\r\nHost: a\r\n\r\nbody", HeadRequest},
		{"request with bare LF", "POST / HTTP/1.1\nContent-Length: 0\n\n", HeadRequest},
		{"incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n", HeadUnknown},
		{"response", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", HeadResponse},
		{"response without reason", "HTTP/1.0 200\r\n\r\n", HeadResponse},
		{"h2c upgrade", "GET / HTTP/1.1\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", HeadSwitch},
		{"websocket upgrade", "GET /chat HTTP/1.1\r\nupgrade: websocket\r\n\r\n", HeadSwitch},
		{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", HeadSwitch},
		{"101 response", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", HeadSwitch},
		{"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", HeadSwitch},
		{"preface", Preface, HeadUnknown},
		{"TLS", "\x16\x03\x01\x00\x05hello", HeadUnknown},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", HeadUnknown},
		{"bad header line", "GET / HTTP/1.1\r\nno colon here\r\n\r\n", HeadUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PlainHead([]byte(c.in)); got != c.want {
				t.Errorf("PlainHead(%q) = %d, want %d", c.in, got, c.want)
			}
		})
	}
}
