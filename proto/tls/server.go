package tls

// Certificates summarises a Certificate message of TLS 1.2 and earlier.
type Certificates struct {
	Count int // non-empty certificates in the chain
	Total int // sum of their lengths, bytes
	First int // length of the first non-empty certificate, bytes
}

// ParseCertificate reads the chain of a Certificate message body
// (RFC 5246 §7.4.2: a 24-bit list length, then 24-bit-length-prefixed
// certificates). It counts the certificates whose length field fits the body
// and stops at one that runs past it.
func ParseCertificate(body []byte) (Certificates, error) {
	var c Certificates
	if len(body) < 3 {
		return c, &ParseError{"certificate", "list length", 0, ErrShort}
	}
	end := 3 + u24(body)
	if end > len(body) {
		return c, &ParseError{"certificate", "list length", 0, ErrShort}
	}
	off := 3
	for off+3 <= end {
		n := u24(body[off:])
		if off+3+n > end {
			return c, &ParseError{"certificate", "certificate length", off, ErrShort}
		}
		if n > 0 {
			if c.Count == 0 {
				c.First = n
			}
			c.Count++
			c.Total += n
		}
		off += 3 + n
	}
	return c, nil
}

// KeyExchange is what a ServerKeyExchange says about the key exchange.
type KeyExchange struct {
	Group uint16 // named curve, or GroupFFDHE for finite-field DHE
	Bits  int    // 8 * ECDH public key length, or 8 * DH prime length
	DHE   bool   // finite-field Diffie-Hellman (the group is then GroupFFDHE)
}

// GroupFFDHE is the placeholder group JoyfulJay reports for a finite-field
// DHE ServerKeyExchange, whose parameters are explicit rather than named.
const GroupFFDHE = 256

// ParseServerKeyExchange reads an ECDHE (RFC 8422 §5.4: curve type 3
// named_curve, group, public key) or DHE (RFC 5246 §7.4.3: p, g, Ys)
// ServerKeyExchange body. The message does not say which of the two it is,
// so the body is read both ways and the reading whose fields end exactly
// where a signature (or nothing, for anonymous suites) fills the rest of the
// body wins, ECDHE first.
func ParseServerKeyExchange(body []byte) (KeyExchange, bool) {
	ec, ecEnd := ecdheParams(body)
	dh, dhEnd := dheParams(body)
	switch {
	case ecEnd > 0 && signatureFits(body[ecEnd:]):
		return ec, true
	case dhEnd > 0 && signatureFits(body[dhEnd:]):
		return dh, true
	case ecEnd > 0:
		return ec, true
	case dhEnd > 0:
		return dh, true
	}
	return KeyExchange{}, false
}

func ecdheParams(b []byte) (KeyExchange, int) {
	if len(b) < 4 || b[0] != 3 {
		return KeyExchange{}, 0
	}
	n := int(b[3])
	if 4+n > len(b) {
		return KeyExchange{}, 0
	}
	return KeyExchange{Group: u16(b[1:]), Bits: 8 * n}, 4 + n
}

func dheParams(b []byte) (KeyExchange, int) {
	off, plen := 0, 0
	for i := 0; i < 3; i++ { // p, g, Ys
		if off+2 > len(b) {
			return KeyExchange{}, 0
		}
		n := int(u16(b[off:]))
		if off+2+n > len(b) || n == 0 {
			return KeyExchange{}, 0
		}
		if i == 0 {
			plen = n
		}
		off += 2 + n
	}
	return KeyExchange{Group: GroupFFDHE, Bits: 8 * plen, DHE: true}, off
}

// signatureFits reports whether b is empty or one digitally-signed element:
// a 16-bit length and the signature (TLS 1.0/1.1), optionally preceded by a
// 2-byte signature algorithm (TLS 1.2).
func signatureFits(b []byte) bool {
	switch {
	case len(b) == 0:
		return true
	case len(b) >= 2 && int(u16(b))+2 == len(b):
		return true
	case len(b) >= 4 && int(u16(b[2:]))+4 == len(b):
		return true
	}
	return false
}
