package extractors

import (
	"math"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTCPWindow(t *testing.T) {
	cases := []struct {
		name string
		pkts []bPkt
		want bWant
	}{
		{
			name: "scaled handshake",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, win: 29200, opt: flows.OptWS, ws: 7},
				{flags: bSYNACK, win: 5792},
				{fwd: true, flags: bACK, win: 229},
				{fwd: true, flags: bACK, win: 229},
				{fwd: true, flags: bACK, win: 300, opt: flows.OptWS, ws: 3}, // a later WS is ignored
				{flags: bACK, win: 362},
				{fwd: true, flags: bACK, win: 0},
				{fwd: true, notTCP: true}, // not counted
			},
			want: bWant{
				"tcp_init_win_fwd": 29200, "tcp_init_win_bwd": 5792,
				"tcp_win_scale_fwd": 7, "tcp_win_scale_bwd": 0,
				"tcp_win_fwd_min": 0, "tcp_win_fwd_max": 29200, "tcp_win_fwd_mean": 29958.0 / 5, "tcp_win_fwd_zero_count": 1,
				"tcp_win_bwd_min": 362, "tcp_win_bwd_max": 5792, "tcp_win_bwd_mean": 3077.0, "tcp_win_bwd_zero_count": 0,
				"tcp_win_fwd_up_count": 1, "tcp_win_fwd_down_count": 2, "tcp_win_fwd_change_count": 3,
				"tcp_win_bwd_up_count": 0, "tcp_win_bwd_down_count": 1, "tcp_win_bwd_change_count": 1,
				"tcp_scaled_win_fwd_max": 29200 << 7, "tcp_scaled_win_bwd_max": 5792,
				"tcp_zero_win_ratio": 1.0 / 7,
			},
		},
		{
			name: "shift 47 still fits",
			pkts: []bPkt{{fwd: true, flags: bSYN, win: 65535, opt: flows.OptWS, ws: 47}},
			want: bWant{"tcp_scaled_win_fwd_max": int64(65535) << 47, "tcp_win_scale_fwd": 47},
		},
		{
			name: "shift 48 saturates",
			pkts: []bPkt{{fwd: true, flags: bSYN, win: 65535, opt: flows.OptWS, ws: 48}},
			want: bWant{"tcp_scaled_win_fwd_max": int64(math.MaxInt64)},
		},
		{
			name: "shift 255 saturates",
			pkts: []bPkt{{flags: bSYNACK, win: 1, opt: flows.OptWS, ws: 255}},
			want: bWant{"tcp_scaled_win_bwd_max": int64(math.MaxInt64), "tcp_win_scale_bwd": 255},
		},
		{
			name: "shift 62 of window 1",
			pkts: []bPkt{{flags: bSYNACK, win: 1, opt: flows.OptWS, ws: 62}},
			want: bWant{"tcp_scaled_win_bwd_max": int64(1) << 62},
		},
		{
			name: "zero window with huge shift",
			pkts: []bPkt{{fwd: true, flags: bSYN, win: 0, opt: flows.OptWS, ws: 200}},
			want: bWant{"tcp_scaled_win_fwd_max": 0, "tcp_win_fwd_zero_count": 1, "tcp_zero_win_ratio": 1.0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bCheck(t, bRun(t, "tcp_window", bFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestTCPWindowNonTCP(t *testing.T) {
	bDefaults(t, "tcp_window", bFlow(bPkt{fwd: true, notTCP: true}, bPkt{notTCP: true}))
}
