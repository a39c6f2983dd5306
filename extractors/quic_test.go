package extractors

import (
	"crypto/md5"
	"errors"
	"fmt"
	"io"
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

// qCorpus returns the corpus directory (JJ_CORPUS, else ../../shared/corpus),
// skipping the test when it is missing (failing under CI=true).
func qCorpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus %s missing", dir)
		}
		t.Skipf("corpus %s missing", dir)
	}
	return dir
}

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
// computes the group for every flow.
func qCaptureFlows(t testing.TB, path string) []*qFlow {
	t.Helper()
	src, err := flows.OpenFile(path, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	cfg := flows.DefaultConfig()
	cfg.FlowTimeout = 1e9
	cfg.TerminateOnFinRst = false
	g := Lookup("quic")
	a := flows.NewAssembler(cfg, g.Needs)
	var out []*qFlow
	drain := func() {
		for f := a.Pop(); f != nil; f = a.Pop() {
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
			a.Release(f)
		}
	}
	var p flows.Packet
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var fe *flows.FormatError
			if errors.As(err, &fe) {
				break
			}
			t.Fatalf("read %s: %v", path, err)
		}
		a.Add(&p)
		drain()
	}
	a.Flush()
	drain()
	return out
}

func TestQUICDev(t *testing.T) {
	corpus := qCorpus(t)
	files, _ := filepath.Glob(filepath.Join(corpus, "ndpi/pcap/*quic*"))
	more, _ := filepath.Glob(filepath.Join(corpus, "ja4/pcap/*quic*"))
	files = append(files, more...)
	for _, f := range files {
		for _, q := range qCaptureFlows(t, f) {
			if q.proto != 17 {
				continue
			}
			v := q.vals
			t.Logf("%s %s det=%v ver=%s dcid=%d scid=%d pn=%d init=%d 0rtt=%v retry=%v spin=%v alpn=%q sni=%q",
				filepath.Base(f), q, v["quic_detected"].I, v["quic_version_str"].S, v["quic_dcid_len"].I, v["quic_scid_len"].I,
				v["quic_pn_length"].I, v["quic_initial_packets"].I, v["quic_0rtt_detected"].I, v["quic_retry_detected"].I,
				v["quic_spin_bit"].I, v["quic_alpn"].S, v["quic_sni"].S)
		}
	}
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
	corpus := qCorpus(t)
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
			t.Logf("ndpi: %s %s %s: quic_sni %q, want %q", rel, o.a, o.b, got, o.sni)
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
			t.Logf("tshark: %s %s %s: quic_sni %q, want %q", rel, o.a, o.b, q.vals["quic_sni"].S, o.sni)
		}
	}
	t.Logf("ndpi.quic_sni %d/%d, tshark.quic_sni %d/%d", nd.ok, nd.total, ts.ok, ts.total)
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
	corpus := qCorpus(t)
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
