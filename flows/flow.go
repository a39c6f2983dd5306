package flows

import (
	"net/netip"
	"unsafe"
)

// Needs is a bitmask of the per-packet data a flow keeps. The assembler
// appends a record to each kept slice for every packet of the flow, so all kept
// slices have one entry per packet, in arrival order, up to
// Config.MaxPacketRecords packets (Flow.Dropped counts the packets after
// that). A scan keeps only what the feature groups it runs declare.
type Needs uint32

const (
	NeedBase      Needs = 1 << iota // Flow.Base: time, lengths, direction, TCP flags
	NeedTCP                         // Flow.TCP: sequence numbers, window, options
	NeedIP                          // Flow.IP: TTL, TOS, IP ID and flags, flow label
	NeedL2                          // Flow.L2: MAC addresses, EtherType, VLAN
	NeedICMP                        // Flow.ICMP: ICMP type, code, id, sequence
	NeedPayload                     // Flow.App: reassembled TCP streams and the first datagrams
	NeedHeads                       // Flow.Heads: the first payload bytes of every packet (UDP flows only)
	NeedSample                      // Flow.Sample: the first Config.EntropySampleBytes payload bytes of each direction
	NeedHeadCount                   // Flow.HeadMatches: packets whose first payload bytes Config.HeadMatch accepts
	NeedSum                         // Flow.Sum: packets, bytes and TCP flags over every packet
)

// HeadBytes is how many payload bytes of each packet Flow.Heads keeps.
const HeadBytes = 16

// PktHead holds the first payload bytes of one packet (N of them captured).
type PktHead struct {
	N uint8
	B [HeadBytes]byte
}

// Bytes returns the captured head bytes.
func (h *PktHead) Bytes() []byte { return h.B[:h.N] }

// PktBase is the record every header-level group reads.
type PktBase struct {
	TS       float64 // capture time (seconds)
	IPLen    uint32  // IP total length
	Payload  uint32  // declared transport payload length
	Fwd      bool    // sent by the initiator
	HasFlags bool    // the packet has a TCP header
	Flags    uint8   // TCP flags
}

// PktTCP holds a TCP segment's header fields (zero for non-TCP packets).
type PktTCP struct {
	Seq, Ack     uint32
	TSVal, TSEcr uint32
	Window       uint16
	MSS          uint16
	MPTCPSub     uint16 // bit n: an MPTCP option of subtype n
	WS           uint8
	SACKBlocks   uint8
	MPTCPCount   uint8
	OptFlags     uint8 // OptMSS | OptWS | OptSACKOK | OptTS | OptIsTCP
}

// PktTCP.OptFlags bits.
const (
	OptIsTCP uint8 = 1 << iota
	OptMSS
	OptWS
	OptSACKOK
	OptTS
)

// PktIP holds IP header fields.
type PktIP struct {
	FlowLabel    uint32
	ID           uint32
	Version      uint8
	TTL          uint8
	TOS          uint8
	Flags        uint8 // IPv4 3-bit flags (MF=1, DF=2, reserved=4)
	TrafficClass uint8
}

// PktL2 holds the outer link-layer fields. A flow keeps one record per
// distinct set of fields among its recent packets rather than one per
// packet (the link layer of a flow seldom changes): a packet whose fields
// equal one of the last l2Recent records adds to that record's More, and
// only a packet with new fields adds a record. Records keep the order of
// their first packet (L2[0] is the flow's first packet's); each stands for
// 1 + More packets.
type PktL2 struct {
	SrcMAC, DstMAC [6]byte
	EthType        uint16
	VLANID         uint16
	HasEth         bool
	HasVLAN        bool
	More           uint32 // further packets with the same fields
}

// Packets returns how many packets r stands for.
func (r *PktL2) Packets() int64 { return 1 + int64(r.More) }

// l2Recent is how many of a flow's latest link-layer records a packet is
// compared with (its two directions, and a change or two).
const l2Recent = 4

// PktICMP holds ICMPv4 fields (IsICMP false for other packets). Only a
// flow of protocol 1 keeps them: Flow.ICMP is empty for any other flow.
type PktICMP struct {
	ID, Seq    uint16
	Type, Code uint8
	IsICMP     bool
}

// Flow is one bidirectional flow: the endpoints, its bookkeeping and the
// per-packet records its scan keeps (see Needs). A Flow handed out by the
// assembler is owned by the caller until it is passed to Assembler.Release.
type Flow struct {
	UID      uint64 // (file index << 40) | frame number of the first packet
	File     int
	InitIP   [16]byte // initiator: sender of the first packet
	RespIP   [16]byte
	InitPort uint16
	RespPort uint16
	Proto    uint8 // transport protocol (after IPv6 extension headers)
	IPv6     bool  // the first packet was IPv6

	First, Last float64 // time of the first and of the latest packet
	Packets     int     // packets in both directions
	PacketsFwd  int

	FirstHasEth bool // the first packet had an Ethernet header

	// Dropped sums up the packets that have no per-packet records (Base,
	// TCP, IP, L2, ICMP, Heads) because the flow had reached
	// Config.MaxPacketRecords: the records describe the first
	// Packets-Dropped.Packets packets, and a total over the whole flow is
	// the records' sum plus Dropped's. (Zero when the scan keeps no records.)
	// The payload kept for the parsers (App, Sample) has its own budgets
	// and does not depend on it.
	Dropped Totals

	// Sum sums up every packet of the flow (the records' sum plus
	// Dropped's), with NeedSum: groups that only add up packets read it
	// instead of per-packet records.
	Sum Totals

	// HeadMatches counts the packets (every one, past the record cap too)
	// whose first HeadBytes payload bytes Config.HeadMatch accepted. With
	// NeedHeadCount.
	HeadMatches int

	Base  []PktBase
	TCP   []PktTCP
	IP    []PktIP
	L2    []PktL2
	ICMP  []PktICMP
	Heads []PktHead
	App   AppData // with NeedPayload
	// Sample holds, per direction (0 initiator, 1 responder), the captured
	// TCP and UDP payload bytes of that direction's packets in arrival order,
	// concatenated up to Config.EntropySampleBytes (the last chunk cut), as
	// JoyfulJay samples payload for its entropy features. The payload never
	// includes link-layer padding; a packet cut short by the snapshot length
	// gives only its captured bytes. With NeedSample.
	Sample [2][]byte

	// bookkeeping of the assembler
	key        flowKey
	hash       uint64  // hash of key in the assembler's table
	initIsA    bool    // the initiator is endpoint A of key
	links      [3]link // places in the assembler's lists (listLRU, listOrder, listClosing)
	inClosing  bool
	finFwd     bool
	finBwd     bool
	finSeqFwd  uint32 // sequence number just after the initiator's FIN
	finSeqBwd  uint32
	closing    bool    // the connection has ended; late packets still join until closeAt+grace
	closeAt    float64 // assembler clock when the flow entered the closing state
	lastClock  float64 // assembler clock at the flow's latest packet (idle expiry)
	EndReason  EndReason
	firstIndex uint64
}

// bufBytes is the capacity of f's per-packet and payload buffers, in bytes.
func (f *Flow) bufBytes() int {
	return cap(f.Base)*int(unsafe.Sizeof(PktBase{})) + cap(f.TCP)*int(unsafe.Sizeof(PktTCP{})) +
		cap(f.IP)*int(unsafe.Sizeof(PktIP{})) + cap(f.L2)*int(unsafe.Sizeof(PktL2{})) +
		cap(f.ICMP)*int(unsafe.Sizeof(PktICMP{})) + cap(f.Heads)*int(unsafe.Sizeof(PktHead{})) +
		cap(f.Sample[0]) + cap(f.Sample[1]) + f.App.bufBytes()
}

// dropBuffers lets f's buffers go.
func (f *Flow) dropBuffers() {
	f.Base, f.TCP, f.IP, f.L2, f.ICMP, f.Heads = nil, nil, nil, nil, nil, nil
	f.Sample = [2][]byte{}
	f.App.dropBuffers()
}

// Totals are exact sums over some packets of a flow.
type Totals struct {
	Packets, PacketsFwd    int
	BytesFwd, BytesBwd     int64 // IP lengths (as PktBase.IPLen) sent by the initiator and by the responder
	PayloadFwd, PayloadBwd int64 // declared transport payload lengths (as PktBase.Payload)
	FlagsFwd, FlagsBwd     uint8 // OR of the TCP flags each direction sent
	Handshake              uint8 // SawSYN and SawSYNACK bits, either direction
}

// Add counts one packet: its record b and whether it had a TCP header.
func (t *Totals) Add(b *PktBase) {
	t.Packets++
	if b.Fwd {
		t.PacketsFwd++
		t.BytesFwd += int64(b.IPLen)
		t.PayloadFwd += int64(b.Payload)
	} else {
		t.BytesBwd += int64(b.IPLen)
		t.PayloadBwd += int64(b.Payload)
	}
	if !b.HasFlags {
		return
	}
	if b.Fwd {
		t.FlagsFwd |= b.Flags
	} else {
		t.FlagsBwd |= b.Flags
	}
	if b.Flags&SYN != 0 {
		if b.Flags&ACK != 0 {
			t.Handshake |= SawSYNACK
		} else {
			t.Handshake |= SawSYN
		}
	}
}

// Totals.Handshake bits.
const (
	SawSYN    uint8 = 1 << iota // a TCP segment with SYN and without ACK
	SawSYNACK                   // a TCP segment with SYN and ACK
)

// EndReason says why a flow was emitted.
type EndReason uint8

const (
	EndOfInput EndReason = iota // end of the capture
	EndIdle                     // idle timeout
	EndClosed                   // FIN/RST close
	EndEvicted                  // max_concurrent_flows eviction
)

func (r EndReason) String() string {
	switch r {
	case EndIdle:
		return "idle"
	case EndClosed:
		return "closed"
	case EndEvicted:
		return "evicted"
	}
	return "eof"
}

// Addr converts a 16-byte address field to a netip.Addr.
func Addr(b [16]byte, v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	}
	return netip.AddrFrom16(b)
}

// InitAddr returns the initiator's address.
func (f *Flow) InitAddr() netip.Addr { return Addr(f.InitIP, f.IPv6) }

// RespAddr returns the responder's address.
func (f *Flow) RespAddr() netip.Addr { return Addr(f.RespIP, f.IPv6) }

// PacketsBwd returns the number of packets sent by the responder.
func (f *Flow) PacketsBwd() int { return f.Packets - f.PacketsFwd }

// Config holds JoyfulJay's flow-assembly options (SEMANTICS.md, Config).
// Options that only shape the output columns are not here: the query's
// projection (or the command line) does that job.
type Config struct {
	FlowTimeout        float64 // idle timeout in seconds (> 0)
	TerminateOnFinRst  bool    // end a TCP flow when the connection closes (FIN/FIN/ACK or RST)
	MaxConcurrentFlows int     // 0 = unlimited; else evict one flow before adding another
	EvictionStrategy   string  // "lru" or "oldest"
	SamplingRate       float64 // per-packet keep probability; 1 keeps every packet
	SamplingSeed       int64   // seed of the sampling generator
	AnonymizeIPs       bool
	AnonymizationSalt  string
	BurstThresholdMS   float64 // timing bursts: gap below this continues a burst
	EntropySampleBytes int     // per-direction payload budget of the entropy group
	ConnectionUsePorts bool    // connection group: graph nodes are address and port, not address
	MaxSequenceLength  int     // packets in the optional per-packet sequence columns (> 0)
	CloseGrace         float64 // seconds a closed TCP flow keeps absorbing late packets
	StreamBudget       int     // payload bytes kept per direction for the protocol parsers (NeedPayload)
	// StreamDone, when set, is asked each time one direction's reassembled
	// TCP stream (f.App.Stream[dir]) grows, until it answers StreamEnough
	// (keep no more: the stream is Enough) or StreamKeep (keep up to the
	// budget, stop asking). The protocol parsers' owner sets it, so that a
	// stream is kept only as far as they read it (a TLS stream up to its
	// first application data record, say) rather than to StreamBudget.
	StreamDone func(f *Flow, dir int) StreamVerdict
	// DatagramDone, when set, is asked before a non-TCP payload of
	// direction dir is kept in f.App.Datagrams; true keeps neither it nor any
	// later datagram of that direction.
	DatagramDone func(f *Flow, dir int, payload []byte) bool
	// HeadMatch, when set, is asked with the first HeadBytes payload bytes
	// (fewer when the packet has fewer) of every packet of a scan that
	// needs NeedHeadCount; Flow.HeadMatches counts its yeses. A group that
	// only counts packets of some kind this way keeps no Flow.Heads.
	HeadMatch func(head []byte) bool
	// MaxPacketRecords caps the per-packet records (Base, TCP, IP, L2, ICMP,
	// Heads) one flow keeps: packets after the first MaxPacketRecords only
	// update the flow's exact totals (see Flow.Dropped). 0 keeps every
	// packet's records.
	MaxPacketRecords int
}

// DefaultMaxPacketRecords is the default per-flow record cap: about 110 MB
// for one flow with every kind of record, reached only by a flow of a
// million packets (over a gigabyte of traffic).
const DefaultMaxPacketRecords = 1_000_000

// DefaultConfig returns JoyfulJay's defaults.
func DefaultConfig() Config {
	return Config{
		FlowTimeout:        60,
		TerminateOnFinRst:  true,
		EvictionStrategy:   "lru",
		SamplingRate:       1,
		BurstThresholdMS:   50,
		EntropySampleBytes: 256,
		MaxSequenceLength:  50,
		CloseGrace:         2,
		StreamBudget:       32 << 10,
		MaxPacketRecords:   DefaultMaxPacketRecords,
	}
}
