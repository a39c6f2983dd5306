//go:build !race

// The race detector makes sync.Pool drop items at random, so this test only
// runs without it.

package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// TestTCPGroupsAllocs checks that the TCP groups without text columns reuse
// their scratch state: computing a flow allocates nothing once warm.
func TestTCPGroupsAllocs(t *testing.T) {
	var pkts []bPkt
	for i := range 200 {
		pkts = append(pkts,
			bPkt{ts: float64(i), fwd: true, flags: bPSHACK, seq: uint32(i * 10), payload: 10, win: uint16(i),
				opt: flows.OptTS, tsval: uint32(i + 1), tsecr: uint32(i)},
			bPkt{ts: float64(i) + 0.5, flags: bACK, ack: uint32(i*10 + 10), win: 7,
				opt: flows.OptTS, tsval: uint32(i), tsecr: uint32(i + 1)})
	}
	f := bFlow(pkts...)
	cfg := flows.DefaultConfig()
	for _, id := range []string{"tcp_sequence", "tcp_window", "tcp_options", "tcp_mptcp", "tcp_rtt"} {
		t.Run(id, func(t *testing.T) {
			g := Lookup(id)
			out := make([]schema.Value, len(g.Features))
			allocs := testing.AllocsPerRun(50, func() {
				if err := g.Compute(f, &cfg, out); err != nil {
					t.Fatal(err)
				}
			})
			// A garbage collection may empty the scratch pool once in a while.
			if allocs >= 1 {
				t.Errorf("%s: %v allocations per flow, want 0", id, allocs)
			}
		})
	}
}
