package extractors

import (
	"net/netip"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// Test helpers of the group tests. buildFlowA builds a *flows.Flow the way the
// assembler does, from decoded packets, so that the flow_meta, timing, size
// and tcp groups can be tested without a capture; computeA and closeA serve
// every group's tests and the reference test.

// tcpPktA returns a synthetic IPv4 TCP packet from src to dst ("ip:port").
func tcpPktA(ts float64, src, dst string, ipLen, payload int, flags uint8) flows.Packet {
	p := ipPktA(ts, src, dst, 6, ipLen, payload)
	p.HasTCP = true
	p.TCPFlags = flags
	p.TCPHdrLen = 20
	return p
}

// udpPktA returns a synthetic IPv4 UDP packet from src to dst ("ip:port").
func udpPktA(ts float64, src, dst string, ipLen, payload int) flows.Packet {
	p := ipPktA(ts, src, dst, 17, ipLen, payload)
	p.HasUDP = true
	return p
}

// ipPktA returns a synthetic packet with an Ethernet header, addresses,
// ports and lengths. IPv6 is chosen by the address text.
func ipPktA(ts float64, src, dst string, proto uint8, ipLen, payload int) flows.Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	p := flows.Packet{
		TS:         ts,
		HasEth:     true,
		SrcMAC:     [6]byte{2, 0, 0, 0, 0, 1},
		DstMAC:     [6]byte{2, 0, 0, 0, 0, 2},
		IPVersion:  4,
		Proto:      proto,
		FirstNH:    proto,
		IPLen:      ipLen,
		IPHdrLen:   20,
		TTL:        64,
		SrcPort:    s.Port(),
		DstPort:    d.Port(),
		PayloadLen: payload,
	}
	if s.Addr().Is6() {
		p.IPVersion = 6
		p.IPHdrLen = 40
	}
	p.SrcIP = addrBytesA(s.Addr())
	p.DstIP = addrBytesA(d.Addr())
	return p
}

// addrBytesA stores an address the way flows.Packet does: IPv4 in the first
// four bytes.
func addrBytesA(a netip.Addr) [16]byte {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b
	}
	return a.As16()
}

// buildFlowA builds one flow from its packets in arrival order: the sender
// of the first packet is the initiator; every record slice is filled.
func buildFlowA(pkts []flows.Packet) *flows.Flow {
	f := &flows.Flow{}
	if len(pkts) == 0 {
		return f
	}
	p0 := &pkts[0]
	f.InitIP, f.RespIP = p0.SrcIP, p0.DstIP
	f.InitPort, f.RespPort = p0.SrcPort, p0.DstPort
	f.Proto = p0.Proto
	f.IPv6 = p0.IPVersion == 6
	f.First = p0.TS
	f.FirstHasEth = p0.HasEth
	for i := range pkts {
		p := &pkts[i]
		fwd := p.SrcIP == f.InitIP && p.SrcPort == f.InitPort
		f.Packets++
		if fwd {
			f.PacketsFwd++
		}
		f.Last = p.TS
		f.Base = append(f.Base, flows.PktBase{
			TS:       p.TS,
			IPLen:    uint32(p.IPLen),
			Payload:  uint32(p.PayloadLen),
			Fwd:      fwd,
			HasFlags: p.HasTCP,
			Flags:    p.TCPFlags,
		})
		f.Sum.Add(&f.Base[len(f.Base)-1])
		f.TCP = append(f.TCP, tcpRecordA(p))
		f.IP = append(f.IP, flows.PktIP{
			FlowLabel:    p.FlowLabel,
			ID:           p.IPID,
			Version:      p.IPVersion,
			TTL:          p.TTL,
			TOS:          p.TOS,
			Flags:        p.IPFlags,
			TrafficClass: p.TrafficClass,
		})
		f.L2 = append(f.L2, flows.PktL2{
			SrcMAC:  p.SrcMAC,
			DstMAC:  p.DstMAC,
			EthType: p.EthType,
			VLANID:  p.VLANID,
			HasEth:  p.HasEth,
			HasVLAN: p.HasVLAN,
		})
		f.ICMP = append(f.ICMP, flows.PktICMP{
			ID:     p.ICMPID,
			Seq:    p.ICMPSeq,
			Type:   p.ICMPType,
			Code:   p.ICMPCode,
			IsICMP: p.HasICMP,
		})
	}
	return f
}

// tcpRecordA returns the PktTCP record of p (zero unless p has TCP).
func tcpRecordA(p *flows.Packet) flows.PktTCP {
	if !p.HasTCP {
		return flows.PktTCP{}
	}
	r := flows.PktTCP{
		Seq:        p.Seq,
		Ack:        p.Ack,
		TSVal:      p.Opts.TSVal,
		TSEcr:      p.Opts.TSEcr,
		Window:     p.Window,
		MSS:        p.Opts.MSS,
		MPTCPSub:   p.Opts.MPTCPSub,
		WS:         p.Opts.WS,
		SACKBlocks: p.Opts.SACKBlocks,
		MPTCPCount: p.Opts.MPTCPCount,
		OptFlags:   flows.OptIsTCP,
	}
	for _, o := range []struct {
		on  bool
		bit uint8
	}{{p.Opts.HasMSS, flows.OptMSS}, {p.Opts.HasWS, flows.OptWS}, {p.Opts.SACKOK, flows.OptSACKOK}, {p.Opts.HasTS, flows.OptTS}} {
		if o.on {
			r.OptFlags |= o.bit
		}
	}
	return r
}

// computeA runs group id on f with cfg and returns its values by column name.
func computeA(t *testing.T, id string, f *flows.Flow, cfg *flows.Config) map[string]schema.Value {
	t.Helper()
	g := Lookup(id)
	if g == nil {
		t.Fatalf("group %q is not registered", id)
	}
	out := make([]schema.Value, len(g.Features))
	if err := g.Compute(f, cfg, out); err != nil {
		t.Fatalf("%s: Compute: %v", id, err)
	}
	m := make(map[string]schema.Value, len(out))
	for i, feat := range g.Features {
		if out[i].Kind != feat.Type {
			t.Errorf("%s.%s: kind %v, want %v", id, feat.Name, out[i].Kind, feat.Type)
		}
		m[feat.Name] = out[i]
	}
	return m
}

// wantA is one expected cell: an int64, float64, bool or string.
type wantA struct {
	col string
	val any
}

// checkValuesA compares the named cells of got with want. Floats must match
// within 1e-12 relative (exactly for 0).
func checkValuesA(t *testing.T, got map[string]schema.Value, want []wantA) {
	t.Helper()
	for _, w := range want {
		v, ok := got[w.col]
		if !ok {
			t.Errorf("no column %q", w.col)
			continue
		}
		switch x := w.val.(type) {
		case int:
			if v.Kind != schema.Int || v.I != int64(x) {
				t.Errorf("%s = %v, want %d", w.col, v.Any(), x)
			}
		case bool:
			if v.Kind != schema.Bool || (v.I != 0) != x {
				t.Errorf("%s = %v, want %v", w.col, v.Any(), x)
			}
		case string:
			if v.Kind != schema.Text || v.S != x {
				t.Errorf("%s = %q, want %q", w.col, v.S, x)
			}
		case float64:
			if v.Kind != schema.Real || !closeA(v.F, x, 1e-12) {
				t.Errorf("%s = %v, want %v", w.col, v.Any(), x)
			}
		default:
			t.Fatalf("%s: unsupported expected type %T", w.col, w.val)
		}
	}
}

// closeA reports whether a and b agree within rel relative tolerance
// (exactly when either is 0).
func closeA(a, b, rel float64) bool {
	if a == b {
		return true
	}
	d := a - b
	if d < 0 {
		d = -d
	}
	m := a
	if m < 0 {
		m = -m
	}
	if bb := max(b, -b); bb > m {
		m = bb
	}
	return d <= rel*m && a != 0 && b != 0
}

// Flags used by the synthetic flows.
const (
	synA    = flows.SYN
	synAckA = flows.SYN | flows.ACK
	ackA    = flows.ACK
	pshAckA = flows.PSH | flows.ACK
	finAckA = flows.FIN | flows.ACK
)

// handshakeFlowA is a complete TCP connection, 10.0.0.1:40000 -> 10.0.0.2:80,
// whose timestamps are multiples of 1/64 s so that every sum is exact.
//
//	#  time         dir  flags    IP len  payload
//	1  100.0        fwd  SYN      60      0
//	2  100.03125    bwd  SYN+ACK  60      0
//	3  100.0625     fwd  ACK      52      0
//	4  100.5625     fwd  PSH+ACK  152     100
//	5  100.578125   bwd  ACK      52      0
//	6  101.578125   bwd  PSH+ACK  552     500
//	7  101.59375    fwd  FIN+ACK  52      0
//	8  101.609375   bwd  FIN+ACK  52      0
func handshakeFlowA() []flows.Packet {
	c, s := "10.0.0.1:40000", "10.0.0.2:80"
	return []flows.Packet{
		tcpPktA(100.0, c, s, 60, 0, synA),
		tcpPktA(100.03125, s, c, 60, 0, synAckA),
		tcpPktA(100.0625, c, s, 52, 0, ackA),
		tcpPktA(100.5625, c, s, 152, 100, pshAckA),
		tcpPktA(100.578125, s, c, 52, 0, ackA),
		tcpPktA(101.578125, s, c, 552, 500, pshAckA),
		tcpPktA(101.59375, c, s, 52, 0, finAckA),
		tcpPktA(101.609375, s, c, 52, 0, finAckA),
	}
}

// v6UDPFlowA is a single IPv6 UDP packet without an Ethernet header.
func v6UDPFlowA() []flows.Packet {
	p := udpPktA(5.5, "[2001:db8::1]:5353", "[2001:db8::2]:5353", 140, 92)
	p.HasEth = false
	p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
	return []flows.Packet{p}
}
