package tls

import "slices"

// DTLSRecordHeader checks the 13-byte DTLS record header at the start of b
// (RFC 6347 §4.1): content type 20 to 23, version 0xfeff (DTLS 1.0), 0xfefd
// (1.2), 0xfefc (1.3) or 0x0100 (the pre-standard DTLS of OpenSSL's
// DTLS1_BAD_VER, still used by Cisco AnyConnect), payload length 1 to
// MaxRecordLen. It returns the content type, the epoch and the payload
// length.
func DTLSRecordHeader(b []byte) (typ uint8, epoch uint16, n int, ok bool) {
	if len(b) < 13 || b[0] < ContentChangeCipherSpec || b[0] > ContentApplicationData {
		return 0, 0, 0, false
	}
	switch u16(b[1:]) {
	case VersionDTLS10, VersionDTLS12, VersionDTLS13, VersionDTLSBad:
	default:
		return 0, 0, 0, false
	}
	n = int(u16(b[11:]))
	if n == 0 || n > MaxRecordLen {
		return 0, 0, 0, false
	}
	return b[0], u16(b[3:]), n, true
}

// dtlsFragment is one handshake fragment (RFC 6347 §4.2.2).
type dtlsFragment struct {
	typ    uint8
	length int    // length of the whole message
	seq    uint16 // message_seq
	off    int    // fragment_offset
	data   []byte
}

// dtlsFragments calls fn for each handshake fragment in the plaintext
// (epoch 0) handshake records of datagrams, in order, until fn returns
// false. Each datagram holds one or more records; walking a datagram stops
// at a header that does not validate.
func dtlsFragments(datagrams [][]byte, fn func(f *dtlsFragment) bool) {
	var f dtlsFragment
	for _, d := range datagrams {
		for len(d) > 0 {
			typ, epoch, n, ok := DTLSRecordHeader(d)
			if !ok {
				break
			}
			p := d[13:]
			if n < len(p) {
				p = p[:n]
			}
			d = d[13+len(p):]
			if typ != ContentHandshake || epoch != 0 {
				continue
			}
			for len(p) >= 12 {
				f.typ, f.length, f.seq = p[0], u24(p[1:]), u16(p[4:])
				f.off = u24(p[6:])
				fl := u24(p[9:])
				if 12+fl > len(p) {
					fl = len(p) - 12 // a record cut short by the capture
				}
				f.data = p[12 : 12+fl]
				p = p[12+fl:]
				if f.off+len(f.data) > f.length {
					continue
				}
				if !fn(&f) {
					return
				}
			}
		}
	}
}

// DTLSMessage returns the body of the first handshake message of type typ
// in the DTLS records of datagrams, reassembled from its fragments, which
// may arrive in any order, repeated or overlapping. It fails when a part of
// the message is missing.
func DTLSMessage(datagrams [][]byte, typ uint8) ([]byte, bool) {
	var first dtlsFragment
	found := false
	dtlsFragments(datagrams, func(f *dtlsFragment) bool {
		if f.typ == typ {
			first, found = *f, true
			return false
		}
		return true
	})
	if !found {
		return nil, false
	}
	if first.off == 0 && len(first.data) == first.length {
		return first.data, true
	}
	total := 0
	for _, d := range datagrams {
		total += len(d)
	}
	if first.length > total {
		return nil, false // more than all the bytes at hand
	}
	buf := make([]byte, first.length)
	var spans [][2]int
	dtlsFragments(datagrams, func(f *dtlsFragment) bool {
		if f.typ == first.typ && f.seq == first.seq && f.length == first.length && len(f.data) > 0 {
			copy(buf[f.off:], f.data)
			spans = append(spans, [2]int{f.off, f.off + len(f.data)})
		}
		return true
	})
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	covered := 0
	for _, s := range spans {
		if s[0] > covered {
			break
		}
		covered = max(covered, s[1])
	}
	if covered < first.length {
		return nil, false
	}
	return buf, true
}

// stunMagic is the STUN magic cookie (RFC 5389 §6).
const stunMagic = 0x2112a442

// stunData is the STUN DATA attribute (RFC 5766 §14.4).
const stunData = 0x0013

// UnwrapDatagram returns the DTLS records a UDP payload carries: the
// payload itself when it starts with a DTLS record header, the data of a
// TURN ChannelData message (RFC 5766 §11.4: first two bits 01, channel
// number, length), or the DATA attribute of a STUN message (first two bits
// 00, magic cookie). It returns nil for anything else.
func UnwrapDatagram(b []byte) []byte {
	if _, _, _, ok := DTLSRecordHeader(b); ok {
		return b
	}
	if len(b) >= 4 && b[0]&0xc0 == 0x40 {
		n := int(u16(b[2:]))
		if 4+n > len(b) {
			return nil
		}
		return dtlsOrNil(b[4 : 4+n])
	}
	if len(b) < 20 || b[0]&0xc0 != 0 || uint32(u16(b[4:]))<<16|uint32(u16(b[6:])) != stunMagic {
		return nil
	}
	end := 20 + int(u16(b[2:]))
	if end > len(b) {
		end = len(b)
	}
	for off := 20; off+4 <= end; {
		typ, n := u16(b[off:]), int(u16(b[off+2:]))
		off += 4
		if off+n > end {
			return nil
		}
		if typ == stunData {
			return dtlsOrNil(b[off : off+n])
		}
		off += (n + 3) &^ 3
	}
	return nil
}

func dtlsOrNil(b []byte) []byte {
	if _, _, _, ok := DTLSRecordHeader(b); ok {
		return b
	}
	return nil
}
