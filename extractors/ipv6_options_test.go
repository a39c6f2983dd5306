package extractors

import "testing"

func TestIPv6Options(t *testing.T) {
	v4 := cV4(true, 64, 0, 2, 1)
	v4.ip.FlowLabel, v4.ip.TrafficClass = 7, 9 // ignored: not IPv6
	tests := []struct {
		name string
		pkts []cPkt
		want map[string]any
	}{
		{
			name: "ipv6 only",
			pkts: []cPkt{cV6(true, 64, 0x12345, 0xb9), cV6(false, 64, 0x00abc, 0x2a), cV6(true, 64, 0x12345, 0xb9)},
			want: map[string]any{
				"ipv6_packet_count": 3, "ipv4_packet_count": 0,
				"ipv6_flow_label": 0xabc, "ipv6_flow_label_unique_count": 2, "ipv6_flow_label_changes": 1,
				"ipv6_traffic_class": 0x2a, "ipv6_traffic_class_unique_count": 2, "ipv6_dscp": 10, "ipv6_ecn": 2,
				"ipv6_ratio": 1.0, "is_ipv6_only": 1,
			},
		},
		{
			name: "flow label 0 is the smallest",
			pkts: []cPkt{cV6(true, 64, 5, 0), cV6(false, 64, 0, 0)},
			want: map[string]any{
				"ipv6_flow_label": 0, "ipv6_flow_label_unique_count": 2, "ipv6_flow_label_changes": 1,
				"ipv6_traffic_class": 0, "ipv6_traffic_class_unique_count": 1,
			},
		},
		{
			name: "mixed versions",
			pkts: []cPkt{v4, cV6(true, 64, 0xfffff, 0x03), cV6(true, 64, 0xfffff, 0x03), cV6(false, 64, 0xfffff, 0x03)},
			want: map[string]any{
				"ipv6_packet_count": 3, "ipv4_packet_count": 1,
				"ipv6_flow_label": 0xfffff, "ipv6_flow_label_unique_count": 1, "ipv6_flow_label_changes": 0,
				"ipv6_traffic_class": 3, "ipv6_traffic_class_unique_count": 1, "ipv6_dscp": 0, "ipv6_ecn": 3,
				"ipv6_ratio": 0.75, "is_ipv6_only": 0,
			},
		},
		{
			name: "ipv4 only",
			pkts: []cPkt{v4, v4},
			want: map[string]any{
				"ipv6_packet_count": 0, "ipv4_packet_count": 2,
				"ipv6_flow_label": 0, "ipv6_flow_label_unique_count": 0, "ipv6_flow_label_changes": 0,
				"ipv6_traffic_class": 0, "ipv6_traffic_class_unique_count": 0, "ipv6_dscp": 0, "ipv6_ecn": 0,
				"ipv6_ratio": 0.0, "is_ipv6_only": 0,
			},
		},
		{
			name: "empty flow",
			pkts: nil,
			want: map[string]any{
				"ipv6_packet_count": 0, "ipv4_packet_count": 0, "ipv6_flow_label_changes": 0,
				"ipv6_ratio": 0.0, "is_ipv6_only": 0,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cCheck(t, cCompute(t, "ipv6_options", cFlow(tc.pkts...)), tc.want)
		})
	}
}
