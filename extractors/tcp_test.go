package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
)

func TestTCP(t *testing.T) {
	cfg := flows.DefaultConfig()
	c, s := "10.0.0.1:40000", "10.0.0.2:80"

	// The responder opens with a SYN and the initiator answers SYN+ACK:
	// both are counted, but neither handshake bit is set. A RST from the
	// responder, ECE/CWR/URG bits and a data-carrying FIN.
	reversed := []flows.Packet{
		tcpPktA(1, c, s, 40, 0, synAckA),
		tcpPktA(2, s, c, 40, 0, synA),
		tcpPktA(3, c, s, 60, 20, flows.ACK|flows.ECE|flows.CWR),
		tcpPktA(4, s, c, 45, 5, flows.FIN|flows.ACK|flows.URG),
		tcpPktA(5, s, c, 40, 0, flows.RST|flows.ACK),
		tcpPktA(6, c, s, 40, 0, flows.RST),
	}
	// A packet without flags makes the flow anomalous.
	null := []flows.Packet{
		tcpPktA(1, c, s, 40, 0, synA),
		tcpPktA(2, s, c, 40, 0, 0),
	}
	// A non-TCP packet inside a TCP flow counts in the ratios' denominator only.
	mixed := []flows.Packet{
		tcpPktA(1, c, s, 40, 0, synA),
		ipPktA(2, c, s, 6, 40, 0),
	}
	// A flow whose two endpoints are the same address and port.
	self := []flows.Packet{
		tcpPktA(1, c, c, 40, 0, synA),
		tcpPktA(2, c, c, 40, 0, synAckA),
	}

	cases := []struct {
		name string
		pkts []flows.Packet
		want []wantA
	}{
		{"handshake", handshakeFlowA(), []wantA{
			{"tcp_is_tcp", true},
			{"tcp_syn_count", 1}, {"tcp_synack_count", 1}, {"tcp_fin_count", 2}, {"tcp_rst_count", 0},
			{"tcp_ack_count", 7}, {"tcp_psh_count", 2},
			{"tcp_urg_count", 0}, {"tcp_ece_count", 0}, {"tcp_cwr_count", 0},
			{"tcp_complete_handshake", true}, {"tcp_graceful_close", true}, {"tcp_reset_close", false},
			{"tcp_syn_ratio", 0.25}, {"tcp_fin_ratio", 0.25}, {"tcp_rst_ratio", 0.0}, {"tcp_psh_ratio", 0.25},
			{"tcp_data_packets", 2}, {"tcp_ack_only_packets", 2},
			{"tcp_flags_anomaly", false}, {"tcp_initiator_syn", true}, {"tcp_responder_synack", true},
			{"tcp_fstat", 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x40},
			{"tcp_flags_agg", 0x1b}, {"tcp_flags_fwd", 0x1b}, {"tcp_flags_bwd", 0x1b},
		}},
		{"reversed roles and rst", reversed, []wantA{
			{"tcp_syn_count", 1}, {"tcp_synack_count", 1}, {"tcp_fin_count", 1}, {"tcp_rst_count", 2},
			{"tcp_ack_count", 4}, {"tcp_psh_count", 0},
			{"tcp_urg_count", 1}, {"tcp_ece_count", 1}, {"tcp_cwr_count", 1},
			{"tcp_initiator_syn", false}, {"tcp_responder_synack", false},
			{"tcp_complete_handshake", false}, {"tcp_graceful_close", false}, {"tcp_reset_close", true},
			{"tcp_syn_ratio", 2.0 / 6}, {"tcp_fin_ratio", 1.0 / 6}, {"tcp_rst_ratio", 2.0 / 6},
			{"tcp_data_packets", 2}, {"tcp_ack_only_packets", 0},
			{"tcp_flags_anomaly", false},
			// ack 4 > synack 1; FIN from the responder; RST; data
			{"tcp_fstat", 0x04 | 0x10 | 0x20 | 0x40},
			{"tcp_flags_agg", 0xff &^ flows.PSH},
			{"tcp_flags_fwd", int(synAckA | flows.ECE | flows.CWR | flows.RST)},
			{"tcp_flags_bwd", int(flows.SYN | flows.FIN | flows.ACK | flows.URG | flows.RST)},
		}},
		{"null flags", null, []wantA{
			{"tcp_flags_anomaly", true}, {"tcp_initiator_syn", true},
			{"tcp_fstat", 0x01 | 0x80}, {"tcp_flags_bwd", 0},
		}},
		{"packet without tcp header", mixed, []wantA{
			{"tcp_syn_count", 1}, {"tcp_syn_ratio", 0.5}, {"tcp_flags_anomaly", false},
		}},
		{"same endpoints", self, []wantA{
			{"tcp_initiator_syn", true}, {"tcp_responder_synack", true},
			{"tcp_complete_handshake", true}, {"tcp_flags_fwd", int(synAckA)}, {"tcp_flags_bwd", 0},
		}},
		{"udp", v6UDPFlowA(), []wantA{
			{"tcp_is_tcp", false}, {"tcp_syn_count", 0}, {"tcp_syn_ratio", 0.0},
			{"tcp_complete_handshake", false}, {"tcp_fstat", 0}, {"tcp_flags_agg", 0},
		}},
		{"empty", nil, []wantA{
			{"tcp_is_tcp", false}, {"tcp_psh_ratio", 0.0}, {"tcp_flags_anomaly", false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "tcp", buildFlowA(tc.pkts), &cfg), tc.want)
		})
	}
}

func TestTCPFlagsAnomalous(t *testing.T) {
	cases := []struct {
		flags uint8
		want  bool
	}{
		{0, true},
		{flows.FIN | flows.PSH | flows.URG, true},
		{flows.FIN | flows.PSH | flows.URG | flows.ACK, true},
		{flows.FIN, true},
		{flows.FIN | flows.ACK, false},
		{flows.SYN | flows.FIN, true},
		{flows.SYN | flows.RST, true},
		{flows.SYN, false},
		{flows.SYN | flows.ACK, false},
		{flows.RST, false},
		{flows.ACK | flows.PSH, false},
		{flows.ECE | flows.CWR, false},
	}
	for _, tc := range cases {
		if got := tcpFlagsAnomalous(tc.flags); got != tc.want {
			t.Errorf("tcpFlagsAnomalous(%#02x) = %v, want %v", tc.flags, got, tc.want)
		}
	}
}
