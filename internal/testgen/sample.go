package testgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// SampleSeed seeds every random choice of the sample capture.
const SampleSeed = 20250115

// SampleStart is the reference time of the sample capture: the manifest
// counts start times from it. The first frame is one second later.
func SampleStart() time.Time { return time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC) }

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

var (
	macClientA = mustMAC("00:16:3e:11:22:33")
	macClientB = mustMAC("00:16:3e:44:55:66")
	macGateway = mustMAC("00:1b:21:aa:bb:cc")
	macSwitchA = mustMAC("52:54:00:10:00:01")
	macSwitchB = mustMAC("52:54:00:10:00:02")
)

func ep(mac net.HardwareAddr, ip string, port uint16) Endpoint {
	return Endpoint{MAC: mac, IP: netip.MustParseAddr(ip), Port: port}
}

// sampleConv is one conversation of the sample with its description.
type sampleConv struct {
	cv   *Conv
	note string
	ng   int // pcapng interface: 0 Ethernet, 1 raw IP
}

// buildSample builds every conversation of the sample capture.
func buildSample() ([]sampleConv, error) {
	t0 := SampleStart()
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	seed := uint64(SampleSeed)
	var out []sampleConv
	add := func(cv *Conv, note string, ng int) { out = append(out, sampleConv{cv: cv, note: note, ng: ng}) }
	tcp := DefaultTCP(seed)

	// SSH session with a 90 s pause: the idle timeout splits it in two flows.
	{
		cv := NewConv("ssh-idle", ep(macClientA, "192.168.1.10", 50500), ep(macGateway, "203.0.113.30", 22), Link{})
		cv.IP = IPOptions{TOS: 0x48, DontFragment: true, ServerTTL: 51}
		s := NewTCPSession(cv, at(1), tcp)
		s.Handshake()
		s.Send(false, []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"))
		s.Send(true, []byte("SSH-2.0-OpenSSH_9.7\r\n"))
		s.Send(true, SSHClientKex(seed+100))
		s.Send(false, SSHServerKex(seed+200))
		s.Send(true, SSHNewKeys(seed+300))
		for i, n := range []int{44, 44, 92, 52, 512, 28, 124, 44} { // service request, auth, channel setup (encrypted)
			s.SendWith(i%2 == 1, RandomBytes(seed+400+uint64(i), n), SendOptions{Think: time.Duration(i) * time.Millisecond})
		}
		for i := 0; i < 4; i++ { // keystrokes echoed by the server
			s.SendWith(true, RandomBytes(seed+500+uint64(i), 36), SendOptions{Think: 180 * time.Millisecond})
			s.Send(false, RandomBytes(seed+600+uint64(i), 36))
		}
		s.Wait(90 * time.Second)
		for i := 0; i < 3; i++ {
			s.SendWith(true, RandomBytes(seed+700+uint64(i), 36), SendOptions{Think: 150 * time.Millisecond})
			s.Send(false, RandomBytes(seed+800+uint64(i), 36))
		}
		s.Send(false, RandomBytes(seed+900, 160)) // exit status, EOF, close
		s.Close(true, false)
		add(cv, "SSH banners, KEXINIT, ECDH; idle 90 s, then more keystrokes; FIN", 0)
	}

	// TLS 1.3 from crypto/tls, ALPN h2 chosen.
	{
		cv := NewConv("tls13", ep(macClientA, "192.168.1.10", 50412), ep(macGateway, "203.0.113.10", 443), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 55}
		TLSConversation(cv, at(2), tcp, TLSConfig{
			Version: tls.VersionTLS13, ServerName: "example.test", ALPN: []string{"h2", "http/1.1"},
			Request: HTTPRequest("example.test", "/"), Response: HTTPResponse(2600), Seed: seed + 1, Time: t0,
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "TLS 1.3 (crypto/tls), SNI example.test, ALPN h2,http/1.1; FIN", 0)
	}

	// DNS over UDP, IPv4 and IPv6.
	{
		cv := NewConv("dns-a", ep(macClientA, "192.168.1.10", 53001), ep(macGateway, "192.168.1.1", 53), Link{})
		DNSQueryResponse(cv, at(1.5), 0x1a01, "example.test", layers.DNSTypeA, layers.DNSResponseCodeNoErr,
			[]DNSAnswer{{Name: "example.test", Type: layers.DNSTypeA, TTL: 300, IP: netip.MustParseAddr("203.0.113.10")}})
		add(cv, "DNS A example.test", 0)
	}
	{
		cv := NewConv("dns-aaaa", ep(macClientA, "2001:db8:1::10", 53002), ep(macGateway, "2001:db8:1::1", 53), Link{})
		DNSQueryResponse(cv, at(1.6), 0x1a02, "www.example.test", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr,
			[]DNSAnswer{
				{Name: "www.example.test", Type: layers.DNSTypeCNAME, TTL: 3600, CNAME: "example.test"},
				{Name: "example.test", Type: layers.DNSTypeAAAA, TTL: 300, IP: netip.MustParseAddr("2001:db8:2::80")},
			})
		add(cv, "DNS AAAA www.example.test over IPv6, CNAME + AAAA", 0)
	}

	// TLS 1.2, ALPN http/1.1 chosen, the server closes.
	{
		cv := NewConv("tls12", ep(macClientA, "192.168.1.10", 50414), ep(macGateway, "203.0.113.20", 443), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 49}
		TLSConversation(cv, at(5.5), tcp, TLSConfig{
			Version: tls.VersionTLS12, ServerName: "example.test", ALPN: []string{"h2", "http/1.1"}, ServerALPN: []string{"http/1.1"},
			Request: HTTPRequest("example.test", "/api"), Response: HTTPResponse(900), Seed: seed + 2, Time: t0,
		}, TCPEnd{Kind: CloseFINFour, ByServer: true})
		add(cv, "TLS 1.2 (crypto/tls), SNI example.test, ALPN http/1.1; server FIN, four-way", 0)
	}

	// HTTP download with a lost segment (retransmitted) and a reordered one.
	{
		cv := NewConv("http-loss", ep(macClientB, "192.168.1.23", 41000), ep(macGateway, "203.0.113.10", 80), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 55}
		s := NewTCPSession(cv, at(9), tcp)
		s.Handshake()
		s.Send(true, HTTPRequest("example.test", "/big.html"))
		s.SendWith(false, HTTPResponse(14000), SendOptions{Lose: 4, Reorder: 7, Think: 2 * time.Millisecond})
		s.Close(true, false)
		add(cv, "HTTP/1.1 GET, 14 kB answer: segment 4 lost and retransmitted (dup ACKs, SACK), segment 7 reordered; FIN", 0)
	}

	// HTTP/2 cleartext with prior knowledge, reset by the client.
	{
		cv := NewConv("h2c", ep(macClientB, "192.168.1.23", 41010), ep(macGateway, "203.0.113.10", 8080), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 55}
		TCPConversation(cv, at(14), tcp, []Message{
			{Data: H2ClientStart("example.test:8080", "/")},
			{FromServer: true, Data: H2ServerStart()},
			{FromServer: true, Data: H2Response(1200), Think: time.Millisecond},
			{Data: H2ClientEnd()},
		}, TCPEnd{Kind: CloseRST})
		add(cv, "HTTP/2 prior knowledge (preface, SETTINGS, HEADERS, DATA, GOAWAY); client RST", 0)
	}

	// Connection refused.
	{
		cv := NewConv("refused", ep(macClientA, "192.168.1.10", 50600), ep(macGateway, "203.0.113.10", 8443), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 55}
		NewTCPSession(cv, at(20), tcp).Refuse()
		add(cv, "SYN answered by RST-ACK", 0)
	}

	// Server reset after a short exchange.
	{
		cv := NewConv("server-rst", ep(macClientB, "192.168.1.23", 41020), ep(macGateway, "198.51.100.25", 6379), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 60}
		TCPConversation(cv, at(22), tcp, []Message{
			{Data: []byte("*1\r\n$4\r\nPING\r\n")},
			{FromServer: true, Data: []byte("+PONG\r\n")},
			{Data: []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"), Think: 5 * time.Millisecond},
		}, TCPEnd{Kind: CloseRST, ByServer: true})
		add(cv, "Redis-like exchange; server RST", 0)
	}

	{
		cv := NewConv("dns-nxdomain", ep(macClientB, "192.168.1.23", 53003), ep(macGateway, "192.168.1.1", 53), Link{})
		DNSQueryResponse(cv, at(30), 0x1a03, "nosuch.example.test", layers.DNSTypeA, layers.DNSResponseCodeNXDomain, nil)
		add(cv, "DNS A nosuch.example.test, NXDOMAIN", 0)
	}

	// DNS over TCP: two-byte length prefix.
	{
		cv := NewConv("dns-tcp", ep(macClientA, "192.168.1.10", 50700), ep(macGateway, "192.168.1.1", 53), Link{})
		q, err := DNSMessage(0x1a04, "many.example.test", layers.DNSTypeA, false, 0, nil)
		if err != nil {
			return nil, err
		}
		var answers []DNSAnswer
		for i := 1; i <= 12; i++ {
			answers = append(answers, DNSAnswer{Name: "many.example.test", Type: layers.DNSTypeA, TTL: 60, IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + i)})})
		}
		r, err := DNSMessage(0x1a04, "many.example.test", layers.DNSTypeA, true, 0, answers)
		if err != nil {
			return nil, err
		}
		lp := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
		TCPConversation(cv, at(35), tcp, []Message{{Data: lp(q)}, {FromServer: true, Data: lp(r)}}, TCPEnd{Kind: CloseFIN})
		add(cv, "DNS over TCP, A many.example.test with 12 answers; FIN", 0)
	}

	// A media-like UDP stream.
	{
		cv := NewConv("udp-stream", ep(macClientB, "192.168.1.23", 40000), ep(macGateway, "198.51.100.50", 5004), Link{})
		cv.IP.ServerTTL = 58
		var msgs []Message
		for i := 0; i < 40; i++ {
			th := 19 * time.Millisecond
			if i == 0 {
				th = 0
			}
			msgs = append(msgs, Message{Data: RandomBytes(seed+1000+uint64(i), 172), Think: th})
			if i%20 == 19 {
				msgs = append(msgs, Message{FromServer: true, Data: RandomBytes(seed+1100+uint64(i), 52)})
			}
		}
		UDPExchange(cv, at(40), msgs)
		add(cv, "UDP stream: 40 x 172 B up, 2 x 52 B reports down", 0)
	}

	{
		cv := NewConv("icmp-echo", ep(macClientA, "192.168.1.10", 0), ep(macGateway, "198.51.100.7", 0), Link{})
		cv.IP.ServerTTL = 57
		ICMPEcho(cv, at(45), 0x1a2b, 4)
		add(cv, "ICMP echo request/reply x4", 0)
	}

	// UDP probe to a closed port and the ICMP port unreachable it causes.
	{
		probe := NewConv("udp-probe", ep(macClientA, "192.168.1.10", 45123), ep(macGateway, "198.51.100.9", 33434), Link{})
		probe.IP.ClientTTL = 64
		UDPSend(probe, at(50), true, RandomBytes(seed+1200, 32))
		add(probe, "UDP datagram to a closed port", 0)
		fr, err := probe.Frames()
		if err != nil {
			return nil, err
		}
		unreach := NewConv("icmp-unreach", ep(macGateway, "198.51.100.9", 0), ep(macClientA, "192.168.1.10", 0), Link{})
		unreach.IP.ClientTTL = 57
		ICMPUnreachable(unreach, at(50.02), true, 3, fr[0])
		add(unreach, "ICMP port unreachable quoting the probe", 0)
	}

	{
		cv := NewConv("icmpv6-echo", ep(macClientA, "2001:db8:1::10", 0), ep(macGateway, "2001:db8:2::80", 0), Link{})
		cv.IP.ServerTTL = 58
		ICMPEcho(cv, at(55), 0x2c3d, 3)
		add(cv, "ICMPv6 echo request/reply x3", 0)
	}

	// Fragmented datagrams.
	{
		cv := NewConv("frag4", ep(macClientA, "192.168.1.10", 45500), ep(macGateway, "198.51.100.60", 33300), Link{})
		t := UDPFragmented(cv, at(60), true, RandomBytes(seed+1300, 4000), 1500)
		UDPSend(cv, t.Add(udpReply), false, RandomBytes(seed+1301, 64))
		add(cv, "IPv4 UDP datagram of 4000 B in 3 fragments, 64 B answer", 0)
	}
	{
		cv := NewConv("frag6", ep(macClientA, "2001:db8:1::10", 45501), ep(macGateway, "2001:db8:2::80", 33300), Link{})
		t := UDPFragmented(cv, at(62), true, RandomBytes(seed+1400, 3000), 1280)
		UDPSend(cv, t.Add(udpReply), false, RandomBytes(seed+1401, 32))
		add(cv, "IPv6 UDP datagram of 3000 B in 3 fragments (fragment header), 32 B answer", 0)
	}

	// IPv6 with a hop-by-hop header.
	{
		cv := NewConv("tcp6-hbh", ep(macClientA, "2001:db8:1::10", 50800), ep(macGateway, "2001:db8:2::80", 80), Link{})
		cv.IP = IPOptions{HopByHop: true, FlowLabel: 0x5a5a5, ServerTTL: 58}
		TCPConversation(cv, at(65), tcp, []Message{
			{Data: HTTPRequest("example.test", "/v6")},
			{FromServer: true, Data: HTTPResponse(3000)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "IPv6 TCP with a hop-by-hop header (PadN) on every packet, HTTP; FIN", 0)
	}

	// Link-layer encapsulations.
	{
		cv := NewConv("vlan", ep(macSwitchA, "192.168.10.5", 42000), ep(macSwitchB, "192.168.10.80", 80), Link{VLANs: []uint16{100}})
		cv.IP.DontFragment = true
		TCPConversation(cv, at(70), tcp, []Message{
			{Data: HTTPRequest("intranet.test", "/")},
			{FromServer: true, Data: HTTPResponse(700)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "802.1Q VLAN 100, HTTP; FIN", 0)
	}
	{
		cv := NewConv("qinq", ep(macSwitchA, "10.20.0.5", 514), ep(macSwitchB, "10.20.0.9", 514), Link{VLANs: []uint16{200, 300}})
		var msgs []Message
		for i, m := range []string{
			"<34>Jan 15 09:31:15 host1 su: 'su root' failed for user on /dev/pts/8",
			"<13>Jan 15 09:31:16 host1 app[311]: job 42 started",
			"<13>Jan 15 09:31:18 host1 app[311]: job 42 finished in 2.1 s",
		} {
			msgs = append(msgs, Message{Data: []byte(m), Think: time.Duration(i) * 900 * time.Millisecond})
		}
		UDPExchange(cv, at(75), msgs)
		add(cv, "QinQ (802.1ad 200, 802.1Q 300), syslog over UDP, one way", 0)
	}
	{
		cv := NewConv("mpls", ep(macSwitchA, "10.30.0.5", 43000), ep(macSwitchB, "10.30.1.5", 8000), Link{MPLS: []uint32{1001, 2002}})
		TCPConversation(cv, at(80), tcp, []Message{
			{Data: RandomBytes(seed+1500, 300)},
			{FromServer: true, Data: RandomBytes(seed+1501, 2200)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "MPLS labels 1001/2002, TCP; FIN", 0)
	}
	{
		cv := NewConv("pppoe", ep(macClientB, "100.64.0.7", 43100), ep(macGateway, "203.0.113.10", 80), Link{PPPoESession: 0x1234})
		c := tcp
		c.MSS = 1452
		TCPConversation(cv, at(85), c, []Message{
			{Data: HTTPRequest("example.test", "/pppoe")},
			{FromServer: true, Data: HTTPResponse(1800)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "PPPoE session 0x1234, HTTP with MSS 1452; FIN", 0)
	}

	// IP tunnels: keyed on the inner addresses; on a raw-IP interface in the pcapng.
	tunnelTCP := func(name string, link Link, client, server Endpoint, start float64, note string) {
		cv := NewConv(name, client, server, link)
		TCPConversation(cv, at(start), tcp, []Message{
			{Data: HTTPRequest("tunnel.test", "/"+name)},
			{FromServer: true, Data: HTTPResponse(1500)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, note, 1)
	}
	tunnelTCP("gre", Link{Tunnel: TunnelGRE, OuterClient: netip.MustParseAddr("192.0.2.1"), OuterServer: netip.MustParseAddr("192.0.2.2")},
		ep(macSwitchA, "10.50.0.5", 43200), ep(macSwitchB, "10.60.0.5", 80), 90, "GRE (192.0.2.1-192.0.2.2), inner IPv4 HTTP; FIN")
	tunnelTCP("vxlan", Link{Tunnel: TunnelVXLAN, OuterClient: netip.MustParseAddr("192.0.2.11"), OuterServer: netip.MustParseAddr("192.0.2.12"), VNI: 5001},
		ep(macSwitchA, "10.70.0.5", 43300), ep(macSwitchB, "10.70.0.6", 8080), 95, "VXLAN VNI 5001, inner Ethernet + IPv4 HTTP; FIN")
	{
		cv := NewConv("geneve-dns", ep(macSwitchA, "10.80.0.5", 53004), ep(macSwitchB, "10.80.0.1", 53),
			Link{Tunnel: TunnelGeneve, OuterClient: netip.MustParseAddr("192.0.2.21"), OuterServer: netip.MustParseAddr("192.0.2.22"), VNI: 7001})
		DNSQueryResponse(cv, at(100), 0x1a05, "geneve.example.test", layers.DNSTypeA, layers.DNSResponseCodeNoErr,
			[]DNSAnswer{{Name: "geneve.example.test", Type: layers.DNSTypeA, TTL: 30, IP: netip.MustParseAddr("10.80.0.77")}})
		add(cv, "GENEVE VNI 7001, inner Ethernet + IPv4 DNS", 1)
	}
	tunnelTCP("gtpu", Link{Tunnel: TunnelGTPU, OuterClient: netip.MustParseAddr("192.0.2.31"), OuterServer: netip.MustParseAddr("192.0.2.32"), VNI: 0xabcdef},
		ep(macSwitchA, "10.90.0.5", 43400), ep(macSwitchB, "203.0.113.10", 80), 105, "GTP-U TEID 0xabcdef, inner IPv4 HTTP; FIN")
	tunnelTCP("ipip", Link{Tunnel: TunnelIPinIP, OuterClient: netip.MustParseAddr("192.0.2.41"), OuterServer: netip.MustParseAddr("192.0.2.42")},
		ep(macSwitchA, "10.100.0.5", 43500), ep(macSwitchB, "10.100.1.5", 80), 110, "IPv4 in IPv4, HTTP; FIN")
	tunnelTCP("6in4", Link{Tunnel: TunnelIPinIP, OuterClient: netip.MustParseAddr("192.0.2.51"), OuterServer: netip.MustParseAddr("192.0.2.52")},
		ep(macSwitchA, "2001:db8:6::5", 43600), ep(macSwitchB, "2001:db8:7::5", 80), 115, "IPv6 in IPv4 (protocol 41), HTTP; FIN")
	// Teredo client address 2001:0:c000:23e:8000:6344:3fff:fdc2: server 192.0.2.62, cone flag,
	// mapped port 40123 and address 192.0.2.61, both inverted.
	tunnelTCP("teredo", Link{Tunnel: TunnelTeredo, OuterClient: netip.MustParseAddr("192.0.2.61"), OuterServer: netip.MustParseAddr("192.0.2.62")},
		ep(macSwitchA, "2001:0:c000:23e:8000:6344:3fff:fdc2", 43700), ep(macSwitchB, "2001:db8:2::80", 80), 120, "Teredo (UDP 40123-3544), inner IPv6 HTTP; FIN")

	// MPTCP handshake and DSS options.
	{
		cv := NewConv("mptcp", ep(macClientB, "192.168.1.23", 41100), ep(macGateway, "203.0.113.40", 8080), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 52}
		c := tcp
		c.MPTCP = true
		TCPConversation(cv, at(125), c, []Message{
			{Data: HTTPRequest("mptcp.example.test", "/")},
			{FromServer: true, Data: HTTPResponse(4000)},
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "MPTCP: MP_CAPABLE in SYN, SYN-ACK, ACK; DSS on later segments; FIN", 0)
	}

	// TCP without options: bare ACKs are 54-byte frames padded to 60.
	{
		cv := NewConv("padded", ep(macClientA, "192.168.1.10", 50900), ep(macGateway, "198.51.100.70", 23), Link{})
		cv.IP.ServerTTL = 61
		c := TCPConfig{MSS: 1460, WScale: -1, Seed: seed, ClientWindow: 64240, ServerWindow: 65160}
		var msgs []Message
		msgs = append(msgs, Message{FromServer: true, Data: []byte("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27")})
		msgs = append(msgs, Message{Data: []byte("\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27")})
		msgs = append(msgs, Message{FromServer: true, Data: []byte("login: ")})
		for i, k := range "guest\r" {
			msgs = append(msgs, Message{Data: []byte(string(k)), Think: time.Duration(120+10*i) * time.Millisecond})
		}
		msgs = append(msgs, Message{FromServer: true, Data: []byte("guest\r\nPassword: ")})
		TCPConversation(cv, at(130), c, msgs, TCPEnd{Kind: CloseRST})
		add(cv, "Telnet-like TCP without timestamps or SACK: bare ACKs padded to 60 bytes; client RST", 0)
	}

	// NTP late in the capture.
	{
		cv := NewConv("ntp", ep(macClientB, "192.168.1.23", 40500), ep(macGateway, "198.51.100.80", 123), Link{})
		sent := at(200)
		recv := sent.Add(10 * time.Millisecond)
		reply := recv.Add(35 * time.Microsecond)
		q, err := NTPRequest(sent)
		if err != nil {
			return nil, err
		}
		r, err := NTPResponse(sent, recv, reply)
		if err != nil {
			return nil, err
		}
		UDPExchange(cv, sent, []Message{{Data: q}, {FromServer: true, Data: r}})
		add(cv, "NTPv4 client request and server answer", 0)
	}

	// Encrypted overlays late in the capture, after every other conversation.
	{
		cv := NewConv("tor", ep(macClientA, "192.168.1.10", 51000), ep(macGateway, "198.51.100.90", 9001), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 50}
		TorLink(cv, at(205), tcp, 60, 10*time.Millisecond, seed+3000)
		add(cv, "Tor-like link to OR port 9001, open before the capture: 60 cells of 586 bytes (TLS records), both ways", 0)
	}
	{
		cv := NewConv("wireguard", ep(macClientB, "192.168.1.23", 43900), ep(macGateway, "203.0.113.60", 51820), Link{})
		cv.IP.ServerTTL = 54
		const ci, si = 0x1a2b3c4d, 0x5e6f7081 // the two ends' session indexes
		msgs := []Message{
			{Data: WireGuardInitiation(seed+3100, ci)},
			{FromServer: true, Data: WireGuardResponse(seed+3101, si, ci)},
			{Data: WireGuardData(seed+3102, si, 0, 0)}, // keepalive confirms the handshake
		}
		for i := 0; i < 6; i++ {
			msgs = append(msgs,
				Message{Data: WireGuardData(seed+3110+uint64(i), si, uint64(i+1), 84), Think: 200 * time.Millisecond},
				Message{FromServer: true, Data: WireGuardData(seed+3120+uint64(i), ci, uint64(i), 1280)})
		}
		UDPExchange(cv, at(210), msgs)
		add(cv, "WireGuard-like UDP to 51820: handshake initiation and response, keepalive, 6 data exchanges", 0)
	}
	{
		cv := NewConv("openvpn", ep(macClientA, "192.168.1.10", 45100), ep(macGateway, "203.0.113.70", 1194), Link{})
		cv.IP.ServerTTL = 53
		const cs, ss = 0x0102030405060708, 0x1112131415161718 // session ids
		msgs := []Message{
			{Data: OpenVPNControl(OpenVPNHardResetClientV2, cs, 0, nil, 0, nil)},
			{FromServer: true, Data: OpenVPNControl(OpenVPNHardResetServerV2, ss, cs, []uint32{0}, 0, nil)},
			{Data: OpenVPNControl(OpenVPNAckV1, cs, ss, []uint32{0}, 0, nil)},
		}
		for i := 0; i < 5; i++ {
			msgs = append(msgs,
				Message{Data: OpenVPNData(seed+3200+uint64(i), 1, uint32(i+1), 100), Think: 100 * time.Millisecond},
				Message{FromServer: true, Data: OpenVPNData(seed+3210+uint64(i), 1, uint32(i+1), 1400)})
		}
		UDPExchange(cv, at(215), msgs)
		add(cv, "OpenVPN-like UDP to 1194: hard resets and ACK, then 5 data exchanges (P_DATA_V2)", 0)
	}
	{
		// DNS-over-HTTPS: a DNS message posted to Cloudflare's resolver over TLS 1.3.
		cv := NewConv("doh", ep(macClientB, "192.168.1.23", 41200), ep(macGateway, "1.1.1.1", 443), Link{})
		cv.IP = IPOptions{DontFragment: true, ServerTTL: 57}
		q, err := DNSMessage(0x1a06, "example.test", layers.DNSTypeA, false, 0, nil)
		if err != nil {
			return nil, err
		}
		r, err := DNSMessage(0x1a06, "example.test", layers.DNSTypeA, true, 0,
			[]DNSAnswer{{Name: "example.test", Type: layers.DNSTypeA, TTL: 300, IP: netip.MustParseAddr("203.0.113.10")}})
		if err != nil {
			return nil, err
		}
		req := append([]byte(fmt.Sprintf("POST /dns-query HTTP/1.1\r\nHost: cloudflare-dns.com\r\n"+
			"Content-Type: application/dns-message\r\nAccept: application/dns-message\r\nContent-Length: %d\r\n\r\n", len(q))), q...)
		resp := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: %d\r\n\r\n", len(r))), r...)
		TLSConversation(cv, at(220), tcp, TLSConfig{
			Version: tls.VersionTLS13, ServerName: "cloudflare-dns.com", ALPN: []string{"http/1.1"},
			Request: req, Response: resp, Seed: seed + 3300, Time: t0,
		}, TCPEnd{Kind: CloseFIN})
		add(cv, "DNS over HTTPS: TLS 1.3 to 1.1.1.1:443, SNI cloudflare-dns.com, POST /dns-query; FIN", 0)
	}

	for _, sc := range out {
		if _, err := sc.cv.Frames(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// merge returns the frames of all conversations in time order (ties keep
// conversation order), with their conversation index.
func merge(convs []sampleConv) ([]Frame, []int) {
	type item struct {
		f    Frame
		conv int
	}
	var all []item
	for i, sc := range convs {
		fr, _ := sc.cv.Frames()
		for _, f := range fr {
			all = append(all, item{f, i})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].f.TS.Before(all[j].f.TS) })
	frames := make([]Frame, len(all))
	conv := make([]int, len(all))
	for i, it := range all {
		frames[i] = it.f
		conv[i] = it.conv
	}
	return frames, conv
}

// Sample returns the frames of the demo capture testdata/sample.pcap: about
// 35 conversations over 220 seconds mixing TCP (TLS 1.2 and 1.3, HTTP,
// HTTP/2, SSH, MPTCP, loss and reordering, FIN and RST closes), UDP (DNS,
// NTP, a stream), ICMP and ICMPv6, IPv4 and IPv6 fragments, VLAN, QinQ,
// MPLS, PPPoE and the IP tunnels, then encrypted overlays (a Tor-like link
// of 586-byte cells, WireGuard, OpenVPN, DNS over HTTPS to 1.1.1.1). All
// frames are Ethernet on interface 0. Every call builds new frames.
func Sample() ([]Frame, error) {
	convs, err := buildSample()
	if err != nil {
		return nil, err
	}
	frames, _ := merge(convs)
	return frames, nil
}

// SampleNG returns the frames of testdata/sample.pcapng: those of Sample,
// with the tunnel conversations moved to interface 1 as raw IP packets.
func SampleNG() ([]Frame, error) {
	convs, err := buildSample()
	if err != nil {
		return nil, err
	}
	frames, conv := merge(convs)
	return ngFrames(convs, frames, conv)
}

// ngFrames moves the frames of conversations marked for interface 1 there,
// as raw IP packets; frames is modified.
func ngFrames(convs []sampleConv, frames []Frame, conv []int) ([]Frame, error) {
	for i := range frames {
		if convs[conv[i]].ng != 1 {
			continue
		}
		f, err := ToRawIP(frames[i])
		if err != nil {
			return nil, err
		}
		f.Iface = 1
		frames[i] = f
	}
	return frames, nil
}

// ToRawIP returns f without its Ethernet header and trailer (link type raw
// IP). The Ethernet header must be directly followed by IPv4 or IPv6.
func ToRawIP(f Frame) (Frame, error) {
	if f.LinkType != layers.LinkTypeEthernet || len(f.Data) < 14+20 {
		return f, errors.New("testgen: raw IP needs an Ethernet frame")
	}
	ip := f.Data[14:]
	var n int
	switch et := uint16(f.Data[12])<<8 | uint16(f.Data[13]); et {
	case 0x0800:
		n = int(ip[2])<<8 | int(ip[3])
	case 0x86dd:
		n = 40 + (int(ip[4])<<8 | int(ip[5]))
	default:
		return f, errors.New("testgen: raw IP needs Ethernet directly followed by IP")
	}
	if n > len(ip) {
		return f, errors.New("testgen: IP length beyond the frame")
	}
	f.Data = append([]byte(nil), ip[:n]...)
	f.LinkType = layers.LinkTypeRaw
	return f, nil
}
