package testgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Test-side decoding of generated frames with gopacket, with checksum
// verification and IP fragment reassembly.

type pktInfo struct {
	ts        time.Time
	layers    []gopacket.LayerType
	ipVersion int
	src, dst  netip.Addr
	proto     uint8
	sport     uint16
	dport     uint16
	ipLen     int
	payload   int // declared transport payload counted for the flow
	fragment  bool
	tcp       *layers.TCP
	udp       *layers.UDP
	icmp4     *layers.ICMPv4
	data      []byte // transport payload (TCP/UDP), nil for fragments
	eth       *layers.Ethernet
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
}

type datagram struct {
	pieces map[int][]byte
	total  int // -1 until the last fragment is seen
	ip     gopacket.Layer
	sport  uint16
	dport  uint16
}

// decoder decodes frames in capture order; it keeps fragments until their
// datagram is complete and then verifies the UDP checksum.
type decoder struct {
	frags      map[fragKey]*datagram
	reassembed [][]byte
}

func newDecoder() *decoder { return &decoder{frags: map[fragKey]*datagram{}} }

func csum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func pseudo(ip gopacket.Layer, proto uint8, n int) uint32 {
	var s uint32
	switch ip := ip.(type) {
	case *layers.IPv4:
		s = csum(ip.SrcIP.To4(), 0)
		s = csum(ip.DstIP.To4(), s)
	case *layers.IPv6:
		s = csum(ip.SrcIP.To16(), 0)
		s = csum(ip.DstIP.To16(), s)
	}
	return s + uint32(proto) + uint32(n)
}

func addrOf(ip gopacket.Layer) (src, dst netip.Addr) {
	switch ip := ip.(type) {
	case *layers.IPv4:
		s, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		d, _ := netip.AddrFromSlice(ip.DstIP.To4())
		return s, d
	case *layers.IPv6:
		s, _ := netip.AddrFromSlice(ip.SrcIP.To16())
		d, _ := netip.AddrFromSlice(ip.DstIP.To16())
		return s, d
	}
	return netip.Addr{}, netip.Addr{}
}

// decode decodes one frame, verifying every IPv4 header checksum and every
// TCP, UDP, ICMP and ICMPv6 checksum.
func (d *decoder) decode(link layers.LinkType, data []byte, ts time.Time) (pktInfo, error) {
	info := pktInfo{ts: ts}
	p := gopacket.NewPacket(data, link, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		return info, fmt.Errorf("decode: %v", el.Error())
	}
	ls := p.Layers()
	// Teredo: gopacket leaves UDP 3544 payloads undecoded.
	if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (u.SrcPort == 3544 || u.DstPort == 3544) {
		inner := gopacket.NewPacket(u.Payload, layers.LayerTypeIPv6, gopacket.Default)
		if el := inner.ErrorLayer(); el != nil {
			return info, fmt.Errorf("teredo: %v", el.Error())
		}
		for len(ls) > 0 && ls[len(ls)-1] != gopacket.Layer(u) {
			ls = ls[:len(ls)-1]
		}
		ls = append(ls, inner.Layers()...)
	}
	var ip gopacket.Layer // innermost IP header so far
	var prev gopacket.Layer
	for _, l := range ls {
		info.layers = append(info.layers, l.LayerType())
		switch l := l.(type) {
		case *layers.Ethernet:
			if info.eth == nil {
				info.eth = l
			}
		case *layers.IPv4:
			if fold(csum(l.Contents, 0)) != 0xffff {
				return info, errors.New("bad IPv4 header checksum")
			}
			ip = l
			info.ipVersion, info.ipLen, info.proto = 4, int(l.Length), uint8(l.Protocol)
			info.src, info.dst = addrOf(l)
			info.fragment = l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0
			if info.fragment {
				if err := d.fragment(&info, l, uint32(l.Id), int(l.FragOffset)*8, l.Flags&layers.IPv4MoreFragments != 0, l.Payload); err != nil {
					return info, err
				}
			}
		case *layers.IPv6:
			ip = l
			info.ipVersion, info.ipLen, info.proto = 6, int(l.Length)+40, uint8(l.NextHeader)
			info.src, info.dst = addrOf(l)
		case *layers.IPv6HopByHop:
			info.proto = uint8(l.NextHeader)
		case *layers.IPv6Fragment:
			info.proto = uint8(l.NextHeader)
			info.fragment = true
			if err := d.fragment(&info, ip, l.Identification, int(l.FragmentOffset)*8, l.MoreFragments, l.Payload); err != nil {
				return info, err
			}
		case *layers.TCP:
			seg := prev.LayerPayload()
			if fold(pseudo(ip, 6, len(seg))+csum(seg, 0)) != 0xffff {
				return info, errors.New("bad TCP checksum")
			}
			info.tcp, info.sport, info.dport = l, uint16(l.SrcPort), uint16(l.DstPort)
			info.data = l.Payload
			info.payload = len(l.Payload)
		case *layers.UDP:
			seg := prev.LayerPayload()
			if l.Checksum == 0 || fold(pseudo(ip, 17, len(seg))+csum(seg, 0)) != 0xffff {
				return info, errors.New("bad UDP checksum")
			}
			info.udp, info.sport, info.dport = l, uint16(l.SrcPort), uint16(l.DstPort)
			info.data = seg[8:l.Length]
			info.payload = int(l.Length) - 8
		case *layers.ICMPv4:
			if fold(csum(prev.LayerPayload(), 0)) != 0xffff {
				return info, errors.New("bad ICMP checksum")
			}
			info.icmp4 = l
			info.sport, info.dport = 0, 0
			info.payload = len(prev.LayerPayload()) - 8
		case *layers.ICMPv6:
			seg := prev.LayerPayload()
			if fold(pseudo(ip, 58, len(seg))+csum(seg, 0)) != 0xffff {
				return info, errors.New("bad ICMPv6 checksum")
			}
			info.sport, info.dport = 0, 0
			info.payload = len(seg) - 8
		}
		prev = l
	}
	if ip == nil {
		return info, errors.New("no IP layer")
	}
	return info, nil
}

// fragment records one IP fragment; the fragment at offset 0 carries the
// ports and the UDP length (the datagram's payload is counted there).
func (d *decoder) fragment(info *pktInfo, ip gopacket.Layer, id uint32, off int, more bool, data []byte) error {
	k := fragKey{info.src, info.dst, id}
	dg := d.frags[k]
	if dg == nil {
		dg = &datagram{pieces: map[int][]byte{}, total: -1}
		d.frags[k] = dg
	}
	dg.pieces[off] = data
	if off == 0 {
		if len(data) < 8 {
			return errors.New("first fragment shorter than a UDP header")
		}
		dg.ip = ip
		dg.sport, dg.dport = binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
		info.payload = int(binary.BigEndian.Uint16(data[4:])) - 8
	}
	info.sport, info.dport = dg.sport, dg.dport
	if !more {
		dg.total = off + len(data)
	}
	if dg.total < 0 || dg.ip == nil {
		return nil
	}
	whole := make([]byte, 0, dg.total)
	for len(whole) < dg.total {
		piece, ok := dg.pieces[len(whole)]
		if !ok {
			return nil // a hole: wait
		}
		whole = append(whole, piece...)
	}
	if fold(pseudo(dg.ip, 17, len(whole))+csum(whole, 0)) != 0xffff {
		return errors.New("bad UDP checksum of a reassembled datagram")
	}
	if int(binary.BigEndian.Uint16(whole[4:])) != len(whole) {
		return errors.New("UDP length differs from the reassembled datagram")
	}
	d.reassembed = append(d.reassembed, whole)
	delete(d.frags, k)
	return nil
}
