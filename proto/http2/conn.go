package http2

import (
	"bytes"
	"math"
	"slices"
)

// Mode says how a cleartext connection entered HTTP/2.
type Mode uint8

const (
	NotHTTP2       Mode = iota
	PriorKnowledge      // the client's stream begins with the preface (RFC 9113 section 3.3)
	Upgrade             // HTTP/1.1 "Upgrade: h2c" answered by 101 (RFC 7540 section 3.2)
)

func (m Mode) String() string {
	switch m {
	case PriorKnowledge:
		return "prior-knowledge"
	case Upgrade:
		return "upgrade"
	}
	return "none"
}

// Conn is what Cleartext finds in the two directions of a TCP connection.
type Conn struct {
	Mode        Mode
	Client      int  // index (0 or 1) of the client's stream
	PrefaceSeen bool // the client's stream carries the preface where it belongs
	// Detected: the connection entered HTTP/2 (Mode is set) and the
	// server's frames begin with a valid SETTINGS frame.
	Detected bool
	Start    [2]int  // offset of each direction's first frame; -1 when not walked
	Walks    [2]Walk // the frames of each direction (empty unless Detected)
}

// Server returns the index of the server's stream.
func (c *Conn) Server() int { return 1 - c.Client }

// Role returns the role of the sender of stream i.
func (c *Conn) Role(i int) Role {
	if i == c.Client {
		return Client
	}
	return Server
}

// maxLimitRounds bounds the re-walks that follow a raised
// SETTINGS_MAX_FRAME_SIZE (each round can only raise a limit).
const maxLimitRounds = 4

// Cleartext looks for cleartext HTTP/2 (h2c) in the two directions of a TCP
// connection, each reassembled from its start. It recognises
//   - prior knowledge: a stream begins with the client preface; the other
//     stream is the server's and its frames start at its first byte;
//   - the HTTP/1.1 upgrade: a stream begins with a request whose Upgrade
//     header lists h2c and the other with "101 Switching Protocols" to h2c;
//     the server's frames start after the 101 response, the client's after
//     the preface it sends once its request is complete.
//
// The connection is HTTP/2 (Detected) when, in addition, the server's first
// frame is a valid SETTINGS frame. Only then are the frames of both
// directions walked (see WalkFrames), each with the frame size limit the
// other side announced. A capture that starts in the middle of a
// connection is not recognised: nothing is guessed from frame-like bytes.
func Cleartext(s [2][]byte) Conn {
	c := Conn{Start: [2]int{-1, -1}}
	for i := range 2 {
		if bytes.HasPrefix(s[i], []byte(Preface)) {
			c.Mode, c.Client, c.PrefaceSeen = PriorKnowledge, i, true
			c.Start[i], c.Start[1-i] = len(Preface), 0
			break
		}
	}
	if c.Mode == NotHTTP2 {
		for i := range 2 {
			reqEnd, ok := UpgradeRequest(s[i])
			if !ok {
				continue
			}
			respEnd, ok := SwitchingProtocols(s[1-i])
			if !ok {
				continue
			}
			c.Mode, c.Client = Upgrade, i
			c.Start[1-i] = respEnd
			if reqEnd >= 0 && reqEnd <= len(s[i]) && bytes.HasPrefix(s[i][reqEnd:], []byte(Preface)) {
				c.PrefaceSeen = true
				c.Start[i] = reqEnd + len(Preface)
			}
			break
		}
	}
	if c.Mode == NotHTTP2 {
		return c
	}
	srv := c.Server()
	limits := [2]uint32{DefaultMaxFrameSize, DefaultMaxFrameSize}
	for range maxLimitRounds {
		for i := range 2 {
			if c.Start[i] >= 0 {
				c.Walks[i] = WalkFrames(s[i], c.Start[i], limits[i], c.Role(i))
			}
		}
		// Frames sent by i are limited by what the peer announced.
		next := [2]uint32{max(limits[0], c.Walks[1].MaxFrameSize), max(limits[1], c.Walks[0].MaxFrameSize)}
		if next == limits {
			break
		}
		limits = next
	}
	c.Detected = len(c.Walks[srv].Frames) > 0
	if !c.Detected {
		c.Walks = [2]Walk{}
	}
	return c
}

// Counts are frame and stream totals over both directions.
type Counts struct {
	Frames                                       int
	Data, Headers, Settings, PushPromise, GoAway int
	WindowUpdate                                 int
	Streams                                      int  // distinct streams used (see Streams)
	ServerPush                                   bool // a PUSH_PROMISE was walked
}

// Count totals the walked frames of both directions.
func (c *Conn) Count() Counts {
	var n Counts
	for i := range c.Walks {
		for j := range c.Walks[i].Frames {
			n.Frames++
			switch c.Walks[i].Frames[j].Type {
			case TypeData:
				n.Data++
			case TypeHeaders:
				n.Headers++
			case TypeSettings:
				n.Settings++
			case TypePushPromise:
				n.PushPromise++
			case TypeGoAway:
				n.GoAway++
			case TypeWindowUpdate:
				n.WindowUpdate++
			}
		}
	}
	n.ServerPush = n.PushPromise > 0
	n.Streams = len(c.Streams())
	return n
}

// Streams returns the distinct streams the walked frames use, in ascending
// order: the non-zero stream identifiers of every frame but PRIORITY, and
// the streams PUSH_PROMISE frames reserve. PRIORITY frames may name streams
// that are never opened (RFC 9113 section 5.3.2; Firefox used idle streams
// as the nodes of its dependency tree), so they do not count.
func (c *Conn) Streams() []uint32 {
	var ids []uint32
	for i := range c.Walks {
		for j := range c.Walks[i].Frames {
			fr := &c.Walks[i].Frames[j]
			if fr.Stream != 0 && fr.Type != TypePriority {
				ids = append(ids, fr.Stream)
			}
			if fr.Promised != 0 {
				ids = append(ids, fr.Promised)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Unbounded is the horizon of a direction whose frames were all walked.
const Unbounded = math.MaxInt

// Multiplexed reports whether two streams were open at the same time: a
// stream's first frame (other than PRIORITY) arrived while another stream
// was open, i.e. not yet ended by both sides (END_STREAM) nor reset
// (RST_STREAM). A stream reserved by PUSH_PROMISE opens with its first
// frame, already ended on the client's side. In an upgraded connection
// stream 1 carries the HTTP/1.1 request and is open, half-closed by the
// client, from the start.
//
// The frames of the two directions are merged by pos: pos[i][j] is the
// arrival position (e.g. the capture index of the packet that completed
// the frame header) of c.Walks[i].Frames[j], non-decreasing within a
// direction. horizon[i] is the first position at which direction i may
// carry frames that were not walked (Unbounded if none); no frame at or
// after the earlier horizon is looked at, because the state of the other
// direction is not known there.
func (c *Conn) Multiplexed(pos [2][]int, horizon [2]int) bool {
	type state struct{ ended [2]bool }
	open := map[uint32]*state{}
	closed := map[uint32]bool{}
	reserved := map[uint32]bool{} // promised by PUSH_PROMISE: the client never sends on them
	if c.Mode == Upgrade {
		st := &state{}
		st.ended[Client] = true
		open[1] = st
	}
	limit := min(horizon[0], horizon[1])
	var j [2]int
	for {
		// The next frame in arrival order; the client's first on a tie.
		d, p := -1, limit
		for _, i := range []int{c.Client, c.Server()} {
			if j[i] < len(c.Walks[i].Frames) && j[i] < len(pos[i]) && pos[i][j[i]] < p {
				d, p = i, pos[i][j[i]]
			}
		}
		if d < 0 {
			return false
		}
		fr := &c.Walks[d].Frames[j[d]]
		j[d]++
		if fr.Stream == 0 || fr.Type == TypePriority || closed[fr.Stream] {
			continue
		}
		st := open[fr.Stream]
		if st == nil {
			if len(open) > 0 {
				return true
			}
			st = &state{}
			st.ended[Client] = reserved[fr.Stream]
			open[fr.Stream] = st
		}
		if fr.Promised != 0 {
			reserved[fr.Promised] = true
		}
		r := c.Role(d)
		switch {
		case fr.Type == TypeRSTStream:
			delete(open, fr.Stream)
			closed[fr.Stream] = true
		case fr.Flags&FlagEndStream != 0 && (fr.Type == TypeData || fr.Type == TypeHeaders):
			st.ended[r] = true
			if st.ended[Client] && st.ended[Server] {
				delete(open, fr.Stream)
				closed[fr.Stream] = true
			}
		}
	}
}
