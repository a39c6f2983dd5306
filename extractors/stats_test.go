package extractors

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		want summary
	}{
		{"empty", nil, summary{}},
		{"one", []float64{5}, summary{N: 1, Sum: 5, Mean: 5, Min: 5, Max: 5, Median: 5, P25: 5, P75: 5, P90: 5, P99: 5}},
		{"four", []float64{4, 1, 3, 2}, summary{N: 4, Sum: 10, Mean: 2.5, Std: math.Sqrt(1.25), Min: 1, Max: 4,
			Median: 2.5, P25: 1.75, P75: 3.25, P90: 3.7, P99: 3.97}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := summarize(tc.in, nil)
			for _, c := range []struct {
				field     string
				got, want float64
			}{
				{"sum", got.Sum, tc.want.Sum}, {"mean", got.Mean, tc.want.Mean}, {"std", got.Std, tc.want.Std},
				{"min", got.Min, tc.want.Min}, {"max", got.Max, tc.want.Max}, {"median", got.Median, tc.want.Median},
				{"p25", got.P25, tc.want.P25}, {"p75", got.P75, tc.want.P75}, {"p90", got.P90, tc.want.P90}, {"p99", got.P99, tc.want.P99},
			} {
				if math.Abs(c.got-c.want) > 1e-12 {
					t.Errorf("summarize(%v).%s = %v, want %v", tc.in, c.field, c.got, c.want)
				}
			}
			if got.N != tc.want.N {
				t.Errorf("summarize(%v).N = %d, want %d", tc.in, got.N, tc.want.N)
			}
		})
	}
}
