package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "timing", Needs: flows.NeedBase, Compute: computeTiming})
}

// computeTiming fills the timing group: inter-arrival time statistics over
// all packets and per direction, burstiness, bursts and idle gaps, and the
// first response time.
func computeTiming(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	n := len(f.Base)
	// One buffer: all-packet IATs, fwd IATs, bwd IATs, sort scratch.
	buf := make([]float64, 4*n)
	all := buf[0:0:n]
	fwd := buf[n : n : 2*n]
	bwd := buf[2*n : 2*n : 3*n]
	scratch := buf[3*n : 3*n : 4*n]

	var lastFwd, lastBwd float64
	var seenFwd, seenBwd bool
	firstResponse := 0.0
	for i := range f.Base {
		b := &f.Base[i]
		if i > 0 {
			all = append(all, b.TS-f.Base[i-1].TS)
		}
		if b.Fwd {
			if seenFwd {
				fwd = append(fwd, b.TS-lastFwd)
			}
			lastFwd, seenFwd = b.TS, true
		} else {
			if seenBwd {
				bwd = append(bwd, b.TS-lastBwd)
			} else {
				firstResponse = b.TS - f.First
			}
			lastBwd, seenBwd = b.TS, true
		}
	}

	threshold := flows.DefaultConfig().BurstThresholdMS / 1000
	if cfg != nil {
		threshold = cfg.BurstThresholdMS / 1000
	}
	bs := burstsOf(all, threshold)

	sa, scratch := summarize(all, scratch)
	sf, scratch := summarize(fwd, scratch)
	sb, _ := summarize(bwd, scratch)

	w := out[:0]
	w = append(w,
		schema.RealV(sa.Min),
		schema.RealV(sa.Max),
		schema.RealV(sa.Mean),
		schema.RealV(sa.Std),
		schema.RealV(sa.Median),
		schema.RealV(sa.Sum),
		schema.RealV(sa.P25),
		schema.RealV(sa.P75),
		schema.RealV(sa.P90),
		schema.RealV(sa.P99),
		schema.RealV(sf.Min),
		schema.RealV(sf.Max),
		schema.RealV(sf.Mean),
		schema.RealV(sf.Std),
		schema.RealV(sf.Median),
		schema.RealV(sb.Min),
		schema.RealV(sb.Max),
		schema.RealV(sb.Mean),
		schema.RealV(sb.Std),
		schema.RealV(sb.Median),
		schema.RealV(variationCoef(sa)),
		schema.RealV(variationCoef(sf)),
		schema.RealV(variationCoef(sb)),
		schema.IntV(int64(bs.count)),
		schema.RealV(bs.avgPackets),
		schema.RealV(bs.avgDuration),
		schema.IntV(int64(bs.maxPackets)),
		schema.IntV(int64(bs.idleCount)),
		schema.RealV(bs.avgIdle),
		schema.RealV(bs.maxIdle),
		schema.RealV(firstResponse),
	)
	return checkFilled("timing", w, out)
}

// variationCoef is the coefficient of variation (population std / mean) of
// a summary, 0 for an empty list or a zero mean.
func variationCoef(s summary) float64 {
	if s.N == 0 || s.Mean == 0 {
		return 0
	}
	return s.Std / s.Mean
}

// burstStats are the burst and idle metrics of one IAT sequence.
type burstStats struct {
	count, maxPackets int
	avgPackets        float64
	avgDuration       float64
	idleCount         int
	avgIdle, maxIdle  float64
}

// burstsOf splits the packet sequence wherever an IAT is at least threshold
// seconds. A burst's duration is the difference of the IAT prefix sums at its
// ends (P[end]-P[start], P[k+1] = P[k]+iat[k]), as JoyfulJay computes it, so
// the floats agree bit for bit. Everything is 0 when there are no IATs.
func burstsOf(iats []float64, threshold float64) burstStats {
	var s burstStats
	if len(iats) == 0 {
		return s
	}
	cur := 1
	var prefix, startPrefix float64 // P[i] and P[start of the current burst]
	var sumPackets int
	var sumDuration, sumIdle float64
	endBurst := func(p float64) {
		s.count++
		sumPackets += cur
		sumDuration += p - startPrefix
		if cur > s.maxPackets {
			s.maxPackets = cur
		}
	}
	for _, g := range iats {
		if g < threshold {
			cur++
			prefix += g
			continue
		}
		endBurst(prefix)
		s.idleCount++
		sumIdle += g
		if g > s.maxIdle {
			s.maxIdle = g
		}
		cur = 1
		prefix += g
		startPrefix = prefix
	}
	endBurst(prefix)
	s.avgPackets = float64(sumPackets) / float64(s.count)
	s.avgDuration = sumDuration / float64(s.count)
	if s.idleCount > 0 {
		s.avgIdle = sumIdle / float64(s.idleCount)
	}
	return s
}
