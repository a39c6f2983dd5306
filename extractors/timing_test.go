package extractors

import (
	"math"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTiming(t *testing.T) {
	cfg := flows.DefaultConfig()
	wide := flows.DefaultConfig()
	wide.BurstThresholdMS = 600

	// Timestamps going backwards give negative IATs; they continue a burst.
	c, s := "10.0.0.1:1", "10.0.0.2:2"
	backwards := []flows.Packet{
		udpPktA(10, c, s, 40, 12),
		udpPktA(9.5, c, s, 40, 12),
		udpPktA(9.515625, s, c, 40, 12),
	}

	// handshakeFlowA's IATs: all 1/32, 1/32, 1/2, 1/64, 1, 1/64, 1/64;
	// fwd 1/16, 1/2, 33/32; bwd 35/64, 1, 1/32.
	cases := []struct {
		name string
		pkts []flows.Packet
		cfg  *flows.Config
		want []wantA
	}{
		{"handshake", handshakeFlowA(), &cfg, []wantA{
			{"iat_min", 0.015625}, {"iat_max", 1.0},
			{"iat_mean", 1.609375 / 7}, {"iat_std", 0.35510018527400494},
			// sorted: 1/64 1/64 1/64 1/32 1/32 1/2 1; median at index 3
			{"iat_median", 0.03125}, {"iat_sum", 1.609375},
			{"iat_p25", 0.015625},                // index 1.5
			{"iat_p75", 0.03125*0.5 + 0.5*0.5},   // index 4.5
			{"iat_p90", 0.5*(1-0.4) + 1.0*0.4},   // index 5.4
			{"iat_p99", 0.5*(1-0.94) + 1.0*0.94}, // index 5.94
			{"iat_fwd_min", 0.0625}, {"iat_fwd_max", 1.03125},
			{"iat_fwd_mean", 0.53125}, {"iat_fwd_std", 0.39610736128815716}, {"iat_fwd_median", 0.5},
			{"iat_bwd_min", 0.03125}, {"iat_bwd_max", 1.0},
			{"iat_bwd_mean", 1.578125 / 3}, {"iat_bwd_std", 0.3957647966981848}, {"iat_bwd_median", 0.546875},
			{"burstiness_index", 0.35510018527400494 / (1.609375 / 7)},
			{"burstiness_index_fwd", 0.39610736128815716 / 0.53125},
			{"burstiness_index_bwd", 0.3957647966981848 / (1.578125 / 3)},
			// gaps of 1/2 and 1 s split 3 bursts: packets 1-3, 4-5, 6-8
			{"burst_count", 3}, {"avg_burst_packets", 8.0 / 3},
			{"avg_burst_duration", (0.0625 + 0.015625 + 0.03125) / 3},
			{"max_burst_packets", 3},
			{"idle_count", 2}, {"avg_idle_duration", 0.75}, {"max_idle_duration", 1.0},
			{"first_response_time", 0.03125},
		}},
		{"threshold from config", handshakeFlowA(), &wide, []wantA{
			// only the 1 s gap splits: packets 1-5 and 6-8
			{"burst_count", 2}, {"avg_burst_packets", 4.0},
			{"avg_burst_duration", (0.578125 + 0.03125) / 2},
			{"max_burst_packets", 5},
			{"idle_count", 1}, {"avg_idle_duration", 1.0}, {"max_idle_duration", 1.0},
		}},
		{"one packet", v6UDPFlowA(), &cfg, []wantA{
			{"iat_min", 0.0}, {"iat_max", 0.0}, {"iat_mean", 0.0}, {"iat_std", 0.0},
			{"iat_sum", 0.0}, {"iat_p99", 0.0}, {"iat_fwd_mean", 0.0}, {"iat_bwd_mean", 0.0},
			{"burstiness_index", 0.0},
			{"burst_count", 0}, {"avg_burst_packets", 0.0}, {"max_burst_packets", 0},
			{"idle_count", 0}, {"max_idle_duration", 0.0},
			{"first_response_time", 0.0},
		}},
		{"backwards timestamps", backwards, &cfg, []wantA{
			// IATs -1/2 and 1/64
			{"iat_min", -0.5}, {"iat_max", 0.015625}, {"iat_mean", -0.2421875}, {"iat_sum", -0.484375},
			{"iat_std", 0.2578125}, {"iat_median", -0.2421875},
			{"iat_fwd_min", -0.5}, {"iat_fwd_mean", -0.5}, {"iat_fwd_std", 0.0},
			{"iat_bwd_mean", 0.0},
			{"burstiness_index", 0.2578125 / -0.2421875}, {"burstiness_index_fwd", 0.0},
			{"burst_count", 1}, {"avg_burst_packets", 3.0}, {"avg_burst_duration", -0.484375},
			{"max_burst_packets", 3}, {"idle_count", 0},
			{"first_response_time", -0.484375},
		}},
		{"empty", nil, nil, []wantA{
			{"iat_mean", 0.0}, {"burst_count", 0}, {"first_response_time", 0.0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "timing", buildFlowA(tc.pkts), tc.cfg), tc.want)
		})
	}
}

// TestBurstsPrefixSums checks that a burst's duration is a difference of
// prefix sums, not a fresh sum of its own IATs: with 0.1 + 0.2 before the
// burst, the two differ in the last bit.
func TestBurstsPrefixSums(t *testing.T) {
	iats := []float64{0.1, 0.2, 1, 0.01, 0.02}
	got := burstsOf(iats, 0.5)
	p := []float64{0}
	for _, g := range iats {
		p = append(p, p[len(p)-1]+g)
	}
	want := ((p[2] - p[0]) + (p[5] - p[3])) / 2
	fresh := ((0.1 + 0.2) + (0.01 + 0.02)) / 2
	if want == fresh {
		t.Fatalf("test data does not separate the two summation orders")
	}
	if got.avgDuration != want {
		t.Errorf("burstsOf(%v).avgDuration = %v, want %v (prefix sums)", iats, got.avgDuration, want)
	}
	if got.count != 2 || got.maxPackets != 3 || got.idleCount != 1 || got.maxIdle != 1 {
		t.Errorf("burstsOf(%v) = %+v", iats, got)
	}
	if math.Abs(got.avgPackets-3) > 0 {
		t.Errorf("burstsOf(%v).avgPackets = %v, want 3", iats, got.avgPackets)
	}
}
