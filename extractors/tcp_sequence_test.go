package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
)

const (
	bSYN    = flows.SYN
	bACK    = flows.ACK
	bFIN    = flows.FIN
	bRST    = flows.RST
	bPSH    = flows.PSH
	bSYNACK = flows.SYN | flows.ACK
	bPSHACK = flows.PSH | flows.ACK
)

func TestTCPSequence(t *testing.T) {
	cases := []struct {
		name string
		pkts []bPkt
		want bWant
	}{
		{
			// A pure ACK followed by data at the same seq is in order (JoyfulJay
			// advances the expected seq by 1 for the ACK and counts the data
			// segment as out of order). The SYN and FIN each take one seq.
			name: "handshake, pure ACK then data",
			pkts: []bPkt{
				{fwd: true, flags: bSYN, seq: 1000, win: 100},
				{flags: bSYNACK, seq: 5000, ack: 1001, win: 200},
				{fwd: true, flags: bACK, seq: 1001, ack: 5001, win: 100},
				{fwd: true, flags: bPSHACK, seq: 1001, ack: 5001, win: 100, payload: 100},
				{flags: bACK, seq: 5001, ack: 1101, win: 200},
				{flags: bPSHACK, seq: 5001, ack: 1101, win: 200, payload: 200},
				{fwd: true, flags: bFIN | bACK, seq: 1101, ack: 5201, win: 100},
				{flags: bFIN | bACK, seq: 5201, ack: 1102, win: 200},
				{fwd: true, flags: bACK, seq: 1102, ack: 5202, win: 100},
			},
			want: bWant{
				"tcp_isn_fwd": 1000, "tcp_isn_bwd": 5000,
				"tcp_seq_fwd_bytes_sent": 100, "tcp_seq_fwd_retrans": 0, "tcp_seq_fwd_gaps": 0, "tcp_seq_fwd_ooo": 0,
				"tcp_seq_bwd_bytes_sent": 200, "tcp_seq_bwd_retrans": 0, "tcp_seq_bwd_gaps": 0, "tcp_seq_bwd_ooo": 0,
				"tcp_ack_fwd_count": 5, "tcp_ack_fwd_dup": 0, "tcp_ack_bwd_count": 4, "tcp_ack_bwd_dup": 0,
				"tcp_total_retrans": 0, "tcp_total_ooo": 0, "tcp_total_dup_acks": 0, "tcp_retrans_ratio": 0.0,
			},
		},
		{
			// exp 11; 21 is a gap (exp 31); 11 is behind (exp stays 31); 21
			// again is a retransmission and behind.
			name: "gap, out of order, retransmission",
			pkts: []bPkt{
				{fwd: true, flags: bPSHACK, seq: 1, payload: 10},
				{fwd: true, flags: bPSHACK, seq: 21, payload: 10},
				{fwd: true, flags: bPSHACK, seq: 11, payload: 10},
				{fwd: true, flags: bPSHACK, seq: 21, payload: 10},
			},
			want: bWant{
				"tcp_isn_fwd": 1, "tcp_isn_bwd": 0,
				"tcp_seq_fwd_bytes_sent": 30, "tcp_seq_fwd_retrans": 1, "tcp_seq_fwd_gaps": 1, "tcp_seq_fwd_ooo": 2,
				"tcp_ack_fwd_count": 4, "tcp_ack_bwd_count": 0,
				"tcp_total_retrans": 1, "tcp_total_ooo": 2, "tcp_retrans_ratio": 0.25,
			},
		},
		{
			// 2^32-10 + 10 wraps to 0; 30 is ahead of 20; the retransmitted
			// first segment is far behind 35.
			name: "sequence wrap-around",
			pkts: []bPkt{
				{flags: bACK, seq: 7, win: 1}, // a bwd packet first: direction state is separate
				{fwd: true, flags: bPSHACK, seq: 1<<32 - 10, payload: 10},
				{fwd: true, flags: bPSHACK, seq: 0, payload: 20},
				{fwd: true, flags: bPSHACK, seq: 30, payload: 5},
				{fwd: true, flags: bPSHACK, seq: 1<<32 - 10, payload: 10},
			},
			want: bWant{
				"tcp_isn_fwd": int64(1<<32 - 10), "tcp_isn_bwd": 7,
				"tcp_seq_fwd_bytes_sent": 35, "tcp_seq_fwd_retrans": 1, "tcp_seq_fwd_gaps": 1, "tcp_seq_fwd_ooo": 1,
				"tcp_seq_bwd_bytes_sent": 0, "tcp_seq_bwd_gaps": 0, "tcp_seq_bwd_ooo": 0,
				"tcp_ack_fwd_count": 4, "tcp_ack_bwd_count": 1, "tcp_retrans_ratio": 0.2,
			},
		},
		{
			// A data segment of the other direction does not collide in the
			// retransmission set: same seq, other direction.
			name: "retransmission set is per direction",
			pkts: []bPkt{
				{fwd: true, flags: bPSHACK, seq: 500, payload: 10},
				{flags: bPSHACK, seq: 500, payload: 10},
			},
			want: bWant{
				"tcp_seq_fwd_bytes_sent": 10, "tcp_seq_bwd_bytes_sent": 10,
				"tcp_seq_fwd_retrans": 0, "tcp_seq_bwd_retrans": 0, "tcp_total_retrans": 0,
			},
		},
		{
			// Only ACK-flagged, payload-free segments without SYN/FIN/RST whose
			// ack and window equal the previous packet's of the direction count.
			// JoyfulJay would count 7 bwd and 2 fwd here.
			name: "duplicate ACK rule",
			pkts: []bPkt{
				{flags: bACK, ack: 100, win: 500},
				{flags: bACK, ack: 100, win: 500},                // dup 1
				{flags: bACK, ack: 100, win: 500},                // dup 2
				{flags: bACK, ack: 100, win: 600},                // window changed
				{flags: bPSHACK, ack: 100, win: 600, payload: 5}, // payload
				{flags: bACK, seq: 5, ack: 100, win: 600},        // dup 3: same as the data packet
				{flags: bFIN | bACK, seq: 5, ack: 100, win: 600}, // FIN
				{flags: 0, seq: 6, ack: 100, win: 600},           // no ACK flag
				{flags: bRST | bACK, seq: 6, ack: 100, win: 600}, // RST
				{fwd: true, flags: bACK, seq: 1, ack: 9, win: 50},
				{fwd: true, flags: bACK, seq: 1, ack: 9, win: 50}, // dup 1
				{fwd: true, flags: bSYN | bACK, seq: 1, ack: 9, win: 50},
			},
			want: bWant{
				"tcp_ack_fwd_count": 3, "tcp_ack_fwd_dup": 1,
				"tcp_ack_bwd_count": 9, "tcp_ack_bwd_dup": 3,
				"tcp_total_dup_acks": 4,
			},
		},
		{
			name: "zero-length RST does not advance",
			pkts: []bPkt{
				{fwd: true, flags: bPSHACK, seq: 10, payload: 5},
				{fwd: true, flags: bRST, seq: 15},
				{fwd: true, flags: bRST, seq: 15},
			},
			want: bWant{"tcp_seq_fwd_gaps": 0, "tcp_seq_fwd_ooo": 0, "tcp_seq_fwd_bytes_sent": 5},
		},
		{
			name: "non-TCP packets are skipped",
			pkts: []bPkt{
				{fwd: true, notTCP: true, payload: 30},
				{fwd: true, flags: bSYN, seq: 42},
			},
			want: bWant{"tcp_isn_fwd": 42, "tcp_ack_fwd_count": 1, "tcp_seq_fwd_bytes_sent": 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bCheck(t, bRun(t, "tcp_sequence", bFlow(tc.pkts...)), tc.want)
		})
	}
}

func TestTCPSequenceNonTCP(t *testing.T) {
	bDefaults(t, "tcp_sequence", bFlow(bPkt{fwd: true, notTCP: true, payload: 10}, bPkt{notTCP: true, payload: 20}))
	bDefaults(t, "tcp_sequence", bFlow())
}
