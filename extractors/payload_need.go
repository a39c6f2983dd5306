package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/http2"
	"github.com/jjsql/jjsql/proto/ssh"
)

// How much payload a flow keeps for the protocol parsers.
//
// A flow's TCP streams are kept up to Config.StreamBudget bytes per
// direction and its first flows.MaxDatagrams datagrams, until the flow ends:
// with thousands of flows open at once that is most of a scan's memory. The
// parsers read far less of a connection whose protocol is known, so the scan
// asks StreamDone and DatagramDone (flows.Config hooks) as payload arrives
// and stops keeping it as soon as nothing more can change a column:
//
//   - a TLS stream (one that starts with TLS records) up to the header of
//     its first application_data record: every handshake message the
//     parsers read (hellos, certificates, key exchange) comes before it, in
//     TLS 1.3 too (the server's later handshake messages are encrypted);
//   - an HTTP/1.x stream once its first head is complete and keeps the
//     connection HTTP/1 (http2.PlainHead: no Upgrade header, no CONNECT, no
//     1xx; a response only when the request it answers is also such a
//     head): neither HTTP/2 nor a tunnelled TLS handshake can follow;
//   - an SSH-2 stream (one that starts with its "SSH-" identification line)
//     once its NEWKEYS packet is whole: the parsers read the banner and the
//     key exchange before it; what follows is encrypted (the encrypted
//     packet count reads the packet records, not the stream);
//   - the datagrams of a QUIC direction once a short-header (1-RTT) packet
//     follows the long-header packets: those carry the handshake, 1-RTT
//     packets only encrypted data.
//
// Anything else (SSH, DNS, another protocol, a stream that starts mid-way,
// traffic on port 53) is kept up to the budget as before. The per-packet
// columns (counts, first payload bytes) read the packet records, not this
// payload, and are unaffected.

// StreamDone is the flows.Config.StreamDone hook of the parsers.
func StreamDone(f *flows.Flow, dir int) flows.StreamVerdict {
	if f.InitPort == 53 || f.RespPort == 53 {
		return flows.StreamKeep // DNS over TCP: messages of any framing
	}
	b := f.App.Stream[dir].Data
	if len(b) == 0 {
		return flows.StreamMore
	}
	switch c := b[0]; {
	case c >= 20 && c <= 23:
		return tlsStreamDone(b)
	case c == 'S' && len(b) >= 4 && string(b[:4]) == "SSH-":
		return sshStreamDone(b)
	case c >= 'A' && c <= 'Z':
		return httpStreamDone(f, dir)
	}
	return flows.StreamKeep
}

// tlsStreamDone walks the record headers of a stream that starts with a TLS
// record: Enough at the first application_data record, Keep at anything
// that is not a TLS record header.
func tlsStreamDone(b []byte) flows.StreamVerdict {
	off := 0
	for off+5 <= len(b) {
		typ, major, minor := b[off], b[off+1], b[off+2]
		n := int(b[off+3])<<8 | int(b[off+4])
		if typ < 20 || typ > 23 || major != 3 || minor > 4 || n > 18432 {
			return flows.StreamKeep
		}
		if typ == 23 {
			return flows.StreamEnough
		}
		off += 5 + n
	}
	return flows.StreamMore
}

// sshStreamDone: Enough once the side's packets after its banner end with a
// whole NEWKEYS (ssh.ReadPackets stops there), Keep for SSH-1 or a stream
// whose banner or packets do not read.
func sshStreamDone(b []byte) flows.StreamVerdict {
	banner, end, ok := ssh.FindBanner(b, false)
	switch {
	case !ok || banner.IsSSH1():
		return flows.StreamKeep
	case end < 0:
		if len(b) >= maxHeadWait {
			return flows.StreamKeep
		}
		return flows.StreamMore
	}
	ps := ssh.ReadPackets(b, end)
	if n := len(ps); n > 0 && ps[n-1].Type == ssh.MsgNewKeys && !ps[n-1].Partial {
		return flows.StreamEnough
	}
	if len(ps) >= ssh.MaxPackets {
		return flows.StreamKeep
	}
	return flows.StreamMore
}

// maxHeadWait is how far a protocol's opening (an HTTP/1.x head, an SSH
// banner) is waited for before the stream is kept to its budget (http2.PlainHead
// reads that much).
const maxHeadWait = 16 << 10

func httpStreamDone(f *flows.Flow, dir int) flows.StreamVerdict {
	b := f.App.Stream[dir].Data
	if len(b) >= 4 && string(b[:4]) == "PRI " {
		return flows.StreamKeep // the HTTP/2 client preface
	}
	switch http2.PlainHead(b) {
	case http2.HeadRequest:
		return flows.StreamEnough
	case http2.HeadResponse:
		if http2.PlainHead(f.App.Stream[1-dir].Data) == http2.HeadRequest {
			return flows.StreamEnough
		}
		return flows.StreamKeep
	case http2.HeadSwitch:
		return flows.StreamKeep
	}
	if len(b) >= maxHeadWait {
		return flows.StreamKeep
	}
	return flows.StreamMore
}

// DatagramDone is the flows.Config.DatagramDone hook of the parsers: true
// for a QUIC short-header packet that follows a long-header packet of the
// same direction (see above).
func DatagramDone(f *flows.Flow, dir int, payload []byte) bool {
	if f.InitPort == 53 || f.RespPort == 53 || len(payload) == 0 || payload[0]&0xc0 != 0x40 {
		return false
	}
	for _, d := range f.App.Datagrams[dir] {
		if quicLongHeaderPacket(d.Data) {
			return true
		}
	}
	return false
}

// quicLongHeaderPacket reports whether b starts with a QUIC long header
// (form and fixed bits set, a non-zero version, a connection ID length of
// at most 20).
func quicLongHeaderPacket(b []byte) bool {
	return len(b) >= 7 && b[0]&0xc0 == 0xc0 && (b[1]|b[2]|b[3]|b[4]) != 0 && b[5] <= 20
}

// Configure sets the parsers' hooks in cfg (StreamDone, DatagramDone,
// HeadMatch): a scan that computes the groups must configure its
// flows.Config with it.
func Configure(cfg *flows.Config) {
	cfg.StreamDone, cfg.DatagramDone = StreamDone, DatagramDone
	cfg.HeadMatch = tlsHandshakeHead
}
