// Package ssh reads the cleartext start of an SSH connection: the
// identification strings (banners) of RFC 4253 section 4.2, the unencrypted
// binary packets of the first key exchange (section 6), SSH_MSG_KEXINIT
// (section 7.1), and the HASSH fingerprints computed from it. It also reads
// the first packet of an SSH-1 connection, whose session-key exchange has no
// KEXINIT.
//
// Every read is bounds-checked and every length field is checked against the
// bytes present before it is used; nothing allocates in proportion to a
// length field.
package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"
)

// Message numbers used here (RFC 4250 section 4.1.2).
const (
	MsgKexInit = 20
	MsgNewKeys = 21
)

// MaxBannerLine is the longest identification line read (RFC 4253 allows
// 255 bytes with CR LF; longer lines are cut here, not rejected).
const MaxBannerLine = 1024

// Limits of the lines a server may send before its identification string.
const (
	maxPreambleLines = 32
	maxPreambleBytes = 8192
)

// Banner is one side's identification string:
// SSH-protoversion-softwareversion SP comments CR LF.
type Banner struct {
	Line     string // the line without its CR LF (invalid UTF-8 replaced)
	Version  string // protoversion, e.g. "2.0", "1.99", "1.5"; "" when not digits.digits
	Software string // softwareversion: the text after "SSH-<version>-" up to the first space or tab
	Comments string // the text after that space, if any
}

// IsSSH1 reports whether the banner announces SSH protocol 1 only (1.x with
// x != 99; "1.99" means 2.0 with 1.x compatibility).
func (b Banner) IsSSH1() bool {
	return strings.HasPrefix(b.Version, "1.") && b.Version != "1.99"
}

// FindBanner looks for the identification string at the start of stream.
// With preamble set it also accepts other lines before it (RFC 4253 lets a
// server send them), within 32 lines and 8 KiB. It returns the banner, the
// offset just after its line (-1 when the line has no end in stream, so no
// packets can follow it) and whether a banner was found.
func FindBanner(stream []byte, preamble bool) (Banner, int, bool) {
	off := 0
	for line := 0; ; line++ {
		rest := stream[off:]
		if bytes.HasPrefix(rest, []byte("SSH-")) {
			b, n := parseBannerLine(rest)
			if n < 0 {
				return b, -1, true
			}
			return b, off + n, true
		}
		if !preamble || line >= maxPreambleLines {
			return Banner{}, -1, false
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 || off+nl+1 > maxPreambleBytes {
			return Banner{}, -1, false
		}
		off += nl + 1
	}
}

// ParseBanner parses one identification line (which must start with
// "SSH-"; a trailing CR LF or LF is allowed).
func ParseBanner(line []byte) (Banner, bool) {
	if !bytes.HasPrefix(line, []byte("SSH-")) {
		return Banner{}, false
	}
	b, _ := parseBannerLine(line)
	return b, true
}

// parseBannerLine reads the line at the start of s and returns the banner
// and the number of bytes the line takes with its LF (-1 when s ends, or
// MaxBannerLine bytes pass, before an LF).
func parseBannerLine(s []byte) (Banner, int) {
	end := -1
	line := s
	if nl := bytes.IndexByte(s[:min(len(s), MaxBannerLine)], '\n'); nl >= 0 {
		end = nl + 1
		line = s[:nl]
	} else if len(line) > MaxBannerLine {
		line = line[:MaxBannerLine]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	var b Banner
	b.Line = text(line)
	rest := line[len("SSH-"):]
	v := versionLen(rest)
	if v == 0 || v >= len(rest) || rest[v] != '-' {
		return b, end
	}
	b.Version = string(rest[:v])
	sw := rest[v+1:]
	if i := bytes.IndexAny(sw, " \t"); i >= 0 {
		b.Software, b.Comments = text(sw[:i]), text(sw[i+1:])
	} else {
		b.Software = text(sw)
	}
	return b, end
}

// versionLen returns the length of a digits.digits prefix of s, or 0.
func versionLen(s []byte) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '.' {
		return 0
	}
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i+1 {
		return 0
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// text returns b as a string with invalid UTF-8 replaced by U+FFFD.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Errors of ReadPacket and ParseKexInit.
var (
	ErrShort    = errors.New("ssh: packet shorter than its length field")
	ErrLength   = errors.New("ssh: implausible packet length")
	ErrPadding  = errors.New("ssh: padding length leaves no payload")
	ErrNotKex   = errors.New("ssh: not a KEXINIT message")
	ErrNameList = errors.New("ssh: name-list runs past the message")
	ErrTrailing = errors.New("ssh: bytes after the KEXINIT fields")
)

// MaxPacketLen is the largest packet_length accepted (OpenSSH's limit, 256 KiB).
const MaxPacketLen = 256 << 10

// Packet is one unencrypted binary packet found in a stream.
type Packet struct {
	Start, End int  // offsets of its first byte and of the byte after its padding
	Type       byte // message number: the first payload byte
	Partial    bool // the stream ends inside the packet
}

// ReadPacket reads the unencrypted binary packet at the start of b (no MAC:
// the packets before the first NEWKEYS have none). It returns the payload
// (cut at the end of b when the packet is partial), the packet's full size
// on the wire and whether b holds all of it. An error means the bytes are
// not a plausible packet header.
func ReadPacket(b []byte) (payload []byte, size int, whole bool, err error) {
	if len(b) < 6 {
		return nil, 0, false, ErrShort
	}
	plen := int(binary.BigEndian.Uint32(b))
	pad := int(b[4])
	switch {
	case plen < 2 || plen > MaxPacketLen:
		return nil, 0, false, ErrLength
	case pad+1 >= plen:
		return nil, 0, false, ErrPadding
	}
	size = 4 + plen
	end := 5 + plen - 1 - pad // end of the payload
	if end > len(b) {
		return b[5:], size, false, nil
	}
	return b[5:end], size, size <= len(b), nil
}

// MaxPackets is the number of packets ReadPackets returns.
const MaxPackets = 64

// ReadPackets reads the unencrypted binary packets of stream from offset
// start up to and including the first SSH_MSG_NEWKEYS, a header that does
// not parse, or the end of stream (the last packet may then be Partial). It
// returns at most MaxPackets packets.
func ReadPackets(stream []byte, start int) []Packet {
	var ps []Packet
	off := start
	for len(ps) < MaxPackets && off >= 0 && off < len(stream) {
		payload, size, whole, err := ReadPacket(stream[off:])
		if err != nil || len(payload) == 0 {
			break
		}
		ps = append(ps, Packet{Start: off, End: off + size, Type: payload[0], Partial: !whole})
		if !whole || payload[0] == MsgNewKeys {
			break
		}
		off += size
	}
	return ps
}

// KexInit is an SSH_MSG_KEXINIT message. Lists holds the ten name-lists in
// message order: kex, server host key, encryption c2s and s2c, MAC c2s and
// s2c, compression c2s and s2c, languages c2s and s2c.
type KexInit struct {
	Cookie          [16]byte
	Lists           [10]string
	N               int  // name-lists read whole (10 for a complete message)
	FirstKexFollows bool // valid when Complete
	Complete        bool // every field was read and nothing follows but the reserved word
}

// Name-list indexes of KexInit.Lists.
const (
	ListKex = iota
	ListHostKey
	ListEncC2S
	ListEncS2C
	ListMACC2S
	ListMACS2C
	ListCompC2S
	ListCompS2C
	ListLangC2S
	ListLangS2C
)

// ParseKexInit reads a KEXINIT payload (starting with message number 20).
// A payload cut short keeps the name-lists read whole before the cut (N
// says how many) and returns ErrNameList; the HASSH methods work as long as
// the lists they need were read.
func ParseKexInit(payload []byte) (KexInit, error) {
	var k KexInit
	if len(payload) < 17 || payload[0] != MsgKexInit {
		return k, ErrNotKex
	}
	copy(k.Cookie[:], payload[1:17])
	off := 17
	for i := range k.Lists {
		if off+4 > len(payload) {
			return k, ErrNameList
		}
		n := binary.BigEndian.Uint32(payload[off:])
		if uint64(n) > uint64(len(payload)-off-4) {
			return k, ErrNameList
		}
		off += 4
		k.Lists[i] = text(payload[off : off+int(n)])
		off += int(n)
		k.N = i + 1
	}
	if off+5 > len(payload) {
		return k, ErrNameList
	}
	k.FirstKexFollows = payload[off] != 0
	if off+5 != len(payload) {
		return k, ErrTrailing
	}
	k.Complete = true
	return k, nil
}

// HASSHAlgorithms returns the client fingerprint's input,
// "kex;enc_c2s;mac_c2s;comp_c2s", and whether those lists were read.
func (k *KexInit) HASSHAlgorithms() (string, bool) {
	if k.N <= ListCompC2S {
		return "", false
	}
	return k.Lists[ListKex] + ";" + k.Lists[ListEncC2S] + ";" + k.Lists[ListMACC2S] + ";" + k.Lists[ListCompC2S], true
}

// HASSHServerAlgorithms returns the server fingerprint's input,
// "kex;enc_s2c;mac_s2c;comp_s2c", and whether those lists were read.
func (k *KexInit) HASSHServerAlgorithms() (string, bool) {
	if k.N <= ListCompS2C {
		return "", false
	}
	return k.Lists[ListKex] + ";" + k.Lists[ListEncS2C] + ";" + k.Lists[ListMACS2C] + ";" + k.Lists[ListCompS2C], true
}

// HASSH returns the client fingerprint (MD5 of HASSHAlgorithms in lowercase
// hex), or "" when the lists were not read.
func (k *KexInit) HASSH() string {
	s, ok := k.HASSHAlgorithms()
	if !ok {
		return ""
	}
	return md5Hex(s)
}

// HASSHServer returns the server fingerprint (MD5 of HASSHServerAlgorithms),
// or "" when the lists were not read.
func (k *KexInit) HASSHServer() string {
	s, ok := k.HASSHServerAlgorithms()
	if !ok {
		return ""
	}
	return md5Hex(s)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// FindKexInit finds a KEXINIT in b, which may be the start of a stream
// (banner lines, then binary packets), one binary packet, or a bare KEXINIT
// payload. It returns the message whose name-lists were read furthest, and
// false when none was found.
func FindKexInit(b []byte) (KexInit, bool) {
	if len(b) > 0 && b[0] == MsgKexInit {
		k, _ := ParseKexInit(b)
		if k.N > 0 {
			return k, true
		}
	}
	start := 0
	if _, end, ok := FindBanner(b, true); ok {
		if end < 0 {
			return KexInit{}, false
		}
		start = end
	}
	for _, p := range ReadPackets(b, start) {
		if p.Type != MsgKexInit {
			continue
		}
		payload, _, _, err := ReadPacket(b[p.Start:])
		if err != nil {
			break
		}
		k, _ := ParseKexInit(payload)
		return k, k.N > 0
	}
	return KexInit{}, false
}

// SSH-1 message numbers of the session-key exchange.
const (
	MsgV1PublicKey  = 2 // SSH_SMSG_PUBLIC_KEY, sent by the server
	MsgV1SessionKey = 3 // SSH_CMSG_SESSION_KEY, sent by the client
)

// maxPacketLenV1 is SSH-1's largest packet length field (256 KiB).
const maxPacketLenV1 = 256 << 10

// ReadPacketV1 reads the header of the cleartext SSH-1 packet at the start
// of b: a 32-bit length (of type, data and CRC), 1 to 8 bytes of padding,
// the message type. It returns the type, the packet's size on the wire and
// whether b holds all of it.
func ReadPacketV1(b []byte) (typ byte, size int, whole bool, err error) {
	if len(b) < 4 {
		return 0, 0, false, ErrShort
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 5 || n > maxPacketLenV1 {
		return 0, 0, false, ErrLength
	}
	pad := 8 - n%8
	if len(b) < 4+pad+1 {
		return 0, 0, false, ErrShort
	}
	size = 4 + pad + n
	return b[4+pad], size, size <= len(b), nil
}
