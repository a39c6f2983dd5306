package schema

import (
	"bufio"
	"encoding/csv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sharedDir returns ../shared/<rel> (or $JJ_CORPUS/../<rel>), skipping the
// test when it is missing and failing it under CI=true.
func sharedDir(t *testing.T, rel string) string {
	t.Helper()
	base := filepath.Join("..", "..", "shared")
	if c := os.Getenv("JJ_CORPUS"); c != "" {
		base = filepath.Join(c, "..")
	}
	p := filepath.Join(base, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing under CI=true: %v", p, err)
		}
		t.Skipf("%s missing: %v", p, err)
	}
	return p
}

func TestDefaultKinds(t *testing.T) {
	for _, f := range Catalog {
		if f.Default.Kind != f.Type {
			t.Errorf("%s: default %v of kind %v, column type %v", f.Name, f.Default, f.Default.Kind, f.Type)
		}
	}
	// Values where the declared policy is wrong or special.
	tests := []struct {
		name string
		want Value
	}{
		{"iat_min", RealV(0)},     // declared nan, emitted 0.0
		{"pkt_len_std", RealV(0)}, // declared nan, emitted 0.0
		{"avg_burst_payload_efficiency", RealV(1)},
		{"ip_version", IntV(4)},
		{"traffic_type", TextV("encrypted")},
		{"dns_response_code", IntV(-1)},
		{"icmp_dominant_type", IntV(-1)},
		{"conn_src_community", IntV(-1)},
		{"conn_dst_community", IntV(-1)},
		{"tcp_os_hint_fwd", TextV("unknown")},
		{"tcp_os_hint_bwd", TextV("unknown")},
		{"tls_sni", TextV("")},
		{"tcp_is_tcp", BoolV(false)},
		{"total_packets", IntV(0)},
		{"entropy_ratio", RealV(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := Lookup(tc.name)
			if !ok {
				t.Fatalf("%s not in the catalogue", tc.name)
			}
			if !f.Default.Equal(tc.want) {
				t.Errorf("default %v (%v), want %v (%v)", f.Default, f.Default.Kind, tc.want, tc.want.Kind)
			}
		})
	}
}

func TestDefaultValueFallback(t *testing.T) {
	tests := []struct {
		f    Feature
		want Value
	}{
		{Feature{Type: Text}, TextV("")},
		{Feature{Type: Int}, IntV(0)},
		{Feature{Type: Real}, RealV(0)},
		{Feature{Type: Bool}, BoolV(false)},
		{Feature{Type: Int, Default: IntV(-1)}, IntV(-1)},
		{Feature{Type: Null}, NullV()},
	}
	for _, tc := range tests {
		t.Run(tc.f.Type.String(), func(t *testing.T) {
			if got := tc.f.DefaultValue(); !got.Equal(tc.want) {
				t.Errorf("got %v (%v), want %v (%v)", got, got.Kind, tc.want, tc.want.Kind)
			}
		})
	}
}

func TestParseProfile(t *testing.T) {
	tests := []struct {
		in   string
		want Profile
		err  bool
	}{
		{"core", Core, false},
		{"JJ-CORE", Core, false},
		{"Extended", Extended, false},
		{"jj-experimental", Experimental, false},
		{"all", NoProfile, false},
		{"", NoProfile, false},
		{"basic", NoProfile, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseProfile(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseProfile(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

// readTSV reads a tab-separated file, with a header row when header is
// set (lines starting with # are skipped).
func readTSV(t *testing.T, path string, header bool) (head []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header && head == nil {
			head = strings.Split(line, "\t")
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return head, rows
}

// TestCatalogMatchesSpec checks the generated catalogue against the
// feature list it was generated from: names, groups, order, types,
// profiles, and defaults (the declared policy, with nan read as 0.0, unless
// defaults.tsv overrides it). It fails when features_gen.go is stale.
func TestCatalogMatchesSpec(t *testing.T) {
	head, rows := readTSV(t, sharedDir(t, "spec/features.tsv"), true)
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("features.tsv: no %s column", name)
		}
		return i
	}
	cName, cGroup, cType, cProfile, cPolicy := col("column_name"), col("group"), col("dtype"), col("profile"), col("declared_missing_policy")
	if len(rows) != 401 || len(Catalog) != len(rows) {
		t.Fatalf("features.tsv has %d features, the catalogue %d (want 401 each)", len(rows), len(Catalog))
	}
	_, overrideRows := readTSV(t, "defaults.tsv", false)
	overrides := map[string]string{}
	for _, r := range overrideRows {
		overrides[r[0]] = r[1]
	}
	if len(overrides) == 0 {
		t.Fatal("defaults.tsv is empty")
	}
	for i, r := range rows {
		f := Catalog[i]
		if f.Name != r[cName] || f.Group != r[cGroup] || f.Type.String() != r[cType] || f.Profile.String() != r[cProfile] {
			t.Errorf("catalogue %d = %s/%s/%v/%v, features.tsv %s/%s/%s/%s", i, f.Group, f.Name, f.Type, f.Profile,
				r[cGroup], r[cName], r[cType], r[cProfile])
			continue
		}
		want := r[cPolicy]
		switch {
		case overrides[f.Name] != "":
			want = overrides[f.Name]
		case want == "nan", want == "zero":
			want = "0"
		case want == "empty":
			want = ""
		case strings.HasPrefix(want, "sentinel("):
			want = strings.TrimSuffix(strings.TrimPrefix(want, "sentinel("), ")")
		}
		if !cellEqual(f.Default, want) {
			t.Errorf("%s: default %v, want %q (policy %s)", f.Name, f.Default, want, r[cPolicy])
		}
	}
}

// cellEqual reports whether a text cell (a reference CSV cell or a policy
// value) holds value v.
func cellEqual(v Value, cell string) bool {
	switch v.Kind {
	case Text:
		return v.S == cell
	case Bool:
		switch cell {
		case "True", "true", "1", "1.0":
			return v.I == 1
		case "False", "false", "0", "0.0":
			return v.I == 0
		}
	case Int:
		if n, err := strconv.ParseInt(cell, 10, 64); err == nil {
			return v.I == n
		}
		f, err := strconv.ParseFloat(cell, 64)
		return err == nil && f == float64(v.I)
	case Real:
		f, err := strconv.ParseFloat(cell, 64)
		return err == nil && (f == v.F || math.IsNaN(f) && math.IsNaN(v.F))
	}
	return false
}

// absentRule names columns and the reference flows on which their input is
// absent, so that JoyfulJay wrote the column's default there.
type absentRule struct {
	why  string
	cols []string
	when func(r refRow) bool
}

type refRow map[string]string

func (r refRow) num(t *testing.T, col string) float64 {
	f, err := strconv.ParseFloat(r[col], 64)
	if err != nil {
		t.Fatalf("reference column %s: %q is not a number", col, r[col])
	}
	return f
}

// protoIn is true when the flow's protocol (JoyfulJay's: the first IP
// next-header) is one of ps. Tunnelled and IPv6 extension-header flows have
// other protocol numbers and may carry TCP or ICMP inside, so the rules
// below name the protocols whose absence of a transport is certain.
func protoIn(r refRow, ps ...string) bool { return slices.Contains(ps, r["protocol"]) }

// groupCols returns the catalogue columns of a group, minus some.
func groupCols(g string, except ...string) []string {
	var out []string
	for _, f := range GroupFeatures(g) {
		if !slices.Contains(except, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

func withPrefix(g string, prefixes ...string) []string {
	var out []string
	for _, f := range GroupFeatures(g) {
		for _, p := range prefixes {
			if strings.HasPrefix(f.Name, p) {
				out = append(out, f.Name)
				break
			}
		}
	}
	return out
}

// alwaysPresent lists the columns that have an input on every flow (the
// flow key, packet counts and lengths, and the cross-flow graph, in which
// every flow is an edge), so the reference rows show no absent case.
var alwaysPresent = []string{
	"src_ip", "dst_ip", "src_port", "dst_port", "dst_port_class", "dst_port_class_num", "protocol",
	"start_time", "end_time", "duration", "total_packets", "packets_fwd", "packets_bwd", "total_bytes",
	"bytes_fwd", "payload_bytes_fwd", "payload_bytes_total", "packets_ratio", "bytes_ratio",
	"packets_per_second", "bytes_per_second", "avg_packet_size", "time_first", "time_last", "num_hdrs",
	"hdr_desc",
	"pkt_len_min", "pkt_len_max", "pkt_len_mean", "pkt_len_median", "pkt_len_p25", "pkt_len_p75",
	"pkt_len_p90", "pkt_len_fwd_min", "pkt_len_fwd_max", "pkt_len_fwd_mean", "pkt_len_fwd_median",
	"header_only_ratio", "dominant_pkt_size", "dominant_pkt_ratio", "pkt_asymmetry", "byte_asymmetry",
	"is_constant_size", "dominant_size_mode", "dominant_size_ratio", "unique_size_count", "padding_score",
	"tor_confidence",
	"ip_ttl_fwd_min", "ip_ttl_fwd_max", "ip_ttl_fwd_mean", "ip_ttl_fwd_initial_est", "ip_ttl_fwd_hops_est",
	"ip_version",
	"conn_src_unique_dsts", "conn_dst_unique_srcs", "conn_src_dst_flows", "conn_src_port_flows",
	"conn_src_total_flows", "conn_dst_total_flows", "conn_src_total_packets", "conn_src_total_bytes",
	"conn_dst_total_packets", "conn_dst_total_bytes", "conn_src_unique_ports", "conn_src_out_degree",
	"conn_dst_in_degree", "conn_src_betweenness", "conn_dst_betweenness", "conn_src_community",
	"conn_dst_community", "conn_same_community", "conn_src_clustering", "conn_dst_clustering",
}

func absentRules(t *testing.T) []absentRule {
	n := func(r refRow, col string) float64 { return r.num(t, col) }
	notTCP := func(r refRow) bool { return protoIn(r, "17", "1", "58") }
	rules := []absentRule{
		{"no responder packet", []string{"bytes_bwd", "payload_bytes_bwd", "first_response_time"},
			func(r refRow) bool { return n(r, "packets_bwd") == 0 }},
		{"not TCP", []string{"flow_stat"}, notTCP},
		{"fewer than 2 packets", []string{"iat_min", "iat_max", "iat_mean", "iat_std", "iat_median", "iat_sum",
			"iat_p25", "iat_p75", "iat_p90", "iat_p99", "burstiness_index", "burst_count", "avg_burst_packets",
			"avg_burst_duration", "max_burst_packets", "idle_count", "avg_idle_duration", "max_idle_duration",
			"pkt_len_std", "pkt_len_variance",
			"pkt_size_variance", "pkt_size_cv", "size_entropy", "iat_variance", "iat_cv", "is_constant_rate",
			"burst_padding_ratio", "burst_overhead_bytes", "avg_burst_payload_efficiency"},
			func(r refRow) bool { return n(r, "total_packets") < 2 }},
		{"fewer than 2 initiator packets", append(withPrefix("timing", "iat_fwd_"), "burstiness_index_fwd", "pkt_len_fwd_std", "ip_ttl_fwd_changes"),
			func(r refRow) bool { return n(r, "packets_fwd") < 2 }},
		{"fewer than 2 responder packets", append(withPrefix("timing", "iat_bwd_"), "burstiness_index_bwd"),
			func(r refRow) bool { return n(r, "packets_bwd") < 2 }},
		{"no responder packet", append(withPrefix("size", "pkt_len_bwd_", "payload_len_bwd_"),
			"packets_with_payload_bwd", "l7_bytes_bwd", "l7_pkt_min_bwd", "l7_pkt_max_bwd",
			"ip_ttl_bwd_min", "ip_ttl_bwd_max", "ip_ttl_bwd_mean", "ip_ttl_bwd_changes"),
			func(r refRow) bool { return n(r, "packets_bwd") == 0 }},
		{"no initiator payload", []string{"l7_pkt_min_fwd", "l7_pkt_max_fwd", "packets_with_payload_fwd", "l7_bytes_fwd",
			"payload_len_fwd_mean", "payload_len_fwd_std", "entropy_initiator"},
			func(r refRow) bool { return n(r, "payload_bytes_fwd") == 0 }},
		{"no responder payload", []string{"entropy_responder"},
			func(r refRow) bool { return n(r, "payload_bytes_bwd") == 0 }},
		{"no payload", append([]string{"packets_with_payload", "l7_bytes_total", "payload_len_min", "payload_len_max",
			"payload_len_mean", "payload_len_std"}, groupCols("entropy")...),
			func(r refRow) bool { return n(r, "payload_bytes_total") == 0 }},
		{"not TCP", slices.Concat(groupCols("tcp"), groupCols("tcp_sequence"), groupCols("tcp_window"),
			groupCols("tcp_options"), groupCols("tcp_mptcp"), groupCols("tcp_rtt"), groupCols("tcp_fingerprint")), notTCP},
		{"ICMP: neither TCP nor UDP", slices.Concat(groupCols("tls"), groupCols("http2"), groupCols("ssh")),
			func(r refRow) bool { return protoIn(r, "1", "58") }},
		{"not UDP", slices.Concat(groupCols("quic"), groupCols("dns")),
			func(r refRow) bool { return protoIn(r, "6", "1", "58") }},
		{"no packet of 580 bytes or more (no Tor cell)", []string{"tor_cell_count", "tor_cell_ratio", "is_tor_like", "likely_tor"},
			func(r refRow) bool { return n(r, "pkt_len_max") < 580 }},
		{"ICMP without large packets (no VPN rule)", []string{"likely_vpn", "vpn_confidence", "vpn_type"},
			func(r refRow) bool { return protoIn(r, "1", "58") && n(r, "pkt_len_max") < 1400 }},
		{"not TCP (DoH is TCP/443)", []string{"likely_doh", "doh_confidence"}, func(r refRow) bool { return !protoIn(r, "6") }},
		{"no heuristic fired", []string{"traffic_type"}, func(r refRow) bool {
			return !cellEqual(BoolV(true), r["likely_tor"]) && !cellEqual(BoolV(true), r["likely_vpn"]) && !cellEqual(BoolV(true), r["likely_doh"])
		}},
		{"no Ethernet header", groupCols("mac"), func(r refRow) bool { return !strings.HasPrefix(r["hdr_desc"], "ETH-") }},
		{"no IPv4 packet", []string{"ip_tos_value", "ip_tos_unique_count", "ip_dscp", "ip_ecn", "ip_flags", "ip_df_count",
			"ip_df_ratio", "ip_id_gaps"}, func(r refRow) bool { return n(r, "ipv4_packet_count") == 0 }},
		{"no IPv6 packet", groupCols("ipv6_options", "ipv4_packet_count"), func(r refRow) bool { return n(r, "ipv6_packet_count") == 0 }},
		{"IPv6 only", []string{"ipv4_packet_count"}, func(r refRow) bool { return r["ip_version"] == "6" }},
		{"not ICMPv4", groupCols("icmp"), func(r refRow) bool { return protoIn(r, "6", "17", "58") }},
	}
	return rules
}

// TestDefaultsAgainstReference checks the catalogue's defaults against
// JoyfulJay's own output: for every column, on the reference flows where the
// column's input is absent (no responder packet, not TCP, no payload, ...),
// JoyfulJay's value must be the registered default. Every column is either
// covered by such a rule or listed in alwaysPresent.
func TestDefaultsAgainstReference(t *testing.T) {
	refDir := sharedDir(t, "reference/joyfuljay")
	var rows []refRow
	err := filepath.WalkDir(refDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".csv") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return err
		}
		if len(recs) < 2 {
			return nil // a capture without flows
		}
		for _, rec := range recs[1:] {
			r := refRow{}
			for i, h := range recs[0] {
				r[h] = rec[i]
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 1000 {
		t.Fatalf("only %d reference rows under %s", len(rows), refDir)
	}
	covered := map[string]bool{}
	for _, rule := range absentRules(t) {
		var sel []refRow
		for _, r := range rows {
			if rule.when(r) {
				sel = append(sel, r)
			}
		}
		if len(sel) == 0 {
			t.Errorf("rule %q selects no reference flow", rule.why)
		}
		for _, c := range rule.cols {
			f, ok := Lookup(c)
			if !ok {
				t.Fatalf("rule %q: %s not in the catalogue", rule.why, c)
			}
			covered[c] = true
			bad := 0
			var example string
			for _, r := range sel {
				cell, ok := r[c]
				if !ok {
					t.Fatalf("reference rows lack column %s", c)
				}
				if !cellEqual(f.Default, cell) {
					bad++
					example = cell
				}
			}
			if bad > 0 {
				t.Errorf("%s (%s, %d flows): %d reference values differ from the default %v, e.g. %q", c, rule.why, len(sel), bad, f.Default, example)
			}
		}
	}
	for _, c := range alwaysPresent {
		if covered[c] {
			t.Errorf("%s is both covered by a rule and listed as always present", c)
		}
		if _, ok := Lookup(c); !ok {
			t.Errorf("alwaysPresent: %s not in the catalogue", c)
		}
		covered[c] = true
	}
	for _, f := range Catalog {
		if !covered[f.Name] {
			t.Errorf("%s: no absent-input rule and not listed as always present", f.Name)
		}
	}
	t.Logf("%d reference flows, %d columns checked against their default", len(rows), len(Catalog)-len(alwaysPresent))
}
