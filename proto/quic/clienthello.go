// Package quic reads QUIC packets.
//
// stub until the quic branch lands: this file only fixes the signatures the
// tls feature group calls; the quic branch replaces it with the real
// Initial-packet decryption.
package quic

// ClientHello returns the TLS ClientHello handshake message (starting with
// its type byte 1) carried in the CRYPTO frames of a client's Initial
// packets, decrypted with the RFC 9001 initial secrets.
//
// stub until the quic branch lands: it always reports false.
func ClientHello(datagrams [][]byte) (hello []byte, ok bool) {
	return nil, false
}

// ServerHello returns the TLS ServerHello handshake message (starting with
// its type byte 2) carried in the CRYPTO frames of a server's Initial
// packets, given the client's UDP payloads (whose first Initial's
// Destination Connection ID the initial secrets derive from) and the
// server's, both in order.
//
// stub until the quic branch lands (proposed addition to the quic
// package's API): it always reports false.
func ServerHello(client, server [][]byte) (hello []byte, ok bool) {
	return nil, false
}
