package extractors

import "testing"

func TestICMP(t *testing.T) {
	const id = 0x1234
	req := func(seq uint16) cPkt { return cICMP(true, icmpEchoRequest, 0, id, seq) }
	rep := func(seq uint16) cPkt { return cICMP(false, icmpEchoReply, 0, id, seq) }
	tcp := cV4(true, 64, 0, 2, 1)
	manyIDs := func() []cPkt {
		var ps []cPkt
		for i := uint16(0); i < 20; i++ {
			ps = append(ps, cICMP(true, icmpEchoRequest, 0, 100+i, 1))
		}
		return ps
	}
	tests := []struct {
		name string
		pkts []cPkt
		want map[string]any
	}{
		{
			name: "echo with lost requests",
			pkts: []cPkt{req(1), rep(1), req(2), rep(2), req(3), req(5), rep(5), req(9)},
			want: map[string]any{
				"icmp_packet_count": 8, "icmp_echo_request_count": 5, "icmp_echo_reply_count": 3,
				"icmp_dest_unreachable_count": 0, "icmp_time_exceeded_count": 0,
				"icmp_unique_type_codes": 2, "icmp_dominant_type": 8, "icmp_dominant_type_count": 5,
				"icmp_echo_success_ratio": 0.6, "icmp_unique_ids": 1,
				"icmp_seq_min": 1, "icmp_seq_max": 9, "icmp_seq_gaps": 2,
				"icmp_stat": 0x03, "icmp_ratio": 1.0, "is_icmp_only": true,
			},
		},
		{
			// Error messages have no identifier or sequence field.
			name: "errors do not feed ids and sequences",
			pkts: []cPkt{
				cICMP(true, icmpEchoRequest, 0, 7, 10), cICMP(true, icmpEchoRequest, 0, 7, 11),
				cICMP(false, icmpDestUnreach, 3, 0, 0), cICMP(false, icmpTimeExceeded, 0, 0, 0),
			},
			want: map[string]any{
				"icmp_packet_count": 4, "icmp_echo_request_count": 2, "icmp_echo_reply_count": 0,
				"icmp_dest_unreachable_count": 1, "icmp_time_exceeded_count": 1,
				"icmp_unique_type_codes": 3, "icmp_dominant_type": 8, "icmp_dominant_type_count": 2,
				"icmp_echo_success_ratio": 0.0, "icmp_unique_ids": 1,
				"icmp_seq_min": 10, "icmp_seq_max": 11, "icmp_seq_gaps": 0,
				"icmp_stat": 0x0d, "icmp_ratio": 1.0, "is_icmp_only": true,
			},
		},
		{
			// As ja4/pcap/gre-sample.pcap in JoyfulJay's reference rows.
			name: "echo mixed with unreachables",
			pkts: []cPkt{
				req(256), rep(256), req(512), rep(512), cICMP(false, icmpDestUnreach, 1, 0, 0),
				req(768), rep(768), cICMP(false, icmpDestUnreach, 1, 0, 0), req(1024), rep(1024),
			},
			want: map[string]any{
				"icmp_packet_count": 10, "icmp_unique_type_codes": 3, "icmp_stat": 0x07,
				"icmp_echo_success_ratio": 1.0, "icmp_unique_ids": 1,
				"icmp_seq_min": 256, "icmp_seq_max": 1024, "icmp_seq_gaps": 3,
			},
		},
		{
			name: "only errors",
			pkts: []cPkt{cICMP(false, icmpDestUnreach, 3, 0, 0), cICMP(false, icmpDestUnreach, 3, 0, 0)},
			want: map[string]any{
				"icmp_packet_count": 2, "icmp_dest_unreachable_count": 2, "icmp_unique_type_codes": 1,
				"icmp_dominant_type": 3, "icmp_dominant_type_count": 2, "icmp_unique_ids": 0,
				"icmp_seq_min": 0, "icmp_seq_max": 0, "icmp_seq_gaps": 0, "icmp_stat": 0x04,
			},
		},
		{
			name: "dominant type tie goes to the first seen",
			pkts: []cPkt{
				cICMP(true, icmpDestUnreach, 1, 0, 0), cICMP(true, icmpEchoReply, 0, 1, 1),
				cICMP(true, icmpEchoReply, 0, 1, 2), cICMP(true, icmpDestUnreach, 3, 0, 0),
			},
			want: map[string]any{
				"icmp_dominant_type": 3, "icmp_dominant_type_count": 2, "icmp_unique_type_codes": 3,
				"icmp_echo_success_ratio": 0.0, "icmp_stat": 0x06, "icmp_seq_gaps": 0,
			},
		},
		{
			name: "redirect and other types",
			pkts: []cPkt{
				cICMP(true, icmpTimeExceeded, 1, 0, 0), cICMP(true, icmpRedirect, 1, 0, 0),
				cICMP(true, icmpRedirect, 1, 0, 0), cICMP(true, icmpTimeExceeded, 1, 0, 0),
				cICMP(true, 13, 0, 5, 9), // timestamp request: has id and seq
			},
			want: map[string]any{
				"icmp_dominant_type": 11, "icmp_dominant_type_count": 2, "icmp_time_exceeded_count": 2,
				"icmp_unique_type_codes": 3, "icmp_stat": 0x38, "icmp_unique_ids": 1,
				"icmp_seq_min": 9, "icmp_seq_max": 9, "icmp_seq_gaps": 0,
			},
		},
		{
			name: "more replies than requests",
			pkts: []cPkt{req(1), rep(1), rep(1)},
			want: map[string]any{"icmp_echo_success_ratio": 2.0, "icmp_dominant_type": 0, "icmp_seq_gaps": 0},
		},
		{
			name: "sequence runs across bitmap words",
			pkts: []cPkt{req(63), req(64), req(127), req(128), req(129), req(300), req(65535), req(0)},
			want: map[string]any{"icmp_seq_min": 0, "icmp_seq_max": 65535, "icmp_seq_gaps": 4},
		},
		{
			name: "many identifiers",
			pkts: manyIDs(),
			want: map[string]any{"icmp_unique_ids": 20, "icmp_seq_gaps": 0, "icmp_unique_type_codes": 1},
		},
		{
			name: "icmp with other packets",
			pkts: []cPkt{req(1), tcp, rep(1), tcp},
			want: map[string]any{"icmp_packet_count": 2, "icmp_ratio": 0.5, "is_icmp_only": false},
		},
		{
			name: "no icmp",
			pkts: []cPkt{tcp, tcp},
			want: map[string]any{
				"icmp_packet_count": 0, "icmp_unique_type_codes": 0, "icmp_dominant_type": -1,
				"icmp_dominant_type_count": 0, "icmp_echo_success_ratio": 0.0, "icmp_unique_ids": 0,
				"icmp_seq_min": 0, "icmp_seq_max": 0, "icmp_seq_gaps": 0, "icmp_stat": 0,
				"icmp_ratio": 0.0, "is_icmp_only": false,
			},
		},
		{
			name: "empty flow",
			pkts: nil,
			want: map[string]any{"icmp_packet_count": 0, "icmp_dominant_type": -1, "icmp_ratio": 0.0, "is_icmp_only": false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cCheck(t, cCompute(t, "icmp", cFlow(tc.pkts...)), tc.want)
		})
	}
}
