package http2

import (
	"encoding/binary"
	"strings"
)

// TLS constants used to find the ALPN extension (RFC 8446, RFC 7301).
const (
	recordHandshake  = 22
	recordHeaderLen  = 5
	maxRecordLen     = 1<<14 + 2048 // TLSCiphertext limit; plaintext handshake records are smaller
	hsClientHello    = 1
	hsServerHello    = 2
	hsHelloRequest   = 0
	hsHeaderLen      = 4
	extALPN          = 16
	randomLen        = 32
	maxSessionIDLen  = 32
	maxHandshakeRead = 64 << 10 // handshake bytes gathered while looking for the ServerHello
)

// ServerHelloALPN reads the ServerHello at the start of stream, the
// server's TCP payload from its first byte: TLS handshake records (the
// message may span several records, or share one with the messages after
// it), the ServerHello body and its extensions. ok reports that a
// well-formed ServerHello was found; alpn is the protocol it selected with
// the ALPN extension, "" if it has none.
//
// In TLS 1.3 the server sends its ALPN choice in EncryptedExtensions, which
// is encrypted: its ServerHello has no ALPN extension, so alpn is "". Only
// TLS 1.2 and earlier show the choice.
func ServerHelloALPN(stream []byte) (alpn string, ok bool) {
	msg, ok := firstHandshake(stream)
	if !ok || msg[0] != hsServerHello {
		return "", false
	}
	exts, ok := serverHelloExtensions(msg[hsHeaderLen:])
	if !ok {
		return "", false
	}
	data, found, ok := findExtension(exts, extALPN)
	if !ok {
		return "", false
	}
	if !found {
		return "", true
	}
	// The server's ALPN extension lists exactly one protocol.
	protos, ok := alpnList(data)
	if !ok || len(protos) != 1 {
		return "", false
	}
	return protos[0], true
}

// firstHandshake gathers handshake records from the start of stream and
// returns the first handshake message (header included) that is not a
// HelloRequest, complete.
func firstHandshake(stream []byte) ([]byte, bool) {
	var hs []byte
	for off := 0; off+recordHeaderLen <= len(stream) && len(hs) < maxHandshakeRead; {
		h := stream[off : off+recordHeaderLen]
		n := int(binary.BigEndian.Uint16(h[3:]))
		if h[0] != recordHandshake || h[1] != 3 || h[2] > 4 || n == 0 || n > maxRecordLen {
			return nil, false
		}
		off += recordHeaderLen
		if off+n > len(stream) {
			return nil, false
		}
		if hs == nil {
			hs = stream[off : off+n : off+n] // usually the message is in the first record: no copy
		} else {
			hs = append(hs, stream[off:off+n]...)
		}
		off += n
		for len(hs) >= hsHeaderLen {
			l := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if hs[0] == hsHelloRequest && l == 0 {
				hs = hs[hsHeaderLen:]
				continue
			}
			if l > maxHandshakeRead {
				return nil, false
			}
			if len(hs) >= hsHeaderLen+l {
				return hs[:hsHeaderLen+l], true
			}
			break
		}
	}
	return nil, false
}

// serverHelloExtensions returns the extensions block of a ServerHello body
// (nil if it has none).
func serverHelloExtensions(b []byte) ([]byte, bool) {
	// legacy_version, random
	if len(b) < 2+randomLen+1 {
		return nil, false
	}
	b = b[2+randomLen:]
	sid := int(b[0])
	if sid > maxSessionIDLen || len(b) < 1+sid+2+1 {
		return nil, false
	}
	b = b[1+sid+2+1:] // session id, cipher suite, compression method
	return extensionBlock(b)
}

// ClientHelloALPN returns the protocols a ClientHello offers with ALPN (nil
// if it has no ALPN extension). hello is the ClientHello handshake message,
// with or without its 4-byte handshake header. ok is false when hello is
// not a well-formed ClientHello.
func ClientHelloALPN(hello []byte) (protos []string, ok bool) {
	b := hello
	if len(b) >= hsHeaderLen && b[0] == hsClientHello {
		l := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if l != len(b)-hsHeaderLen {
			return nil, false
		}
		b = b[hsHeaderLen:]
	}
	// legacy_version (3.x), random
	if len(b) < 2+randomLen+1 || b[0] != 3 {
		return nil, false
	}
	b = b[2+randomLen:]
	sid := int(b[0])
	if sid > maxSessionIDLen || len(b) < 1+sid+2 {
		return nil, false
	}
	b = b[1+sid:]
	cs := int(binary.BigEndian.Uint16(b))
	if cs == 0 || cs%2 != 0 || len(b) < 2+cs+1 {
		return nil, false
	}
	b = b[2+cs:]
	comp := int(b[0])
	if comp == 0 || len(b) < 1+comp {
		return nil, false
	}
	exts, ok := extensionBlock(b[1+comp:])
	if !ok {
		return nil, false
	}
	data, found, ok := findExtension(exts, extALPN)
	if !ok || !found {
		return nil, ok
	}
	return alpnList(data)
}

// extensionBlock checks the optional extensions block at the end of a
// hello body (u16 length, then exactly that many bytes) and returns its
// contents.
func extensionBlock(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, true
	}
	if len(b) < 2 || int(binary.BigEndian.Uint16(b)) != len(b)-2 {
		return nil, false
	}
	return b[2:], true
}

// findExtension walks an extensions block (every entry must fit) and
// returns the data of the first extension of type typ.
func findExtension(exts []byte, typ uint16) (data []byte, found, ok bool) {
	for len(exts) > 0 {
		if len(exts) < 4 {
			return nil, false, false
		}
		t, n := binary.BigEndian.Uint16(exts), int(binary.BigEndian.Uint16(exts[2:]))
		if len(exts) < 4+n {
			return nil, false, false
		}
		if t == typ && !found {
			data, found = exts[4:4+n], true
		}
		exts = exts[4+n:]
	}
	return data, found, true
}

// alpnList parses a ProtocolNameList (RFC 7301 section 3.1): a u16 length,
// then non-empty names with a u8 length each.
func alpnList(b []byte) ([]string, bool) {
	if len(b) < 2 || int(binary.BigEndian.Uint16(b)) != len(b)-2 {
		return nil, false
	}
	b = b[2:]
	if len(b) == 0 {
		return nil, false
	}
	var protos []string
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || len(b) < 1+n {
			return nil, false
		}
		protos = append(protos, string(b[1:1+n]))
		b = b[1+n:]
	}
	return protos, true
}

// IsH3 reports whether an ALPN protocol name is HTTP/3: "h3", or a draft
// version "h3-<n>" such as "h3-29".
func IsH3(proto string) bool {
	return proto == "h3" || strings.HasPrefix(proto, "h3-")
}
