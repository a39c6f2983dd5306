package functions

import (
	"github.com/jjsql/jjsql/proto/tls"
	"github.com/jjsql/jjsql/schema"
)

// The TLS functions read a ClientHello or ServerHello from a blob of unknown
// framing: one or more TLS records (a TCP payload, also a hello after other
// bytes such as STARTTLS), a DTLS datagram (also inside STUN/TURN) or a bare
// handshake message. A blob without a complete hello gives NULL.
func tlsFuncs() []Func {
	return []Func{
		{"ja3", "JA3 hash (MD5 hex) of the ClientHello in a blob; NULL if none", clientFunc(func(h *tls.ClientHello) string { return h.JA3() })},
		{"ja3_string", "JA3 string (version,ciphers,extensions,groups,formats) of the ClientHello in a blob", clientFunc(func(h *tls.ClientHello) string { return string(h.AppendJA3(nil)) })},
		{"ja4", "JA4 fingerprint of the ClientHello in a blob ('t' prefix, 'd' for DTLS); NULL if none", clientFunc(func(h *tls.ClientHello) string { return h.JA4(transport(h)) })},
		{"ja4_r", "JA4 raw (unhashed) form of the ClientHello in a blob", clientFunc(func(h *tls.ClientHello) string { return h.JA4R(transport(h)) })},
		{"tls_sni", "server name of the ClientHello in a blob; '' without an SNI extension, NULL without a hello", clientFunc(func(h *tls.ClientHello) string { return h.SNI() })},
		{"ja3s", "JA3S hash (MD5 hex) of the ServerHello in a blob; NULL if none", serverFunc(func(s *tls.ServerHello) string { return s.JA3S() })},
		{"ja3s_string", "JA3S string (version,cipher,extensions) of the ServerHello in a blob", serverFunc(func(s *tls.ServerHello) string { return string(s.AppendJA3S(nil)) })},
	}
}

func transport(h *tls.ClientHello) byte {
	if h.DTLS {
		return 'd'
	}
	return 't'
}

func clientFunc(f func(*tls.ClientHello) string) func(schema.Value) schema.Value {
	return func(v schema.Value) schema.Value {
		b, ok := bytesOf(v)
		if !ok {
			return schema.NullV()
		}
		h, ok := tls.ClientHelloFrom(b)
		if !ok {
			return schema.NullV()
		}
		return schema.TextV(f(&h))
	}
}

func serverFunc(f func(*tls.ServerHello) string) func(schema.Value) schema.Value {
	return func(v schema.Value) schema.Value {
		b, ok := bytesOf(v)
		if !ok {
			return schema.NullV()
		}
		s, ok := tls.ServerHelloFrom(b)
		if !ok {
			return schema.NullV()
		}
		return schema.TextV(f(&s))
	}
}
