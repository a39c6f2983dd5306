package tls

// ParseSSLv2ClientHello parses an SSLv2-compatible CLIENT-HELLO at the start
// of b (RFC 5246 Appendix E.2): a 2-byte record header with the high bit set
// and a 15-bit length, message type 1, version, the lengths of the cipher
// specs (3 bytes each), session ID (0 or 16) and challenge (16 to 32), then
// those fields. The version must be SSL 2.0 (0x0002) or 0x0300 to 0x0304,
// and the lengths must add up to the record length. The result has SSLv2 set,
// CipherSuites holding the 3-byte cipher specs, and no extensions.
func ParseSSLv2ClientHello(b []byte) (ClientHello, error) {
	var h ClientHello
	h.SSLv2 = true
	const msg = "sslv2 client hello"
	if len(b) < 11 || b[0]&0x80 == 0 || b[2] != TypeClientHello {
		return h, &ParseError{msg, "header", 0, ErrMalformed}
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	h.Version = u16(b[3:])
	cs, sid, ch := int(u16(b[5:])), int(u16(b[7:])), int(u16(b[9:]))
	switch {
	case h.Version != VersionSSL2 && (h.Version < VersionSSL3 || h.Version > VersionTLS13):
		return h, &ParseError{msg, "version", 3, ErrMalformed}
	case cs == 0 || cs%3 != 0:
		return h, &ParseError{msg, "cipher specs", 5, ErrMalformed}
	case sid != 0 && sid != 16:
		return h, &ParseError{msg, "session id", 7, ErrMalformed}
	case ch < 16 || ch > 32:
		return h, &ParseError{msg, "challenge", 9, ErrMalformed}
	case 9+cs+sid+ch != n:
		return h, &ParseError{msg, "length", 0, ErrMalformed}
	case 2+n > len(b):
		return h, &ParseError{msg, "length", 0, ErrShort}
	}
	h.CipherSuites = b[11 : 11+cs]
	h.SessionID = b[11+cs : 11+cs+sid]
	return h, nil
}
