package testgen

import (
	"net/netip"
	"time"
)

// IdleTimeout is the flow timeout SampleFlows assumes (jjsql's default): a
// packet more than IdleTimeout after its flow's previous packet starts a new
// flow.
const IdleTimeout = 60 * time.Second

// FlowSpec is what a flow table should find for one flow of the sample
// capture, computed from the generated frames. Flows are keyed on the
// innermost IP header and transport ports (0 for ICMP); fragments belong
// to their datagram's flow; the initiator is the sender of the flow's first
// packet; "fwd" counts the initiator's packets.
type FlowSpec struct {
	Conv      string // name of the conversation (its Conv.Name)
	Part      int    // 1-based; a conversation split by IdleTimeout has parts 1, 2, ...
	Parts     int    // number of parts of the conversation
	Note      string // what the flow holds
	IPVersion int
	Proto     uint8 // transport protocol (6, 17, 1, 58)
	InitIP    netip.Addr
	RespIP    netip.Addr
	InitPort  uint16
	RespPort  uint16

	First, Last time.Time
	Frames      []int // indexes into Sample() (and SampleNG(): same order)

	PacketsFwd, PacketsBwd int
	PayloadFwd, PayloadBwd int // transport payload bytes (Meta.Payload summed)
	IPBytesFwd, IPBytesBwd int // innermost IP total lengths summed
	Fragments              int // IP fragments
	TorCells               int // packets whose innermost IP total length is 580 to 600 bytes (Tor cell sized)

	SYN, FIN, RST   int // TCP packets with the flag
	Retransmissions int // segments marked EventRetransmission
	OutOfOrder      int // segments marked EventOutOfOrder
	// DupAcks counts packets with ACK set, no payload, no SYN/FIN/RST and
	// the ack number and window of the previous packet of the same direction.
	DupAcks int
	End     string // "fin" (both FINs, last one acknowledged), "rst", "idle" (the next part follows), "eof"

	// Link.
	VLANs       []uint16
	MPLS        []uint32
	PPPoE       uint16 // session ID, 0 without PPPoE
	Tunnel      string // flows.Tunnel names: "", "ipip", "gre", "vxlan", "geneve", "gtpu", "teredo"
	OuterClient netip.Addr
	OuterServer netip.Addr
	NGIface     int // interface in sample.pcapng: 0 Ethernet (if_tsresol 6), 1 raw IP (if_tsresol 9)
}

// Packets returns the number of packets in both directions.
func (f *FlowSpec) Packets() int { return f.PacketsFwd + f.PacketsBwd }

// SampleFlows returns the flows of the sample capture under IdleTimeout,
// ordered by first packet.
func SampleFlows() ([]FlowSpec, error) {
	convs, err := buildSample()
	if err != nil {
		return nil, err
	}
	frames, conv := merge(convs)
	return flowSpecs(convs, frames, conv), nil
}

func flowSpecs(convs []sampleConv, frames []Frame, conv []int) []FlowSpec {
	// Frame indexes per conversation, split at idle gaps.
	parts := make([][][]int, len(convs))
	lastTS := make([]time.Time, len(convs))
	for i, f := range frames {
		c := conv[i]
		if len(parts[c]) == 0 || f.TS.Sub(lastTS[c]) > IdleTimeout {
			parts[c] = append(parts[c], nil)
		}
		p := &parts[c][len(parts[c])-1]
		*p = append(*p, i)
		lastTS[c] = f.TS
	}
	var specs []FlowSpec
	for c, ps := range parts {
		for pi, idx := range ps {
			specs = append(specs, flowSpec(convs[c], frames, idx, pi+1, len(ps)))
		}
	}
	// Order by first frame.
	for i := 1; i < len(specs); i++ {
		for j := i; j > 0 && specs[j].Frames[0] < specs[j-1].Frames[0]; j-- {
			specs[j], specs[j-1] = specs[j-1], specs[j]
		}
	}
	return specs
}

func flowSpec(sc sampleConv, frames []Frame, idx []int, part, nparts int) FlowSpec {
	cv := sc.cv
	first := frames[idx[0]]
	init, resp := cv.ends(first.Meta.FromClient)
	s := FlowSpec{
		Conv: cv.Name, Part: part, Parts: nparts, Note: sc.note,
		IPVersion: first.Meta.IPVersion, Proto: first.Meta.Proto,
		InitIP: init.IP, RespIP: resp.IP, InitPort: init.Port, RespPort: resp.Port,
		First: first.TS, Last: frames[idx[len(idx)-1]].TS, Frames: idx,
		VLANs: cv.Link.VLANs, MPLS: cv.Link.MPLS, PPPoE: cv.Link.PPPoESession,
		Tunnel: cv.Link.Tunnel.String(), NGIface: sc.ng,
	}
	if cv.Link.Tunnel != TunnelNone {
		s.OuterClient, s.OuterServer = cv.Link.OuterClient, cv.Link.OuterServer
	}
	type prevSeg struct {
		ok  bool
		ack uint32
		win uint16
	}
	var prev [2]prevSeg
	var fin [2]bool
	finAcked := false
	var finSeq [2]uint32
	lastFin := -1
	for _, i := range idx {
		m := frames[i].Meta
		fwd := m.FromClient == first.Meta.FromClient
		d := 1
		if fwd {
			d = 0
			s.PacketsFwd++
			s.PayloadFwd += m.Payload
			s.IPBytesFwd += m.IPLen
		} else {
			s.PacketsBwd++
			s.PayloadBwd += m.Payload
			s.IPBytesBwd += m.IPLen
		}
		if m.Fragment {
			s.Fragments++
		}
		if m.IPLen >= 580 && m.IPLen <= 600 {
			s.TorCells++
		}
		if !m.TCP {
			continue
		}
		const fFIN, fSYN, fRST, fACK = 0x01, 0x02, 0x04, 0x10
		if m.Flags&fSYN != 0 {
			s.SYN++
		}
		if m.Flags&fFIN != 0 {
			s.FIN++
			fin[d] = true
			finSeq[d] = m.Seq + uint32(m.Payload) + 1
			lastFin = d
		}
		if m.Flags&fRST != 0 {
			s.RST++
		}
		switch m.Event {
		case EventRetransmission:
			s.Retransmissions++
		case EventOutOfOrder:
			s.OutOfOrder++
		}
		if m.Flags&fACK != 0 && m.Payload == 0 && m.Flags&(fSYN|fFIN|fRST) == 0 &&
			prev[d].ok && prev[d].ack == m.Ack && prev[d].win == m.Window {
			s.DupAcks++
		}
		prev[d] = prevSeg{ok: true, ack: m.Ack, win: m.Window}
		if fin[0] && fin[1] && d != lastFin && m.Flags&fACK != 0 && m.Ack == finSeq[lastFin] {
			finAcked = true
		}
	}
	switch {
	case s.RST > 0:
		s.End = "rst"
	case finAcked:
		s.End = "fin"
	case part < nparts:
		s.End = "idle"
	default:
		s.End = "eof"
	}
	return s
}
