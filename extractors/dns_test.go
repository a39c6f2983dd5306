package extractors

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/internal/testgen"
)

// TestDNSCorpusResponses checks the response columns of every UDP DNS flow
// of some corpus captures against gopacket's DNS decoder: the first
// datagram gopacket decodes as a response gives the RCODE, the section
// counts, RA and the TTL range of the answers.
func TestDNSCorpusResponses(t *testing.T) {
	corpus := corpusDir(t)
	captures := []string{
		"gopacket/test_dns.pcap", "ja4/pcap/latest.pcapng", "wireshark/dns.cap", "ja4/pcap/v6.pcap",
		"ndpi/pcap/alexa-app.pcapng", "ndpi/pcap/teams.pcap", "ndpi/pcap/android.pcap", "ndpi/pcap/anyconnect-vpn.pcap",
		"ndpi/pcap/iphone.pcap", "ndpi/pcap/KakaoTalk_chat.pcap", "ja4/pcap/tls3.pcapng", "ndpi/pcap/weibo.pcap",
		"ndpi/pcap/dns_exfiltration.pcap", "ndpi/pcap/bad-dns-traffic.pcap", "ndpi/pcap/dns-invalid-chars.pcap",
		"ndpi/pcap/dns_ambiguous_names.pcap", "ndpi/pcap/dns_long_domainname.pcap", "ndpi/pcap/googledns_android10.pcap",
		"ndpi/pcap/malformed_dns.pcap", "ndpi/pcap/dns_invert_query.pcapng",
	}
	compared := 0
	for _, c := range captures {
		t.Run(c, func(t *testing.T) {
			for _, f := range captureFlows(t, filepath.Join(corpus, c), conformanceConfig(), PlanGroups("ssh", "dns").Needs) {
				if f.Proto != 17 || (f.InitPort != 53 && f.RespPort != 53) {
					continue
				}
				resp := sdFirstResponse(f)
				if resp == nil {
					continue
				}
				compared++
				var minTTL, maxTTL int
				for i, a := range resp.Answers {
					if i == 0 || int(a.TTL) < minTTL {
						minTTL = int(a.TTL)
					}
					if i == 0 || int(a.TTL) > maxTTL {
						maxTTL = int(a.TTL)
					}
				}
				got := cCompute(t, "dns", f)
				t.Run(flows.Addr(f.InitIP, f.IPv6).String(), func(t *testing.T) {
					sdCheck(t, got, map[string]any{
						"dns_detected": true, "dns_is_response": true,
						"dns_response_code": int(resp.ResponseCode), "dns_answer_count": int(resp.ANCount),
						"dns_authority_count": int(resp.NSCount), "dns_additional_count": int(resp.ARCount),
						"dns_recursion_available": resp.RA, "dns_min_ttl": minTTL, "dns_max_ttl": maxTTL,
					})
				})
			}
		})
	}
	if compared < 150 {
		t.Errorf("compared %d responses, want at least 150", compared)
	}
}

// sdFirstResponse returns the first datagram of f (in packet order) that
// gopacket decodes whole as a DNS response, or nil.
func sdFirstResponse(f *flows.Flow) *layers.DNS {
	var ds []flows.Datagram
	ds = append(ds, f.App.Datagrams[0]...)
	ds = append(ds, f.App.Datagrams[1]...)
	var best *layers.DNS
	bestIndex := -1
	for _, d := range ds {
		if bestIndex >= 0 && d.Index > bestIndex {
			continue
		}
		var m layers.DNS
		if m.DecodeFromBytes(d.Data, gopacket.NilDecodeFeedback) != nil || !m.QR {
			continue
		}
		best, bestIndex = &m, d.Index
	}
	return best
}

// TestDNSCorpus pins hand-checked flows (values read with tshark).
func TestDNSCorpus(t *testing.T) {
	corpus := corpusDir(t)
	tests := []struct {
		capture string
		port    uint16 // the client's port
		want    map[string]any
	}{
		// 9 answers: a CNAME (TTL 257) and eight A records (TTL 60).
		{"ja4/pcap/latest.pcapng", 61015, map[string]any{
			"dns_detected": true, "dns_query_name": "pdx-col.eum-appdynamics.com", "dns_query_type": 1, "dns_query_type_str": "A",
			"dns_is_query": true, "dns_is_response": true, "dns_response_code": 0, "dns_response_code_str": "NOERROR",
			"dns_answer_count": 9, "dns_authority_count": 0, "dns_additional_count": 0,
			"dns_min_ttl": 60, "dns_max_ttl": 257, "dns_recursion_desired": true, "dns_recursion_available": true}},
		// The response was cut by the snapshot length inside the first
		// answer's data: its TTL (0x0002a201) was captured, the second
		// answer was not.
		{"wireshark/captura.NNTP.cap", 53155, map[string]any{
			"dns_query_name": "news.pntic.mec.es", "dns_answer_count": 2, "dns_min_ttl": 172545, "dns_max_ttl": 172545}},
		// JoyfulJay keeps control bytes of a label as they are.
		{"ndpi/pcap/dns-invalid-chars.pcap", 0, map[string]any{
			"dns_query_name": "www.allyourba\x04\x05\x06arebelongto.cn", "dns_query_type_str": "A"}},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			fs := captureFlows(t, filepath.Join(corpus, tc.capture), conformanceConfig(), PlanGroups("ssh", "dns").Needs)
			var f *flows.Flow
			if tc.port != 0 {
				f = flowByPort(t, fs, 17, tc.port)
			} else {
				f = flowByPort(t, fs, 17, 53)
			}
			sdCheck(t, cCompute(t, "dns", f), tc.want)
		})
	}
}

// sdDNS builds a DNS message with gopacket: a question and A answers with
// the given TTLs.
func sdDNS(t *testing.T, id uint16, qr bool, name string, qtype layers.DNSType, rcode layers.DNSResponseCode, ttls ...uint32) []byte {
	t.Helper()
	m := &layers.DNS{ID: id, QR: qr, RD: true, RA: qr, ResponseCode: rcode,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
	for i, ttl := range ttls {
		m.Answers = append(m.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA,
			Class: layers.DNSClassIN, TTL: ttl, IP: []byte{192, 0, 2, byte(i + 1)}})
	}
	buf := gopacket.NewSerializeBuffer()
	if err := m.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func TestDNSSynthetic(t *testing.T) {
	const cli, srv = "10.0.0.1:40000", "10.0.0.2:53"
	udp := func(src, dst string, data []byte) flows.Packet {
		p := udpPktA(0, src, dst, 28+len(data), len(data))
		p.Payload = data
		return p
	}
	q := sdDNS(t, 7, false, "www.example.test", layers.DNSTypeAAAA, 0)
	r := sdDNS(t, 7, true, "www.example.test", layers.DNSTypeAAAA, 0, 300, 30, 3600)
	nx := sdDNS(t, 8, true, "nosuch.example.test", layers.DNSTypeA, layers.DNSResponseCodeNXDomain)
	// A query whose name ends at byte 256: JoyfulJay, reading 256 bytes,
	// finds no room for the type and reports no question.
	long := sdDNS(t, 9, false, strings.Repeat("x", 63)+"."+strings.Repeat("y", 63)+"."+strings.Repeat("z", 63)+"."+strings.Repeat("w", 50),
		layers.DNSTypeTXT, 0)
	tcpMsg := func(m []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...) }
	query := map[string]any{"dns_detected": true, "dns_query_name": "www.example.test", "dns_query_type": 28,
		"dns_query_type_str": "AAAA", "dns_is_query": true, "dns_recursion_desired": true, "dns_truncated": false}
	answered := map[string]any{"dns_is_response": true, "dns_response_code": 0, "dns_response_code_str": "NOERROR",
		"dns_answer_count": 3, "dns_authority_count": 0, "dns_additional_count": 0, "dns_min_ttl": 30, "dns_max_ttl": 3600,
		"dns_recursion_available": true}
	none := map[string]any{"dns_detected": false, "dns_query_name": "", "dns_query_type": 0, "dns_query_type_str": "",
		"dns_is_query": false, "dns_is_response": false, "dns_response_code": -1, "dns_response_code_str": "",
		"dns_answer_count": 0, "dns_min_ttl": 0, "dns_max_ttl": 0, "dns_recursion_desired": false}
	merge := func(ms ...map[string]any) map[string]any {
		out := map[string]any{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name string
		pkts func() []flows.Packet
		want map[string]any
	}{
		{name: "query and response", pkts: func() []flows.Packet {
			return []flows.Packet{udp(cli, srv, q), udp(srv, cli, r)}
		}, want: merge(query, answered)},
		{name: "query only", pkts: func() []flows.Packet { return []flows.Packet{udp(cli, srv, q)} },
			want: merge(query, map[string]any{"dns_is_response": false, "dns_response_code": -1, "dns_response_code_str": "",
				"dns_answer_count": 0, "dns_recursion_available": false})},
		// Short datagrams are no message; a second query is not the response.
		{name: "short datagram, repeated query", pkts: func() []flows.Packet {
			return []flows.Packet{udp(cli, srv, []byte{1, 2, 3}), udp(cli, srv, q), udp(cli, srv, q), udp(srv, cli, r)}
		}, want: merge(query, answered)},
		// The capture starts with the response: it is the first message too.
		{name: "response first", pkts: func() []flows.Packet { return []flows.Packet{udp(srv, cli, r)} },
			want: merge(answered, map[string]any{"dns_query_name": "www.example.test", "dns_is_query": false})},
		{name: "nxdomain", pkts: func() []flows.Packet { return []flows.Packet{udp(cli, srv, q), udp(srv, cli, nx)} },
			want: map[string]any{"dns_response_code": 3, "dns_response_code_str": "NXDOMAIN", "dns_answer_count": 0,
				"dns_min_ttl": 0, "dns_max_ttl": 0}},
		{name: "query past 256 bytes", pkts: func() []flows.Packet { return []flows.Packet{udp(cli, srv, long)} },
			want: map[string]any{"dns_detected": true, "dns_query_name": "", "dns_query_type": 0, "dns_is_query": true}},
		{name: "mdns port", pkts: func() []flows.Packet {
			return []flows.Packet{udp("10.0.0.1:5353", "224.0.0.251:5353", q)}
		}, want: none},
		// DNS over TCP: the query in two segments, then two responses in
		// one segment; the first response counts.
		{name: "tcp", pkts: func() []flows.Packet {
			c := newSDConv(cli, srv)
			c.send(true, flows.SYN, nil)
			c.send(false, flows.SYN|flows.ACK, nil)
			c.send(true, flows.ACK, nil)
			m := tcpMsg(q)
			c.send(true, flows.ACK|flows.PSH, m[:5])
			c.send(true, flows.ACK|flows.PSH, m[5:])
			c.send(false, flows.ACK|flows.PSH, append(tcpMsg(r), tcpMsg(nx)...))
			return c.pkts
		}, want: merge(query, answered)},
		{name: "tcp, response only", pkts: func() []flows.Packet {
			c := newSDConv(cli, srv)
			c.send(false, flows.ACK|flows.PSH, append(tcpMsg(nx), tcpMsg(r)...))
			return c.pkts
		}, want: map[string]any{"dns_detected": true, "dns_query_name": "nosuch.example.test", "dns_is_query": false,
			"dns_is_response": true, "dns_response_code": 3}},
		// "GE" read as a length announces 18245 bytes, and the stream ends
		// without a hole after 40: not a message.
		{name: "tcp, not dns", pkts: func() []flows.Packet {
			c := newSDConv(cli, srv)
			c.send(true, flows.ACK|flows.PSH, testgen.HTTPRequest("example.test", "/"))
			return c.pkts
		}, want: none},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sdCheck(t, cCompute(t, "dns", sdAssemble(t, tc.pkts())), tc.want)
		})
	}
}
