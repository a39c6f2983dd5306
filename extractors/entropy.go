package extractors

import (
	"math"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "entropy", Needs: flows.NeedSample, Compute: computeEntropy})
}

// byteHist counts the byte values of a sample.
type byteHist struct {
	counts [256]int
	n      int
}

func (h *byteHist) add(b []byte) {
	for _, c := range b {
		h.counts[c]++
	}
	h.n += len(b)
}

// entropy returns the Shannon entropy in bits per byte, the byte values
// taken in ascending order; 0 for an empty sample.
func (h *byteHist) entropy() float64 {
	e := 0.0
	for _, c := range h.counts {
		if c > 0 {
			p := float64(c) / float64(h.n)
			e -= float64(p * math.Log2(p))
		}
	}
	return e
}

// uniformity is 1 - sum over the 256 byte values of (count - n/256)^2,
// divided by n^2, at least 0; 0 for a sample under 256 bytes.
func (h *byteHist) uniformity() float64 {
	if h.n < 256 {
		return 0
	}
	expect := float64(h.n) / 256
	v := 0.0
	for _, c := range h.counts {
		d := float64(c) - expect
		v += float64(d * d)
	}
	return max(0, 1-v/(float64(h.n)*float64(h.n)))
}

// computeEntropy fills the entropy group (SEMANTICS.md, entropy) from the
// flow's payload sample (flows.Flow.Sample): the initiator's bytes followed
// by the responder's.
func computeEntropy(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	fwd, bwd := f.Sample[0], f.Sample[1]
	if cfg != nil {
		fwd, bwd = fwd[:min(len(fwd), cfg.EntropySampleBytes)], bwd[:min(len(bwd), cfg.EntropySampleBytes)]
	}
	var hf, hb, all byteHist
	hf.add(fwd)
	hb.add(bwd)
	for i := range all.counts {
		all.counts[i] = hf.counts[i] + hb.counts[i]
	}
	all.n = hf.n + hb.n

	ef, eb := hf.entropy(), hb.entropy()
	ratio := 0.0
	switch {
	case eb > 0:
		ratio = ef / eb
	case ef > 0:
		ratio = math.Inf(1)
	}
	var printable, null, high int
	for b, c := range all.counts {
		switch {
		case b >= 0x80:
			high += c
		case b == 0:
			null += c
		case b >= 0x20 && b <= 0x7e, b == '\t', b == '\n', b == '\r':
			printable += c
		}
	}
	n := float64(all.n)

	w := out[:0]
	w = append(w,
		schema.RealV(all.entropy()),
		schema.RealV(ef),
		schema.RealV(eb),
		schema.RealV(ratio),
		schema.RealV(all.uniformity()),
		schema.RealV(divOrZero(float64(printable), n)),
		schema.RealV(divOrZero(float64(null), n)),
		schema.RealV(divOrZero(float64(high), n)),
		schema.IntV(int64(all.n)),
	)
	return checkFilled("entropy", w, out)
}
