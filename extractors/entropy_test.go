package extractors

import (
	"bytes"
	"math"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// sampleFlow returns a flow whose payload sample is fwd and bwd.
func sampleFlow(fwd, bwd []byte) *flows.Flow {
	f := &flows.Flow{}
	f.Sample[0], f.Sample[1] = fwd, bwd
	return f
}

func TestEntropy(t *testing.T) {
	cfg := flows.DefaultConfig()
	all := make([]byte, 256) // every byte value once
	for i := range all {
		all[i] = byte(i)
	}
	// 300 bytes: 0..255 then 0..43, so 44 values twice and 212 once;
	// expected count 300/256 each.
	three := append(append([]byte(nil), all...), all[:44]...)
	e := 300.0 / 256
	threeVar := 44*(2-e)*(2-e) + 212*(1-e)*(1-e)
	tests := []struct {
		name     string
		fwd, bwd []byte
		want     []wantA
	}{
		// S = "aaaa" + "ab": a 5 times, b once.
		{"text", []byte("aaaa"), []byte("ab"), []wantA{
			{"entropy_payload", -(5.0/6*math.Log2(5.0/6) + 1.0/6*math.Log2(1.0/6))},
			{"entropy_initiator", 0.0}, {"entropy_responder", 1.0}, {"entropy_ratio", 0.0},
			{"byte_distribution_uniformity", 0.0}, // under 256 bytes
			{"printable_ratio", 1.0}, {"null_ratio", 0.0}, {"high_byte_ratio", 0.0}, {"payload_bytes_sampled", 6},
		}},
		{"initiator only: ratio +Inf", []byte{0, 0, 0x80, 0xff}, nil, []wantA{
			{"entropy_payload", 1.5}, {"entropy_initiator", 1.5}, {"entropy_responder", 0.0}, {"entropy_ratio", math.Inf(1)},
			{"printable_ratio", 0.0}, {"null_ratio", 0.5}, {"high_byte_ratio", 0.5}, {"payload_bytes_sampled", 4},
		}},
		{"responder only", nil, []byte("xy"), []wantA{
			{"entropy_initiator", 0.0}, {"entropy_responder", 1.0}, {"entropy_ratio", 0.0},
		}},
		{"both directions", []byte("abcd"), []byte("ab"), []wantA{
			{"entropy_payload", -(2.0/6*math.Log2(2.0/6)*2 + 1.0/6*math.Log2(1.0/6)*2)},
			{"entropy_initiator", 2.0}, {"entropy_responder", 1.0}, {"entropy_ratio", 2.0},
		}},
		// Control bytes other than tab, LF and CR belong to no class.
		{"control bytes", []byte{1, 0x7f, '\t', '\n', '\r', 0x1f, ' ', '~'}, nil, []wantA{
			{"printable_ratio", 5.0 / 8}, {"null_ratio", 0.0}, {"high_byte_ratio", 0.0},
		}},
		{"every byte value once", all, nil, []wantA{
			{"entropy_payload", 8.0}, {"byte_distribution_uniformity", 1.0},
			{"printable_ratio", 98.0 / 256}, {"null_ratio", 1.0 / 256}, {"high_byte_ratio", 128.0 / 256},
			{"payload_bytes_sampled", 256},
		}},
		// (256-1)^2 + 255 * 1^2 = 65280 over 256^2.
		{"256 zero bytes", make([]byte, 256), nil, []wantA{
			{"entropy_payload", 0.0}, {"byte_distribution_uniformity", 1 - 65280.0/65536}, {"null_ratio", 1.0},
		}},
		{"300 bytes over both directions", three[:150], three[150:], []wantA{
			{"byte_distribution_uniformity", 1 - threeVar/(300*300)}, {"payload_bytes_sampled", 300},
		}},
		{"empty", nil, nil, []wantA{
			{"entropy_payload", 0.0}, {"entropy_initiator", 0.0}, {"entropy_responder", 0.0}, {"entropy_ratio", 0.0},
			{"byte_distribution_uniformity", 0.0}, {"printable_ratio", 0.0}, {"null_ratio", 0.0}, {"high_byte_ratio", 0.0},
			{"payload_bytes_sampled", 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValuesA(t, computeA(t, "entropy", sampleFlow(tc.fwd, tc.bwd), &cfg), tc.want)
		})
	}
}

// payloadPkt returns a TCP (or UDP) packet from src to dst carrying data; the
// declared payload is declared bytes (at least len(data)).
func payloadPkt(ts float64, src, dst string, udp bool, data []byte, declared int) flows.Packet {
	declared = max(declared, len(data))
	var p flows.Packet
	if udp {
		p = udpPktA(ts, src, dst, 28+declared, declared)
	} else {
		p = tcpPktA(ts, src, dst, 40+declared, declared, pshAckA)
	}
	p.Payload = data
	return p
}

// TestEntropySample checks the assembler's payload sample (flows.NeedSample):
// per direction the TCP and UDP payload bytes as captured, in arrival order,
// cut at entropy_sample_bytes.
func TestEntropySample(t *testing.T) {
	c, s := "10.0.0.1:40000", "10.0.0.2:80"
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	icmp := ipPktA(0.5, "10.0.0.1:0", "10.0.0.2:0", 1, 60, 32)
	icmp.HasICMP = true
	icmp.Payload = rep('i', 32)
	tests := []struct {
		name     string
		budget   int
		pkts     []flows.Packet
		fwd, bwd []byte
	}{
		{"chunks in order, the last one cut", 256, []flows.Packet{
			payloadPkt(0, c, s, false, rep('a', 100), 0),
			payloadPkt(1, s, c, false, rep('x', 10), 0),
			payloadPkt(2, c, s, false, rep('b', 100), 0),
			tcpPktA(3, c, s, 40, 0, ackA), // no payload
			payloadPkt(4, c, s, false, rep('c', 100), 0),
			payloadPkt(5, c, s, false, rep('d', 100), 0), // over the budget
			payloadPkt(6, s, c, false, rep('y', 10), 0),
		}, cat(rep('a', 100), rep('b', 100), rep('c', 56)), cat(rep('x', 10), rep('y', 10))},
		{"snaplen: only the captured bytes", 256, []flows.Packet{
			payloadPkt(0, c, s, false, rep('a', 20), 1400),
			payloadPkt(1, c, s, false, rep('b', 20), 0),
		}, cat(rep('a', 20), rep('b', 20)), nil},
		{"entropy_sample_bytes 16", 16, []flows.Packet{
			payloadPkt(0, c, s, true, rep('a', 10), 0),
			payloadPkt(1, c, s, true, rep('b', 10), 0),
			payloadPkt(2, s, c, true, rep('x', 30), 0),
		}, cat(rep('a', 10), rep('b', 6)), rep('x', 16)},
		{"entropy_sample_bytes 0", 0, []flows.Packet{payloadPkt(0, c, s, true, rep('a', 10), 0)}, nil, nil},
		{"ICMP payload is not sampled", 256, []flows.Packet{icmp}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := flows.DefaultConfig()
			cfg.EntropySampleBytes = tc.budget
			f := assembleOne(t, tc.pkts, cfg, Lookup("entropy").Needs)
			if !bytes.Equal(f.Sample[0], tc.fwd) || !bytes.Equal(f.Sample[1], tc.bwd) {
				t.Errorf("sample = %q / %q, want %q / %q", f.Sample[0], f.Sample[1], tc.fwd, tc.bwd)
			}
			checkValuesA(t, computeA(t, "entropy", f, &cfg), []wantA{{"payload_bytes_sampled", len(tc.fwd) + len(tc.bwd)}})
		})
	}
	// Without NeedSample the assembler keeps no sample.
	cfg := flows.DefaultConfig()
	if f := assembleOne(t, tests[0].pkts, cfg, flows.NeedBase); f.Sample[0] != nil || f.Sample[1] != nil {
		t.Errorf("sample kept without NeedSample: %d / %d bytes", len(f.Sample[0]), len(f.Sample[1]))
	}
}

// TestEntropySampleReuse: a recycled flow starts with an empty sample in
// the previous flow's buffers.
func TestEntropySampleReuse(t *testing.T) {
	cfg := flows.DefaultConfig()
	a := flows.NewAssembler(cfg, flows.NeedSample)
	one := payloadPkt(0, "10.0.0.1:1", "10.0.0.2:2", true, []byte("first flow"), 0)
	a.Add(&one)
	a.Flush()
	f := a.Pop()
	if string(f.Sample[0]) != "first flow" || cap(f.Sample[0]) != 256 {
		t.Fatalf("sample %q (capacity %d), want %q in a 256-byte buffer", f.Sample[0], cap(f.Sample[0]), "first flow")
	}
	buf := &f.Sample[0][:1][0]
	a.Release(f)
	two := payloadPkt(1, "10.0.0.3:1", "10.0.0.4:2", true, []byte("second"), 0)
	a.Add(&two)
	a.Flush()
	g := a.Pop()
	if g != f || string(g.Sample[0]) != "second" || len(g.Sample[1]) != 0 || &g.Sample[0][0] != buf {
		t.Errorf("recycled flow: sample %q / %q, want %q in the same buffer", g.Sample[0], g.Sample[1], "second")
	}
}

// TestEntropyCorpus checks the entropy group on real flows. The sample
// holds the declared payload only (corrected.tsv): on the WireGuard flow,
// whose frames carry no padding, every column equals JoyfulJay's; on the DoH
// flows JoyfulJay's sample also holds the Ethernet padding of short frames
// (zero bytes), so its null_ratio is higher.
func TestEntropyCorpus(t *testing.T) {
	tests := []struct {
		name               string
		capture            string
		proto              uint8
		initPort, respPort uint16
		padded             bool
		want               []wantA
	}{
		{"WireGuard", "ndpi/pcap/wireguard.pcap", 17, 43462, 51820, false, []wantA{
			{"entropy_payload", 7.016529389475526}, {"entropy_initiator", 6.70664941389348},
			{"entropy_responder", 6.499317950082096}, {"byte_distribution_uniformity", 0.9794082641601562},
			{"printable_ratio", 0.349609375}, {"null_ratio", 0.140625}, {"high_byte_ratio", 0.4140625}, {"payload_bytes_sampled", 512},
		}},
		{"DoH to 1.1.1.1", "ndpi/pcap/doh.pcapng", 6, 35996, 443, true, []wantA{
			{"entropy_payload", 6.74174780805955}, {"entropy_initiator", 5.773204011803137}, {"entropy_responder", 6.9152300430570435},
			{"null_ratio", 0.119140625}, // JoyfulJay 0.142578125
			{"payload_bytes_sampled", 512},
		}},
		{"DoH to mozilla.cloudflare-dns.com", "ndpi/pcap/no_sni.pcap", 6, 51606, 443, true, []wantA{
			{"entropy_payload", 6.839340065498047}, {"entropy_initiator", 6.123056692824802},
			{"null_ratio", 0.123046875}, // JoyfulJay 0.134765625
			{"payload_bytes_sampled", 512},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Assembled as the reference run was; padded: a packet of the
			// flow has link padding after its IP datagram.
			ours, _, err := readRefFlows(corpusPath(t, tc.capture), conformanceConfig(), Lookup("entropy").Needs)
			if err != nil {
				t.Fatal(err)
			}
			var f *flows.Flow
			for _, o := range ours {
				if o.f.Proto == tc.proto && o.f.InitPort == tc.initPort && o.f.RespPort == tc.respPort {
					f = o.f
					if o.padded != tc.padded || o.cut {
						t.Errorf("padded frames %v, cut payloads %v; want %v, false", o.padded, o.cut, tc.padded)
					}
				}
			}
			if f == nil {
				t.Fatalf("no flow %d %d -> %d", tc.proto, tc.initPort, tc.respPort)
			}
			cfg := conformanceConfig()
			got := computeA(t, "entropy", f, &cfg)
			checkValuesA(t, got, tc.want)
			row := refRow(t, tc.capture, tc.proto, tc.initPort, tc.respPort)
			for _, ft := range Lookup("entropy").Features {
				equal, _ := refCell(ft.Name, got[ft.Name], row[ft.Name])
				if !tc.padded && !equal {
					t.Errorf("%s = %v, JoyfulJay %s (no padded frame: they must agree)", ft.Name, got[ft.Name].Any(), row[ft.Name])
				}
			}
			if jj, _ := refCell("null_ratio", got["null_ratio"], row["null_ratio"]); tc.padded && jj {
				t.Errorf("null_ratio = %v equals JoyfulJay's, which counts the padding zeros", got["null_ratio"].F)
			}
		})
	}
}
