package testgen

import (
	"bytes"
	"encoding/binary"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite the committed sample files under testdata/")

// testdataDir is the repository's testdata directory, seen from this package.
var testdataDir = filepath.Join("..", "..", "testdata")

func sampleFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := SampleFiles()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}

func TestSampleDeterministic(t *testing.T) {
	a := sampleFiles(t)
	b := sampleFiles(t)
	if len(a) != 3 {
		t.Fatalf("%d files, want 3", len(a))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestCommittedSample fails when the files under testdata/ differ from what
// the generator writes now; -update rewrites them (as go run
// ./tools/gentestdata does).
func TestCommittedSample(t *testing.T) {
	for name, data := range sampleFiles(t) {
		path := filepath.Join(testdataDir, filepath.FromSlash(name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go run ./tools/gentestdata)", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from the generator's output (%d bytes, want %d): run go run ./tools/gentestdata", path, len(got), len(data))
		}
	}
}

func TestSampleShape(t *testing.T) {
	files := sampleFiles(t)
	if n := len(files[SamplePcap]); n >= 300_000 {
		t.Errorf("%s is %d bytes, want under 300 KB", SamplePcap, n)
	}
	frames, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	if want := SampleStart().Add(time.Second); !frames[0].TS.Equal(want) {
		t.Errorf("first frame at %s, want %s", frames[0].TS, want)
	}
	for i := 1; i < len(frames); i++ {
		if frames[i].TS.Before(frames[i-1].TS) {
			t.Fatalf("frame %d at %s before frame %d", i, frames[i].TS, i-1)
		}
		if frames[i].TS.Nanosecond()%1000 != 0 {
			t.Fatalf("frame %d time %s is not a whole microsecond", i, frames[i].TS)
		}
	}
	if span := frames[len(frames)-1].TS.Sub(frames[0].TS); span < 2*time.Minute || span > 5*time.Minute {
		t.Errorf("capture spans %s, want a few minutes", span)
	}
	specs, err := SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 20 || len(specs) > 40 {
		t.Errorf("%d flows, want 20 to 40", len(specs))
	}
	ends := map[string]int{}
	split := 0
	for _, s := range specs {
		ends[s.End]++
		if s.Part == 2 {
			split++
			prev := specs[slices.IndexFunc(specs, func(p FlowSpec) bool { return p.Conv == s.Conv && p.Part == 1 })]
			if gap := s.First.Sub(prev.Last); gap <= IdleTimeout {
				t.Errorf("%s: parts %s apart, want more than %s", s.Conv, gap, IdleTimeout)
			}
		}
	}
	if split != 1 || ends["idle"] != 1 {
		t.Errorf("%d conversations split by the idle timeout (%d idle ends), want 1", split, ends["idle"])
	}
	if ends["fin"] < 5 || ends["rst"] < 3 {
		t.Errorf("ends %v, want several fin and rst", ends)
	}
}

// flowOf keys a decoded packet as SampleFlows does.
type testKey struct {
	a, b   netip.AddrPort
	proto  uint8
	isIPv6 bool
}

func keyOf(p *pktInfo) testKey {
	x, y := netip.AddrPortFrom(p.src, p.sport), netip.AddrPortFrom(p.dst, p.dport)
	if y.Compare(x) < 0 {
		x, y = y, x
	}
	return testKey{x, y, p.proto, p.ipVersion == 6}
}

type testFlow struct {
	init                  netip.AddrPort
	resp                  netip.AddrPort
	proto                 uint8
	frames                []int
	first, last           time.Time
	pktFwd, pktBwd        int
	payFwd, payBwd        int
	ipFwd, ipBwd          int
	syn, fin, rst         int
	retrans, ooo, dupAcks int
	lastAck               [2]struct {
		ok  bool
		ack uint32
		win uint16
	}
	highest [2]uint32 // highest sequence end sent per direction (relative to first seq)
	seen    [2][][2]uint32
	started [2]bool
}

// assemble decodes a capture and builds flows from the packets alone.
func assemble(t *testing.T, recs []capRecord) ([]*testFlow, []pktInfo) {
	t.Helper()
	d := newDecoder()
	open := map[testKey]*testFlow{}
	var flows []*testFlow
	var infos []pktInfo
	for i, r := range recs {
		p, err := d.decode(r.link, r.data, r.ts)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		infos = append(infos, p)
		k := keyOf(&p)
		f := open[k]
		if f == nil || p.ts.Sub(f.last) > IdleTimeout {
			f = &testFlow{init: netip.AddrPortFrom(p.src, p.sport), resp: netip.AddrPortFrom(p.dst, p.dport), proto: p.proto, first: p.ts}
			open[k] = f
			flows = append(flows, f)
		}
		f.add(i, &p)
	}
	if len(d.frags) != 0 {
		t.Errorf("%d datagrams left incomplete", len(d.frags))
	}
	return flows, infos
}

func (f *testFlow) add(i int, p *pktInfo) {
	f.frames = append(f.frames, i)
	f.last = p.ts
	dir := 1
	if netip.AddrPortFrom(p.src, p.sport) == f.init {
		dir = 0
		f.pktFwd++
		f.payFwd += p.payload
		f.ipFwd += p.ipLen
	} else {
		f.pktBwd++
		f.payBwd += p.payload
		f.ipBwd += p.ipLen
	}
	tcp := p.tcp
	if tcp == nil {
		return
	}
	if tcp.SYN {
		f.syn++
	}
	if tcp.FIN {
		f.fin++
	}
	if tcp.RST {
		f.rst++
	}
	if tcp.ACK && len(tcp.Payload) == 0 && !tcp.SYN && !tcp.FIN && !tcp.RST {
		if la := f.lastAck[dir]; la.ok && la.ack == tcp.Ack && la.win == tcp.Window {
			f.dupAcks++
		}
	}
	f.lastAck[dir] = struct {
		ok  bool
		ack uint32
		win uint16
	}{true, tcp.Ack, tcp.Window}
	if n := uint32(len(tcp.Payload)); n > 0 {
		start, end := tcp.Seq, tcp.Seq+n
		covered := false
		for _, s := range f.seen[dir] {
			if s[0] == start && s[1] == end {
				covered = true
			}
		}
		switch {
		case covered:
			f.retrans++
		case f.started[dir] && seqLT(start, f.highest[dir]):
			f.ooo++
		}
		f.seen[dir] = append(f.seen[dir], [2]uint32{start, end})
		if !f.started[dir] || seqLT(f.highest[dir], end) {
			f.highest[dir] = end
			f.started[dir] = true
		}
	}
}

// TestSampleFlowsMatchCapture decodes both committed formats with gopacket,
// verifies every checksum, assembles flows from the packets alone and
// compares them with SampleFlows.
func TestSampleFlowsMatchCapture(t *testing.T) {
	files := sampleFiles(t)
	specs, err := SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{SamplePcap, SamplePcapNG} {
		t.Run(name, func(t *testing.T) {
			capf, err := readCapture(files[name])
			if err != nil {
				t.Fatal(err)
			}
			flows, _ := assemble(t, capf.records)
			if len(flows) != len(specs) {
				t.Fatalf("%d flows in the capture, SampleFlows has %d", len(flows), len(specs))
			}
			for i, f := range flows {
				s := specs[i]
				got := []any{f.init, f.resp, f.proto, f.frames, f.first, f.last, f.pktFwd, f.pktBwd, f.payFwd, f.payBwd, f.ipFwd, f.ipBwd,
					f.syn, f.fin, f.rst, f.retrans, f.ooo, f.dupAcks}
				want := []any{netip.AddrPortFrom(s.InitIP, s.InitPort), netip.AddrPortFrom(s.RespIP, s.RespPort), s.Proto, s.Frames, s.First, s.Last,
					s.PacketsFwd, s.PacketsBwd, s.PayloadFwd, s.PayloadBwd, s.IPBytesFwd, s.IPBytesBwd,
					s.SYN, s.FIN, s.RST, s.Retransmissions, s.OutOfOrder, s.DupAcks}
				names := []string{"initiator", "responder", "proto", "frames", "first", "last", "packets fwd", "packets bwd", "payload fwd", "payload bwd",
					"ip bytes fwd", "ip bytes bwd", "SYN", "FIN", "RST", "retransmissions", "out of order", "dup ACKs"}
				for j := range got {
					if !equalAny(got[j], want[j]) {
						t.Errorf("flow %d (%s part %d): %s = %v, want %v", i+1, s.Conv, s.Part, names[j], got[j], want[j])
					}
				}
			}
			// Interfaces of the pcapng.
			for i, r := range capf.records {
				want := 0
				for _, s := range specs {
					if slices.Contains(s.Frames, i) {
						want = s.NGIface
					}
				}
				if !capf.ng {
					want = 0
				}
				if r.iface != want {
					t.Errorf("frame %d on interface %d, want %d", i, r.iface, want)
				}
			}
		})
	}
}

func equalAny(a, b any) bool {
	switch a := a.(type) {
	case []int:
		return slices.Equal(a, b.([]int))
	case time.Time:
		return a.Equal(b.(time.Time))
	}
	return a == b
}

// sampleRecords returns the decoded frames of sample.pcap and the flow specs.
func sampleRecords(t *testing.T) ([]pktInfo, []FlowSpec) {
	t.Helper()
	capf, err := readCapture(sampleFiles(t)[SamplePcap])
	if err != nil {
		t.Fatal(err)
	}
	_, infos := assemble(t, capf.records)
	specs, err := SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	return infos, specs
}

func specByName(t *testing.T, specs []FlowSpec, conv string) FlowSpec {
	t.Helper()
	i := slices.IndexFunc(specs, func(s FlowSpec) bool { return s.Conv == conv })
	if i < 0 {
		t.Fatalf("no flow %q", conv)
	}
	return specs[i]
}

// stream reassembles the TCP payload one direction of a flow sent, in
// sequence order, keeping the first copy of retransmitted data.
func stream(infos []pktInfo, s FlowSpec, fromInit bool) []byte {
	type seg struct {
		seq  uint32
		data []byte
	}
	var segs []seg
	var isn uint32
	for _, i := range s.Frames {
		p := infos[i]
		if p.tcp == nil || (p.src == s.InitIP && p.sport == s.InitPort) != fromInit {
			continue
		}
		if p.tcp.SYN {
			isn = p.tcp.Seq + 1
		}
		if len(p.data) > 0 {
			segs = append(segs, seg{p.tcp.Seq, p.data})
		}
	}
	slices.SortStableFunc(segs, func(a, b seg) int { return int(int32(a.seq - b.seq)) })
	var out []byte
	next := isn
	for _, g := range segs {
		if g.seq != next {
			continue // a copy already taken
		}
		out = append(out, g.data...)
		next += uint32(len(g.data))
	}
	return out
}

// tlsRecords splits a TLS byte stream into records; all bytes must belong to
// complete records.
func tlsRecords(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("%d trailing bytes", len(b))
		}
		n := 5 + int(binary.BigEndian.Uint16(b[3:]))
		if n > len(b) {
			t.Fatalf("record of %d bytes, %d left", n, len(b))
		}
		recs = append(recs, b[:n])
		b = b[n:]
	}
	return recs
}

// helloExtensions walks the extensions of a ClientHello or ServerHello
// handshake message (starting at its handshake header).
func helloExtensions(t *testing.T, msg []byte, client bool) map[uint16][]byte {
	t.Helper()
	p := msg[4+2+32:]   // header, version, random
	p = p[1+int(p[0]):] // session id
	if client {
		p = p[2+int(binary.BigEndian.Uint16(p)):] // cipher suites
		p = p[1+int(p[0]):]                       // compression methods
	} else {
		p = p[3:] // cipher suite, compression method
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2 : 2+n]
	ext := map[uint16][]byte{}
	for len(p) >= 4 {
		typ, l := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		ext[typ] = p[4 : 4+l]
		p = p[4+l:]
	}
	return ext
}

func TestSampleTLS(t *testing.T) {
	infos, specs := sampleRecords(t)
	tests := []struct {
		conv          string
		serverVersion uint16 // from supported_versions, or the ServerHello version field
		alpn          string
	}{
		{"tls13", 0x0304, "h2"},
		{"tls12", 0x0303, "http/1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.conv, func(t *testing.T) {
			s := specByName(t, specs, tc.conv)
			cs, ss := stream(infos, s, true), stream(infos, s, false)
			if len(cs) != s.PayloadFwd || len(ss) != s.PayloadBwd {
				t.Fatalf("streams of %d and %d bytes, payload %d and %d", len(cs), len(ss), s.PayloadFwd, s.PayloadBwd)
			}
			crecs, srecs := tlsRecords(t, cs), tlsRecords(t, ss)

			var tl layers.TLS
			if err := tl.DecodeFromBytes(crecs[0], gopacket.NilDecodeFeedback); err != nil {
				t.Fatal(err)
			}
			if len(tl.Handshake) != 1 || string(tl.Handshake[0].ClientHello.SNI) != "example.test" {
				t.Fatalf("first client record: %+v, want a ClientHello with SNI example.test", tl.Handshake)
			}
			ext := helloExtensions(t, crecs[0][5:], true)
			if got := ext[16]; !bytes.Equal(got, []byte("\x00\x0c\x02h2\x08http/1.1")) {
				t.Errorf("ALPN extension %q, want h2 and http/1.1", got)
			}
			if crecs[0][5] != 1 || srecs[0][5] != 2 {
				t.Fatalf("handshake types %d and %d, want ClientHello and ServerHello", crecs[0][5], srecs[0][5])
			}
			sext := helloExtensions(t, srecs[0][5:], false)
			version := binary.BigEndian.Uint16(srecs[0][9:])
			if v, ok := sext[43]; ok {
				version = binary.BigEndian.Uint16(v)
			}
			if version != tc.serverVersion {
				t.Errorf("server version %#04x, want %#04x", version, tc.serverVersion)
			}
			if tc.serverVersion == 0x0303 {
				// TLS 1.2 sends ALPN in the clear.
				if got := sext[16]; !bytes.Equal(got, append([]byte{0, byte(len(tc.alpn) + 1), byte(len(tc.alpn))}, tc.alpn...)) {
					t.Errorf("server ALPN %q, want %q", got, tc.alpn)
				}
			}
			// Both ends finish with an alert (close_notify) record.
			for _, recs := range [][][]byte{crecs, srecs} {
				last := recs[len(recs)-1]
				if last[0] != 21 && last[0] != 23 { // alert, or encrypted as application data in TLS 1.3
					t.Errorf("last record type %d, want an alert", last[0])
				}
			}
		})
	}
}

func TestSampleDNS(t *testing.T) {
	infos, specs := sampleRecords(t)
	tests := []struct {
		conv    string
		name    string
		rcode   layers.DNSResponseCode
		answers int
		tcp     bool
	}{
		{"dns-a", "example.test", layers.DNSResponseCodeNoErr, 1, false},
		{"dns-aaaa", "www.example.test", layers.DNSResponseCodeNoErr, 2, false},
		{"dns-nxdomain", "nosuch.example.test", layers.DNSResponseCodeNXDomain, 0, false},
		{"dns-tcp", "many.example.test", layers.DNSResponseCodeNoErr, 12, true},
		{"geneve-dns", "geneve.example.test", layers.DNSResponseCodeNoErr, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.conv, func(t *testing.T) {
			s := specByName(t, specs, tc.conv)
			var msgs [][]byte
			if tc.tcp {
				for _, b := range [][]byte{stream(infos, s, true), stream(infos, s, false)} {
					if n := int(binary.BigEndian.Uint16(b)); n != len(b)-2 {
						t.Fatalf("length prefix %d for %d bytes", n, len(b)-2)
					}
					msgs = append(msgs, b[2:])
				}
			} else {
				for _, i := range s.Frames {
					msgs = append(msgs, infos[i].data)
				}
			}
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want query and response", len(msgs))
			}
			for i, m := range msgs {
				var d layers.DNS
				if err := d.DecodeFromBytes(m, gopacket.NilDecodeFeedback); err != nil {
					t.Fatal(err)
				}
				if d.QR != (i == 1) || len(d.Questions) != 1 || string(d.Questions[0].Name) != tc.name {
					t.Errorf("message %d: QR %v questions %+v", i, d.QR, d.Questions)
				}
				if i == 1 && (d.ResponseCode != tc.rcode || len(d.Answers) != tc.answers) {
					t.Errorf("response rcode %v with %d answers, want %v with %d", d.ResponseCode, len(d.Answers), tc.rcode, tc.answers)
				}
			}
		})
	}
}

// TestSampleLinks checks the layer stack of each special conversation.
func TestSampleLinks(t *testing.T) {
	infos, specs := sampleRecords(t)
	L := func(ts ...gopacket.LayerType) []gopacket.LayerType { return ts }
	eth, ip4, ip6 := layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeIPv6
	udp, tcp := layers.LayerTypeUDP, layers.LayerTypeTCP
	tests := []struct {
		conv   string
		prefix []gopacket.LayerType // the first frame's layers start so
	}{
		{"vlan", L(eth, layers.LayerTypeDot1Q, ip4, tcp)},
		{"qinq", L(eth, layers.LayerTypeDot1Q, layers.LayerTypeDot1Q, ip4, udp)},
		{"mpls", L(eth, layers.LayerTypeMPLS, layers.LayerTypeMPLS, ip4, tcp)},
		{"pppoe", L(eth, layers.LayerTypePPPoE, layers.LayerTypePPP, ip4, tcp)},
		{"gre", L(eth, ip4, layers.LayerTypeGRE, ip4, tcp)},
		{"vxlan", L(eth, ip4, udp, layers.LayerTypeVXLAN, eth, ip4, tcp)},
		{"geneve-dns", L(eth, ip4, udp, layers.LayerTypeGeneve, eth, ip4, udp)},
		{"gtpu", L(eth, ip4, udp, layers.LayerTypeGTPv1U, ip4, tcp)},
		{"ipip", L(eth, ip4, ip4, tcp)},
		{"6in4", L(eth, ip4, ip6, tcp)},
		{"teredo", L(eth, ip4, udp, ip6, tcp)},
		{"tcp6-hbh", L(eth, ip6, layers.LayerTypeIPv6HopByHop, tcp)},
		{"frag6", L(eth, ip6, layers.LayerTypeIPv6Fragment)},
		{"frag4", L(eth, ip4, gopacket.LayerTypeFragment)},
		{"icmpv6-echo", L(eth, ip6, layers.LayerTypeICMPv6, layers.LayerTypeICMPv6Echo)},
	}
	for _, tc := range tests {
		t.Run(tc.conv, func(t *testing.T) {
			s := specByName(t, specs, tc.conv)
			for _, i := range s.Frames {
				got := infos[i].layers
				if len(got) < len(tc.prefix) || !slices.Equal(got[:len(tc.prefix)], tc.prefix) {
					t.Fatalf("frame %d layers %v, want %v first", i, got, tc.prefix)
				}
				if tc.conv == "frag4" || tc.conv == "frag6" {
					break // later fragments and the answer differ
				}
			}
		})
	}
	qinq := specByName(t, specs, "qinq")
	if et := infos[qinq.Frames[0]].eth.EthernetType; et != layers.EthernetTypeQinQ {
		t.Errorf("QinQ outer EtherType %v, want 802.1ad", et)
	}
	// Bare ACKs without TCP options are padded to the 60-byte minimum frame.
	padded := specByName(t, specs, "padded")
	frames, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	bare := 0
	for _, i := range padded.Frames {
		p := infos[i]
		if len(p.tcp.Payload) == 0 && p.ipLen == 40 {
			bare++
			if len(frames[i].Data) != 60 {
				t.Errorf("frame %d: bare ACK in a %d-byte frame, want 60", i, len(frames[i].Data))
			}
		}
	}
	if bare < 5 {
		t.Errorf("%d bare ACKs in the padded flow, want several", bare)
	}
}
