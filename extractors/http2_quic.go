package extractors

import (
	"slices"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/http2"
)

// http3Detected reports HTTP/3: the datagrams of one direction are QUIC
// whose Initial packets carry a ClientHello (read by clientHello, the QUIC
// parser's quic.ClientHello) that offers HTTP/3 with ALPN ("h3", or a draft
// "h3-<n>"), and the other direction answered with at least one packet.
// Any UDP port qualifies; JoyfulJay looked only at port 443 and took the
// bytes 02 'h3' anywhere in a payload, encrypted ones included, for HTTP/3.
func http3Detected(f *flows.Flow, clientHello func(datagrams [][]byte) ([]byte, bool)) bool {
	for d := range 2 {
		dgs := f.App.Datagrams[d]
		answered := f.PacketsBwd() > 0
		if d == 1 {
			answered = f.PacketsFwd > 0
		}
		if len(dgs) == 0 || !answered {
			continue
		}
		raw := make([][]byte, len(dgs))
		for i := range dgs {
			raw[i] = dgs[i].Data
		}
		hello, ok := clientHello(raw)
		if !ok {
			continue
		}
		if protos, ok := http2.ClientHelloALPN(hello); ok && slices.ContainsFunc(protos, http2.IsH3) {
			return true
		}
	}
	return false
}
