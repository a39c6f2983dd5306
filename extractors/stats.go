package extractors

import (
	"math"
	"sort"
)

// summary holds JoyfulJay's statistics of one list of values. Every field is
// 0 for an empty list.
type summary struct {
	N                  int
	Sum, Mean, Std     float64
	Min, Max           float64
	Median             float64
	P25, P75, P90, P99 float64
}

// summarize computes the statistics of v the way JoyfulJay does: sum
// accumulated left to right, population standard deviation in two passes,
// percentiles by linear interpolation at (n-1)*p/100. scratch is reused for
// sorting (pass nil to allocate); v is not modified.
func summarize(v []float64, scratch []float64) (summary, []float64) {
	var s summary
	n := len(v)
	if n == 0 {
		return s, scratch
	}
	s.N = n
	s.Min, s.Max = v[0], v[0]
	for _, x := range v {
		s.Sum += x
		if x < s.Min {
			s.Min = x
		}
		if x > s.Max {
			s.Max = x
		}
	}
	s.Mean = s.Sum / float64(n)
	s.Std = popStd(v, s.Mean)
	scratch = append(scratch[:0], v...)
	sort.Float64s(scratch)
	s.Median = percentileSorted(scratch, 50)
	s.P25 = percentileSorted(scratch, 25)
	s.P75 = percentileSorted(scratch, 75)
	s.P90 = percentileSorted(scratch, 90)
	s.P99 = percentileSorted(scratch, 99)
	return s, scratch
}

// mean returns the left-to-right sum of v divided by len(v), 0 if empty.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// popStd returns the population standard deviation of v around m.
func popStd(v []float64, m float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var ss float64
	for _, x := range v {
		d := x - m
		ss += float64(d * d) // no fused multiply-add: match Python bit for bit
	}
	return math.Sqrt(ss / float64(len(v)))
}

// percentileSorted interpolates percentile p (0..100) of ascending s with
// JoyfulJay's expression s[lo]*(1-frac) + s[hi]*frac.
func percentileSorted(s []float64, p float64) float64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	idx := float64(n-1) * p / 100
	lo := int(idx)
	hi := lo + 1
	if hi > n-1 {
		hi = n - 1
	}
	frac := idx - float64(lo)
	return s[lo]*(1-frac) + s[hi]*frac
}
