// Package http2 recognises HTTP/2 (RFC 9113) by parsing: the cleartext
// connection preface, the HTTP/1.1 upgrade to h2c, and the frames that
// follow, validated one by one; and the ALPN protocols of TLS hellos, which
// tell HTTP/2 over TLS and HTTP/3 over QUIC apart from other traffic.
//
// Every function takes the bytes of one direction of a connection as they
// were captured (possibly cut short) and never reads past them; lengths in
// the data are checked against the data and against the protocol's limits,
// never trusted.
package http2

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Preface is the client connection preface (RFC 9113 section 3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HeaderLen is the length of a frame header.
const HeaderLen = 9

// Frame size limits (RFC 9113 sections 4.2 and 6.5.2).
const (
	DefaultMaxFrameSize = 1 << 14   // SETTINGS_MAX_FRAME_SIZE until the receiver raises it
	MaxFrameSizeLimit   = 1<<24 - 1 // the largest value SETTINGS_MAX_FRAME_SIZE may take
)

// FrameType is a frame's type octet.
type FrameType uint8

// Frame types: RFC 9113 section 6, and the extension types of the IANA
// "HTTP/2 Frame Type" registry that are in use.
const (
	TypeData           FrameType = 0x0
	TypeHeaders        FrameType = 0x1
	TypePriority       FrameType = 0x2
	TypeRSTStream      FrameType = 0x3
	TypeSettings       FrameType = 0x4
	TypePushPromise    FrameType = 0x5
	TypePing           FrameType = 0x6
	TypeGoAway         FrameType = 0x7
	TypeWindowUpdate   FrameType = 0x8
	TypeContinuation   FrameType = 0x9
	TypeAltSvc         FrameType = 0xa  // RFC 7838
	TypeOrigin         FrameType = 0xc  // RFC 8336
	TypePriorityUpdate FrameType = 0x10 // RFC 9218
)

var typeNames = map[FrameType]string{
	TypeData: "DATA", TypeHeaders: "HEADERS", TypePriority: "PRIORITY", TypeRSTStream: "RST_STREAM",
	TypeSettings: "SETTINGS", TypePushPromise: "PUSH_PROMISE", TypePing: "PING", TypeGoAway: "GOAWAY",
	TypeWindowUpdate: "WINDOW_UPDATE", TypeContinuation: "CONTINUATION", TypeAltSvc: "ALTSVC",
	TypeOrigin: "ORIGIN", TypePriorityUpdate: "PRIORITY_UPDATE",
}

func (t FrameType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("0x%02x", uint8(t))
}

// Known reports whether t is a registered frame type this package validates.
func (t FrameType) Known() bool {
	_, ok := typeNames[t]
	return ok
}

// Frame flags.
const (
	FlagEndStream  = 0x01 // DATA, HEADERS
	FlagAck        = 0x01 // SETTINGS, PING
	FlagEndHeaders = 0x04 // HEADERS, PUSH_PROMISE, CONTINUATION
	FlagPadded     = 0x08 // DATA, HEADERS, PUSH_PROMISE
	FlagPriority   = 0x20 // HEADERS
)

// SETTINGS parameters whose values the walker checks.
const (
	SettingEnablePush          = 0x2
	SettingInitialWindowSize   = 0x4
	SettingMaxFrameSize        = 0x5
	SettingEnableConnectProto  = 0x8 // RFC 8441
	SettingNoRFC7540Priorities = 0x9 // RFC 9218
)

// Fixed and minimum payload lengths (RFC 9113 section 6).
const (
	maxWindowSize   = 1<<31 - 1
	settingEntryLen = 6
	goAwayMinLen    = 8
	priorityLen     = 5
	rstLen          = 4
	pingLen         = 8
	windowUpdateLen = 4
)

// Role says which end of the connection sent the frames.
type Role uint8

const (
	Client Role = iota
	Server
)

func (r Role) String() string {
	if r == Server {
		return "server"
	}
	return "client"
}

// Frame is one frame header walked in a stream.
type Frame struct {
	Offset   int // offset of the frame header in the walked data
	Length   uint32
	Type     FrameType
	Flags    uint8
	Stream   uint32 // stream identifier (the reserved bit cleared)
	Promised uint32 // PUSH_PROMISE: the promised stream, 0 when its payload was cut off
	Cut      bool   // the payload runs past the end of the data
}

// End returns the offset just after the frame's payload.
func (f *Frame) End() int { return f.Offset + HeaderLen + int(f.Length) }

// Errors a walk stops with.
var (
	// ErrTruncated: the data ends inside a frame (a frame header, or the
	// payload of the last frame, which is still counted).
	ErrTruncated = errors.New("http2: data ends inside a frame")

	// Sentinels of FrameError.
	ErrUnknownType  = errors.New("unknown frame type")
	ErrFrameSize    = errors.New("frame length not allowed")
	ErrStreamID     = errors.New("stream identifier not allowed for this frame type")
	ErrPadding      = errors.New("padding longer than the payload")
	ErrSetting      = errors.New("SETTINGS value out of range")
	ErrContinuation = errors.New("CONTINUATION out of sequence")
	ErrFirstFrame   = errors.New("first frame is not SETTINGS")
	ErrPushRole     = errors.New("PUSH_PROMISE not sent by a server")
)

// FrameError reports the first frame that does not validate.
type FrameError struct {
	Offset int // offset of the frame header
	Type   FrameType
	Err    error // one of the sentinels above
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("http2: %s frame at offset %d: %v", e.Type, e.Offset, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// Walk is the result of walking one direction's frames.
type Walk struct {
	Frames []Frame
	// Next is the offset where the first frame not in Frames would start:
	// the end of the data after a clean walk, the offset of an invalid or
	// incomplete frame header, or the end of a cut last frame (which can lie
	// past the data).
	Next int
	// Err is nil when the data ended exactly at a frame boundary,
	// ErrTruncated when it ended inside a frame, else a *FrameError.
	Err error
	// MaxFrameSize is the largest SETTINGS_MAX_FRAME_SIZE this side
	// announced in the walked frames (0 if none): the size of the frames it
	// accepts from its peer.
	MaxFrameSize uint32
}

// WalkFrames walks the frames of one direction of an HTTP/2 connection:
// b[start:] must begin with that direction's first frame (after the client's
// preface, or after the server's 101 response), which must be a SETTINGS
// frame (RFC 9113 section 3.4). maxFrameSize is the largest frame the peer
// accepts (DefaultMaxFrameSize unless the peer announced more); role is the
// sender.
//
// Each frame is validated before it is counted: a registered type, a length
// within maxFrameSize and the type's own length rules, the stream identifier
// rules of its type, padding that fits, SETTINGS values in range, header
// blocks continued only by CONTINUATION frames of the same stream, and
// PUSH_PROMISE only from a server. The walk stops at the first frame that
// fails (it never resynchronises) and at the end of the data; a last frame
// whose payload is cut off by the end of the data is counted when the part
// present validates.
func WalkFrames(b []byte, start int, maxFrameSize uint32, role Role) Walk {
	var w Walk
	if start < 0 || start > len(b) {
		w.Next = max(start, 0)
		w.Err = ErrTruncated
		return w
	}
	maxFrameSize = min(max(maxFrameSize, DefaultMaxFrameSize), MaxFrameSizeLimit)
	var (
		off        = start
		openBlock  bool   // a header block awaits CONTINUATION
		blockOwner uint32 // its stream
	)
	for {
		if off == len(b) {
			w.Next = off
			return w
		}
		if len(b)-off < HeaderLen {
			w.Next, w.Err = off, ErrTruncated
			return w
		}
		h := b[off : off+HeaderLen]
		fr := Frame{
			Offset: off,
			Length: uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2]),
			Type:   FrameType(h[3]),
			Flags:  h[4],
			Stream: binary.BigEndian.Uint32(h[5:9]) & 0x7fffffff,
		}
		payload := b[off+HeaderLen:]
		if uint32(len(payload)) > fr.Length {
			payload = payload[:fr.Length]
		} else if uint32(len(payload)) < fr.Length {
			fr.Cut = true
		}
		var err error
		switch {
		case len(w.Frames) == 0 && (fr.Type != TypeSettings || fr.Flags&FlagAck != 0):
			err = ErrFirstFrame
		case fr.Length > maxFrameSize:
			err = ErrFrameSize
		case openBlock != (fr.Type == TypeContinuation) || (openBlock && fr.Stream != blockOwner):
			err = ErrContinuation
		default:
			err = checkFrame(&fr, payload, role, &w)
		}
		if err != nil {
			w.Next, w.Err = off, &FrameError{Offset: off, Type: fr.Type, Err: err}
			return w
		}
		switch fr.Type {
		case TypeHeaders, TypePushPromise, TypeContinuation:
			openBlock, blockOwner = fr.Flags&FlagEndHeaders == 0, fr.Stream
		}
		w.Frames = append(w.Frames, fr)
		if fr.Cut {
			w.Next, w.Err = fr.End(), ErrTruncated
			return w
		}
		off = fr.End()
	}
}

// checkFrame applies the rules of fr's type to its header and to the part of
// its payload that is present, fills fr.Promised and records SETTINGS values
// in w.
func checkFrame(fr *Frame, payload []byte, role Role, w *Walk) error {
	onConn := fr.Stream == 0
	switch fr.Type {
	case TypeData:
		if onConn {
			return ErrStreamID
		}
		_, err := padding(fr, payload, 0)
		return err
	case TypeHeaders:
		if onConn {
			return ErrStreamID
		}
		var fixed uint32
		if fr.Flags&FlagPriority != 0 {
			fixed = priorityLen
		}
		_, err := padding(fr, payload, fixed)
		return err
	case TypePriority:
		if onConn {
			return ErrStreamID
		}
		if fr.Length != priorityLen {
			return ErrFrameSize
		}
	case TypeRSTStream:
		if onConn {
			return ErrStreamID
		}
		if fr.Length != rstLen {
			return ErrFrameSize
		}
	case TypeSettings:
		return checkSettings(fr, payload, w)
	case TypePushPromise:
		if onConn {
			return ErrStreamID
		}
		if role != Server {
			return ErrPushRole
		}
		start, err := padding(fr, payload, 4)
		if err != nil {
			return err
		}
		if len(payload) >= start+4 {
			fr.Promised = binary.BigEndian.Uint32(payload[start:]) & 0x7fffffff
			if fr.Promised == 0 || fr.Promised%2 != 0 {
				return ErrStreamID // pushed streams are server-initiated: even, non-zero
			}
		}
	case TypePing:
		if !onConn {
			return ErrStreamID
		}
		if fr.Length != pingLen {
			return ErrFrameSize
		}
	case TypeGoAway:
		if !onConn {
			return ErrStreamID
		}
		if fr.Length < goAwayMinLen {
			return ErrFrameSize
		}
	case TypeWindowUpdate:
		if fr.Length != windowUpdateLen {
			return ErrFrameSize
		}
	case TypeContinuation:
		if onConn {
			return ErrStreamID
		}
	case TypeAltSvc:
		// Origin-Len (2 octets) and the origin fit in the payload.
		if fr.Length < 2 {
			return ErrFrameSize
		}
		if len(payload) >= 2 && uint32(binary.BigEndian.Uint16(payload))+2 > fr.Length {
			return ErrFrameSize
		}
	case TypeOrigin:
		if !onConn {
			return ErrStreamID
		}
	case TypePriorityUpdate:
		if !onConn {
			return ErrStreamID
		}
		if fr.Length < 4 {
			return ErrFrameSize
		}
	default:
		return ErrUnknownType
	}
	return nil
}

// padding checks the Pad Length field of a frame that has the PADDED flag:
// it and the fixed fields after it must leave room for the padding. It
// returns the offset of the fields after the Pad Length.
func padding(fr *Frame, payload []byte, fixed uint32) (int, error) {
	if fr.Flags&FlagPadded == 0 {
		if fr.Length < fixed {
			return 0, ErrFrameSize
		}
		return 0, nil
	}
	if fr.Length < 1+fixed {
		return 0, ErrFrameSize
	}
	if len(payload) >= 1 && 1+fixed+uint32(payload[0]) > fr.Length {
		return 0, ErrPadding
	}
	return 1, nil
}

// checkSettings validates a SETTINGS frame and records its
// SETTINGS_MAX_FRAME_SIZE.
func checkSettings(fr *Frame, payload []byte, w *Walk) error {
	if fr.Stream != 0 {
		return ErrStreamID
	}
	if fr.Flags&FlagAck != 0 {
		if fr.Length != 0 {
			return ErrFrameSize
		}
		return nil
	}
	if fr.Length%settingEntryLen != 0 {
		return ErrFrameSize
	}
	for p := payload; len(p) >= settingEntryLen; p = p[settingEntryLen:] {
		id, v := binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])
		switch id {
		case SettingEnablePush, SettingEnableConnectProto, SettingNoRFC7540Priorities:
			if v > 1 {
				return ErrSetting
			}
		case SettingInitialWindowSize:
			if v > maxWindowSize {
				return ErrSetting
			}
		case SettingMaxFrameSize:
			if v < DefaultMaxFrameSize || v > MaxFrameSizeLimit {
				return ErrSetting
			}
			w.MaxFrameSize = max(w.MaxFrameSize, v)
		}
	}
	return nil
}
