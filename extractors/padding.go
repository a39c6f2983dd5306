package extractors

import (
	"math"
	"sync"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "padding", Needs: flows.NeedBase, Compute: computePadding})
}

// Fixed constants of the padding group (SEMANTICS.md, padding): they do not
// follow the options (burst_threshold_ms sets only the timing group).
const (
	padConstantSize  = 0.95 // dominant size share for is_constant_size
	padConstantRate  = 0.1  // IAT CV at or below which the rate is constant
	padBurstGap      = 50.0 / 1000
	padTorCellMin    = 580 // Tor cell window of IP total lengths
	padTorCellMax    = 600
	padTorCellShare  = 0.7 // tor_cell_ratio for is_tor_like
	padUniformSizeCV = 0.1 // size CV below which sizes are uniform
)

// padScratch is the reusable state of the padding and fingerprint groups.
type padScratch struct {
	v, sq []float64        // values and their squared deviations
	hist  []sizeCount      // distinct IP lengths in first-seen order
	index map[uint32]int32 // IP length -> position in hist
}

type sizeCount struct {
	size  uint32
	count int
}

var padPool = sync.Pool{New: func() any { return &padScratch{index: make(map[uint32]int32)} }}

func getPadScratch() *padScratch { return padPool.Get().(*padScratch) }

func putPadScratch(sc *padScratch) {
	sc.v, sc.sq, sc.hist = sc.v[:0], sc.sq[:0], sc.hist[:0]
	clear(sc.index)
	padPool.Put(sc)
}

// npSum is numpy's float64 sum (np.add.reduce over a contiguous array):
// pairwise summation, with blocks of at most 128 values summed by eight
// interleaved accumulators and fewer than 8 values summed left to right.
// JoyfulJay's padding and fingerprint statistics call numpy, so the same
// order gives the same bits.
func npSum(v []float64) float64 {
	n := len(v)
	switch {
	case n < 8:
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], v[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += v[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += v[i]
		}
		return s
	}
	n2 := n / 2
	n2 -= n2 % 8
	return npSum(v[:n2]) + npSum(v[n2:])
}

// npMeanVar returns np.mean(v) and np.var(v) (population variance: the
// mean, then the numpy sum of squared deviations over n); 0, 0 if v is
// empty. sq is scratch space for the squared deviations.
func npMeanVar(v []float64, sq *[]float64) (mean, variance float64) {
	n := len(v)
	if n == 0 {
		return 0, 0
	}
	mean = npSum(v) / float64(n)
	d := (*sq)[:0]
	for _, x := range v {
		e := x - mean
		d = append(d, float64(e*e))
	}
	*sq = d
	return mean, npSum(d) / float64(n)
}

// sizeMoments returns the numpy mean and variance of the flow's IP total
// lengths, leaving the lengths in sc.v.
func sizeMoments(f *flows.Flow, sc *padScratch) (mean, variance float64) {
	sc.v = sc.v[:0]
	for i := range f.Base {
		sc.v = append(sc.v, float64(f.Base[i].IPLen))
	}
	return npMeanVar(sc.v, &sc.sq)
}

// torCells counts the packets whose IP total length is in the Tor cell
// window.
func torCells(f *flows.Flow) int {
	n := 0
	for i := range f.Base {
		if l := f.Base[i].IPLen; l >= padTorCellMin && l <= padTorCellMax {
			n++
		}
	}
	return n
}

// computePadding fills the padding group (SEMANTICS.md, padding): size and
// timing regularity, Tor cell sizes, header overhead per burst and the
// padding score.
func computePadding(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	sc := getPadScratch()
	defer putPadScratch(sc)
	n := len(f.Base)

	// Sizes.
	var sizeVar, sizeCV, modeRatio, sizeEntropy float64
	var mode uint32
	var unique int
	if n > 0 {
		var mean float64
		mean, sizeVar = sizeMoments(f, sc)
		if mean > 0 {
			sizeCV = math.Sqrt(sizeVar) / mean
		}
		mode, modeRatio = sc.sizeHistogram(f)
		unique = len(sc.hist)
		sizeEntropy = sc.histEntropy(n)
	}

	// Inter-arrival times.
	var iatVar, iatCV float64
	constRate := false
	if n >= 2 {
		sc.v = sc.v[:0]
		for i := 1; i < n; i++ {
			sc.v = append(sc.v, f.Base[i].TS-f.Base[i-1].TS)
		}
		var mean float64
		mean, iatVar = npMeanVar(sc.v, &sc.sq)
		if mean > 0 {
			iatCV = math.Sqrt(iatVar) / mean
		}
		constRate = iatCV <= padConstantRate
	}

	// Tor cells: sizes count as uniform for a single packet.
	tor := torCells(f)
	torRatio := divOrZero(float64(tor), float64(n))
	torLike := n > 0 && torRatio >= padTorCellShare && (n < 2 || sizeCV < padUniformSizeCV)

	padRatio, overhead, efficiency := burstOverhead(f)

	constSize := modeRatio >= padConstantSize
	score := 0.0
	if constSize {
		score += 0.3
	}
	if modeRatio > 0.8 {
		score += 0.2
	}
	if constRate {
		score += 0.2
	}
	if torLike {
		score += 0.3
	}

	w := out[:0]
	w = append(w,
		schema.RealV(sizeVar),
		schema.RealV(sizeCV),
		schema.BoolV(constSize),
		schema.IntV(int64(mode)),
		schema.RealV(modeRatio),
		schema.IntV(int64(unique)),
		schema.RealV(sizeEntropy),
		schema.RealV(iatVar),
		schema.RealV(iatCV),
		schema.BoolV(constRate),
		schema.IntV(int64(tor)),
		schema.RealV(torRatio),
		schema.BoolV(torLike),
		schema.RealV(padRatio),
		schema.IntV(overhead),
		schema.RealV(efficiency),
		schema.RealV(min(score, 1)),
	)
	return checkFilled("padding", w, out)
}

// sizeHistogram counts the flow's IP total lengths into sc.hist, in the
// order each length is first seen, and returns the most frequent length
// (ties: the one seen first, as Python's Counter.most_common) and its share
// of the packets. f must have packets.
func (sc *padScratch) sizeHistogram(f *flows.Flow) (mode uint32, ratio float64) {
	for i := range f.Base {
		l := f.Base[i].IPLen
		if j, ok := sc.index[l]; ok {
			sc.hist[j].count++
			continue
		}
		sc.index[l] = int32(len(sc.hist))
		sc.hist = append(sc.hist, sizeCount{size: l, count: 1})
	}
	best := 0
	for j := range sc.hist {
		if sc.hist[j].count > sc.hist[best].count {
			best = j
		}
	}
	return sc.hist[best].size, float64(sc.hist[best].count) / float64(len(f.Base))
}

// histEntropy returns the Shannon entropy (log2) of sc.hist over n packets,
// summed in first-seen order, divided by log2 of the number of distinct
// sizes (by 1 when there is only one).
func (sc *padScratch) histEntropy(n int) float64 {
	h := 0.0
	for _, c := range sc.hist {
		p := float64(c.count) / float64(n)
		h -= float64(p * math.Log2(p))
	}
	norm := 1.0
	if len(sc.hist) > 1 {
		norm = math.Log2(float64(len(sc.hist)))
	}
	return h / norm
}

// burstOverhead splits the packets into bursts wherever the gap to the
// previous packet is 50 ms or more and returns the share of IP bytes that
// are not transport payload, those bytes (IP total length minus declared
// payload, summed), and the mean over bursts with IP bytes of payload bytes
// over IP bytes. With fewer than 2 packets: 0, 0 and 1.
func burstOverhead(f *flows.Flow) (ratio float64, overhead int64, efficiency float64) {
	n := len(f.Base)
	if n < 2 {
		return 0, 0, 1
	}
	var total, payload int64   // over all packets
	var bTotal, bPayload int64 // over the current burst
	var effSum float64         // efficiencies of the bursts so far
	effCount := 0              // bursts with IP bytes
	endBurst := func() {
		if bTotal > 0 {
			effSum += float64(bPayload) / float64(bTotal)
			effCount++
		}
		bTotal, bPayload = 0, 0
	}
	for i := range f.Base {
		b := &f.Base[i]
		if i > 0 && !(b.TS-f.Base[i-1].TS < padBurstGap) {
			endBurst()
		}
		bTotal += int64(b.IPLen)
		bPayload += int64(b.Payload)
		total += int64(b.IPLen)
		payload += int64(b.Payload)
	}
	endBurst()
	overhead = total - payload
	if total > 0 {
		ratio = float64(overhead) / float64(total)
	}
	efficiency = 1
	if effCount > 0 {
		efficiency = effSum / float64(effCount)
	}
	return ratio, overhead, efficiency
}
