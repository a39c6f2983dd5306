package http2

import (
	"slices"
	"testing"

	"github.com/jjsql/jjsql/internal/testgen"
)

// h2cStreams returns the two directions of the generated sample's h2c
// conversation (prior knowledge): the client's and the server's payload.
func h2cStreams() (client, server []byte) {
	client = append(testgen.H2ClientStart("example.test:8080", "/"), testgen.H2ClientEnd()...)
	server = append(testgen.H2ServerStart(), testgen.H2Response(1200)...)
	return client, server
}

const upgradeRequest = "GET / HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n" +
	"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"

const switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func TestCleartext(t *testing.T) {
	client, server := h2cStreams()
	clientPreface := cat([]byte(Preface), firstSettings)
	serverFrames := fr(fr(firstSettings, TypeHeaders, FlagEndHeaders, 1, []byte{0x88}), TypeData, FlagEndStream, 1, []byte("hello"))
	big := fr(firstSettings, TypeData, 0, 1, zeros(20000))
	type want struct {
		mode     Mode
		client   int
		preface  bool
		detected bool
		frames   [2]int // walked frames of stream 0 and stream 1
	}
	cases := []struct {
		name string
		s    [2][]byte
		want want
	}{
		{"prior knowledge", [2][]byte{client, server}, want{PriorKnowledge, 0, true, true, [2]int{5, 4}}},
		{"prior knowledge, responder is the client", [2][]byte{server, client}, want{PriorKnowledge, 1, true, true, [2]int{4, 5}}},
		{"server not answering", [2][]byte{client, nil}, want{PriorKnowledge, 0, true, false, [2]int{}}},
		{"server answers HTTP/1.1", [2][]byte{client, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}, want{PriorKnowledge, 0, true, false, [2]int{}}},
		{"server starts with SETTINGS ACK", [2][]byte{client, fr(nil, TypeSettings, FlagAck, 0, nil)}, want{PriorKnowledge, 0, true, false, [2]int{}}},
		{"preface not at the start", [2][]byte{cat([]byte("x"), client), server}, want{NotHTTP2, 0, false, false, [2]int{}}},
		{"mid-stream frames", [2][]byte{client[len(Preface):], server}, want{NotHTTP2, 0, false, false, [2]int{}}},
		{"tls application data", [2][]byte{{0x17, 3, 3, 0, 2, 1, 2}, {0x17, 3, 3, 0, 1, 9}}, want{NotHTTP2, 0, false, false, [2]int{}}},
		{"upgrade", [2][]byte{cat([]byte(upgradeRequest), clientPreface), cat([]byte(switching), serverFrames)},
			want{Upgrade, 0, true, true, [2]int{1, 3}}},
		{"upgrade, bare LF", [2][]byte{cat([]byte("GET / HTTP/1.1\nUpgrade: websocket, H2C\n\n"), clientPreface), cat([]byte("HTTP/1.1 101\nupgrade: h2c\n\n"), serverFrames)},
			want{Upgrade, 0, true, true, [2]int{1, 3}}},
		{"upgrade with a body", [2][]byte{cat([]byte("POST /f HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello"), clientPreface), cat([]byte(switching), serverFrames)},
			want{Upgrade, 0, true, true, [2]int{1, 3}}},
		{"upgrade with a chunked body", [2][]byte{cat([]byte("POST /f HTTP/1.1\r\nUpgrade: h2c\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), clientPreface), cat([]byte(switching), serverFrames)},
			want{Upgrade, 0, false, true, [2]int{0, 3}}},
		{"upgrade, no preface after the request", [2][]byte{cat([]byte(upgradeRequest), firstSettings), cat([]byte(switching), serverFrames)},
			want{Upgrade, 0, false, true, [2]int{0, 3}}},
		{"upgrade refused", [2][]byte{[]byte(upgradeRequest), []byte("HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n")},
			want{NotHTTP2, 0, false, false, [2]int{}}},
		{"101 to websocket", [2][]byte{[]byte(upgradeRequest), []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")},
			want{NotHTTP2, 0, false, false, [2]int{}}},
		{"101 without a request", [2][]byte{[]byte("hello\r\n\r\n"), cat([]byte(switching), serverFrames)}, want{NotHTTP2, 0, false, false, [2]int{}}},
		{"101 not followed by SETTINGS", [2][]byte{cat([]byte(upgradeRequest), clientPreface), []byte(switching + "HTTP/1.1 200 OK\r\n\r\n")},
			want{Upgrade, 0, true, false, [2]int{}}},
		{"large frame without the peer's consent", [2][]byte{clientPreface, big}, want{PriorKnowledge, 0, true, true, [2]int{1, 1}}},
		{"large frame the client allowed", [2][]byte{cat([]byte(Preface), fr(nil, TypeSettings, 0, 0, settings(SettingMaxFrameSize, 1<<16))), big},
			want{PriorKnowledge, 0, true, true, [2]int{1, 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Cleartext(tc.s)
			got := want{c.Mode, c.Client, c.PrefaceSeen, c.Detected, [2]int{len(c.Walks[0].Frames), len(c.Walks[1].Frames)}}
			if got != tc.want {
				t.Errorf("Cleartext = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestCleartextSample pins the counts of the generated sample's h2c
// conversation: the client sends SETTINGS, WINDOW_UPDATE, HEADERS (stream
// 1), SETTINGS ACK and GOAWAY; the server SETTINGS, SETTINGS ACK, HEADERS
// and DATA on stream 1.
func TestCleartextSample(t *testing.T) {
	client, server := h2cStreams()
	c := Cleartext([2][]byte{client, server})
	want := Counts{Frames: 9, Data: 1, Headers: 2, Settings: 4, GoAway: 1, WindowUpdate: 1, Streams: 1}
	if got := c.Count(); got != want {
		t.Errorf("Count() = %+v, want %+v", got, want)
	}
	if c.Start != [2]int{len(Preface), 0} {
		t.Errorf("Start = %v", c.Start)
	}
	for i, w := range c.Walks {
		if w.Err != nil || w.Next != len([][]byte{client, server}[i]) {
			t.Errorf("walk %d: Next %d, err %v", i, w.Next, w.Err)
		}
	}
}

func TestStreams(t *testing.T) {
	client := cat([]byte(Preface), firstSettings)
	client = fr(client, TypePriority, 0, 3, []byte{0, 0, 0, 0, 200}) // idle stream: not counted
	client = fr(client, TypePriority, 0, 5, []byte{0, 0, 0, 3, 100})
	client = fr(client, TypeHeaders, FlagEndHeaders|FlagEndStream, 7, []byte{0x82})
	server := fr(firstSettings, TypePushPromise, FlagEndHeaders, 7, append(u32(2), 0x82))
	server = fr(server, TypeHeaders, FlagEndHeaders, 7, []byte{0x88})
	c := Cleartext([2][]byte{client, server})
	if got := c.Streams(); !slices.Equal(got, []uint32{2, 7}) {
		t.Errorf("Streams() = %v, want [2 7]", got)
	}
	n := c.Count()
	if n.Streams != 2 || !n.ServerPush || n.PushPromise != 1 || n.Frames != 7 {
		t.Errorf("Count() = %+v", n)
	}
}

// mux builds a prior-knowledge connection from the frames each side sends
// after its first SETTINGS; at[i] gives the arrival positions of side i's
// frames, its SETTINGS first.
func mux(t *testing.T, client, server []byte) Conn {
	t.Helper()
	c := Cleartext([2][]byte{cat([]byte(Preface), firstSettings, client), cat(firstSettings, server)})
	if !c.Detected || c.Walks[0].Err != nil || c.Walks[1].Err != nil {
		t.Fatalf("connection not walked: %+v", c)
	}
	return c
}

func TestMultiplexed(t *testing.T) {
	h := func(b []byte, stream uint32, end bool) []byte {
		var f uint8 = FlagEndHeaders
		if end {
			f |= FlagEndStream
		}
		return fr(b, TypeHeaders, f, stream, []byte{0x82})
	}
	d := func(b []byte, stream uint32, end bool) []byte {
		var f uint8
		if end {
			f |= FlagEndStream
		}
		return fr(b, TypeData, f, stream, []byte("x"))
	}
	U := Unbounded
	cases := []struct {
		name           string
		client, server []byte
		pos            [2][]int
		horizon        [2]int
		want           bool
	}{
		{"one request after the other",
			h(h(nil, 1, true), 3, true), d(h(d(h(nil, 1, false), 1, true), 3, false), 3, true),
			[2][]int{{0, 1, 5}, {0, 2, 3, 6, 7}}, [2]int{U, U}, false},
		{"second request before the first answer ends",
			h(h(nil, 1, true), 3, true), d(h(d(h(nil, 1, false), 1, true), 3, false), 3, true),
			[2][]int{{0, 1, 3}, {0, 2, 4, 6, 7}}, [2]int{U, U}, true},
		{"both requests in one packet",
			h(h(nil, 1, true), 3, true), nil,
			[2][]int{{0, 1, 1}, {0}}, [2]int{U, U}, true},
		{"answers interleaved",
			h(nil, 1, true), h(h(nil, 1, false), 3, false),
			[2][]int{{0, 1}, {0, 2, 3}}, [2]int{U, U}, true},
		{"concurrency past the horizon is not seen",
			h(h(nil, 1, true), 3, true), d(h(nil, 1, false), 1, true),
			[2][]int{{0, 1, 3}, {0, 2, 4}}, [2]int{U, 3}, false},
		{"reset closes a stream",
			fr(h(h(nil, 1, true), 3, true), TypeRSTStream, 0, 3, u32(8)), fr(h(nil, 1, false), TypeRSTStream, 0, 1, u32(8)),
			[2][]int{{0, 1, 4, 4}, {0, 2, 3}}, [2]int{U, U}, false},
		{"priority on idle streams",
			h(fr(fr(nil, TypePriority, 0, 3, []byte{0, 0, 0, 0, 1}), TypePriority, 0, 5, []byte{0, 0, 0, 0, 1}), 7, true), d(h(nil, 7, false), 7, true),
			[2][]int{{0, 1, 1, 1}, {0, 2, 3}}, [2]int{U, U}, false},
		{"pushed stream after its parent ended",
			h(nil, 1, true), d(h(d(h(fr(nil, TypePushPromise, FlagEndHeaders, 1, append(u32(2), 0x82)), 1, false), 1, true), 2, false), 2, true),
			[2][]int{{0, 1}, {0, 2, 3, 4, 5, 6}}, [2]int{U, U}, false},
		{"pushed stream interleaved with its parent",
			h(nil, 1, true), d(d(h(h(fr(nil, TypePushPromise, FlagEndHeaders, 1, append(u32(2), 0x82)), 1, false), 2, false), 1, true), 2, true),
			[2][]int{{0, 1}, {0, 2, 3, 4, 5, 6}}, [2]int{U, U}, true},
		{"positions missing",
			h(h(nil, 1, true), 3, true), nil,
			[2][]int{{0, 1}, {0}}, [2]int{U, U}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mux(t, tc.client, tc.server)
			for i := range 2 {
				if len(tc.pos[i]) > len(c.Walks[i].Frames) {
					t.Fatalf("side %d: %d positions for %d frames", i, len(tc.pos[i]), len(c.Walks[i].Frames))
				}
			}
			if got := c.Multiplexed(tc.pos, tc.horizon); got != tc.want {
				t.Errorf("Multiplexed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMultiplexedUpgrade(t *testing.T) {
	// Stream 1 is the upgraded request: a second request while its answer
	// is still coming is concurrent, one after it is not.
	client := fr(cat([]byte(upgradeRequest), []byte(Preface), firstSettings), TypeHeaders, FlagEndHeaders|FlagEndStream, 3, []byte{0x82})
	server := fr(fr(cat([]byte(switching), firstSettings), TypeHeaders, FlagEndHeaders, 1, []byte{0x88}), TypeData, FlagEndStream, 1, []byte("x"))
	c := Cleartext([2][]byte{client, server})
	if c.Mode != Upgrade || !c.Detected || len(c.Walks[0].Frames) != 2 || len(c.Walks[1].Frames) != 3 {
		t.Fatalf("Cleartext = %+v", c)
	}
	U := Unbounded
	if !c.Multiplexed([2][]int{{5, 6}, {1, 2, 8}}, [2]int{U, U}) {
		t.Error("request on stream 3 during the answer on stream 1: not multiplexed")
	}
	if c.Multiplexed([2][]int{{5, 9}, {1, 2, 8}}, [2]int{U, U}) {
		t.Error("request on stream 3 after the answer on stream 1: multiplexed")
	}
}
