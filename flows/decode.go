package flows

import (
	"encoding/binary"
	"errors"
)

// Link types (LINKTYPE_* values of pcap and pcapng).
const (
	LinkNull      = 0
	LinkEthernet  = 1
	LinkPPP       = 9
	LinkRaw       = 101
	LinkRaw12     = 12
	LinkRaw14     = 14
	LinkPPPHDLC   = 50
	LinkCHDLC     = 104
	LinkIEEE80211 = 105
	LinkLoop      = 108
	LinkLinuxSLL  = 113
	LinkRadiotap  = 127
	LinkIPv4      = 228
	LinkIPv6      = 229
	LinkLinuxSLL2 = 276
)

// SupportedLinkType reports whether the decoder understands link type lt.
func SupportedLinkType(lt uint16) bool {
	switch lt {
	case LinkNull, LinkEthernet, LinkPPP, LinkRaw, LinkRaw12, LinkRaw14, LinkPPPHDLC,
		LinkCHDLC, LinkIEEE80211, LinkLoop, LinkLinuxSLL, LinkRadiotap, LinkIPv4,
		LinkIPv6, LinkLinuxSLL2:
		return true
	}
	return false
}

// ErrNotIP is returned by Decoder.Decode for a frame that carries no IPv4 or IPv6
// packet.
var ErrNotIP = errors.New("no ip packet")

// Reasons carried by DecodeError.
var (
	errShortHeader  = errors.New("header shorter than its minimum")
	errVersion      = errors.New("version does not match")
	errIHL          = errors.New("header length below 5 words")
	errTotalLength  = errors.New("total length below header length")
	errExtHeader    = errors.New("extension header exceeds the payload length")
	errDataOffset   = errors.New("data offset out of range")
	errShortSegment = errors.New("segment shorter than its header")
	errUDPLength    = errors.New("length below 8")
)

// Decoder decodes frames into Packets without allocating. The zero value is
// ready to use; a Decoder is not safe for concurrent use.
type Decoder struct {
	// BigEndian says the capture was written big-endian: the 4-byte header
	// of LINKTYPE_NULL frames is read in that order (a header written in the
	// other order is recognised as well).
	BigEndian bool
	d         decoder
}

// Decode decodes one frame of link type linkType into p's link, network and
// transport fields. The capture fields of p are left as they are and are
// read: set CapLen and WireLen first (WireLen > CapLen marks a frame cut by
// the snapshot length, whose declared lengths are kept). Decode returns nil
// for an IP packet, ErrNotIP for a frame without IP, ErrUnknownLinkType for
// a link type it cannot decode and a *DecodeError for malformed headers. The
// Payload and TCPOptions of p point into data.
func (dec *Decoder) Decode(p *Packet, linkType uint16, data []byte) error {
	dec.d.swapped = dec.BigEndian
	switch dec.d.decode(p, linkType, data) {
	case resultIP:
		return nil
	case resultNonIP:
		return ErrNotIP
	case resultUnsupported:
		return ErrUnknownLinkType
	}
	return &DecodeError{Packet: p.Index, Layer: dec.d.layer, Err: dec.d.err}
}

type decodeResult uint8

const (
	resultIP decodeResult = iota
	resultNonIP
	resultUnsupported
	resultError
)

// maxTunnelDepth bounds nested decapsulation; maxTags bounds VLAN tags,
// maxLabels MPLS labels, maxExtHeaders IPv6 extension headers.
const (
	maxTunnelDepth = 8
	maxTags        = 8
	maxLabels      = 16
	maxExtHeaders  = 16
)

// decoder decodes frames into Packets without allocating. It is not safe for
// concurrent use.
type decoder struct {
	swapped bool // the capture file is big-endian (for NULL headers)
	lost    int  // bytes of the frame on the wire that were not captured
	depth   int  // current tunnel nesting
	layer   string
	err     error
}

func (d *decoder) fail(layer string, err error) decodeResult {
	d.layer, d.err = layer, err
	return resultError
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// decode fills p's link, network and transport fields from one frame.
func (d *decoder) decode(p *Packet, link uint16, b []byte) decodeResult {
	d.depth = 0
	d.lost = 0
	if p.CapLen < p.WireLen {
		p.Truncated = true
		d.lost = p.WireLen - p.CapLen
	}
	switch link {
	case LinkEthernet:
		return d.ethernet(p, b, true)
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return resultNonIP
		}
		var af uint32
		if link == LinkLoop {
			af = be32(b)
		} else {
			af = binary.LittleEndian.Uint32(b)
			if d.swapped {
				af = be32(b)
			}
			if af&0xffff0000 != 0 { // written in the other byte order
				af = af>>24 | af>>8&0xff00 | af<<8&0xff0000 | af<<24
			}
		}
		switch af {
		case 2:
			return d.ipv4(p, b[4:])
		case 10, 24, 28, 30:
			return d.ipv6(p, b[4:])
		}
		return resultNonIP
	case LinkPPP, LinkPPPHDLC:
		return d.ppp(p, b)
	case LinkCHDLC:
		if len(b) < 4 {
			return resultNonIP
		}
		return d.etherType(p, be16(b[2:]), b[4:], true)
	case LinkRaw, LinkRaw12, LinkRaw14, LinkIPv4, LinkIPv6:
		return d.rawIP(p, b)
	case LinkLinuxSLL:
		if len(b) < 16 {
			return resultNonIP
		}
		return d.etherType(p, be16(b[14:]), b[16:], true)
	case LinkLinuxSLL2:
		if len(b) < 20 {
			return resultNonIP
		}
		return d.etherType(p, be16(b[0:]), b[20:], true)
	case LinkIEEE80211:
		return d.dot11(p, b)
	case LinkRadiotap:
		if len(b) < 8 {
			return resultNonIP
		}
		n := int(binary.LittleEndian.Uint16(b[2:]))
		if n < 8 || n > len(b) {
			return resultNonIP
		}
		return d.dot11(p, b[n:])
	}
	return resultUnsupported
}

// rawIP dispatches on the IP version nibble.
func (d *decoder) rawIP(p *Packet, b []byte) decodeResult {
	if len(b) == 0 {
		return resultNonIP
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(p, b)
	case 6:
		return d.ipv6(p, b)
	}
	return resultNonIP
}

// ppp decodes a PPP frame: optional ff 03 address/control, then the
// protocol field (1 byte when compressed).
func (d *decoder) ppp(p *Packet, b []byte) decodeResult {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) == 0 {
		return resultNonIP
	}
	var proto uint16
	if b[0]&1 != 0 {
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return resultNonIP
		}
		proto, b = be16(b), b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(p, b)
	case 0x0057:
		return d.ipv6(p, b)
	}
	return resultNonIP
}

// ethernet decodes an Ethernet II or 802.3 frame; outer says whether it is
// the capture's own link layer (whose fields Packet reports).
func (d *decoder) ethernet(p *Packet, b []byte, outer bool) decodeResult {
	if len(b) < 14 {
		return resultNonIP
	}
	et := be16(b[12:])
	if outer {
		p.HasEth = true
		copy(p.DstMAC[:], b[0:6])
		copy(p.SrcMAC[:], b[6:12])
		p.EthType = et
	}
	return d.etherType(p, et, b[14:], outer)
}

// etherType decodes the payload b of a frame whose protocol is the EtherType
// et. VLAN fields are recorded only for the outer link layer.
func (d *decoder) etherType(p *Packet, et uint16, b []byte, outer bool) decodeResult {
	tags := 0
	for hops := 0; hops < maxTags+4; hops++ {
		switch et {
		case 0x0800:
			return d.ipv4(p, b)
		case 0x86dd:
			return d.ipv6(p, b)
		case 0x8100, 0x88a8, 0x9100:
			if len(b) < 4 || tags >= maxTags {
				return resultNonIP
			}
			if outer {
				if tags == 0 {
					p.HasVLAN = true
					p.VLANID = be16(b) & 0x0fff
				}
				p.VLANCount++
			}
			tags++
			et, b = be16(b[2:]), b[4:]
		case 0x8847, 0x8848:
			return d.mpls(p, b)
		case 0x8864: // PPPoE session
			if len(b) < 8 || b[0] != 0x11 || b[1] != 0 {
				return resultNonIP
			}
			switch be16(b[6:]) {
			case 0x0021:
				return d.ipv4(p, b[8:])
			case 0x0057:
				return d.ipv6(p, b[8:])
			}
			return resultNonIP
		default:
			if et > 1500 {
				return resultNonIP
			}
			// 802.3 length field: LLC/SNAP carries the EtherType.
			if len(b) < 8 || b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 {
				return resultNonIP
			}
			et, b = be16(b[6:]), b[8:]
		}
	}
	return resultNonIP
}

// mpls walks an MPLS label stack and decodes the IP packet after it.
func (d *decoder) mpls(p *Packet, b []byte) decodeResult {
	for i := 0; i < maxLabels; i++ {
		if len(b) < 4 {
			return resultNonIP
		}
		bos := b[2]&1 != 0
		b = b[4:]
		if bos {
			return d.rawIP(p, b)
		}
	}
	return resultNonIP
}

// dot11 decodes an IEEE 802.11 data frame carrying LLC/SNAP.
func (d *decoder) dot11(p *Packet, b []byte) decodeResult {
	if len(b) < 24 {
		return resultNonIP
	}
	fc0, fc1 := b[0], b[1]
	if fc0&0x03 != 0 || (fc0>>2)&0x03 != 2 { // protocol version 0, data type
		return resultNonIP
	}
	sub := fc0 >> 4
	if fc1&0x40 != 0 || sub&0x04 != 0 { // protected, or a no-data subtype
		return resultNonIP
	}
	hdr := 24
	if fc1&0x03 == 0x03 {
		hdr += 6
	}
	if sub&0x08 != 0 { // QoS
		if len(b) < hdr+2 || b[hdr]&0x80 != 0 { // A-MSDU
			return resultNonIP
		}
		hdr += 2
		if fc1&0x80 != 0 { // +HTC
			hdr += 4
		}
	}
	if len(b) < hdr+8 {
		return resultNonIP
	}
	l := b[hdr:]
	if l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03 {
		return resultNonIP
	}
	return d.etherType(p, be16(l[6:]), l[8:], true)
}

// ipv4 decodes an IPv4 header and what it carries.
func (d *decoder) ipv4(p *Packet, b []byte) decodeResult {
	if len(b) < 20 {
		if len(b) > 0 && b[0]>>4 != 4 {
			return d.fail("ipv4", errVersion)
		}
		return d.fail("ipv4", errShortHeader)
	}
	if b[0]>>4 != 4 {
		return d.fail("ipv4", errVersion)
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return d.fail("ipv4", errIHL)
	}
	if len(b) < ihl {
		return d.fail("ipv4", errShortHeader)
	}
	total := int(be16(b[2:]))
	// IPLen is the header's Total Length field as written (JoyfulJay's
	// packet length), even when segmentation offload left it 0; the payload
	// is then measured on the captured bytes, as Wireshark does.
	p.IPLen = total
	if total == 0 {
		total = len(b)
	}
	if total < ihl {
		return d.fail("ipv4", errTotalLength)
	}
	if wire := len(b) + d.lost; total > wire {
		// The length field claims more than the frame held on the wire.
		total = max(wire, ihl)
	}
	end := total
	if end > len(b) {
		end = len(b)
		p.Truncated = true
	}
	p.IPVersion = 4
	p.TOS = b[1]
	p.IPID = uint32(be16(b[4:]))
	fo := be16(b[6:])
	p.IPFlags = uint8(fo >> 13)
	p.FragOffset = fo & 0x1fff
	p.MoreFrags = fo&0x2000 != 0
	p.IsFragment = p.MoreFrags || p.FragOffset != 0
	p.TTL = b[8]
	p.Proto = b[9]
	p.FirstNH = b[9]
	p.SrcIP = [16]byte{b[12], b[13], b[14], b[15]}
	p.DstIP = [16]byte{b[16], b[17], b[18], b[19]}
	p.IPHdrLen = ihl
	return d.transport(p, b[ihl:end], total-ihl)
}

// ipv6 decodes an IPv6 header, its extension headers and what it carries.
func (d *decoder) ipv6(p *Packet, b []byte) decodeResult {
	if len(b) < 40 {
		if len(b) > 0 && b[0]>>4 != 6 {
			return d.fail("ipv6", errVersion)
		}
		return d.fail("ipv6", errShortHeader)
	}
	w := be32(b)
	if w>>28 != 6 {
		return d.fail("ipv6", errVersion)
	}
	plen := int(be16(b[4:]))
	p.IPVersion = 6
	p.TrafficClass = uint8(w >> 20)
	p.FlowLabel = w & 0xfffff
	p.IPLen = plen + 40
	nh := b[6]
	p.FirstNH = nh
	p.TTL = b[7]
	copy(p.SrcIP[:], b[8:24])
	copy(p.DstIP[:], b[24:40])
	if plen == 0 && len(b) > 40 {
		// Jumbogram or segmentation offload: the length is the captured one.
		plen = len(b) - 40
	}
	total := 40 + plen
	if wire := len(b) + d.lost; total > wire {
		total = wire
	}
	end := total
	if end > len(b) {
		end = len(b)
		p.Truncated = true
	}
	off := 40
	first := true // no non-first fragment header seen
walk:
	for i := 0; i < maxExtHeaders; i++ {
		var hl int
		switch nh {
		case 0, 43, 60, 135, 139, 140, 51:
			if off+8 > total {
				return d.fail("ipv6", errExtHeader)
			}
			if off+2 > end {
				p.Truncated = true
				break walk
			}
			if nh == 51 {
				hl = (int(b[off+1]) + 2) * 4
			} else {
				hl = (int(b[off+1]) + 1) * 8
			}
			if off+hl > total {
				return d.fail("ipv6", errExtHeader)
			}
			nh = b[off]
		case 44:
			if off+8 > total {
				return d.fail("ipv6", errExtHeader)
			}
			if off+8 > end {
				p.Truncated = true
				break walk
			}
			nh = b[off]
			fo := be16(b[off+2:])
			p.FragOffset = fo >> 3
			p.MoreFrags = fo&1 != 0
			p.IsFragment = p.MoreFrags || p.FragOffset != 0
			p.IPID = be32(b[off+4:])
			hl = 8
			if p.FragOffset != 0 {
				first = false
			}
		default:
			break walk
		}
		off += hl
		if !first {
			break
		}
	}
	p.Proto = nh
	p.IPHdrLen = off
	if off > end {
		off = end
	}
	if !first || isExtHeader(nh) {
		// Non-first fragment, or an extension chain that could not be
		// followed: the rest is payload of an unknown header.
		p.PayloadLen = total - p.IPHdrLen
		p.Payload = b[off:end]
		return resultIP
	}
	return d.transport(p, b[off:end], total-p.IPHdrLen)
}

func isExtHeader(nh uint8) bool {
	switch nh {
	case 0, 43, 44, 60, 135, 139, 140, 51:
		return true
	}
	return false
}

// transport decodes the transport header in b, the captured part of an IP
// payload whose declared length is n (b never extends past it). Fragment
// state is already in p.
func (d *decoder) transport(p *Packet, b []byte, n int) decodeResult {
	if p.FragOffset != 0 {
		p.PayloadLen = n
		p.Payload = b
		return resultIP
	}
	switch p.Proto {
	case 6:
		return d.tcp(p, b, n)
	case 17:
		return d.udp(p, b, n)
	case 1:
		p.HasICMP = true
		if len(b) >= 2 {
			p.ICMPType, p.ICMPCode = b[0], b[1]
		}
		if len(b) >= 8 {
			switch p.ICMPType {
			case 0, 8, 13, 14, 15, 16, 17, 18:
				p.ICMPID, p.ICMPSeq = be16(b[4:]), be16(b[6:])
			}
		}
		if len(b) < min(8, n) {
			p.Truncated = true
		}
		p.PayloadLen = max(n-8, 0)
		p.Payload = b[min(8, len(b)):]
		return resultIP
	case 58:
		p.HasICMPv6 = true
		if len(b) >= 2 {
			p.ICMPType, p.ICMPCode = b[0], b[1]
		}
	case 4, 41:
		if !p.IsFragment && d.decap(p, TunnelIPinIP, viaIP, 0, b) {
			return resultIP
		}
	case 47:
		if !p.IsFragment && d.gre(p, b) {
			return resultIP
		}
	}
	p.PayloadLen = n
	p.Payload = b
	return resultIP
}

// tcp decodes a TCP header. In a first fragment the header may end at the
// fragment boundary; that is not an error.
func (d *decoder) tcp(p *Packet, b []byte, n int) decodeResult {
	frag := p.IsFragment
	if n < 20 && !frag {
		return d.fail("tcp", errShortSegment)
	}
	hl := 20
	if len(b) >= 13 {
		hl = int(b[12]>>4) * 4
		if hl < 20 || (hl > n && !frag) {
			// A data offset that lies: keep the packet (its IP header and
			// ports are sound) with a 20-byte header, or the whole segment
			// as header when the offset runs past it.
			p.Malformed = true
			hl = min(max(hl, 20), n)
		}
		p.TCPHdrLen = hl
	}
	p.HasTCP = true
	if len(b) >= 4 {
		p.SrcPort, p.DstPort = be16(b), be16(b[2:])
	}
	if len(b) >= 8 {
		p.Seq = be32(b[4:])
	}
	if len(b) >= 12 {
		p.Ack = be32(b[8:])
	}
	if len(b) >= 14 {
		p.TCPFlags = b[13]
	}
	if len(b) >= 16 {
		p.Window = be16(b[14:])
	}
	if len(b) < min(hl, n) {
		p.Truncated = true // cut by the snapshot length
	}
	ol := min(hl, len(b))
	if ol > 20 {
		p.TCPOptions = b[20:ol]
		parseTCPOptions(&p.Opts, p.TCPOptions)
	}
	p.PayloadLen = max(n-hl, 0)
	p.Payload = b[ol:]
	return resultIP
}

// parseTCPOptions fills o from raw option bytes. It stops at End of Option
// List or at the first option whose length is invalid.
func parseTCPOptions(o *TCPOpts, b []byte) {
	for i := 0; i < len(b); {
		k := b[i]
		if k < 64 {
			o.Kinds |= 1 << k
		}
		if k == 0 {
			return
		}
		if k == 1 {
			i++
			continue
		}
		if i+1 >= len(b) {
			return
		}
		l := int(b[i+1])
		if l < 2 || i+l > len(b) {
			return
		}
		v := b[i+2 : i+l]
		switch k {
		case 2:
			if l == 4 {
				o.HasMSS, o.MSS = true, be16(v)
			}
		case 3:
			if l == 3 {
				o.HasWS, o.WS = true, v[0]
			}
		case 4:
			o.SACKOK = true
		case 5:
			if s := int(o.SACKBlocks) + (l-2)/8; s > 255 {
				o.SACKBlocks = 255
			} else {
				o.SACKBlocks = uint8(s)
			}
		case 8:
			if l == 10 {
				o.HasTS, o.TSVal, o.TSEcr = true, be32(v), be32(v[4:])
			}
		case 30:
			if o.MPTCPCount < 255 {
				o.MPTCPCount++
			}
			if l >= 3 {
				o.MPTCPSub |= 1 << (v[0] >> 4)
			}
		}
		i += l
	}
}

// udp decodes a UDP header and UDP-borne tunnels.
func (d *decoder) udp(p *Packet, b []byte, n int) decodeResult {
	frag := p.IsFragment
	if n < 8 && !frag {
		return d.fail("udp", errShortSegment)
	}
	if len(b) < 8 {
		ul := -1
		if len(b) >= 6 {
			ul = int(be16(b[4:]))
			if ul != 0 && ul < 8 {
				return d.fail("udp", errUDPLength)
			}
		}
		p.HasUDP = true
		if len(b) >= 4 {
			p.SrcPort, p.DstPort = be16(b), be16(b[2:])
		}
		if len(b) < min(8, n) {
			p.Truncated = true
		}
		switch {
		case ul >= 8 && frag:
			p.PayloadLen = ul - 8
		case ul >= 8:
			p.PayloadLen = min(ul, n) - 8
		default:
			p.PayloadLen = max(n-8, 0)
		}
		return resultIP
	}
	ul := int(be16(b[4:]))
	if ul == 0 && !frag {
		ul = n // jumbogram
	}
	if ul < 8 {
		return d.fail("udp", errUDPLength)
	}
	p.HasUDP = true
	p.SrcPort, p.DstPort = be16(b), be16(b[2:])
	if frag {
		// First fragment: the datagram's whole payload, counted once.
		p.PayloadLen = ul - 8
		p.Payload = b[8:]
		return resultIP
	}
	if ul > n {
		ul = n
	}
	end := min(ul, len(b))
	p.PayloadLen = ul - 8
	p.Payload = b[8:end]
	d.udpTunnel(p, b[8:end], ul-8)
	return resultIP
}
