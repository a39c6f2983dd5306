package extractors

import (
	"sync"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_sequence",
		Needs:   flows.NeedBase | flows.NeedTCP,
		Compute: computeTCPSequence,
	})
}

// tcpRecIsTCP reports whether packet i of f is a TCP segment. Groups that read
// Flow.TCP use it so that only TCP packets enter their per-direction lists,
// as in JoyfulJay.
func tcpRecIsTCP(f *flows.Flow, i int) bool {
	return i < len(f.TCP) && f.TCP[i].OptFlags&flows.OptIsTCP != 0
}

// tcpRecCount returns the number of per-packet records that both Base and TCP
// hold (they are parallel; a short TCP slice only happens when a caller
// forgot the Needs bit).
func tcpRecCount(f *flows.Flow) int {
	return min(len(f.Base), len(f.TCP))
}

// seqScratch is the reusable state of computeTCPSequence: the set of
// sequence numbers already seen on payload-carrying segments, keyed by
// direction<<32 | seq. Pooled so that a scan does not allocate a map per flow.
type seqScratch struct {
	seen map[uint64]struct{}
}

var seqPool = sync.Pool{New: func() any { return &seqScratch{seen: make(map[uint64]struct{})} }}

// seqDir is the sequence and acknowledgement state of one direction.
type seqDir struct {
	packets  int64 // TCP packets of the direction
	isn      uint32
	expected uint32 // next expected sequence number
	bytes    int64  // payload of segments not counted as retransmissions
	retrans  int64
	gaps     int64
	ooo      int64
	dupAcks  int64
	prevAck  uint32 // ack and window of the previous packet of the direction
	prevWin  uint16
}

// computeTCPSequence follows JoyfulJay's per-direction sequence tracker
// (SEMANTICS.md, tcp_sequence) with the two corrections of POLICY.md §2:
//
//   - The expected sequence number advances by the segment's length in
//     sequence space, payload + SYN + FIN (RFC 9293 SEG.LEN). A zero-length
//     segment (a pure ACK, a RST) does not advance it, so a pure ACK followed
//     by data is not out of order. JoyfulJay advances by max(1, payload).
//   - A duplicate ACK (RFC 5681) has ACK set, no payload, none of SYN, FIN
//     and RST, and the same ack number and window as the previous packet of
//     its direction. JoyfulJay counts any repeated ack value.
//
// Payload is the declared payload length (no Ethernet padding).
func computeTCPSequence(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var dirs [2]seqDir // 0 = fwd, 1 = bwd
	sc := seqPool.Get().(*seqScratch)
	defer func() {
		clear(sc.seen)
		seqPool.Put(sc)
	}()

	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		b, t := &f.Base[i], &f.TCP[i]
		di := 1
		if b.Fwd {
			di = 0
		}
		d := &dirs[di]
		seq, plen := t.Seq, b.Payload
		first := d.packets == 0
		if first {
			d.isn = seq
			d.expected = seq
		}
		d.packets++

		// Retransmissions: a payload segment whose seq was already seen on an
		// earlier payload segment of the same direction.
		if plen > 0 {
			key := uint64(di)<<32 | uint64(seq)
			if _, dup := sc.seen[key]; dup {
				d.retrans++
			} else {
				sc.seen[key] = struct{}{}
				d.bytes += int64(plen)
			}
		}

		// Gaps and out-of-order, modulo 2^32.
		diff := seq - d.expected
		switch {
		case diff != 0 && diff < 1<<31:
			d.gaps++
		case diff > 1<<31:
			d.ooo++
		}
		segLen := plen
		if b.Flags&flows.SYN != 0 {
			segLen++
		}
		if b.Flags&flows.FIN != 0 {
			segLen++
		}
		if segLen > 0 {
			next := seq + segLen
			if next-d.expected < 1<<31 {
				d.expected = next
			}
		}

		// Duplicate ACKs.
		if !first && b.Flags&flows.ACK != 0 && plen == 0 &&
			b.Flags&(flows.SYN|flows.FIN|flows.RST) == 0 &&
			t.Ack == d.prevAck && t.Window == d.prevWin {
			d.dupAcks++
		}
		d.prevAck, d.prevWin = t.Ack, t.Window
	}

	fw, bw := &dirs[0], &dirs[1]
	totalRetrans := fw.retrans + bw.retrans
	ratio := 0.0
	if total := fw.packets + bw.packets; total > 0 {
		ratio = float64(totalRetrans) / float64(total)
	}
	out[0] = schema.IntV(int64(fw.isn))
	out[1] = schema.IntV(int64(bw.isn))
	out[2] = schema.IntV(fw.bytes)
	out[3] = schema.IntV(fw.retrans)
	out[4] = schema.IntV(fw.gaps)
	out[5] = schema.IntV(fw.ooo)
	out[6] = schema.IntV(bw.bytes)
	out[7] = schema.IntV(bw.retrans)
	out[8] = schema.IntV(bw.gaps)
	out[9] = schema.IntV(bw.ooo)
	out[10] = schema.IntV(fw.packets)
	out[11] = schema.IntV(fw.dupAcks)
	out[12] = schema.IntV(bw.packets)
	out[13] = schema.IntV(bw.dupAcks)
	out[14] = schema.IntV(totalRetrans)
	out[15] = schema.IntV(fw.ooo + bw.ooo)
	out[16] = schema.IntV(fw.dupAcks + bw.dupAcks)
	out[17] = schema.RealV(ratio)
	return nil
}
