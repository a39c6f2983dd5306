package flows

import "unsafe"

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
	// Enough: Config.StreamDone said the parsers need no more of it (a TLS
	// stream past its handshake, say). Like Full, later bytes are not kept.
	Enough bool

	settled bool // Config.StreamDone gave a final answer (StreamEnough or StreamKeep)

	started bool
	start   uint32    // sequence number of Data[0]
	next    uint32    // sequence number of the byte after Data
	q       *segQueue // early segments; allocated at the first one, kept when the flow is recycled
}

// segQueue holds the segments that arrived before a hole was filled.
type segQueue struct {
	segs []segment
	n    int    // bytes in segs
	buf  []byte // the segments' bytes, in arrival order (holes where segments left)
}

// pending returns the queued segments.
func (s *Stream) pending() []segment {
	if s.q == nil {
		return nil
	}
	return s.q.segs
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
func (s *Stream) Done() bool { return s.Gap || s.Full || s.Enough }

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
		if s.q == nil {
			s.q = new(segQueue)
		}
		if len(s.q.segs) >= maxPending || s.q.n+len(data) > budget {
			s.Gap = true
			s.dropPending()
			return
		}
		s.hold(seq, data, short)
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
	q := s.q
	for moved := true; moved && !s.Done() && len(s.pending()) > 0; {
		moved = false
		for i := 0; i < len(q.segs); i++ {
			sg := q.segs[i]
			off := int32(sg.seq - s.next)
			if off > 0 {
				continue
			}
			q.segs = append(q.segs[:i], q.segs[i+1:]...)
			q.n -= len(sg.data)
			if skip := int(-off); skip < len(sg.data) {
				s.appendData(sg.data[skip:], budget)
				if sg.short {
					s.Gap = true
					s.dropPending()
				}
			}
			if len(q.segs) == 0 {
				q.buf = q.buf[:0] // sg.data, in buf, was copied
			}
			moved = true
			break
		}
	}
}

// hold queues an early segment, copying its bytes into the queue's buffer.
// When the buffer has no room at its end, the queued segments are first
// moved together to its start (or to a larger buffer): it never holds more
// than twice the budget.
func (s *Stream) hold(seq uint32, data []byte, short bool) {
	q := s.q
	if len(q.buf)+len(data) > cap(q.buf) {
		need := q.n + len(data)
		nb := q.buf[:0]
		if cap(nb) < need {
			nb = make([]byte, 0, max(2*cap(q.buf), need, 1024))
		}
		off := 0
		for k := range q.segs {
			g := &q.segs[k]
			l := copy(nb[off:off+len(g.data)], g.data)
			g.data = nb[off : off+l : off+l]
			off += l
		}
		q.buf = nb[:off]
	}
	start := len(q.buf)
	q.buf = append(q.buf, data...)
	q.segs = append(q.segs, segment{seq: seq, data: q.buf[start:len(q.buf):len(q.buf)], short: short})
	q.n += len(data)
}

func (s *Stream) dropPending() {
	if q := s.q; q != nil {
		clear(q.segs)
		q.segs, q.n, q.buf = q.segs[:0], 0, q.buf[:0]
	}
}

// Finish ends the stream: segments still waiting for a hole mean a gap.
func (s *Stream) Finish() {
	if len(s.pending()) > 0 {
		s.Gap = true
		s.dropPending()
	}
}

// StreamVerdict is Config.StreamDone's answer.
type StreamVerdict uint8

const (
	// StreamMore: the parsers may need more bytes; ask again when the
	// stream grows.
	StreamMore StreamVerdict = iota
	// StreamEnough: the parsers need none of the bytes that follow.
	StreamEnough
	// StreamKeep: keep the stream up to the budget and do not ask again.
	StreamKeep
)

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
	// DatagramsEnough[d]: Config.DatagramDone said the parsers need no more
	// datagrams of direction d; later ones are not kept.
	DatagramsEnough [2]bool
	dgBuf           [2][]byte // the bytes of Datagrams[d], back to back
}

// MaxDatagrams is the number of datagrams kept per direction.
const MaxDatagrams = 16

func dirIndex(fwd bool) int {
	if fwd {
		return 0
	}
	return 1
}

// add records p's payload. f is the flow d belongs to, handed to the
// parsers' hooks of cfg (StreamDone, DatagramDone).
func (d *AppData) add(f *Flow, cfg *Config, p *Packet, index int, fwd bool) int {
	budget := cfg.StreamBudget
	i := dirIndex(fwd)
	if p.HasTCP {
		s := &d.Stream[i]
		before := len(s.Data)
		s.Add(p.Seq, p.TCPFlags&SYN != 0, p.Payload, p.PayloadLen, budget)
		grew := len(s.Data) - before
		if grew > 0 && cfg.StreamDone != nil && !s.settled && !s.Done() {
			switch cfg.StreamDone(f, i) {
			case StreamEnough:
				s.Enough, s.settled = true, true
				s.dropPending()
			case StreamKeep:
				s.settled = true
			}
		}
		return grew
	}
	n := len(p.Payload)
	buf := d.dgBuf[i]
	if n == 0 || len(d.Datagrams[i]) >= MaxDatagrams || len(buf)+n > budget || d.DatagramsEnough[i] {
		return 0
	}
	if cfg.DatagramDone != nil && cfg.DatagramDone(f, i, p.Payload) {
		d.DatagramsEnough[i] = true
		return 0
	}
	if len(buf)+n > cap(buf) {
		// A larger buffer: the kept datagrams move along.
		nb := make([]byte, len(buf), min(max(2*cap(buf), len(buf)+n, 512), budget))
		copy(nb, buf)
		off := 0
		for k := range d.Datagrams[i] {
			g := &d.Datagrams[i][k]
			l := len(g.Data)
			g.Data = nb[off : off+l : off+l]
			off += l
		}
		buf = nb
	}
	start := len(buf)
	buf = append(buf, p.Payload...)
	d.dgBuf[i] = buf
	d.Datagrams[i] = append(d.Datagrams[i], Datagram{Data: buf[start:len(buf):len(buf)], Index: index, TS: p.TS})
	return n
}

func (d *AppData) finish() {
	d.Stream[0].Finish()
	d.Stream[1].Finish()
}

// reset empties d for a new flow, keeping its buffers.
func (d *AppData) reset() {
	for i := range d.Stream {
		s := &d.Stream[i]
		s.dropPending()
		*s = Stream{Data: s.Data[:0], q: s.q}
		clear(d.Datagrams[i]) // no stale slices of the buffer
		d.Datagrams[i] = d.Datagrams[i][:0]
		d.dgBuf[i] = d.dgBuf[i][:0]
	}
	d.DatagramsEnough = [2]bool{}
}

// bufBytes is the capacity of d's buffers, in bytes.
func (d *AppData) bufBytes() int {
	n := 0
	for i := range d.Stream {
		s := &d.Stream[i]
		n += cap(s.Data) + cap(d.Datagrams[i])*int(unsafe.Sizeof(Datagram{})) + cap(d.dgBuf[i])
		if s.q != nil {
			n += int(unsafe.Sizeof(segQueue{})) + cap(s.q.segs)*int(unsafe.Sizeof(segment{})) + cap(s.q.buf)
		}
	}
	return n
}

// dropBuffers lets d's buffers go.
func (d *AppData) dropBuffers() { *d = AppData{} }
