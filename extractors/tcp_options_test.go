package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTCPOptions(t *testing.T) {
	const all = flows.OptMSS | flows.OptWS | flows.OptSACKOK | flows.OptTS
	cases := []struct {
		name string
		pkts []bPkt
		want bWant
	}{
		{
			name: "full handshake, SACK with 3 blocks, TSval wrap",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, opt: all, mss: 1460, ws: 7, tsval: 1<<32 - 6},
				{flags: bSYNACK, opt: all, mss: 1400, ws: 4, tsval: 5000, tsecr: 1<<32 - 6},
				{fwd: true, flags: bACK, opt: flows.OptTS, tsval: 1<<32 - 1, tsecr: 5000},
				{fwd: true, flags: bPSHACK, opt: flows.OptMSS, mss: 536}, // second MSS: ignored, contributes nothing
				{flags: bACK, opt: flows.OptTS, tsval: 5001, tsecr: 1<<32 - 1, sack: 3},
				{fwd: true, flags: bACK, opt: flows.OptTS, tsval: 5, tsecr: 5001},
				{flags: bACK}, // no options
			},
			want: bWant{
				"tcp_mss_fwd": 1460, "tcp_mss_bwd": 1400, "tcp_ws_fwd": 7, "tcp_ws_bwd": 4,
				"tcp_sack_permitted_fwd": 1, "tcp_sack_permitted_bwd": 1, "tcp_sack_blocks_total": 3,
				"tcp_ts_fwd_present": 1, "tcp_ts_fwd_first": int64(1<<32 - 6), "tcp_ts_fwd_last": 5,
				"tcp_ts_fwd_diff": 11, "tcp_ts_ecr_fwd_first": 0,
				"tcp_ts_bwd_present": 1, "tcp_ts_bwd_first": 5000, "tcp_ts_bwd_last": 5001,
				"tcp_ts_bwd_diff": 1, "tcp_ts_ecr_bwd_first": int64(1<<32 - 6),
				"tcp_options_bitmap": 15, "tcp_options_pkt_count": 5,
			},
		},
		{
			name: "one TS packet, MSS only the other way",
			pkts: []bPkt{
				{fwd: true, flags: bACK, opt: flows.OptTS, tsval: 77, tsecr: 66},
				{flags: bACK, opt: flows.OptMSS, mss: 1200},
				{flags: bACK, sack: 1},
				{flags: bACK, sack: 2},
			},
			want: bWant{
				"tcp_mss_fwd": 0, "tcp_mss_bwd": 1200, "tcp_ws_fwd": 0, "tcp_ws_bwd": 0,
				"tcp_sack_permitted_fwd": 0, "tcp_sack_permitted_bwd": 0, "tcp_sack_blocks_total": 3,
				"tcp_ts_fwd_present": 1, "tcp_ts_fwd_first": 77, "tcp_ts_fwd_last": 77, "tcp_ts_fwd_diff": 0,
				"tcp_ts_ecr_fwd_first": 66, "tcp_ts_bwd_present": 0, "tcp_ts_bwd_first": 0,
				"tcp_options_bitmap": 0x01 | 0x08, "tcp_options_pkt_count": 4,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bCheck(t, bRun(t, "tcp_options", bFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestTCPOptionsNonTCP(t *testing.T) {
	bDefaults(t, "tcp_options", bFlow(bPkt{fwd: true, notTCP: true}, bPkt{notTCP: true}))
}
