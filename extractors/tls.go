package extractors

import (
	"strconv"
	"strings"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/tls"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:       "tls",
		Features: tlsFeatures(),
		Aliases:  map[string]string{"ja3_hash": "ja3", "ja3s_hash": "ja3s"},
		Extra: []schema.Feature{
			{Name: "ja4", Group: "tls", Type: schema.Text, Profile: schema.Core,
				Doc: "JA4 client fingerprint (FoxIO JA4 TLS client specification) of the ClientHello: t (TCP), q (QUIC) or d (DTLS) prefix; empty if none."},
			{Name: "ja4_r", Group: "tls", Type: schema.Text, Profile: schema.Core,
				Doc: "Raw JA4 (JA4_r): the readable part, the sorted cipher list, the sorted extension list and the signature algorithms, unhashed; empty if none."},
		},
		Needs:   flows.NeedPayload | flows.NeedHeadCount,
		Compute: computeTLS,
	})
}

// tlsFeatures is JoyfulJay's tls group with ja3_hash and ja3s_hash shown
// as ja3 and ja3s (the old names stay queryable as hidden aliases).
func tlsFeatures() []schema.Feature {
	fs := schema.GroupFeatures("tls")
	for i := range fs {
		switch fs[i].Name {
		case "ja3_hash":
			fs[i].Name = "ja3"
		case "ja3s_hash":
			fs[i].Name = "ja3s"
		case "tls_detected":
			fs[i].Doc = "True if a TLS ClientHello was found, sent by either end: TLS on any TCP port (reassembled, also after a cleartext preamble such as STARTTLS), DTLS (also inside STUN/TURN), or inside a decrypted QUIC Initial."
		}
	}
	return fs
}

// Output positions of the tls group.
const (
	tlsDetected = iota
	tlsVersion
	tlsVersionStr
	tlsCipherSuite
	tlsCipherCount
	tlsExtensionCount
	tlsSNI
	tlsALPN
	tlsJA3
	tlsJA3S
	tlsHandshakePackets
	tlsCertCount
	tlsCertTotalLength
	tlsCertFirstLength
	tlsCertChainLength
	tlsSessionIDLen
	tlsSessionTicketExt
	tlsSessionResumed
	tlsPSKExt
	tlsEarlyDataExt
	tlsKeyExchangeGroup
	tlsKeyExchangeGroupName
	tlsKeyExchangeLength
	tlsJA4
	tlsJA4R
	tlsColumns
)

// tlsHandshake is what a flow's handshake shows.
type tlsHandshake struct {
	hello     tls.ClientHello
	hasHello  bool
	transport byte // tls.JA4TCP, JA4QUIC or JA4DTLS
	server    tls.ServerFlight
	hasServer bool
}

// computeTLS reads the flow's TLS, DTLS or QUIC handshake:
//
//   - TCP: the client is whichever end's reassembled stream holds a
//     ClientHello (tls.FindClientHello: at the start of the stream, or after
//     a cleartext preamble within its first tls.SearchWindow bytes); the
//     other stream gives the ServerHello, Certificate and ServerKeyExchange.
//   - UDP and other datagrams: DTLS records, also inside TURN ChannelData
//     or a STUN DATA attribute, with handshake fragments reassembled; the
//     ClientHello's sender is the client. Failing that, a ClientHello
//     decrypted from QUIC Initial packets. Failing that, TLS records (not
//     DTLS) inside a datagram, as a reliable-UDP carrier such as RDP's
//     UDP transport (MS-RDPEUDP) sends them: each datagram is searched
//     like the start of a TCP stream (tls.FindClientHello).
//   - TLS carried in an OpenVPN control channel, over TCP or UDP, when
//     nothing else was found (tls.OpenVPN).
//
// The columns keep JoyfulJay's definitions, read from whole messages.
// tls_handshake_packets counts packets whose payload starts with a valid
// TLS or DTLS handshake record header.
func computeTLS(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var hs tlsHandshake
	if f.Proto == 6 {
		tlsFromTCP(f, &hs)
	} else if len(f.App.Datagrams[0]) > 0 || len(f.App.Datagrams[1]) > 0 {
		tlsFromUDP(f, &hs)
	}
	fillTLS(f, &hs, out)
	return nil
}

func tlsFromTCP(f *flows.Flow, hs *tlsHandshake) {
	client := 0
	for dir := 0; dir < 2; dir++ {
		if h, _, ok := tls.FindClientHello(f.App.Stream[dir].Data); ok {
			hs.hello, hs.hasHello, hs.transport, client = h, true, tls.JA4TCP, dir
			break
		}
	}
	if fl, ok := tls.FindServerFlight(f.App.Stream[1-client].Data); ok {
		hs.server, hs.hasServer = fl, true
	} else if !hs.hasHello {
		hs.server, hs.hasServer = tls.FindServerFlight(f.App.Stream[0].Data)
	}
	if !hs.hasHello {
		var bufs [2][tlsOpenVPNPackets][]byte
		tlsFromOpenVPN(tls.SplitOpenVPNTCP(bufs[0][:0], f.App.Stream[0].Data),
			tls.SplitOpenVPNTCP(bufs[1][:0], f.App.Stream[1].Data), hs)
	}
}

func tlsFromUDP(f *flows.Flow, hs *tlsHandshake) {
	tlsFromDTLS(f, hs)
	if !hs.hasHello {
		tlsFromQUIC(f, hs)
	}
	if !hs.hasHello {
		var bufs [2][flows.MaxDatagrams][]byte
		var dgs [2][][]byte
		for dir := 0; dir < 2; dir++ {
			dgs[dir] = bufs[dir][:0]
			for _, d := range f.App.Datagrams[dir] {
				dgs[dir] = append(dgs[dir], d.Data)
			}
		}
		tlsFromOpenVPN(dgs[0], dgs[1], hs)
	}
	if !hs.hasHello && !hs.hasServer {
		tlsFromDatagrams(f, hs)
	}
}

func tlsFromDTLS(f *flows.Flow, hs *tlsHandshake) {
	var bufs [2][flows.MaxDatagrams][]byte
	var dgs [2][][]byte
	for dir := 0; dir < 2; dir++ {
		dgs[dir] = bufs[dir][:0]
		for _, d := range f.App.Datagrams[dir] {
			if b := tls.UnwrapDatagram(d.Data); b != nil {
				dgs[dir] = append(dgs[dir], b)
			}
		}
	}
	if len(dgs[0]) == 0 && len(dgs[1]) == 0 {
		return
	}
	client := 0
	for dir := 0; dir < 2; dir++ {
		body, ok := tls.DTLSMessage(dgs[dir], tls.TypeClientHello)
		if !ok {
			continue
		}
		if h, err := tls.ParseClientHello(body, true); err == nil {
			hs.hello, hs.hasHello, hs.transport, client = h, true, tls.JA4DTLS, dir
			break
		}
	}
	server := dgs[1-client]
	body, ok := tls.DTLSMessage(server, tls.TypeServerHello)
	if !ok {
		return
	}
	sh, err := tls.ParseServerHello(body)
	if err != nil {
		return
	}
	hs.server.Hello, hs.hasServer = sh, true
	if body, ok := tls.DTLSMessage(server, tls.TypeCertificate); ok {
		if c, err := tls.ParseCertificate(body); err == nil {
			hs.server.HasCertificate, hs.server.Certificates = true, c
		}
	}
	if body, ok := tls.DTLSMessage(server, tls.TypeServerKeyExchange); ok {
		hs.server.KeyExchange, hs.server.HasKeyExchange = tls.ParseServerKeyExchange(body)
	}
}

// tlsOpenVPNPackets bounds the OpenVPN packets read from a TCP stream.
const tlsOpenVPNPackets = 64

// tlsFromOpenVPN fills hs from the TLS bytes of an OpenVPN control
// channel (tls.OpenVPN), given each end's OpenVPN packets.
func tlsFromOpenVPN(a, b [][]byte, hs *tlsHandshake) {
	var streams [2][]byte
	streams[0], _ = tls.OpenVPN(a)
	streams[1], _ = tls.OpenVPN(b)
	for dir := 0; dir < 2; dir++ {
		h, _, ok := tls.FindClientHello(streams[dir])
		if !ok {
			continue
		}
		hs.hello, hs.hasHello, hs.transport = h, true, tls.JA4TCP
		if fl, ok := tls.FindServerFlight(streams[1-dir]); ok {
			hs.server, hs.hasServer = fl, true
		}
		return
	}
}

func tlsFromDatagrams(f *flows.Flow, hs *tlsHandshake) {
	client := -1
	for dir := 0; dir < 2 && client < 0; dir++ {
		for _, d := range f.App.Datagrams[dir] {
			if h, _, ok := tls.FindClientHello(d.Data); ok {
				hs.hello, hs.hasHello, hs.transport, client = h, true, tls.JA4TCP, dir
				break
			}
		}
	}
	if client < 0 {
		return
	}
	for _, d := range f.App.Datagrams[1-client] {
		if fl, ok := tls.FindServerFlight(d.Data); ok {
			hs.server, hs.hasServer = fl, true
			return
		}
	}
}

func fillTLS(f *flows.Flow, hs *tlsHandshake, out []schema.Value) {
	h := &hs.hello
	s := &hs.server
	var version int64
	var versionStr, sni, alpn, ja3, ja3s, ja4, ja4r string
	var ciphers, exts, sidLen int64
	if hs.hasHello {
		version = int64(h.Version)
		versionStr = tls.VersionName(h.Version)
		ciphers = int64(h.CipherCount())
		exts = int64(h.NumExtensions)
		sni = h.SNI()
		alpn = strings.ToValidUTF8(string(h.FirstALPN()), "")
		sidLen = int64(len(h.SessionID))
		ja3 = h.JA3()
		ja4 = h.JA4(hs.transport)
		ja4r = h.JA4R(hs.transport)
	}
	var cipher int64
	if hs.hasServer {
		cipher = int64(s.Hello.CipherSuite)
		ja3s = s.Hello.JA3S()
	}
	certs := s.Certificates // zero without a Certificate message
	var group, bits int64
	var groupName string
	switch {
	case s.HasKeyExchange:
		group, bits = int64(s.KeyExchange.Group), int64(s.KeyExchange.Bits)
		if s.KeyExchange.DHE {
			groupName = "ffdhe" + strconv.Itoa(s.KeyExchange.Bits)
		} else {
			groupName = tls.GroupName(s.KeyExchange.Group)
		}
	case hs.hasHello && h.HasKeyShare:
		group, bits = int64(h.KeyShareGroup), 8*int64(h.KeyShareLen)
		groupName = tls.GroupName(h.KeyShareGroup)
	}
	resumed := hs.hasHello && certs.Count == 0 && (len(h.SessionID) > 0 || h.SessionTicket || h.PreSharedKey)

	out[tlsDetected] = schema.BoolV(hs.hasHello)
	out[tlsVersion] = schema.IntV(version)
	out[tlsVersionStr] = schema.TextV(versionStr)
	out[tlsCipherSuite] = schema.IntV(cipher)
	out[tlsCipherCount] = schema.IntV(ciphers)
	out[tlsExtensionCount] = schema.IntV(exts)
	out[tlsSNI] = schema.TextV(sni)
	out[tlsALPN] = schema.TextV(alpn)
	out[tlsJA3] = schema.TextV(ja3)
	out[tlsJA3S] = schema.TextV(ja3s)
	out[tlsHandshakePackets] = schema.IntV(tlsHandshakePacketCount(f))
	out[tlsCertCount] = schema.IntV(int64(certs.Count))
	out[tlsCertTotalLength] = schema.IntV(int64(certs.Total))
	out[tlsCertFirstLength] = schema.IntV(int64(certs.First))
	out[tlsCertChainLength] = schema.IntV(int64(certs.Count))
	out[tlsSessionIDLen] = schema.IntV(sidLen)
	out[tlsSessionTicketExt] = schema.BoolV(hs.hasHello && h.SessionTicket)
	out[tlsSessionResumed] = schema.BoolV(resumed)
	out[tlsPSKExt] = schema.BoolV(hs.hasHello && h.PreSharedKey)
	out[tlsEarlyDataExt] = schema.BoolV(hs.hasHello && h.EarlyData)
	out[tlsKeyExchangeGroup] = schema.IntV(group)
	out[tlsKeyExchangeGroupName] = schema.TextV(groupName)
	out[tlsKeyExchangeLength] = schema.IntV(bits)
	out[tlsJA4] = schema.TextV(ja4)
	out[tlsJA4R] = schema.TextV(ja4r)
}

// tlsHandshakePacketCount is the number of packets whose payload starts
// with a handshake record header (tlsHandshakeHead), counted by the
// assembler as the packets pass (Config.HeadMatch, set by Configure).
func tlsHandshakePacketCount(f *flows.Flow) int64 { return int64(f.HeadMatches) }

// tlsHandshakeHead reports whether a packet's payload starts with a
// handshake record header: content type 22 and a TLS (0x0300-0x0304) or
// DTLS (0xfeff, 0xfefd, 0xfefc) version.
func tlsHandshakeHead(b []byte) bool {
	if len(b) < 3 || b[0] != tls.ContentHandshake {
		return false
	}
	return b[1] == 3 && b[2] <= 4 || b[1] == 0xfe && (b[2] == 0xff || b[2] == 0xfd || b[2] == 0xfc)
}
