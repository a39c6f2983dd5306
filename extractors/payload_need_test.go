package extractors

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func TestStreamDone(t *testing.T) {
	tlsRec := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	sshPkt := func(msg byte) []byte {
		// packet_length, padding_length 4, msg, 3 bytes of body, 4 of padding
		return []byte{0, 0, 0, 9, 4, msg, 1, 2, 3, 0, 0, 0, 0}[:4+9]
	}
	get := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	cases := []struct {
		name       string
		data       [2]string
		dir        int
		respPort   uint16
		want       flows.StreamVerdict
		wantNoMore bool
	}{
		{name: "TLS handshake only", data: [2]string{string(cat(tlsRec(22, 200)))}, want: flows.StreamMore},
		{name: "TLS partial record header", data: [2]string{string(cat(tlsRec(22, 200), []byte{22, 3}))}, want: flows.StreamMore},
		{name: "TLS 1.3 at application data", data: [2]string{string(cat(tlsRec(22, 90), tlsRec(20, 1), tlsRec(23, 50)))}, want: flows.StreamEnough},
		{name: "TLS application data header alone", data: [2]string{string(cat(tlsRec(22, 90), []byte{23, 3, 3, 0, 10}))}, want: flows.StreamEnough},
		{name: "not TLS after a record", data: [2]string{string(cat(tlsRec(22, 10), []byte("hello world")))}, want: flows.StreamKeep},
		{name: "TLS on port 53 is kept", data: [2]string{string(cat(tlsRec(22, 90), tlsRec(23, 50)))}, respPort: 53, want: flows.StreamKeep},
		{name: "HTTP request", data: [2]string{get}, want: flows.StreamEnough},
		{name: "HTTP request head incomplete", data: [2]string{"GET / HTTP/1.1\r\nHost: a\r\n"}, want: flows.StreamMore},
		{name: "HTTP upgrade to h2c", data: [2]string{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n"}, want: flows.StreamKeep},
		{name: "HTTP upgrade to websocket", data: [2]string{"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"}, want: flows.StreamKeep},
		{name: "CONNECT tunnel", data: [2]string{"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"}, want: flows.StreamKeep},
		{name: "HTTP/2 preface", data: [2]string{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}, want: flows.StreamKeep},
		{name: "response to a plain request", data: [2]string{get, ok}, dir: 1, want: flows.StreamEnough},
		{name: "response before its request", data: [2]string{"", ok}, dir: 1, want: flows.StreamKeep},
		{name: "101 response", data: [2]string{get, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"}, dir: 1, want: flows.StreamKeep},
		{name: "SSH banner", data: [2]string{"SSH-2.0-OpenSSH_9.6\r\n"}, want: flows.StreamMore},
		{name: "SSH through NEWKEYS", data: [2]string{"SSH-2.0-OpenSSH_9.6\r\n" + string(sshPkt(20)) + string(sshPkt(30)) + string(sshPkt(21))}, want: flows.StreamEnough},
		{name: "SSH-1", data: [2]string{"SSH-1.5-x\r\n" + string(sshPkt(21))}, want: flows.StreamKeep},
		{name: "other protocol", data: [2]string{"\x00\x01binary"}, want: flows.StreamKeep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &flows.Flow{InitPort: 40000, RespPort: 443}
			if c.respPort != 0 {
				f.RespPort = c.respPort
			}
			f.App.Stream[0].Data = []byte(c.data[0])
			f.App.Stream[1].Data = []byte(c.data[1])
			if got := StreamDone(f, c.dir); got != c.want {
				t.Errorf("StreamDone = %d, want %d", got, c.want)
			}
		})
	}
}

func TestDatagramDone(t *testing.T) {
	long := append([]byte{0xc3, 0, 0, 0, 1, 8}, make([]byte, 40)...)
	short := append([]byte{0x43}, make([]byte, 40)...)
	rtp := append([]byte{0x80, 0x60}, make([]byte, 40)...)
	cases := []struct {
		name string
		kept [][]byte
		next []byte
		port uint16
		want bool
	}{
		{"short header after an Initial", [][]byte{long}, short, 443, true},
		{"long header after an Initial", [][]byte{long}, long, 443, false},
		{"short-header-like first datagram", nil, short, 443, false},
		{"after RTP (form bit, no fixed bit)", [][]byte{rtp}, short, 443, false},
		{"DNS port", [][]byte{long}, short, 53, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &flows.Flow{InitPort: 50000, RespPort: c.port}
			for _, d := range c.kept {
				f.App.Datagrams[0] = append(f.App.Datagrams[0], flows.Datagram{Data: d})
			}
			if got := DatagramDone(f, 0, c.next); got != c.want {
				t.Errorf("DatagramDone = %v, want %v", got, c.want)
			}
		})
	}
}

// TestPayloadHooksChangeNoValue reads the corpus captures of the protocols
// whose payload the hooks cut short (TLS, HTTP, SSH, QUIC, and DNS and
// HTTP/2 around them) twice, with and without Configure, and checks that
// every value of every payload group is the same while far fewer payload
// bytes are kept.
func TestPayloadHooksChangeNoValue(t *testing.T) {
	dir := corpusPath(t, "ndpi/pcap")
	names, err := os.ReadDir(dir)
	if err != nil {
		skipOrFail(t, "corpus: %v", err)
	}
	pick := regexp.MustCompile(`(?i)tls|ssl|ssh|http|quic|h2|doh|dns`)
	groups := []string{"tls", "fingerprint", "ssh", "dns", "http2", "quic"}
	if testing.Short() {
		groups = groups[:3]
	}
	var files int
	var keptWith, keptWithout uint64
	for _, e := range names {
		if !pick.MatchString(e.Name()) || !strings.Contains(e.Name(), ".pcap") {
			continue
		}
		files++
		path := filepath.Join(dir, e.Name())
		with, kw := payloadGroupValues(t, path, groups, true)
		without, kwo := payloadGroupValues(t, path, groups, false)
		keptWith += kw
		keptWithout += kwo
		if len(with) != len(without) {
			t.Fatalf("%s: %d flows with the hooks, %d without", e.Name(), len(with), len(without))
		}
		for uid, vs := range without {
			ws := with[uid]
			for i := range vs {
				if !sameValue(vs[i], ws[i]) {
					t.Errorf("%s flow %d: value %d is %v with the hooks, %v without", e.Name(), uid, i, ws[i], vs[i])
				}
			}
		}
	}
	if files < 50 {
		t.Fatalf("%d corpus captures read, want at least 50", files)
	}
	// The hooks must pay, even on these mostly short flows (27% fewer
	// bytes when written; 70% fewer on the benchmark capture).
	if keptWith*10 > keptWithout*8 {
		t.Errorf("payload bytes kept: %d with the hooks, %d without; want at most 80%%", keptWith, keptWithout)
	}
	t.Logf("%d captures; payload bytes kept %d with the hooks, %d without", files, keptWith, keptWithout)
}

// payloadGroupValues returns, per flow UID, the values of groups on the
// capture at path (flows assembled with the conformance configuration, with
// or without the payload hooks) and the payload bytes the assembler kept.
func payloadGroupValues(t *testing.T, path string, groups []string, hooks bool) (map[uint64][]schema.Value, uint64) {
	t.Helper()
	cfg := conformanceConfig()
	Configure(&cfg)
	if !hooks {
		cfg.StreamDone, cfg.DatagramDone = nil, nil
	}
	a := flows.NewAssembler(cfg, PlanGroups(groups...).Needs)
	out := map[uint64][]schema.Value{}
	assembleCapture(t, path, a, func(f *flows.Flow) bool {
		var vs []schema.Value
		for _, id := range groups {
			g := Lookup(id)
			o := make([]schema.Value, len(g.Features))
			if err := g.Compute(f, &cfg, o); err != nil {
				t.Fatalf("%s: %s: %v", path, id, err)
			}
			vs = append(vs, o...)
		}
		out[f.UID] = vs
		return false
	})
	return out, a.Work.BytesKept
}

func sameValue(a, b schema.Value) bool {
	return a.Kind == b.Kind && a.I == b.I && a.S == b.S && string(a.B) == string(b.B) &&
		(a.F == b.F || (a.F != a.F && b.F != b.F))
}
