package http2

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// seedStreams are real byte streams: the generated h2c conversation, an
// upgrade, and TLS handshakes.
func seedStreams(f *testing.F) [][2][]byte {
	client, server := h2cStreams()
	up := [2][]byte{cat([]byte(upgradeRequest), []byte(Preface), firstSettings),
		cat([]byte(switching), fr(firstSettings, TypeHeaders, FlagEndHeaders|FlagEndStream, 1, []byte{0x88}))}
	c12, s12 := handshake(f, tls.VersionTLS12, []string{"h2", "http/1.1"}, nil)
	c13, s13 := handshake(f, tls.VersionTLS13, []string{"h3"}, nil)
	return [][2][]byte{{client, server}, up, {c12, s12}, {c13, s13}}
}

// FuzzWalkFrames checks the frame walker's invariants on any input.
func FuzzWalkFrames(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s[0], len(Preface), uint32(0), false)
		f.Add(s[1], 0, uint32(1<<20), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, start int, maxSize uint32, server bool) {
		role := Client
		if server {
			role = Server
		}
		w := WalkFrames(b, start, maxSize, role)
		limit := min(max(maxSize, DefaultMaxFrameSize), MaxFrameSizeLimit)
		for k, fr := range w.Frames {
			if k == 0 && (fr.Offset != start || fr.Type != TypeSettings) {
				t.Fatalf("first frame %+v (start %d)", fr, start)
			}
			if k > 0 && fr.Offset != w.Frames[k-1].End() {
				t.Fatalf("frame %d at %d, previous ends at %d", k, fr.Offset, w.Frames[k-1].End())
			}
			if fr.Offset+HeaderLen > len(b) || fr.Length > limit || !fr.Type.Known() {
				t.Fatalf("frame %d invalid: %+v (data %d, limit %d)", k, fr, len(b), limit)
			}
			if fr.Cut != (fr.End() > len(b)) || (fr.Cut && k != len(w.Frames)-1) {
				t.Fatalf("frame %d cut flag wrong: %+v", k, fr)
			}
		}
		switch {
		case w.Err == nil:
			if w.Next != len(b) {
				t.Fatalf("clean walk ends at %d of %d", w.Next, len(b))
			}
		case len(w.Frames) > 0 && w.Frames[len(w.Frames)-1].Cut:
			if w.Next != w.Frames[len(w.Frames)-1].End() {
				t.Fatalf("cut walk: Next %d", w.Next)
			}
		case w.Next > len(b) && start <= len(b):
			t.Fatalf("Next %d past the data (%d)", w.Next, len(b))
		}
	})
}

// FuzzCleartext runs detection, counting and the multiplexing check on any
// pair of streams.
func FuzzCleartext(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := Cleartext([2][]byte{a, b})
		n := c.Count()
		if n.Frames != len(c.Walks[0].Frames)+len(c.Walks[1].Frames) {
			t.Fatalf("Count().Frames %d", n.Frames)
		}
		if !c.Detected && n.Frames != 0 {
			t.Fatalf("%d frames counted on an undetected connection", n.Frames)
		}
		if c.PrefaceSeen && c.Mode == NotHTTP2 {
			t.Fatal("preface without a mode")
		}
		var pos [2][]int
		for i := range 2 {
			for k := range c.Walks[i].Frames {
				pos[i] = append(pos[i], k*2+i)
			}
		}
		c.Multiplexed(pos, [2]int{Unbounded, Unbounded})
		c.Multiplexed(pos, [2]int{3, Unbounded})
	})
}

// FuzzServerHelloALPN parses any server stream.
func FuzzServerHelloALPN(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s[1])
	}
	f.Add(serverHello([]byte{0, 16, 0, 5, 0, 3, 2, 'h', '2'}))
	f.Fuzz(func(t *testing.T, b []byte) {
		alpn, ok := ServerHelloALPN(b)
		if alpn != "" && (!ok || !bytes.Contains(b, []byte(alpn))) {
			t.Fatalf("ALPN %q (ok %v) not in the data", alpn, ok)
		}
	})
}

// FuzzClientHelloALPN parses any ClientHello.
func FuzzClientHelloALPN(f *testing.F) {
	for _, s := range seedStreams(f) {
		if len(s[0]) > 5 && s[0][0] == recordHandshake {
			f.Add(s[0][5:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		protos, ok := ClientHelloALPN(b)
		if !ok && protos != nil {
			t.Fatal("protocols from a malformed hello")
		}
		for _, p := range protos {
			if p == "" || !bytes.Contains(b, []byte(p)) {
				t.Fatalf("protocol %q not in the data", p)
			}
		}
	})
}
