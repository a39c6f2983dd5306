package quic

import "errors"

// Limits on hostile input.
const (
	// MaxCrypto caps the crypto stream bytes kept per connection: a
	// ClientHello with post-quantum key shares is a few kilobytes.
	MaxCrypto = 64 << 10
	// maxFrames caps the frames read from one packet (a run of PADDING
	// counts as one).
	maxFrames = 1024
	// maxSpans caps the disjoint pieces of a crypto stream waiting for the
	// holes between them to be filled.
	maxSpans = 256
	// maxAckRanges caps the ACK ranges read from one ACK frame.
	maxAckRanges = 256
)

var errFrame = errors.New("quic: malformed frame")

// cryptoStream reassembles the CRYPTO frames of one direction by offset
// (RFC 9000 section 19.6). Bytes already received win over later copies.
type cryptoStream struct {
	buf   []byte
	spans []span // received byte ranges, sorted and merged
	over  bool   // data beyond MaxCrypto or too many pieces: stop
}

type span struct{ start, end int }

func (s *cryptoStream) reset() {
	s.buf = s.buf[:0]
	s.spans = s.spans[:0]
	s.over = false
}

// add places data at offset off.
func (s *cryptoStream) add(off uint64, data []byte) {
	if s.over || len(data) == 0 {
		return
	}
	if off >= MaxCrypto || uint64(len(data)) > MaxCrypto-off {
		s.over = true
		return
	}
	start, end := int(off), int(off)+len(data)
	if end > len(s.buf) {
		if end > cap(s.buf) {
			nb := make([]byte, end, max(end, 2*cap(s.buf)))
			copy(nb, s.buf)
			s.buf = nb
		} else {
			s.buf = s.buf[:end]
		}
	}
	// Copy only into the holes, so that the first copy of a byte wins.
	pos := start
	for _, sp := range s.spans {
		if sp.end <= pos {
			continue
		}
		if sp.start >= end {
			break
		}
		if sp.start > pos {
			copy(s.buf[pos:sp.start], data[pos-start:])
		}
		pos = max(pos, sp.end)
		if pos >= end {
			break
		}
	}
	if pos < end {
		copy(s.buf[pos:end], data[pos-start:])
	}
	s.insert(span{start, end})
}

// insert merges sp into the sorted span list.
func (s *cryptoStream) insert(sp span) {
	out := s.spans[:0:0]
	placed := false
	for _, x := range s.spans {
		switch {
		case x.end < sp.start:
			out = append(out, x)
		case x.start > sp.end:
			if !placed {
				out = append(out, sp)
				placed = true
			}
			out = append(out, x)
		default:
			sp.start, sp.end = min(sp.start, x.start), max(sp.end, x.end)
		}
	}
	if !placed {
		out = append(out, sp)
	}
	if len(out) > maxSpans {
		s.over = true
	}
	s.spans = out
}

// prefix returns the contiguous bytes from offset 0.
func (s *cryptoStream) prefix() []byte {
	if len(s.spans) == 0 || s.spans[0].start != 0 {
		return nil
	}
	return s.buf[:s.spans[0].end]
}

// walkFrames reads the frames of a decrypted Initial payload and hands the
// CRYPTO frames' data to fn. It stops with an error at a frame that may not
// appear in an Initial packet or does not parse; frames before it count.
func walkFrames(p []byte, v *version, fn func(off uint64, data []byte)) error {
	for n := 0; len(p) > 0; n++ {
		if n >= maxFrames {
			return errFrame
		}
		t := p[0]
		if t == 0x00 { // PADDING
			i := 1
			for i < len(p) && p[i] == 0 {
				i++
			}
			p = p[i:]
			continue
		}
		if v.google {
			switch t {
			case 0x07: // PING
				p = p[1:]
				continue
			case v.cryptoType:
				rest, err := cryptoFrame(p[1:], fn)
				if err != nil {
					return err
				}
				p = rest
				continue
			}
			return errFrame
		}
		switch t {
		case 0x01: // PING
			p = p[1:]
		case 0x02, 0x03: // ACK
			rest, err := ackFrame(p[1:], t == 0x03)
			if err != nil {
				return err
			}
			p = rest
		case 0x06: // CRYPTO
			rest, err := cryptoFrame(p[1:], fn)
			if err != nil {
				return err
			}
			p = rest
		case 0x1c: // CONNECTION_CLOSE: nothing useful follows
			return nil
		default:
			return errFrame
		}
	}
	return nil
}

func cryptoFrame(p []byte, fn func(off uint64, data []byte)) ([]byte, error) {
	off, n := varint(p)
	if n == 0 {
		return nil, errFrame
	}
	p = p[n:]
	l, n := varint(p)
	if n == 0 || l > uint64(len(p)-n) {
		return nil, errFrame
	}
	p = p[n:]
	fn(off, p[:l])
	return p[l:], nil
}

func ackFrame(p []byte, ecn bool) ([]byte, error) {
	// Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range.
	var count uint64
	for i := 0; i < 4; i++ {
		v, n := varint(p)
		if n == 0 {
			return nil, errFrame
		}
		if i == 2 {
			count = v
		}
		p = p[n:]
	}
	if count > maxAckRanges {
		return nil, errFrame
	}
	fields := 2 * int(count)
	if ecn {
		fields += 3
	}
	for i := 0; i < fields; i++ {
		_, n := varint(p)
		if n == 0 {
			return nil, errFrame
		}
		p = p[n:]
	}
	return p, nil
}
