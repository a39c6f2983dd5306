package flows

import (
	"fmt"
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
	table map[flowKey]*Flow

	lruHead, lruTail *Flow // open flows by last activity (oldest first)
	ordHead, ordTail *Flow // open flows by creation
	cloHead, cloTail *Flow // closing flows by close time

	done  []*Flow
	doneI int
	free  []*Flow

	frags    map[datagramKey]fragEntry
	rng      *rand.Rand
	sampling bool

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
	if c.EntropySampleBytes < 0 {
		return fmt.Errorf("flows: entropy_sample_bytes must be >= 0, got %d", c.EntropySampleBytes)
	}
	if c.CloseGrace < 0 {
		return fmt.Errorf("flows: close grace must be >= 0, got %v", c.CloseGrace)
	}
	return nil
}

// NewAssembler returns an assembler that keeps the per-packet records in needs.
// cfg must be valid.
func NewAssembler(cfg Config, needs Needs) *Assembler {
	a := &Assembler{cfg: cfg, needs: needs, table: make(map[flowKey]*Flow, 1024)}
	if cfg.SamplingRate < 1 {
		a.sampling = true
		a.rng = rand.New(rand.NewPCG(uint64(cfg.SamplingSeed), 0x6a6a73716c))
	}
	return a
}

// Open returns the number of flows currently open.
func (a *Assembler) Open() int { return len(a.table) }

// Add puts p into its flow. It returns the flow and whether p was sent by the
// flow's initiator, or nil when p was dropped by sampling. Flows that end
// because of p (idle timeout, close, eviction) are queued for Pop.
func (a *Assembler) Add(p *Packet) (*Flow, bool) {
	if a.sampling && !(a.rng.Float64() < a.cfg.SamplingRate) {
		return nil, false
	}
	a.Work.Packets++
	a.fragments(p)
	a.expire(p.TS)

	k, _ := keyOf(p)
	f := a.table[k]
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
		if a.cfg.MaxConcurrentFlows > 0 && len(a.table) >= a.cfg.MaxConcurrentFlows {
			victim := a.lruHead
			if a.cfg.EvictionStrategy == "oldest" {
				victim = a.ordHead
			}
			if victim != nil {
				a.finish(victim, EndEvicted)
			}
		}
		f = a.newFlow(k, p)
	}
	fwd := p.SrcPort == f.InitPort && p.SrcIP == f.InitIP
	a.update(f, p, fwd)
	return f, fwd
}

func (a *Assembler) newFlow(k flowKey, p *Packet) *Flow {
	var f *Flow
	if n := len(a.free); n > 0 {
		f = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		f = new(Flow)
	}
	*f = Flow{Base: f.Base[:0], TCP: f.TCP[:0], IP: f.IP[:0], L2: f.L2[:0], ICMP: f.ICMP[:0]}
	f.key = k
	f.UID = uint64(p.File)<<40 | p.Index
	f.File = p.File
	f.firstIndex = p.Index
	f.InitIP, f.InitPort = p.SrcIP, p.SrcPort
	f.RespIP, f.RespPort = p.DstIP, p.DstPort
	f.Proto = p.Proto
	f.IPv6 = p.IPVersion == 6
	f.First, f.Last = p.TS, p.TS
	f.FirstHasEth = p.HasEth
	a.table[k] = f
	// creation-order list
	f.oprev = a.ordTail
	if a.ordTail != nil {
		a.ordTail.onext = f
	} else {
		a.ordHead = f
	}
	a.ordTail = f
	// activity list
	a.lruAppend(f)
	a.Work.Flows++
	return f
}

func (a *Assembler) lruAppend(f *Flow) {
	f.prev, f.next = a.lruTail, nil
	if a.lruTail != nil {
		a.lruTail.next = f
	} else {
		a.lruHead = f
	}
	a.lruTail = f
}

func (a *Assembler) lruRemove(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		a.lruHead = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		a.lruTail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (a *Assembler) update(f *Flow, p *Packet, fwd bool) {
	f.Packets++
	if fwd {
		f.PacketsFwd++
	}
	f.Last = p.TS
	if a.lruTail != f {
		a.lruRemove(f)
		a.lruAppend(f)
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
			a.startClosing(f, p.TS)
		}
	}
}

func (a *Assembler) startClosing(f *Flow, ts float64) {
	f.closing = true
	f.closeAt = ts
	f.inClosing = true
	f.cprev, f.cnext = a.cloTail, nil
	if a.cloTail != nil {
		a.cloTail.cnext = f
	} else {
		a.cloHead = f
	}
	a.cloTail = f
}

func (a *Assembler) record(f *Flow, p *Packet, fwd bool) {
	n := a.needs
	if n == 0 {
		return
	}
	if n&NeedBase != 0 {
		f.Base = append(f.Base, PktBase{TS: p.TS, IPLen: uint32(p.IPLen), Payload: uint32(p.PayloadLen),
			Fwd: fwd, HasFlags: p.HasTCP, Flags: p.TCPFlags})
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
		f.TCP = append(f.TCP, t)
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktTCP{}))
	}
	if n&NeedIP != 0 {
		f.IP = append(f.IP, PktIP{FlowLabel: p.FlowLabel, ID: p.IPID, Version: p.IPVersion, TTL: p.TTL,
			TOS: p.TOS, Flags: p.IPFlags, TrafficClass: p.TrafficClass})
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktIP{}))
	}
	if n&NeedL2 != 0 {
		f.L2 = append(f.L2, PktL2{SrcMAC: p.SrcMAC, DstMAC: p.DstMAC, EthType: p.EthType, VLANID: p.VLANID,
			HasEth: p.HasEth, HasVLAN: p.HasVLAN})
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktL2{}))
	}
	if n&NeedICMP != 0 {
		f.ICMP = append(f.ICMP, PktICMP{ID: p.ICMPID, Seq: p.ICMPSeq, Type: p.ICMPType, Code: p.ICMPCode, IsICMP: p.HasICMP})
		a.Work.Records++
		a.Work.BytesKept += uint64(unsafe.Sizeof(PktICMP{}))
	}
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
	for f := a.cloHead; f != nil && now-f.closeAt > a.cfg.CloseGrace; f = a.cloHead {
		a.finish(f, EndClosed)
	}
	for f := a.lruHead; f != nil && now-f.Last > a.cfg.FlowTimeout; f = a.lruHead {
		a.finish(f, EndIdle)
	}
}

func (a *Assembler) finish(f *Flow, why EndReason) {
	delete(a.table, f.key)
	a.lruRemove(f)
	if f.oprev != nil {
		f.oprev.onext = f.onext
	} else {
		a.ordHead = f.onext
	}
	if f.onext != nil {
		f.onext.oprev = f.oprev
	} else {
		a.ordTail = f.oprev
	}
	f.oprev, f.onext = nil, nil
	if f.inClosing {
		if f.cprev != nil {
			f.cprev.cnext = f.cnext
		} else {
			a.cloHead = f.cnext
		}
		if f.cnext != nil {
			f.cnext.cprev = f.cprev
		} else {
			a.cloTail = f.cprev
		}
		f.cprev, f.cnext, f.inClosing = nil, nil, false
	}
	f.EndReason = why
	a.done = append(a.done, f)
}

// Flush ends every open flow (end of input), in the order of their first packet.
func (a *Assembler) Flush() {
	start := len(a.done)
	for f := a.ordHead; f != nil; f = a.ordHead {
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

// Release returns a flow taken with Pop for reuse. f must not be used after.
func (a *Assembler) Release(f *Flow) {
	if f == nil || len(a.free) >= 256 {
		return
	}
	a.free = append(a.free, f)
}
