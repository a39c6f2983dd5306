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
//
// Only whole messages are read. A capture that starts mid-stream gives a
// stream that starts at its first data segment: a hello that begins there
// (or within the window) is read, anything else is not. A hole in the
// stream ends it (flows.Stream stops at a gap), so a hello cut by a hole is
// not read rather than read in part; the server's messages complete before
// a hole still are.

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

// ClientHelloFrom reads a ClientHello from bytes of unknown framing, such
// as a packet payload handed to a SQL function: TLS records (by the rule of
// FindClientHello), a DTLS datagram (also inside STUN or TURN), or a bare
// handshake message (type 1, 24-bit length, body). The message must be
// complete.
func ClientHelloFrom(b []byte) (ClientHello, bool) {
	if h, _, ok := FindClientHello(b); ok {
		return h, true
	}
	if d := UnwrapDatagram(b); d != nil {
		if body, ok := DTLSMessage([][]byte{d}, TypeClientHello); ok {
			h, err := ParseClientHello(body, true)
			return h, err == nil
		}
	}
	if body, ok := bareMessage(b, TypeClientHello); ok {
		h, err := ParseClientHello(body, false)
		return h, err == nil
	}
	return ClientHello{}, false
}

// ServerHelloFrom reads a ServerHello from bytes of unknown framing, as
// ClientHelloFrom does.
func ServerHelloFrom(b []byte) (ServerHello, bool) {
	if fl, ok := FindServerFlight(b); ok {
		return fl.Hello, true
	}
	if d := UnwrapDatagram(b); d != nil {
		if body, ok := DTLSMessage([][]byte{d}, TypeServerHello); ok {
			s, err := ParseServerHello(body)
			return s, err == nil
		}
	}
	if body, ok := bareMessage(b, TypeServerHello); ok {
		s, err := ParseServerHello(body)
		return s, err == nil
	}
	return ServerHello{}, false
}

// bareMessage returns the body of the handshake message of type typ that
// b holds exactly.
func bareMessage(b []byte, typ uint8) ([]byte, bool) {
	if len(b) < 4 || b[0] != typ || 4+u24(b[1:]) != len(b) {
		return nil, false
	}
	return b[4:], true
}
