package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/proto/tls"
)

// tlsFromQUIC fills hs from the ClientHello decrypted from the QUIC Initial
// packets of either end (the sender is the client; normally the
// initiator) and from the ServerHello in the other end's Initial packets.
func tlsFromQUIC(f *flows.Flow, hs *tlsHandshake) {
	if !quicLongHeader(f.App.Datagrams[0]) && !quicLongHeader(f.App.Datagrams[1]) {
		return
	}
	var bufs [2][flows.MaxDatagrams][]byte
	var dgs [2][][]byte
	for dir := 0; dir < 2; dir++ {
		dgs[dir] = bufs[dir][:0]
		for _, d := range f.App.Datagrams[dir] {
			dgs[dir] = append(dgs[dir], d.Data)
		}
	}
	for dir := 0; dir < 2; dir++ {
		if !quicLongHeader(f.App.Datagrams[dir]) {
			continue
		}
		client := quic.ScanClient(dgs[dir])
		msg, ok := client.ClientHello()
		if !ok {
			continue
		}
		body, ok := handshakeBody(msg, tls.TypeClientHello)
		if !ok {
			continue
		}
		h, err := tls.ParseClientHello(body, false)
		if err != nil {
			continue
		}
		hs.hello, hs.hasHello, hs.transport = h, true, tls.JA4QUIC
		if msg, ok := client.ServerHello(dgs[1-dir]); ok {
			if body, ok := handshakeBody(msg, tls.TypeServerHello); ok {
				if sh, err := tls.ParseServerHello(body); err == nil {
					hs.server.Hello, hs.hasServer = sh, true
				}
			}
		}
		return
	}
}

// handshakeBody returns the body of a whole handshake message of type typ.
func handshakeBody(msg []byte, typ uint8) ([]byte, bool) {
	if len(msg) < 4 || msg[0] != typ {
		return nil, false
	}
	n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	if 4+n > len(msg) {
		return nil, false
	}
	return msg[4 : 4+n], true
}

// quicLongHeader reports whether the first datagram starts with a QUIC
// long header (a client's first Initial does).
func quicLongHeader(dgs []flows.Datagram) bool {
	return len(dgs) > 0 && len(dgs[0].Data) > 0 && dgs[0].Data[0]&0x80 != 0
}
