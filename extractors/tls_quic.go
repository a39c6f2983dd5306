package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/quic"
	"github.com/jjsql/jjsql/proto/tls"
)

// tlsFromQUIC fills hs from a ClientHello decrypted from the QUIC Initial
// packets of either end (the sender is the client; normally the
// initiator). A QUIC server's hello travels in Initial packets protected
// with the server's keys, which quic.ClientHello does not open, so QUIC
// flows get no ServerHello values (JA3S, cipher suite).
func tlsFromQUIC(f *flows.Flow, hs *tlsHandshake) {
	for dir := 0; dir < 2; dir++ {
		dgs := f.App.Datagrams[dir]
		// A client's first Initial is a long-header packet.
		if len(dgs) == 0 || len(dgs[0].Data) == 0 || dgs[0].Data[0]&0x80 == 0 {
			continue
		}
		var buf [flows.MaxDatagrams][]byte
		payloads := buf[:0]
		for _, d := range dgs {
			payloads = append(payloads, d.Data)
		}
		msg, ok := quic.ClientHello(payloads)
		if !ok || len(msg) < 4 || msg[0] != tls.TypeClientHello {
			continue
		}
		n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
		if 4+n > len(msg) {
			continue
		}
		if h, err := tls.ParseClientHello(msg[4:4+n], false); err == nil {
			hs.hello, hs.hasHello, hs.transport = h, true, tls.JA4QUIC
			return
		}
	}
}
