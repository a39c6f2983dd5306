package extractors

import "testing"

func TestTCPMPTCP(t *testing.T) {
	const (
		capable = 1 << 0 // MP_CAPABLE
		join    = 1 << 1 // MP_JOIN
		dss     = 1 << 2 // DSS
	)
	cases := []struct {
		name string
		pkts []bPkt
		want bWant
	}{
		{
			name: "MP_CAPABLE both ways",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, mpCount: 1, mpSub: capable},
				{flags: bSYNACK, mpCount: 1, mpSub: capable},
				{fwd: true, flags: bACK, mpCount: 1, mpSub: capable},
				{fwd: true, flags: bPSHACK, payload: 10, mpCount: 2, mpSub: dss | join},
				{flags: bACK},
			},
			want: bWant{"mptcp_detected": 1, "mptcp_capable_fwd": 1, "mptcp_capable_bwd": 1,
				"mptcp_option_count": 4, "mptcp_stat": 0x0f, "is_mptcp": 1},
		},
		{
			name: "initiator only",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, mpCount: 1, mpSub: capable},
				{flags: bSYNACK},
			},
			want: bWant{"mptcp_detected": 1, "mptcp_capable_fwd": 1, "mptcp_capable_bwd": 0,
				"mptcp_option_count": 1, "mptcp_stat": 0x03, "is_mptcp": 0},
		},
		{
			name: "responder only",
			pkts: []bPkt{
				{fwd: true, flags: bSYN},
				{flags: bSYNACK, mpCount: 1, mpSub: capable},
			},
			want: bWant{"mptcp_detected": 1, "mptcp_capable_fwd": 0, "mptcp_capable_bwd": 1,
				"mptcp_option_count": 1, "mptcp_stat": 0x05, "is_mptcp": 0},
		},
		{
			name: "MP_JOIN SYN is not capable",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, mpCount: 1, mpSub: join},
				{flags: bSYNACK, mpCount: 1, mpSub: join},
			},
			want: bWant{"mptcp_detected": 1, "mptcp_capable_fwd": 0, "mptcp_capable_bwd": 0,
				"mptcp_option_count": 2, "mptcp_stat": 0x01, "is_mptcp": 0},
		},
		{
			name: "MP_CAPABLE without SYN",
			pkts: []bPkt{
				{fwd: true, flags: bACK, mpCount: 1, mpSub: capable},
			},
			want: bWant{"mptcp_detected": 1, "mptcp_capable_fwd": 0, "mptcp_option_count": 1, "mptcp_stat": 0x01},
		},
		{
			name: "plain TCP",
			pkts: []bPkt{{fwd: true, flags: bSYN}, {flags: bSYNACK}},
			want: bWant{"mptcp_detected": 0, "mptcp_capable_fwd": 0, "mptcp_capable_bwd": 0,
				"mptcp_option_count": 0, "mptcp_stat": 0, "is_mptcp": 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bCheck(t, bRun(t, "tcp_mptcp", bFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestTCPMPTCPNonTCP(t *testing.T) {
	bDefaults(t, "tcp_mptcp", bFlow(bPkt{fwd: true, notTCP: true}))
}
