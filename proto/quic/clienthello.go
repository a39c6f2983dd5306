// Package quic reads QUIC packets.
//
// stub until the quic branch lands: this file only fixes the signature the
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
