package http2

import (
	"bytes"
)

// maxHeadLen caps the HTTP/1.1 request or response head searched for the
// h2c upgrade.
const maxHeadLen = 16 << 10

// message is an HTTP/1.1 head read for the h2c upgrade.
type message struct {
	headEnd   int  // offset just after the blank line ending the head
	upgradeH2 bool // an Upgrade header lists the token "h2c"
	upgrade   bool // there is an Upgrade header (any protocol)
	bodyLen   int  // Content-Length (0 if absent)
	bodyKnown bool // the body's length is known (no Transfer-Encoding, no conflicting Content-Length)
}

// UpgradeRequest reads the HTTP/1.1 request at the start of b. It reports
// whether it asks to upgrade to h2c (an Upgrade header field lists the token
// "h2c", RFC 7540 section 3.2) and where the request ends, which is where
// the client's connection preface follows once the server agreed. end is -1
// when the request's length cannot be told (a chunked body).
func UpgradeRequest(b []byte) (end int, ok bool) {
	m, ok := readHead(b, isRequestLine)
	if !ok || !m.upgradeH2 {
		return 0, false
	}
	if !m.bodyKnown {
		return -1, true
	}
	return m.headEnd + m.bodyLen, true
}

// SwitchingProtocols reads the HTTP/1.1 response at the start of b. It
// reports whether it is "101 Switching Protocols" to h2c (an Upgrade header
// field lists "h2c") and where it ends: the server's HTTP/2 frames start
// there.
func SwitchingProtocols(b []byte) (end int, ok bool) {
	m, ok := readHead(b, isSwitchingLine)
	if !ok || !m.upgradeH2 {
		return 0, false
	}
	return m.headEnd, true
}

// Head says what PlainHead found at the start of a stream.
type Head uint8

const (
	HeadUnknown  Head = iota // not (yet) a complete HTTP/1.x head
	HeadRequest              // a complete request head that stays HTTP/1
	HeadResponse             // a complete response head that stays HTTP/1
	HeadSwitch               // a complete head that may hand the stream to another protocol
)

// PlainHead reads the HTTP/1.x request or response head at the start of
// one direction of a TCP connection. HeadRequest and HeadResponse mean the
// head is complete and keeps the connection HTTP/1: no Upgrade header field
// (h2c, TLS, WebSocket, ...), not a CONNECT request, not a 1xx response, so
// neither cleartext HTTP/2 (Cleartext) nor a tunnelled handshake starts
// after it. HeadSwitch means it may; HeadUnknown that b does not start with
// a complete HTTP/1.x head (within the first 16 KiB).
func PlainHead(b []byte) Head {
	req := true
	m, ok := readHead(b, func(l []byte) bool {
		if isRequestLine(l) {
			return true
		}
		req = false
		return isStatusLine(l)
	})
	if !ok {
		return HeadUnknown
	}
	switch {
	case m.upgrade:
		return HeadSwitch
	case req && (bytes.HasPrefix(b, []byte("CONNECT ")) || bytes.HasPrefix(b, []byte("PRI "))):
		return HeadSwitch
	case !req && b[len("HTTP/1.1 ")] == '1':
		return HeadSwitch
	case req:
		return HeadRequest
	}
	return HeadResponse
}

// isStatusLine checks "HTTP/1.x NNN" (a reason phrase may follow).
func isStatusLine(l []byte) bool {
	if len(l) < len("HTTP/1.1 200") || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' {
		return false
	}
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(l) == 12 || l[12] == ' '
}

// readHead parses the start line (checked by first) and the header fields
// of an HTTP/1.1 message at the start of b. Lines end with CRLF (a bare LF
// is accepted, RFC 9112 section 2.2).
func readHead(b []byte, first func([]byte) bool) (message, bool) {
	var m message
	m.bodyKnown = true
	b = b[:min(len(b), maxHeadLen)]
	line, rest, ok := nextLine(b)
	if !ok || !first(line) {
		return m, false
	}
	clSeen := false
	for {
		line, rest, ok = nextLine(rest)
		if !ok {
			return m, false // the head does not end within the data
		}
		if len(line) == 0 {
			m.headEnd = len(b) - len(rest)
			return m, true
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || len(name) == 0 || !isToken(name) {
			return m, false
		}
		value = bytes.Trim(value, " \t")
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			m.upgrade = true
			for _, tok := range bytes.Split(value, []byte(",")) {
				if bytes.EqualFold(bytes.Trim(tok, " \t"), []byte("h2c")) {
					m.upgradeH2 = true
				}
			}
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || (clSeen && n != m.bodyLen) {
				m.bodyKnown = false
			}
			clSeen, m.bodyLen = true, n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			m.bodyKnown = false
		}
	}
}

// nextLine splits off the first line of b (without its line end).
func nextLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, b, false
	}
	line, rest = b[:i], b[i+1:]
	return bytes.TrimSuffix(line, []byte("\r")), rest, true
}

// isRequestLine checks "method SP request-target SP HTTP/1.1".
func isRequestLine(l []byte) bool {
	method, rest, ok := bytes.Cut(l, []byte(" "))
	if !ok || len(method) == 0 || !isToken(method) {
		return false
	}
	target, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(target) == 0 {
		return false
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return string(version) == "HTTP/1.1"
}

// isSwitchingLine checks "HTTP/1.1 101" followed by the end of the line or
// a reason phrase.
func isSwitchingLine(l []byte) bool {
	rest, ok := bytes.CutPrefix(l, []byte("HTTP/1.1 101"))
	return ok && (len(rest) == 0 || rest[0] == ' ')
}

// isToken reports whether b is an RFC 9110 token.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return true
}

// parseLength reads a Content-Length value: decimal digits, at most 9 of
// them (a larger body runs past any stream budget anyway).
func parseLength(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
