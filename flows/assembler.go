package flows

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"unsafe"
)

// WorkStats counts the per-packet work a scan did, so tests can check that a
// query pays only for the feature groups it reads.
type WorkStats struct {
	Packets   uint64 // packets that reached the flow table
	Records   uint64 // per-packet records appended (one per kept slice per packet)
	BytesKept uint64 // bytes of those records
	Flows     uint64 // flows created
}

// Assembler groups packets into bidirectional flows (SEMANTICS.md section 2,
// with the corrections of POLICY.md section 2: idle timeout per packet, TCP
// close after RST or the final FIN's ACK, fragments joined to their datagram's
// flow). Finished flows are queued and taken with Pop.
type Assembler struct {
	cfg   Config
	needs Needs
	table flowTable

	lru flowList // open flows by last activity (oldest first)
	// clock is the latest capture time seen (AddAt's now, or the packets'
	// own times): it never moves back.
	clock float64
	ord   flowList // open flows by creation
	clo   flowList // closing flows by close time

	done  []*Flow
	doneI int
	free  []*Flow // released flows with their buffers, for reuse
	bare  []*Flow // released flows whose buffers were dropped

	frags   map[datagramKey]fragEntry
	sampler *Sampler

	Work WorkStats
}

type datagramKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
}

type fragEntry struct {
	srcPort, dstPort uint16
	ts               float64
}

const (
	maxFragEntries = 1 << 16
	fragLifetime   = 30.0 // seconds of capture time a fragment entry is kept
)

// Validate checks the option values.
func (c *Config) Validate() error {
	if !(c.FlowTimeout > 0) {
		return fmt.Errorf("flows: flow_timeout must be > 0, got %v", c.FlowTimeout)
	}
	if c.MaxConcurrentFlows < 0 {
		return fmt.Errorf("flows: max_concurrent_flows must be >= 0, got %d", c.MaxConcurrentFlows)
	}
	if c.EvictionStrategy != "lru" && c.EvictionStrategy != "oldest" {
		return fmt.Errorf("flows: flow_eviction_strategy must be 'lru' or 'oldest', got %q", c.EvictionStrategy)
	}
	if !(c.SamplingRate >= 0 && c.SamplingRate <= 1) {
		return fmt.Errorf("flows: sampling_rate must be between 0 and 1, got %v", c.SamplingRate)
	}
	if !(c.BurstThresholdMS > 0) {
		return fmt.Errorf("flows: burst_threshold_ms must be > 0, got %v", c.BurstThresholdMS)
	}
	if c.MaxSequenceLength <= 0 {
		return fmt.Errorf("flows: max_sequence_length must be > 0, got %d", c.MaxSequenceLength)
	}
	if c.EntropySampleBytes < 0 {
		return fmt.Errorf("flows: entropy_sample_bytes must be >= 0, got %d", c.EntropySampleBytes)
	}
	if c.StreamBudget < 0 {
		return fmt.Errorf("flows: stream budget must be >= 0, got %d", c.StreamBudget)
	}
	if c.MaxPacketRecords < 0 {
		return fmt.Errorf("flows: max packet records must be >= 0, got %d", c.MaxPacketRecords)
	}
	if c.CloseGrace < 0 {
		return fmt.Errorf("flows: close grace must be >= 0, got %v", c.CloseGrace)
	}
	return nil
}

// NewAssembler returns an assembler that keeps the per-packet records in needs.
// cfg must be valid.
func NewAssembler(cfg Config, needs Needs) *Assembler {
	a := &Assembler{cfg: cfg, needs: needs, table: newFlowTable(rand.Uint64()),
		lru: flowList{which: listLRU}, ord: flowList{which: listOrder}, clo: flowList{which: listClosing},
		clock: math.Inf(-1)}
	a.sampler = NewSampler(cfg)
	return a
}

// Open returns the number of flows currently open.
func (a *Assembler) Open() int { return a.table.n }

// Add puts p into its flow. It returns the flow and whether p was sent by the
// flow's initiator, or nil when p was dropped by sampling. Flows that end
// because of p (idle timeout, close, eviction) are queued for Pop.
func (a *Assembler) Add(p *Packet) (*Flow, bool) { return a.AddAt(p, p.TS) }

// AddAt is Add with the clock of the whole input: now is the latest capture
// time seen so far over every packet of the input (not only those this
// assembler gets). A sharded scan, where each assembler sees part of the
// packets, expires flows at the same moments as one assembler that sees
// them all (whose running clock is the same maximum).
func (a *Assembler) AddAt(p *Packet, now float64) (*Flow, bool) {
	if a.sampler.rng != nil && !a.sampler.Keep() {
		return nil, false
	}
	a.Work.Packets++
	if p.IsFragment {
		a.fragments(p)
	}
	// The clock only moves forward: a packet stamped earlier than one
	// before it (a capture merged out of order, a block without a time)
	// does not turn the clock back. Expiry compares the clock with the
	// clock of each flow's last packet, so the flows that expire do not
	// depend on which other flows this assembler holds (a sharded scan).
	a.clock = max(a.clock, now, p.TS)
	now = a.clock
	if c, l := a.clo.head, a.lru.head; c != nil && now-c.closeAt > a.cfg.CloseGrace || l != nil && now-l.lastClock > a.cfg.FlowTimeout {
		a.expire(now)
	}

	k, srcIsA := keyOf(p)
	h := k.hash(a.table.seed)
	f := a.table.get(&k, h)
	if f != nil {
		switch {
		case p.TS-f.Last > a.cfg.FlowTimeout:
			a.finish(f, EndIdle)
			f = nil
		case f.closing && (p.TS-f.closeAt > a.cfg.CloseGrace || (p.HasTCP && p.TCPFlags&(SYN|ACK) == SYN)):
			a.finish(f, EndClosed)
			f = nil
		}
	}
	if f == nil {
		if a.cfg.MaxConcurrentFlows > 0 && a.table.n >= a.cfg.MaxConcurrentFlows {
			victim := a.lru.head
			if a.cfg.EvictionStrategy == "oldest" {
				victim = a.ord.head
			}
			if victim != nil {
				a.finish(victim, EndEvicted)
			}
		}
		f = a.newFlow(k, h, srcIsA, p)
	}
	// The initiator is endpoint A or B of the key; when both endpoints are
	// the same, every packet is from the initiator.
	fwd := srcIsA == f.initIsA
	a.update(f, p, fwd)
	return f, fwd
}

func (a *Assembler) newFlow(k flowKey, h uint64, srcIsA bool, p *Packet) *Flow {
	var f *Flow
	if n := len(a.free); n > 0 {
		f = a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
	} else if n := len(a.bare); n > 0 {
		f = a.bare[n-1]
		a.bare[n-1] = nil
		a.bare = a.bare[:n-1]
	} else {
		f = new(Flow)
	}
	app := f.App
	app.reset()
	*f = Flow{Base: f.Base[:0], TCP: f.TCP[:0], IP: f.IP[:0], L2: f.L2[:0], ICMP: f.ICMP[:0], Heads: f.Heads[:0], App: app,
		Sample: [2][]byte{f.Sample[0][:0], f.Sample[1][:0]}}
	f.key = k
	f.initIsA = srcIsA
	f.UID = uint64(p.File)<<40 | p.Index
	f.File = p.File
	f.firstIndex = p.Index
	f.InitIP, f.InitPort = p.SrcIP, p.SrcPort
	f.RespIP, f.RespPort = p.DstIP, p.DstPort
	f.Proto = p.Proto
	f.IPv6 = p.IPVersion == 6
	f.First, f.Last = p.TS, p.TS
	f.FirstHasEth = p.HasEth
	a.table.put(f, h)
	a.ord.push(f)
	a.lru.push(f)
	a.Work.Flows++
	return f
}

func (a *Assembler) update(f *Flow, p *Packet, fwd bool) {
	f.Packets++
	if fwd {
		f.PacketsFwd++
	}
	f.Last = p.TS
	f.lastClock = a.clock
	if a.lru.tail != f {
		a.lru.remove(f)
		a.lru.push(f)
	}
	a.record(f, p, fwd)
	if a.cfg.TerminateOnFinRst && p.HasTCP && !f.closing {
		a.tcpClose(f, p, fwd)
	}
}

// tcpClose moves f to the closing state after a RST, or once both sides have
// sent FIN and the later FIN has been acknowledged.
func (a *Assembler) tcpClose(f *Flow, p *Packet, fwd bool) {
	fl := p.TCPFlags
	if fl&RST != 0 {
		a.startClosing(f, p.TS)
		return
	}
	if fl&FIN != 0 {
		end := p.Seq + uint32(p.PayloadLen) + 1
		if fwd {
			f.finFwd, f.finSeqFwd = true, end
		} else {
			f.finBwd, f.finSeqBwd = true, end
		}
		return
	}
	if f.finFwd && f.finBwd && fl&ACK != 0 {
		// The ACK of the peer's FIN ends the connection.
		want := f.finSeqFwd
		if fwd {
			want = f.finSeqBwd
		}
		if int32(p.Ack-want) >= 0 {
			a.startClosing(f, a.clock)
		}
	}
}

func (a *Assembler) startClosing(f *Flow, ts float64) {
	f.closing = true
	f.closeAt = ts
	f.inClosing = true
	a.clo.push(f)
}

// recordNeeds are the Needs kept as one record per packet.
const recordNeeds = NeedBase | NeedTCP | NeedIP | NeedL2 | NeedICMP | NeedHeads

func (a *Assembler) record(f *Flow, p *Packet, fwd bool) {
	n := a.needs
	if n == 0 {
		return
	}
	base := PktBase{TS: p.TS, IPLen: uint32(p.IPLen), Payload: uint32(p.PayloadLen),
		Fwd: fwd, HasFlags: p.HasTCP, Flags: p.TCPFlags}
	if n&NeedSum != 0 {
		f.Sum.Add(&base)
	}
	if n&recordNeeds != 0 && a.cfg.MaxPacketRecords > 0 && f.Packets-1-f.Dropped.Packets >= a.cfg.MaxPacketRecords {
		// Over the cap: only totals, and the payload budgets below.
		f.Dropped.Add(&base)
		n &^= recordNeeds
	}
	lim := a.cfg.MaxPacketRecords
	if n&NeedBase != 0 {
		if len(f.Base) == cap(f.Base) {
			f.Base = grow(f.Base, lim)
		}
		f.Base = append(f.Base, base)
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktBase{}))
	}
	if n&NeedTCP != 0 {
		var t PktTCP
		if p.HasTCP {
			o := &p.Opts
			t = PktTCP{Seq: p.Seq, Ack: p.Ack, Window: p.Window, OptFlags: OptIsTCP,
				SACKBlocks: o.SACKBlocks, MPTCPCount: o.MPTCPCount, MPTCPSub: o.MPTCPSub}
			if o.HasMSS {
				t.OptFlags |= OptMSS
				t.MSS = o.MSS
			}
			if o.HasWS {
				t.OptFlags |= OptWS
				t.WS = o.WS
			}
			if o.SACKOK {
				t.OptFlags |= OptSACKOK
			}
			if o.HasTS {
				t.OptFlags |= OptTS
				t.TSVal, t.TSEcr = o.TSVal, o.TSEcr
			}
		}
		if len(f.TCP) == cap(f.TCP) {
			f.TCP = grow(f.TCP, lim)
		}
		f.TCP = append(f.TCP, t)
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktTCP{}))
	}
	if n&NeedIP != 0 {
		if len(f.IP) == cap(f.IP) {
			f.IP = grow(f.IP, lim)
		}
		f.IP = append(f.IP, PktIP{FlowLabel: p.FlowLabel, ID: p.IPID, Version: p.IPVersion, TTL: p.TTL,
			TOS: p.TOS, Flags: p.IPFlags, TrafficClass: p.TrafficClass})
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktIP{}))
	}
	if n&NeedL2 != 0 {
		r := PktL2{SrcMAC: p.SrcMAC, DstMAC: p.DstMAC, EthType: p.EthType, VLANID: p.VLANID,
			HasEth: p.HasEth, HasVLAN: p.HasVLAN}
		merged := false
		for k := len(f.L2) - 1; k >= 0 && k >= len(f.L2)-l2Recent; k-- {
			if q := &f.L2[k]; q.SrcMAC == r.SrcMAC && q.DstMAC == r.DstMAC && q.EthType == r.EthType &&
				q.VLANID == r.VLANID && q.HasEth == r.HasEth && q.HasVLAN == r.HasVLAN {
				q.More++
				merged = true
				break
			}
		}
		if !merged {
			if len(f.L2) == cap(f.L2) {
				f.L2 = grow(f.L2, lim)
			}
			f.L2 = append(f.L2, r)
			a.Work.Records++
			a.Work.BytesKept += uint64(unsafe.Sizeof(PktL2{}))
		}
	}
	if n&NeedICMP != 0 && f.Proto == 1 {
		// Only an ICMP flow has ICMP packets (the protocol is part of the
		// flow key): other flows keep no ICMP records at all.
		if len(f.ICMP) == cap(f.ICMP) {
			f.ICMP = grow(f.ICMP, lim)
		}
		f.ICMP = append(f.ICMP, PktICMP{ID: p.ICMPID, Seq: p.ICMPSeq, Type: p.ICMPType, Code: p.ICMPCode, IsICMP: p.HasICMP})
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktICMP{}))
	}
	if n&NeedHeads != 0 && f.Proto == 17 {
		// Only UDP flows keep heads: their one reader, the QUIC group,
		// describes UDP flows only.
		var h PktHead
		h.N = uint8(copy(h.B[:], p.Payload))
		if len(f.Heads) == cap(f.Heads) {
			f.Heads = grow(f.Heads, lim)
		}
		f.Heads = append(f.Heads, h)
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktHead{}))
	}
	if n&NeedHeadCount != 0 && a.cfg.HeadMatch != nil {
		head := p.Payload
		if len(head) > HeadBytes {
			head = head[:HeadBytes]
		}
		if a.cfg.HeadMatch(head) {
			f.HeadMatches++
		}
	}
	if n&NeedSample != 0 && (p.HasTCP || p.HasUDP) && len(p.Payload) > 0 {
		a.sample(f, p, fwd)
	}
	if n&NeedPayload != 0 {
		if kept := f.App.add(f, &a.cfg, p, f.Packets-1, fwd); kept > 0 {
			a.Work.Records++
			a.Work.BytesKept += uint64(kept)
		}
	}
}

// grow returns s with room for more records: twice its capacity (at least
// 4), but never more than limit (when limit > 0), so a flow at the record cap
// holds exactly limit records' worth of memory.
func grow[T any](s []T, limit int) []T {
	n := max(2*cap(s), 4)
	if limit > 0 && n > limit {
		n = limit
	}
	ns := make([]T, len(s), n)
	copy(ns, s)
	return ns
}

// sample appends p's captured TCP or UDP payload to its direction's
// Flow.Sample while that holds fewer than EntropySampleBytes bytes. A buffer
// is allocated once, at its full size, and kept when the flow is recycled.
func (a *Assembler) sample(f *Flow, p *Packet, fwd bool) {
	d := 1
	if fwd {
		d = 0
	}
	budget := a.cfg.EntropySampleBytes
	room := budget - len(f.Sample[d])
	if room <= 0 {
		return
	}
	if cap(f.Sample[d]) < budget {
		f.Sample[d] = append(make([]byte, 0, budget), f.Sample[d]...)
	}
	b := p.Payload[:min(room, len(p.Payload))]
	f.Sample[d] = append(f.Sample[d], b...)
	a.Work.Records++
	a.Work.BytesKept += uint64(len(b))
}

// fragments gives a non-first IP fragment the ports of its datagram's first
// fragment, so that every fragment joins the datagram's flow, and makes sure a
// fragmented UDP datagram's payload is counted once (at the first fragment).
func (a *Assembler) fragments(p *Packet) {
	if !p.IsFragment {
		return
	}
	k := datagramKey{src: p.SrcIP, dst: p.DstIP, id: p.IPID, proto: p.Proto}
	if p.FragOffset == 0 {
		if a.frags == nil {
			a.frags = make(map[datagramKey]fragEntry)
		}
		if len(a.frags) >= maxFragEntries {
			a.pruneFrags(p.TS)
		}
		a.frags[k] = fragEntry{srcPort: p.SrcPort, dstPort: p.DstPort, ts: p.TS}
		return
	}
	e, ok := a.frags[k]
	if !ok {
		return
	}
	if p.TS-e.ts > fragLifetime {
		delete(a.frags, k)
		return
	}
	p.SrcPort, p.DstPort = e.srcPort, e.dstPort
	if p.Proto == 17 {
		p.PayloadLen = 0 // counted with the first fragment (UDP length)
	}
}

func (a *Assembler) pruneFrags(now float64) {
	for k, e := range a.frags {
		if now-e.ts > fragLifetime {
			delete(a.frags, k)
		}
	}
	if len(a.frags) >= maxFragEntries {
		clear(a.frags)
	}
}

// expire ends the flows that have been idle longer than the timeout at time
// now, and closed flows whose grace period has passed.
func (a *Assembler) expire(now float64) {
	for f := a.clo.head; f != nil && now-f.closeAt > a.cfg.CloseGrace; f = a.clo.head {
		a.finish(f, EndClosed)
	}
	for f := a.lru.head; f != nil && now-f.lastClock > a.cfg.FlowTimeout; f = a.lru.head {
		a.finish(f, EndIdle)
	}
}

func (a *Assembler) finish(f *Flow, why EndReason) {
	a.table.remove(f)
	a.lru.remove(f)
	a.ord.remove(f)
	if f.inClosing {
		a.clo.remove(f)
		f.inClosing = false
	}
	f.EndReason = why
	if a.needs&NeedPayload != 0 {
		f.App.finish()
	}
	a.done = append(a.done, f)
}

// Flush ends every open flow (end of input), in the order of their first packet.
func (a *Assembler) Flush() {
	start := len(a.done)
	for f := a.ord.head; f != nil; f = a.ord.head {
		why := EndOfInput
		if f.closing {
			why = EndClosed
		}
		a.finish(f, why)
	}
	rest := a.done[start:]
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].firstIndex < rest[j].firstIndex })
	clear(a.frags)
}

// OldestOpen returns the UID of the open flow that started first, and false
// when no flow is open: a flow this assembler finishes later has a UID at
// least this, or comes from a packet not added yet.
func (a *Assembler) OldestOpen() (uint64, bool) {
	if a.ord.head == nil {
		return 0, false
	}
	return a.ord.head.UID, true
}

// Pop returns the next finished flow, or nil when none is waiting.
func (a *Assembler) Pop() *Flow {
	if a.doneI >= len(a.done) {
		if a.doneI > 0 {
			a.done = a.done[:0]
			a.doneI = 0
		}
		return nil
	}
	f := a.done[a.doneI]
	a.done[a.doneI] = nil
	a.doneI++
	return f
}

// Recycling limits: the assembler keeps up to maxFree released flows for
// reuse with their record and payload buffers, if those hold at most
// maxKeptFlow bytes, and up to maxFree more without their buffers. So the
// flows that ended keep at most 32 MiB, however large they were, and a new
// flow usually starts with buffers of the right size.
const (
	maxFree     = 256
	maxKeptFlow = 128 << 10
)

// Release returns a flow taken with Pop for reuse. f must not be used after.
func (a *Assembler) Release(f *Flow) {
	if f == nil {
		return
	}
	if len(a.free) < maxFree && f.bufBytes() <= maxKeptFlow {
		a.free = append(a.free, f)
		return
	}
	if len(a.bare) < maxFree {
		f.dropBuffers()
		a.bare = append(a.bare, f)
	}
}

// link is a flow's place in one of the assembler's lists.
type link struct{ prev, next *Flow }

// The lists a flow can be in at once; each uses its own entry of Flow.links.
const (
	listLRU     = iota // open flows by last activity
	listOrder          // open flows by creation
	listClosing        // closing flows by close time
)

// flowList is an intrusive doubly linked list of flows.
type flowList struct {
	head, tail *Flow
	which      int // index into Flow.links
}

func (l *flowList) at(f *Flow) *link { return &f.links[l.which] }

func (l *flowList) push(f *Flow) {
	k := l.at(f)
	k.prev, k.next = l.tail, nil
	if l.tail != nil {
		l.at(l.tail).next = f
	} else {
		l.head = f
	}
	l.tail = f
}

func (l *flowList) remove(f *Flow) {
	k := l.at(f)
	if k.prev != nil {
		l.at(k.prev).next = k.next
	} else {
		l.head = k.next
	}
	if k.next != nil {
		l.at(k.next).prev = k.prev
	} else {
		l.tail = k.prev
	}
	k.prev, k.next = nil, nil
}

// Sampler decides which packets a scan keeps (sampling_rate, sampling_seed).
// Two samplers made from the same options keep the same packets.
type Sampler struct {
	rate float64
	rng  *rand.Rand
}

// NewSampler returns the sampler of cfg; it keeps every packet when the rate is 1.
func NewSampler(cfg Config) *Sampler {
	s := &Sampler{rate: cfg.SamplingRate}
	if s.rate < 1 {
		s.rng = rand.New(rand.NewPCG(uint64(cfg.SamplingSeed), 0x6a6a73716c))
	}
	return s
}

// Keep reports whether the next packet is kept.
func (s *Sampler) Keep() bool {
	return s.rng == nil || s.rng.Float64() < s.rate
}
