package extractors

import (
	"math/bits"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "icmp", Needs: flows.NeedICMP, Compute: computeICMP})
}

// ICMPv4 message types the group names.
const (
	icmpEchoReply    = 0
	icmpDestUnreach  = 3
	icmpRedirect     = 5
	icmpEchoRequest  = 8
	icmpTimeExceeded = 11
)

// icmp_stat bits.
const (
	icmpStatEchoReq    = 0x01
	icmpStatEchoReply  = 0x02
	icmpStatUnreach    = 0x04
	icmpStatTimeExceed = 0x08
	icmpStatRedirect   = 0x10
	icmpStatOther      = 0x20 // any type but 0, 3, 5, 8 and 11
)

// computeICMP fills the icmp group from the ICMPv4 packets of the flow
// (ICMPv6 is not counted). icmp_dominant_type breaks ties by the type seen
// first.
//
// Only messages whose format has an identifier and a sequence number (echo,
// timestamp, information and address mask: see icmpHasIDSeq) feed
// icmp_unique_ids and the icmp_seq_* columns. JoyfulJay's rows show this:
// scapy exposes no id/seq field for other types, so a flow of destination
// unreachables has icmp_unique_ids 0, and echo traffic mixed with errors
// keeps the echo sequence minimum (ja4/pcap/gre-sample.pcap: 4 requests, 4
// replies and 2 unreachables give 1 id and icmp_seq_min 256, not 2 and 0).
func computeICMP(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		n, nSeq                   int64
		byType                    [256]int64
		typeCodes                 fieldSet[uint16]
		ids                       fieldSet[uint16]
		seqMin, seqMax            uint16
		seqs                      seqBitmap
		stat                      int64
		req, reply, unreach, tExc int64
	)
	for i := range f.ICMP {
		p := &f.ICMP[i]
		if !p.IsICMP {
			continue
		}
		n++
		byType[p.Type]++
		switch p.Type {
		case icmpEchoRequest:
			req++
			stat |= icmpStatEchoReq
		case icmpEchoReply:
			reply++
			stat |= icmpStatEchoReply
		case icmpDestUnreach:
			unreach++
			stat |= icmpStatUnreach
		case icmpTimeExceeded:
			tExc++
			stat |= icmpStatTimeExceed
		case icmpRedirect:
			stat |= icmpStatRedirect
		default:
			stat |= icmpStatOther
		}
		typeCodes.add(uint16(p.Type)<<8 | uint16(p.Code))
		if !icmpHasIDSeq(p.Type) {
			continue
		}
		if nSeq == 0 {
			seqMin, seqMax = p.Seq, p.Seq
		}
		nSeq++
		ids.add(p.ID)
		seqMin = min(seqMin, p.Seq)
		seqMax = max(seqMax, p.Seq)
		seqs.set(p.Seq)
	}
	// Dominant type: the highest count; among equal counts the type whose
	// first packet came first (Counter.most_common order).
	dominant, dominantN := int64(-1), int64(0)
	for i := range f.ICMP {
		p := &f.ICMP[i]
		if p.IsICMP && byType[p.Type] > dominantN {
			dominant, dominantN = int64(p.Type), byType[p.Type]
		}
	}
	var success float64
	if req > 0 {
		success = float64(reply) / float64(req)
	}
	var ratio float64
	if total := len(f.ICMP); total > 0 {
		ratio = float64(n) / float64(total)
	}
	var gaps int64
	if nSeq > 0 {
		gaps = seqs.runs() - 1
	}
	out[0] = schema.IntV(n)
	out[1] = schema.IntV(req)
	out[2] = schema.IntV(reply)
	out[3] = schema.IntV(unreach)
	out[4] = schema.IntV(tExc)
	out[5] = schema.IntV(int64(typeCodes.len()))
	out[6] = schema.IntV(dominant)
	out[7] = schema.IntV(dominantN)
	out[8] = schema.RealV(success)
	out[9] = schema.IntV(int64(ids.len()))
	out[10] = schema.IntV(int64(seqMin))
	out[11] = schema.IntV(int64(seqMax))
	out[12] = schema.IntV(gaps)
	out[13] = schema.IntV(stat)
	out[14] = schema.RealV(ratio)
	out[15] = schema.BoolV(n > 0 && n == int64(len(f.ICMP)))
	return nil
}

// icmpHasIDSeq reports whether ICMPv4 messages of type typ carry an
// identifier and a sequence number: echo reply (0) and request (8),
// timestamp (13, 14), information (15, 16) and address mask (17, 18).
func icmpHasIDSeq(typ uint8) bool {
	switch typ {
	case 0, 8, 13, 14, 15, 16, 17, 18:
		return true
	}
	return false
}

// seqBitmap marks which 16-bit sequence numbers occur. It is allocated on
// first use, so flows without ICMP pay nothing for it.
type seqBitmap struct {
	w *[1 << 10]uint64
}

func (b *seqBitmap) set(v uint16) {
	if b.w == nil {
		b.w = new([1 << 10]uint64)
	}
	b.w[v>>6] |= 1 << (v & 63)
}

// runs returns the number of maximal runs of consecutive set values. For
// the sorted sequence numbers, the adjacent differences greater than 1 are
// exactly the breaks between runs, so icmp_seq_gaps = runs - 1.
func (b *seqBitmap) runs() int64 {
	if b.w == nil {
		return 0
	}
	var n int
	var carry uint64 // top bit of the previous word
	for _, w := range b.w {
		n += bits.OnesCount64(w &^ (w<<1 | carry))
		carry = w >> 63
	}
	return int64(n)
}
