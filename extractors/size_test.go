package extractors

import (
	"sort"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestSize(t *testing.T) {
	cfg := flows.DefaultConfig()
	c, s := "10.0.0.1:1", "10.0.0.2:2"
	// 60 and 52 occur twice each; 60 is seen first and wins the tie.
	tie := []flows.Packet{
		udpPktA(1, c, s, 60, 32),
		udpPktA(2, s, c, 52, 24),
		udpPktA(3, s, c, 52, 24),
		udpPktA(4, c, s, 60, 32),
		udpPktA(5, c, s, 100, 72),
	}

	// handshakeFlowA: IP lengths 60 60 52 152 52 552 52 52 (fwd 60 52 152
	// 52, bwd 60 52 552 52); payloads 0 0 0 100 0 500 0 0.
	cases := []struct {
		name string
		pkts []flows.Packet
		want []wantA
	}{
		{"handshake", handshakeFlowA(), []wantA{
			{"pkt_len_min", 52.0}, {"pkt_len_max", 552.0}, {"pkt_len_mean", 129.0},
			{"pkt_len_std", 163.05520537535745},
			// sorted: 52 52 52 52 60 60 152 552
			{"pkt_len_median", 56.0},               // index 3.5
			{"pkt_len_p25", 52.0},                  // index 1.75
			{"pkt_len_p75", 60*0.75 + 152*0.25},    // index 5.25
			{"pkt_len_p90", 152*(1-0.3) + 552*0.3}, // index 6.3
			{"pkt_len_fwd_min", 52.0}, {"pkt_len_fwd_max", 152.0}, {"pkt_len_fwd_mean", 79.0},
			{"pkt_len_fwd_std", 42.2729227756965}, {"pkt_len_fwd_median", 56.0},
			{"pkt_len_bwd_min", 52.0}, {"pkt_len_bwd_max", 552.0}, {"pkt_len_bwd_mean", 179.0},
			{"pkt_len_bwd_std", 215.37641467904513}, {"pkt_len_bwd_median", 56.0},
			{"payload_len_min", 0.0}, {"payload_len_max", 500.0}, {"payload_len_mean", 75.0},
			{"payload_len_std", 163.93596310755},
			{"payload_len_fwd_mean", 25.0}, {"payload_len_fwd_std", 43.30127018922193},
			{"payload_len_bwd_mean", 125.0}, {"payload_len_bwd_std", 216.50635094610965},
			{"packets_with_payload", 2}, {"packets_with_payload_fwd", 1}, {"packets_with_payload_bwd", 1},
			{"header_only_ratio", 0.75},
			{"pkt_len_variance", 163.05520537535745 * 163.05520537535745},
			{"dominant_pkt_size", 52}, {"dominant_pkt_ratio", 0.5},
			{"l7_bytes_fwd", 100}, {"l7_bytes_bwd", 500}, {"l7_bytes_total", 600},
			{"l7_pkt_min_fwd", 100}, {"l7_pkt_max_fwd", 100},
			{"l7_pkt_min_bwd", 500}, {"l7_pkt_max_bwd", 500},
			{"pkt_asymmetry", 0.0}, {"byte_asymmetry", (316.0 - 716) / 1032},
		}},
		{"dominant tie", tie, []wantA{
			{"dominant_pkt_size", 60}, {"dominant_pkt_ratio", 0.4},
			{"l7_pkt_min_fwd", 32}, {"l7_pkt_max_fwd", 72},
			{"l7_pkt_min_bwd", 24}, {"l7_pkt_max_bwd", 24},
			{"packets_with_payload", 5}, {"header_only_ratio", 0.0},
			{"payload_len_min", 24.0}, {"payload_len_max", 72.0}, {"payload_len_mean", 36.8},
			{"pkt_asymmetry", 0.2}, {"byte_asymmetry", (220.0 - 104) / 324},
			{"pkt_len_p90", 60*(1-0.6) + 100*0.6}, // index 3.6 of 52 52 60 60 100
		}},
		{"one packet", v6UDPFlowA(), []wantA{
			{"pkt_len_min", 140.0}, {"pkt_len_std", 0.0}, {"pkt_len_p90", 140.0},
			{"pkt_len_fwd_mean", 140.0}, {"pkt_len_bwd_min", 0.0}, {"pkt_len_bwd_median", 0.0},
			{"payload_len_bwd_mean", 0.0}, {"payload_len_bwd_std", 0.0},
			{"pkt_len_variance", 0.0},
			{"dominant_pkt_size", 140}, {"dominant_pkt_ratio", 1.0},
			{"l7_pkt_min_bwd", 0}, {"l7_pkt_max_bwd", 0},
			{"pkt_asymmetry", 1.0}, {"byte_asymmetry", 1.0},
		}},
		{"empty", nil, []wantA{
			{"pkt_len_min", 0.0}, {"pkt_len_mean", 0.0}, {"payload_len_std", 0.0},
			{"header_only_ratio", 0.0}, {"dominant_pkt_size", 0}, {"dominant_pkt_ratio", 0.0},
			{"pkt_asymmetry", 0.0}, {"byte_asymmetry", 0.0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "size", buildFlowA(tc.pkts), &cfg), tc.want)
		})
	}
}

func TestMostCommon(t *testing.T) {
	cases := []struct {
		in    []float64
		want  float64
		count int
	}{
		{nil, 0, 0},
		{[]float64{7}, 7, 1},
		{[]float64{3, 1, 2}, 3, 1},
		{[]float64{1, 2, 2, 1}, 1, 2},
		{[]float64{2, 1, 2, 1}, 2, 2},
		{[]float64{5, 9, 9, 4, 4, 4}, 4, 3},
		{[]float64{9, 5, 4, 5, 4}, 5, 2},
	}
	for _, tc := range cases {
		sorted := append([]float64(nil), tc.in...)
		sort.Float64s(sorted)
		got, n := mostCommon(tc.in, sorted)
		if got != tc.want || n != tc.count {
			t.Errorf("mostCommon(%v) = %v, %d, want %v, %d", tc.in, got, n, tc.want, tc.count)
		}
	}
}
