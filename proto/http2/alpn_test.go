package http2

import (
	"crypto/tls"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/jjsql/jjsql/internal/testgen"
)

// handshake runs a crypto/tls handshake and returns what the client and
// the server wrote.
func handshake(t testing.TB, version uint16, alpn, serverALPN []string) (client, server []byte) {
	t.Helper()
	flights, err := testgen.TLSHandshake(testgen.TLSConfig{
		Version: version, ServerName: "example.test", ALPN: alpn, ServerALPN: serverALPN,
		Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 204 No Content\r\n\r\n"),
		Seed: 7, Time: time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flights {
		if f.FromServer {
			server = append(server, f.Data...)
		} else {
			client = append(client, f.Data...)
		}
	}
	return client, server
}

// record wraps a handshake fragment in a TLS 1.2 handshake record.
func record(frag []byte) []byte {
	return append([]byte{recordHandshake, 3, 3, byte(len(frag) >> 8), byte(len(frag))}, frag...)
}

// firstRecord returns the payload of the first TLS record of b.
func firstRecord(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) < 5 {
		t.Fatal("no record")
	}
	n := int(binary.BigEndian.Uint16(b[3:]))
	return b[5 : 5+n]
}

func TestServerHelloALPN(t *testing.T) {
	_, h2 := handshake(t, tls.VersionTLS12, []string{"h2", "http/1.1"}, nil)
	_, h11 := handshake(t, tls.VersionTLS12, []string{"h2", "http/1.1"}, []string{"http/1.1"})
	_, none := handshake(t, tls.VersionTLS12, nil, nil)
	c13, s13 := handshake(t, tls.VersionTLS13, []string{"h2", "http/1.1"}, nil)

	// The ServerHello message of h2, cut into two records.
	sh := firstRecord(t, h2)
	shLen := 4 + (int(sh[1])<<16 | int(sh[2])<<8 | int(sh[3]))
	split := slices.Concat(record(sh[:10]), record(sh[10:shLen]))
	helloReq := slices.Concat(record([]byte{0, 0, 0, 0}), record(sh[:shLen]))

	cases := []struct {
		name   string
		stream []byte
		alpn   string
		ok     bool
	}{
		{"tls 1.2 h2", h2, "h2", true},
		{"tls 1.2 http/1.1", h11, "http/1.1", true},
		{"tls 1.2 no alpn", none, "", true},
		{"tls 1.3: alpn is encrypted", s13, "", true},
		{"tls 1.3 client", c13, "", false},
		{"serverhello across records", split, "h2", true},
		{"hello request first", helloReq, "h2", true},
		{"serverhello cut short", h2[:40], "", false},
		{"second record missing", split[:15], "", false},
		{"application data record", []byte{0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5}, "", false},
		{"alert record", []byte{0x15, 0x03, 0x03, 0x00, 0x02, 2, 40}, "", false},
		{"empty", nil, "", false},
		{"h2c preface", []byte(Preface), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			alpn, ok := ServerHelloALPN(tc.stream)
			if alpn != tc.alpn || ok != tc.ok {
				t.Errorf("ServerHelloALPN = %q, %v; want %q, %v", alpn, ok, tc.alpn, tc.ok)
			}
		})
	}
}

// serverHello builds a ServerHello record with the given extensions block
// contents (nil: no block).
func serverHello(exts []byte) []byte {
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0x13, 0x01, 0) // no session id, cipher, compression
	if exts != nil {
		body = binary.BigEndian.AppendUint16(body, uint16(len(exts)))
		body = append(body, exts...)
	}
	msg := append([]byte{hsServerHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return record(msg)
}

func TestServerHelloALPNMalformed(t *testing.T) {
	ext := func(typ uint16, data []byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, typ)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		return append(b, data...)
	}
	cases := []struct {
		name string
		exts []byte
		alpn string
		ok   bool
	}{
		{"no extensions", nil, "", true},
		{"alpn h2", ext(extALPN, []byte{0, 3, 2, 'h', '2'}), "h2", true},
		{"after another extension", slices.Concat(ext(0xff01, []byte{0}), ext(extALPN, []byte{0, 3, 2, 'h', '2'})), "h2", true},
		{"two protocols", ext(extALPN, []byte{0, 6, 2, 'h', '2', 2, 'h', '3'}), "", false},
		{"list length lies", ext(extALPN, []byte{0, 9, 2, 'h', '2'}), "", false},
		{"name length lies", ext(extALPN, []byte{0, 3, 5, 'h', '2'}), "", false},
		{"empty name", ext(extALPN, []byte{0, 1, 0}), "", false},
		{"empty list", ext(extALPN, []byte{0, 0}), "", false},
		{"extension runs over", []byte{0, 16, 0, 9, 0, 3}, "", false},
		{"partial extension header", []byte{0, 16, 0}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			alpn, ok := ServerHelloALPN(serverHello(tc.exts))
			if alpn != tc.alpn || ok != tc.ok {
				t.Errorf("ServerHelloALPN = %q, %v; want %q, %v", alpn, ok, tc.alpn, tc.ok)
			}
		})
	}
	// A session id longer than 32 bytes.
	b := serverHello(nil)
	b[5+4+34] = 33
	if _, ok := ServerHelloALPN(b); ok {
		t.Error("session id of 33 bytes accepted")
	}
}

func TestClientHelloALPN(t *testing.T) {
	c12, _ := handshake(t, tls.VersionTLS12, []string{"h2", "http/1.1"}, nil)
	c13, _ := handshake(t, tls.VersionTLS13, []string{"h3", "h3-29"}, nil)
	cNone, _ := handshake(t, tls.VersionTLS13, nil, nil)
	hello12 := firstRecord(t, c12)
	hello13 := firstRecord(t, c13)
	cases := []struct {
		name   string
		hello  []byte
		protos []string
		ok     bool
	}{
		{"tls 1.2", hello12, []string{"h2", "http/1.1"}, true},
		{"tls 1.3 h3", hello13, []string{"h3", "h3-29"}, true},
		{"without the handshake header", hello13[4:], []string{"h3", "h3-29"}, true},
		{"no alpn", firstRecord(t, cNone), nil, true},
		{"length lies", append(slices.Clone(hello13), 0), nil, false},
		{"cut", hello13[:60], nil, false},
		{"body cut", hello13[4:60], nil, false},
		{"trailing byte after extensions", append(slices.Clone(hello13[4:]), 0), nil, false},
		{"not a hello", []byte{2, 0, 0, 1, 0}, nil, false},
		{"empty", nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			protos, ok := ClientHelloALPN(tc.hello)
			if !slices.Equal(protos, tc.protos) || ok != tc.ok {
				t.Errorf("ClientHelloALPN = %q, %v; want %q, %v", protos, ok, tc.protos, tc.ok)
			}
		})
	}
}

func TestIsH3(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want bool
	}{{"h3", true}, {"h3-29", true}, {"h3-34", true}, {"h2", false}, {"h3x", false}, {"", false}, {"http/1.1", false}} {
		if got := IsH3(tc.p); got != tc.want {
			t.Errorf("IsH3(%q) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
