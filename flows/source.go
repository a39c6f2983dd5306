package flows

import (
	"errors"
	"fmt"
)

// Source yields decoded IP packets in capture order. Live capture (a later
// issue) implements the same interface.
type Source interface {
	// Next fills p with the next frame that carries IPv4 or IPv6 and returns
	// nil; frames without IP are counted in Stats and skipped. It returns
	// io.EOF at the clean end of the input and a *FormatError when the input
	// ends in a damaged record (packets before it were delivered).
	Next(p *Packet) error
	// Stats reports what was read so far.
	Stats() SourceStats
	// Name is the file name (or interface name) used in messages.
	Name() string
	Close() error
}

// SourceStats counts what a source has read.
type SourceStats struct {
	Records      uint64 // capture records read
	IPPackets    uint64 // records delivered as packets
	NonIP        uint64 // records without IPv4/IPv6, skipped
	DecodeErrors uint64 // records whose headers were malformed (skipped or decoded as far as they go)
	Unsupported  uint64 // records of an interface whose link type jjsql cannot decode
	Malformed    uint64 // packets delivered with a malformed transport header (also counted in IPPackets)
	Bytes        int64  // bytes read from the (decompressed) input
	Size         int64  // total bytes of the input file when known (compressed size for gzip), else -1
}

// Sentinel errors carried by FormatError.
var (
	ErrNotCapture      = errors.New("not a capture file")
	ErrTruncated       = errors.New("truncated record")
	ErrUnknownLinkType = errors.New("unknown link type")
	ErrBadBlock        = errors.New("malformed block")
	ErrEmpty           = errors.New("empty file")
)

// FormatError reports a capture file that cannot be read (further).
type FormatError struct {
	File   string
	Offset int64 // byte offset of the damaged record or block in the (decompressed) file; -1 if none
	Err    error // one of the sentinels above, possibly wrapped with detail
	Detail string
}

func (e *FormatError) Error() string {
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: %s at offset %d", e.File, msg, e.Offset)
	}
	return fmt.Sprintf("%s: %s", e.File, msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// DecodeError describes one malformed packet. Malformed packets are counted,
// never fatal.
type DecodeError struct {
	File   string
	Packet uint64 // frame number
	Layer  string
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: frame %d: %s: %v", e.File, e.Packet, e.Layer, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
