package extractors

import (
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/internal/testgen"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/schema"
)

// fpPkt is one packet of a synthetic fingerprint flow: time (s), sent by the
// initiator, IP total length.
type fpPkt struct {
	ts  float64
	fwd bool
	len int
}

// fpFlow builds a flow between client and server ("ip:port") with protocol
// proto (6 TCP, 17 UDP, else a portless protocol such as ESP).
func fpFlow(proto uint8, client, server string, pkts ...fpPkt) *flows.Flow {
	var ps []flows.Packet
	for _, p := range pkts {
		src, dst := client, server
		if !p.fwd {
			src, dst = server, client
		}
		var q flows.Packet
		switch proto {
		case 6:
			q = tcpPktA(p.ts, src, dst, p.len, max(p.len-40, 0), ackA)
		case 17:
			q = udpPktA(p.ts, src, dst, p.len, max(p.len-28, 0))
		default:
			q = ipPktA(p.ts, src, dst, proto, p.len, p.len-20)
		}
		ps = append(ps, q)
	}
	return buildFlowA(ps)
}

// fpSame returns n packets of IP length l, alternating directions, dt apart.
func fpSame(n, l int, dt float64) []fpPkt {
	var ps []fpPkt
	for i := range n {
		ps = append(ps, fpPkt{float64(i) * dt, i%2 == 0, l})
	}
	return ps
}

// fpSum adds float64 values left to right at run time (a constant
// expression would be exact, unlike the group's float sums).
func fpSum(v ...float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func TestFingerprintTor(t *testing.T) {
	cfg := flows.DefaultConfig()
	// 7 Tor-cell sized packets of 10 (not over 70%); sizes close (CV 0.053).
	var seventy []fpPkt
	for i := range 10 {
		l := 586
		if i >= 7 {
			l = 520
		}
		seventy = append(seventy, fpPkt{float64(i) / 64, i%2 == 0, l})
	}
	mixed := []fpPkt{{0, true, 586}, {0.01, false, 586}, {0.02, true, 586}, {0.03, false, 40}}
	tests := []struct {
		name string
		f    *flows.Flow
		want []wantA
	}{
		{"586-byte cells to 9001", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:9001", fpSame(10, 586, 0.01)...), []wantA{
			{"likely_tor", true}, {"tor_confidence", fpSum(0.4, 0.3, 0.1)}, {"traffic_type", "tor"},
			{"likely_vpn", false}, {"vpn_confidence", 0.0}, {"vpn_type", ""}, {"likely_doh", false}, {"doh_confidence", 0.0},
		}},
		{"586-byte cells to port 80", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:80", fpSame(10, 586, 0.01)...), []wantA{
			{"likely_tor", true}, {"tor_confidence", fpSum(0.4, 0.3)}, {"traffic_type", "tor"},
		}},
		{"75% cells, sizes vary, port 9030", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:9030", mixed...), []wantA{
			{"likely_tor", true}, {"tor_confidence", 0.5}, {"traffic_type", "tor"},
		}},
		{"exactly 70% cells is not over 70%", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:80", seventy...), []wantA{
			{"likely_tor", false}, {"tor_confidence", 0.3}, {"traffic_type", "encrypted"},
		}},
		{"one packet to 443: CV 0", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:443", fpPkt{0, true, 60}), []wantA{
			{"likely_tor", false}, {"tor_confidence", fpSum(0.3, 0.1)},
		}},
		{"no packets", &flows.Flow{}, []wantA{
			{"likely_tor", false}, {"tor_confidence", 0.0}, {"likely_vpn", false}, {"vpn_confidence", 0.0},
			{"vpn_type", ""}, {"likely_doh", false}, {"doh_confidence", 0.0}, {"traffic_type", "encrypted"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "fingerprint", tc.f, &cfg), tc.want)
		})
	}
	// The same 70% flow is Tor-like for the padding group (at least 70%).
	checkValuesA(t, computeA(t, "padding", fpFlow(6, "10.0.0.1:40000", "10.0.0.2:80", seventy...), &cfg), []wantA{
		{"tor_cell_ratio", 0.7}, {"is_tor_like", true},
	})
}

func TestFingerprintVPN(t *testing.T) {
	cfg := flows.DefaultConfig()
	two := []fpPkt{{0, true, 200}, {1, false, 300}}
	large := []fpPkt{{0, true, 1450}, {1, false, 1450}, {2, true, 1400}, {3, false, 40}}
	tests := []struct {
		name         string
		f            *flows.Flow
		likely       bool
		conf         float64
		typ, traffic string
	}{
		{"UDP to 1194", fpFlow(17, "10.0.0.1:50000", "10.0.0.2:1194", two...), true, 0.5, "openvpn", "vpn:openvpn"},
		{"UDP from 1194", fpFlow(17, "10.0.0.1:1194", "10.0.0.2:50000", two...), true, 0.5, "openvpn", "vpn:openvpn"},
		{"TCP to 1194", fpFlow(6, "10.0.0.1:50000", "10.0.0.2:1194", two...), false, 0, "", "encrypted"},
		{"UDP to 51820", fpFlow(17, "10.0.0.1:50000", "10.0.0.2:51820", two...), true, 0.5, "wireguard", "vpn:wireguard"},
		{"UDP from 51820", fpFlow(17, "10.0.0.1:51820", "10.0.0.2:50000", two...), false, 0, "", "encrypted"},
		{"1194 to 51820: the last rule names it", fpFlow(17, "10.0.0.1:1194", "10.0.0.2:51820", two...), true, 1.0, "wireguard", "vpn:wireguard"},
		{"ESP", fpFlow(50, "10.0.0.1:0", "10.0.0.2:0", two...), true, 0.7, "ipsec-esp", "vpn:ipsec-esp"},
		{"AH", fpFlow(51, "10.0.0.1:0", "10.0.0.2:0", two...), true, 0.7, "ipsec-ah", "vpn:ipsec-ah"},
		{"IKE 500", fpFlow(17, "10.0.0.1:500", "10.0.0.2:500", two...), true, 0.4, "ipsec-ike", "vpn:ipsec-ike"},
		{"IKE NAT-T 4500", fpFlow(17, "10.0.0.1:4500", "10.0.0.2:4500", two...), true, 0.4, "ipsec-ike", "vpn:ipsec-ike"},
		{"L2TP", fpFlow(17, "10.0.0.1:1701", "10.0.0.2:1701", two...), true, 0.4, "l2tp", "vpn:l2tp"},
		{"75% of packets 1400-1500 bytes", fpFlow(6, "10.0.0.1:50000", "10.0.0.2:8443", large...), false, 0.2, "", "encrypted"},
		{"OpenVPN and large packets", fpFlow(17, "10.0.0.1:50000", "10.0.0.2:1194", large...), true, fpSum(0.5, 0.2), "openvpn", "vpn:openvpn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "fingerprint", tc.f, &cfg), []wantA{
				{"likely_vpn", tc.likely}, {"vpn_confidence", tc.conf}, {"vpn_type", tc.typ}, {"traffic_type", tc.traffic},
			})
		})
	}
}

// fpHello returns the client's first flight of a crypto/tls handshake
// (a TLS record holding the ClientHello) naming server.
func fpHello(t *testing.T, server string) []byte {
	t.Helper()
	flights, err := testgen.TLSHandshake(testgen.TLSConfig{Version: tls.VersionTLS13, ServerName: server,
		Seed: 11, Time: time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return flights[0].Data
}

func TestFingerprintDoH(t *testing.T) {
	cfg := flows.DefaultConfig()
	// A short query-sized exchange: 4 packets each way, initiator 100-byte
	// packets (400 bytes), responder 200-byte packets (800), in 0.1 s.
	var short []fpPkt
	for i := range 8 {
		l := 100
		if i%2 == 1 {
			l = 200
		}
		short = append(short, fpPkt{float64(i) / 64, i%2 == 0, l})
	}
	behaviour := fpSum(0.15, 0.15, 0.1)
	long := fpSame(30, 120, 0.1) // 30 packets over 2.9 s
	withHello := func(f *flows.Flow, server string) *flows.Flow {
		f.App.Stream[0].Data = fpHello(t, server)
		return f
	}
	withQUIC := func(f *flows.Flow, server string) *flows.Flow {
		f.App.Datagrams[0] = []flows.Datagram{{Data: qSeal(t, quic.V1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, qHello(server, "h3"))}}
		return f
	}
	// ratio 10 is not under 10: 2 x 100 bytes up, 2 x 1000 down.
	ratio10 := []fpPkt{{0, true, 100}, {0.01, false, 1000}, {0.02, true, 100}, {0.03, false, 1000}}
	tests := []struct {
		name    string
		f       *flows.Flow
		likely  bool
		conf    float64
		traffic string
	}{
		{"behaviour: short exchange", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", short...), true, behaviour, "doh"},
		{"behaviour: 16 packets", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", fpSame(16, 100, 0.01)...), false, 0, "encrypted"},
		{"behaviour: directions 2 and 6", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443",
			fpPkt{0, true, 100}, fpPkt{0, true, 100}, fpPkt{0, false, 100}, fpPkt{0, false, 100}, fpPkt{0, false, 100},
			fpPkt{0, false, 100}, fpPkt{0, false, 100}, fpPkt{0, false, 100}), false, 0, "encrypted"},
		{"behaviour: a 601-byte query packet", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443",
			fpPkt{0, true, 601}, fpPkt{0, false, 800}, fpPkt{0, true, 100}, fpPkt{0, false, 800}), false, 0, "encrypted"},
		{"behaviour: bytes ratio 10", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", ratio10...), false, fpSum(0.15, 0.1), "encrypted"},
		{"behaviour: TCP only", fpFlow(17, "10.0.0.1:50000", "192.0.2.7:443", short...), false, 0, "encrypted"},
		{"behaviour: port 8443", fpFlow(6, "10.0.0.1:50000", "192.0.2.7:8443", short...), false, 0, "encrypted"},
		{"resolver address, long flow", fpFlow(6, "10.0.0.1:50000", "1.1.1.1:443", long...), true, 0.35, "doh"},
		{"resolver address, short flow: no behavioural score", fpFlow(6, "10.0.0.1:50000", "8.8.8.8:443", short...), true, fpSum(0.35, 0.1, 0.1), "doh"},
		{"IPv6 resolver address", fpFlow(6, "[2001:db8::1]:50000", "[2606:4700:4700::1111]:443", long...), true, 0.35, "doh"},
		{"resolver address over QUIC", fpFlow(17, "10.0.0.1:50000", "9.9.9.9:443", long...), true, 0.35, "doh"},
		{"resolver address, port 853 (DoT)", fpFlow(6, "10.0.0.1:50000", "8.8.8.8:853", long...), false, 0, "encrypted"},
		{"resolver name", withHello(fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", long...), "dns.google"), true, 0.6, "doh"},
		{"resolver name below a listed one, short flow", withHello(fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", short...), "mozilla.cloudflare-dns.com"),
			true, fpSum(0.6, 0.1, 0.1), "doh"},
		{"resolver name and address: the name rule", withHello(fpFlow(6, "10.0.0.1:50000", "1.1.1.1:443", long...), "cloudflare-dns.com"), true, 0.6, "doh"},
		{"other name: behaviour", withHello(fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", short...), "www.example.com"), true, behaviour, "doh"},
		{"other name, long flow", withHello(fpFlow(6, "10.0.0.1:50000", "192.0.2.7:443", long...), "www.example.com"), false, 0, "encrypted"},
		{"resolver name over QUIC", withQUIC(fpFlow(17, "10.0.0.1:50000", "192.0.2.7:443", long...), "dns.adguard.com"), true, 0.6, "doh"},
		{"other name over QUIC", withQUIC(fpFlow(17, "10.0.0.1:50000", "192.0.2.7:443", long...), "www.example.com"), false, 0, "encrypted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "fingerprint", tc.f, &cfg), []wantA{
				{"likely_doh", tc.likely}, {"doh_confidence", tc.conf}, {"traffic_type", tc.traffic},
			})
		})
	}
}

// TestFingerprintCorpus checks real DoH, OpenVPN, WireGuard and IPsec flows
// (nDPI names them in ndpi/result/*.out). The columns outside
// corrected.tsv must equal JoyfulJay's reference row; the DoH columns
// differ where a known resolver name or address is seen (JoyfulJay's
// server-name path never runs, and its behavioural score needs at most 15
// packets).
func TestFingerprintCorpus(t *testing.T) {
	tests := []struct {
		name               string
		capture            string
		proto              uint8
		initPort, respPort uint16
		want               []wantA
		jjDoH              string // JoyfulJay's doh_confidence
	}{
		{"DoH, server name mozilla.cloudflare-dns.com", "ndpi/pcap/no_sni.pcap", 6, 51606, 443, []wantA{
			{"likely_doh", true}, {"doh_confidence", 0.6}, {"traffic_type", "doh"}, {"tor_confidence", 0.1}, {"likely_vpn", false},
		}, "0.0"},
		{"same server, 7 packets, no server name: behaviour", "ndpi/pcap/no_sni.pcap", 6, 51331, 443, []wantA{
			{"likely_doh", true}, {"doh_confidence", 0.4}, {"traffic_type", "doh"},
		}, "0.4"},
		{"DoH to 1.1.1.1 without a server name", "ndpi/pcap/doh.pcapng", 6, 35996, 443, []wantA{
			{"likely_doh", true}, {"doh_confidence", 0.35}, {"traffic_type", "doh"},
		}, "0.0"},
		{"DoH to 1.1.1.1 beside a dns2tcp tunnel", "ndpi/pcap/dns2tcp_tunnel.pcap", 6, 44404, 443, []wantA{
			{"likely_doh", true}, {"doh_confidence", 0.35}, {"traffic_type", "doh"},
		}, "0.0"},
		{"OpenVPN over UDP 1194", "ndpi/pcap/openvpn.pcap", 17, 51146, 1194, []wantA{
			{"likely_vpn", true}, {"vpn_confidence", 0.5}, {"vpn_type", "openvpn"}, {"traffic_type", "vpn:openvpn"},
			{"likely_doh", false}, {"doh_confidence", 0.0},
		}, "0.0"},
		{"OpenVPN over TCP 1194: the rule wants UDP", "ndpi/pcap/openvpn.pcap", 6, 39772, 1194, []wantA{
			{"likely_vpn", false}, {"vpn_confidence", 0.0}, {"vpn_type", ""}, {"traffic_type", "encrypted"},
		}, "0.0"},
		{"WireGuard to 51820", "ndpi/pcap/wireguard.pcap", 17, 43462, 51820, []wantA{
			{"likely_vpn", true}, {"vpn_confidence", 0.5}, {"vpn_type", "wireguard"}, {"traffic_type", "vpn:wireguard"},
		}, "0.0"},
		{"WireGuard seen from 51820: the responder port decides", "ndpi/pcap/wireguard.pcap", 17, 51820, 36116, []wantA{
			{"likely_vpn", false}, {"vpn_confidence", 0.0}, {"vpn_type", ""}, {"traffic_type", "encrypted"},
		}, "0.0"},
		{"IPsec ESP", "ndpi/pcap/esp.pcapng", 50, 0, 0, []wantA{
			{"likely_vpn", true}, {"vpn_confidence", 0.7}, {"vpn_type", "ipsec-esp"}, {"tor_confidence", 0.3},
			{"traffic_type", "vpn:ipsec-esp"},
		}, "0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := corpusFlow(t, tc.capture, tc.proto, tc.initPort, tc.respPort, "fingerprint")
			cfg := conformanceConfig()
			checkValuesA(t, computeA(t, "fingerprint", f, &cfg), tc.want)
			row := refRow(t, tc.capture, tc.proto, tc.initPort, tc.respPort)
			checkRefGroup(t, "fingerprint", f, row, true)
			if row["doh_confidence"] != tc.jjDoH {
				t.Errorf("JoyfulJay's doh_confidence is %s, want %s", row["doh_confidence"], tc.jjDoH)
			}
		})
	}
}

// TestOverlaysSample checks the padding, fingerprint and entropy groups on
// the overlay flows our generator writes into the sample capture
// (internal/testgen): a Tor-like link of 586-byte cells to OR port 9001,
// WireGuard to 51820, OpenVPN to 1194, and DNS over HTTPS to 1.1.1.1 with
// server name cloudflare-dns.com.
func TestOverlaysSample(t *testing.T) {
	specs, err := testgen.SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]testgen.FlowSpec{}
	for _, s := range specs {
		spec[s.Conv] = s
	}
	cfg := flows.DefaultConfig()
	fs := captureFlows(t, filepath.Join("..", "testdata", testgen.SamplePcap), cfg, PlanGroups("padding", "fingerprint", "entropy").Needs)
	tests := []struct {
		conv string
		want []wantA
	}{
		// 60 cells of 586 bytes 10 ms apart, nothing else: sizes constant,
		// the rate constant, every packet a Tor cell.
		{"tor", []wantA{
			{"pkt_size_variance", 0.0}, {"is_constant_size", true}, {"dominant_size_mode", 586}, {"dominant_size_ratio", 1.0},
			{"is_constant_rate", true}, {"tor_cell_count", 60}, {"tor_cell_ratio", 1.0}, {"is_tor_like", true},
			{"padding_score", 1.0},
			{"likely_tor", true}, {"tor_confidence", fpSum(0.4, 0.3, 0.1)}, {"likely_vpn", false}, {"likely_doh", false},
			{"traffic_type", "tor"},
			{"payload_bytes_sampled", 512},
		}},
		{"wireguard", []wantA{
			{"tor_cell_count", 0}, {"is_tor_like", false},
			{"likely_vpn", true}, {"vpn_confidence", 0.5}, {"vpn_type", "wireguard"}, {"traffic_type", "vpn:wireguard"},
			{"likely_tor", false}, {"tor_confidence", 0.0},
		}},
		{"openvpn", []wantA{
			{"likely_vpn", true}, {"vpn_confidence", 0.5}, {"vpn_type", "openvpn"}, {"traffic_type", "vpn:openvpn"},
		}},
		// 20 packets in 0.12 s: the name rule's 0.6, +0.1 under 1 s, nothing
		// for the packet count (not under 20).
		{"doh", []wantA{
			{"likely_doh", true}, {"doh_confidence", fpSum(0.6, 0.1)}, {"traffic_type", "doh"},
			{"tor_confidence", 0.1}, {"likely_tor", false}, {"likely_vpn", false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.conv, func(t *testing.T) {
			s, ok := spec[tc.conv]
			if !ok {
				t.Fatalf("the sample has no %s conversation", tc.conv)
			}
			f := findFlow(fs, s.InitPort, s.RespPort)
			if f == nil || f.Packets != s.Packets() {
				t.Fatalf("no flow %d -> %d with %d packets", s.InitPort, s.RespPort, s.Packets())
			}
			got := map[string]schema.Value{}
			for _, id := range []string{"padding", "fingerprint", "entropy"} {
				for k, v := range computeA(t, id, f, &cfg) {
					got[k] = v
				}
			}
			checkValuesA(t, got, tc.want)
			checkValuesA(t, got, []wantA{{"tor_cell_count", s.TorCells}})
		})
	}
	// The cells are TLS records of random bytes: the sample's entropy is
	// near 8 bits per byte (each record starts with a 5-byte header).
	if f := findFlow(fs, spec["tor"].InitPort, 9001); f != nil {
		if e := computeA(t, "entropy", f, &cfg)["entropy_payload"].F; e < 7.5 {
			t.Errorf("Tor cells: entropy_payload %v, want above 7.5", e)
		}
	}
}
