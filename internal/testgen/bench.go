package testgen

import (
	"container/heap"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// The benchmark capture (issue 6, make bench-capture): a classic pcap of
// about 1 GB, 2.5M packets and 60k flows, written as a stream. Every
// conversation is built with the builders of this package (TCPSession,
// UDPSend, DNSMessage, the SSH and HTTP payloads, TLSHandshake and the QUIC
// handshake); the TLS and QUIC handshakes come from a small pool computed
// once and reused with other addresses and ports.

// BenchConfig sizes the benchmark capture.
type BenchConfig struct {
	Seed    uint64
	Flows   int           // conversations; each is exactly one flow under jjsql's default options
	MaxOpen int           // at most this many conversations between their first and last packet at once
	Span    time.Duration // conversations start at random over this span (later while MaxOpen are open)
	Start   time.Time     // start of the first conversation
	// SizeScale multiplies every transfer size (response bodies, uploads,
	// QUIC downloads); 1 gives the default mix.
	SizeScale float64
}

// DefaultBenchConfig is the configuration of testdata/bench/synthetic.pcap:
// 60k conversations starting over 90 seconds, at most 20k open at once.
func DefaultBenchConfig() BenchConfig {
	return BenchConfig{
		Seed: 20260601, Flows: 60000, MaxOpen: 20000, Span: 90 * time.Second,
		Start: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), SizeScale: 1,
	}
}

// Kinds of conversation in the benchmark capture.
const (
	BenchDNS     = iota // DNS query and response over UDP
	BenchTLS12          // HTTPS: TLS 1.2 over TCP, keep-alive exchanges
	BenchTLS13          // HTTPS: TLS 1.3 over TCP
	BenchQUIC           // HTTP/3: QUIC v1 handshake, then 1-RTT packets
	BenchHTTP           // plain HTTP/1.1 over TCP
	BenchSSH            // SSH: banners and key exchange, then keystrokes or a bulk copy
	BenchNTP            // NTPv4 request and response
	BenchRefused        // SYN answered by RST-ACK
	NumBenchKinds
)

// BenchKindNames names the kinds (BenchDNS, ...).
var BenchKindNames = [NumBenchKinds]string{"dns", "tls1.2", "tls1.3", "quic", "http", "ssh", "ntp", "refused"}

// benchShare is the share of each kind among conversations.
var benchShare = [NumBenchKinds]float64{0.26, 0.12, 0.30, 0.12, 0.09, 0.05, 0.02, 0.04}

// BenchKindStats counts one kind of conversation.
type BenchKindStats struct {
	Flows, Frames int
	Bytes         int64 // frame bytes (without pcap record headers)
}

// BenchStats describes a written benchmark capture.
type BenchStats struct {
	Flows      int   // conversations = flows jjsql finds with its default options
	Frames     int   // frames = IP packets
	FileBytes  int64 // size of the pcap file
	IPv6Flows  int
	VLANFlows  int
	PeakOpen   int // most conversations between their first and last frame at once
	MaxPackets int // frames of the largest conversation
	First      time.Time
	Last       time.Time
	Kinds      [NumBenchKinds]BenchKindStats
	// PacketsHist counts conversations by frames: [1,2], [3,4], [5,8], ...,
	// bucket i holding 2^i+1 to 2^(i+1).
	PacketsHist [24]int
}

// benchPools holds what conversations share: handshakes and fill bytes.
type benchPools struct {
	tls12, tls13 [][]TLSFlight // handshake, first request and response, then two close_notify flights
	quic         []benchQUIC
	sshClient    [][]byte
	sshServer    [][]byte
	random       []byte
	text         []byte
}

type benchQUIC struct {
	cfg QUICTLSConfig
	dgs []QUICDatagram
}

var benchNames = []string{
	"www.example.com", "api.example.net", "cdn.example.org", "static.example.com", "login.example.net",
	"video.example.org", "img.example.com", "mail.example.net", "update.example.org", "ads.example.com",
	"telemetry.example.net", "chat.example.org", "maps.example.com", "docs.example.net", "news.example.org",
	"shop.example.com",
}

func newBenchPools(seed uint64, t0 time.Time) (*benchPools, error) {
	p := &benchPools{}
	alpns := [][]string{{"h2", "http/1.1"}, {"http/1.1"}, nil}
	for i := 0; i < 24; i++ {
		v := uint16(tls.VersionTLS13)
		if i%3 == 0 {
			v = tls.VersionTLS12
		}
		name := benchNames[i%len(benchNames)]
		fl, err := TLSHandshake(TLSConfig{
			Version: v, ServerName: name, ALPN: alpns[i%len(alpns)],
			Request: HTTPRequest(name, "/"), Response: HTTPResponse(300 + 37*i),
			Seed: seed + uint64(i), Time: t0,
		})
		if err != nil {
			return nil, err
		}
		if len(fl) < 4 {
			return nil, fmt.Errorf("testgen: bench: TLS session of %d flights", len(fl))
		}
		if v == tls.VersionTLS12 {
			p.tls12 = append(p.tls12, fl)
		} else {
			p.tls13 = append(p.tls13, fl)
		}
	}
	for i := 0; i < 12; i++ {
		r := rand.New(rand.NewPCG(seed, 0x51c+uint64(i)))
		cid := func(n int) []byte {
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			return b
		}
		cfg := QUICTLSConfig{
			ServerName: benchNames[(i*5)%len(benchNames)], Seed: seed + 100 + uint64(i), Time: t0,
			DCID: cid(8), SCID: cid(8 * (i % 2)), ServerCID: cid(8),
		}
		fl, err := QUICTLSHandshake(cfg)
		if err != nil {
			return nil, err
		}
		dgs, err := QUICHandshakeDatagrams(cfg, fl, 1+i%2, seed+200+uint64(i))
		if err != nil {
			return nil, err
		}
		p.quic = append(p.quic, benchQUIC{cfg: cfg, dgs: dgs})
	}
	for i := 0; i < 8; i++ {
		p.sshClient = append(p.sshClient, SSHClientKex(seed+300+uint64(i)*10))
		p.sshServer = append(p.sshServer, SSHServerKex(seed+400+uint64(i)*10))
	}
	p.random = RandomBytes(seed+500, 1<<20)
	p.text = TextBody(1 << 20)
	return p, nil
}

// fill kinds of a message's generated bytes.
const (
	fillNone   = iota // data only
	fillRandom        // random bytes (encrypted payloads)
	fillText          // HTML-like text
	fillTLS           // TLS application-data records of random bytes
)

// benchChunk is the most payload one step of a conversation sends: large
// transfers go out chunk by chunk, each acknowledged before the next (a
// window of this size per round trip).
const benchChunk = 128 << 10

// benchAct is one action of a conversation's script.
type benchAct struct {
	op         uint8
	fromServer bool
	think      time.Duration // TCP: pause before the message; UDP: gap before the datagram
	data       []byte        // bytes sent first
	n          int           // then this many generated bytes
	fill       uint8
}

const (
	actOpen     = iota // TCP handshake
	actRefuse          // SYN, RST-ACK
	actSend            // TCP message
	actClose           // FIN from fromServer's end
	actReset           // RST from fromServer's end
	actDatagram        // one UDP datagram of data (n must be 0)
	actQUICData        // n bytes from the server in full-size 1-RTT packets, ACKed by the client
)

// benchFlow is one conversation being written.
type benchFlow struct {
	idx   int
	kind  int
	cv    *Conv
	tcp   *TCPSession
	acts  []benchAct
	ai    int
	sent  int // bytes of acts[ai] already sent (chunked transfers)
	t     time.Time
	rtt   time.Duration
	quic  *benchQUIC
	pn    [2]uint64 // next 1-RTT packet number per direction (seeds the random bytes)
	r     *rand.Rand
	queue []Frame // frames of the current step not written yet
	qi    int
	wake  time.Time // with an empty queue: no frame of the next step is earlier
	n     int       // frames written
	bytes int64
	v6    bool
	vlan  bool
}

type flowHeap []*benchFlow

func (h flowHeap) Len() int { return len(h) }
func (h flowHeap) Less(i, j int) bool {
	a, b := h[i].key(), h[j].key()
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].idx < h[j].idx
}
func (h flowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)   { *h = append(*h, x.(*benchFlow)) }
func (h *flowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// benchGen holds the state of one WriteBench call.
type benchGen struct {
	cfg     BenchConfig
	pools   *benchPools
	scratch []byte
	ports   map[netip.Addr]uint16
}

// WriteBench writes the benchmark capture of cfg to w as a classic pcap
// (little endian, microsecond timestamps, Ethernet) and returns what it
// holds. Frames are written in time order as they are built; memory holds
// the frames of the current step of each open conversation (none while it
// pauses). The output depends only on cfg (and the Go release, whose
// crypto/tls writes the handshakes): the same configuration gives the same
// bytes.
func WriteBench(w io.Writer, cfg BenchConfig) (BenchStats, error) {
	var st BenchStats
	if cfg.Flows <= 0 || cfg.MaxOpen <= 0 || cfg.Span <= 0 {
		return st, fmt.Errorf("testgen: bench: flows, max open and span must be positive")
	}
	if cfg.SizeScale <= 0 {
		cfg.SizeScale = 1
	}
	pools, err := newBenchPools(cfg.Seed, cfg.Start)
	if err != nil {
		return st, err
	}
	cw := &countWriter{w: w}
	pw, err := NewPcapWriter(cw, PcapOptions{})
	if err != nil {
		return st, err
	}
	g := &benchGen{cfg: cfg, pools: pools, ports: map[netip.Addr]uint16{}}

	arrivals := rand.New(rand.NewPCG(cfg.Seed, math.MaxUint64))
	mean := float64(cfg.Span) / float64(cfg.Flows)
	next := cfg.Start
	nextIdx := 0
	var waiting []int // conversations that arrived while MaxOpen were open
	var h flowHeap
	open := 0
	var now time.Time

	start := func(idx int, at time.Time) {
		f := g.newFlow(idx, at)
		f.wake = at
		open++
		st.PeakOpen = max(st.PeakOpen, open)
		heap.Push(&h, f)
	}
	for {
		if nextIdx < cfg.Flows && (len(h) == 0 || !next.After(h[0].key())) {
			if open < cfg.MaxOpen {
				start(nextIdx, next)
			} else {
				waiting = append(waiting, nextIdx)
			}
			nextIdx++
			next = next.Add(time.Duration(arrivals.ExpFloat64() * mean).Truncate(time.Microsecond))
			continue
		}
		if len(h) == 0 {
			break
		}
		f := h[0]
		if f.qi == len(f.queue) {
			// The earliest conversation has its next step to build: its
			// frames are no earlier than f.wake, the earliest time of all.
			if err := g.build(f); err != nil {
				return st, err
			}
			if f.qi == len(f.queue) {
				heap.Pop(&h)
				open--
				g.done(f, &st)
				if len(waiting) > 0 {
					idx := waiting[0]
					waiting = waiting[1:]
					start(idx, now.Add(time.Millisecond))
				}
				continue
			}
			heap.Fix(&h, 0)
			continue
		}
		fr := f.queue[f.qi]
		if err := pw.WriteFrame(fr); err != nil {
			return st, err
		}
		now = fr.TS
		if st.Frames == 0 {
			st.First = now
		}
		st.Frames++
		f.n++
		f.bytes += int64(len(fr.Data))
		f.queue[f.qi] = Frame{}
		f.qi++
		if f.qi == len(f.queue) {
			f.queue, f.qi = nil, 0
			f.wake = g.wakeTime(f)
		}
		heap.Fix(&h, 0)
	}
	if err := pw.Flush(); err != nil {
		return st, err
	}
	st.Last = now
	st.FileBytes = cw.n
	return st, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (g *benchGen) done(f *benchFlow, st *BenchStats) {
	st.Flows++
	k := &st.Kinds[f.kind]
	k.Flows++
	k.Frames += f.n
	k.Bytes += f.bytes
	if f.v6 {
		st.IPv6Flows++
	}
	if f.vlan {
		st.VLANFlows++
	}
	st.MaxPackets = max(st.MaxPackets, f.n)
	b := 0
	for n := f.n - 1; n > 1 && b < len(st.PacketsHist)-1; n >>= 1 {
		b++
	}
	st.PacketsHist[b]++
}

// pareto draws from a Pareto distribution of shape alpha and minimum xm,
// capped at hi.
func pareto(r *rand.Rand, xm, alpha, hi float64) float64 {
	v := xm / math.Pow(1-r.Float64(), 1/alpha)
	return min(v, hi)
}

// think draws an exponential pause of the given mean, capped at hi (below
// the 60 s idle timeout, so a conversation stays one flow), in whole
// microseconds.
func think(r *rand.Rand, mean, hi time.Duration) time.Duration {
	d := time.Duration(r.ExpFloat64() * float64(mean))
	return min(d, hi).Truncate(time.Microsecond)
}

// Addresses: clients in 10.1.0.0/16 and 2001:db8:c::/64, servers in the
// benchmarking range 198.18.0.0/15 (RFC 2544) and 2001:db8:5::/64,
// resolvers and time servers in 10.0.0.0/24 and 2001:db8:53::/64.
func benchClient(i int, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, 14: byte(i >> 8), 15: byte(i)})
	}
	return netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)})
}

func benchServer(i int, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x05, 14: byte(i >> 8), 15: byte(i)})
	}
	return netip.AddrFrom4([4]byte{198, 18 + byte(i/62500), byte(i / 250 % 250), byte(i%250 + 1)})
}

func benchResolver(i int, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 15: byte(i + 1)})
	}
	return netip.AddrFrom4([4]byte{10, 0, 0, byte(53 + i)})
}

var benchGateway = mustMAC("00:1b:21:0b:e0:01")

const (
	benchClients = 4000
	benchServers = 900
)

// newFlow plans conversation idx, starting at t.
func (g *benchGen) newFlow(idx int, t time.Time) *benchFlow {
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(idx)))
	f := &benchFlow{idx: idx, r: r, t: t}
	u := r.Float64()
	for f.kind = 0; f.kind < NumBenchKinds-1 && u >= benchShare[f.kind]; f.kind++ {
		u -= benchShare[f.kind]
	}
	f.v6 = r.Float64() < 0.15
	f.vlan = r.Float64() < 0.05
	ci := r.IntN(benchClients)
	cip := benchClient(ci, f.v6)
	sip := benchServer(r.IntN(benchServers), f.v6)
	var sport uint16
	switch f.kind {
	case BenchDNS:
		sip, sport = benchResolver(r.IntN(2), f.v6), 53
	case BenchNTP:
		sip, sport = benchResolver(2+r.IntN(2), f.v6), 123
	case BenchHTTP:
		sport = 80
	case BenchSSH:
		sport = 22
	case BenchRefused:
		sport = uint16(1 + r.IntN(1023))
	default:
		sport = 443
	}
	// Ephemeral ports go up per client address, so no 5-tuple repeats.
	p, ok := g.ports[cip]
	if !ok {
		p = uint16(32768 + (ci*131)%20000)
	}
	p += uint16(1 + r.IntN(3))
	g.ports[cip] = p
	link := Link{}
	if f.vlan {
		link.VLANs = []uint16{uint16(100 + r.IntN(16))}
	}
	f.cv = NewConv(fmt.Sprintf("b%d", idx), Endpoint{MAC: macFor(cip), IP: cip, Port: p},
		Endpoint{MAC: benchGateway, IP: sip, Port: sport}, link)
	f.cv.IP = IPOptions{DontFragment: !f.v6, ServerTTL: uint8(40 + r.IntN(24)), FlowLabel: uint32(r.IntN(1 << 20))}
	// Round-trip times of 2 to 120 ms, never a multiple of 100 µs: a
	// TCPSession burst puts segments 100 µs apart, and a server ACK one RTT
	// after a client segment must not fall on a later segment's time.
	f.rtt = time.Duration(2000+100*r.IntN(1200)+1+r.IntN(99)) * time.Microsecond
	g.plan(f)
	return f
}

// plan writes the script of f.
func (g *benchGen) plan(f *benchFlow) {
	r := f.r
	scale := g.cfg.SizeScale
	size := func(xm, alpha, hi float64) int { return max(1, int(pareto(r, xm*scale, alpha, hi*scale))) }
	keepAlive := func() time.Duration { return think(r, 12*time.Second, 45*time.Second) }
	// exchanges: 1 + a geometric number of further requests on the same connection.
	exchanges := func(p float64) int {
		n := 1
		for n < 200 && r.Float64() < p {
			n++
		}
		return n
	}
	add := func(a benchAct) { f.acts = append(f.acts, a) }
	closeTCP := func() {
		switch u := r.Float64(); {
		case u < 0.08:
			add(benchAct{op: actReset, fromServer: r.IntN(2) == 0})
		default:
			add(benchAct{op: actClose, fromServer: u > 0.7, think: think(r, 5*time.Second, 30*time.Second)})
		}
	}
	tcp := DefaultTCP(g.cfg.Seed ^ uint64(f.idx)*0x9e3779b97f4a7c15)
	tcp.RTT = f.rtt
	switch f.kind {
	case BenchDNS:
		names := benchNames
		name := names[r.IntN(len(names))]
		qt := layers.DNSTypeA
		if f.v6 {
			qt = layers.DNSTypeAAAA
		}
		id := uint16(r.Uint32())
		var answers []DNSAnswer
		for i := 0; i < 1+r.IntN(3); i++ {
			a := DNSAnswer{Name: name, Type: qt, TTL: uint32(30 + r.IntN(3600)), IP: benchServer(r.IntN(benchServers), f.v6)}
			answers = append(answers, a)
		}
		q, err1 := DNSMessage(id, name, qt, false, 0, nil)
		resp, err2 := DNSMessage(id, name, qt, true, 0, answers)
		if err1 != nil || err2 != nil {
			f.cv.fail(fmt.Errorf("dns: %v %v", err1, err2))
			return
		}
		add(benchAct{op: actDatagram, data: q})
		add(benchAct{op: actDatagram, fromServer: true, data: resp, think: f.rtt / 4})
	case BenchNTP:
		q, err1 := NTPRequest(f.t)
		resp, err2 := NTPResponse(f.t, f.t.Add(f.rtt/2), f.t.Add(f.rtt/2+30*time.Microsecond))
		if err1 != nil || err2 != nil {
			f.cv.fail(fmt.Errorf("ntp: %v %v", err1, err2))
			return
		}
		add(benchAct{op: actDatagram, data: q})
		add(benchAct{op: actDatagram, fromServer: true, data: resp, think: f.rtt})
	case BenchRefused:
		f.tcp = NewTCPSession(f.cv, f.t, tcp)
		add(benchAct{op: actRefuse})
	case BenchTLS12, BenchTLS13:
		f.tcp = NewTCPSession(f.cv, f.t, tcp)
		pool := g.pools.tls13
		if f.kind == BenchTLS12 {
			pool = g.pools.tls12
		}
		fl := pool[r.IntN(len(pool))]
		add(benchAct{op: actOpen})
		for _, x := range fl[:len(fl)-2] {
			add(benchAct{op: actSend, fromServer: x.FromServer, data: x.Data})
		}
		for i := exchanges(0.8) - 1; i > 0; i-- {
			add(benchAct{op: actSend, think: keepAlive(), n: 80 + r.IntN(900), fill: fillTLS})
			add(benchAct{op: actSend, fromServer: true, think: time.Duration(r.IntN(3000)) * time.Microsecond,
				n: size(400, 1.1, 40<<20), fill: fillTLS})
		}
		if r.Float64() < 0.1 { // an upload
			add(benchAct{op: actSend, think: keepAlive(), n: size(6000, 1.2, 20<<20), fill: fillTLS})
			add(benchAct{op: actSend, fromServer: true, n: 40 + r.IntN(300), fill: fillTLS})
		}
		for _, x := range fl[len(fl)-2:] {
			add(benchAct{op: actSend, fromServer: x.FromServer, data: x.Data, think: think(r, time.Second, 10*time.Second)})
		}
		closeTCP()
	case BenchHTTP:
		f.tcp = NewTCPSession(f.cv, f.t, tcp)
		host := benchNames[r.IntN(len(benchNames))]
		add(benchAct{op: actOpen})
		for i := exchanges(0.75); i > 0; i-- {
			th := keepAlive()
			if i == 1 {
				th = time.Duration(r.IntN(200000)) * time.Microsecond
			}
			add(benchAct{op: actSend, think: th, data: HTTPRequest(host, fmt.Sprintf("/p/%d", r.IntN(100000)))})
			n := size(500, 1.1, 40<<20)
			hdr := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: testgen\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", n)
			add(benchAct{op: actSend, fromServer: true, data: []byte(hdr), n: n, fill: fillText,
				think: time.Duration(r.IntN(5000)) * time.Microsecond})
		}
		closeTCP()
	case BenchSSH:
		f.tcp = NewTCPSession(f.cv, f.t, tcp)
		k := r.IntN(len(g.pools.sshClient))
		add(benchAct{op: actOpen})
		add(benchAct{op: actSend, fromServer: true, data: []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")})
		add(benchAct{op: actSend, data: []byte("SSH-2.0-OpenSSH_9.7\r\n")})
		add(benchAct{op: actSend, data: g.pools.sshClient[k]})
		add(benchAct{op: actSend, fromServer: true, data: g.pools.sshServer[k]})
		add(benchAct{op: actSend, data: SSHNewKeys(uint64(k))})
		for i, n := range []int{44, 44, 92, 52, 512, 28, 124, 44} { // service request, auth, channel (encrypted)
			add(benchAct{op: actSend, fromServer: i%2 == 1, n: n, fill: fillRandom})
		}
		if r.Float64() < 0.2 { // scp upload
			add(benchAct{op: actSend, n: size(15000, 1.1, 60<<20), fill: fillRandom, think: time.Second})
			add(benchAct{op: actSend, fromServer: true, n: 36, fill: fillRandom})
		} else { // interactive: keystrokes echoed, now and then a screenful
			for i := int(pareto(r, 14, 1.2, 1000)); i > 0; i-- {
				add(benchAct{op: actSend, n: 36, fill: fillRandom, think: think(r, 400*time.Millisecond, 30*time.Second)})
				n := 36
				if r.Float64() < 0.1 {
					n = size(600, 1.3, 1<<20)
				}
				add(benchAct{op: actSend, fromServer: true, n: n, fill: fillRandom})
			}
		}
		add(benchAct{op: actSend, fromServer: true, n: 160, fill: fillRandom})
		add(benchAct{op: actClose})
	case BenchQUIC:
		q := &g.pools.quic[r.IntN(len(g.pools.quic))]
		f.quic = q
		gap := 100 * time.Microsecond
		prevServer := false
		for i, d := range q.dgs {
			th := gap
			switch {
			case i == 0:
				th = 0
			case d.FromServer && !prevServer:
				th = f.rtt
			case !d.FromServer && prevServer:
				th = 200 * time.Microsecond
			}
			add(benchAct{op: actDatagram, fromServer: d.FromServer, data: d.Data, think: th})
			prevServer = d.FromServer
		}
		// HANDSHAKE_DONE and the server's first 1-RTT packet, then requests and responses.
		add(benchAct{op: actDatagram, fromServer: true, n: 60, think: f.rtt})
		for i := exchanges(0.75); i > 0; i-- {
			add(benchAct{op: actDatagram, n: 40 + r.IntN(400), think: keepAlive()})
			add(benchAct{op: actQUICData, fromServer: true, n: size(500, 1.1, 40<<20), think: f.rtt})
		}
		add(benchAct{op: actDatagram, n: 30, think: think(r, time.Second, 10*time.Second)}) // CONNECTION_CLOSE
	}
}

// build runs the next steps of f's script until one gives frames; the
// queue stays empty when the script is done.
func (g *benchGen) build(f *benchFlow) error {
	for len(f.queue) == 0 && f.ai < len(f.acts) {
		g.step(f)
		if err := f.cv.err; err != nil {
			return err
		}
		f.queue, f.qi = f.cv.take(), 0
		if f.tcp != nil {
			f.tcp.pending = nil // the emitted segments' closures: let them go while the flow waits
		}
	}
	return nil
}

// wakeTime returns a time no later than the first frame of f's next step:
// its last frame's time plus the next action's pause.
func (g *benchGen) wakeTime(f *benchFlow) time.Time {
	base := f.t
	if f.tcp != nil {
		base = f.tcp.Now()
	}
	if f.ai >= len(f.acts) || f.sent > 0 {
		return base
	}
	return base.Add(f.acts[f.ai].think)
}

// key orders conversations in the heap: the next frame's time, or the
// earliest time of the next step's frames.
func (f *benchFlow) key() time.Time {
	if f.qi < len(f.queue) {
		return f.queue[f.qi].TS
	}
	return f.wake
}

// fillBytes returns n generated bytes of kind fill (valid until the next call).
func (g *benchGen) fillBytes(r *rand.Rand, prefix []byte, n int, fill uint8) []byte {
	b := append(g.scratch[:0], prefix...)
	pool := g.pools.random
	if fill == fillText {
		pool = g.pools.text
	}
	switch fill {
	case fillRandom, fillText:
		for n > 0 {
			k := min(n, len(pool)/2)
			off := r.IntN(len(pool) - k + 1)
			b = append(b, pool[off:off+k]...)
			n -= k
		}
	case fillTLS:
		for n > 0 {
			k := min(n, 16384)
			ct := k + 17 // content type and AEAD tag
			b = append(b, 23, 3, 3, byte(ct>>8), byte(ct))
			off := r.IntN(len(pool) - ct + 1)
			b = append(b, pool[off:off+ct]...)
			n -= k
		}
	}
	g.scratch = b
	return b
}

// step runs one action of f's script (or one chunk of it).
func (g *benchGen) step(f *benchFlow) {
	a := &f.acts[f.ai]
	r := f.r
	switch a.op {
	case actOpen:
		f.tcp.Handshake()
	case actRefuse:
		f.tcp.Refuse()
	case actClose:
		f.tcp.Wait(a.think)
		f.tcp.Close(!a.fromServer, r.IntN(3) == 0)
	case actReset:
		f.tcp.Reset(!a.fromServer)
	case actSend:
		n := a.n - f.sent
		var prefix []byte
		if f.sent == 0 {
			prefix = a.data
		}
		chunk := min(n, benchChunk)
		data := prefix
		if a.fill != fillNone {
			data = g.fillBytes(r, prefix, chunk, a.fill)
		}
		th := time.Duration(0)
		if f.sent == 0 {
			th = a.think
		}
		f.tcp.SendWith(!a.fromServer, data, SendOptions{Think: th})
		f.sent += chunk
		if f.sent < a.n {
			return
		}
	case actDatagram:
		data := a.data
		if data == nil {
			data = g.quicShort(f, a.fromServer, a.n)
		}
		f.t = f.t.Add(max(a.think, time.Microsecond))
		UDPSend(f.cv, f.t, !a.fromServer, data)
	case actQUICData:
		// Full-size packets 60 µs apart, an ACK from the client every two.
		const pkt = 1232
		th := 60 * time.Microsecond
		if f.sent == 0 {
			th = a.think
		}
		for i := 0; i < 96 && f.sent < a.n; i++ {
			n := min(pkt, a.n-f.sent+40)
			f.t = f.t.Add(th)
			th = 60 * time.Microsecond
			UDPSend(f.cv, f.t, false, g.quicShort(f, true, n))
			f.sent += pkt - 40
			if i%2 == 1 || f.sent >= a.n {
				f.t = f.t.Add(30 * time.Microsecond)
				UDPSend(f.cv, f.t, true, g.quicShort(f, false, 36))
			}
		}
		if f.sent < a.n {
			return
		}
	}
	f.ai++
	f.sent = 0
}

// quicShort returns a 1-RTT packet of n bytes of f's QUIC connection.
func (g *benchGen) quicShort(f *benchFlow, fromServer bool, n int) []byte {
	dcid := f.quic.cfg.ServerCID
	d := 0
	if fromServer {
		dcid, d = f.quic.cfg.SCID, 1
	}
	f.pn[d]++
	var hdr [21]byte
	hdr[0] = 0x40 | byte(f.pn[d]*0x9d)&0x1f // protected bits look random
	h := append(hdr[:1], dcid...)
	return g.fillBytes(f.r, h, max(n-len(h), 20), fillRandom)
}

// take returns the frames built since the last call and forgets them.
func (c *Conv) take() []Frame {
	f := c.frames
	c.frames = nil
	return f
}
