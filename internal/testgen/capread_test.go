package testgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// A capture reader written for the tests only, independent of writer.go
// (gopacket's pcapgo needs golang.org/x/net, which go.mod does not list).

type capIface struct {
	link  layers.LinkType
	resol int // decimal digits of the timestamp unit
	name  string
}

type capRecord struct {
	iface   int
	link    layers.LinkType
	ts      time.Time
	data    []byte
	origLen int
}

type capFile struct {
	ng        bool
	bigEndian bool
	snapLen   uint32 // classic only
	ifaces    []capIface
	records   []capRecord
}

func readCapture(b []byte) (*capFile, error) {
	if len(b) < 24 {
		return nil, errors.New("short file")
	}
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		return readNG(b)
	}
	f := &capFile{}
	var bo binary.ByteOrder = binary.LittleEndian
	resol := 6
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		resol = 9
	case 0xd4c3b2a1:
		bo, f.bigEndian = binary.BigEndian, true
	case 0x4d3cb2a1:
		bo, f.bigEndian, resol = binary.BigEndian, true, 9
	default:
		return nil, errors.New("bad magic")
	}
	if bo.Uint16(b[4:]) != 2 || bo.Uint16(b[6:]) != 4 {
		return nil, errors.New("bad version")
	}
	f.snapLen = bo.Uint32(b[16:])
	link := layers.LinkType(bo.Uint32(b[20:]))
	f.ifaces = []capIface{{link: link, resol: resol}}
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return nil, fmt.Errorf("record header cut at %d", off)
		}
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if off+incl > len(b) {
			return nil, fmt.Errorf("record data cut at %d", off)
		}
		nsec := int64(frac)
		if resol == 6 {
			nsec *= 1000
		}
		f.records = append(f.records, capRecord{link: link, ts: time.Unix(int64(sec), nsec).UTC(), data: b[off : off+incl], origLen: orig})
		off += incl
	}
	return f, nil
}

func readNG(b []byte) (*capFile, error) {
	f := &capFile{ng: true}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b[8:]) {
	case 0x1a2b3c4d:
		bo = binary.LittleEndian
	case 0x4d3c2b1a:
		bo, f.bigEndian = binary.BigEndian, true
	default:
		return nil, errors.New("bad byte-order magic")
	}
	for off := 0; off < len(b); {
		if off+12 > len(b) {
			return nil, fmt.Errorf("block cut at %d", off)
		}
		typ, total := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		if total < 12 || total%4 != 0 || off+total > len(b) || int(bo.Uint32(b[off+total-4:])) != total {
			return nil, fmt.Errorf("bad block length %d at %d", total, off)
		}
		body := b[off+8 : off+total-4]
		switch typ {
		case 0x0a0d0d0a:
			if bo.Uint16(body[4:]) != 1 || bo.Uint16(body[6:]) != 0 {
				return nil, errors.New("bad section version")
			}
		case 1:
			in := capIface{link: layers.LinkType(bo.Uint16(body)), resol: 6}
			opts := body[8:]
			for len(opts) >= 4 {
				code, n := bo.Uint16(opts), int(bo.Uint16(opts[2:]))
				if code == 0 {
					break
				}
				if 4+n > len(opts) {
					return nil, errors.New("bad option")
				}
				v := opts[4 : 4+n]
				switch code {
				case 2:
					in.name = string(v)
				case 9:
					if n != 1 || v[0]&0x80 != 0 {
						return nil, errors.New("bad if_tsresol")
					}
					in.resol = int(v[0])
				}
				opts = opts[4+n+(4-n%4)%4:]
			}
			f.ifaces = append(f.ifaces, in)
		case 6:
			id := int(bo.Uint32(body))
			if id >= len(f.ifaces) {
				return nil, fmt.Errorf("packet for undeclared interface %d", id)
			}
			units := uint64(bo.Uint32(body[4:]))<<32 | uint64(bo.Uint32(body[8:]))
			incl, orig := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
			if 20+incl > len(body) {
				return nil, errors.New("packet data beyond block")
			}
			ns := units
			for r := f.ifaces[id].resol; r < 9; r++ {
				ns *= 10
			}
			f.records = append(f.records, capRecord{iface: id, link: f.ifaces[id].link, ts: time.Unix(0, int64(ns)).UTC(), data: body[20 : 20+incl], origLen: orig})
		}
		off += total
	}
	return f, nil
}
