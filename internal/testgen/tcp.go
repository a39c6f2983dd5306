package testgen

import (
	"crypto/sha1"
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCPConfig sets the TCP behaviour of a session. Both ends announce the
// same options.
type TCPConfig struct {
	MSS          uint16        // MSS option value (0: no option, segments carry up to 536 bytes)
	WScale       int8          // window scale shift; negative: no option
	SACK         bool          // SACK-permitted in the handshake, SACK blocks in duplicate ACKs
	Timestamps   bool          // timestamps option (RFC 7323) on every segment
	MPTCP        bool          // MP_CAPABLE (subtype 0) in the handshake, DSS (subtype 2) later
	ClientWindow uint16        // raw window of the client's non-SYN segments (0: 502)
	ServerWindow uint16        // raw window of the server's non-SYN segments (0: 509)
	RTT          time.Duration // round-trip time seen at the capture point, next to the client (0: 20 ms)
	Seed         uint64        // initial sequence numbers, timestamp clocks and MPTCP keys derive from it
}

// DefaultTCP is a Linux-like configuration: MSS 1460, window scale 7, SACK
// and timestamps.
func DefaultTCP(seed uint64) TCPConfig {
	return TCPConfig{MSS: 1460, WScale: 7, SACK: true, Timestamps: true, Seed: seed}
}

// SendOptions add deliberate anomalies to TCPSession.SendWith. Segment
// indexes are 1-based; 0 disables the anomaly.
type SendOptions struct {
	Lose    int           // this segment is captured, then lost: the receiver sends duplicate ACKs (with SACK blocks when negotiated) and the sender retransmits it
	Reorder int           // this segment is captured after the next one: the receiver sends a duplicate ACK, then an ACK when it arrives
	Think   time.Duration // extra delay before the first segment
}

const (
	burstGap   = 100 * time.Microsecond // between segments of one burst
	clientTurn = 80 * time.Microsecond  // client reaction, seen next to the client
	clientAck  = 40 * time.Microsecond  // client ACK after a segment arrives
)

type tcpEnd struct {
	port     uint16
	isn      uint32
	nxt      uint32      // next sequence number to send
	rcv      uint32      // next sequence number expected from the peer
	ooo      [][2]uint32 // peer data held above rcv, most recent first
	tsBase   uint32
	tsRecent uint32 // latest TSval of an in-order segment from the peer
	synWin   uint16
	win      uint16
	unacked  int // in-order segments received and not acknowledged
	key      uint64
	idsn     uint32
}

type tcpEvent struct {
	t   time.Time
	seg func(t time.Time)
}

// TCPSession builds one TCP connection of a Conv, segment by segment, with
// consistent sequence and acknowledgment numbers, timestamps (TSval from a
// 1 kHz clock, TSecr echoing the latest in-order TSval) and SACK blocks.
// Times follow a capture point next to the client: server segments appear
// one RTT after the client segment that triggers them.
type TCPSession struct {
	cv       *Conv
	cfg      TCPConfig
	start    time.Time
	now      time.Time
	lastFrom int // 0 client, 1 server, -1 nothing sent yet
	end      [2]tcpEnd
	mss      int
	pending  []tcpEvent
}

// NewTCPSession prepares a connection between cv.Client and cv.Server; the
// first segment is sent at start.
func NewTCPSession(cv *Conv, start time.Time, cfg TCPConfig) *TCPSession {
	if cfg.RTT == 0 {
		cfg.RTT = 20 * time.Millisecond
	}
	if cfg.ClientWindow == 0 {
		cfg.ClientWindow = 502
	}
	if cfg.ServerWindow == 0 {
		cfg.ServerWindow = 509
	}
	r := rand.New(rand.NewPCG(cfg.Seed, uint64(fnv32(cv.Name))))
	s := &TCPSession{cv: cv, cfg: cfg, start: start, now: start, lastFrom: -1}
	for i := range s.end {
		e := &s.end[i]
		e.isn = r.Uint32()
		e.nxt = e.isn
		e.tsBase = r.Uint32()
		e.key = r.Uint64()
		sum := sha1.Sum(binary.BigEndian.AppendUint64(nil, e.key))
		e.idsn = binary.BigEndian.Uint32(sum[16:])
	}
	s.end[0].port, s.end[1].port = cv.Client.Port, cv.Server.Port
	s.end[0].synWin, s.end[1].synWin = 64240, 65160
	s.end[0].win, s.end[1].win = cfg.ClientWindow, cfg.ServerWindow
	s.mss = 536
	if cfg.MSS != 0 {
		s.mss = int(cfg.MSS)
	}
	if cfg.Timestamps {
		s.mss -= 12
	}
	return s
}

// Now returns the time of the latest segment (the start time before any).
func (s *TCPSession) Now() time.Time { return s.now }

// MSS returns the largest payload of one segment.
func (s *TCPSession) MSS() int { return s.mss }

// Wait lets d pass without traffic.
func (s *TCPSession) Wait(d time.Duration) { s.now = s.now.Add(d) }

// turn returns when end `from` sends next, after the latest segment.
func (s *TCPSession) turn(from int) time.Time {
	switch {
	case s.lastFrom < 0:
		return s.now
	case from == s.lastFrom:
		return s.now.Add(burstGap)
	case from == 1:
		return s.now.Add(s.cfg.RTT)
	}
	return s.now.Add(clientTurn)
}

// ackDelay is how long after a segment arrives end `from` acknowledges it,
// as seen at the capture point.
func (s *TCPSession) ackDelay(from int) time.Duration {
	if from == 0 {
		return clientAck
	}
	return s.cfg.RTT
}

func (s *TCPSession) tsval(e *tcpEnd, t time.Time) uint32 {
	return e.tsBase + uint32(t.Sub(s.start)/time.Millisecond)
}

// at queues a segment for time t; flush emits queued segments in time order.
func (s *TCPSession) at(t time.Time, seg func(t time.Time)) {
	s.pending = append(s.pending, tcpEvent{t: t, seg: seg})
}

func (s *TCPSession) flush() {
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].t.Before(s.pending[j].t) })
	for _, ev := range s.pending {
		ev.seg(ev.t)
		s.now = ev.t
	}
	s.pending = s.pending[:0]
}

func nop() layers.TCPOption { return layers.TCPOption{OptionType: layers.TCPOptionKindNop} }

func mptcpOption(data ...byte) layers.TCPOption {
	return layers.TCPOption{OptionType: 30, OptionData: data}
}

// segment describes one segment to send.
type segment struct {
	from     int
	flags    uint8
	seq, ack uint32
	payload  []byte
	tsecr    uint32
	sack     [][2]uint32
	mptcp    []byte // MPTCP option data (kind 30), nil for none
	win      uint16
	event    Event
}

func (s *TCPSession) send(t time.Time, g segment) {
	e := &s.end[g.from]
	peer := &s.end[1-g.from]
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(e.port), DstPort: layers.TCPPort(peer.port),
		Seq: g.seq, Ack: g.ack, Window: g.win,
		FIN: g.flags&0x01 != 0, SYN: g.flags&0x02 != 0, RST: g.flags&0x04 != 0,
		PSH: g.flags&0x08 != 0, ACK: g.flags&0x10 != 0,
	}
	syn := g.flags&0x02 != 0
	tsOpt := func() layers.TCPOption {
		d := binary.BigEndian.AppendUint32(nil, s.tsval(e, t))
		return layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: binary.BigEndian.AppendUint32(d, g.tsecr)}
	}
	var opts []layers.TCPOption
	if syn && g.flags&0x04 == 0 {
		if s.cfg.MSS != 0 {
			opts = append(opts, layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: binary.BigEndian.AppendUint16(nil, s.cfg.MSS)})
		}
		sackOK := layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionData: []byte{}}
		if s.cfg.Timestamps {
			if s.cfg.SACK {
				opts = append(opts, sackOK)
			}
			opts = append(opts, tsOpt())
		} else if s.cfg.SACK {
			opts = append(opts, nop(), nop(), sackOK)
		}
		if s.cfg.WScale >= 0 {
			opts = append(opts, nop(), layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{byte(s.cfg.WScale)}})
		}
	} else if g.flags&0x04 == 0 {
		if s.cfg.Timestamps {
			opts = append(opts, nop(), nop(), tsOpt())
		}
		if len(g.sack) > 0 {
			var d []byte
			for _, b := range g.sack {
				d = binary.BigEndian.AppendUint32(d, b[0])
				d = binary.BigEndian.AppendUint32(d, b[1])
			}
			opts = append(opts, nop(), nop(), layers.TCPOption{OptionType: layers.TCPOptionKindSACK, OptionData: d})
		}
	}
	if g.mptcp != nil {
		opts = append(opts, mptcpOption(g.mptcp...))
	}
	tcp.Options = opts
	meta := Meta{TCP: true, Flags: g.flags, Seq: g.seq, Ack: g.ack, Window: g.win, Payload: len(g.payload), Event: g.event}
	s.cv.emit(t, g.from == 0, nil, layers.IPProtocolTCP, meta, tcp, gopacket.Payload(g.payload))
	s.lastFrom = g.from
}

// Handshake sends SYN, SYN-ACK and ACK.
func (s *TCPSession) Handshake() {
	c, sv := &s.end[0], &s.end[1]
	t0 := s.turn(0)
	var mpSyn, mpSynAck, mpAck []byte
	if s.cfg.MPTCP {
		mpSyn = binary.BigEndian.AppendUint64([]byte{0x00, 0x01}, c.key)
		mpSynAck = binary.BigEndian.AppendUint64([]byte{0x00, 0x01}, sv.key)
		mpAck = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{0x00, 0x01}, c.key), sv.key)
	}
	s.send(t0, segment{from: 0, flags: 0x02, seq: c.isn, win: c.synWin, mptcp: mpSyn})
	c.nxt = c.isn + 1
	sv.rcv = c.nxt
	sv.tsRecent = s.tsval(c, t0)
	t1 := t0.Add(s.cfg.RTT)
	s.send(t1, segment{from: 1, flags: 0x12, seq: sv.isn, ack: sv.rcv, tsecr: sv.tsRecent, win: sv.synWin, mptcp: mpSynAck})
	sv.nxt = sv.isn + 1
	c.rcv = sv.nxt
	c.tsRecent = s.tsval(sv, t1)
	t2 := t1.Add(clientTurn)
	s.send(t2, segment{from: 0, flags: 0x10, seq: c.nxt, ack: c.rcv, tsecr: c.tsRecent, win: c.win, mptcp: mpAck})
	sv.tsRecent = s.tsval(c, t2)
	s.now = t2
}

// Refuse sends a SYN answered by RST-ACK (a closed port).
func (s *TCPSession) Refuse() {
	c, sv := &s.end[0], &s.end[1]
	t0 := s.turn(0)
	s.send(t0, segment{from: 0, flags: 0x02, seq: c.isn, win: c.synWin})
	c.nxt = c.isn + 1
	t1 := t0.Add(s.cfg.RTT)
	s.send(t1, segment{from: 1, flags: 0x14, seq: 0, ack: c.nxt})
	sv.rcv = c.nxt
	s.now = t1
}

// dss returns the MPTCP DSS option data of a segment from end `from`
// starting at seq with n payload bytes (n = 0: Data ACK only).
func (s *TCPSession) dss(from int, seq uint32, n int) []byte {
	if !s.cfg.MPTCP {
		return nil
	}
	e, peer := &s.end[from], &s.end[1-from]
	dack := peer.idsn + 1 + (e.rcv - (peer.isn + 1))
	if n == 0 {
		return binary.BigEndian.AppendUint32([]byte{0x20, 0x01}, dack)
	}
	d := binary.BigEndian.AppendUint32([]byte{0x20, 0x05}, dack)
	d = binary.BigEndian.AppendUint32(d, e.idsn+1+(seq-(e.isn+1)))
	d = binary.BigEndian.AppendUint32(d, seq-e.isn)
	return binary.BigEndian.AppendUint16(d, uint16(n))
}

// ack queues a bare ACK from end `from` at t, with SACK blocks when it
// holds out-of-order data.
func (s *TCPSession) ack(t time.Time, from int) {
	e := &s.end[from]
	g := segment{from: from, flags: 0x10, seq: e.nxt, ack: e.rcv, tsecr: e.tsRecent, win: e.win, mptcp: s.dss(from, e.nxt, 0)}
	if s.cfg.SACK && len(e.ooo) > 0 {
		max := 4
		if s.cfg.Timestamps {
			max = 3
		}
		for i := 0; i < len(e.ooo) && i < max; i++ {
			g.sack = append(g.sack, e.ooo[i])
		}
	}
	e.unacked = 0
	s.at(t, func(t time.Time) { s.send(t, g) })
}

// receive updates end `to` for a data segment [seq, seq+n) sent at t and
// reports whether it must be acknowledged at once, and whether the
// segment was in order.
func (s *TCPSession) receive(to int, seq uint32, n int, tsval uint32) (ackNow bool) {
	e := &s.end[to]
	if seq == e.rcv {
		e.rcv += uint32(n)
		e.tsRecent = tsval
		filled := len(e.ooo) > 0
		for merged := true; merged; {
			merged = false
			for i, b := range e.ooo {
				if seqLE(b[0], e.rcv) {
					if seqLT(e.rcv, b[1]) {
						e.rcv = b[1]
					}
					e.ooo = append(e.ooo[:i], e.ooo[i+1:]...)
					merged = true
					break
				}
			}
		}
		e.unacked++
		return filled || e.unacked >= 2
	}
	if seqLT(e.rcv, seq) {
		blk := [2]uint32{seq, seq + uint32(n)}
		// Merge with an adjacent block, then put the block first.
		for i := 0; i < len(e.ooo); i++ {
			b := e.ooo[i]
			if b[1] == blk[0] || blk[1] == b[0] {
				if b[0] == blk[1] {
					blk[1] = b[1]
				} else {
					blk[0] = b[0]
				}
				e.ooo = append(e.ooo[:i], e.ooo[i+1:]...)
				i--
			}
		}
		e.ooo = append([][2]uint32{blk}, e.ooo...)
	}
	return true
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// Send sends data from one end in MSS-sized segments (PSH on the last);
// the receiver acknowledges every second segment and the end of the burst.
func (s *TCPSession) Send(fromClient bool, data []byte) { s.SendWith(fromClient, data, SendOptions{}) }

// SendWith is Send with deliberate anomalies.
func (s *TCPSession) SendWith(fromClient bool, data []byte, o SendOptions) {
	if len(data) == 0 {
		return
	}
	from := dirIndex(fromClient)
	to := 1 - from
	x := &s.end[from]
	type seg struct {
		seq  uint32
		data []byte
	}
	var segs []seg
	for off := 0; off < len(data); off += s.mss {
		end := min(off+s.mss, len(data))
		segs = append(segs, seg{seq: x.nxt + uint32(off), data: data[off:end]})
	}
	n := len(segs)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if o.Reorder > 0 && o.Reorder < n {
		k := o.Reorder - 1
		order[k], order[k+1] = order[k+1], order[k]
	}
	t0 := s.turn(from).Add(o.Think)
	last := t0
	var lastDup time.Time
	lost := -1
	for i, idx := range order {
		g := segs[idx]
		t := t0.Add(time.Duration(i) * burstGap)
		flags := uint8(0x10)
		if idx == n-1 {
			flags |= 0x08
		}
		ev := EventNone
		if o.Reorder > 0 && idx == o.Reorder-1 {
			ev = EventOutOfOrder
		}
		seq, payload := g.seq, g.data
		sg := segment{from: from, flags: flags, seq: seq, ack: x.rcv, tsecr: x.tsRecent, win: x.win, payload: payload, event: ev, mptcp: s.dss(from, seq, len(payload))}
		s.at(t, func(t time.Time) { s.send(t, sg) })
		last = maxTime(last, t)
		if idx == o.Lose-1 {
			lost = idx
			continue
		}
		if s.receive(to, seq, len(payload), s.tsval(x, t)) {
			at := t.Add(s.ackDelay(to))
			if len(s.end[to].ooo) > 0 {
				lastDup = at
			}
			s.ack(at, to)
			last = maxTime(last, at)
		}
	}
	x.nxt += uint32(len(data))
	if lost >= 0 {
		g := segs[lost]
		react := clientTurn
		if from == 1 {
			react = s.cfg.RTT + s.cfg.RTT/4
		}
		t := maxTime(lastDup, t0).Add(react)
		if !t.After(last) {
			t = last.Add(burstGap)
		}
		flags := uint8(0x10)
		if lost == n-1 {
			flags |= 0x08
		}
		sg := segment{from: from, flags: flags, seq: g.seq, ack: x.rcv, tsecr: x.tsRecent, win: x.win, payload: g.data, event: EventRetransmission, mptcp: s.dss(from, g.seq, len(g.data))}
		s.at(t, func(t time.Time) { s.send(t, sg) })
		last = t
		s.receive(to, g.seq, len(g.data), s.tsval(x, t))
		at := t.Add(s.ackDelay(to))
		s.ack(at, to)
		last = at
	}
	if s.end[to].unacked > 0 {
		s.ack(last.Add(s.ackDelay(to)), to)
	}
	s.flush()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Close ends the connection with FINs. The end fromClient selects sends the
// first FIN; the peer answers with FIN-ACK (fourWay false) or with an ACK
// and then its own FIN (fourWay true); the first end sends the last ACK.
func (s *TCPSession) Close(fromClient, fourWay bool) {
	from := dirIndex(fromClient)
	to := 1 - from
	x, y := &s.end[from], &s.end[to]
	t := s.turn(from)
	fin := segment{from: from, flags: 0x11, seq: x.nxt, ack: x.rcv, tsecr: x.tsRecent, win: x.win, mptcp: s.dss(from, x.nxt, 0)}
	s.at(t, func(t time.Time) { s.send(t, fin) })
	x.nxt++
	y.rcv = x.nxt
	y.tsRecent = s.tsval(x, t)
	t = t.Add(s.ackDelay(to))
	if fourWay {
		a := segment{from: to, flags: 0x10, seq: y.nxt, ack: y.rcv, tsecr: y.tsRecent, win: y.win, mptcp: s.dss(to, y.nxt, 0)}
		s.at(t, func(t time.Time) { s.send(t, a) })
		t = t.Add(burstGap)
	}
	fin2 := segment{from: to, flags: 0x11, seq: y.nxt, ack: y.rcv, tsecr: y.tsRecent, win: y.win, mptcp: s.dss(to, y.nxt, 0)}
	s.at(t, func(t time.Time) { s.send(t, fin2) })
	y.nxt++
	x.rcv = y.nxt
	x.tsRecent = s.tsval(y, t)
	t = t.Add(s.ackDelay(from))
	last := segment{from: from, flags: 0x10, seq: x.nxt, ack: x.rcv, tsecr: x.tsRecent, win: x.win, mptcp: s.dss(from, x.nxt, 0)}
	s.at(t, func(t time.Time) { s.send(t, last) })
	s.flush()
}

// Reset aborts the connection with an RST-ACK from one end.
func (s *TCPSession) Reset(fromClient bool) {
	from := dirIndex(fromClient)
	x := &s.end[from]
	g := segment{from: from, flags: 0x14, seq: x.nxt, ack: x.rcv}
	s.at(s.turn(from), func(t time.Time) { s.send(t, g) })
	s.flush()
}

// Message is one application message of a conversation.
type Message struct {
	FromServer bool
	Data       []byte
	Think      time.Duration // pause before the message
}

// CloseKind selects how TCPConversation ends a connection.
type CloseKind uint8

const (
	CloseFIN     CloseKind = iota // FIN, FIN-ACK, ACK
	CloseFINFour                  // FIN, ACK, FIN, ACK
	CloseRST                      // RST-ACK
	CloseNone                     // left open
)

// TCPEnd says how and by whom a connection ends.
type TCPEnd struct {
	Kind     CloseKind
	ByServer bool
}

// TCPConversation builds a whole connection on cv: the handshake at start,
// the messages in order, then the close. It returns the time of the last
// segment.
func TCPConversation(cv *Conv, start time.Time, cfg TCPConfig, msgs []Message, end TCPEnd) time.Time {
	s := NewTCPSession(cv, start, cfg)
	s.Handshake()
	for _, m := range msgs {
		s.SendWith(!m.FromServer, m.Data, SendOptions{Think: m.Think})
	}
	switch end.Kind {
	case CloseFIN, CloseFINFour:
		s.Close(!end.ByServer, end.Kind == CloseFINFour)
	case CloseRST:
		s.Reset(!end.ByServer)
	}
	return s.Now()
}
