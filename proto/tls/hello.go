package tls

// ClientHello is a parsed ClientHello. Byte-slice fields alias the message
// body given to ParseClientHello. Lists of 16-bit values (CipherSuites,
// Groups, SignatureAlgorithms, SupportedVersions) are kept in wire form, two
// bytes per value.
type ClientHello struct {
	Version       uint16 // legacy_version (client_version)
	SessionID     []byte
	Cookie        []byte // DTLS only
	CipherSuites  []byte // 2 bytes per suite (3 bytes per spec for SSLv2)
	Compression   []byte
	HasExtensions bool   // the extensions length field is present
	Extensions    []byte // the raw extension block
	DTLS          bool
	SSLv2         bool // an SSLv2-compatible CLIENT-HELLO (no extensions)

	// From the extensions.
	NumExtensions       int  // extensions in the block, GREASE included
	HasServerName       bool // extension 0 present
	ServerName          []byte
	HasALPN             bool
	ALPN                []byte // protocol_name_list: (u8 length, name)*
	Groups              []byte // supported_groups
	PointFormats        []byte // ec_point_formats
	SignatureAlgorithms []byte
	HasSupportedVersion bool
	SupportedVersions   []byte
	HasKeyShare         bool
	KeyShareGroup       uint16 // group of the first key_share entry
	KeyShareLen         int    // key_exchange length of the first entry, bytes
	SessionTicket       bool   // extension 35
	PreSharedKey        bool   // extension 41
	EarlyData           bool   // extension 42
}

// ParseClientHello parses the body of a ClientHello handshake message (the
// bytes after its 4-byte header). With dtls set it expects the DTLS
// cookie field after the session ID (RFC 6347 §4.2.1).
//
// The fixed fields, cipher suites and compression methods must fit the
// body, and so must the extension block and each extension when the block
// is present; a body that ends right after the compression methods has no
// extensions. Malformed contents of a single extension (an SNI list whose
// length lies, say) leave that extension's field empty without failing.
func ParseClientHello(body []byte, dtls bool) (ClientHello, error) {
	var h ClientHello
	h.DTLS = dtls
	const msg = "client hello"
	if len(body) < 2+32+1 {
		return h, &ParseError{msg, "random", 2, ErrShort}
	}
	h.Version = u16(body)
	off := 2 + 32
	n := int(body[off])
	off++
	if n > 32 {
		return h, &ParseError{msg, "session id", off - 1, ErrMalformed}
	}
	if off+n > len(body) {
		return h, &ParseError{msg, "session id", off - 1, ErrShort}
	}
	h.SessionID = body[off : off+n]
	off += n
	if dtls {
		if off >= len(body) {
			return h, &ParseError{msg, "cookie", off, ErrShort}
		}
		n = int(body[off])
		off++
		if off+n > len(body) {
			return h, &ParseError{msg, "cookie", off - 1, ErrShort}
		}
		h.Cookie = body[off : off+n]
		off += n
	}
	if off+2 > len(body) {
		return h, &ParseError{msg, "cipher suites", off, ErrShort}
	}
	n = int(u16(body[off:]))
	off += 2
	if n%2 != 0 {
		return h, &ParseError{msg, "cipher suites", off - 2, ErrMalformed}
	}
	if off+n > len(body) {
		return h, &ParseError{msg, "cipher suites", off - 2, ErrShort}
	}
	h.CipherSuites = body[off : off+n]
	off += n
	if off >= len(body) {
		return h, &ParseError{msg, "compression methods", off, ErrShort}
	}
	n = int(body[off])
	off++
	if off+n > len(body) {
		return h, &ParseError{msg, "compression methods", off - 1, ErrShort}
	}
	h.Compression = body[off : off+n]
	off += n
	if off == len(body) {
		return h, nil
	}
	ext, off, err := extensionBlock(body, off, msg)
	if err != nil {
		return h, err
	}
	h.HasExtensions = true
	h.Extensions = ext
	if err := walkExtensions(h.Extensions, off, msg, h.clientExtension); err != nil {
		return h, err
	}
	return h, nil
}

// walkExtensions calls fn for every extension of block (type, body) and
// checks that they tile the block exactly. base is the block's offset in
// its message, for errors.
func walkExtensions(block []byte, base int, msg string, fn func(typ uint16, body []byte)) error {
	off := 0
	for off < len(block) {
		if off+4 > len(block) {
			return &ParseError{msg, "extension header", base + off, ErrShort}
		}
		typ := u16(block[off:])
		n := int(u16(block[off+2:]))
		off += 4
		if off+n > len(block) {
			return &ParseError{msg, "extension body", base + off - 2, ErrShort}
		}
		fn(typ, block[off:off+n])
		off += n
	}
	return nil
}

func (h *ClientHello) clientExtension(typ uint16, b []byte) {
	h.NumExtensions++
	switch typ {
	case ExtServerName:
		h.HasServerName = true
		if h.ServerName == nil {
			h.ServerName = serverName(b)
		}
	case ExtSupportedGroups:
		h.Groups = u16List(b)
	case ExtECPointFormats:
		if len(b) >= 1 {
			n := min(int(b[0]), len(b)-1)
			h.PointFormats = b[1 : 1+n]
		}
	case ExtSignatureAlgorithms:
		h.SignatureAlgorithms = u16List(b)
	case ExtALPN:
		h.HasALPN = true
		if len(b) >= 2 {
			n := min(int(u16(b)), len(b)-2)
			h.ALPN = b[2 : 2+n]
		}
	case ExtSessionTicket:
		h.SessionTicket = true
	case ExtPreSharedKey:
		h.PreSharedKey = true
	case ExtEarlyData:
		h.EarlyData = true
	case ExtSupportedVersions:
		h.HasSupportedVersion = true
		if len(b) >= 1 {
			n := min(int(b[0]), len(b)-1) &^ 1
			h.SupportedVersions = b[1 : 1+n]
		}
	case ExtKeyShare:
		// client_shares: u16 length, then (group u16, key_exchange <u16>)*.
		if len(b) >= 6 && u16(b) > 0 && !h.HasKeyShare {
			h.HasKeyShare = true
			h.KeyShareGroup = u16(b[2:])
			h.KeyShareLen = int(u16(b[4:]))
		}
	}
}

// u16List reads a list of 16-bit values with a 16-bit byte length, taking
// what fits in b when the length runs past it.
func u16List(b []byte) []byte {
	if len(b) < 2 {
		return nil
	}
	n := min(int(u16(b)), len(b)-2) &^ 1
	return b[2 : 2+n]
}

// serverName returns the first host_name of a server_name extension body,
// or nil.
func serverName(b []byte) []byte {
	if len(b) < 2 {
		return nil
	}
	list := b[2:]
	if n := int(u16(b)); n < len(list) {
		list = list[:n]
	}
	for len(list) >= 3 {
		typ, n := list[0], int(u16(list[1:]))
		if 3+n > len(list) {
			return nil
		}
		if typ == 0 {
			return list[3 : 3+n]
		}
		list = list[3+n:]
	}
	return nil
}

// CipherCount returns the number of cipher suites offered, GREASE
// included.
func (h *ClientHello) CipherCount() int {
	if h.SSLv2 {
		return len(h.CipherSuites) / 3
	}
	return len(h.CipherSuites) / 2
}

// FirstALPN returns the first protocol name of the ALPN extension, or nil.
func (h *ClientHello) FirstALPN() []byte {
	if len(h.ALPN) < 1 {
		return nil
	}
	n := int(h.ALPN[0])
	if 1+n > len(h.ALPN) {
		return nil
	}
	return h.ALPN[1 : 1+n]
}

// SNI returns the server name as text, bytes outside ASCII dropped.
func (h *ClientHello) SNI() string { return asciiOnly(h.ServerName) }

func asciiOnly(b []byte) string {
	clean := true
	for _, c := range b {
		if c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c < 0x80 {
			out = append(out, c)
		}
	}
	return string(out)
}

// ServerHello is a parsed ServerHello. Byte-slice fields alias the body
// given to ParseServerHello.
type ServerHello struct {
	Version       uint16 // legacy_version (server_version)
	SessionID     []byte
	CipherSuite   uint16
	Compression   uint8
	HasExtensions bool
	Extensions    []byte
	// SelectedVersion is the supported_versions extension's value (TLS
	// 1.3), 0 without it.
	SelectedVersion uint16
	// KeyShareGroup is the group of the server's key_share (TLS 1.3), 0
	// without it.
	KeyShareGroup uint16
}

// ParseServerHello parses the body of a ServerHello handshake message.
func ParseServerHello(body []byte) (ServerHello, error) {
	var s ServerHello
	const msg = "server hello"
	if len(body) < 2+32+1 {
		return s, &ParseError{msg, "random", 2, ErrShort}
	}
	s.Version = u16(body)
	off := 2 + 32
	n := int(body[off])
	off++
	if n > 32 {
		return s, &ParseError{msg, "session id", off - 1, ErrMalformed}
	}
	if off+n+3 > len(body) {
		return s, &ParseError{msg, "session id", off - 1, ErrShort}
	}
	s.SessionID = body[off : off+n]
	off += n
	s.CipherSuite = u16(body[off:])
	s.Compression = body[off+2]
	off += 3
	if off == len(body) {
		return s, nil
	}
	ext, off, err := extensionBlock(body, off, msg)
	if err != nil {
		return s, err
	}
	s.HasExtensions = true
	s.Extensions = ext
	err = walkExtensions(s.Extensions, off, msg, func(typ uint16, b []byte) {
		switch typ {
		case ExtSupportedVersions:
			if len(b) == 2 {
				s.SelectedVersion = u16(b)
			}
		case ExtKeyShare:
			if len(b) >= 2 {
				s.KeyShareGroup = u16(b)
			}
		}
	})
	return s, err
}

// helloRetryRandom is the Random of a HelloRetryRequest (RFC 8446 §4.1.3).
const helloRetryRandom = "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91" +
	"\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"

// IsHelloRetryRequest reports whether a ServerHello body is a TLS 1.3
// HelloRetryRequest.
func IsHelloRetryRequest(body []byte) bool {
	return len(body) >= 34 && string(body[2:34]) == helloRetryRandom
}

// extensionBlock reads the 2-byte length and the extension block of a hello
// body at off; it returns the block and the offset of its first byte.
func extensionBlock(body []byte, off int, msg string) ([]byte, int, error) {
	if off+2 > len(body) {
		return nil, off, &ParseError{msg, "extensions", off, ErrShort}
	}
	n := int(u16(body[off:]))
	off += 2
	if off+n > len(body) {
		return nil, off, &ParseError{msg, "extensions", off - 2, ErrShort}
	}
	return body[off : off+n], off, nil
}
