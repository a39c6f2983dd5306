package extractors

import (
	"sort"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "size", Needs: flows.NeedBase, Compute: computeSize})
}

// computeSize fills the size group: IP-length and payload-length statistics
// over all packets and per direction, payload counters, the dominant size,
// L7 byte counters and the direction asymmetries.
func computeSize(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	n := len(f.Base)
	nf := 0
	for i := range f.Base {
		if f.Base[i].Fwd {
			nf++
		}
	}
	nb := n - nf

	// One buffer: IP lengths (all in arrival order, then fwd, then bwd),
	// payload lengths (same layout) and the sort scratch.
	buf := make([]float64, 5*n)
	lens, lensFwd, lensBwd := buf[0:n], buf[n:n:n+nf], buf[n+nf:n+nf:2*n]
	pays, paysFwd, paysBwd := buf[2*n:3*n], buf[3*n:3*n:3*n+nf], buf[3*n+nf:3*n+nf:4*n]
	scratch := buf[4*n : 4*n : 5*n]

	var bytesFwd, bytesBwd, l7Fwd, l7Bwd int64
	var withPay, withPayFwd, withPayBwd int64
	var l7MinFwd, l7MaxFwd, l7MinBwd, l7MaxBwd int64
	for i := range f.Base {
		b := &f.Base[i]
		l, p := float64(b.IPLen), float64(b.Payload)
		lens[i], pays[i] = l, p
		pay := int64(b.Payload)
		if b.Fwd {
			lensFwd = append(lensFwd, l)
			paysFwd = append(paysFwd, p)
			bytesFwd += int64(b.IPLen)
			l7Fwd += pay
			if pay > 0 {
				withPayFwd++
				l7MinFwd, l7MaxFwd = minMaxPositive(l7MinFwd, l7MaxFwd, pay)
			}
		} else {
			lensBwd = append(lensBwd, l)
			paysBwd = append(paysBwd, p)
			bytesBwd += int64(b.IPLen)
			l7Bwd += pay
			if pay > 0 {
				withPayBwd++
				l7MinBwd, l7MaxBwd = minMaxPositive(l7MinBwd, l7MaxBwd, pay)
			}
		}
	}
	withPay = withPayFwd + withPayBwd

	sa, scratch := summarize(lens, scratch)
	// scratch now holds lens sorted: find the dominant size before reuse.
	dominant, dominantCount := mostCommon(lens, scratch)
	sf, scratch := summarize(lensFwd, scratch)
	sb, _ := summarize(lensBwd, scratch)

	payMin, payMax := minMax(pays)
	payMean := mean(pays)
	payFwdMean, payBwdMean := mean(paysFwd), mean(paysBwd)

	variance := 0.0
	if n > 1 {
		variance = sa.Std * sa.Std
	}
	headerOnly, pktAsym := 0.0, 0.0
	if n > 0 {
		headerOnly = float64(int64(n)-withPay) / float64(n)
		pktAsym = float64(nf-nb) / float64(n)
	}
	byteAsym := 0.0
	if tot := bytesFwd + bytesBwd; tot > 0 {
		byteAsym = float64(bytesFwd-bytesBwd) / float64(tot)
	}

	w := out[:0]
	w = append(w,
		schema.RealV(sa.Min),
		schema.RealV(sa.Max),
		schema.RealV(sa.Mean),
		schema.RealV(sa.Std),
		schema.RealV(sa.Median),
		schema.RealV(sa.P25),
		schema.RealV(sa.P75),
		schema.RealV(sa.P90),
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
		schema.RealV(payMin),
		schema.RealV(payMax),
		schema.RealV(payMean),
		schema.RealV(popStd(pays, payMean)),
		schema.RealV(payFwdMean),
		schema.RealV(popStd(paysFwd, payFwdMean)),
		schema.RealV(payBwdMean),
		schema.RealV(popStd(paysBwd, payBwdMean)),
		schema.IntV(withPay),
		schema.IntV(withPayFwd),
		schema.IntV(withPayBwd),
		schema.RealV(headerOnly),
		schema.RealV(variance),
		schema.IntV(int64(dominant)),
		schema.RealV(divOrZero(float64(dominantCount), float64(n))),
		schema.IntV(l7Fwd),
		schema.IntV(l7Bwd),
		schema.IntV(l7Fwd+l7Bwd),
		schema.IntV(l7MinFwd),
		schema.IntV(l7MaxFwd),
		schema.IntV(l7MinBwd),
		schema.IntV(l7MaxBwd),
		schema.RealV(pktAsym),
		schema.RealV(byteAsym),
	)
	return checkFilled("size", w, out)
}

// minMaxPositive folds v (> 0) into a running min and max that start at 0
// for "none yet".
func minMaxPositive(lo, hi, v int64) (int64, int64) {
	if lo == 0 || v < lo {
		lo = v
	}
	if v > hi {
		hi = v
	}
	return lo, hi
}

// minMax returns the smallest and largest value of v, 0 and 0 if empty.
func minMax(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	return lo, hi
}

// mostCommon returns the most frequent value of v and its count; among
// equally frequent values the one seen first in v wins (Python's
// Counter.most_common). sorted holds the values of v in ascending order.
// It returns 0, 0 for an empty list.
func mostCommon(v, sorted []float64) (float64, int) {
	best, ties := 0, 0
	var bestVal float64
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		switch c := j - i; {
		case c > best:
			best, ties, bestVal = c, 1, sorted[i]
		case c == best:
			ties++
		}
		i = j
	}
	if ties <= 1 {
		return bestVal, best
	}
	for _, x := range v {
		if countSorted(sorted, x) == best {
			return x, best
		}
	}
	return bestVal, best // not reached: some value of v has the highest count
}

// countSorted returns how many times x occurs in ascending s, by two binary
// searches.
func countSorted(s []float64, x float64) int {
	first := sort.Search(len(s), func(i int) bool { return s[i] >= x })
	end := sort.Search(len(s), func(i int) bool { return s[i] > x })
	return end - first
}
