package quic

import (
	"encoding/binary"
	"hash/fnv"
)

// Google QUIC before Q050 sends its handshake in clear: the client's CHLO
// (a QUIC crypto handshake message) travels in STREAM frames of stream 1,
// protected only by a 12-byte FNV-1a-128 hash. Two header formats occur:
//
//   - Q024 to Q043, the gQUIC public header: flags (0x01 version present,
//     0x08 an 8-byte connection ID, 0x30 packet number length), connection
//     ID, version, packet number; then the hash and, up to Q033, a private
//     flags byte.
//   - Q046, an IETF-like long header: 0xc3-style first byte, version, a CID
//     length byte with two nibbles (0x50: an 8-byte DCID), DCID, a 4-byte
//     packet number, then the hash.

// Google holds the fields of a Google QUIC client packet read in clear.
type Google struct {
	Version uint32
	CIDLen  int
	PNLen   int
	Payload []byte // the frames, after the message authentication hash
	Hashed  bool   // the message authentication hash matched
}

// isGoogleVersion reports whether v is "Q0nn" with 24 <= nn <= 46.
func googleNumber(v uint32) int {
	if v>>8 != 0x513034 && v>>8 != 0x513033 && v>>8 != 0x513032 {
		return 0
	}
	d1, d2 := byte(v>>8), byte(v)
	if d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' {
		return 0
	}
	n := int(d1-'0')*10 + int(d2-'0')
	if n < 24 || n > 46 {
		return 0
	}
	return n
}

// ParseGoogle reads a client packet of Google QUIC Q024 to Q046 (a packet
// that carries a version). ok is false for anything else.
func ParseGoogle(b []byte) (g Google, ok bool) {
	if len(b) < 1+8+4+1+12 {
		return g, false
	}
	var hdr int
	switch {
	case b[0]&0x80 != 0:
		// Q046 long header: type Initial-like bits, 4-byte packet number.
		if b[0]&0xf3 != 0xc3 || len(b) < 30 {
			return g, false
		}
		g.Version = binary.BigEndian.Uint32(b[1:5])
		if googleNumber(g.Version) != 46 || b[5] != 0x50 {
			return g, false
		}
		g.CIDLen, g.PNLen = 8, 4
		hdr = 1 + 4 + 1 + 8 + 4
	default:
		flags := b[0]
		if flags&0x01 == 0 || flags&0x08 == 0 || flags&0xc2 != 0 {
			return g, false
		}
		g.CIDLen = 8
		g.Version = binary.BigEndian.Uint32(b[9:13])
		if n := googleNumber(g.Version); n == 0 || n > 43 {
			return g, false
		}
		g.PNLen = [4]int{1, 2, 4, 6}[flags>>4&3]
		hdr = 1 + 8 + 4 + g.PNLen
	}
	if len(b) < hdr+12 {
		return g, false
	}
	g.Payload = b[hdr+12:]
	g.Hashed = googleHashOK(b[:hdr], b[hdr:hdr+12], g.Payload, googleNumber(g.Version))
	if googleNumber(g.Version) <= 33 {
		if len(g.Payload) == 0 {
			return g, false
		}
		g.Payload = g.Payload[1:] // private flags
	}
	return g, true
}

// googleHashOK checks the 12-byte message authentication hash of a packet
// without encryption: the low 96 bits of FNV-1a-128 over the header, the
// plaintext and, from Q037, the sender's perspective "Client".
func googleHashOK(header, hash, plain []byte, n int) bool {
	h := fnv.New128a()
	h.Write(header)
	h.Write(plain)
	if n >= 37 {
		h.Write([]byte("Client"))
	}
	var sum [16]byte
	h.Sum(sum[:0])
	lo := binary.BigEndian.Uint64(sum[8:])
	hi := binary.BigEndian.Uint32(sum[4:8])
	return binary.LittleEndian.Uint64(hash) == lo && binary.LittleEndian.Uint32(hash[8:]) == hi
}

// googleStream hands the data of the STREAM frames of stream 1 (the crypto
// stream) in a Google QUIC payload to fn.
func googleStream(p []byte, n int, fn func(off uint64, data []byte)) {
	le := n < 39 // little-endian fields before Q039
	num := func(b []byte) uint64 {
		var v uint64
		for i := range b {
			if le {
				v |= uint64(b[i]) << (8 * i)
			} else {
				v = v<<8 | uint64(b[i])
			}
		}
		return v
	}
	for k := 0; len(p) > 0 && k < maxFrames; k++ {
		t := p[0]
		switch {
		case t == 0x00: // PADDING: the rest of the packet
			return
		case t == 0x07: // PING
			p = p[1:]
			continue
		case t&0x80 == 0:
			return // ACK, STOP_WAITING and others: not read
		}
		idLen := int(t&0x03) + 1
		offLen := int(t >> 2 & 0x07)
		if offLen > 0 {
			offLen++
		}
		hasLen := t&0x20 != 0
		need := 1 + idLen + offLen
		if hasLen {
			need += 2
		}
		if len(p) < need {
			return
		}
		id := num(p[1 : 1+idLen])
		off := num(p[1+idLen : 1+idLen+offLen])
		q := p[need:]
		l := uint64(len(q))
		if hasLen {
			l = num(p[need-2 : need])
			if l > uint64(len(q)) {
				return
			}
		}
		if id == 1 {
			fn(off, q[:l])
		}
		p = q[l:]
	}
}

// googleHello is a Google QUIC CHLO read in clear.
type googleHello struct {
	version uint32
	cidLen  int
	pnLen   int
	chlo    []byte
}

// googleScan reads the client's first CHLO from Google QUIC Q024 to Q046
// packets whose message authentication hash matches.
func googleScan(datagrams [][]byte) (googleHello, bool) {
	var (
		s     cryptoStream
		first *Google
		gh    googleHello
	)
	for i, d := range datagrams {
		if i >= maxDatagrams {
			break
		}
		g, ok := ParseGoogle(d)
		if !ok || !g.Hashed || first != nil && g.Version != first.Version {
			continue
		}
		if first == nil {
			first = &g
		}
		// A CHLO that a frame carries whole is taken wherever it sits in the
		// stream (a capture may begin after an earlier, rejected CHLO);
		// otherwise the stream is reassembled from offset 0.
		var whole []byte
		googleStream(g.Payload, googleNumber(g.Version), func(off uint64, data []byte) {
			if n, ok := chloLen(data); ok && whole == nil {
				whole = data[:n]
			}
			s.add(off, data)
		})
		if whole == nil {
			if n, ok := chloLen(s.prefix()); ok {
				whole = s.prefix()[:n]
			}
		}
		if whole != nil {
			gh = googleHello{version: first.Version, cidLen: first.CIDLen, pnLen: first.PNLen,
				chlo: append([]byte(nil), whole...)}
			return gh, true
		}
	}
	return gh, false
}

// maxTags caps the tags of a CHLO.
const maxTags = 512

// chloLen returns the length of the QUIC crypto CHLO message at the start of
// b: tag "CHLO", a little-endian 16-bit tag count, 2 bytes of padding, the
// (tag, end offset) table and the values. ok is false when b does not hold a
// whole, well-formed CHLO.
func chloLen(b []byte) (int, bool) {
	if len(b) < 8 || string(b[:4]) != "CHLO" {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	if n == 0 || n > maxTags || len(b) < 8+8*n {
		return 0, false
	}
	var prev uint32
	for i := 0; i < n; i++ {
		end := binary.LittleEndian.Uint32(b[8+8*i+4:])
		if end < prev {
			return 0, false
		}
		prev = end
	}
	total := 8 + 8*n + int(prev)
	if uint64(prev) > MaxCrypto || total > len(b) {
		return 0, false
	}
	return total, true
}

// CHLOTag returns the value of tag (e.g. "SNI\x00") in a whole CHLO message.
func CHLOTag(chlo []byte, tag string) ([]byte, bool) {
	total, ok := chloLen(chlo)
	if !ok || len(tag) != 4 {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint16(chlo[4:]))
	base := 8 + 8*n
	var prev int
	for i := 0; i < n; i++ {
		e := chlo[8+8*i:]
		end := int(binary.LittleEndian.Uint32(e[4:]))
		if string(e[:4]) == tag {
			if base+end > total {
				return nil, false
			}
			return chlo[base+prev : base+end], true
		}
		prev = end
	}
	return nil, false
}

// ServerName returns the server name the client's hello asks for: the TLS
// server_name extension, or the SNI tag of a Google QUIC CHLO.
func (c *Conn) ServerName() string {
	if c.CHLO {
		v, _ := CHLOTag(c.Hello, "SNI\x00")
		return string(v)
	}
	return ServerName(c.Hello)
}

// ALPN returns the application protocols the client's TLS hello offers (none
// for a Google QUIC CHLO).
func (c *Conn) ALPN() []string {
	if c.CHLO {
		return nil
	}
	return ALPN(c.Hello)
}
