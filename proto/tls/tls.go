// Package tls reads TLS, DTLS and SSLv2-compatible handshakes from captured
// bytes: record layers (TLS over a reassembled TCP stream, DTLS datagrams,
// DTLS carried in STUN/TURN), the ClientHello, ServerHello, Certificate and
// ServerKeyExchange messages, and the JA3, JA3S and JA4 fingerprints.
//
// Every parser is bounds-checked and never trusts a declared length: a
// length that runs past the bytes at hand is an error (or, where stated, a
// shorter read), never an allocation of that size. Parsed values alias the
// input bytes; nothing is copied unless a message spans several records.
package tls

import "fmt"

// Record content types (RFC 8446 §5.1).
const (
	ContentChangeCipherSpec = 20
	ContentAlert            = 21
	ContentHandshake        = 22
	ContentApplicationData  = 23
)

// Handshake message types (RFC 8446 §4, RFC 6347 §4.2.1).
const (
	TypeClientHello        = 1
	TypeServerHello        = 2
	TypeHelloVerifyRequest = 3
	TypeCertificate        = 11
	TypeServerKeyExchange  = 12
)

// Extension types used here (IANA TLS ExtensionType registry).
const (
	ExtServerName          = 0
	ExtSupportedGroups     = 10
	ExtECPointFormats      = 11
	ExtSignatureAlgorithms = 13
	ExtALPN                = 16
	ExtSessionTicket       = 35
	ExtPreSharedKey        = 41
	ExtEarlyData           = 42
	ExtSupportedVersions   = 43
	ExtKeyShare            = 51
)

// Protocol versions.
const (
	VersionSSL2   = 0x0002
	VersionSSL3   = 0x0300
	VersionTLS10  = 0x0301
	VersionTLS11  = 0x0302
	VersionTLS12  = 0x0303
	VersionTLS13  = 0x0304
	VersionDTLS10 = 0xfeff
	VersionDTLS12 = 0xfefd
	VersionDTLS13 = 0xfefc
	// VersionDTLSBad is the DTLS version of OpenSSL's pre-RFC DTLS
	// (DTLS1_BAD_VER), which Cisco AnyConnect speaks.
	VersionDTLSBad = 0x0100
)

// MaxRecordLen is the largest record payload accepted: 2^14 plus the 2048
// bytes of expansion RFC 5246 §6.2.3 allows for a protected record.
const MaxRecordLen = 1<<14 + 2048

// IsGREASE reports whether v is one of the sixteen GREASE values of
// RFC 8701 (0x0a0a, 0x1a1a, ..., 0xfafa), reserved so that peers must
// ignore them.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// ErrShort and ErrMalformed are the causes a ParseError carries.
var (
	ErrShort     = errorString("tls: message shorter than its fields")
	ErrMalformed = errorString("tls: malformed message")
)

type errorString string

func (e errorString) Error() string { return string(e) }

// ParseError says which field of which message failed to parse, at which
// byte offset of the message body.
type ParseError struct {
	Msg    string // message, e.g. "client hello"
	Field  string // field, e.g. "cipher suites"
	Offset int    // offset of the field in the message body
	Err    error  // ErrShort or ErrMalformed
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("tls: %s: %s at offset %d: %s", e.Msg, e.Field, e.Offset, e.Err.Error()[len("tls: "):])
}

func (e *ParseError) Unwrap() error { return e.Err }

// VersionName names a legacy protocol version the way JoyfulJay's
// tls_version_str does: 'SSL 3.0' to 'TLS 1.3', else 'Unknown (0x....)'.
func VersionName(v uint16) string {
	switch v {
	case VersionSSL3:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("Unknown (0x%04x)", v)
}

// GroupName names a key exchange group as JoyfulJay's table does, else
// 'unknown(0x....)'.
func GroupName(g uint16) string {
	switch g {
	case 0x17:
		return "secp256r1"
	case 0x18:
		return "secp384r1"
	case 0x19:
		return "secp521r1"
	case 0x1d:
		return "x25519"
	case 0x1e:
		return "x448"
	case 0x100:
		return "ffdhe2048"
	case 0x101:
		return "ffdhe3072"
	case 0x102:
		return "ffdhe4096"
	case 0x103:
		return "ffdhe6144"
	case 0x104:
		return "ffdhe8192"
	case 0x6399:
		return "X25519Kyber768Draft00"
	case 0x0200:
		return "secp256r1_kyber768"
	}
	return fmt.Sprintf("unknown(0x%04x)", g)
}

func u16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func u24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }
