//go:build !race

// The race detector makes sync.Pool drop items at random, so these tests
// only run without it.

package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// TestPaddingAllocs: warm padding, fingerprint and entropy computations
// allocate nothing.
func TestPaddingAllocs(t *testing.T) {
	var pkts [][3]float64
	for i := range 300 {
		pkts = append(pkts, [3]float64{float64(i), float64(i % 2), float64(40 + i%7*100)})
	}
	f := padFlow(pkts...)
	cfg := flows.DefaultConfig()
	for _, id := range []string{"padding", "fingerprint", "entropy"} {
		if allocs := computeAllocs(t, id, f, &cfg); allocs >= 1 {
			t.Errorf("%s: %v allocations per flow, want 0", id, allocs)
		}
	}
}

// computeAllocs returns the allocations of one computation of group id on
// f, warm.
func computeAllocs(t *testing.T, id string, f *flows.Flow, cfg *flows.Config) float64 {
	t.Helper()
	g := Lookup(id)
	out := make([]schema.Value, len(g.Features))
	return testing.AllocsPerRun(50, func() {
		if err := g.Compute(f, cfg, out); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSampleAllocs: once warm, assembling flows that keep a payload sample
// allocates nothing: recycled flows keep their sample buffers.
func TestSampleAllocs(t *testing.T) {
	cfg := flows.DefaultConfig()
	a := flows.NewAssembler(cfg, flows.NeedBase|flows.NeedSample)
	data := make([]byte, 200)
	p := payloadPkt(0, "10.0.0.1:1000", "10.0.0.2:80", false, data, 0)
	q := payloadPkt(0, "10.0.0.2:80", "10.0.0.1:1000", false, data, 0)
	ts := 0.0
	step := func() {
		// Each step starts a flow; its first packet ends the previous one
		// (idle timeout), which goes back to the assembler.
		ts += 100
		for i := range 3 {
			p.TS, q.TS = ts+float64(i), ts+float64(i)+0.5
			a.Add(&p)
			a.Add(&q)
		}
		for f := a.Pop(); f != nil; f = a.Pop() {
			if len(f.Sample[0]) != 256 || len(f.Sample[1]) != 256 {
				t.Fatalf("sample %d / %d bytes, want 256 / 256", len(f.Sample[0]), len(f.Sample[1]))
			}
			a.Release(f)
		}
	}
	for range 3 {
		step()
	}
	if allocs := testing.AllocsPerRun(100, step); allocs != 0 {
		t.Errorf("%v allocations per flow, want 0", allocs)
	}
}
