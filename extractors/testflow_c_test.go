package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// cPkt is one synthetic packet for the header-level groups: its base record
// and the IP, link-layer and ICMP records the assembler would keep.
type cPkt struct {
	base flows.PktBase
	ip   flows.PktIP
	l2   flows.PktL2
	icmp flows.PktICMP
}

// cFlow builds a flow holding every per-packet record of pkts, in order.
// Timestamps default to one packet per millisecond when left at 0.
func cFlow(pkts ...cPkt) *flows.Flow {
	f := &flows.Flow{}
	for i, p := range pkts {
		if p.base.TS == 0 {
			p.base.TS = 1000 + float64(i)/1000
		}
		if i == 0 {
			f.First = p.base.TS
			f.IPv6 = p.ip.Version == 6
			f.FirstHasEth = p.l2.HasEth
		}
		f.Last = p.base.TS
		f.Packets++
		if p.base.Fwd {
			f.PacketsFwd++
		}
		f.Base = append(f.Base, p.base)
		f.Sum.Add(&f.Base[len(f.Base)-1])
		f.IP = append(f.IP, p.ip)
		f.L2 = append(f.L2, p.l2)
		f.ICMP = append(f.ICMP, p.icmp)
	}
	return f
}

// cV4 returns an IPv4 packet record in the given direction.
func cV4(fwd bool, ttl, tos, flags uint8, id uint16) cPkt {
	return cPkt{
		base: flows.PktBase{Fwd: fwd, IPLen: 60},
		ip:   flows.PktIP{Version: 4, TTL: ttl, TOS: tos, Flags: flags, ID: uint32(id)},
	}
}

// cV6 returns an IPv6 packet record in the given direction.
func cV6(fwd bool, hlim uint8, label uint32, class uint8) cPkt {
	return cPkt{
		base: flows.PktBase{Fwd: fwd, IPLen: 80},
		ip:   flows.PktIP{Version: 6, TTL: hlim, FlowLabel: label, TrafficClass: class},
	}
}

// cEth sets the outer Ethernet header of p.
func cEth(p cPkt, src, dst string) cPkt {
	p.l2.HasEth = true
	p.l2.SrcMAC = cMAC(src)
	p.l2.DstMAC = cMAC(dst)
	p.l2.EthType = 0x0800
	if p.ip.Version == 6 {
		p.l2.EthType = 0x86dd
	}
	return p
}

// cVLAN tags p with an 802.1Q header carrying vid.
func cVLAN(p cPkt, vid uint16) cPkt {
	p.l2.HasVLAN = true
	p.l2.VLANID = vid
	p.l2.EthType = 0x8100
	return p
}

// cICMP returns an IPv4 ICMP packet record. id and seq are kept only for
// types whose message has those fields, 0 otherwise.
func cICMP(fwd bool, typ, code uint8, id, seq uint16) cPkt {
	p := cV4(fwd, 64, 0, 0, 0)
	if !icmpHasIDSeq(typ) {
		id, seq = 0, 0
	}
	p.icmp = flows.PktICMP{IsICMP: true, Type: typ, Code: code, ID: id, Seq: seq}
	return p
}

// cMAC parses "aa:bb:cc:dd:ee:ff".
func cMAC(s string) [6]byte {
	var m [6]byte
	for i := range m {
		m[i] = cHex(s[3*i])<<4 | cHex(s[3*i+1])
	}
	return m
}

func cHex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	panic("cHex: not a hex digit")
}

// cCompute runs group id on f with the default options and returns its
// values by column name.
func cCompute(t *testing.T, id string, f *flows.Flow) map[string]schema.Value {
	t.Helper()
	cfg := flows.DefaultConfig()
	return computeA(t, id, f, &cfg)
}

// cCheck compares the named values of got with want (int64, float64, bool or
// string), exactly.
func cCheck(t *testing.T, got map[string]schema.Value, want map[string]any) {
	t.Helper()
	for name, w := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("%s: no such column", name)
			continue
		}
		var match bool
		switch w := w.(type) {
		case int:
			match = (v.Kind == schema.Int) && v.I == int64(w)
		case float64:
			match = v.Kind == schema.Real && v.F == w
		case bool:
			match = v.Kind == schema.Bool && (v.I != 0) == w
		case string:
			match = v.Kind == schema.Text && v.S == w
		default:
			t.Fatalf("%s: unsupported want type %T", name, w)
		}
		if !match {
			t.Errorf("%s = %v (%v), want %v", name, v.String(), v.Kind, w)
		}
	}
}
