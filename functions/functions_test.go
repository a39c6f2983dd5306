package functions

import (
	"math"
	"testing"

	"github.com/jjsql/jjsql/schema"
)

func TestEntropy(t *testing.T) {
	uniform := make([]byte, 256)
	for i := range uniform {
		uniform[i] = byte(i)
	}
	for _, tc := range []struct {
		name string
		in   schema.Value
		want schema.Value
	}{
		{"null", schema.NullV(), schema.NullV()},
		{"empty", schema.BlobV(nil), schema.RealV(0)},
		{"constant", schema.BlobV([]byte("aaaa")), schema.RealV(0)},
		{"two symbols", schema.TextV("abab"), schema.RealV(1)},
		{"uniform", schema.BlobV(uniform), schema.RealV(8)},
		{"integer is not bytes", schema.IntV(5), schema.NullV()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := entropyFunc(tc.in)
			if got.Kind != tc.want.Kind || math.Abs(got.F-tc.want.F) > 1e-12 {
				t.Errorf("entropy(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
