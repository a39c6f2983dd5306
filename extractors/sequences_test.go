package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// TestSequences pins the JSON arrays of the sequences group on a flow of
// four packets, cut to three by max_sequence_length.
func TestSequences(t *testing.T) {
	f := &flows.Flow{Packets: 4, Base: []flows.PktBase{
		{TS: 1700000000.5, IPLen: 60, Payload: 0, Fwd: true},
		{TS: 1700000000.520001, IPLen: 1500, Payload: 1448},
		{TS: 1700000001.5, IPLen: 52, Payload: 0, Fwd: true},
		{TS: 1700000002, IPLen: 40, Fwd: true},
	}}
	cfg := flows.DefaultConfig()
	cfg.MaxSequenceLength = 3
	got := computeA(t, "sequences", f, &cfg)
	for col, want := range map[string]string{
		"iat_sequence":       "[0,0.020001,0.979999]",
		"timestamp_sequence": "[1700000000.5,1700000000.520001,1700000001.5]",
		"pkt_len_sequence":   "[60,1500,52]",
		"direction_sequence": "[1,-1,1]",
		"splt_lengths":       "[0,-1448,0]",
		"splt_times":         "[0,20.001,979.999]",
	} {
		if got[col].S != want {
			t.Errorf("%s = %s, want %s", col, got[col].S, want)
		}
	}
	empty := computeA(t, "sequences", &flows.Flow{}, &cfg)
	if s := empty["pkt_len_sequence"].S; s != "[]" {
		t.Errorf("no packets: pkt_len_sequence = %s, want []", s)
	}
}
