package extractors

import (
	"math"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTCPRTTHandshake(t *testing.T) {
	cases := []struct {
		name string
		pkts []bPkt
		want float64
	}{
		{
			name: "full",
			pkts: []bPkt{
				{ts: 1.0, fwd: true, flags: bSYN},
				{ts: 1.05, flags: bSYNACK},
				{ts: 1.1, fwd: true, flags: bACK},
				{ts: 1.7, fwd: true, flags: bACK},
			},
			want: bSub(1.1, 1.0),
		},
		{
			name: "no final ACK: twice SYN to SYN/ACK",
			pkts: []bPkt{
				{ts: 1.0, fwd: true, flags: bSYN},
				{ts: 1.05, flags: bSYNACK},
				{ts: 1.2, fwd: true, flags: bPSH}, // no ACK flag
			},
			want: bSub(1.05, 1.0) * 2,
		},
		{
			name: "ACK before the SYN/ACK does not count",
			pkts: []bPkt{
				{ts: 1.0, fwd: true, flags: bSYN},
				{ts: 1.01, fwd: true, flags: bACK},
				{ts: 1.02, fwd: true, flags: bSYN}, // a second SYN: the first one stays
				{ts: 1.05, flags: bSYNACK},
				{ts: 1.06, flags: bSYNACK},
				{ts: 1.2, fwd: true, flags: bACK},
			},
			want: bSub(1.2, 1.0),
		},
		{
			name: "SYN/ACK only",
			pkts: []bPkt{{ts: 1.0, flags: bSYNACK}, {ts: 1.1, fwd: true, flags: bACK}},
			want: 0,
		},
		{
			name: "SYN only",
			pkts: []bPkt{{ts: 1.0, fwd: true, flags: bSYN}, {ts: 1.1, fwd: true, flags: bACK}},
			want: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := bRun(t, "tcp_rtt", bFlow(tc.pkts...))["tcp_rtt_handshake"].F
			if got != tc.want {
				t.Errorf("tcp_rtt_handshake = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTCPRTTTimestampEcho(t *testing.T) {
	p := func(at float64, fwd bool, tsval, tsecr uint32) bPkt {
		return bPkt{ts: at, fwd: fwd, flags: bACK, opt: flows.OptTS, tsval: tsval, tsecr: tsecr}
	}
	f := bFlow(
		p(10.0, true, 100, 0),                   // TSecr 0: no sample
		p(10.03, false, 900, 100),               // echoes 100 (sent 10.0)
		p(10.05, true, 101, 900),                // echoes 900 (sent 10.03)
		p(10.06, true, 101, 900),                // again: entries are not consumed; TSval 101 now at 10.06
		p(10.2, false, 901, 101),                // echoes 101: latest sender time 10.06
		p(80.0, false, 902, 100),                // echoes 100 after 70 s: dropped
		bPkt{ts: 80.1, flags: bACK, tsecr: 101}, // no TS option
	)
	s := []float64{bSub(10.03, 10.0), bSub(10.05, 10.03), bSub(10.06, 10.03), bSub(10.2, 10.06)}
	sum := s[0] + s[1] + s[2] + s[3]
	m := sum / 4
	var ss float64
	for _, x := range s {
		ss += (x - m) * (x - m)
	}
	jit := (math.Abs(s[1]-s[0]) + math.Abs(s[2]-s[1]) + math.Abs(s[3]-s[2])) / 3
	bCheck(t, bRun(t, "tcp_rtt", f), bWant{
		"tcp_rtt_samples":    4,
		"tcp_rtt_min":        bSub(10.05, 10.03),
		"tcp_rtt_max":        bSub(10.2, 10.06),
		"tcp_rtt_mean":       m,
		"tcp_rtt_std":        math.Sqrt(ss / 4),
		"tcp_rtt_jitter_avg": jit,
	})

	// One sample: std and jitter stay 0.
	one := bFlow(p(1.0, true, 100, 0), p(1.25, false, 900, 100))
	bCheck(t, bRun(t, "tcp_rtt", one), bWant{
		"tcp_rtt_samples": 1, "tcp_rtt_min": 0.25, "tcp_rtt_max": 0.25, "tcp_rtt_mean": 0.25,
		"tcp_rtt_std": 0.0, "tcp_rtt_jitter_avg": 0.0,
	})
}

func TestTCPRTTAck(t *testing.T) {
	f := bFlow(
		bPkt{ts: 1.0, fwd: true, flags: bPSHACK, seq: 100, payload: 50},    // ends at 150
		bPkt{ts: 1.1, fwd: true, flags: bPSHACK, seq: 150, payload: 50},    // ends at 200
		bPkt{ts: 1.3, flags: bACK, ack: 150},                               // 0.3
		bPkt{ts: 1.4, flags: bACK, ack: 150},                               // consumed already
		bPkt{ts: 1.5, flags: bPSHACK, seq: 7, ack: 200, payload: 10},       // 0.4; ends at 17
		bPkt{ts: 1.5, fwd: true, flags: bACK, seq: 200, ack: 17},           // rtt 0: dropped but consumed
		bPkt{ts: 1.6, fwd: true, flags: bACK, seq: 200, ack: 17},           // nothing pending
		bPkt{ts: 1.7, fwd: true, flags: bACK, seq: 1<<32 - 4, payload: 10}, // ends at 6 (wraps)
		bPkt{ts: 1.75, flags: bACK, ack: 6},                                // 0.05
	)
	a, b, c := bSub(1.3, 1.0), bSub(1.5, 1.1), bSub(1.75, 1.7)
	bCheck(t, bRun(t, "tcp_rtt", f), bWant{
		"tcp_rtt_ack_min":   math.Min(a, math.Min(b, c)),
		"tcp_rtt_ack_max":   b,
		"tcp_rtt_ack_mean":  (a + b + c) / 3,
		"tcp_rtt_samples":   0,
		"tcp_rtt_handshake": 0.0,
	})
}

func TestTCPRTTNonTCP(t *testing.T) {
	bDefaults(t, "tcp_rtt", bFlow(bPkt{ts: 1, fwd: true, notTCP: true, payload: 5}, bPkt{ts: 2, notTCP: true}))
}
