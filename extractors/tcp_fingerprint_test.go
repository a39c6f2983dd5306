package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTCPFingerprint(t *testing.T) {
	const all = flows.OptMSS | flows.OptWS | flows.OptSACKOK | flows.OptTS
	cases := []struct {
		name string
		pkts []bPkt
		want bWant
	}{
		{
			// md5("29200_64_1460_7_3") = 120640b1bfd5..., md5("5792_64_1460_4_3") = fc2f0e0ed618...
			name: "linux client",
			pkts: []bPkt{
				{fwd: true, flags: bSYNACK, win: 1, ttl: 1}, // initiator SYN/ACK: not the fwd SYN
				{flags: bSYN, win: 2, ttl: 2},               // responder SYN without ACK: not the bwd SYN/ACK
				{fwd: true, flags: bSYN, win: 29200, ttl: 64, opt: all, mss: 1460, ws: 7, tsval: 1032819631},
				{flags: bSYNACK, win: 5792, ttl: 64, opt: all, mss: 1460, ws: 4, tsval: 57936131, tsecr: 1032819631},
				{fwd: true, flags: bSYN, win: 1, ttl: 128}, // second SYN: ignored
			},
			want: bWant{
				"tcp_fp_fwd": "t29200_1460_7_120640b1bfd5", "tcp_fp_bwd": "t5792_1460_4_fc2f0e0ed618",
				"tcp_os_hint_fwd": "linux", "tcp_os_hint_bwd": "unknown",
				"tcp_uptime_fwd": 1032819631.0 / 100 / 3600, "tcp_uptime_bwd": 57936131.0 / 100 / 3600,
				"tcp_fp_fwd_window": 29200, "tcp_fp_fwd_ttl": 64, "tcp_fp_fwd_mss": 1460, "tcp_fp_fwd_ws": 7,
				"tcp_fp_bwd_window": 5792, "tcp_fp_bwd_ttl": 64, "tcp_fp_bwd_mss": 1460, "tcp_fp_bwd_ws": 4,
			},
		},
		{
			// md5("8192_113_0_0_0") = a428a9cd05e0..., md5("65535_50_1460_6_2") = 0c032d3694a0...
			name: "no options; TS only on the responder",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, win: 8192, ttl: 113},
				{flags: bSYNACK, win: 65535, ttl: 50, opt: flows.OptMSS | flows.OptWS | flows.OptTS, mss: 1460, ws: 6},
				{flags: bACK, opt: flows.OptTS, tsval: 360000},
			},
			want: bWant{
				"tcp_fp_fwd": "t8192_0_0_a428a9cd05e0", "tcp_fp_bwd": "t65535_1460_6_0c032d3694a0",
				"tcp_os_hint_fwd": "windows", "tcp_os_hint_bwd": "linux",
				// the first bwd TSval is 0, so the later 360000 is not used
				"tcp_uptime_fwd": 0.0, "tcp_uptime_bwd": 0.0,
				"tcp_fp_fwd_window": 8192, "tcp_fp_fwd_ttl": 113, "tcp_fp_fwd_mss": 0, "tcp_fp_fwd_ws": 0,
			},
		},
		{
			name: "no SYN",
			pkts: []bPkt{
				{fwd: true, flags: bACK, win: 100, ttl: 64, opt: flows.OptTS, tsval: 360000},
				{flags: bACK, win: 100, ttl: 64},
			},
			want: bWant{
				"tcp_fp_fwd": "", "tcp_fp_bwd": "", "tcp_os_hint_fwd": "unknown", "tcp_os_hint_bwd": "unknown",
				"tcp_uptime_fwd": 1.0, "tcp_uptime_bwd": 0.0, "tcp_fp_fwd_window": 0, "tcp_fp_fwd_ttl": 0,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bCheck(t, bRun(t, "tcp_fingerprint", bFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestTCPOSHint(t *testing.T) {
	cases := []struct {
		ttl    uint8
		window uint16
		want   string
	}{
		{64, 29200, "linux"},
		{64, 65535, "linux"}, // "macos" is unreachable in JoyfulJay's table
		{0, 29200, "linux"},
		{60, 5840, "linux-old"},
		{64, 1000, "unknown"},
		{65, 65535, "windows"},
		{128, 8192, "windows"},
		{100, 65520, "windows-10"},
		{128, 5840, "unknown"},
		{129, 1, "bsd"},
		{255, 29200, "bsd"},
	}
	for _, tc := range cases {
		p := tcpSynParams{found: true, ttl: tc.ttl, window: tc.window}
		if got := p.osHint(); got != tc.want {
			t.Errorf("osHint(ttl %d, window %d) = %q, want %q", tc.ttl, tc.window, got, tc.want)
		}
	}
}

func TestTCPFingerprintNonTCP(t *testing.T) {
	bDefaults(t, "tcp_fingerprint", bFlow(bPkt{fwd: true, notTCP: true, ttl: 64}, bPkt{notTCP: true, ttl: 64}))
}
