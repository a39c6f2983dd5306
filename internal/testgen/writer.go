package testgen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Writer writes frames to a capture file. Flush must be called at the end.
type Writer interface {
	WriteFrame(f Frame) error
	Flush() error
}

const defaultSnapLen = 262144

// PcapOptions configure a classic pcap file.
type PcapOptions struct {
	LinkType  layers.LinkType // link type of every frame (0: Ethernet)
	Nanos     bool            // nanosecond timestamps (magic 0xa1b23c4d); else microseconds
	BigEndian bool
	SnapLen   uint32 // 0: 262144; longer frames are cut to it (the record keeps the original length)
}

// NewPcapWriter writes the file header of a classic pcap file to w and
// returns a writer for its records. (gopacket's pcapgo writer would pull in
// golang.org/x/net, which go.mod does not list, and writes little-endian
// files only; the format is small enough to write here.)
func NewPcapWriter(w io.Writer, o PcapOptions) (Writer, error) {
	if o.LinkType == 0 {
		o.LinkType = layers.LinkTypeEthernet
	}
	if o.SnapLen == 0 {
		o.SnapLen = defaultSnapLen
	}
	pw := &pcapWriter{w: bufio.NewWriter(w), o: o, bo: binary.LittleEndian}
	if o.BigEndian {
		pw.bo = binary.BigEndian
	}
	magic := uint32(0xa1b2c3d4)
	if o.Nanos {
		magic = 0xa1b23c4d
	}
	var h [24]byte
	pw.bo.PutUint32(h[0:], magic)
	pw.bo.PutUint16(h[4:], 2)
	pw.bo.PutUint16(h[6:], 4)
	pw.bo.PutUint32(h[16:], o.SnapLen)
	pw.bo.PutUint32(h[20:], uint32(o.LinkType))
	if _, err := pw.w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("testgen: pcap header: %w", err)
	}
	return pw, nil
}

type pcapWriter struct {
	w  *bufio.Writer
	o  PcapOptions
	bo binary.ByteOrder
}

func (p *pcapWriter) WriteFrame(f Frame) error {
	if f.LinkType != 0 && f.LinkType != p.o.LinkType {
		return fmt.Errorf("testgen: frame link type %v in a %v pcap file", f.LinkType, p.o.LinkType)
	}
	if f.TS.Before(timeZero) {
		return errors.New("testgen: pcap timestamp before 1970")
	}
	data := f.Data
	if len(data) > int(p.o.SnapLen) {
		data = data[:p.o.SnapLen]
	}
	frac := uint32(f.TS.Nanosecond())
	if !p.o.Nanos {
		frac /= 1000
	}
	var h [16]byte
	p.bo.PutUint32(h[0:], uint32(f.TS.Unix()))
	p.bo.PutUint32(h[4:], frac)
	p.bo.PutUint32(h[8:], uint32(len(data)))
	p.bo.PutUint32(h[12:], uint32(len(f.Data)))
	if _, err := p.w.Write(h[:]); err != nil {
		return fmt.Errorf("testgen: pcap record: %w", err)
	}
	if _, err := p.w.Write(data); err != nil {
		return fmt.Errorf("testgen: pcap record: %w", err)
	}
	return nil
}

func (p *pcapWriter) Flush() error { return p.w.Flush() }

// NGInterface describes one pcapng interface (an Interface Description Block).
type NGInterface struct {
	LinkType layers.LinkType // 0: Ethernet
	TSResol  uint8           // if_tsresol: timestamps in units of 10^-TSResol s, 0 to 9 (0 means 6)
	Name     string          // if_name, omitted when empty
	SnapLen  uint32          // 0: 262144
}

// PcapNGOptions configure a pcapng file: one section with its interfaces.
type PcapNGOptions struct {
	BigEndian   bool
	Interfaces  []NGInterface // none: one Ethernet interface with microsecond timestamps
	Application string        // shb_userappl, omitted when empty
}

// NewPcapNGWriter writes a Section Header Block and one Interface
// Description Block per interface to w, and returns a writer of Enhanced
// Packet Blocks. A frame goes to interface Frame.Iface and must have that
// interface's link type. The if_tsresol option is always written.
func NewPcapNGWriter(w io.Writer, o PcapNGOptions) (Writer, error) {
	if len(o.Interfaces) == 0 {
		o.Interfaces = []NGInterface{{}}
	}
	var bo byteOrder = binary.LittleEndian
	if o.BigEndian {
		bo = binary.BigEndian
	}
	nw := &ngWriter{w: bufio.NewWriter(w), bo: bo}
	for _, in := range o.Interfaces {
		if in.LinkType == 0 {
			in.LinkType = layers.LinkTypeEthernet
		}
		if in.TSResol == 0 {
			in.TSResol = 6
		}
		if in.TSResol > 9 {
			return nil, fmt.Errorf("testgen: if_tsresol %d not supported (0 to 9)", in.TSResol)
		}
		if in.SnapLen == 0 {
			in.SnapLen = defaultSnapLen
		}
		nw.ifaces = append(nw.ifaces, in)
	}

	var body bytes.Buffer
	put32 := func(v uint32) { body.Write(bo.AppendUint32(nil, v)) }
	put16 := func(v uint16) { body.Write(bo.AppendUint16(nil, v)) }
	option := func(code uint16, val []byte) {
		put16(code)
		put16(uint16(len(val)))
		body.Write(val)
		body.Write(make([]byte, pad4(len(val))))
	}

	// Section Header Block.
	put32(0x1a2b3c4d)
	put16(1)
	put16(0)
	put32(0xffffffff) // section length unknown (-1)
	put32(0xffffffff)
	if o.Application != "" {
		option(4, []byte(o.Application))
		option(0, nil)
	}
	if err := nw.block(0x0a0d0d0a, body.Bytes()); err != nil {
		return nil, err
	}
	for _, in := range nw.ifaces {
		body.Reset()
		put16(uint16(in.LinkType))
		put16(0)
		put32(in.SnapLen)
		if in.Name != "" {
			option(2, []byte(in.Name))
		}
		option(9, []byte{in.TSResol})
		option(0, nil)
		if err := nw.block(1, body.Bytes()); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

var timeZero = time.Unix(0, 0)

// byteOrder is what the pcapng writer needs of binary.LittleEndian and
// binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func pad4(n int) int { return (4 - n&3) & 3 }

type ngWriter struct {
	w      *bufio.Writer
	bo     byteOrder
	ifaces []NGInterface
	buf    []byte
}

// block writes one block: type, total length, body, total length.
func (n *ngWriter) block(typ uint32, body []byte) error {
	total := uint32(12 + len(body))
	b := n.bo.AppendUint32(n.buf[:0], typ)
	b = n.bo.AppendUint32(b, total)
	b = append(b, body...)
	b = n.bo.AppendUint32(b, total)
	n.buf = b
	if _, err := n.w.Write(b); err != nil {
		return fmt.Errorf("testgen: pcapng block: %w", err)
	}
	return nil
}

func (n *ngWriter) WriteFrame(f Frame) error {
	if f.Iface < 0 || f.Iface >= len(n.ifaces) {
		return fmt.Errorf("testgen: frame for interface %d; the section has %d", f.Iface, len(n.ifaces))
	}
	in := n.ifaces[f.Iface]
	if f.LinkType != 0 && f.LinkType != in.LinkType {
		return fmt.Errorf("testgen: frame link type %v on interface %d of link type %v", f.LinkType, f.Iface, in.LinkType)
	}
	if f.TS.Before(timeZero) {
		return errors.New("testgen: pcapng timestamp before 1970")
	}
	units := uint64(f.TS.UnixNano())
	for r := in.TSResol; r < 9; r++ {
		units /= 10
	}
	data := f.Data
	if len(data) > int(in.SnapLen) {
		data = data[:in.SnapLen]
	}
	bo := n.bo
	body := make([]byte, 0, 20+len(data)+3)
	body = bo.AppendUint32(body, uint32(f.Iface))
	body = bo.AppendUint32(body, uint32(units>>32))
	body = bo.AppendUint32(body, uint32(units))
	body = bo.AppendUint32(body, uint32(len(data)))
	body = bo.AppendUint32(body, uint32(len(f.Data)))
	body = append(body, data...)
	body = append(body, make([]byte, pad4(len(data)))...)
	return n.block(6, body)
}

func (n *ngWriter) Flush() error { return n.w.Flush() }
