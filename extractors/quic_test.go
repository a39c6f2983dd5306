package extractors

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/schema"
)

// qFlow is one flow of a capture with its quic group values.
type qFlow struct {
	src, dst         string // "ip:port" of the initiator and responder
	v6               bool
	proto            uint8
	packets          int
	vals             map[string]schema.Value
	firstFwdDatagram []byte
	hello            []byte // quic.ClientHello of the client's datagrams
}

// qKey names the flow as nDPI and the JA4 tools do: both endpoints.
func (f *qFlow) String() string { return fmt.Sprintf("%d %s %s", f.proto, f.src, f.dst) }

func qEndpoint(ip string, port uint16, v6 bool) string {
	if v6 {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}

// qCaptureFlows reads a capture through the flow assembler with the quic
// group's needs (flows never end on a timeout, as in conformance runs) and
// computes the group for every flow. A damaged record ending the capture
// ends it.
func qCaptureFlows(t testing.TB, path string) []*qFlow {
	t.Helper()
	cfg := conformanceConfig()
	g := Lookup("quic")
	var out []*qFlow
	eachCaptureFlow(t, path, cfg, g.Needs, func(f *flows.Flow) bool {
		vals := make([]schema.Value, len(g.Features))
		if err := g.Compute(f, &cfg, vals); err != nil {
			t.Fatalf("compute: %v", err)
		}
		q := &qFlow{src: qEndpoint(f.InitAddr().String(), f.InitPort, f.IPv6),
			dst: qEndpoint(f.RespAddr().String(), f.RespPort, f.IPv6), v6: f.IPv6, proto: f.Proto,
			packets: f.Packets, vals: map[string]schema.Value{}}
		for i, ft := range g.Features {
			q.vals[ft.Name] = vals[i]
		}
		if len(f.App.Datagrams[0]) > 0 {
			q.firstFwdDatagram = append([]byte(nil), f.App.Datagrams[0][0].Data...)
		}
		for d := 0; d < 2 && q.hello == nil; d++ {
			var dgs [][]byte
			for _, dg := range f.App.Datagrams[d] {
				dgs = append(dgs, dg.Data)
			}
			if h, ok := quic.ClientHello(dgs); ok {
				q.hello = h
			}
		}
		out = append(out, q)
		return false
	})
	return out
}

// qOracle is one flow an oracle names: its endpoints (sorted) and SNI.
type qOracle struct {
	a, b string
	sni  string
}

func qPair(x, y string) [2]string {
	x, y = qNorm(x), qNorm(y)
	if x > y {
		x, y = y, x
	}
	return [2]string{x, y}
}

// qNorm rewrites an "ip:port" or "[ip]:port" endpoint in Go's address form
// (nDPI writes "::" for a single zero group).
func qNorm(ep string) string {
	if ap, err := netip.ParseAddrPort(ep); err == nil {
		return ap.String()
	}
	return ep
}

// qNDPIQUIC reads the QUIC flows of an nDPI result file that carry a
// Hostname/SNI.
func qNDPIQUIC(t testing.TB, path string) []qOracle {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []qOracle
	for _, line := range strings.Split(string(data), "\n") {
		m := qNDPILine.FindStringSubmatch(line)
		if m == nil || m[1] != "UDP" {
			continue
		}
		rest := m[5]
		proto := ""
		if pm := qNDPIProto.FindStringSubmatch(rest); pm != nil {
			proto = pm[1]
		}
		if !strings.Contains(proto, "QUIC") {
			continue
		}
		sm := qNDPISNI.FindStringSubmatch(rest)
		if sm == nil || strings.TrimSpace(sm[1]) == "" {
			continue
		}
		out = append(out, qOracle{a: m[2], b: m[4], sni: strings.TrimSpace(sm[1])})
	}
	return out
}

var (
	qNDPILine  = regexp.MustCompile(`^\s+\d+\s+(TCP|UDP)\s+(\S+)\s+(<->|->)\s+(\S+)\s+(.*)$`)
	qNDPIProto = regexp.MustCompile(`\[proto: ([^\]]*)\]`)
	qNDPISNI   = regexp.MustCompile(`\[Hostname/SNI: ([^\]]*)\]`)
)

// qTsharkUDP reads the UDP flows of a tshark oracle file that carry an SNI.
func qTsharkUDP(path string) []qOracle {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []qOracle
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 8 || f[0] != "UDP" || f[7] == "" {
			continue
		}
		ep := func(ip, port string) string {
			if strings.Contains(ip, ":") {
				return "[" + ip + "]:" + port
			}
			return ip + ":" + port
		}
		out = append(out, qOracle{a: ep(f[1], f[2]), b: ep(f[3], f[4]), sni: f[7]})
	}
	return out
}

// TestQUICSNIOracles compares quic_sni with nDPI's Hostname/SNI of its QUIC
// flows and with tshark's SNI of UDP flows that begin with a QUIC header,
// over every corpus capture that has those oracles.
func TestQUICSNIOracles(t *testing.T) {
	corpus := corpusDir(t)
	results, _ := filepath.Glob(filepath.Join(corpus, "ndpi", "result", "*.out"))
	tsv := map[string]string{}
	filepath.Walk(filepath.Join(corpus, "tshark"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".tsv") {
			rel, _ := filepath.Rel(filepath.Join(corpus, "tshark"), p)
			tsv[strings.TrimSuffix(rel, ".tsv")] = p
		}
		return nil
	})
	captures := map[string]bool{}
	for _, r := range results {
		captures[filepath.Join("ndpi", "pcap", strings.TrimSuffix(filepath.Base(r), ".out"))] = true
	}
	for rel := range tsv {
		captures[rel] = true
	}
	type tally struct{ ok, total int }
	var nd, ts tally
	var keys []string
	for k := range captures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, rel := range keys {
		path := filepath.Join(corpus, rel)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		var ndpi, tshark []qOracle
		if strings.HasPrefix(rel, "ndpi/pcap/") {
			ndpi = qNDPIQUIC(t, filepath.Join(corpus, "ndpi", "result", filepath.Base(rel)+".out"))
		}
		if p, ok := tsv[rel]; ok {
			tshark = qTsharkUDP(p)
		}
		if len(ndpi) == 0 && len(tshark) == 0 {
			continue
		}
		ours := map[[2]string]*qFlow{}
		for _, q := range qCaptureFlows(t, path) {
			if q.proto == 17 {
				ours[qPair(q.src, q.dst)] = q
			}
		}
		for _, o := range ndpi {
			nd.total++
			q := ours[qPair(o.a, o.b)]
			if q != nil && q.vals["quic_sni"].S == o.sni {
				nd.ok++
				continue
			}
			got := "(no flow)"
			if q != nil {
				got = q.vals["quic_sni"].S
			}
			t.Errorf("ndpi: %s %s %s: quic_sni %q, want %q", rel, o.a, o.b, got, o.sni)
		}
		for _, o := range tshark {
			q := ours[qPair(o.a, o.b)]
			if q == nil || !qLooksQUIC(q.firstFwdDatagram) {
				continue
			}
			ts.total++
			if q.vals["quic_sni"].S == o.sni {
				ts.ok++
				continue
			}
			t.Errorf("tshark: %s %s %s: quic_sni %q, want %q", rel, o.a, o.b, q.vals["quic_sni"].S, o.sni)
		}
	}
	t.Logf("ndpi.quic_sni %d/%d, tshark.quic_sni %d/%d", nd.ok, nd.total, ts.ok, ts.total)
	if nd.total < 30 || ts.total < 100 {
		t.Errorf("only %d nDPI and %d tshark QUIC flows with an SNI compared", nd.total, ts.total)
	}
}

// qLooksQUIC reports whether a datagram begins with a QUIC long header or a
// Google QUIC header carrying a version.
func qLooksQUIC(d []byte) bool {
	if h, err := quic.Parse(d); err == nil && (quic.KnownVersion(h.Version) || quic.Reserved(h.Version)) {
		return true
	}
	_, ok := quic.ParseGoogle(d)
	return ok
}

// qJA3 computes the JA3 fingerprint of a ClientHello message (the published
// definition, GREASE values removed) to check that quic.ClientHello returns
// the whole hello, byte for byte, as the oracles saw it.
func qJA3(m []byte) string {
	if len(m) < 4+2+32+1 || m[0] != 1 {
		return ""
	}
	p := m[4:]
	u16 := func(b []byte) int { return int(b[0])<<8 | int(b[1]) }
	grease := func(v int) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }
	join := func(vs []int) string {
		var s []string
		for _, v := range vs {
			if !grease(v) {
				s = append(s, strconv.Itoa(v))
			}
		}
		return strings.Join(s, "-")
	}
	ver := u16(p)
	p = p[34:]
	p = p[1+int(p[0]):]
	var ciphers, exts, groups, formats []int
	n := u16(p)
	for i := 0; i < n; i += 2 {
		ciphers = append(ciphers, u16(p[2+i:]))
	}
	p = p[2+n:]
	p = p[1+int(p[0]):]
	if len(p) >= 2 {
		p = p[2 : 2+u16(p)]
		for len(p) >= 4 {
			typ, l := u16(p), u16(p[2:])
			body := p[4 : 4+l]
			exts = append(exts, typ)
			switch typ {
			case 10:
				for i := 2; i+1 < len(body); i += 2 {
					groups = append(groups, u16(body[i:]))
				}
			case 11:
				for i := 1; i < len(body); i++ {
					formats = append(formats, int(body[i]))
				}
			}
			p = p[4+l:]
		}
	}
	s := fmt.Sprintf("%d,%s,%s,%s,%s", ver, join(ciphers), join(exts), join(groups), join(formats))
	return fmt.Sprintf("%x", md5.Sum([]byte(s)))
}

var qNDPIJA3 = regexp.MustCompile(`\[JA3C: ([0-9a-f]{32})`)

// TestQUICClientHelloJA3 checks the reassembled ClientHello of every QUIC
// flow nDPI or tshark fingerprint: its JA3 must be theirs.
func TestQUICClientHelloJA3(t *testing.T) {
	corpus := corpusDir(t)
	type want struct{ ndpi, tshark string }
	wants := map[string]map[[2]string]*want{} // capture (relative) -> flow -> JA3s
	get := func(rel string, k [2]string) *want {
		if wants[rel] == nil {
			wants[rel] = map[[2]string]*want{}
		}
		if wants[rel][k] == nil {
			wants[rel][k] = &want{}
		}
		return wants[rel][k]
	}
	results, _ := filepath.Glob(filepath.Join(corpus, "ndpi", "result", "*.out"))
	for _, r := range results {
		rel := filepath.Join("ndpi", "pcap", strings.TrimSuffix(filepath.Base(r), ".out"))
		data, _ := os.ReadFile(r)
		for _, line := range strings.Split(string(data), "\n") {
			m := qNDPILine.FindStringSubmatch(line)
			if m == nil || m[1] != "UDP" || !strings.Contains(m[5], "QUIC") {
				continue
			}
			if j := qNDPIJA3.FindStringSubmatch(m[5]); j != nil {
				get(rel, qPair(m[2], m[4])).ndpi = j[1]
			}
		}
	}
	filepath.Walk(filepath.Join(corpus, "tshark"), func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".tsv") {
			return nil
		}
		rel, _ := filepath.Rel(filepath.Join(corpus, "tshark"), p)
		rel = strings.TrimSuffix(rel, ".tsv")
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 6 || f[0] != "UDP" || f[5] == "" {
				continue
			}
			get(rel, qPair(net.JoinHostPort(f[1], f[2]), net.JoinHostPort(f[3], f[4]))).tshark = f[5]
		}
		return nil
	})
	var caps []string
	for rel := range wants {
		caps = append(caps, rel)
	}
	sort.Strings(caps)
	var ok, total int
	for _, rel := range caps {
		for _, q := range qCaptureFlows(t, filepath.Join(corpus, rel)) {
			w := wants[rel][qPair(q.src, q.dst)]
			if w == nil || w.ndpi == "" && !qLooksQUIC(q.firstFwdDatagram) {
				continue // no oracle, or a DTLS flow tshark fingerprints
			}
			total++
			got := qJA3(q.hello)
			if (w.ndpi == "" || got == w.ndpi) && (w.tshark == "" || got == w.tshark) {
				ok++
				continue
			}
			t.Errorf("%s %s %s: JA3 of quic.ClientHello = %q (%d bytes), nDPI %q, tshark %q",
				rel, q.src, q.dst, got, len(q.hello), w.ndpi, w.tshark)
		}
	}
	t.Logf("JA3 of QUIC ClientHellos: %d/%d agree with nDPI and tshark", ok, total)
	if total < 100 {
		t.Errorf("only %d QUIC flows with an oracle JA3 compared", total)
	}
}

// TestQUICGroupCorpus pins the quic group on hand-checked flows of the
// corpus (values checked with tshark's QUIC dissector: packet types, spin
// bits, versions and the decrypted ClientHello).
func TestQUICGroupCorpus(t *testing.T) {
	corpus := corpusDir(t)
	type want struct {
		version        int64
		versionStr     string
		dcid, scid, pn int64
		initials       int64
		zeroRTT, retry bool
		spin           bool
		alpn, sni      string
	}
	tests := []struct {
		capture string
		a, b    string // endpoints
		want    want
	}{
		{"ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng", "[2001:db8:1::1]:50280", "[2606:4700:10::6816:826]:443",
			want{1, "QUIC v1", 8, 0, 1, 3, false, false, false, "h3", "cloudflare-quic.com"}},
		{"ndpi/pcap/quic-29.pcap", "10.9.0.1:36588", "10.9.0.2:443",
			want{0xff00001d, "QUIC draft-29", 18, 17, 1, 6, false, true, false, "h3-29", "localhost"}},
		{"ndpi/pcap/quic-23.pcap", "[2e4a:774d:26fd:7f9b:785b:2d1b:4f8a:63c7]:50339", "[3bcc:9991:faba:bae1:cd2a:e2fd:b3be:c5ab]:443",
			want{0xff000017, "QUIC draft-23", 8, 8, 2, 3, false, false, true, "h3-22", "quic.aiortc.org"}},
		{"ndpi/pcap/quic_0RTT.pcap", "192.168.2.100:51972", "142.250.181.227:443",
			want{1, "QUIC v1", 8, 0, 1, 2, true, false, false, "h3", "ssl.gstatic.com"}},
		{"ndpi/pcap/quic_0RTT.pcap", "[::1]:60459", "[::1]:4443",
			want{0xff00001c, "QUIC draft-28", 8, 8, 4, 2, true, false, false, "h3-32", "abcd"}},
		{"ndpi/pcap/quic-forcing-vn-with-data.pcapng", "192.168.56.103:55523", "192.168.56.104:4433",
			want{1, "QUIC v1", 16, 20, 1, 5, false, true, false, "h3", ""}},
		{"ndpi/pcap/quic-mvfst-22.pcap", "10.0.2.15:35601", "31.13.86.8:443",
			want{0xfaceb001, "Unknown (0xfaceb001)", 8, 0, 1, 4, false, false, false, "h3-fb-05", "graph.facebook.com"}},
		{"ndpi/pcap/quic_t51.pcap", "187.227.136.152:55356", "211.247.147.90:443",
			want{0x54303531, "Unknown (0x54303531)", 8, 0, 1, 3, false, false, false, "h3-T051", "www.google.com"}},
		{"ndpi/pcap/quic_q50.pcap", "248.144.129.147:39203", "184.151.193.237:443",
			want{0x51303530, "Unknown (0x51303530)", 8, 0, 1, 6, true, false, false, "", "www.googletagmanager.com"}},
		{"ndpi/pcap/quic_q46.pcap", "172.29.42.236:38292", "153.20.183.203:443",
			want{0x51303436, "Unknown (0x51303436)", 8, 0, 4, 2, false, false, false, "", "play.google.com"}},
		{"ndpi/pcap/quic.pcap", "192.168.1.109:57833", "216.58.212.101:443",
			want{0x51303234, "Unknown (0x51303234)", 8, 0, 1, 0, false, false, false, "", "mail.google.com"}},
		{"ndpi/pcap/quic_interop_V.pcapng", "[2001:b07:ac9:d5ae:a4d3:fe47:691e:807d]:37876", "[2a05:d018:ce9:8100:cd2a:e2fd:b3be:c5ab]:443",
			want{0x0a0a0a0a, "Unknown (0x0a0a0a0a)", 8, 0, 4, 1, false, false, false, "hq-30", "quic.aiortc.org"}},
		// Not QUIC: only the server's packets (nothing to open), and a DNS
		// query whose first byte has the long-header bits (JoyfulJay's
		// reference row says QUIC "Unknown (0x18001000)").
		{"ndpi/pcap/gquic_only_from_server.pcap", "213.202.7.26:443", "10.189.122.71:60524", want{}},
		{"gopacket/test_dns.pcap", "109.194.160.4:57766", "95.211.92.14:53", want{}},
	}
	byCapture := map[string]map[[2]string]*qFlow{}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.capture)+" "+tc.a, func(t *testing.T) {
			fl := byCapture[tc.capture]
			if fl == nil {
				fl = map[[2]string]*qFlow{}
				for _, q := range qCaptureFlows(t, filepath.Join(corpus, tc.capture)) {
					fl[qPair(q.src, q.dst)] = q
				}
				byCapture[tc.capture] = fl
			}
			q := fl[qPair(tc.a, tc.b)]
			if q == nil {
				t.Fatalf("flow %s %s not found", tc.a, tc.b)
			}
			w := tc.want
			detected := w.version != 0
			checks := []struct {
				col  string
				got  any
				want any
			}{
				{"quic_detected", q.vals["quic_detected"].I == 1, detected},
				{"quic_version", q.vals["quic_version"].I, w.version},
				{"quic_version_str", q.vals["quic_version_str"].S, w.versionStr},
				{"quic_dcid_len", q.vals["quic_dcid_len"].I, w.dcid},
				{"quic_scid_len", q.vals["quic_scid_len"].I, w.scid},
				{"quic_pn_length", q.vals["quic_pn_length"].I, w.pn},
				{"quic_initial_packets", q.vals["quic_initial_packets"].I, w.initials},
				{"quic_0rtt_detected", q.vals["quic_0rtt_detected"].I == 1, w.zeroRTT},
				{"quic_retry_detected", q.vals["quic_retry_detected"].I == 1, w.retry},
				{"quic_spin_bit", q.vals["quic_spin_bit"].I == 1, w.spin},
				{"quic_alpn", q.vals["quic_alpn"].S, w.alpn},
				{"quic_sni", q.vals["quic_sni"].S, w.sni},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.col, c.got, c.want)
				}
			}
		})
	}
}

// qSeal builds a client Initial of version ver (v1 or v2) protected with the
// Initial keys of dcid, carrying a CRYPTO frame with data.
func qSeal(t *testing.T, ver uint32, dcid []byte, data []byte) []byte {
	t.Helper()
	k, err := quic.InitialKeys(ver, dcid, false)
	if err != nil {
		t.Fatal(err)
	}
	payload := append([]byte{0x06, 0x00, 0x40 | byte(len(data)>>8), byte(len(data))}, data...)
	payload = append(payload, make([]byte, 1100-len(payload))...)
	first := byte(0xc3) // Initial, 4-byte packet number
	if ver == quic.V2 {
		first = 0xd3
	}
	hdr := append([]byte{first}, byte(ver>>24), byte(ver>>16), byte(ver>>8), byte(ver))
	hdr = append(hdr, byte(len(dcid)))
	hdr = append(hdr, dcid...)
	hdr = append(hdr, 0, 0) // no SCID, no token
	n := 4 + len(payload) + 16
	hdr = append(hdr, 0x40|byte(n>>8), byte(n))
	pnOff := len(hdr)
	hdr = append(hdr, 0, 0, 0, 0)
	block, _ := aes.NewCipher(k.Key)
	aead, _ := cipher.NewGCM(block)
	pkt := append(append([]byte(nil), hdr...), aead.Seal(nil, k.IV, payload, hdr)...) // packet number 0: the nonce is the IV
	hp, _ := aes.NewCipher(k.HP)
	var mask [16]byte
	hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	for i := 0; i < 4; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}

// qHello builds a minimal TLS ClientHello with a server name and ALPN list.
func qHello(name string, alpn ...string) []byte {
	var ext []byte
	sni := []byte{0, byte(3 + len(name)), 0, 0, byte(len(name))}
	ext = append(ext, 0, 0, 0, byte(len(sni)+len(name)))
	ext = append(append(ext, sni...), name...)
	var list []byte
	for _, p := range alpn {
		list = append(append(list, byte(len(p))), p...)
	}
	ext = append(ext, 0, 16, 0, byte(2+len(list)), 0, byte(len(list)))
	ext = append(ext, list...)
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0, 0, byte(len(ext)))
	body = append(body, ext...)
	return append([]byte{1, 0, 0, byte(len(body))}, body...)
}

func TestQUICGroupSynthetic(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	hello := qHello("synthetic.example", "h3", "h3-29")
	v1 := qSeal(t, quic.V1, dcid, hello)
	v2 := qSeal(t, quic.V2, dcid, hello)
	head := func(b ...byte) []byte { return b }
	shortSpin := func(spin bool) []byte {
		if spin {
			return head(0x61, 9, 9, 9)
		}
		return head(0x41, 9, 9, 9)
	}
	type pkt struct {
		fwd  bool
		data []byte // the payload (datagrams kept in full, heads cut to 16 bytes)
	}
	tests := []struct {
		name     string
		proto    uint8
		pkts     []pkt
		detected bool
		initials int64
		zeroRTT  bool
		spin     bool
		version  string
	}{
		{"v1 client Initial, spin flips", 17, []pkt{{true, v1}, {false, head(0xc0, 0, 0, 0, 1, 0, 8)},
			{true, shortSpin(false)}, {false, shortSpin(false)}, {true, shortSpin(true)}}, true, 2, false, true, "QUIC v1"},
		{"spin set but constant", 17, []pkt{{true, v1}, {true, shortSpin(true)}, {false, shortSpin(true)}, {true, shortSpin(true)}},
			true, 1, false, false, "QUIC v1"},
		{"v2: type bits 01 are Initials, 10 0-RTT", 17, []pkt{{true, v2}, {true, append(head(0xe3, 0x6b, 0x33, 0x43, 0xcf, 8), dcid...)},
			{false, head(0xd0, 0x6b, 0x33, 0x43, 0xcf, 0)}, {false, head(0xc0, 0x6b, 0x33, 0x43, 0xcf, 0)}}, true, 2, true, false, "QUIC v2"},
		{"0-RTT with another DCID does not count", 17, []pkt{{true, v1}, {true, append(head(0xd3, 0, 0, 0, 1, 8), 9, 9, 9, 9, 9, 9, 9, 9)}},
			true, 1, false, false, "QUIC v1"},
		{"the responder sent the Initial", 17, []pkt{{false, v1}, {true, shortSpin(true)}}, true, 1, false, false, "QUIC v1"},
		{"corrupted Initial", 17, []pkt{{true, append(append([]byte(nil), v1[:len(v1)-1]...), v1[len(v1)-1]^1)}, {true, shortSpin(true)}, {true, shortSpin(false)}},
			false, 0, false, false, ""},
		{"long-header bits in a non-QUIC datagram", 17, []pkt{{true, head(0xc0, 0, 0, 0, 1, 8, 1, 2, 3)}}, false, 0, false, false, ""},
		{"TCP", 6, []pkt{{true, v1}}, false, 0, false, false, ""},
	}
	g := Lookup("quic")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &flows.Flow{Proto: tc.proto}
			for i, p := range tc.pkts {
				f.Base = append(f.Base, flows.PktBase{Fwd: p.fwd, Payload: uint32(len(p.data))})
				var h flows.PktHead
				h.N = uint8(copy(h.B[:], p.data))
				f.Heads = append(f.Heads, h)
				d := 0
				if !p.fwd {
					d = 1
				}
				f.App.Datagrams[d] = append(f.App.Datagrams[d], flows.Datagram{Data: p.data, Index: i})
			}
			out := make([]schema.Value, len(g.Features))
			cfg := flows.DefaultConfig()
			if err := g.Compute(f, &cfg, out); err != nil {
				t.Fatal(err)
			}
			v := map[string]schema.Value{}
			for i, ft := range g.Features {
				v[ft.Name] = out[i]
				if out[i].IsNull() {
					t.Errorf("%s is NULL", ft.Name)
				}
			}
			sni, alpn := "", ""
			if tc.detected {
				sni, alpn = "synthetic.example", "h3"
			}
			checks := []struct {
				col       string
				got, want any
			}{
				{"quic_detected", v["quic_detected"].I == 1, tc.detected},
				{"quic_version_str", v["quic_version_str"].S, tc.version},
				{"quic_initial_packets", v["quic_initial_packets"].I, tc.initials},
				{"quic_0rtt_detected", v["quic_0rtt_detected"].I == 1, tc.zeroRTT},
				{"quic_spin_bit", v["quic_spin_bit"].I == 1, tc.spin},
				{"quic_sni", v["quic_sni"].S, sni},
				{"quic_alpn", v["quic_alpn"].S, alpn},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.col, c.got, c.want)
				}
			}
			if tc.detected && (v["quic_dcid_len"].I != 8 || v["quic_scid_len"].I != 0 || v["quic_pn_length"].I != 4) {
				t.Errorf("dcid/scid/pn = %d/%d/%d, want 8/0/4", v["quic_dcid_len"].I, v["quic_scid_len"].I, v["quic_pn_length"].I)
			}
		})
	}
	if g.Needs&(flows.NeedPayload|flows.NeedHeads|flows.NeedBase) != flows.NeedPayload|flows.NeedHeads|flows.NeedBase {
		t.Errorf("quic group needs %b", g.Needs)
	}
}

// TestQUICJA4Domain: the JA4 authors' expected output for the Chrome capture
// names the domain of the client's TCP connection to the server; the same
// client's QUIC connection to the same server (which their tool leaves
// without a record) must decrypt to the same name.
func TestQUICJA4Domain(t *testing.T) {
	corpus := corpusDir(t)
	var recs []struct {
		Src     string `json:"src"`
		Dst     string `json:"dst"`
		Dstport any    `json:"dstport"`
		Domain  string `json:"domain"`
	}
	data, err := os.ReadFile(filepath.Join(corpus, "ja4", "expected", "chrome-cloudflare-quic-with-secrets.pcapng.json"))
	if err != nil {
		t.Skip(err)
	}
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	domains := map[[2]string]string{}
	for _, r := range recs {
		if r.Domain != "" {
			domains[[2]string{qNorm("[" + r.Src + "]:0"), qNorm("[" + r.Dst + "]:0")}] = r.Domain
		}
	}
	n := 0
	for _, q := range qCaptureFlows(t, filepath.Join(corpus, "ja4", "pcap", "chrome-cloudflare-quic-with-secrets.pcapng")) {
		if q.proto != 17 || q.vals["quic_detected"].I != 1 {
			continue
		}
		host := func(ep string) string {
			ap, _ := netip.ParseAddrPort(ep)
			return netip.AddrPortFrom(ap.Addr(), 0).String()
		}
		want, ok := domains[[2]string{host(q.src), host(q.dst)}]
		if !ok {
			continue
		}
		n++
		if got := q.vals["quic_sni"].S; got != want {
			t.Errorf("%s %s: quic_sni %q, JA4 domain %q", q.src, q.dst, got, want)
		}
	}
	if n == 0 {
		t.Error("no QUIC flow paired with a JA4 record")
	}
}
