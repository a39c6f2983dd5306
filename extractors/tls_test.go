package extractors

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/internal/testgen"
	"github.com/jjsql/jjsql/schema"
)

func TestTLSColumns(t *testing.T) {
	g := Lookup("tls")
	if g == nil {
		t.Fatal("no tls group")
	}
	var names []string
	for _, f := range g.Features {
		names = append(names, f.Name)
	}
	if len(names) != tlsColumns {
		t.Fatalf("%d columns, want %d: %v", len(names), tlsColumns, names)
	}
	want := map[int]string{tlsDetected: "tls_detected", tlsJA3: "ja3", tlsJA3S: "ja3s", tlsKeyExchangeLength: "tls_key_exchange_length", tlsJA4: "ja4", tlsJA4R: "ja4_r"}
	for i, n := range want {
		if names[i] != n {
			t.Errorf("column %d = %q, want %q", i, names[i], n)
		}
	}
	for _, n := range names {
		if n == "ja3_hash" || n == "ja3s_hash" {
			t.Errorf("column %q is visible", n)
		}
	}
}

// tlsValues computes the tls group of f by column name.
func tlsValues(t *testing.T, f *flows.Flow) map[string]schema.Value {
	t.Helper()
	g := Lookup("tls")
	out := make([]schema.Value, len(g.Features))
	if err := g.Compute(f, nil, out); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]schema.Value, len(out))
	for i, f := range g.Features {
		m[f.Name] = out[i]
	}
	return m
}

func valueString(v schema.Value) string {
	switch v.Kind {
	case schema.Int, schema.Bool:
		return fmt.Sprint(v.I)
	case schema.Text:
		return v.S
	}
	return fmt.Sprintf("%v", v)
}

func checkTLS(t *testing.T, got map[string]schema.Value, want map[string]string) {
	t.Helper()
	for col, w := range want {
		v, ok := got[col]
		if !ok {
			t.Errorf("no column %q", col)
			continue
		}
		if g := valueString(v); g != w {
			t.Errorf("%s = %q, want %q", col, g, w)
		}
	}
}

// generatedTLSFlow returns a TCP flow carrying a crypto/tls handshake of
// the given version, one packet per flight. With reversed the client is
// the responder.
func generatedTLSFlow(t testing.TB, version uint16, reversed bool) *flows.Flow {
	flights, err := testgen.TLSHandshake(testgen.TLSConfig{
		Version: version, ServerName: "gen.example", ALPN: []string{"h2", "http/1.1"},
		Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 204 No Content\r\n\r\n"),
		Seed: 7, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &flows.Flow{Proto: 6}
	for _, fl := range flights {
		dir := 0
		if fl.FromServer != reversed {
			dir = 1
		}
		f.App.Stream[dir].Data = append(f.App.Stream[dir].Data, fl.Data...)
		var h flows.PktHead
		h.N = uint8(copy(h.B[:], fl.Data))
		f.Heads = append(f.Heads, h)
		if tlsHandshakeHead(h.Bytes()) {
			f.HeadMatches++
		}
		f.Base = append(f.Base, flows.PktBase{Fwd: dir == 0, Payload: uint32(len(fl.Data))})
	}
	// A bare ACK: no head bytes.
	f.Heads = append(f.Heads, flows.PktHead{})
	f.Base = append(f.Base, flows.PktBase{Fwd: true})
	return f
}

func TestTLSGenerated(t *testing.T) {
	common := map[string]string{
		"tls_detected": "1", "tls_version": "771", "tls_version_str": "TLS 1.2", "tls_sni": "gen.example", "tls_alpn": "h2",
		"tls_session_ticket_ext": "0", "tls_psk_ext": "0", "tls_early_data_ext": "0",
	}
	tests := []struct {
		name     string
		version  uint16
		reversed bool
		want     map[string]string
	}{
		{"TLS 1.2", tls.VersionTLS12, false, map[string]string{
			"tls_cert_count": "1", "tls_cert_chain_length": "1", "tls_session_resumed": "0",
			"tls_key_exchange_group": "29", "tls_key_exchange_group_name": "x25519", "tls_key_exchange_length": "256",
			"tls_session_id_len": "32", // Go's client always sends one
		}},
		{"TLS 1.3", tls.VersionTLS13, false, map[string]string{
			"tls_cert_count": "0", "tls_cert_total_length": "0", "tls_session_id_len": "32", "tls_session_resumed": "1",
			"tls_key_exchange_group": "29", "tls_key_exchange_group_name": "x25519", "tls_key_exchange_length": "256",
		}},
		{"TLS 1.3, client is the responder", tls.VersionTLS13, true, map[string]string{
			"tls_cert_count": "0", "tls_session_id_len": "32",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := generatedTLSFlow(t, tc.version, tc.reversed)
			got := tlsValues(t, f)
			checkTLS(t, got, common)
			checkTLS(t, got, tc.want)
			// Every flight starts with a handshake record except the
			// client's and server's application data and close.
			if n := got["tls_handshake_packets"].I; n < 2 || n >= int64(len(f.Heads)) {
				t.Errorf("tls_handshake_packets = %d of %d packets", n, len(f.Heads))
			}
			for _, c := range []string{"ja3", "ja3s", "ja4", "ja4_r"} {
				if got[c].S == "" {
					t.Errorf("%s is empty", c)
				}
			}
			if got["tls_cipher_suite"].I == 0 {
				t.Error("tls_cipher_suite is 0")
			}
		})
	}
}

func TestTLSNoHandshake(t *testing.T) {
	f := &flows.Flow{Proto: 6}
	f.App.Stream[0].Data = []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	f.App.Stream[1].Data = []byte("HTTP/1.1 200 OK\r\n\r\n")
	udp := &flows.Flow{Proto: 17}
	udp.App.Datagrams[0] = []flows.Datagram{{Data: []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}}}
	for name, f := range map[string]*flows.Flow{"http": f, "dns": udp, "empty": {Proto: 6}} {
		t.Run(name, func(t *testing.T) {
			checkTLS(t, tlsValues(t, f), map[string]string{
				"tls_detected": "0", "tls_version": "0", "tls_version_str": "", "ja3": "", "ja3s": "", "ja4": "",
				"tls_cipher_suite": "0", "tls_key_exchange_group_name": "", "tls_handshake_packets": "0",
			})
		})
	}
}

// Compute stays cheap: a TLS 1.3 flow costs a few allocations (the result
// strings), a flow without TLS none.
func TestTLSAllocs(t *testing.T) {
	httpFlow := &flows.Flow{Proto: 6}
	httpFlow.App.Stream[0].Data = []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	httpFlow.App.Stream[1].Data = []byte("HTTP/1.1 200 OK\r\n\r\n")
	dns := &flows.Flow{Proto: 17}
	query := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}
	dns.App.Datagrams[0] = []flows.Datagram{{Data: query}}
	dns.App.Datagrams[1] = []flows.Datagram{{Data: query}}
	tests := []struct {
		name string
		f    *flows.Flow
		max  float64
	}{
		{"TLS 1.3", generatedTLSFlow(t, tls.VersionTLS13, false), 8},
		{"HTTP", httpFlow, 0},
		{"DNS", dns, 0},
	}
	g := Lookup("tls")
	out := make([]schema.Value, len(g.Features))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testing.AllocsPerRun(20, func() {
				if err := g.Compute(tc.f, nil, out); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Errorf("%v allocations per flow, want at most %v", n, tc.max)
			}
		})
	}
}

// tlsCorpusFlow returns the tls values of the flow of capture whose
// initiator port is port.
func tlsCorpusFlow(t *testing.T, capture string, port uint16) map[string]schema.Value {
	t.Helper()
	path := filepath.Join(corpusDir(t), capture)
	var found map[string]schema.Value
	damaged := eachCaptureFlow(t, path, conformanceConfig(), Lookup("tls").Needs, func(f *flows.Flow) bool {
		if f.InitPort == port && found == nil {
			found = tlsValues(t, f)
		}
		return false
	})
	if damaged != nil {
		t.Fatal(damaged)
	}
	if found == nil {
		t.Fatalf("%s: no flow from port %d", capture, port)
	}
	return found
}

// Real handshakes from the corpus, each value checked against the oracle
// named in the comment (nDPI's result file, tshark's JA3 fields, FoxIO's
// JA4 expectations).
func TestTLSCorpus(t *testing.T) {
	tests := []struct {
		name    string
		capture string
		port    uint16
		want    map[string]string
	}{
		{"TLS 1.3 client (FoxIO JA4, tshark JA3)", "ja4/pcap/tls12.pcap", 36372, map[string]string{
			"ja3": "579ccef312d18482fc42e2b822ca2430", "ja4": "t13d1715h2_5b57614c22b0_3d5424432f57",
			"tls_sni": "contile.services.mozilla.com",
		}},
		{"SMTP STARTTLS (nDPI)", "ndpi/pcap/smtp-starttls.pcap", 57406, map[string]string{
			"ja3": "fab507fe132c544e8a0eb7c394affeae", "ja3s": "6b96cf9c27b0223177b0e9f135fe4899",
			"ja4": "t10i290100_cdba58456bdf_e78b541c01a9", "tls_version_str": "TLS 1.0", "tls_cert_count": "3",
		}},
		{"RDP X.224 then TLS (nDPI)", "ndpi/pcap/rdp_over_tls.pcap", 35888, map[string]string{
			"ja3": "043c543b63b895881d9abfbc320cb863", "ja3s": "ae4edc6faf64d08308082ad26be60767",
			"tls_key_exchange_group_name": "secp384r1",
		}},
		{"client is the responder (nDPI, tshark)", "ndpi/pcap/tls_torrent.pcapng", 443, map[string]string{
			"ja3": "fd80fa9c6120cdeea8520510f3c644ac", "ja3s": "6f84bbe9810ec4ea9061cc1a02eaf83c", "tls_sni": "web.utorrent.com",
		}},
		{"DTLS 1.2 with fragmented certificate (nDPI)", "ndpi/pcap/dtls_certificate_fragments.pcap", 43594, map[string]string{
			"ja3": "681eb4fb79ccb6d60d35fa502c279d42", "ja3s": "201fdaa63db9a086f36651aa4cfd0819",
			"tls_version": "65277", "tls_cert_count": "1", "ja4": "dd2i120700_7c0e62f61317_d9dd6182da81",
		}},
		{"pre-standard DTLS 0x0100 (nDPI)", "ndpi/pcap/anyconnect-vpn.pcap", 54107, map[string]string{
			"ja3": "ee2a8029d94a1e0f64493aac044a9a9e", "ja3s": "cee68a158056f16c2d1b274dde4e2ec3", "tls_version": "256",
		}},
		{"TLS inside RDP's UDP transport (tshark)", "ndpi/pcap/rdp2.pcap", 54759, map[string]string{
			"ja3": "84869b491ae5b9469d83b4c661763cd9", "tls_sni": "WIN-8QSO0D3OKBI.HARDENING.COM",
		}},
		{"OpenVPN over UDP, tls-auth (tshark)", "ndpi/pcap/openvpn.pcap", 51146, map[string]string{
			"ja3": "c0a24f59cdefaddbf62109a0ea8e9079", "ja3s": "9675432e5de9910d686de62559466365", "tls_cert_count": "2",
		}},
		{"OpenVPN over TCP (tshark)", "ndpi/pcap/openvpn.pcap", 39772, map[string]string{
			"ja3": "f0d20361ae57a5c81d94ac774a736a52", "ja3s": "7a2f70a16da750662fc0291d88ebddf8",
		}},
		{"SSLv2-compatible hello (tshark: no JA3)", "ndpi/pcap/google_ssl.pcap", 42835, map[string]string{
			"tls_detected": "1", "tls_version": "769", "tls_cipher_count": "33", "ja3": "", "ja4": "", "tls_cipher_suite": "5",
		}},
		// FoxIO's expected file says t13d151699: its Python tool wrote "99"
		// for a non-ASCII ALPN; the specification says the first and last
		// hex digits of the value (here bd).
		{"non-alphanumeric ALPN (JA4 specification)", "ja4/pcap/tls-non-ascii-alpn.pcapng", 50112, map[string]string{
			"ja3": "1c258ebef8eee2dfa3df6d8d07285af9", "ja3s": "eb1d94daa7e0344597e756a1fb6e7054",
			"ja4": "t13d1516bd_8daaf6152771_e5627efa2ab1",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkTLS(t, tlsCorpusFlow(t, tc.capture, tc.port), tc.want)
		})
	}
}
