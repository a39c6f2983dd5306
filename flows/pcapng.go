package flows

import (
	"encoding/binary"
	"fmt"
)

// pcapng block types.
const (
	ngSHB = 0x0a0d0d0a // section header
	ngIDB = 0x00000001 // interface description
	ngPB  = 0x00000002 // packet (obsolete)
	ngSPB = 0x00000003 // simple packet
	ngEPB = 0x00000006 // enhanced packet
)

// pcapng option codes of the interface description block.
const (
	optEnd        = 0
	optIfTSResol  = 9
	optIfTSOffset = 14
)

// ngMaxBlock bounds a block: a record of maxRecord bytes plus its header,
// options and trailer.
const ngMaxBlock = maxRecord + 64<<10

// ngBufferedBlock is the largest skipped block read into memory whole; larger
// ones are streamed past.
const ngBufferedBlock = 1 << 20

// ngIface is one interface of the current section.
type ngIface struct {
	link      uint16
	supported bool
	snaplen   uint32
	binary    bool  // timestamps in units of 2^-exp seconds
	exp       int   // decimal digits, or the binary exponent
	offset    int64 // if_tsoffset, seconds
}

// pcapngSource reads a pcapng file.
type pcapngSource struct {
	sourceBase
	bigEndian bool
	ifaces    []ngIface
	index     uint64
}

func newPcapng(base sourceBase) (*pcapngSource, error) {
	s := &pcapngSource{sourceBase: base}
	h := s.in.peek(12)
	if h == nil {
		return nil, &FormatError{File: s.name, Offset: 0, Err: ErrTruncated, Detail: "section header"}
	}
	if _, ok := ngByteOrder(h[8:12]); !ok {
		return nil, &FormatError{File: s.name, Offset: 0, Err: ErrNotCapture, Detail: "pcapng byte-order magic " + fmt.Sprintf("%x", h[8:12])}
	}
	return s, nil
}

// ngByteOrder reads the section header's byte-order magic.
func ngByteOrder(b []byte) (bigEndian, ok bool) {
	switch binary.BigEndian.Uint32(b) {
	case 0x1a2b3c4d:
		return true, true
	case 0x4d3c2b1a:
		return false, true
	}
	return false, false
}

func (s *pcapngSource) u16(b []byte) uint16 {
	if s.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (s *pcapngSource) u32(b []byte) uint32 {
	if s.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// Next implements Source. The packet's Payload and TCPOptions point into the
// source's buffer and are valid until the next call.
func (s *pcapngSource) Next(p *Packet) error {
	if s.err != nil {
		return s.err
	}
	for {
		off := s.in.off
		h := s.in.peek(8)
		if h == nil {
			return s.endErr(off)
		}
		typ := binary.BigEndian.Uint32(h) // only compared with palindromes before the SHB sets the order
		if typ == ngSHB {
			h = s.in.peek(12)
			if h == nil {
				return s.endErr(off)
			}
			be, ok := ngByteOrder(h[8:12])
			if !ok {
				return s.formatErr(ErrBadBlock, off, "section byte-order magic")
			}
			s.bigEndian = be
		} else {
			typ = s.u32(h)
		}
		blen := s.u32(h[4:])
		if blen%4 != 0 || blen < 12 || blen > ngMaxBlock {
			return s.formatErr(ErrBadBlock, off, fmt.Sprintf("block length %d", blen))
		}
		isPacket := typ == ngEPB || typ == ngSPB || typ == ngPB
		if !isPacket && typ != ngSHB && typ != ngIDB && blen > ngBufferedBlock {
			if !s.in.skip(int64(blen) - 4) {
				return s.endErr(off)
			}
			t := s.in.peek(4)
			if t == nil {
				return s.endErr(off)
			}
			if s.u32(t) != blen {
				return s.formatErr(ErrBadBlock, off, "trailing block length mismatch")
			}
			s.in.advance(4)
			continue
		}
		b := s.in.peek(int(blen))
		if b == nil {
			return s.endErr(off)
		}
		if s.u32(b[blen-4:]) != blen {
			return s.formatErr(ErrBadBlock, off, "trailing block length mismatch")
		}
		body := b[8 : blen-4]
		switch typ {
		case ngSHB:
			if len(body) < 16 {
				return s.formatErr(ErrBadBlock, off, "short section header")
			}
			if major := s.u16(body[4:]); major != 1 {
				return s.formatErr(ErrBadBlock, off, fmt.Sprintf("pcapng version %d.%d", major, s.u16(body[6:])))
			}
			s.ifaces = s.ifaces[:0]
		case ngIDB:
			if len(body) < 8 {
				return s.formatErr(ErrBadBlock, off, "short interface description")
			}
			s.ifaces = append(s.ifaces, s.parseIDB(body))
		case ngEPB, ngSPB, ngPB:
			ok, err := s.packet(p, typ, body, off)
			if err != nil {
				return err
			}
			s.in.advance(int(blen))
			if ok {
				return nil
			}
			continue
		}
		s.in.advance(int(blen))
	}
}

// parseIDB reads an interface description block body.
func (s *pcapngSource) parseIDB(body []byte) ngIface {
	ifc := ngIface{
		link:    s.u16(body[0:]),
		snaplen: s.u32(body[4:]),
		exp:     6,
	}
	ifc.supported = SupportedLinkType(ifc.link)
	opts := body[8:]
	for len(opts) >= 4 {
		code := s.u16(opts[0:])
		n := int(s.u16(opts[2:]))
		padded := (n + 3) &^ 3
		if code == optEnd || 4+padded > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch code {
		case optIfTSResol:
			if n >= 1 {
				ifc.binary = v[0]&0x80 != 0
				ifc.exp = int(v[0] & 0x7f)
			}
		case optIfTSOffset:
			if n >= 8 {
				if s.bigEndian {
					ifc.offset = int64(binary.BigEndian.Uint64(v))
				} else {
					ifc.offset = int64(binary.LittleEndian.Uint64(v))
				}
			}
		}
		opts = opts[4+padded:]
	}
	return ifc
}

// packet handles a packet block; it reports whether p holds an IP packet.
func (s *pcapngSource) packet(p *Packet, typ uint32, body []byte, off int64) (bool, error) {
	var (
		ifid             uint32
		tsHi, tsLo       uint32
		caplen, wirelen  uint32
		data             []byte
		hasTS            = true
		minBody, dataOff int
	)
	switch typ {
	case ngEPB:
		minBody, dataOff = 20, 20
	case ngPB:
		minBody, dataOff = 20, 20
	default: // SPB
		minBody, dataOff = 4, 4
	}
	if len(body) < minBody {
		return false, s.formatErr(ErrBadBlock, off, "short packet block")
	}
	switch typ {
	case ngEPB:
		ifid = s.u32(body[0:])
	case ngPB:
		ifid = uint32(s.u16(body[0:]))
	}
	if typ == ngSPB {
		hasTS = false
		wirelen = s.u32(body[0:])
		caplen = wirelen
		if room := uint32(len(body) - dataOff); caplen > room {
			caplen = room
		}
		if len(s.ifaces) > 0 && s.ifaces[0].snaplen > 0 && caplen > s.ifaces[0].snaplen {
			caplen = s.ifaces[0].snaplen
		}
	} else {
		tsHi = s.u32(body[4:])
		tsLo = s.u32(body[8:])
		caplen = s.u32(body[12:])
		wirelen = s.u32(body[16:])
		if uint64(caplen) > uint64(len(body)-dataOff) {
			return false, s.formatErr(ErrBadBlock, off, fmt.Sprintf("captured length %d exceeds block", caplen))
		}
	}
	var snap uint32
	if int(ifid) < len(s.ifaces) {
		snap = s.ifaces[ifid].snaplen
	}
	if badRecordLen(uint64(caplen), uint64(snap)) {
		return false, s.formatErr(ErrBadBlock, off, fmt.Sprintf("record length %d", caplen))
	}
	data = body[dataOff : dataOff+int(caplen)]

	s.index++
	s.stats.Records++
	p.Reset()
	p.File = s.file
	p.Index = s.index
	p.CapLen = int(caplen)
	p.WireLen = int(wirelen)
	p.Offset = off
	if int(ifid) >= len(s.ifaces) {
		s.stats.DecodeErrors++
		return false, nil
	}
	ifc := &s.ifaces[ifid]
	p.LinkType = ifc.link
	if hasTS {
		units := uint64(tsHi)<<32 | uint64(tsLo)
		if ifc.binary {
			p.TS, p.TSSec, p.TSNsec = binaryTS(ifc.offset, units, ifc.exp)
		} else {
			var sec, frac uint64
			if ifc.exp < len(pow10u) {
				sec, frac = units/pow10u[ifc.exp], units%pow10u[ifc.exp]
			} else {
				frac = units
			}
			p.TS, p.TSSec, p.TSNsec = decimalTS(ifc.offset+int64(sec), frac, ifc.exp)
		}
	}
	if !ifc.supported {
		s.stats.Unsupported++
		return false, nil
	}
	return s.deliver(p, ifc.link, s.bigEndian, data), nil
}
