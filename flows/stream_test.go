package flows

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStream(t *testing.T) {
	type seg struct {
		seq      uint32
		syn      bool
		data     string
		declared int // 0: len(data)
	}
	cases := []struct {
		name      string
		segs      []seg
		budget    int
		want      string
		gap, full bool
	}{
		{"in order after SYN", []seg{{100, true, "", 0}, {101, false, "hello ", 0}, {107, false, "world", 0}}, 100, "hello world", false, false},
		{"retransmission taken once", []seg{{101, false, "abc", 0}, {101, false, "abc", 0}, {104, false, "def", 0}}, 100, "abcdef", false, false},
		{"overlap keeps new bytes", []seg{{1, false, "abcd", 0}, {3, false, "cdef", 0}}, 100, "abcdef", false, false},
		{"out of order filled", []seg{{1, false, "ab", 0}, {5, false, "ef", 0}, {3, false, "cd", 0}}, 100, "abcdef", false, false},
		{"hole stops at finish", []seg{{1, false, "ab", 0}, {5, false, "ef", 0}}, 100, "ab", true, false},
		{"wrap around 2^32", []seg{{0xfffffffe, true, "", 0}, {0xffffffff, false, "ab", 0}, {1, false, "cd", 0}}, 100, "abcd", false, false},
		{"budget", []seg{{1, false, "abcdef", 0}, {7, false, "gh", 0}}, 4, "abcd", false, true},
		{"mid-stream start", []seg{{5000, false, "hello", 0}}, 100, "hello", false, false},
		{"snaplen cut leaves a hole", []seg{{1, false, "ab", 4}, {5, false, "ef", 0}}, 100, "ab", true, false},
		{"zero filler replaced by data", []seg{{1, false, "\x00\x00", 0}, {1, false, "abcd", 0}}, 100, "abcd", false, false},
		{"data not replaced by zeros", []seg{{1, false, "ab", 0}, {1, false, "\x00\x00cd", 0}}, 100, "abcd", false, false},
		{"pure acks ignored", []seg{{1, false, "", 0}, {1, false, "ab", 0}}, 100, "ab", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s Stream
			for _, g := range tc.segs {
				d := g.declared
				if d == 0 {
					d = len(g.data)
				}
				s.Add(g.seq, g.syn, []byte(g.data), d, tc.budget)
			}
			s.Finish()
			if string(s.Data) != tc.want || s.Gap != tc.gap || s.Full != tc.full {
				t.Errorf("stream = %q gap %v full %v, want %q gap %v full %v", s.Data, s.Gap, s.Full, tc.want, tc.gap, tc.full)
			}
		})
	}
}

func TestStreamPendingBounded(t *testing.T) {
	var s Stream
	s.Add(1, false, []byte("a"), 1, 1<<20)
	for i := 0; i < 1000; i++ {
		s.Add(uint32(10+i*2), false, []byte("x"), 1, 1<<20) // every one leaves a hole
	}
	if !s.Gap || len(s.pending()) != 0 || string(s.Data) != "a" {
		t.Errorf("gap %v, pending %d, data %q; want a gap, nothing pending, %q", s.Gap, len(s.pending()), s.Data, "a")
	}
}

// FuzzStream feeds arbitrary segments (seq, flags, length, bytes) to a
// Stream: no panic, the budget holds, and the queue stays bounded.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 3, 'a', 'b', 'c', 0, 0, 0, 4, 0, 2, 'd', 'e'}, 16)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 2, 'x', 'y'}, 4)
	f.Fuzz(func(t *testing.T, b []byte, budget int) {
		if budget < 0 || budget > 1<<16 {
			budget = 64
		}
		var s Stream
		for len(b) >= 6 {
			seq := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			syn := b[4]&1 != 0
			n := int(b[5])
			b = b[6:]
			if n > len(b) {
				n = len(b)
			}
			declared := n
			if syn && n > 0 {
				declared = n + 1 // a cut segment
			}
			s.Add(seq, syn, b[:n], declared, budget)
			b = b[n:]
			if len(s.Data) > budget || len(s.pending()) > maxPending {
				t.Fatalf("data %d (budget %d), pending %d", len(s.Data), budget, len(s.pending()))
			}
		}
		s.Finish()
	})
}

// TestStreamReorder sends a stream's segments after its SYN in random order
// (with repeats) and checks that reassembly gives back the stream, while
// the queue's buffer stays within twice the bytes it may hold.
func TestStreamReorder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(maxPending)
		var want []byte
		type sg struct {
			seq  uint32
			data []byte
		}
		isn := rng.Uint32()
		var segs []sg
		for i := 0; i < n; i++ {
			d := make([]byte, 1+rng.IntN(40))
			for j := range d {
				d[j] = byte(rng.IntN(256)) | 1
			}
			segs = append(segs, sg{isn + 1 + uint32(len(want)), d})
			want = append(want, d...)
		}
		order := rng.Perm(n)
		for i := 0; i < n/3; i++ {
			order = append(order, rng.IntN(n)) // retransmissions
		}
		var s Stream
		s.Add(isn, true, nil, 0, 1<<20)
		for _, i := range order {
			s.Add(segs[i].seq, false, segs[i].data, len(segs[i].data), 1<<20)
			if s.q != nil && cap(s.q.buf) > max(2*len(want), 1024) {
				t.Fatalf("round %d: queue buffer %d bytes for a %d-byte stream", round, cap(s.q.buf), len(want))
			}
		}
		s.Finish()
		if !bytes.Equal(s.Data, want) || s.Gap || len(s.pending()) != 0 {
			t.Fatalf("round %d (%d segments, order %v): got %d bytes gap %v pending %d, want %d bytes",
				round, n, order, len(s.Data), s.Gap, len(s.pending()), len(want))
		}
	}
}

// TestStreamDoneHook: Config.StreamDone is asked as a stream grows; its
// StreamEnough keeps no later byte, StreamKeep stops the questions, and a
// recycled flow starts over.
func TestStreamDoneHook(t *testing.T) {
	seg := func(seq uint32, data string) *Packet {
		p := tcpPkt(float64(seq)/1000, true, ACK|PSH, seq, 1, len(data))
		p.Payload = []byte(data)
		return p
	}
	for _, verdict := range []StreamVerdict{StreamMore, StreamEnough, StreamKeep} {
		cfg := DefaultConfig()
		cfg.TerminateOnFinRst = false
		var asked []int
		cfg.StreamDone = func(f *Flow, dir int) StreamVerdict {
			asked = append(asked, len(f.App.Stream[dir].Data))
			return verdict
		}
		a := NewAssembler(cfg, NeedPayload)
		for _, p := range []*Packet{seg(1, "abc"), seg(4, "def"), seg(7, "ghi")} {
			a.Add(p)
		}
		a.Flush()
		fs := drain(a)
		if len(fs) != 1 {
			t.Fatalf("%d flows, want 1", len(fs))
		}
		s := &fs[0].App.Stream[0]
		wantData, wantAsked := "abcdefghi", []int{3, 6, 9}
		switch verdict {
		case StreamEnough:
			wantData, wantAsked = "abc", []int{3}
		case StreamKeep:
			wantAsked = []int{3}
		}
		if string(s.Data) != wantData || s.Enough != (verdict == StreamEnough) || !slices.Equal(asked, wantAsked) {
			t.Errorf("verdict %d: data %q enough %v asked %v, want %q %v %v", verdict, s.Data, s.Enough,
				asked, wantData, verdict == StreamEnough, wantAsked)
		}
		a.Release(fs[0])
		// The recycled flow asks again from the start.
		asked = nil
		a.Add(seg(1, "xyz"))
		a.Flush()
		fs = drain(a)
		if len(fs) != 1 || string(fs[0].App.Stream[0].Data) != "xyz" || len(asked) != 1 {
			t.Errorf("verdict %d: recycled flow: %d flows, asked %v", verdict, len(fs), asked)
		}
	}
}
