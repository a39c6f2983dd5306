// Package quic reads QUIC Initial packets.
//
// stub until the quic branch lands: this file only declares the function
// the http2 group calls; the quic branch replaces it with the real
// decryption of Initial packets (RFC 9001).
package quic

// ClientHello returns the TLS ClientHello carried in the CRYPTO frames of
// the client's QUIC Initial packets, given the client's datagrams in
// capture order, and whether one was found.
//
// stub until the quic branch lands: it always reports none.
func ClientHello(datagrams [][]byte) (hello []byte, ok bool) {
	return nil, false
}
