package extractors

import (
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func TestFlowMeta(t *testing.T) {
	cfg := flows.DefaultConfig()
	anon := flows.DefaultConfig()
	anon.AnonymizeIPs = true
	anon.AnonymizationSalt = "s"

	rst := []flows.Packet{
		tcpPktA(1, "10.0.0.9:1000", "10.0.0.1:8443", 40, 0, synA),
		tcpPktA(1, "10.0.0.1:8443", "10.0.0.9:1000", 40, 0, synAckA),
		tcpPktA(1, "10.0.0.9:1000", "10.0.0.1:8443", 40, 0, flows.RST),
	}
	finOnly := []flows.Packet{
		tcpPktA(1, "10.0.0.9:1000", "10.0.0.1:8443", 40, 0, synA),
		tcpPktA(2, "10.0.0.1:8443", "10.0.0.9:1000", 40, 0, synAckA),
		tcpPktA(3, "10.0.0.9:1000", "10.0.0.1:8443", 40, 0, finAckA),
	}
	icmp := ipPktA(7, "192.0.2.1:0", "192.0.2.2:0", 1, 84, 56)
	icmp.HasICMP = true

	cases := []struct {
		name string
		pkts []flows.Packet
		cfg  *flows.Config
		want []wantA
	}{
		{"handshake", handshakeFlowA(), &cfg, []wantA{
			{"src_ip", "10.0.0.1"}, {"dst_ip", "10.0.0.2"},
			{"src_port", 40000}, {"dst_port", 80},
			{"dst_port_class", "http"}, {"dst_port_class_num", 1},
			{"protocol", 6},
			{"start_time", 100.0}, {"end_time", 101.609375}, {"duration", 1.609375},
			{"total_packets", 8}, {"packets_fwd", 4}, {"packets_bwd", 4},
			{"total_bytes", 1032}, {"bytes_fwd", 316}, {"bytes_bwd", 716},
			{"payload_bytes_fwd", 100}, {"payload_bytes_bwd", 500}, {"payload_bytes_total", 600},
			{"packets_ratio", 1.0}, {"bytes_ratio", 316.0 / 716},
			{"packets_per_second", 8 / 1.609375}, {"bytes_per_second", 1032 / 1.609375},
			{"avg_packet_size", 129.0},
			{"time_first", 100.0}, {"time_last", 101.609375},
			{"flow_stat", 0x01 | 0x02 | 0x04 | 0x08 | 0x40},
			{"num_hdrs", 3}, {"hdr_desc", "ETH-IP-TCP"},
		}},
		{"anonymized", handshakeFlowA(), &anon, []wantA{
			// sha256("s10.0.0.1") and sha256("s10.0.0.2"), first 16 hex digits.
			{"src_ip", "7a05cb637d5d89a5"}, {"dst_ip", "d48bc7655bcd3588"},
			{"src_port", 40000},
		}},
		{"rst close", rst, &cfg, []wantA{
			{"dst_port_class", "https-alt"}, {"dst_port_class_num", 2},
			{"duration", 0.0}, {"packets_per_second", 3.0}, {"bytes_per_second", 120.0},
			{"packets_ratio", 2.0}, {"bytes_ratio", 2.0},
			{"flow_stat", 0x01 | 0x02 | 0x10 | 0x40},
		}},
		{"one-sided fin", finOnly, &cfg, []wantA{
			{"flow_stat", 0x01 | 0x02 | 0x04},
			{"packets_per_second", 1.5}, {"bytes_per_second", 60.0},
		}},
		{"ipv6 udp without ethernet", v6UDPFlowA(), &cfg, []wantA{
			{"src_ip", "2001:db8::1"}, {"dst_ip", "2001:db8::2"},
			{"dst_port_class", "registered"}, {"dst_port_class_num", 2},
			{"protocol", 17}, {"duration", 0.0},
			{"total_packets", 1}, {"packets_bwd", 0},
			{"packets_ratio", 1.0}, {"bytes_ratio", 140.0},
			{"packets_per_second", 1.0}, {"bytes_per_second", 140.0}, {"avg_packet_size", 140.0},
			{"payload_bytes_total", 92}, {"flow_stat", 0},
			{"num_hdrs", 2}, {"hdr_desc", "IP6-UDP"},
		}},
		{"icmp", []flows.Packet{icmp}, &cfg, []wantA{
			{"src_port", 0}, {"dst_port", 0}, {"dst_port_class", "system"}, {"dst_port_class_num", 1},
			{"hdr_desc", "ETH-IP-ICMP"}, {"flow_stat", 0},
		}},
		{"empty", nil, nil, []wantA{
			{"src_ip", "0.0.0.0"}, {"protocol", 0},
			{"total_packets", 0}, {"total_bytes", 0},
			{"packets_ratio", 0.0}, {"bytes_ratio", 0.0},
			{"packets_per_second", 0.0}, {"avg_packet_size", 0.0},
			{"flow_stat", 0}, {"num_hdrs", 2}, {"hdr_desc", "IP-PROTO0"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "flow_meta", buildFlowA(tc.pkts), tc.cfg), tc.want)
		})
	}
}

func TestPortClass(t *testing.T) {
	cases := []struct {
		port uint16
		name string
		num  int64
	}{
		{0, "system", 1},
		{22, "ssh", 1},
		{68, "dhcp", 1},
		{853, "dns-over-tls", 1},
		{1023, "system", 1},
		{1024, "registered", 2},
		{8888, "http-alt", 2},
		{27017, "mongodb", 2},
		{49151, "registered", 2},
		{49152, "dynamic", 3},
		{65535, "dynamic", 3},
	}
	for _, tc := range cases {
		name, num := portClass(tc.port)
		if name != tc.name || num != tc.num {
			t.Errorf("portClass(%d) = %q, %d, want %q, %d", tc.port, name, num, tc.name, tc.num)
		}
	}
}

func TestHeaderDesc(t *testing.T) {
	cases := []struct {
		eth, v6 bool
		proto   uint8
		want    string
		n       int64
	}{
		{true, false, 6, "ETH-IP-TCP", 3},
		{false, false, 17, "IP-UDP", 2},
		{true, true, 58, "ETH-IP6-PROTO58", 3},
		{false, false, 1, "IP-ICMP", 2},
		{true, false, 47, "ETH-IP-PROTO47", 3},
	}
	for _, tc := range cases {
		f := &flows.Flow{FirstHasEth: tc.eth, IPv6: tc.v6, Proto: tc.proto}
		got, n := headerDesc(f)
		if got != tc.want || n != tc.n {
			t.Errorf("headerDesc(eth=%v v6=%v proto=%d) = %q, %d, want %q, %d", tc.eth, tc.v6, tc.proto, got, n, tc.want, tc.n)
		}
	}
}

func TestComputeRejectsWrongWidth(t *testing.T) {
	f := buildFlowA(handshakeFlowA())
	cfg := flows.DefaultConfig()
	for _, id := range []string{"flow_meta", "timing", "size", "tcp"} {
		t.Run(id, func(t *testing.T) {
			g := Lookup(id)
			for _, n := range []int{len(g.Features) - 1, len(g.Features) + 1} {
				out := make([]schema.Value, n)
				if err := g.Compute(f, &cfg, out); err == nil {
					t.Errorf("%s: Compute into %d cells (group has %d): no error", id, n, len(g.Features))
				}
			}
		})
	}
}

// TestComputeAllocsA bounds the allocations of one Compute call: none per
// packet; timing and size allocate one scratch buffer, flow_meta the two
// address texts and the flow_id hex text.
func TestComputeAllocsA(t *testing.T) {
	cfg := flows.DefaultConfig()
	small := buildFlowA(handshakeFlowA())
	var many []flows.Packet
	for i := 0; i < 50; i++ {
		many = append(many, handshakeFlowA()...)
	}
	big := buildFlowA(many)
	for _, tc := range []struct {
		id  string
		max float64
	}{{"flow_meta", 3}, {"timing", 1}, {"size", 1}, {"tcp", 0}} {
		g := Lookup(tc.id)
		out := make([]schema.Value, len(g.Features))
		for _, f := range []*flows.Flow{small, big} {
			n := testing.AllocsPerRun(20, func() {
				if err := g.Compute(f, &cfg, out); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Errorf("%s on %d packets: %v allocations per Compute, want at most %v", tc.id, len(f.Base), n, tc.max)
			}
		}
	}
}

// TestFlowID checks flow_id against a value computed by hand with Python:
// hashlib.sha256(b"10.0.0.10:80:10.0.0.9:1234:6").hexdigest()[:32]; the
// key order compares the address text, so "10.0.0.10" sorts before
// "10.0.0.9", and both directions give the same id.
func TestFlowID(t *testing.T) {
	f := &flows.Flow{InitIP: [16]byte{10, 0, 0, 9}, RespIP: [16]byte{10, 0, 0, 10}, InitPort: 1234, RespPort: 80, Proto: 6}
	r := &flows.Flow{InitIP: [16]byte{10, 0, 0, 10}, RespIP: [16]byte{10, 0, 0, 9}, InitPort: 80, RespPort: 1234, Proto: 6}
	got := flowID(nil, f, f.InitAddr().String(), f.RespAddr().String())
	rev := flowID(nil, r, r.InitAddr().String(), r.RespAddr().String())
	const want = "f509ba21dc044bde5983fe15269992e8"
	if got != want || rev != want {
		t.Errorf("flowID = %s / %s, want %s", got, rev, want)
	}
}
