package flows

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapFormat describes a classic pcap variant.
type pcapFormat struct {
	bigEndian bool
	digits    int // 6 for microseconds, 9 for nanoseconds
	recHdr    int // record header length: 16, or 24 for the modified (Kuznetzov) format
}

// pcapMagic recognises the four bytes at the start of a classic pcap file.
func pcapMagic(b []byte) (pcapFormat, bool) {
	if len(b) < 4 {
		return pcapFormat{}, false
	}
	le := binary.LittleEndian.Uint32(b)
	be := binary.BigEndian.Uint32(b)
	for _, m := range [...]struct {
		magic  uint32
		digits int
		recHdr int
	}{
		{0xa1b2c3d4, 6, 16},
		{0xa1b23c4d, 9, 16},
		{0xa1b2cd34, 6, 24},
	} {
		if be == m.magic {
			return pcapFormat{bigEndian: true, digits: m.digits, recHdr: m.recHdr}, true
		}
		if le == m.magic {
			return pcapFormat{digits: m.digits, recHdr: m.recHdr}, true
		}
	}
	return pcapFormat{}, false
}

// pcapSource reads a classic pcap file.
type pcapSource struct {
	sourceBase
	format  pcapFormat
	snaplen uint32
	link    uint16
	index   uint64
}

const pcapFileHeaderLen = 24

func newPcap(base sourceBase) (*pcapSource, error) {
	s := &pcapSource{sourceBase: base}
	h := s.in.peek(pcapFileHeaderLen)
	if h == nil {
		return nil, &FormatError{File: s.name, Offset: 0, Err: ErrTruncated, Detail: "file header"}
	}
	s.format, _ = pcapMagic(h)
	s.snaplen = s.u32(h[16:])
	// The upper bits of the link-type field carry FCS information.
	s.link = uint16(s.u32(h[20:]))
	if !SupportedLinkType(s.link) {
		return nil, &FormatError{File: s.name, Offset: 20, Err: ErrUnknownLinkType, Detail: fmt.Sprintf("link type %d", s.link)}
	}
	s.in.advance(pcapFileHeaderLen)
	return s, nil
}

func (s *pcapSource) u32(b []byte) uint32 {
	if s.format.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// Next implements Source. The packet's Payload and TCPOptions point into the
// source's buffer and are valid until the next call.
func (s *pcapSource) Next(p *Packet) error {
	if s.err != nil {
		return s.err
	}
	hl := s.format.recHdr
	for {
		off := s.in.off
		h := s.in.peek(hl)
		if h == nil {
			return s.endErr(off)
		}
		sec := s.u32(h[0:])
		frac := s.u32(h[4:])
		caplen := s.u32(h[8:])
		wirelen := s.u32(h[12:])
		if badRecordLen(uint64(caplen), uint64(s.snaplen)) {
			return s.formatErr(ErrBadBlock, off, fmt.Sprintf("record length %d", caplen))
		}
		rec := s.in.peek(hl + int(caplen))
		if rec == nil {
			return s.endErr(off)
		}
		s.in.advance(hl + int(caplen))
		s.index++
		s.stats.Records++
		if s.deferred {
			// Framing only (DeferDecode): the record goes to LastFrame;
			// p is left alone.
			fr := &s.frame
			fr.Data, fr.File, fr.Index = rec[hl:], s.file, s.index
			fr.TS, fr.TSSec, fr.TSNsec = decimalTS(int64(sec), uint64(frac), s.format.digits)
			fr.CapLen, fr.WireLen, fr.LinkType, fr.Offset, fr.swapped = int(caplen), int(wirelen), s.link, off, s.format.bigEndian
			return nil
		}
		p.Reset()
		p.File = s.file
		p.Index = s.index
		p.TS, p.TSSec, p.TSNsec = decimalTS(int64(sec), uint64(frac), s.format.digits)
		p.CapLen = int(caplen)
		p.WireLen = int(wirelen)
		p.LinkType = s.link
		p.Offset = off
		if s.deliver(p, s.link, s.format.bigEndian, rec[hl:]) {
			return nil
		}
	}
}

// endErr is the error for input that ends where a record should start or
// inside the record at off.
func (s *sourceBase) endErr(off int64) error {
	buffered := s.in.end - s.in.start
	if rerr := s.in.readErr(); rerr != nil {
		return s.formatErr(ErrTruncated, off, rerr.Error())
	}
	if buffered == 0 {
		return s.fail(io.EOF)
	}
	return s.formatErr(ErrTruncated, off, "")
}
