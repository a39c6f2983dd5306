package testgen

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestUDPFragmented(t *testing.T) {
	tests := []struct {
		name      string
		client    Endpoint
		server    Endpoint
		size, mtu int
		offsets   []int // fragment offsets in bytes
		hbh       bool
	}{
		{"ipv4", ep(macClientA, "10.0.0.1", 5000), ep(macGateway, "10.0.0.2", 6000), 4000, 1500, []int{0, 1480, 2960}, false},
		{"ipv4 small mtu", ep(macClientA, "10.0.0.1", 5000), ep(macGateway, "10.0.0.2", 6000), 1000, 576, []int{0, 552}, false},
		{"ipv6", ep(macClientA, "2001:db8::1", 5000), ep(macGateway, "2001:db8::2", 6000), 3000, 1280, []int{0, 1232, 2464}, false},
		{"ipv6 hop-by-hop", ep(macClientA, "2001:db8::1", 5000), ep(macGateway, "2001:db8::2", 6000), 2000, 1280, []int{0, 1224}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := NewConv("frag-"+tc.name, tc.client, tc.server, Link{})
			cv.IP.HopByHop = tc.hbh
			payload := RandomBytes(5, tc.size)
			UDPFragmented(cv, tStart, true, payload, tc.mtu)
			frames, err := cv.Frames()
			if err != nil {
				t.Fatal(err)
			}
			d := newDecoder()
			var offsets []int
			for i, f := range frames {
				if len(f.Data)-14 > tc.mtu {
					t.Errorf("fragment %d: %d bytes of IP, MTU %d", i, len(f.Data)-14, tc.mtu)
				}
				p := gopacket.NewPacket(f.Data, f.LinkType, gopacket.Default)
				if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
					offsets = append(offsets, int(ip.FragOffset)*8)
					if more := ip.Flags&layers.IPv4MoreFragments != 0; more != (i < len(frames)-1) {
						t.Errorf("fragment %d: MF %v", i, more)
					}
				}
				if fh, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
					offsets = append(offsets, int(fh.FragmentOffset)*8)
					if fh.MoreFragments != (i < len(frames)-1) {
						t.Errorf("fragment %d: M %v", i, fh.MoreFragments)
					}
					if tc.hbh && p.Layer(layers.LayerTypeIPv6HopByHop) == nil {
						t.Errorf("fragment %d lost its hop-by-hop header", i)
					}
				}
				want := 0
				if i == 0 {
					want = tc.size
				}
				if !f.Meta.Fragment || f.Meta.Payload != want {
					t.Errorf("fragment %d meta %+v", i, f.Meta)
				}
				if _, err := d.decode(f.LinkType, f.Data, f.TS); err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
			}
			if !slices.Equal(offsets, tc.offsets) {
				t.Errorf("offsets %v, want %v", offsets, tc.offsets)
			}
			if len(d.reassembed) != 1 || !bytes.Equal(d.reassembed[0][8:], payload) {
				t.Fatal("reassembled datagram does not hold the payload")
			}
		})
	}
}

func TestICMP(t *testing.T) {
	cv := NewConv("ping", ep(macClientA, "10.0.0.1", 0), ep(macGateway, "10.0.0.2", 0), Link{})
	last := ICMPEcho(cv, tStart, 0x77, 3)
	if want := tStart.Add(2*time.Second + 20*time.Millisecond); !last.Equal(want) {
		t.Errorf("last reply at %s, want %s", last, want)
	}
	ps := decodeConv(t, cv)
	if len(ps) != 6 {
		t.Fatalf("%d packets, want 6", len(ps))
	}
	for i, p := range ps {
		wantType := uint8(layers.ICMPv4TypeEchoRequest)
		if i%2 == 1 {
			wantType = layers.ICMPv4TypeEchoReply
		}
		if p.icmp4.TypeCode.Type() != wantType || p.icmp4.Id != 0x77 || p.icmp4.Seq != uint16(i/2+1) || p.payload != 56 {
			t.Errorf("packet %d: %v id %d seq %d payload %d", i, p.icmp4.TypeCode, p.icmp4.Id, p.icmp4.Seq, p.payload)
		}
	}

	probe := NewConv("probe", ep(macClientA, "10.0.0.1", 4000), ep(macGateway, "10.0.0.9", 33434), Link{})
	UDPSend(probe, tStart, true, []byte("0123456789"))
	pf, err := probe.Frames()
	if err != nil {
		t.Fatal(err)
	}
	un := NewConv("unreach", ep(macGateway, "10.0.0.9", 0), ep(macClientA, "10.0.0.1", 0), Link{})
	ICMPUnreachable(un, tStart.Add(time.Millisecond), true, 3, pf[0])
	ps = decodeConv(t, un)
	if tc := ps[0].icmp4.TypeCode; tc.Type() != layers.ICMPv4TypeDestinationUnreachable || tc.Code() != 3 {
		t.Errorf("type/code %v", tc)
	}
	if got, want := ps[0].icmp4.Payload, pf[0].Data[14:14+28]; !bytes.Equal(got, want) {
		t.Errorf("quoted %x, want the probe's IP header and 8 bytes %x", got, want)
	}

	v6 := NewConv("ping6", ep(macClientA, "2001:db8::1", 0), ep(macGateway, "2001:db8::2", 0), Link{})
	ICMPEcho(v6, tStart, 9, 1)
	ps = decodeConv(t, v6)
	p := gopacket.NewPacket(mustFrames(t, v6)[1].Data, layers.LinkTypeEthernet, gopacket.Default)
	echo, ok := p.Layer(layers.LayerTypeICMPv6Echo).(*layers.ICMPv6Echo)
	if len(ps) != 2 || !ok || echo.Identifier != 9 || echo.SeqNumber != 1 || ps[1].proto != 58 {
		t.Errorf("ICMPv6 echo reply: %+v", echo)
	}
}

func mustFrames(t *testing.T, cv *Conv) []Frame {
	t.Helper()
	f, err := cv.Frames()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestLinks builds one UDP datagram per link and checks gopacket's layers
// and the addresses of the innermost IP header.
func TestLinks(t *testing.T) {
	L := func(ts ...gopacket.LayerType) []gopacket.LayerType { return ts }
	eth, ip4, ip6, udp := layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeUDP
	o4a, o4b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	o6a, o6b := netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::2")
	c4, s4 := ep(macClientA, "10.1.0.1", 41111), ep(macGateway, "10.2.0.1", 42222)
	c6, s6 := ep(macClientA, "2001:db8:1::1", 41111), ep(macGateway, "2001:db8:2::1", 42222)
	tests := []struct {
		name           string
		link           Link
		client, server Endpoint
		want           []gopacket.LayerType
	}{
		{"ethernet", Link{}, c4, s4, L(eth, ip4, udp)},
		{"vlan", Link{VLANs: []uint16{7}}, c4, s4, L(eth, layers.LayerTypeDot1Q, ip4, udp)},
		{"qinq ipv6", Link{VLANs: []uint16{7, 8}}, c6, s6, L(eth, layers.LayerTypeDot1Q, layers.LayerTypeDot1Q, ip6, udp)},
		{"vlan mpls", Link{VLANs: []uint16{9}, MPLS: []uint32{16}}, c4, s4, L(eth, layers.LayerTypeDot1Q, layers.LayerTypeMPLS, ip4, udp)},
		{"pppoe ipv6", Link{PPPoESession: 3}, c6, s6, L(eth, layers.LayerTypePPPoE, layers.LayerTypePPP, ip6, udp)},
		{"gre over ipv6", Link{Tunnel: TunnelGRE, OuterClient: o6a, OuterServer: o6b}, c4, s4, L(eth, ip6, layers.LayerTypeGRE, ip4, udp)},
		{"vxlan", Link{Tunnel: TunnelVXLAN, OuterClient: o4a, OuterServer: o4b, VNI: 42}, c6, s6, L(eth, ip4, udp, layers.LayerTypeVXLAN, eth, ip6, udp)},
		{"geneve over vlan", Link{VLANs: []uint16{5}, Tunnel: TunnelGeneve, OuterClient: o4a, OuterServer: o4b, VNI: 43}, c4, s4,
			L(eth, layers.LayerTypeDot1Q, ip4, udp, layers.LayerTypeGeneve, eth, ip4, udp)},
		{"gtpu", Link{Tunnel: TunnelGTPU, OuterClient: o4a, OuterServer: o4b, VNI: 44}, c6, s6, L(eth, ip4, udp, layers.LayerTypeGTPv1U, ip6, udp)},
		{"ipip 6in6", Link{Tunnel: TunnelIPinIP, OuterClient: o6a, OuterServer: o6b}, c6, s6, L(eth, ip6, ip6, udp)},
		{"teredo", Link{Tunnel: TunnelTeredo, OuterClient: o4a, OuterServer: o4b}, c6, s6, L(eth, ip4, udp, ip6, udp)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := NewConv("link-"+tc.name, tc.client, tc.server, tc.link)
			UDPSend(cv, tStart, true, []byte("ping"))
			UDPSend(cv, tStart.Add(time.Millisecond), false, []byte("pong!"))
			ps := decodeConv(t, cv)
			for i, p := range ps {
				if !slices.Equal(p.layers[:min(len(p.layers), len(tc.want))], tc.want) {
					t.Fatalf("packet %d layers %v, want %v", i, p.layers, tc.want)
				}
				src, dst := tc.client, tc.server
				if i == 1 {
					src, dst = dst, src
				}
				if p.src != src.IP || p.dst != dst.IP || p.sport != src.Port || p.dport != dst.Port || !bytes.Equal(p.eth.SrcMAC, src.MAC) {
					t.Errorf("packet %d: %v:%d > %v:%d from %v", i, p.src, p.sport, p.dst, p.dport, p.eth.SrcMAC)
				}
				if want := []int{4, 5}[i]; p.payload != want {
					t.Errorf("packet %d payload %d, want %d", i, p.payload, want)
				}
			}
		})
	}
}

func TestToRawIP(t *testing.T) {
	cv := NewConv("raw", tClient, tServer, Link{})
	UDPSend(cv, tStart, true, []byte("x")) // 43-byte frame padded to 60
	f := mustFrames(t, cv)[0]
	raw, err := ToRawIP(f)
	if err != nil {
		t.Fatal(err)
	}
	if raw.LinkType != layers.LinkTypeRaw || !bytes.Equal(raw.Data, f.Data[14:14+29]) || len(f.Data) != 60 {
		t.Errorf("raw frame of %d bytes from a %d-byte frame", len(raw.Data), len(f.Data))
	}
	vlan := NewConv("rawvlan", tClient, tServer, Link{VLANs: []uint16{3}})
	UDPSend(vlan, tStart, true, []byte("x"))
	if _, err := ToRawIP(mustFrames(t, vlan)[0]); err == nil {
		t.Error("VLAN frame to raw IP: no error")
	}
}

func TestTLSHandshake(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := TLSConfig{Version: v, ServerName: "example.test", ALPN: []string{"h2", "http/1.1"},
			Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: TextBody(5000), Seed: 11, Time: tStart}
		a, err := TLSHandshake(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := TLSHandshake(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(a, b, func(x, y TLSFlight) bool { return x.FromServer == y.FromServer && bytes.Equal(x.Data, y.Data) }) {
			t.Errorf("TLS %#x: two runs differ", v)
		}
		cfg.Seed++
		c, err := TLSHandshake(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a[0].Data, c[0].Data) {
			t.Errorf("TLS %#x: another seed gives the same ClientHello", v)
		}
		if a[0].FromServer || !a[1].FromServer || a[0].Data[0] != 22 || a[0].Data[5] != 1 {
			t.Errorf("TLS %#x: first flights are not ClientHello then the server's", v)
		}
		// The server answered the whole response, encrypted.
		var server int
		for _, f := range a {
			if f.FromServer {
				server += len(f.Data)
			}
		}
		if server < 5000 {
			t.Errorf("TLS %#x: server wrote %d bytes", v, server)
		}
	}
}

func TestSSHPackets(t *testing.T) {
	for name, b := range map[string][]byte{"client": SSHClientKex(1), "server": SSHServerKex(2), "newkeys": SSHNewKeys(3)} {
		t.Run(name, func(t *testing.T) {
			var msgs []byte
			for len(b) > 0 {
				n := int(binary.BigEndian.Uint32(b))
				pad := int(b[4])
				if (4+n)%8 != 0 || pad < 4 || 4+n > len(b) {
					t.Fatalf("packet length %d, padding %d, %d bytes left", n, pad, len(b))
				}
				msgs = append(msgs, b[5])
				if b[5] == 20 {
					p := b[5+1+16 : 4+n-pad]
					var lists []string
					for i := 0; i < 10; i++ {
						l := int(binary.BigEndian.Uint32(p))
						lists = append(lists, string(p[4:4+l]))
						p = p[4+l:]
					}
					if len(p) != 5 || !strings.HasPrefix(lists[0], "curve25519-sha256,") || lists[6] != "none,zlib@openssh.com" {
						t.Errorf("KEXINIT lists %q, %d bytes after them", lists, len(p))
					}
				}
				b = b[4+n:]
			}
			want := map[string][]byte{"client": {20, 30}, "server": {20, 31, 21}, "newkeys": {21}}[name]
			if !bytes.Equal(msgs, want) {
				t.Errorf("messages %v, want %v", msgs, want)
			}
		})
	}
}

func TestHTTP2Frames(t *testing.T) {
	b := H2ClientStart("example.test", "/index.html")
	if !bytes.HasPrefix(b, []byte(h2Preface)) {
		t.Fatal("no client preface")
	}
	var types []byte
	for p := append(b[len(h2Preface):], append(H2ServerStart(), append(H2Response(100), H2ClientEnd()...)...)...); len(p) > 0; {
		n := int(p[0])<<16 | int(p[1])<<8 | int(p[2])
		if 9+n > len(p) {
			t.Fatalf("frame of %d bytes, %d left", n, len(p)-9)
		}
		types = append(types, p[3])
		p = p[9+n:]
	}
	if want := []byte{4, 8, 1, 4, 4, 1, 0, 4, 7}; !bytes.Equal(types, want) {
		t.Errorf("frame types %v, want %v", types, want)
	}
}

func TestNTP(t *testing.T) {
	sent := time.Date(2025, 1, 15, 9, 33, 20, 500_000_000, time.UTC)
	b, err := NTPResponse(sent, sent.Add(time.Millisecond), sent.Add(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var n layers.NTP
	if err := n.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if len(b) != 48 || n.Mode != 4 || n.Version != 4 || uint64(n.OriginTimestamp)>>32 != uint64(sent.Unix()+2208988800) || uint32(n.OriginTimestamp) != 1<<31 {
		t.Errorf("NTP response %+v", n)
	}
}
