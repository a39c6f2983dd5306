package flows

// Split reading: framing (walking the file's records, which is sequential)
// apart from decoding (each record's headers, which is not), so that a scan
// can frame on one goroutine and decode on several.

// Frame is one capture record, framed but not decoded: what Source.Next
// knows of it before the decoder runs, and its captured bytes.
type Frame struct {
	Data     []byte // the record's captured bytes; valid until the source is closed
	File     int
	Index    uint64
	TS       float64
	TSSec    int64
	TSNsec   int64
	CapLen   int
	WireLen  int
	LinkType uint16
	Offset   int64
	swapped  bool // the capture is big-endian (NULL link headers)
}

// framer is implemented by the sources that can defer decoding.
type framer interface {
	deferDecode() (stay bool)
	lastFrame() *Frame
}

// DeferDecode switches src (a capture file's source) to framing only: its
// Next then returns nil for every record whose link type jjsql decodes,
// without decoding it; LastFrame returns the record and DecodeFrame decodes
// it, possibly on another goroutine. The source's Stats then count records,
// bytes and unsupported records only: the decoding's counts are
// DecodeFrame's. ok is false for a source that cannot (src is unchanged);
// stay reports whether a Frame's Data stays valid until the source is
// closed (a memory-mapped file) or only until the next call of Next (a
// streamed one: copy it).
func DeferDecode(src Source) (stay, ok bool) {
	f, ok := src.(framer)
	if !ok {
		return false, false
	}
	return f.deferDecode(), true
}

// LastFrame returns the record the last successful Next of a source
// switched by DeferDecode framed. The Frame is overwritten by the next call.
func LastFrame(src Source) *Frame {
	if f, ok := src.(framer); ok {
		return f.lastFrame()
	}
	return nil
}

func (s *sourceBase) deferDecode() bool {
	s.deferred = true
	if s.in != nil && s.in.m != nil {
		s.in.keep = deferredKeep
		return true
	}
	return false
}

func (s *sourceBase) lastFrame() *Frame { return &s.frame }

// AddDecoded adds to s the counts that DecodeFrame keeps (IPPackets,
// Malformed, NonIP, Unsupported, DecodeErrors): a deferred source's Stats
// plus its decoders' counts are what its Stats would have been.
func (s *SourceStats) AddDecoded(d SourceStats) {
	s.IPPackets += d.IPPackets
	s.Malformed += d.Malformed
	s.NonIP += d.NonIP
	s.Unsupported += d.Unsupported
	s.DecodeErrors += d.DecodeErrors
}

// DecodeFrame decodes fr into p (reset first), as Source.Next would, and
// reports whether it carries an IP packet; st counts the outcome as a
// source's Stats would (IPPackets, Malformed, NonIP, Unsupported,
// DecodeErrors). It may run on any goroutine while the source is open.
func DecodeFrame(fr *Frame, p *Packet, st *SourceStats) bool {
	p.Reset()
	p.File, p.Index, p.TS, p.TSSec, p.TSNsec = fr.File, fr.Index, fr.TS, fr.TSSec, fr.TSNsec
	p.CapLen, p.WireLen, p.LinkType, p.Offset = fr.CapLen, fr.WireLen, fr.LinkType, fr.Offset
	d := decoder{swapped: fr.swapped}
	switch d.decode(p, fr.LinkType, fr.Data) {
	case resultIP:
		st.IPPackets++
		if p.Malformed {
			st.Malformed++
		}
		return true
	case resultNonIP:
		st.NonIP++
	case resultUnsupported:
		st.Unsupported++
	default:
		st.DecodeErrors++
	}
	return false
}
