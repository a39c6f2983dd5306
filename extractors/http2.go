package extractors

import (
	"sort"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/http2"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "http2", Needs: flows.NeedBase | flows.NeedTCP | flows.NeedPayload, Compute: computeHTTP2})
}

// http_version values (JoyfulJay's vocabulary: "" when neither).
const (
	httpVersionH2 = "h2"
	httpVersionH3 = "h3"
)

// computeHTTP2 fills the http2 group. HTTP/2 and HTTP/3 are recognised by
// parsing, never by byte patterns (POLICY.md section 2; JoyfulJay takes
// any payload whose fourth byte is at most 9 for a frame header, so every
// short TLS record is "HTTP/2"):
//
//   - cleartext HTTP/2 (h2c) over TCP: one reassembled stream begins with
//     the client preface (prior knowledge), or with an HTTP/1.1 request to
//     upgrade to h2c that the other stream answers with 101 Switching
//     Protocols; and the server's frames begin with a valid SETTINGS frame.
//     The frames of both directions are then walked and validated one by
//     one (http2.WalkFrames), up to the first invalid frame or the end of
//     the stream budget; the counts cover what was walked.
//   - HTTP/2 over TLS: the server's ServerHello selects "h2" with ALPN. Its
//     frames are encrypted, so the frame counts stay 0, and in TLS 1.3 the
//     choice itself is encrypted (EncryptedExtensions): a TLS 1.3 flow is
//     not reported as HTTP/2.
//   - HTTP/3: see http3Detected.
//
// http2_preface_seen: the preface begins the client's stream (prior
// knowledge) or follows its upgrade request. http2_streams_estimate counts
// the streams used (non-zero stream ids of frames other than PRIORITY, and
// streams reserved by PUSH_PROMISE); http2_multiplexed says two of them were
// open at the same time (see http2.Conn.Multiplexed).
func computeHTTP2(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		h2, h3, preface bool
		n               http2.Counts
		mux             bool
	)
	switch f.Proto {
	case 6:
		s := [2][]byte{f.App.Stream[0].Data, f.App.Stream[1].Data}
		c := http2.Cleartext(s)
		preface = c.PrefaceSeen
		if c.Detected {
			h2 = true
			n = c.Count()
			if n.Streams > 1 {
				pos, horizon := framePositions(f, &c)
				mux = c.Multiplexed(pos, horizon)
			}
		} else {
			h2 = tlsSelectsH2(s)
		}
	case 17:
		h3 = http3Detected(f, quic.ClientHello)
	}
	version := ""
	switch {
	case h3:
		version = httpVersionH3
	case h2:
		version = httpVersionH2
	}
	out[0] = schema.BoolV(h2)
	out[1] = schema.BoolV(h3)
	out[2] = schema.BoolV(preface)
	out[3] = schema.IntV(int64(n.Frames))
	out[4] = schema.IntV(int64(n.Data))
	out[5] = schema.IntV(int64(n.Headers))
	out[6] = schema.IntV(int64(n.Settings))
	out[7] = schema.IntV(int64(n.PushPromise))
	out[8] = schema.IntV(int64(n.GoAway))
	out[9] = schema.IntV(int64(n.WindowUpdate))
	out[10] = schema.IntV(int64(n.Streams))
	out[11] = schema.BoolV(n.ServerPush)
	out[12] = schema.BoolV(mux)
	out[13] = schema.TextV(version)
	return nil
}

// tlsSelectsH2 reports whether one stream begins with a ServerHello that
// selects "h2" with ALPN.
func tlsSelectsH2(s [2][]byte) bool {
	for i := range s {
		if alpn, ok := http2.ServerHelloALPN(s[i]); ok {
			return alpn == httpVersionH2
		}
	}
	return false
}

// framePositions places the walked frames of c in capture order for
// http2.Conn.Multiplexed: a frame's position is the index (in f.Base) of
// the packet that completed its header, or of a later frame's predecessor
// when segments arrived out of order (a frame is readable only once every
// byte before it arrived). A direction's horizon is the first packet that
// carries bytes after the walked frames (the stream budget or an invalid
// frame ended the walk there); when a hole ends the stream, the packet after
// the one that carried its last byte, since the missing bytes may have been
// sent from then on. The stream offsets of packets follow
// the rule of flows.Stream: the stream starts after the direction's SYN, or
// at its first data segment.
func framePositions(f *flows.Flow, c *http2.Conn) (pos [2][]int, horizon [2]int) {
	for d := range 2 {
		horizon[d] = http2.Unbounded
		frames := c.Walks[d].Frames
		pos[d] = make([]int, len(frames))
		for k := range pos[d] {
			pos[d][k] = -1
		}
		fwd := d == 0
		var (
			base    uint32
			started bool
		)
		// skip[k] leads to the first frame at or after k without a position.
		skip := make([]int, len(frames)+1)
		for k := range skip {
			skip[k] = k
		}
		find := func(k int) int {
			for skip[k] != k {
				skip[k] = skip[skip[k]]
				k = skip[k]
			}
			return k
		}
		unplaced := len(frames)
		next := int64(c.Walks[d].Next)
		st := &f.App.Stream[d]
		lastByte := int64(len(st.Data)) - 1
		lastCover := -1 // first packet that carried the stream's last reassembled byte
		for i := range f.Base {
			b := &f.Base[i]
			if !b.HasFlags || b.Fwd != fwd || i >= len(f.TCP) {
				continue
			}
			syn := b.Flags&flows.SYN != 0
			seq := f.TCP[i].Seq
			if syn {
				seq++
			}
			if !started {
				if !syn && b.Payload == 0 {
					continue
				}
				base, started = seq, true
			}
			if b.Payload == 0 {
				continue
			}
			lo := int64(int32(seq - base))
			hi := lo + int64(b.Payload)
			if hi > next && horizon[d] == http2.Unbounded {
				horizon[d] = i
			}
			if lastCover < 0 && lo <= lastByte && lastByte < hi {
				lastCover = i
			}
			if unplaced > 0 {
				// Frames whose header ends inside [lo, hi).
				k := sort.Search(len(frames), func(k int) bool { return int64(frames[k].Offset+http2.HeaderLen-1) >= lo })
				for k = find(k); k < len(frames) && int64(frames[k].Offset+http2.HeaderLen-1) < hi; k = find(k + 1) {
					pos[d][k] = i
					skip[k] = k + 1
					unplaced--
				}
			}
			if unplaced == 0 && horizon[d] != http2.Unbounded && (lastCover >= 0 || lastByte < 0) {
				break
			}
		}
		if st.Gap && next > lastByte {
			// A hole ends the stream: the missing bytes may have been sent
			// right after the last byte that arrived.
			horizon[d] = min(horizon[d], lastCover+1)
		}
		last := 0
		for k, p := range pos[d] {
			if p < 0 {
				// Not found in any packet: nothing from here on is placed.
				pos[d] = pos[d][:k]
				horizon[d] = min(horizon[d], last+1)
				break
			}
			last = max(last, p)
			pos[d][k] = last
		}
	}
	return pos, horizon
}
