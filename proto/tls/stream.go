package tls

// Where a hello may start in a TCP stream.
//
// A TLS connection's first record is normally the first byte of each
// direction. TLS also runs after a cleartext preamble: STARTTLS (SMTP,
// IMAP, POP3, FTP AUTH TLS, XMPP, LDAP), RDP's X.224 negotiation, a SOCKS or
// HTTP CONNECT exchange. Rather than know each such protocol, the finders
// below accept a hello at the start of the stream and, failing that, search
// the first SearchWindow bytes for the start of a handshake record header (0x16, version
// 0x0300-0x0304, a valid length) whose first message has the wanted type and
// parses completely. At most maxCandidates such headers are tried, so the
// work stays linear in the window even on hostile bytes.

// SearchWindow is how far into a stream a hello is looked for.
const SearchWindow = 8 << 10

const maxCandidates = 32

// FindClientHello returns the first ClientHello of one direction of a TCP
// stream (see the rule above) and the offset of the record that starts it.
// An SSLv2-compatible CLIENT-HELLO is accepted at the start of the stream.
func FindClientHello(data []byte) (ClientHello, int, bool) {
	if len(data) > 0 && data[0]&0x80 != 0 {
		if h, err := ParseSSLv2ClientHello(data); err == nil {
			return h, 0, true
		}
	}
	var h ClientHello
	at := findMessage(data, TypeClientHello, func(body []byte) bool {
		var err error
		h, err = ParseClientHello(body, false)
		return err == nil
	})
	return h, at, at >= 0
}

// ServerFlight is what the first server flight of a TLS connection says:
// the ServerHello and, in TLS 1.2 and earlier, the Certificate and
// ServerKeyExchange messages that follow it in cleartext.
type ServerFlight struct {
	Hello          ServerHello
	HasCertificate bool
	Certificates   Certificates
	HasKeyExchange bool
	KeyExchange    KeyExchange
}

// FindServerFlight returns the first ServerHello of one direction of a TCP
// stream (same search rule as FindClientHello) with the Certificate and
// ServerKeyExchange messages that follow it in the same handshake.
func FindServerFlight(data []byte) (ServerFlight, bool) {
	var fl ServerFlight
	at := findMessage(data, TypeServerHello, func(body []byte) bool {
		var err error
		fl.Hello, err = ParseServerHello(body)
		return err == nil
	})
	if at < 0 {
		return fl, false
	}
	r := NewReader(data[at:])
	r.Next() // the ServerHello
	for {
		typ, body, ok := r.Next()
		if !ok {
			break
		}
		switch typ {
		case TypeCertificate:
			if !fl.HasCertificate {
				if c, err := ParseCertificate(body); err == nil {
					fl.HasCertificate, fl.Certificates = true, c
				}
			}
		case TypeServerKeyExchange:
			if !fl.HasKeyExchange {
				fl.KeyExchange, fl.HasKeyExchange = ParseServerKeyExchange(body)
			}
		}
	}
	return fl, true
}

// findMessage returns the offset of the first record in data whose first
// handshake message has type typ and is accepted by parse, or -1.
func findMessage(data []byte, typ uint8, parse func(body []byte) bool) int {
	try := func(at int) bool {
		r := NewReader(data[at:])
		t, body, ok := r.Next()
		return ok && t == typ && parse(body)
	}
	if isHandshakeStart(data, typ) && try(0) {
		return 0
	}
	end := min(len(data)-6, SearchWindow-1)
	tries := 0
	for i := 1; i <= end && tries < maxCandidates; i++ {
		if data[i] != ContentHandshake || !isHandshakeStart(data[i:], typ) {
			continue
		}
		tries++
		if try(i) {
			return i
		}
	}
	return -1
}

// isHandshakeStart reports whether b starts with a valid handshake record
// header followed by a handshake header of type typ.
func isHandshakeStart(b []byte, typ uint8) bool {
	t, _, ok := RecordHeader(b)
	return ok && t == ContentHandshake && len(b) > 5 && b[5] == typ
}
