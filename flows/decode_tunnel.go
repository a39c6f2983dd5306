package flows

// How decap finds the inner packet.
const (
	viaIP        = iota // an IP header (version by nibble)
	viaEthernet         // an Ethernet frame
	viaEtherType        // a payload of the given EtherType
	viaPPP              // a PPP frame
	viaIPv6             // an IPv6 header only
)

// decap decodes b as the inner packet of a tunnel of the given kind. On
// success p describes the inner packet (keeping the capture record and the
// outer link layer) and Tunnel is set to kind, which ends as the outermost
// tunnel. If the inner packet does not decode as IP, p is left as it was and
// decap returns false.
func (d *decoder) decap(p *Packet, kind Tunnel, how int, et uint16, b []byte) bool {
	if d.depth >= maxTunnelDepth {
		return false
	}
	saved := *p
	clearNetwork(p)
	d.depth++
	var r decodeResult
	switch how {
	case viaIP:
		r = d.rawIP(p, b)
	case viaIPv6:
		r = resultNonIP
		if len(b) > 0 && b[0]>>4 == 6 {
			r = d.ipv6(p, b)
		}
	case viaEthernet:
		r = d.ethernet(p, b, false)
	case viaEtherType:
		r = d.etherType(p, et, b, false)
	case viaPPP:
		r = d.ppp(p, b)
	}
	d.depth--
	if r != resultIP {
		*p = saved
		return false
	}
	p.Tunnel = kind
	return true
}

// clearNetwork zeroes p's network and transport fields, keeping the capture
// record and the outer link layer.
func clearNetwork(p *Packet) {
	*p = Packet{
		File:      p.File,
		Index:     p.Index,
		TS:        p.TS,
		TSSec:     p.TSSec,
		TSNsec:    p.TSNsec,
		CapLen:    p.CapLen,
		WireLen:   p.WireLen,
		LinkType:  p.LinkType,
		Offset:    p.Offset,
		HasEth:    p.HasEth,
		SrcMAC:    p.SrcMAC,
		DstMAC:    p.DstMAC,
		EthType:   p.EthType,
		HasVLAN:   p.HasVLAN,
		VLANID:    p.VLANID,
		VLANCount: p.VLANCount,
		Tunnel:    p.Tunnel,
		Truncated: p.Truncated,
	}
}

// gre decapsulates a GRE packet (RFC 2784/2890 version 0, or the enhanced
// GRE of PPTP, version 1).
func (d *decoder) gre(p *Packet, b []byte) bool {
	if len(b) < 4 {
		return false
	}
	flags := be16(b)
	proto := be16(b[2:])
	switch flags & 0x0007 {
	case 0:
		if flags&0x4000 != 0 { // source routing present
			return false
		}
		off := 4
		if flags&0x8000 != 0 { // checksum + reserved
			off += 4
		}
		if flags&0x2000 != 0 { // key
			off += 4
		}
		seq := flags&0x1000 != 0
		if seq {
			off += 4
		}
		if len(b) < off {
			return false
		}
		b = b[off:]
		switch proto {
		case 0x0800, 0x86dd, 0x8847, 0x8848:
			return d.decap(p, TunnelGRE, viaEtherType, proto, b)
		case 0x6558:
			return d.decap(p, TunnelGRE, viaEthernet, 0, b)
		case 0x88be:
			if !seq { // ERSPAN type I: no ERSPAN header
				return d.decap(p, TunnelERSPAN, viaEthernet, 0, b)
			}
			if len(b) < 8 || b[0]>>4 != 1 { // type II
				return false
			}
			return d.decap(p, TunnelERSPAN, viaEthernet, 0, b[8:])
		case 0x22eb:
			if len(b) < 12 || b[0]>>4 != 2 { // type III
				return false
			}
			hl := 12
			if b[11]&0x01 != 0 { // optional platform subheader
				hl += 8
			}
			if len(b) < hl {
				return false
			}
			return d.decap(p, TunnelERSPAN, viaEthernet, 0, b[hl:])
		}
	case 1:
		if proto != 0x880b || flags&0x2000 == 0 {
			return false
		}
		off := 8
		if flags&0x1000 != 0 { // sequence number
			off += 4
		}
		if flags&0x0080 != 0 { // acknowledgment number
			off += 4
		}
		if len(b) <= off {
			return false
		}
		n := int(be16(b[4:]))
		b = b[off:]
		if n < len(b) {
			b = b[:n]
		}
		return d.decap(p, TunnelGRE, viaPPP, 0, b)
	}
	return false
}

// udpTunnel decapsulates a UDP payload b (captured part of declared length
// n) sent to or from a tunnel port.
func (d *decoder) udpTunnel(p *Packet, b []byte, n int) bool {
	ports := [2]uint16{p.DstPort, p.SrcPort}
	for i, port := range ports {
		if i == 1 && port == ports[0] {
			break
		}
		switch port {
		case 4789: // VXLAN
			if len(b) >= 8 && b[0]&0x08 != 0 && d.decap(p, TunnelVXLAN, viaEthernet, 0, b[8:]) {
				return true
			}
		case 6081: // GENEVE
			if len(b) < 8 || b[0]>>6 != 0 {
				continue
			}
			hl := 8 + int(b[0]&0x3f)*4
			if len(b) < hl {
				continue
			}
			switch et := be16(b[2:]); et {
			case 0x6558:
				if d.decap(p, TunnelGENEVE, viaEthernet, 0, b[hl:]) {
					return true
				}
			case 0x0800, 0x86dd:
				if d.decap(p, TunnelGENEVE, viaEtherType, et, b[hl:]) {
					return true
				}
			}
		case 2152: // GTP-U
			if hl, ok := gtpHeader(b); ok && d.decap(p, TunnelGTPU, viaIP, 0, b[hl:]) {
				return true
			}
		case 3544: // Teredo
			if hl, ok := teredoHeader(b, n); ok && d.decap(p, TunnelTeredo, viaIPv6, 0, b[hl:]) {
				return true
			}
		}
	}
	return false
}

// gtpHeader returns the length of a GTPv1-U G-PDU header, extension
// headers included.
func gtpHeader(b []byte) (int, bool) {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != 0xff {
		return 0, false
	}
	if b[0]&0x07 == 0 {
		return 8, true
	}
	if len(b) < 12 {
		return 0, false
	}
	hl := 12
	if b[0]&0x04 == 0 {
		return hl, true
	}
	next := b[11]
	for i := 0; next != 0; i++ {
		if i >= maxExtHeaders || len(b) < hl+1 {
			return 0, false
		}
		el := int(b[hl]) * 4
		if el == 0 || len(b) < hl+el {
			return 0, false
		}
		next = b[hl+el-1]
		hl += el
	}
	return hl, true
}

// teredoHeader skips Teredo's optional authentication and origin indication
// and checks that an IPv6 header whose payload fits in n bytes follows.
func teredoHeader(b []byte, n int) (int, bool) {
	off := 0
	if len(b) >= 4 && b[0] == 0 && b[1] == 1 {
		off = 4 + int(b[2]) + int(b[3]) + 8 + 1
	}
	if len(b) >= off+2 && b[off] == 0 && b[off+1] == 0 {
		off += 8
	}
	if len(b) < off+40 || b[off]>>4 != 6 {
		return 0, false
	}
	if off+40+int(be16(b[off+4:])) > n {
		return 0, false
	}
	return off, true
}
