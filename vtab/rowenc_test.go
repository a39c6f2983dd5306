package vtab

import (
	"math"
	"testing"

	"github.com/jjsql/jjsql/schema"
)

// TestRowEncoding packs a row of every kind of cell (appendCell, as
// flowScan.compute does) and reads every cell back (rowView).
func TestRowEncoding(t *testing.T) {
	typ := []schema.Type{schema.Int, schema.Int, schema.Int, schema.Bool, schema.Real, schema.Real, schema.Real,
		schema.Real, schema.Real, schema.Text, schema.Text, schema.Blob, schema.Int}
	vals := []schema.Value{schema.IntV(0), schema.IntV(-7), schema.IntV(math.MinInt64), schema.BoolV(true),
		schema.RealV(0), schema.RealV(1.5), schema.RealV(math.Copysign(0, -1)), schema.RealV(math.Inf(-1)),
		schema.RealV(0.1234567890123), schema.TextV(""), schema.TextV("ja3 \x00 text"), schema.BlobV([]byte{0, 1, 2, 255}),
		schema.IntV(math.MaxInt64)}
	var r scanRow
	for i, v := range vals {
		r.enc = appendCell(r.enc, v, typ[i])
	}
	if len(r.enc) > 60 {
		t.Errorf("encoded row takes %d bytes, want at most 60", len(r.enc))
	}
	var view rowView
	view.decode(&r, typ)
	for i, want := range vals {
		got := view.value(i, typ[i])
		if got.Kind != want.Kind || got.I != want.I || got.S != want.S || string(got.B) != string(want.B) ||
			math.Float64bits(got.F) != math.Float64bits(want.F) {
			t.Errorf("cell %d: got %+v, want %+v", i, got, want)
		}
	}
	// A NULL cell (a failed group) reads back as NULL.
	r.nulls = []uint64{1 << 3}
	view.decode(&r, typ)
	if v := view.value(3, typ[3]); v.Kind != schema.Null {
		t.Errorf("cell 3 with its null bit: %+v, want NULL", v)
	}
}
