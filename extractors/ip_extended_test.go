package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func TestIPExtended(t *testing.T) {
	const df, mf, evil = 2, 1, 4
	ttl := func(fwd bool, v uint8) cPkt { return cV4(fwd, v, 0, df, 0) }
	tos := func(v uint8) cPkt { return cV4(true, 64, v, 0, 0) }
	id := func(fwd bool, v uint16) cPkt { return cV4(fwd, 64, 0, df, v) }
	v6frag := cV6(true, 64, 0, 0)
	v6frag.ip.ID = 999 // IPv6 fragment identification, not an IPv4 ID
	tests := []struct {
		name string
		pkts []cPkt
		want map[string]any
	}{
		{
			name: "ttl per direction",
			pkts: []cPkt{ttl(true, 64), ttl(false, 120), ttl(true, 63), ttl(true, 64), ttl(false, 120), ttl(true, 62)},
			want: map[string]any{
				"ip_ttl_fwd_min": 62, "ip_ttl_fwd_max": 64, "ip_ttl_fwd_mean": 63.25, "ip_ttl_fwd_changes": 2,
				"ip_ttl_bwd_min": 120, "ip_ttl_bwd_max": 120, "ip_ttl_bwd_mean": 120.0, "ip_ttl_bwd_changes": 0,
				"ip_ttl_fwd_initial_est": 64, "ip_ttl_fwd_hops_est": 0,
			},
		},
		{
			name: "no bwd packets",
			pkts: []cPkt{ttl(true, 1), ttl(true, 2), ttl(true, 2)},
			want: map[string]any{
				"ip_ttl_fwd_mean": 5.0 / 3, "ip_ttl_fwd_changes": 1,
				"ip_ttl_bwd_min": 0, "ip_ttl_bwd_max": 0, "ip_ttl_bwd_mean": 0.0, "ip_ttl_bwd_changes": 0,
				"ip_ttl_fwd_initial_est": 64, "ip_ttl_fwd_hops_est": 63,
			},
		},
		{
			name: "initial ttl 65 is 128",
			pkts: []cPkt{ttl(true, 65), ttl(true, 30)},
			want: map[string]any{"ip_ttl_fwd_initial_est": 128, "ip_ttl_fwd_hops_est": 63},
		},
		{
			name: "initial ttl 128 is 128",
			pkts: []cPkt{ttl(true, 128)},
			want: map[string]any{"ip_ttl_fwd_initial_est": 128, "ip_ttl_fwd_hops_est": 0},
		},
		{
			name: "initial ttl 129 is 255",
			pkts: []cPkt{ttl(true, 129)},
			want: map[string]any{"ip_ttl_fwd_initial_est": 255, "ip_ttl_fwd_hops_est": 126},
		},
		{
			name: "initial ttl from first fwd packet",
			pkts: []cPkt{ttl(false, 200), ttl(true, 100), ttl(true, 250)},
			want: map[string]any{
				"ip_ttl_fwd_initial_est": 128, "ip_ttl_fwd_hops_est": 28,
				"ip_ttl_bwd_min": 200, "ip_ttl_fwd_max": 250,
			},
		},
		{
			name: "tos reports the smallest distinct value",
			pkts: []cPkt{tos(0xb8), tos(0x02), tos(0xb8), tos(0x03)},
			want: map[string]any{"ip_tos_value": 2, "ip_tos_unique_count": 3, "ip_dscp": 0, "ip_ecn": 2},
		},
		{
			name: "dscp and ecn of the smallest tos",
			pkts: []cPkt{tos(0xba), tos(0xb9)},
			want: map[string]any{"ip_tos_value": 0xb9, "ip_tos_unique_count": 2, "ip_dscp": 46, "ip_ecn": 1},
		},
		{
			name: "flags are ORed",
			pkts: []cPkt{cV4(true, 64, 0, df, 1), cV4(true, 64, 0, mf, 2), cV4(false, 64, 0, evil, 9), cV4(false, 64, 0, 0, 10)},
			want: map[string]any{"ip_flags": 7, "ip_df_count": 1, "ip_df_ratio": 0.25, "ip_version": 4},
		},
		{
			name: "ipv6 packets have no tos, flags or id",
			pkts: []cPkt{cV4(true, 64, 4, df, 7), cV6(false, 60, 1, 0xff), cV6(true, 64, 1, 0)},
			want: map[string]any{
				"ip_tos_value": 4, "ip_tos_unique_count": 1, "ip_dscp": 1, "ip_ecn": 0,
				"ip_flags": 2, "ip_df_count": 1, "ip_df_ratio": 1.0 / 3, "ip_version": 4,
				"ip_ttl_fwd_min": 64, "ip_ttl_bwd_min": 60,
			},
		},
		{
			name: "ipv6 only",
			pkts: []cPkt{cV6(true, 64, 1, 0x10), cV6(false, 57, 1, 0x10)},
			want: map[string]any{
				"ip_tos_value": 0, "ip_tos_unique_count": 0, "ip_flags": 0, "ip_df_count": 0,
				"ip_df_ratio": 0.0, "ip_version": 6, "ip_id_gaps": 0,
				"ip_ttl_fwd_mean": 64.0, "ip_ttl_bwd_mean": 57.0, "ip_ttl_fwd_initial_est": 64,
			},
		},
		{
			// JoyfulJay would count 7 gaps here: the two hosts' counters
			// interleave. Per direction: fwd 102->105 and bwd 5001->4999.
			name: "ip id gaps per direction",
			pkts: []cPkt{
				id(true, 100), id(false, 5000), id(true, 101), id(false, 5001),
				id(true, 102), id(false, 5001), id(true, 105), id(false, 4999),
			},
			want: map[string]any{"ip_id_gaps": 2},
		},
		{
			name: "ip id wraps around",
			pkts: []cPkt{id(true, 65534), id(true, 65535), id(true, 0), id(true, 1), id(true, 65535), id(true, 2)},
			want: map[string]any{"ip_id_gaps": 2},
		},
		{
			name: "ipv6 packets do not break the id sequence",
			pkts: []cPkt{id(true, 10), v6frag, id(true, 11)},
			want: map[string]any{"ip_id_gaps": 0},
		},
		{
			name: "empty flow",
			pkts: nil,
			want: map[string]any{
				"ip_ttl_fwd_min": 0, "ip_ttl_fwd_mean": 0.0, "ip_ttl_fwd_initial_est": 0, "ip_ttl_fwd_hops_est": 0,
				"ip_tos_value": 0, "ip_flags": 0, "ip_df_ratio": 0.0, "ip_version": 4, "ip_id_gaps": 0,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cCheck(t, cCompute(t, "ip_extended", cFlow(tc.pkts...)), tc.want)
		})
	}
}

// TestGroupsCAllocs guards the allocations of one Compute call on a typical
// flow: none for the counting groups, the two MAC strings for mac, the
// sequence bitmap for icmp.
func TestGroupsCAllocs(t *testing.T) {
	pkts := []cPkt{
		cEth(cICMP(true, icmpEchoRequest, 0, 9, 1), "02:00:00:00:00:01", "02:00:00:00:00:02"),
		cEth(cICMP(false, icmpEchoReply, 0, 9, 1), "02:00:00:00:00:02", "02:00:00:00:00:01"),
		cEth(cICMP(true, icmpEchoRequest, 0, 9, 2), "02:00:00:00:00:01", "02:00:00:00:00:02"),
		cEth(cV6(true, 64, 5, 0), "02:00:00:00:00:01", "02:00:00:00:00:02"),
	}
	f := cFlow(pkts...)
	cfg := flows.DefaultConfig()
	tests := []struct {
		id   string
		want float64
	}{
		{"mac", 2},
		{"ip_extended", 0},
		{"ipv6_options", 0},
		{"icmp", 1},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			g := Lookup(tc.id)
			out := make([]schema.Value, len(g.Features))
			got := testing.AllocsPerRun(100, func() {
				if err := g.Compute(f, &cfg, out); err != nil {
					t.Fatal(err)
				}
			})
			if got != tc.want {
				t.Errorf("%s: %v allocations per Compute, want %v", tc.id, got, tc.want)
			}
		})
	}
}
