package extractors

import (
	"math"
	"sync"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_rtt",
		Needs:   flows.NeedBase | flows.NeedTCP,
		Compute: computeTCPRTT,
	})
}

// rttMaxSample is JoyfulJay's sanity bound: samples must be in (0, 60) s.
const rttMaxSample = 60

// rttScratch is the reusable state of computeTCPRTT. Map keys are
// direction<<32 | 32-bit value (direction 1 = fwd).
type rttScratch struct {
	sent    map[uint64]float64 // (dir, TSval) -> time of the latest packet with it
	pending map[uint64]float64 // (dir, seq+len) -> time of the latest data packet ending there
	ts, ack []float64          // samples
}

var rttPool = sync.Pool{New: func() any {
	return &rttScratch{sent: make(map[uint64]float64), pending: make(map[uint64]float64)}
}}

func rttKey(fwd bool, v uint32) uint64 {
	if fwd {
		return 1<<32 | uint64(v)
	}
	return uint64(v)
}

// computeTCPRTT follows SEMANTICS.md, tcp_rtt: the handshake RTT, the
// timestamp-echo samples and the data-to-ACK samples, all over the flow's
// TCP segments in arrival order.
func computeTCPRTT(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	sc := rttPool.Get().(*rttScratch)
	defer func() {
		clear(sc.sent)
		clear(sc.pending)
		sc.ts, sc.ack = sc.ts[:0], sc.ack[:0]
		rttPool.Put(sc)
	}()

	var synT, synAckT, ackT float64
	var haveSyn, haveSynAck, haveAck bool
	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		b, t := &f.Base[i], &f.TCP[i]
		now := b.TS

		// Handshake: first initiator SYN, first responder SYN/ACK, then the
		// first initiator ACK without SYN seen after a SYN/ACK.
		if !haveAck {
			syn, ack := b.Flags&flows.SYN != 0, b.Flags&flows.ACK != 0
			switch {
			case syn && !ack && b.Fwd && !haveSyn:
				synT, haveSyn = now, true
			case syn && ack && !b.Fwd && !haveSynAck:
				synAckT, haveSynAck = now, true
			case !syn && ack && b.Fwd && haveSynAck:
				ackT, haveAck = now, true
			}
		}

		// Timestamp echo: record this packet's TSval, then match its TSecr
		// against the other direction's TSvals. Entries are never removed.
		if t.OptFlags&flows.OptTS != 0 {
			sc.sent[rttKey(b.Fwd, t.TSVal)] = now
			if t.TSEcr != 0 {
				if sent, ok := sc.sent[rttKey(!b.Fwd, t.TSEcr)]; ok {
					if rtt := now - sent; rtt > 0 && rtt < rttMaxSample {
						sc.ts = append(sc.ts, rtt)
					}
				}
			}
		}

		// Data to ACK: remember where each data segment ends, then match
		// this packet's ack number (always present) against the other
		// direction; a match is consumed whether or not the sample is kept.
		if b.Payload > 0 {
			sc.pending[rttKey(b.Fwd, t.Seq+b.Payload)] = now
		}
		k := rttKey(!b.Fwd, t.Ack)
		if sent, ok := sc.pending[k]; ok {
			if rtt := now - sent; rtt > 0 && rtt < rttMaxSample {
				sc.ack = append(sc.ack, rtt)
			}
			delete(sc.pending, k)
		}
	}

	var handshake float64
	switch {
	case haveSyn && haveSynAck && haveAck:
		handshake = ackT - synT
	case haveSyn && haveSynAck:
		handshake = (synAckT - synT) * 2
	}
	out[0] = schema.RealV(handshake)

	ts := sc.ts
	var tsMin, tsMax, tsMean, tsStd, jitter float64
	if len(ts) > 0 {
		tsMin, tsMax = rttMinMax(ts)
		tsMean = mean(ts)
		if len(ts) >= 2 {
			tsStd = popStd(ts, tsMean)
			var sum float64
			for j := 1; j < len(ts); j++ {
				sum += math.Abs(ts[j] - ts[j-1])
			}
			jitter = sum / float64(len(ts)-1)
		}
	}
	out[1] = schema.RealV(tsMin)
	out[2] = schema.RealV(tsMax)
	out[3] = schema.RealV(tsMean)
	out[4] = schema.IntV(int64(len(ts)))
	out[5] = schema.RealV(tsStd)
	out[6] = schema.RealV(jitter)

	var ackMin, ackMax, ackMean float64
	if len(sc.ack) > 0 {
		ackMin, ackMax = rttMinMax(sc.ack)
		ackMean = mean(sc.ack)
	}
	out[7] = schema.RealV(ackMin)
	out[8] = schema.RealV(ackMax)
	out[9] = schema.RealV(ackMean)
	return nil
}

// rttMinMax returns the smallest and largest element of a non-empty slice.
func rttMinMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
