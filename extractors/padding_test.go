package extractors

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// TestNpSum checks numpy's pairwise summation order on values where it
// differs from a left-to-right sum: 2^53 + 1 rounds back to 2^53, so a
// sequential sum of 2^53 and ones stays at 2^53.
func TestNpSum(t *testing.T) {
	const big = 1 << 53
	withOnes := func(n int) []float64 {
		v := []float64{big}
		for len(v) < n {
			v = append(v, 1)
		}
		return v
	}
	tests := []struct {
		name string
		v    []float64
		want float64
	}{
		{"empty", nil, 0},
		{"under 8 values: left to right", withOnes(7), big},
		// r0..r7 = v0..v7, ((2^53+1)+(1+1)) + ((1+1)+(1+1)) = 2^53+6, then
		// + v8 = 2^53+7, a tie rounded to the even 2^53+8.
		{"9 values: eight accumulators, then the rest", withOnes(9), big + 8},
		// 136 > 128: halves of 64 and 72. First half: r0 stays 2^53 (seven
		// +1 each rounded away), r1..r7 = 8 each, 2^53+56; second half 72.
		{"136 values: split in two", withOnes(136), big + 128},
		{"small integers are exact", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 55},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := npSum(tc.v); got != tc.want {
				t.Errorf("npSum = %v, want %v", got, tc.want)
			}
		})
	}
}

// padFlow builds a flow of TCP packets (ts in 1/64 s, from the initiator
// when fwd) with IP total length ipLen and payload ipLen-40.
func padFlow(pkts ...[3]float64) *flows.Flow {
	c, s := "10.0.0.1:40000", "10.0.0.2:9001"
	var ps []flows.Packet
	for _, p := range pkts {
		src, dst := c, s
		if p[1] == 0 {
			src, dst = s, c
		}
		l := int(p[2])
		ps = append(ps, tcpPktA(p[0]/64, src, dst, l, max(l-40, 0), ackA))
	}
	return buildFlowA(ps)
}

func TestPadding(t *testing.T) {
	cfg := flows.DefaultConfig()
	// Ten 586-byte packets (Tor cells), 1/64 s apart.
	var tor [][3]float64
	for i := range 10 {
		tor = append(tor, [3]float64{float64(i), float64(1 - i%2), 586})
	}
	tests := []struct {
		name string
		f    *flows.Flow
		want []wantA
	}{
		// Sizes 586 586 586 40 (mean 449.5, squared deviations 3*136.5^2 +
		// 409.5^2 = 223587); times 0, 1, 2, 10 /64 s: IATs 1, 1, 8 /64
		// (mean 10/3, variance 98/9 in 1/64 s units); bursts split at the
		// 8/64 s gap: {586 586 586} and {40}.
		{"mixed", padFlow([3]float64{0, 1, 586}, [3]float64{1, 0, 586}, [3]float64{2, 1, 586}, [3]float64{10, 0, 40}), []wantA{
			{"pkt_size_variance", 55896.75}, {"pkt_size_cv", math.Sqrt(55896.75) / 449.5},
			{"is_constant_size", false}, {"dominant_size_mode", 586}, {"dominant_size_ratio", 0.75}, {"unique_size_count", 2},
			{"size_entropy", 0.8112781244591328}, // -(0.75 log2 0.75 + 0.25 log2 0.25) / log2 2
			{"iat_variance", 98.0 / 9 / 4096}, {"iat_cv", math.Sqrt(98) / 10}, {"is_constant_rate", false},
			{"tor_cell_count", 3}, {"tor_cell_ratio", 0.75}, {"is_tor_like", false}, // CV 0.53
			{"burst_padding_ratio", 160.0 / 1798}, {"burst_overhead_bytes", 160},
			{"avg_burst_payload_efficiency", (1638.0/1758 + 0) / 2},
			{"padding_score", 0.0},
		}},
		{"tor cells", padFlow(tor...), []wantA{
			{"pkt_size_variance", 0.0}, {"pkt_size_cv", 0.0}, {"is_constant_size", true}, {"dominant_size_mode", 586},
			{"dominant_size_ratio", 1.0}, {"unique_size_count", 1}, {"size_entropy", 0.0},
			{"iat_variance", 0.0}, {"iat_cv", 0.0}, {"is_constant_rate", true},
			{"tor_cell_count", 10}, {"tor_cell_ratio", 1.0}, {"is_tor_like", true},
			{"burst_padding_ratio", 400.0 / 5860}, {"burst_overhead_bytes", 400}, {"avg_burst_payload_efficiency", 5460.0 / 5860},
			{"padding_score", 1.0}, // 0.3 + 0.2 + 0.2 + 0.3
		}},
		// One packet: sizes count as uniform, there are no IATs and no bursts.
		{"one packet", padFlow([3]float64{0, 1, 590}), []wantA{
			{"pkt_size_variance", 0.0}, {"is_constant_size", true}, {"dominant_size_mode", 590}, {"size_entropy", 0.0},
			{"iat_variance", 0.0}, {"iat_cv", 0.0}, {"is_constant_rate", false},
			{"tor_cell_count", 1}, {"is_tor_like", true},
			{"burst_padding_ratio", 0.0}, {"burst_overhead_bytes", 0}, {"avg_burst_payload_efficiency", 1.0},
			{"padding_score", 0.8}, // 0.3 + 0.2 + 0.3
		}},
		// Equal timestamps: the IAT mean is 0, so the CV is 0 and the rate
		// constant. 200 and 100 tie; 200 is seen first.
		{"same time, size tie", padFlow([3]float64{0, 1, 200}, [3]float64{0, 0, 100}, [3]float64{0, 1, 100}, [3]float64{0, 0, 200}), []wantA{
			{"pkt_size_variance", 2500.0}, {"pkt_size_cv", 50.0 / 150}, {"dominant_size_mode", 200}, {"dominant_size_ratio", 0.5},
			{"unique_size_count", 2}, {"size_entropy", 1.0},
			{"iat_variance", 0.0}, {"iat_cv", 0.0}, {"is_constant_rate", true},
			{"burst_overhead_bytes", 160}, {"avg_burst_payload_efficiency", 440.0 / 600},
			{"padding_score", 0.2},
		}},
		{"no packets", &flows.Flow{}, []wantA{
			{"pkt_size_variance", 0.0}, {"pkt_size_cv", 0.0}, {"is_constant_size", false}, {"dominant_size_mode", 0},
			{"dominant_size_ratio", 0.0}, {"unique_size_count", 0}, {"size_entropy", 0.0},
			{"is_constant_rate", false}, {"tor_cell_count", 0}, {"tor_cell_ratio", 0.0}, {"is_tor_like", false},
			{"burst_overhead_bytes", 0}, {"avg_burst_payload_efficiency", 1.0}, {"padding_score", 0.0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "padding", tc.f, &cfg), tc.want)
		})
	}
}

// TestPaddingBurstGapFixed: the padding bursts split at 50 ms whatever
// burst_threshold_ms says (that option sets the timing group only).
func TestPaddingBurstGapFixed(t *testing.T) {
	// Gaps of 3/64 s (47 ms) and 4/64 s (62.5 ms): two bursts.
	f := padFlow([3]float64{0, 1, 100}, [3]float64{3, 0, 100}, [3]float64{7, 1, 60})
	for _, ms := range []float64{10, 50, 1000} {
		cfg := flows.DefaultConfig()
		cfg.BurstThresholdMS = ms
		checkValuesA(t, computeA(t, "padding", f, &cfg), []wantA{
			{"avg_burst_payload_efficiency", (120.0/200 + 20.0/60) / 2},
		})
	}
}

// refRow returns JoyfulJay's reference row of capture (relative to the
// corpus) for the flow with the given ports, as a map from column to text.
func refRow(t *testing.T, capture string, proto uint8, initPort, respPort uint16) map[string]string {
	t.Helper()
	corpus := corpusDir(t)
	name := filepath.Join(corpus, "..", "reference", "joyfuljay", filepath.FromSlash(capture)+".csv")
	tab, err := readRefTable(name, ',')
	if err != nil {
		skipOrFail(t, "reference rows: %v", err)
	}
	for _, r := range tab.rows {
		row := map[string]string{}
		for i, h := range tab.head {
			row[h] = r[i]
		}
		if row["protocol"] == strconv.Itoa(int(proto)) && row["src_port"] == strconv.Itoa(int(initPort)) &&
			row["dst_port"] == strconv.Itoa(int(respPort)) {
			return row
		}
	}
	t.Fatalf("%s: no reference row for %d %d -> %d", capture, proto, initPort, respPort)
	return nil
}

// checkRefGroup compares every column of group id computed on f with
// JoyfulJay's row, except the columns of corrected.tsv. exact asks for
// floats equal to the last bit.
func checkRefGroup(t *testing.T, id string, f *flows.Flow, row map[string]string, exact bool) {
	t.Helper()
	_, _, corrected := refDirs(t)
	cfg := conformanceConfig()
	for col, v := range computeA(t, id, f, &cfg) {
		if corrected[col] {
			continue
		}
		equal, bitExact := refCell(col, v, row[col])
		if !equal || (exact && !bitExact) {
			t.Errorf("%s = %v, JoyfulJay %s", col, v.Any(), row[col])
		}
	}
}

// corpusFlow returns the flow of capture with the given protocol and ports,
// assembled as the reference run was, keeping what the groups need.
func corpusFlow(t *testing.T, capture string, proto uint8, initPort, respPort uint16, groups ...string) *flows.Flow {
	t.Helper()
	for _, f := range captureFlows(t, corpusPath(t, capture), conformanceConfig(), PlanGroups(groups...).Needs) {
		if f.Proto == proto && f.InitPort == initPort && f.RespPort == respPort {
			return f
		}
	}
	t.Fatalf("%s: no flow %d %d -> %d", capture, proto, initPort, respPort)
	return nil
}

// TestPaddingCorpus pins the padding group on real DoH, OpenVPN and
// WireGuard flows. Size and IAT variances follow numpy's pairwise sums:
// they equal JoyfulJay's to the last bit (a left-to-right sum differs on
// these flows). The burst overhead columns count the declared payload
// (corrected.tsv): on flows whose frames carry Ethernet padding they are
// below JoyfulJay's, which counts the padding as payload.
func TestPaddingCorpus(t *testing.T) {
	tests := []struct {
		capture            string
		proto              uint8
		initPort, respPort uint16
		want               []wantA
	}{
		{"ndpi/pcap/no_sni.pcap", 6, 51606, 443, []wantA{ // DoH to mozilla.cloudflare-dns.com, 268 packets
			{"pkt_size_variance", 8727.808364891958}, {"iat_variance", 0.005677310584369453},
			{"iat_cv", 4.9830620969890935}, {"dominant_size_mode", 40}, {"unique_size_count", 50},
			{"burst_overhead_bytes", 10840}, // JoyfulJay 10612: 228 padding bytes counted as payload
			{"burst_padding_ratio", 0.38850261629990684}, {"padding_score", 0.0},
		}},
		{"ndpi/pcap/doh.pcapng", 6, 35996, 443, []wantA{ // DoH to 1.1.1.1
			{"pkt_size_variance", 37479.83083333333}, {"pkt_size_cv", 1.8534905097348957},
			{"iat_variance", 13.658394566421968}, {"dominant_size_ratio", 0.525},
			{"burst_overhead_bytes", 4832}, // JoyfulJay 4454
		}},
		{"ndpi/pcap/openvpn.pcap", 17, 51146, 1194, []wantA{
			{"pkt_size_variance", 48485.05560000004}, {"iat_variance", 0.34858242586980204},
			{"dominant_size_mode", 50}, {"dominant_size_ratio", 0.46}, {"unique_size_count", 16},
			{"burst_overhead_bytes", 2800}, // JoyfulJay 2796: a padded frame
		}},
		{"ndpi/pcap/wireguard.pcap", 17, 43462, 51820, []wantA{ // no padded frame: equal to JoyfulJay's row
			{"pkt_size_variance", 80219.14049586779}, {"iat_variance", 739.4448204141422}, {"iat_cv", 4.0708529668169104},
			{"burst_padding_ratio", 0.1388638412984671}, {"burst_overhead_bytes", 616},
			{"avg_burst_payload_efficiency", 0.7829173933508299},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			f := corpusFlow(t, tc.capture, tc.proto, tc.initPort, tc.respPort, "padding")
			cfg := conformanceConfig()
			got := computeA(t, "padding", f, &cfg)
			checkValuesA(t, got, tc.want)
			for _, w := range tc.want {
				if x, ok := w.val.(float64); ok && got[w.col].F != x {
					t.Errorf("%s = %v, want %v to the last bit", w.col, got[w.col].F, x)
				}
			}
			checkRefGroup(t, "padding", f, refRow(t, tc.capture, tc.proto, tc.initPort, tc.respPort), false)
		})
	}
}

// TestPaddingSequentialSumDiffers shows that the corpus values above need
// numpy's order: summed left to right (stats.go), the variance of the
// no_sni.pcap DoH flow's sizes misses JoyfulJay's by some bits.
func TestPaddingSequentialSumDiffers(t *testing.T) {
	f := corpusFlow(t, "ndpi/pcap/no_sni.pcap", 6, 51606, 443, "padding")
	var v []float64
	for i := range f.Base {
		v = append(v, float64(f.Base[i].IPLen))
	}
	m := mean(v)
	if s := popStd(v, m); s*s == 8727.808364891958 {
		t.Errorf("the sequential variance equals numpy's: the corpus check does not tell the orders apart")
	}
	var sq []float64
	if _, got := npMeanVar(v, &sq); got != 8727.808364891958 {
		t.Errorf("npMeanVar = %v, want JoyfulJay's 8727.808364891958", got)
	}
}
