package flows

import (
	"errors"
	"io"
	"runtime"
	"testing"
	"unsafe"
)

// allRecords are every kind of per-flow data a scan can keep.
const allRecords = NeedBase | NeedTCP | NeedIP | NeedL2 | NeedICMP | NeedHeads | NeedPayload | NeedSample

// recordBytes is the size of one packet's records with allRecords.
const recordBytes = int(unsafe.Sizeof(PktBase{}) + unsafe.Sizeof(PktTCP{}) + unsafe.Sizeof(PktIP{}) +
	unsafe.Sizeof(PktL2{}) + unsafe.Sizeof(PktICMP{}) + unsafe.Sizeof(PktHead{}))

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// elephant is a Source of one long TCP connection: a handshake, then data
// segments of payload bytes from the client, each acknowledged every
// second segment, until total bytes were sent; no file is written.
type elephant struct {
	payload []byte
	total   int64
	sent    int64
	n       uint64
	seq     uint32
	stats   SourceStats
}

func (e *elephant) Next(p *Packet) error {
	c, s := [16]byte{10, 0, 0, 1}, [16]byte{10, 0, 0, 2}
	e.n++
	*p = Packet{Index: e.n, TS: float64(e.n) * 1e-5, IPVersion: 4, Proto: 6, HasTCP: true, HasEth: true,
		SrcIP: c, DstIP: s, SrcPort: 40000, DstPort: 443, TTL: 64, TCPHdrLen: 20}
	switch {
	case e.n == 1:
		p.TCPFlags, p.Seq = SYN, 99
	case e.n == 2:
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = s, c, 443, 40000
		p.TCPFlags, p.Seq, p.Ack = SYN|ACK, 7, 100
	case e.sent >= e.total:
		return io.EOF
	case e.n%3 == 0:
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = s, c, 443, 40000
		p.TCPFlags, p.Seq, p.Ack = ACK, 8, 100+e.seq
	default:
		p.TCPFlags, p.Seq, p.Ack = PSH|ACK, 100+e.seq, 8
		p.PayloadLen, p.Payload = len(e.payload), e.payload
		e.seq += uint32(len(e.payload))
		e.sent += int64(len(e.payload))
	}
	p.IPLen = 40 + p.PayloadLen
	p.CapLen, p.WireLen = 14+p.IPLen, 14+p.IPLen
	e.stats.Records++
	e.stats.IPPackets++
	return nil
}

func (e *elephant) Stats() SourceStats { return e.stats }
func (e *elephant) Name() string       { return "elephant" }
func (e *elephant) Close() error       { return nil }

// TestElephantFlowBounded runs a 10 GB connection (1 GB under the race
// detector) with every kind of record through the assembler and checks
// that the heap stays within the record cap, that the records stop at the
// cap, and that the dropped packets' totals are exact.
func TestElephantFlowBounded(t *testing.T) {
	total := int64(10 << 30)
	if raceEnabled {
		total = 1 << 30
	}
	var src Source = &elephant{payload: make([]byte, 1448), total: total}
	cfg := DefaultConfig()
	cfg.MaxPacketRecords = 100_000
	a := NewAssembler(cfg, allRecords)
	base := heapInUse()
	// The cap's records, plus the payload budgets and the assembler's own
	// few MiB.
	limit := base + int64(cfg.MaxPacketRecords*recordBytes) + 2*int64(cfg.StreamBudget) + 8<<20
	var p Packet
	var peak int64
	var packets, fwd int
	var bytesFwd, bytesBwd, payFwd int64
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a.Add(&p)
		packets++
		if p.SrcPort == 40000 {
			fwd++
			bytesFwd += int64(p.IPLen)
			payFwd += int64(p.PayloadLen)
		} else {
			bytesBwd += int64(p.IPLen)
		}
		if packets%(1<<20) == 0 {
			peak = max(peak, heapInUse())
		}
	}
	peak = max(peak, heapInUse())
	a.Flush()
	fl := drain(a)
	if len(fl) != 1 {
		t.Fatalf("%d flows, want 1", len(fl))
	}
	f := fl[0]
	t.Logf("%d packets, heap peak %d MiB", packets, (peak-base)>>20)
	if peak > limit {
		t.Errorf("heap peaked at %d MiB over %d packets, want at most %d MiB", (peak-base)>>20, packets, (limit-base)>>20)
	}
	n := cfg.MaxPacketRecords
	for name, l := range map[string][2]int{"Base": {len(f.Base), cap(f.Base)}, "TCP": {len(f.TCP), cap(f.TCP)},
		"IP": {len(f.IP), cap(f.IP)}} {
		if l != [2]int{n, n} {
			t.Errorf("%s: %d records (capacity %d), want %d", name, l[0], l[1], n)
		}
	}
	if len(f.ICMP) != 0 || len(f.Heads) != 0 {
		t.Errorf("ICMP, Heads: %d and %d records for a TCP flow, want none", len(f.ICMP), len(f.Heads))
	}
	// The link layer never changes: one record for the first n packets.
	if len(f.L2) != 1 || f.L2[0].Packets() != int64(n) {
		t.Errorf("L2: %d records, the first for %d packets; want 1 for %d", len(f.L2), f.L2[0].Packets(), n)
	}
	if f.Packets != packets || f.Dropped.Packets != packets-n {
		t.Errorf("Packets %d, Dropped %d; want %d, %d", f.Packets, f.Dropped.Packets, packets, packets-n)
	}
	// Records plus the dropped totals give the whole flow's totals.
	var rec Totals
	for i := range f.Base {
		rec.Add(&f.Base[i])
	}
	got := [5]int64{int64(rec.PacketsFwd + f.Dropped.PacketsFwd), rec.BytesFwd + f.Dropped.BytesFwd,
		rec.BytesBwd + f.Dropped.BytesBwd, rec.PayloadFwd + f.Dropped.PayloadFwd, rec.PayloadBwd + f.Dropped.PayloadBwd}
	want := [5]int64{int64(fwd), bytesFwd, bytesBwd, payFwd, 0}
	if got != want {
		t.Errorf("packets fwd, bytes fwd/bwd, payload fwd/bwd = %v, want %v", got, want)
	}
	if payFwd < total || rec.Handshake != SawSYN|SawSYNACK || f.Dropped.FlagsFwd != PSH|ACK || f.Dropped.FlagsBwd != ACK {
		t.Errorf("payload %d, handshake %b, dropped flags %b/%b", payFwd, rec.Handshake, f.Dropped.FlagsFwd, f.Dropped.FlagsBwd)
	}
	if s := f.App.Stream[0]; len(s.Data) != cfg.StreamBudget || !s.Full {
		t.Errorf("client stream: %d bytes, full %v; want the %d-byte budget", len(s.Data), s.Full, cfg.StreamBudget)
	}
	if len(f.Sample[0]) != cfg.EntropySampleBytes {
		t.Errorf("sample: %d bytes, want %d", len(f.Sample[0]), cfg.EntropySampleBytes)
	}
	// Released, the elephant's buffers are not kept for the next flow.
	a.Release(f)
	if len(a.free) != 0 || len(a.bare) != 1 || f.bufBytes() != 0 {
		t.Errorf("released elephant: %d flows kept with buffers, %d without; it keeps %d bytes", len(a.free), len(a.bare), f.bufBytes())
	}
}

// TestRecordCapOff keeps every record when MaxPacketRecords is 0.
func TestRecordCapOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPacketRecords = 0
	a := NewAssembler(cfg, NeedBase|NeedTCP)
	src := &elephant{payload: make([]byte, 100), total: 100 * 3000}
	var p Packet
	for src.Next(&p) == nil {
		a.Add(&p)
	}
	a.Flush()
	f := drain(a)[0]
	if len(f.Base) != f.Packets || len(f.TCP) != f.Packets || f.Dropped != (Totals{}) || f.Packets < 4000 {
		t.Errorf("%d packets, %d/%d records, dropped %+v", f.Packets, len(f.Base), len(f.TCP), f.Dropped)
	}
}

// manyFlowsPacket returns packet j (0 or 1) of flow i of a capture where
// every flow is open at once: a UDP query and its answer.
func manyFlowsPacket(p *Packet, i, j int) {
	*p = Packet{Index: uint64(2*i + j + 1), TS: float64(i) * 1e-6, IPVersion: 4, Proto: 17, HasUDP: true,
		SrcIP: [16]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}, DstIP: [16]byte{192, 168, 0, 1},
		SrcPort: uint16(1024 + i%50000), DstPort: 53, IPLen: 60, PayloadLen: 32}
	if j == 1 {
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = p.DstIP, p.SrcIP, p.DstPort, p.SrcPort
	}
}

// TestManyConcurrentFlows opens a million flows at once (200,000 under the
// race detector), each with two packets' base records, and checks that the
// memory per open flow is what a flow needs, and that it is returned once
// the flows end.
func TestManyConcurrentFlows(t *testing.T) {
	n := 1_000_000
	if raceEnabled {
		n = 200_000
	}
	cfg := DefaultConfig()
	cfg.FlowTimeout = 1e9
	a := NewAssembler(cfg, NeedBase)
	base := heapInUse()
	var p Packet
	for i := 0; i < n; i++ {
		manyFlowsPacket(&p, i, 0)
		a.Add(&p)
	}
	for i := 0; i < n; i++ {
		manyFlowsPacket(&p, i, 1)
		a.Add(&p)
	}
	if a.Open() != n {
		t.Fatalf("%d flows open, want %d", a.Open(), n)
	}
	open := heapInUse() - base
	// A Flow, 4 base records (the first allocation), and at most 4 table
	// slots; the allocator rounds up by an eighth at most.
	need := int64(unsafe.Sizeof(Flow{})) + 4*int64(unsafe.Sizeof(PktBase{})) + 4*int64(unsafe.Sizeof(flowSlot{}))
	per := open / int64(n)
	t.Logf("%d bytes per open flow (Flow %d bytes)", per, unsafe.Sizeof(Flow{}))
	if per > need+need/8 {
		t.Errorf("%d bytes per open flow, want at most %d", per, need+need/8)
	}
	a.Flush()
	for f := a.Pop(); f != nil; f = a.Pop() {
		if f.Packets != 2 || len(f.Base) != 2 {
			t.Fatalf("flow %d: %d packets, %d records", f.UID, f.Packets, len(f.Base))
		}
		a.Release(f)
	}
	left := heapInUse() - base
	if a.Open() != 0 || left > 16<<20 {
		t.Errorf("after the flows ended: %d open, %d MiB kept", a.Open(), left>>20)
	}
	runtime.KeepAlive(a)
}

// steadyWorkload returns one round of traffic starting at time t0: conns
// TCP connections (handshake, a request, a two-segment answer whose
// segments arrive in reverse order, both FINs and the last ACK) and as many
// UDP exchanges, on client ports that are the same every round.
func steadyWorkload(t0 float64, conns int) []*Packet {
	req, ans := make([]byte, 300), make([]byte, 1200)
	for i := range ans {
		ans[i] = byte(i)
	}
	var out []*Packet
	ts := t0
	add := func(p *Packet, port uint16, fromClient bool) {
		ts += 1e-4
		p.TS = ts
		p.Index = uint64(len(out) + 1)
		if fromClient {
			p.SrcPort = port
		} else {
			p.DstPort = port
		}
		out = append(out, p)
	}
	for c := 0; c < conns; c++ {
		port := uint16(2000 + c)
		pay := func(p *Packet, b []byte) *Packet {
			p.Payload, p.PayloadLen, p.IPLen = b, len(b), 40+len(b)
			return p
		}
		add(tcpPkt(0, true, SYN, 100, 0, 0), port, true)
		add(tcpPkt(0, false, SYN|ACK, 500, 101, 0), port, false)
		add(tcpPkt(0, true, ACK, 101, 501, 0), port, true)
		add(pay(tcpPkt(0, true, PSH|ACK, 101, 501, 0), req), port, true)
		add(pay(tcpPkt(0, false, PSH|ACK, 1101, 401, 0), ans[600:]), port, false)
		add(pay(tcpPkt(0, false, ACK, 501, 401, 0), ans[:600]), port, false)
		add(tcpPkt(0, true, FIN|ACK, 401, 1701, 0), port, true)
		add(tcpPkt(0, false, FIN|ACK, 1701, 402, 0), port, false)
		add(tcpPkt(0, true, ACK, 402, 1702, 0), port, true)
		for i := 0; i < 2; i++ {
			for _, fromClient := range []bool{true, false} {
				u := &Packet{IPVersion: 4, Proto: 17, HasUDP: true, SrcIP: [16]byte{10, 0, 0, 1}, DstIP: [16]byte{10, 0, 0, 3}, DstPort: 53}
				if !fromClient {
					u.SrcIP, u.DstIP, u.SrcPort = u.DstIP, u.SrcIP, 53
				}
				add(pay(u, req[:40+20*i]), port, fromClient)
			}
		}
	}
	return out
}

// TestSteadyStateAllocs feeds rounds of connections with every kind of
// record through the assembler, taking and releasing flows as a scan does:
// once the recycled flows have their buffers, a round allocates nothing.
func TestSteadyStateAllocs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FlowTimeout = 5
	a := NewAssembler(cfg, allRecords)
	const conns = 32
	var rounds [][]*Packet
	for r := 0; r < 8; r++ {
		rounds = append(rounds, steadyWorkload(float64(r)*10, conns))
	}
	r, done := 0, 0
	round := func() {
		for _, p := range rounds[r%len(rounds)] {
			p.TS += float64(len(rounds)) * 10 * float64(r/len(rounds))
			a.Add(p)
			p.TS -= float64(len(rounds)) * 10 * float64(r/len(rounds))
			for f := a.Pop(); f != nil; f = a.Pop() {
				if f.Proto == 6 && (len(f.App.Stream[1].Data) != 1200 || f.App.Stream[1].Gap || len(f.Base) != 9) {
					t.Fatalf("flow %d: answer %d bytes, gap %v, %d records", f.UID, len(f.App.Stream[1].Data), f.App.Stream[1].Gap, len(f.Base))
				}
				done++
				a.Release(f)
			}
		}
		r++
	}
	for i := 0; i < 20; i++ {
		round()
	}
	if done < 10*2*conns {
		t.Fatalf("%d flows done in the warm-up, want at least %d", done, 10*2*conns)
	}
	per := len(rounds[0])
	allocs := testing.AllocsPerRun(20, round)
	if allocs != 0 {
		t.Errorf("%v allocations per round of %d packets, want 0", allocs, per)
	}
}
