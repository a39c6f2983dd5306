// Package quic parses QUIC long headers (RFC 9000, RFC 9369 and the IETF
// drafts 22 to 34, plus Google's IETF-style Q050/T050/T051) and removes the
// protection of Initial packets (RFC 9001 section 5) to read the client's TLS
// ClientHello from the CRYPTO frames. Google QUIC versions up to Q046 carry
// their handshake in clear and are read by ParseGoogle.
//
// Every parser here works on bytes it does not own: it never writes to its
// input, caps every length it reads, and reports malformed input as an error
// (or false), never a panic.
package quic

import (
	"encoding/binary"
	"errors"
)

// Sentinel errors of the header parsers.
var (
	ErrTruncated = errors.New("quic: truncated packet")
	ErrNotLong   = errors.New("quic: not a long-header packet")
	ErrCIDLength = errors.New("quic: connection ID too long")
	ErrLength    = errors.New("quic: length field beyond the datagram")
	ErrVersions  = errors.New("quic: malformed version list")
)

// Version numbers with a name.
const (
	V1     uint32 = 0x00000001
	V2     uint32 = 0x6b3343cf
	Draft  uint32 = 0xff000000 // draft-n is Draft | n
	MVFST1 uint32 = 0xfaceb001 // Facebook mvfst, draft-22 based
	MVFST2 uint32 = 0xfaceb002 // Facebook mvfst, draft-27 based
	MVFSTE uint32 = 0xfaceb00e // Facebook mvfst experimental (draft-27 salt)
	Q050   uint32 = 0x51303530 // Google QUIC 50 (QUIC crypto in IETF framing)
	T050   uint32 = 0x54303530 // Google QUIC 50 with TLS
	T051   uint32 = 0x54303531 // Google QUIC 51 with TLS
)

// MaxCIDLen is the longest connection ID QUIC v1 and v2 allow (RFC 9000
// section 17.2). Versions this package does not know may use up to 255 bytes
// (RFC 8999).
const MaxCIDLen = 20

// Type is the type of a long-header packet, independent of the version's
// encoding of it.
type Type uint8

// Long-header packet types.
const (
	TypeUnknown Type = iota // a version this package does not know
	TypeInitial
	Type0RTT
	TypeHandshake
	TypeRetry
	TypeVersionNegotiation
)

func (t Type) String() string {
	switch t {
	case TypeInitial:
		return "Initial"
	case Type0RTT:
		return "0-RTT"
	case TypeHandshake:
		return "Handshake"
	case TypeRetry:
		return "Retry"
	case TypeVersionNegotiation:
		return "VersionNegotiation"
	}
	return "Unknown"
}

// LongHeader is one long-header packet as it is on the wire: the first byte
// and the packet number are still protected. Its slices point into the
// datagram given to Parse.
type LongHeader struct {
	First    byte   // first byte, header protection not removed
	Version  uint32 // 0 for Version Negotiation
	Type     Type
	DCID     []byte
	SCID     []byte
	Token    []byte // Initial: the address validation token; Retry: the retry token
	ODCID    []byte // Retry of drafts before 25: the Original Destination Connection ID field
	Tag      []byte // Retry with an integrity tag (draft-25 and later): the 16-byte tag
	Versions []byte // Version Negotiation: the supported versions, 4 bytes each
	PNOffset int    // Initial, 0-RTT, Handshake: offset of the packet number in Raw
	Raw      []byte // the packet's bytes (a Retry, Version Negotiation or unknown-version packet takes the rest of the datagram)
}

// Known reports whether the packet's format is one this package knows: a
// Version Negotiation packet, or a packet of a known version (so that Type,
// PNOffset and Raw follow the version's packet format).
func (h *LongHeader) Known() bool { return h.Type != TypeUnknown }

// SupportsVersion reports whether a Version Negotiation packet lists v.
func (h *LongHeader) SupportsVersion(v uint32) bool {
	for i := 0; i+4 <= len(h.Versions); i += 4 {
		if binary.BigEndian.Uint32(h.Versions[i:]) == v {
			return true
		}
	}
	return false
}

// version is what this package knows about one QUIC version.
type version struct {
	salt       []byte // initial salt (RFC 9001 section 5.2)
	label      string // HKDF label prefix of the packet keys: "quic " or "quicv2 "
	v2Types    bool   // packet types encoded as in RFC 9369 section 3.2
	retryKey   []byte // Retry integrity key (nil: the Retry carries the ODCID instead)
	retryNonce []byte
	cryptoType byte // frame type of CRYPTO frames (0x06; Google's 0x08)
	google     bool // Q050/T05x framing: PADDING and CRYPTO only
	chlo       bool // the crypto stream carries a QUIC crypto CHLO, not TLS
}

// Initial salts and Retry integrity keys. Sources: RFC 9001 sections 5.2 and
// 5.8, RFC 9369 section 3.3, draft-ietf-quic-tls-22/23/25/29, and Google's
// Q050/T050/T051 constants as used by the Chromium implementation.
var (
	saltV1   = hexBytes("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
	saltV2   = hexBytes("0dede3def700a6db819381be6e269dcbf9bd2ed9")
	saltD22  = hexBytes("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a")
	saltD23  = hexBytes("c3eef712c72ebb5a11a7d2432bb46365bef9f502")
	saltD29  = hexBytes("afbfec289993d24c9e9786f19c6111e04390a899")
	saltQ050 = hexBytes("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45")
	saltT050 = hexBytes("7ff579e5acd072915580304c43a2367c60488310")
	saltT051 = hexBytes("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d")

	retryKeyV1    = hexBytes("be0c690b9f66575a1d766b54e368c84e")
	retryNonceV1  = hexBytes("461599d35d632bf2239825bb")
	retryKeyV2    = hexBytes("8fb4b01b56ac48e260fbcbcead7ccc92")
	retryNonceV2  = hexBytes("d86969bc2d7c6d9990efb04a")
	retryKeyD29   = hexBytes("ccce187ed09a09d05728155a6cb96be1")
	retryNonceD29 = hexBytes("e54930f97f2136f0530a8c1c")
	retryKeyD25   = hexBytes("4d32ecdb2a2133c841e4043df27d4430")
	retryNonceD25 = hexBytes("4d1611d05513a552c587d575")
)

var (
	verV1   = &version{salt: saltV1, label: "quic ", retryKey: retryKeyV1, retryNonce: retryNonceV1, cryptoType: 0x06}
	verV2   = &version{salt: saltV2, label: "quicv2 ", v2Types: true, retryKey: retryKeyV2, retryNonce: retryNonceV2, cryptoType: 0x06}
	verD29  = &version{salt: saltD29, label: "quic ", retryKey: retryKeyD29, retryNonce: retryNonceD29, cryptoType: 0x06}
	verD25  = &version{salt: saltD23, label: "quic ", retryKey: retryKeyD25, retryNonce: retryNonceD25, cryptoType: 0x06}
	verD23  = &version{salt: saltD23, label: "quic ", cryptoType: 0x06}
	verD22  = &version{salt: saltD22, label: "quic ", cryptoType: 0x06}
	verQ050 = &version{salt: saltQ050, label: "quic ", cryptoType: 0x08, google: true, chlo: true}
	verT050 = &version{salt: saltT050, label: "quic ", cryptoType: 0x08, google: true}
	verT051 = &version{salt: saltT051, label: "quic ", cryptoType: 0x08, google: true}
)

// lookup returns what the package knows about version v, or nil.
func lookup(v uint32) *version {
	switch v {
	case V1:
		return verV1
	case V2:
		return verV2
	case MVFST1:
		return verD22
	case MVFST2, MVFSTE:
		return verD23
	case Q050:
		return verQ050
	case T050:
		return verT050
	case T051:
		return verT051
	}
	if v&0xffffff00 == Draft {
		switch n := v & 0xff; {
		case n == 22:
			return verD22
		case n == 23 || n == 24:
			return verD23
		case n >= 25 && n <= 28:
			return verD25
		case n >= 29 && n <= 32:
			return verD29
		case n == 33 || n == 34:
			return verV1
		}
	}
	return nil
}

// KnownVersion reports whether Parse understands packets of version v beyond
// the version-independent fields, and can remove the protection of its
// Initial packets.
func KnownVersion(v uint32) bool { return lookup(v) != nil }

// typeOf maps the two type bits of the first byte to a packet type.
func (v *version) typeOf(first byte) Type {
	bits := first >> 4 & 3
	if v.v2Types {
		return [4]Type{TypeRetry, TypeInitial, Type0RTT, TypeHandshake}[bits]
	}
	return [4]Type{TypeInitial, Type0RTT, TypeHandshake, TypeRetry}[bits]
}

// PeekType returns the packet type a datagram's first bytes announce: the
// version-specific long-header type of a known version, TypeVersionNegotiation
// for version 0, and TypeUnknown otherwise (short headers, unknown versions,
// fewer than 6 bytes, connection IDs longer than QUIC allows). It needs only
// the first 6 bytes, so it works on packet heads.
func PeekType(b []byte) (Type, uint32) {
	if len(b) < 6 || b[0]&0x80 == 0 {
		return TypeUnknown, 0
	}
	ver := binary.BigEndian.Uint32(b[1:5])
	if ver == 0 {
		return TypeVersionNegotiation, 0
	}
	v := lookup(ver)
	if v == nil || b[5] > MaxCIDLen {
		return TypeUnknown, ver
	}
	return v.typeOf(b[0]), ver
}

// SpinBit reads a short-header packet's latency spin bit (RFC 9000 section
// 17.4): ok is false unless b holds a short header (header form 0, fixed bit
// 1) with at least one byte after the first.
func SpinBit(b []byte) (spin, ok bool) {
	if len(b) < 2 || b[0]&0xc0 != 0x40 {
		return false, false
	}
	return b[0]&0x20 != 0, true
}

// varint reads a QUIC variable-length integer (RFC 9000 section 16). n is 0
// when b is too short.
func varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

// Reserved reports whether v is one of the versions of the form 0x?a?a?a?a
// that RFC 9000 section 15 reserves for exercising version negotiation.
func Reserved(v uint32) bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// Parse parses the long-header packet at the start of datagram. For a
// version it does not know it returns the version-independent fields (RFC
// 8999: version and connection IDs), Type TypeUnknown and the whole datagram
// as Raw.
func Parse(datagram []byte) (LongHeader, error) {
	if len(datagram) < 5 {
		return parseAs(datagram, nil)
	}
	return parseAs(datagram, lookup(binary.BigEndian.Uint32(datagram[1:5])))
}

// parseAs parses a long header with the packet formats of version v (nil:
// only the version-independent fields).
func parseAs(datagram []byte, v *version) (LongHeader, error) {
	var h LongHeader
	d := datagram
	if len(d) == 0 {
		return h, ErrTruncated
	}
	if d[0]&0x80 == 0 {
		return h, ErrNotLong
	}
	if len(d) < 7 {
		return h, ErrTruncated
	}
	h.First = d[0]
	h.Version = binary.BigEndian.Uint32(d[1:5])
	if h.Version == 0 {
		v = nil
	}
	off := 5
	for _, cid := range [2]*[]byte{&h.DCID, &h.SCID} {
		if off >= len(d) {
			return h, ErrTruncated
		}
		n := int(d[off])
		if n > MaxCIDLen && v != nil {
			return h, ErrCIDLength
		}
		off++
		if off+n > len(d) {
			return h, ErrTruncated
		}
		*cid = d[off : off+n]
		off += n
	}
	h.Raw = d
	if h.Version == 0 {
		h.Type = TypeVersionNegotiation
		rest := d[off:]
		if len(rest) == 0 || len(rest)%4 != 0 {
			return h, ErrVersions
		}
		h.Versions = rest
		return h, nil
	}
	if v == nil {
		h.Type = TypeUnknown
		return h, nil
	}
	h.Type = v.typeOf(h.First)
	switch h.Type {
	case TypeRetry:
		if v.retryKey == nil {
			// Drafts before 25: the ODCID precedes the token.
			if off >= len(d) {
				return h, ErrTruncated
			}
			n := int(d[off])
			off++
			if n > MaxCIDLen {
				return h, ErrCIDLength
			}
			if off+n > len(d) {
				return h, ErrTruncated
			}
			h.ODCID = d[off : off+n]
			h.Token = d[off+n:]
			return h, nil
		}
		if len(d)-off < 16 {
			return h, ErrTruncated
		}
		h.Token = d[off : len(d)-16]
		h.Tag = d[len(d)-16:]
		return h, nil
	case TypeInitial:
		tl, n := varint(d[off:])
		if n == 0 {
			return h, ErrTruncated
		}
		off += n
		if tl > uint64(len(d)-off) {
			return h, ErrLength
		}
		h.Token = d[off : off+int(tl)]
		off += int(tl)
	}
	length, n := varint(d[off:])
	if n == 0 {
		return h, ErrTruncated
	}
	off += n
	if length > uint64(len(d)-off) {
		return h, ErrLength
	}
	h.PNOffset = off
	h.Raw = d[:off+int(length)]
	return h, nil
}

// maxCoalesced bounds the packets Coalesced returns from one datagram.
const maxCoalesced = 16

// Coalesced splits a datagram into its long-header packets (RFC 9000 section
// 12.2), appending them to dst. It stops at the first packet that does not
// parse, at a short-header packet (which runs to the end of the datagram),
// after a packet without a length field (Retry, Version Negotiation, unknown
// version), and after 16 packets.
func Coalesced(dst []LongHeader, datagram []byte) []LongHeader {
	off := 0
	for k := 0; k < maxCoalesced && off < len(datagram); k++ {
		h, err := Parse(datagram[off:])
		if err != nil {
			break
		}
		dst = append(dst, h)
		if h.Type == TypeRetry || h.Type == TypeVersionNegotiation || h.Type == TypeUnknown {
			break
		}
		off += len(h.Raw)
	}
	return dst
}

// hexBytes decodes a constant hex string (spaces ignored); it panics on a
// malformed constant, at package initialisation.
func hexBytes(s string) []byte {
	var out []byte
	var hi byte
	half := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		var x byte
		switch {
		case c >= '0' && c <= '9':
			x = c - '0'
		case c >= 'a' && c <= 'f':
			x = c - 'a' + 10
		case c == ' ':
			continue
		default:
			panic("quic: bad hex constant")
		}
		if half {
			out = append(out, hi<<4|x)
		} else {
			hi = x
		}
		half = !half
	}
	if half {
		panic("quic: odd hex constant")
	}
	return out
}
