// Package dns reads the parts of DNS messages (RFC 1035) that jjsql's
// features use: the header, the first question and the TTLs of the answer
// records. It also reproduces JoyfulJay's lenient question decoding, which
// the query columns copy.
//
// Every read is bounds-checked; name decompression follows at most
// MaxPointers pointers, so a compression loop ends. Nothing here allocates
// in proportion to a length field.
package dns

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// HeaderLen is the size of the fixed DNS header.
const HeaderLen = 12

// Header flag bits.
const (
	FlagQR = 0x8000 // response
	FlagAA = 0x0400 // authoritative answer
	FlagTC = 0x0200 // truncated
	FlagRD = 0x0100 // recursion desired
	FlagRA = 0x0080 // recursion available
)

// Header is the fixed 12-byte DNS header.
type Header struct {
	ID      uint16
	Flags   uint16
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16
}

// Response reports the QR bit.
func (h Header) Response() bool { return h.Flags&FlagQR != 0 }

// Truncated reports the TC bit.
func (h Header) Truncated() bool { return h.Flags&FlagTC != 0 }

// RecursionDesired reports the RD bit.
func (h Header) RecursionDesired() bool { return h.Flags&FlagRD != 0 }

// RecursionAvailable reports the RA bit.
func (h Header) RecursionAvailable() bool { return h.Flags&FlagRA != 0 }

// Opcode returns the 4-bit OPCODE.
func (h Header) Opcode() uint8 { return uint8(h.Flags>>11) & 0xF }

// RCode returns the 4-bit RCODE of the header (EDNS extended bits not
// included).
func (h Header) RCode() uint8 { return uint8(h.Flags & 0xF) }

// ParseHeader reads the header at the start of msg.
func ParseHeader(msg []byte) (Header, bool) {
	if len(msg) < HeaderLen {
		return Header{}, false
	}
	be := binary.BigEndian
	return Header{
		ID:      be.Uint16(msg[0:]),
		Flags:   be.Uint16(msg[2:]),
		QDCount: be.Uint16(msg[4:]),
		ANCount: be.Uint16(msg[6:]),
		NSCount: be.Uint16(msg[8:]),
		ARCount: be.Uint16(msg[10:]),
	}, true
}

// Errors of Parse and SkipName.
var (
	ErrShort     = errors.New("dns: message shorter than its contents")
	ErrLabelType = errors.New("dns: reserved label type")
	ErrPointers  = errors.New("dns: too many compression pointers")
	ErrNameLen   = errors.New("dns: name longer than 255 octets")
)

// MaxPointers is the number of compression pointers ReadName follows in one
// name. A name of at most 255 octets has at most 127 labels, so a longer
// chain is a loop.
const MaxPointers = 127

// maxNameLen is the longest name in wire form (RFC 1035 section 3.1).
const maxNameLen = 255

// SkipName returns the offset just after the (possibly compressed) name that
// starts at off, without following pointers.
func SkipName(msg []byte, off int) (int, error) {
	for n := 0; ; n++ {
		if off >= len(msg) {
			return off, ErrShort
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			if n >= maxNameLen/2 {
				return off, ErrNameLen
			}
			off += 1 + c
		case 0xC0:
			if off+2 > len(msg) {
				return off, ErrShort
			}
			return off + 2, nil
		default:
			return off, ErrLabelType
		}
	}
}

// ReadName decodes the (possibly compressed) name at off and returns it in
// dotted form with the offset just after it in the message. The root name
// is ".". Bytes outside printable ASCII, '.' and '\' inside a label are
// escaped as in zone files (\DDD and \. and \\). Pointers may point anywhere
// in msg; at most MaxPointers are followed.
func ReadName(msg []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1 // offset after the name where it appears (set at the first pointer)
	ptrs, wire := 0, 0
	for {
		if off >= len(msg) {
			return "", 0, ErrShort
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				if sb.Len() == 0 {
					return ".", end, nil
				}
				return sb.String(), end, nil
			}
			if off+1+c > len(msg) {
				return "", 0, ErrShort
			}
			if wire += 1 + c; wire+1 > maxNameLen {
				return "", 0, ErrNameLen
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			writeLabel(&sb, msg[off+1:off+1+c])
			off += 1 + c
		case 0xC0:
			if off+2 > len(msg) {
				return "", 0, ErrShort
			}
			if ptrs++; ptrs > MaxPointers {
				return "", 0, ErrPointers
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
		default:
			return "", 0, ErrLabelType
		}
	}
}

func writeLabel(sb *strings.Builder, l []byte) {
	for _, b := range l {
		switch {
		case b == '.' || b == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(b)
		case b < 0x21 || b > 0x7E:
			sb.WriteByte('\\')
			sb.WriteByte('0' + b/100)
			sb.WriteByte('0' + b/10%10)
			sb.WriteByte('0' + b%10)
		default:
			sb.WriteByte(b)
		}
	}
}

// Message holds what Parse reads of one DNS message.
type Message struct {
	Header
	// First question (HasQuestion when QDCOUNT > 0 and it was read whole).
	HasQuestion bool
	QName       string // dotted, as ReadName returns it
	QType       uint16
	QClass      uint16
	// Answer section: the records whose fixed fields (type, class, TTL,
	// RDLENGTH) were read, and the smallest and largest of their TTLs.
	Answers        int
	MinTTL, MaxTTL uint32
}

// Parse reads msg's header, first question and answer records. The header
// is always returned when msg has 12 bytes; a damaged question or answer
// section ends the parse with an error, keeping what was read before it.
func Parse(msg []byte) (Message, error) {
	var m Message
	h, ok := ParseHeader(msg)
	if !ok {
		return m, ErrShort
	}
	m.Header = h
	off := HeaderLen
	for i := 0; i < int(h.QDCount); i++ {
		var (
			name string
			err  error
		)
		if i == 0 {
			name, off, err = ReadName(msg, off)
		} else {
			off, err = SkipName(msg, off)
		}
		if err != nil {
			return m, err
		}
		if off+4 > len(msg) {
			return m, ErrShort
		}
		if i == 0 {
			m.HasQuestion = true
			m.QName = name
			m.QType = binary.BigEndian.Uint16(msg[off:])
			m.QClass = binary.BigEndian.Uint16(msg[off+2:])
		}
		off += 4
	}
	for i := 0; i < int(h.ANCount); i++ {
		var err error
		if off, err = SkipName(msg, off); err != nil {
			return m, err
		}
		if off+10 > len(msg) {
			return m, ErrShort
		}
		ttl := binary.BigEndian.Uint32(msg[off+4:])
		rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
		if m.Answers == 0 || ttl < m.MinTTL {
			m.MinTTL = ttl
		}
		if m.Answers == 0 || ttl > m.MaxTTL {
			m.MaxTTL = ttl
		}
		m.Answers++
		off += 10 + rdlen
		if off > len(msg) {
			return m, ErrShort
		}
	}
	return m, nil
}

// TypeName returns JoyfulJay's name for a QTYPE: A, NS, CNAME, SOA, PTR, MX,
// TXT, AAAA, SRV, HTTPS, ANY, else "TYPE<n>".
func TypeName(t uint16) string {
	switch t {
	case 1:
		return "A"
	case 2:
		return "NS"
	case 5:
		return "CNAME"
	case 6:
		return "SOA"
	case 12:
		return "PTR"
	case 15:
		return "MX"
	case 16:
		return "TXT"
	case 28:
		return "AAAA"
	case 33:
		return "SRV"
	case 65:
		return "HTTPS"
	case 255:
		return "ANY"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// RCodeName returns JoyfulJay's name for an RCODE: NOERROR, FORMERR,
// SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, else "RCODE<n>".
func RCodeName(rc uint8) string {
	switch rc {
	case 0:
		return "NOERROR"
	case 1:
		return "FORMERR"
	case 2:
		return "SERVFAIL"
	case 3:
		return "NXDOMAIN"
	case 4:
		return "NOTIMP"
	case 5:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(rc))
}

// LegacyQuestion decodes the first question of msg the way JoyfulJay does
// (the query columns copy it). It returns ok=false when QDCOUNT is 0, the
// decoded name is empty or fewer than 4 bytes follow the name.
//
// JoyfulJay's name rules: at most 50 steps, each reading one length byte; 0
// ends the name; a byte with both top bits set is a 14-bit pointer (the
// name's end is then 2 bytes after the first pointer); any other byte is a
// label length (so the reserved 01 and 10 label types are read as lengths
// 64 to 191). A label running past the message ends the name. A label is
// kept as text when all its bytes are ASCII, else as lowercase hex. Labels
// are joined with '.', without escaping. When the 50 steps run out, or the
// message ends, the name is what was read so far and ends where reading
// stopped.
func LegacyQuestion(msg []byte) (name string, qtype uint16, ok bool) {
	if len(msg) < HeaderLen || binary.BigEndian.Uint16(msg[4:]) == 0 {
		return "", 0, false
	}
	name, off := legacyName(msg, HeaderLen)
	if name == "" || off+4 > len(msg) {
		return "", 0, false
	}
	return name, binary.BigEndian.Uint16(msg[off:]), true
}

// legacySteps is JoyfulJay's iteration cap of its name reader.
const legacySteps = 50

func legacyName(msg []byte, off int) (string, int) {
	var labels []string
	ret := -1
	for range legacySteps {
		if off >= len(msg) {
			break
		}
		c := int(msg[off])
		if c == 0 {
			if ret < 0 {
				off++
			}
			break
		}
		if c&0xC0 == 0xC0 {
			if off+1 >= len(msg) {
				break
			}
			if ret < 0 {
				ret = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
			continue
		}
		off++
		if off+c > len(msg) {
			break
		}
		labels = append(labels, legacyLabel(msg[off:off+c]))
		off += c
	}
	if ret >= 0 {
		off = ret
	}
	return strings.Join(labels, "."), off
}

func legacyLabel(l []byte) string {
	for _, b := range l {
		if b >= 0x80 {
			return hex.EncodeToString(l)
		}
	}
	return string(l)
}
