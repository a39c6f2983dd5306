package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "mac", Needs: flows.NeedL2, Compute: computeMAC})
}

// mac_stat bits.
const (
	macStatSrc      = 0x01 // the first packet has a source MAC
	macStatDst      = 0x02 // the first packet has a destination MAC
	macStatMultiSrc = 0x04 // more than one distinct source MAC
	macStatMultiDst = 0x08 // more than one distinct destination MAC
	macStatVLAN     = 0x10 // some packet carried an 802.1Q tag
)

// computeMAC fills the mac group from the outer link layer of each packet
// (flows.PktL2: one record per run of equal fields, with its packet count).
// The addresses and EtherType come from the flow's first packet; packets
// without an Ethernet header contribute no MAC address, and every tagged
// packet contributes its VLAN id (0 included).
func computeMAC(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		srcs, dsts       fieldSet[[6]byte]
		vlans            fieldSet[uint16]
		minVLAN          uint16
		bcast, mcast     int64
		macSrc, macDst   string
		ethType, macStat int64
	)
	if len(f.L2) > 0 {
		first := &f.L2[0]
		if first.HasEth {
			macSrc, macDst = formatMAC(first.SrcMAC), formatMAC(first.DstMAC)
			ethType = int64(first.EthType)
			macStat |= macStatSrc | macStatDst
		}
	}
	for i := range f.L2 {
		p := &f.L2[i]
		if p.HasVLAN {
			if vlans.len() == 0 || p.VLANID < minVLAN {
				minVLAN = p.VLANID
			}
			vlans.add(p.VLANID)
		}
		if !p.HasEth {
			continue
		}
		srcs.add(p.SrcMAC)
		dsts.add(p.DstMAC)
		switch {
		case p.DstMAC == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
			bcast += p.Packets()
		case p.DstMAC[0]&1 != 0: // group (multicast) bit
			mcast += p.Packets()
		}
	}
	if srcs.len() > 1 {
		macStat |= macStatMultiSrc
	}
	if dsts.len() > 1 {
		macStat |= macStatMultiDst
	}
	if vlans.len() > 0 {
		macStat |= macStatVLAN
	}
	out[0] = schema.TextV(macSrc)
	out[1] = schema.TextV(macDst)
	out[2] = schema.IntV(ethType)
	out[3] = schema.IntV(int64(minVLAN))
	out[4] = schema.IntV(int64(vlans.len()))
	out[5] = schema.IntV(int64(srcs.len()))
	out[6] = schema.IntV(int64(dsts.len()))
	out[7] = schema.IntV(macStat)
	out[8] = schema.IntV(bcast)
	out[9] = schema.IntV(mcast)
	return nil
}

// formatMAC returns m in lowercase colon form, e.g. "aa:bb:cc:dd:ee:ff".
func formatMAC(m [6]byte) string {
	const hex = "0123456789abcdef"
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i] = hex[x>>4]
		b[3*i+1] = hex[x&0x0f]
	}
	return string(b[:])
}

// fieldSet counts the distinct values of one header field over a flow. The
// first few values live inline, so the usual flow (one or two distinct
// values) needs no allocation; more spill into a map. The zero fieldSet is
// empty and ready to use.
type fieldSet[T comparable] struct {
	inline [8]T
	n      int
	m      map[T]struct{}
}

// add puts v in the set.
func (s *fieldSet[T]) add(v T) {
	if s.m != nil {
		s.m[v] = struct{}{}
		return
	}
	for i := 0; i < s.n; i++ {
		if s.inline[i] == v {
			return
		}
	}
	if s.n < len(s.inline) {
		s.inline[s.n] = v
		s.n++
		return
	}
	s.m = make(map[T]struct{}, 4*len(s.inline))
	for _, x := range s.inline {
		s.m[x] = struct{}{}
	}
	s.m[v] = struct{}{}
}

// len returns the number of distinct values added.
func (s *fieldSet[T]) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return s.n
}
