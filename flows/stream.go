package flows

// Stream is one direction of a TCP connection's payload, reassembled in
// sequence order for the protocol parsers (TLS, SSH, DNS over TCP, HTTP/2).
//
// Rules: the stream starts at the byte after the direction's SYN, or, for a
// connection caught mid-stream, at the first segment that carries data (a
// hello that begins at a segment boundary still parses). Retransmitted and
// overlapping bytes are taken once (the first copy wins). Segments that
// arrive early wait in a small bounded queue; when a hole is not filled
// before the queue is full or the flow ends, reassembly stops there (Gap):
// the parsers see only the bytes before the hole and never guess. Bytes beyond
// the budget are not kept (Full), so a bulk transfer costs nothing once the
// handshake is read. Sequence numbers wrap around 2^32.
type Stream struct {
	Data []byte // contiguous bytes from the start of the stream
	Gap  bool   // a missing segment stopped reassembly
	Full bool   // the byte budget was reached

	started bool
	start   uint32 // sequence number of Data[0]
	next    uint32 // sequence number of the byte after Data
	pending []segment
	pendLen int
}

type segment struct {
	seq   uint32
	data  []byte
	short bool // the segment was cut by the snapshot length: a hole follows it
}

const maxPending = 64 // out-of-order segments held per direction

// Start returns the sequence number of the stream's first byte (Data[0]),
// and false before the direction sent a SYN or a segment with data.
func (s *Stream) Start() (uint32, bool) { return s.start, s.started }

// Done reports whether the stream takes no more bytes.
func (s *Stream) Done() bool { return s.Gap || s.Full }

// Add places one segment. seq is the segment's sequence number, syn whether
// it carries SYN (which takes one sequence number before the data), data the
// captured payload and declared its declared payload length (a segment cut
// by the snapshot length leaves a hole after its captured bytes). budget
// caps len(Data).
func (s *Stream) Add(seq uint32, syn bool, data []byte, declared int, budget int) {
	if s.Done() {
		return
	}
	if syn {
		seq++
		if !s.started {
			s.started, s.start, s.next = true, seq, seq
		}
	}
	if declared <= 0 {
		return
	}
	if !s.started {
		s.started, s.start, s.next = true, seq, seq
	}
	short := len(data) < declared
	off := int32(seq - s.next)
	switch {
	case off > 0:
		// Early: hold it until the hole before it is filled.
		if len(s.pending) >= maxPending || s.pendLen+len(data) > budget {
			s.Gap = true
			s.dropPending()
			return
		}
		s.pending = append(s.pending, segment{seq: seq, data: append([]byte(nil), data...), short: short})
		s.pendLen += len(data)
		return
	case off < 0:
		// Retransmission or overlap: keep only the new bytes, except that
		// bytes first seen as all zeros (some stacks put zero filler on bare
		// ACKs) give way to a later copy that carries data.
		skip := int(-off)
		s.replaceZeros(skip, data)
		if skip >= declared {
			return
		}
		if skip >= len(data) {
			s.Gap = true // the new bytes were not captured
			return
		}
		data = data[skip:]
		declared -= skip
	}
	s.appendData(data, budget)
	if short {
		s.Gap = true
		s.dropPending()
		return
	}
	s.drain(budget)
}

// replaceZeros overwrites the last skip bytes of Data (and no more than data
// covers) with data when they are all zero and data is not.
func (s *Stream) replaceZeros(skip int, data []byte) {
	if skip > len(s.Data) {
		return
	}
	old := s.Data[len(s.Data)-skip:]
	if len(data) < len(old) {
		old = old[:len(data)]
	}
	if len(old) == 0 || !allZero(old) || allZero(data[:len(old)]) {
		return
	}
	copy(old, data)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (s *Stream) appendData(data []byte, budget int) {
	room := budget - len(s.Data)
	if room <= 0 {
		s.Full = true
		return
	}
	if len(data) > room {
		data = data[:room]
		s.Full = true
	}
	s.Data = append(s.Data, data...)
	s.next += uint32(len(data))
	if s.Full {
		s.dropPending()
	}
}

// drain moves queued segments that now fit onto Data.
func (s *Stream) drain(budget int) {
	for moved := true; moved && !s.Done() && len(s.pending) > 0; {
		moved = false
		for i := 0; i < len(s.pending); i++ {
			sg := s.pending[i]
			off := int32(sg.seq - s.next)
			if off > 0 {
				continue
			}
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			s.pendLen -= len(sg.data)
			if skip := int(-off); skip < len(sg.data) {
				s.appendData(sg.data[skip:], budget)
				if sg.short {
					s.Gap = true
					s.dropPending()
				}
			}
			moved = true
			break
		}
	}
}

func (s *Stream) dropPending() {
	s.pending = nil
	s.pendLen = 0
}

// Finish ends the stream: segments still waiting for a hole mean a gap.
func (s *Stream) Finish() {
	if len(s.pending) > 0 {
		s.Gap = true
		s.dropPending()
	}
}

// Datagram is the payload of one non-TCP packet kept for the parsers.
type Datagram struct {
	Data  []byte
	Index int // index of the packet within the flow
	TS    float64
}

// AppData is what a flow keeps of its payload when NeedPayload is set.
type AppData struct {
	Stream    [2]Stream     // TCP payload, [0] from the initiator, [1] from the responder
	Datagrams [2][]Datagram // first datagrams of each direction (UDP and other protocols)
	dgBytes   [2]int
}

// MaxDatagrams is the number of datagrams kept per direction.
const MaxDatagrams = 16

func dirIndex(fwd bool) int {
	if fwd {
		return 0
	}
	return 1
}

// add records p's payload.
func (d *AppData) add(p *Packet, index int, fwd bool, budget int) int {
	i := dirIndex(fwd)
	if p.HasTCP {
		before := len(d.Stream[i].Data)
		d.Stream[i].Add(p.Seq, p.TCPFlags&SYN != 0, p.Payload, p.PayloadLen, budget)
		return len(d.Stream[i].Data) - before
	}
	if len(p.Payload) == 0 || len(d.Datagrams[i]) >= MaxDatagrams || d.dgBytes[i]+len(p.Payload) > budget {
		return 0
	}
	d.Datagrams[i] = append(d.Datagrams[i], Datagram{Data: append([]byte(nil), p.Payload...), Index: index, TS: p.TS})
	d.dgBytes[i] += len(p.Payload)
	return len(p.Payload)
}

func (d *AppData) finish() {
	d.Stream[0].Finish()
	d.Stream[1].Finish()
}

func (d *AppData) reset() {
	for i := range d.Stream {
		d.Stream[i] = Stream{Data: d.Stream[i].Data[:0]}
		d.Datagrams[i] = d.Datagrams[i][:0]
		d.dgBytes[i] = 0
	}
}
