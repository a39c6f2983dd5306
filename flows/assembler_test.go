package flows

import (
	"reflect"
	"testing"
)

// tcpPkt builds a TCP packet between 10.0.0.1:1000 (client) and
// 10.0.0.2:80 (server).
func tcpPkt(ts float64, fromClient bool, flags uint8, seq, ack uint32, payload int) *Packet {
	p := &Packet{TS: ts, IPVersion: 4, Proto: 6, HasTCP: true, TCPFlags: flags, Seq: seq, Ack: ack,
		PayloadLen: payload, IPLen: 40 + payload}
	c, s := [16]byte{10, 0, 0, 1}, [16]byte{10, 0, 0, 2}
	if fromClient {
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = c, s, 1000, 80
	} else {
		p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = s, c, 80, 1000
	}
	return p
}

func drain(a *Assembler) []*Flow {
	var out []*Flow
	for f := a.Pop(); f != nil; f = a.Pop() {
		out = append(out, f)
	}
	return out
}

func run(cfg Config, pkts ...*Packet) []*Flow {
	a := NewAssembler(cfg, NeedBase)
	var out []*Flow
	for i, p := range pkts {
		p.Index = uint64(i + 1)
		a.Add(p)
		out = append(out, drain(a)...)
	}
	a.Flush()
	return append(out, drain(a)...)
}

// handshake, data, FIN from both sides, last ACK, then a late retransmitted
// FIN-ACK from the server.
func closeSequence() []*Packet {
	return []*Packet{
		tcpPkt(0.0, true, SYN, 100, 0, 0),
		tcpPkt(0.1, false, SYN|ACK, 500, 101, 0),
		tcpPkt(0.2, true, ACK, 101, 501, 0),
		tcpPkt(0.3, true, PSH|ACK, 101, 501, 10),
		tcpPkt(0.4, false, ACK, 501, 111, 0),
		tcpPkt(0.5, true, FIN|ACK, 111, 501, 0),
		tcpPkt(0.6, false, FIN|ACK, 501, 112, 0),
		tcpPkt(0.7, true, ACK, 112, 502, 0),
		tcpPkt(0.8, false, FIN|ACK, 501, 112, 0), // retransmission within the grace period
	}
}

func TestFinCloseKeepsClosingPackets(t *testing.T) {
	cfg := DefaultConfig()
	got := run(cfg, closeSequence()...)
	if len(got) != 1 {
		t.Fatalf("flows = %d, want 1 (closing packets stay in the flow)", len(got))
	}
	if got[0].Packets != 9 || got[0].PacketsFwd != 5 {
		t.Errorf("packets = %d fwd %d, want 9 fwd 5", got[0].Packets, got[0].PacketsFwd)
	}
	if got[0].EndReason != EndClosed {
		t.Errorf("end reason = %v, want closed", got[0].EndReason)
	}
}

func TestFinCloseThenNewConnection(t *testing.T) {
	cfg := DefaultConfig()
	pkts := append(closeSequence(),
		tcpPkt(5.0, true, SYN, 9000, 0, 0), // same ports reused after the grace period
		tcpPkt(5.1, false, SYN|ACK, 7000, 9001, 0))
	got := run(cfg, pkts...)
	if len(got) != 2 {
		t.Fatalf("flows = %d, want 2", len(got))
	}
	if got[0].Packets != 9 || got[1].Packets != 2 {
		t.Errorf("packets = %d, %d; want 9, 2", got[0].Packets, got[1].Packets)
	}
	if got[1].InitPort != 1000 {
		t.Errorf("second flow initiator port = %d, want 1000", got[1].InitPort)
	}
	// A SYN within the grace period also starts a new connection.
	pkts = append(closeSequence(), tcpPkt(0.9, true, SYN, 9000, 0, 0))
	if got := run(cfg, pkts...); len(got) != 2 || got[1].Packets != 1 {
		t.Fatalf("SYN in grace: flows = %d, want 2 with the SYN alone in the second", len(got))
	}
}

func TestRSTClose(t *testing.T) {
	cfg := DefaultConfig()
	got := run(cfg,
		tcpPkt(0, true, SYN, 1, 0, 0),
		tcpPkt(0.1, false, RST|ACK, 0, 2, 0),
		tcpPkt(0.2, true, RST, 2, 0, 0), // within grace: same flow
		tcpPkt(10, true, ACK, 2, 0, 0),  // after grace: a new flow
	)
	if len(got) != 2 || got[0].Packets != 3 || got[1].Packets != 1 {
		t.Fatalf("flows = %d (%v), want 2 with 3 and 1 packets", len(got), counts(got))
	}
	cfg.TerminateOnFinRst = false
	if got := run(cfg, tcpPkt(0, true, SYN, 1, 0, 0), tcpPkt(0.1, false, RST|ACK, 0, 2, 0), tcpPkt(10, true, ACK, 2, 0, 0)); len(got) != 1 {
		t.Fatalf("terminate_on_fin_rst=0: flows = %d, want 1", len(got))
	}
}

func counts(fs []*Flow) []int {
	var n []int
	for _, f := range fs {
		n = append(n, f.Packets)
	}
	return n
}

func TestIdleTimeoutPerPacket(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FlowTimeout = 60
	got := run(cfg,
		tcpPkt(0, true, ACK, 1, 1, 5),
		tcpPkt(60, false, ACK, 1, 6, 5),  // exactly the timeout: same flow (strict >)
		tcpPkt(121, false, ACK, 6, 6, 5), // 61 s idle: new flow, initiator = server
	)
	if len(got) != 2 {
		t.Fatalf("flows = %d, want 2", len(got))
	}
	if got[0].Packets != 2 || got[0].EndReason != EndIdle {
		t.Errorf("first flow: %d packets, end %v; want 2, idle", got[0].Packets, got[0].EndReason)
	}
	if got[1].InitPort != 80 {
		t.Errorf("second flow initiator port = %d, want 80 (sender of its first packet)", got[1].InitPort)
	}
}

func TestIdleExpiryEmitsOtherFlows(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FlowTimeout = 10
	a := NewAssembler(cfg, 0)
	p1 := tcpPkt(0, true, ACK, 1, 1, 0)
	a.Add(p1)
	p2 := tcpPkt(100, true, ACK, 1, 1, 0)
	p2.SrcPort = 2000 // another flow
	a.Add(p2)
	got := drain(a)
	if len(got) != 1 || got[0].InitPort != 1000 || got[0].EndReason != EndIdle {
		t.Fatalf("expired = %v, want the port-1000 flow", counts(got))
	}
	if a.Open() != 1 {
		t.Errorf("open flows = %d, want 1", a.Open())
	}
}

func TestEviction(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		wantPort uint16
	}{{"lru", 1002}, {"oldest", 1001}} {
		t.Run(tc.strategy, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxConcurrentFlows = 2
			cfg.EvictionStrategy = tc.strategy
			a := NewAssembler(cfg, 0)
			mk := func(ts float64, port uint16) *Packet {
				p := tcpPkt(ts, true, ACK, 1, 1, 0)
				p.SrcPort = port
				return p
			}
			a.Add(mk(0, 1001))
			a.Add(mk(1, 1002))
			a.Add(mk(2, 1001)) // 1001 is now the most recently used
			a.Add(mk(3, 1003)) // evicts one
			got := drain(a)
			if len(got) != 1 || got[0].InitPort != tc.wantPort || got[0].EndReason != EndEvicted {
				t.Fatalf("evicted %v, want port %d", got, tc.wantPort)
			}
		})
	}
}

func TestSamplingIsSeeded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SamplingRate = 0.5
	cfg.SamplingSeed = 7
	kept := func() []bool {
		a := NewAssembler(cfg, 0)
		var k []bool
		for i := 0; i < 200; i++ {
			f, _ := a.Add(tcpPkt(float64(i), true, ACK, 1, 1, 0))
			k = append(k, f != nil)
		}
		return k
	}
	a, b := kept(), kept()
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sampling differs between runs at packet %d", i)
		}
		if a[i] {
			n++
		}
	}
	if n < 70 || n > 130 {
		t.Errorf("kept %d of 200 at rate 0.5", n)
	}
}

func TestFragmentsJoinFlow(t *testing.T) {
	cfg := DefaultConfig()
	first := &Packet{TS: 0, IPVersion: 4, Proto: 17, HasUDP: true, SrcIP: [16]byte{1, 1, 1, 1}, DstIP: [16]byte{2, 2, 2, 2},
		SrcPort: 5353, DstPort: 53, IPID: 77, IsFragment: true, MoreFrags: true, PayloadLen: 3000, IPLen: 1500}
	second := &Packet{TS: 0.001, IPVersion: 4, Proto: 17, SrcIP: [16]byte{1, 1, 1, 1}, DstIP: [16]byte{2, 2, 2, 2},
		IPID: 77, IsFragment: true, FragOffset: 185, PayloadLen: 1528, IPLen: 1548}
	a := NewAssembler(cfg, NeedBase)
	a.Add(first)
	a.Add(second)
	a.Flush()
	got := drain(a)
	if len(got) != 1 {
		t.Fatalf("flows = %d, want 1", len(got))
	}
	f := got[0]
	if f.Packets != 2 || f.InitPort != 5353 {
		t.Errorf("packets %d port %d, want 2 and 5353", f.Packets, f.InitPort)
	}
	if f.Base[0].Payload+f.Base[1].Payload != 3000 {
		t.Errorf("payload = %d+%d, want the UDP payload 3000 counted once", f.Base[0].Payload, f.Base[1].Payload)
	}
}

func TestNoRecordsWithoutNeeds(t *testing.T) {
	a := NewAssembler(DefaultConfig(), 0)
	for _, p := range closeSequence() {
		a.Add(p)
	}
	if a.Work.Records != 0 || a.Work.BytesKept != 0 {
		t.Errorf("work = %+v, want no records", a.Work)
	}
	a = NewAssembler(DefaultConfig(), NeedBase|NeedTCP)
	for _, p := range closeSequence() {
		a.Add(p)
	}
	if a.Work.Records != 18 {
		t.Errorf("records = %d, want 18 (2 per packet)", a.Work.Records)
	}
}

// TestAddDoesNotAllocate guards the per-packet path: looking up an open flow
// and updating it allocates nothing when no per-packet records are kept.
func TestAddDoesNotAllocate(t *testing.T) {
	a := NewAssembler(DefaultConfig(), 0)
	p := tcpPkt(0, true, ACK, 1, 1, 10)
	q := tcpPkt(0, false, ACK, 1, 1, 10)
	a.Add(p)
	ts := 0.0
	allocs := testing.AllocsPerRun(1000, func() {
		ts += 0.001
		p.TS, q.TS = ts, ts
		a.Add(p)
		a.Add(q)
	})
	if allocs != 0 {
		t.Errorf("Add allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkAssemblerAdd(b *testing.B) {
	for _, needs := range []struct {
		name string
		n    Needs
	}{{"none", 0}, {"base", NeedBase}, {"all", NeedBase | NeedTCP | NeedIP | NeedL2 | NeedICMP}} {
		b.Run(needs.name, func(b *testing.B) {
			// 1000 flows, packets round-robin, flows recycled every 200 packets each.
			pkts := make([]*Packet, 1000)
			for i := range pkts {
				pkts[i] = tcpPkt(0, i%2 == 0, ACK, 1, 1, 100)
				pkts[i].SrcPort = uint16(1024 + i)
			}
			cfg := DefaultConfig()
			cfg.FlowTimeout = 1e9
			a := NewAssembler(cfg, needs.n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pkts[i%len(pkts)]
				p.TS = float64(i) * 1e-6
				a.Add(p)
				if i%200000 == 199999 {
					a.Flush()
					for f := a.Pop(); f != nil; f = a.Pop() {
						a.Release(f)
					}
				}
			}
		})
	}
}

// TestL2RecordsMergeRuns: a packet whose link layer equals one of the
// flow's last l2Recent records adds to its count; new fields add a record,
// in the order of their first packet.
func TestL2RecordsMergeRuns(t *testing.T) {
	macA, macB := [6]byte{2, 0, 0, 0, 0, 0xa}, [6]byte{2, 0, 0, 0, 0, 0xb}
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	pkt := func(i int, fromClient bool, src, dst [6]byte, vlan uint16) *Packet {
		p := tcpPkt(float64(i), fromClient, ACK, uint32(1000+i), 1, 0)
		p.HasEth, p.SrcMAC, p.DstMAC, p.EthType = true, src, dst, 0x0800
		if vlan != 0 {
			p.HasVLAN, p.VLANID = true, vlan
		}
		return p
	}
	var pkts []*Packet
	for i := range 6 { // both directions, alternating
		if i%2 == 0 {
			pkts = append(pkts, pkt(i, true, macA, macB, 0))
		} else {
			pkts = append(pkts, pkt(i, false, macB, macA, 0))
		}
	}
	pkts = append(pkts, pkt(6, true, macA, bcast, 0), pkt(7, true, macA, macB, 7), pkt(8, true, macA, macB, 0))
	cfg := DefaultConfig()
	cfg.TerminateOnFinRst = false
	a := NewAssembler(cfg, NeedL2)
	for _, p := range pkts {
		a.Add(p)
	}
	a.Flush()
	fs := drain(a)
	if len(fs) != 1 {
		t.Fatalf("%d flows, want 1", len(fs))
	}
	type rec struct {
		src, dst [6]byte
		vlan     uint16
		packets  int64
	}
	want := []rec{{macA, macB, 0, 4}, {macB, macA, 0, 3}, {macA, bcast, 0, 1}, {macA, macB, 7, 1}}
	var got []rec
	for _, r := range fs[0].L2 {
		got = append(got, rec{r.SrcMAC, r.DstMAC, r.VLANID, r.Packets()})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("L2 records %+v, want %+v", got, want)
	}
}

// Flow.Sum adds up every packet (NeedSum) whatever else the scan keeps, past
// the record cap too, and Flow.HeadMatches counts every packet
// Config.HeadMatch accepts.
func TestSumAndHeadMatches(t *testing.T) {
	hello := []byte{0x16, 0x03, 0x01, 0x00, 0x20}
	pkts := func() []*Packet {
		ps := []*Packet{
			tcpPkt(0, true, SYN, 100, 0, 0),
			tcpPkt(0.1, false, SYN|ACK, 500, 101, 0),
			tcpPkt(0.2, true, ACK, 101, 501, 0),
			tcpPkt(0.3, true, PSH|ACK, 101, 501, 300),   // a handshake record
			tcpPkt(0.4, false, PSH|ACK, 501, 401, 1200), // a handshake record
			tcpPkt(0.5, true, PSH|ACK, 401, 1701, 50),   // application data
			tcpPkt(0.6, false, FIN|ACK, 1701, 451, 0),
			tcpPkt(0.7, true, RST, 451, 0, 0),
		}
		ps[3].Payload, ps[4].Payload = hello, hello
		ps[5].Payload = []byte{0x17, 0x03, 0x03}
		for i, p := range ps {
			p.Index = uint64(i + 1)
		}
		return ps
	}
	want := Totals{Packets: 8, PacketsFwd: 5, BytesFwd: 5*40 + 350, BytesBwd: 3*40 + 1200,
		PayloadFwd: 350, PayloadBwd: 1200, FlagsFwd: SYN | ACK | PSH | RST, FlagsBwd: SYN | ACK | PSH | FIN,
		Handshake: SawSYN | SawSYNACK}
	for _, tc := range []struct {
		needs   Needs
		cap     int
		records int
	}{{NeedSum, 0, 0}, {NeedSum | NeedBase | NeedHeadCount, 0, 8}, {NeedSum | NeedBase | NeedHeadCount, 3, 3}} {
		cfg := DefaultConfig()
		cfg.TerminateOnFinRst = false
		cfg.MaxPacketRecords = tc.cap
		cfg.HeadMatch = func(b []byte) bool { return len(b) >= 3 && b[0] == 0x16 && b[1] == 3 }
		a := NewAssembler(cfg, tc.needs)
		for _, p := range pkts() {
			a.Add(p)
		}
		a.Flush()
		fs := drain(a)
		if len(fs) != 1 {
			t.Fatalf("needs %b cap %d: %d flows, want 1", tc.needs, tc.cap, len(fs))
		}
		f := fs[0]
		if f.Sum != want {
			t.Errorf("needs %b cap %d: Sum %+v, want %+v", tc.needs, tc.cap, f.Sum, want)
		}
		if len(f.Base) != tc.records {
			t.Errorf("needs %b cap %d: %d base records, want %d", tc.needs, tc.cap, len(f.Base), tc.records)
		}
		// The records and Dropped add up to Sum.
		if tc.needs&NeedBase != 0 {
			got := f.Dropped
			for i := range f.Base {
				got.Add(&f.Base[i])
			}
			if got != want {
				t.Errorf("needs %b cap %d: records + Dropped %+v, want %+v", tc.needs, tc.cap, got, want)
			}
		}
		wantMatches := 0
		if tc.needs&NeedHeadCount != 0 {
			wantMatches = 2
		}
		if f.HeadMatches != wantMatches {
			t.Errorf("needs %b cap %d: HeadMatches %d, want %d", tc.needs, tc.cap, f.HeadMatches, wantMatches)
		}
	}
}
