package flows

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = net.HardwareAddr{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
	ip4A = net.IP{10, 0, 0, 1}
	ip4B = net.IP{10, 0, 0, 2}
	ip4C = net.IP{192, 0, 2, 1}
	ip4D = net.IP{192, 0, 2, 2}
	ip6A = net.ParseIP("2001:db8::1")
	ip6B = net.ParseIP("2001:db8::2")
	ip6C = net.ParseIP("2001:db8:ffff::1")
	ip6D = net.ParseIP("2001:db8:ffff::2")
)

// ser serializes layers with lengths and checksums fixed.
func ser(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var net gopacket.NetworkLayer
	for _, l := range ls {
		switch x := l.(type) {
		case *layers.IPv4:
			net = x
		case *layers.IPv6:
			net = x
		case *layers.TCP:
			if net == nil {
				break
			}
			if err := x.SetNetworkLayerForChecksum(net); err != nil {
				t.Fatal(err)
			}
		case *layers.ICMPv6:
			if net == nil {
				break
			}
			if err := x.SetNetworkLayerForChecksum(net); err != nil {
				t.Fatal(err)
			}
		case *layers.UDP:
			if net == nil {
				break
			}
			if err := x.SetNetworkLayerForChecksum(net); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: net != nil}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

// ethHdr is a bare Ethernet header (gopacket pads a serialized Ethernet
// layer to the minimum frame size).
func ethHdr(et uint16) []byte {
	b := append(append(append([]byte(nil), macB...), macA...), 0, 0)
	binary.BigEndian.PutUint16(b[12:], et)
	return b
}

func ipv4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Flags: layers.IPv4DontFragment, TOS: 0x10, Protocol: proto, SrcIP: src, DstIP: dst}
}

func ipv6(src, dst net.IP, nh layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 63, TrafficClass: 0x20, FlowLabel: 0x12345, NextHeader: nh, SrcIP: src, DstIP: dst}
}

func tcpL() *layers.TCP {
	return &layers.TCP{SrcPort: 1234, DstPort: 80, Seq: 1000, Ack: 2000, ACK: true, PSH: true, Window: 512, DataOffset: 5}
}

func udpL() *layers.UDP { return &layers.UDP{SrcPort: 5353, DstPort: 53} }

var hello = gopacket.Payload("hello")

// inner4 is IPv4/TCP carrying "hello"; inner6 is IPv6/UDP carrying 10 bytes.
func inner4() []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcpL(), hello}
}

func inner6() []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{ipv6(ip6A, ip6B, layers.IPProtocolUDP), udpL(), gopacket.Payload("0123456789")}
}

func cat(parts ...[]gopacket.SerializableLayer) []gopacket.SerializableLayer {
	var out []gopacket.SerializableLayer
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ls(l ...gopacket.SerializableLayer) []gopacket.SerializableLayer { return l }

// view is the part of a Packet the table tests compare.
type view struct {
	V          uint8
	Src, Dst   string
	Proto      uint8
	FirstNH    uint8
	SPort      uint16
	DPort      uint16
	TCP, UDP   bool
	PayloadLen int
	IPLen      int
	IPHdrLen   int
	Tunnel     Tunnel
	HasEth     bool
	EthType    uint16
	VLANID     uint16
	VLANs      uint8
	Frag       bool
	FragOff    uint16
	MF         bool
	Trunc      bool
}

func viewOf(p *Packet) view {
	return view{
		V: p.IPVersion, Src: Addr(p.SrcIP, p.IPVersion == 6).String(), Dst: Addr(p.DstIP, p.IPVersion == 6).String(),
		Proto: p.Proto, FirstNH: p.FirstNH, SPort: p.SrcPort, DPort: p.DstPort, TCP: p.HasTCP, UDP: p.HasUDP,
		PayloadLen: p.PayloadLen, IPLen: p.IPLen, IPHdrLen: p.IPHdrLen, Tunnel: p.Tunnel, HasEth: p.HasEth,
		EthType: p.EthType, VLANID: p.VLANID, VLANs: p.VLANCount, Frag: p.IsFragment, FragOff: p.FragOffset,
		MF: p.MoreFrags, Trunc: p.Truncated,
	}
}

// Expected views of inner4 and inner6 without a link layer.
var (
	v4tcp = view{V: 4, Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, FirstNH: 6, SPort: 1234, DPort: 80, TCP: true, PayloadLen: 5, IPLen: 45, IPHdrLen: 20}
	v6udp = view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, FirstNH: 17, SPort: 5353, DPort: 53, UDP: true, PayloadLen: 10, IPLen: 58, IPHdrLen: 40}
)

func with(v view, f func(*view)) view { f(&v); return v }

func onEth(v view, et uint16) view {
	return with(v, func(w *view) { w.HasEth = true; w.EthType = et })
}

func tunneled(v view, k Tunnel, et uint16) view {
	return with(v, func(w *view) { w.Tunnel = k; w.HasEth = et != 0; w.EthType = et })
}

type decodeCase struct {
	name  string
	link  uint16
	frame []byte
	want  view
}

func decodeOne(link uint16, frame []byte) (*Packet, error) {
	p := &Packet{CapLen: len(frame), WireLen: len(frame)}
	var dec Decoder
	return p, dec.Decode(p, link, frame)
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeOne(tc.link, tc.frame)
			if err != nil {
				t.Fatalf("Decode = %v", err)
			}
			if got := viewOf(p); got != tc.want {
				t.Errorf("Decode:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func be16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func TestDecodeLinkTypes(t *testing.T) {
	raw4 := ser(t, inner4()...)
	raw6 := ser(t, inner6()...)
	sll := func(proto uint16) []byte {
		h := []byte{0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0}
		return append(h, be16b(proto)...)
	}
	sll2 := func(proto uint16) []byte {
		h := append(be16b(proto), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6)
		return append(h, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0, 0)
	}
	null := func(order binary.AppendByteOrder, af uint32) []byte { return order.AppendUint32(nil, af) }
	cases := []decodeCase{
		{"ethernet ipv4", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeIPv4)), inner4())...), onEth(v4tcp, 0x0800)},
		{"ethernet ipv6", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeIPv6)), inner6())...), onEth(v6udp, 0x86dd)},
		{"null le", LinkNull, append(null(binary.LittleEndian, 2), raw4...), v4tcp},
		{"null be", LinkNull, append(null(binary.BigEndian, 2), raw4...), v4tcp},
		{"null ipv6 24", LinkNull, append(null(binary.LittleEndian, 24), raw6...), v6udp},
		{"null ipv6 28", LinkNull, append(null(binary.LittleEndian, 28), raw6...), v6udp},
		{"null ipv6 30", LinkNull, append(null(binary.LittleEndian, 30), raw6...), v6udp},
		{"null ipv6 10", LinkNull, append(null(binary.LittleEndian, 10), raw6...), v6udp},
		{"loop", LinkLoop, append(null(binary.BigEndian, 2), raw4...), v4tcp},
		{"ppp addr ctl", LinkPPP, append([]byte{0xff, 0x03, 0x00, 0x21}, raw4...), v4tcp},
		{"ppp bare ipv6", LinkPPP, append([]byte{0x00, 0x57}, raw6...), v6udp},
		{"ppp compressed proto", LinkPPP, append([]byte{0x21}, raw4...), v4tcp},
		{"ppp gopacket", LinkPPP, ser(t, cat(ls(&layers.PPP{PPPType: layers.PPPTypeIPv4}), inner4())...), v4tcp},
		{"ppp hdlc", LinkPPPHDLC, append([]byte{0xff, 0x03, 0x00, 0x57}, raw6...), v6udp},
		{"c hdlc", LinkCHDLC, append([]byte{0x0f, 0x00, 0x08, 0x00}, raw4...), v4tcp},
		{"raw 101 v4", LinkRaw, raw4, v4tcp},
		{"raw 101 v6", LinkRaw, raw6, v6udp},
		{"raw 12", LinkRaw12, raw4, v4tcp},
		{"raw 14", LinkRaw14, raw6, v6udp},
		{"ipv4 228", LinkIPv4, raw4, v4tcp},
		{"ipv6 229", LinkIPv6, raw6, v6udp},
		{"linux sll", LinkLinuxSLL, append(sll(0x0800), raw4...), v4tcp},
		{"linux sll ipv6", LinkLinuxSLL, append(sll(0x86dd), raw6...), v6udp},
		{"linux sll2", LinkLinuxSLL2, append(sll2(0x0800), raw4...), v4tcp},
	}
	runDecodeCases(t, cases)
}

// dot11Frame builds an 802.11 data frame by hand: frame control, duration,
// addresses, sequence, optional fourth address, QoS and HT control.
func dot11Frame(fc0, fc1 byte, qos []byte, payload []byte) []byte {
	b := []byte{fc0, fc1, 0, 0}
	for i := 0; i < 3; i++ {
		b = append(b, macA...)
	}
	b = append(b, 0x10, 0x00)
	if fc1&0x03 == 0x03 {
		b = append(b, macB...)
	}
	b = append(b, qos...)
	if qos != nil && fc1&0x80 != 0 {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, payload...)
}

func TestDecodeDot11(t *testing.T) {
	llc4 := append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, ser(t, inner4()...)...)
	llc6 := append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd}, ser(t, inner6()...)...)
	gp := ser(t, cat(ls(
		&layers.Dot11{Type: layers.Dot11TypeData, Flags: layers.Dot11FlagsToDS, Address1: macA, Address2: macB, Address3: macA},
		&layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3},
		&layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: layers.EthernetTypeIPv4},
	), inner4())...)
	radiotap := ser(t, cat(ls(
		gopacket.Payload{0, 0, 12, 0, 0x04, 0, 0, 0, 10, 0, 0, 0}, // version, pad, length 12, rate present
		&layers.Dot11{Type: layers.Dot11TypeData, Address1: macA, Address2: macB, Address3: macA},
		&layers.LLC{DSAP: 0xaa, SSAP: 0xaa, Control: 3},
		&layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: layers.EthernetTypeIPv6},
	), inner6())...)
	cases := []decodeCase{
		{"data gopacket", LinkIEEE80211, gp, v4tcp},
		{"data", LinkIEEE80211, dot11Frame(0x08, 0x01, nil, llc4), v4tcp},
		{"four address", LinkIEEE80211, dot11Frame(0x08, 0x03, nil, llc6), v6udp},
		{"qos", LinkIEEE80211, dot11Frame(0x88, 0x01, []byte{0, 0}, llc4), v4tcp},
		{"qos four address htc", LinkIEEE80211, dot11Frame(0x88, 0x83, []byte{0, 0}, llc6), v6udp},
		{"radiotap", LinkRadiotap, radiotap, v6udp},
	}
	runDecodeCases(t, cases)

	nonIP := []struct {
		name  string
		link  uint16
		frame []byte
	}{
		{"protected", LinkIEEE80211, dot11Frame(0x08, 0x41, nil, llc4)},
		{"management", LinkIEEE80211, dot11Frame(0x80, 0x00, nil, llc4)},
		{"null data", LinkIEEE80211, dot11Frame(0x48, 0x01, nil, llc4)},
		{"a-msdu", LinkIEEE80211, dot11Frame(0x88, 0x01, []byte{0x80, 0}, llc4)},
		{"no snap", LinkIEEE80211, dot11Frame(0x08, 0x01, nil, append([]byte{0x42, 0x42, 0x03}, llc4[3:]...))},
		{"short", LinkIEEE80211, []byte{0x08, 0x01, 0, 0}},
		{"radiotap length beyond frame", LinkRadiotap, []byte{0, 0, 0xff, 0x00, 0, 0, 0, 0, 1, 2}},
	}
	for _, tc := range nonIP {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeOne(tc.link, tc.frame); !errors.Is(err, ErrNotIP) {
				t.Errorf("Decode = %v, want ErrNotIP", err)
			}
		})
	}
}

func TestDecodeEthernetEncapsulations(t *testing.T) {
	pppoe := ser(t, cat(ls(
		eth(layers.EthernetTypePPPoESession),
		&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 9},
		&layers.PPP{PPPType: layers.PPPTypeIPv6},
	), inner6())...)
	snap := append(ethHdr(0),
		append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, ser(t, inner4()...)...)...)
	binary.BigEndian.PutUint16(snap[12:], uint16(len(snap)-14))
	tags := func(n int) []byte {
		b := ethHdr(0x88a8)
		for i := 0; i < n; i++ {
			next := uint16(0x8100)
			if i == n-1 {
				next = 0x0800
			}
			b = append(b, byte(0x20), byte(10+i))
			b = append(b, be16b(next)...)
		}
		return append(b, ser(t, inner4()...)...)
	}
	cases := []decodeCase{
		{"802.1q", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}), inner4())...),
			with(onEth(v4tcp, 0x8100), func(w *view) { w.VLANID = 100; w.VLANs = 1 })},
		{"qinq", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv6}), inner6())...),
			with(onEth(v6udp, 0x88a8), func(w *view) { w.VLANID = 200; w.VLANs = 2 })},
		{"eight tags", LinkEthernet, tags(8), with(onEth(v4tcp, 0x88a8), func(w *view) { w.VLANID = 10; w.VLANs = 8 })},
		{"mpls", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeMPLSUnicast),
			&layers.MPLS{Label: 100, TTL: 5}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 5}), inner4())...), onEth(v4tcp, 0x8847)},
		{"mpls ipv6", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeMPLSMulticast),
			&layers.MPLS{Label: 200, StackBottom: true, TTL: 5}), inner6())...), onEth(v6udp, 0x8848)},
		{"vlan mpls", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeMPLSUnicast},
			&layers.MPLS{Label: 200, StackBottom: true, TTL: 5}), inner4())...),
			with(onEth(v4tcp, 0x8100), func(w *view) { w.VLANID = 5; w.VLANs = 1 })},
		{"pppoe", LinkEthernet, pppoe, onEth(v6udp, 0x8864)},
		{"802.3 llc snap", LinkEthernet, snap, onEth(v4tcp, uint16(len(snap)-14))},
	}
	runDecodeCases(t, cases)

	nonIP := []struct {
		name  string
		frame []byte
	}{
		{"arp", ser(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: macA, SourceProtAddress: ip4A, DstHwAddress: macB, DstProtAddress: ip4B})},
		{"nine tags", tags(9)},
		{"short", []byte{1, 2, 3}},
		{"pppoe discovery", append(ethHdr(0x8863), 0x11, 0x09, 0, 0, 0, 0)},
		{"mpls no bottom", append(ethHdr(0x8847), 0, 0, 0, 5, 0, 0, 0, 5)},
		{"mpls ethernet pseudowire", append(ethHdr(0x8847), 0, 0, 1, 5, 0, 0, 0, 0, 1, 2, 3)},
	}
	for _, tc := range nonIP {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeOne(LinkEthernet, tc.frame); !errors.Is(err, ErrNotIP) {
				t.Errorf("Decode = %v, want ErrNotIP", err)
			}
		})
	}
}

func TestDecodeIPv4Fields(t *testing.T) {
	ip := &layers.IPv4{Version: 4, IHL: 6, TTL: 33, Id: 0xbeef, Flags: layers.IPv4EvilBit | layers.IPv4DontFragment, TOS: 0xb8,
		Protocol: layers.IPProtocolTCP, SrcIP: ip4A, DstIP: ip4B, Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}
	frame := ser(t, ip, tcpL(), hello)
	p, err := decodeOne(LinkRaw, frame)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{p.TTL, p.TOS, p.IPID, p.IPFlags, p.IPHdrLen, p.IPLen, p.PayloadLen, p.Seq, p.Ack, p.Window, p.TCPFlags, p.TCPHdrLen, string(p.Payload)}
	want := []any{uint8(33), uint8(0xb8), uint32(0xbeef), uint8(6), 24, 49, 5, uint32(1000), uint32(2000), uint16(512), uint8(ACK | PSH), 20, "hello"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

func TestDecodeIPv6Fields(t *testing.T) {
	frame := ser(t, inner6()...)
	p, err := decodeOne(LinkRaw, frame)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{p.TTL, p.TrafficClass, p.FlowLabel, p.TOS, string(p.Payload)}
	want := []any{uint8(63), uint8(0x20), uint32(0x12345), uint8(0), "0123456789"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

// fragment4 builds an IPv4 fragment carrying data at offset off (8-byte units).
func fragment4(t *testing.T, proto layers.IPProtocol, off uint16, more bool, data []byte) []byte {
	ip := ipv4(ip4A, ip4B, proto)
	ip.Flags = 0
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	ip.FragOffset = off
	return ser(t, ip, gopacket.Payload(data))
}

func TestDecodeFragments(t *testing.T) {
	// A 100-byte UDP datagram payload split in two IPv4 fragments.
	udpDatagram := ser(t, &layers.UDP{SrcPort: 5353, DstPort: 53, Length: 108}, gopacket.Payload(bytes.Repeat([]byte{'x'}, 100)))
	udpDatagram[4], udpDatagram[5] = 0, 108
	tcpSeg := ser(t, ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcpL(), gopacket.Payload(bytes.Repeat([]byte{'y'}, 60)))[20:]

	v6frag := func(off uint16, more bool, data []byte) []byte {
		return ser(t, ipv6(ip6A, ip6B, layers.IPProtocolIPv6Fragment),
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: off, MoreFragments: more, Identification: 0xabcdef01},
			gopacket.Payload(data))
	}
	frag4 := view{V: 4, Src: "10.0.0.1", Dst: "10.0.0.2", IPHdrLen: 20, Frag: true}
	cases := []decodeCase{
		{"ipv4 udp first", LinkRaw, fragment4(t, layers.IPProtocolUDP, 0, true, udpDatagram[:56]),
			with(frag4, func(w *view) {
				w.Proto, w.FirstNH, w.UDP, w.SPort, w.DPort, w.PayloadLen, w.IPLen, w.MF = 17, 17, true, 5353, 53, 100, 76, true
			})},
		{"ipv4 udp last", LinkRaw, fragment4(t, layers.IPProtocolUDP, 7, false, udpDatagram[56:]),
			with(frag4, func(w *view) { w.Proto, w.FirstNH, w.PayloadLen, w.IPLen, w.FragOff = 17, 17, 52, 72, 7 })},
		{"ipv4 tcp first", LinkRaw, fragment4(t, layers.IPProtocolTCP, 0, true, tcpSeg[:48]),
			with(frag4, func(w *view) {
				w.Proto, w.FirstNH, w.TCP, w.SPort, w.DPort, w.PayloadLen, w.IPLen, w.MF = 6, 6, true, 1234, 80, 28, 68, true
			})},
		{"ipv4 tcp header split", LinkRaw, fragment4(t, layers.IPProtocolTCP, 0, true, tcpSeg[:16]),
			with(frag4, func(w *view) {
				w.Proto, w.FirstNH, w.TCP, w.SPort, w.DPort, w.PayloadLen, w.IPLen, w.MF = 6, 6, true, 1234, 80, 0, 36, true
			})},
		{"ipv6 udp first", LinkRaw, v6frag(0, true, udpDatagram[:56]),
			view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, FirstNH: 44, SPort: 5353, DPort: 53, UDP: true, PayloadLen: 100, IPLen: 104, IPHdrLen: 48, Frag: true, MF: true}},
		{"ipv6 udp last", LinkRaw, v6frag(7, false, udpDatagram[56:]),
			view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, FirstNH: 44, PayloadLen: 52, IPLen: 100, IPHdrLen: 48, Frag: true, FragOff: 7}},
		{"ipv6 atomic fragment", LinkRaw, v6frag(0, false, udpDatagram),
			view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, FirstNH: 44, SPort: 5353, DPort: 53, UDP: true, PayloadLen: 100, IPLen: 156, IPHdrLen: 48}},
	}
	runDecodeCases(t, cases)
	p, _ := decodeOne(LinkRaw, v6frag(7, false, udpDatagram[56:]))
	if p.IPID != 0xabcdef01 {
		t.Errorf("ipv6 fragment IPID = %#x, want 0xabcdef01", p.IPID)
	}
	p, _ = decodeOne(LinkRaw, fragment4(t, layers.IPProtocolUDP, 7, false, udpDatagram[56:]))
	if p.IPID != 7 || p.IPFlags != 0 {
		t.Errorf("ipv4 fragment IPID, flags = %d, %d, want 7, 0", p.IPID, p.IPFlags)
	}
}

func TestDecodeIPv6ExtensionHeaders(t *testing.T) {
	hop := &layers.IPv6HopByHop{}
	hop.NextHeader = layers.IPProtocolIPv6Destination
	hop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	dst := &layers.IPv6Destination{}
	dst.NextHeader = layers.IPProtocolIPv6Routing
	dst.Options = []*layers.IPv6DestinationOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	// Routing header type 0, no addresses (8 bytes), then AH (12 bytes + 4 ICV), then TCP.
	routing := []byte{51, 0, 0, 0, 0, 0, 0, 0}
	ah := []byte{6, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef}
	tcp := ser(t, ipv6(ip6A, ip6B, layers.IPProtocolTCP), tcpL(), hello)[40:]
	ip := ipv6(ip6A, ip6B, layers.IPProtocolIPv6HopByHop)
	frame := ser(t, ip, hop, dst, gopacket.Payload(routing), gopacket.Payload(ah), gopacket.Payload(tcp))
	// hop 8 + dst 8 + routing 8 + ah 16 = 40 bytes of extension headers.
	want := view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 6, FirstNH: 0, SPort: 1234, DPort: 80, TCP: true,
		PayloadLen: 5, IPLen: 40 + 40 + 25, IPHdrLen: 80}
	esp := ser(t, ipv6(ip6A, ip6B, layers.IPProtocolIPv6Destination), dst, gopacket.Payload([]byte{0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 9}))
	esp[40] = 50
	runDecodeCases(t, []decodeCase{
		{"chain", LinkRaw, frame, want},
		{"esp stops", LinkRaw, esp, view{V: 6, Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 50, FirstNH: 60, PayloadLen: 12, IPLen: 60, IPHdrLen: 48}},
	})

	// An extension header claiming more than the payload length is malformed.
	bad := append([]byte(nil), frame...)
	bad[41] = 200
	if _, err := decodeOne(LinkRaw, bad); !isDecodeError(err, "ipv6") {
		t.Errorf("oversized extension header: Decode = %v, want ipv6 DecodeError", err)
	}
	// A loop of 17 destination-options headers ends the walk without error.
	chain := ipv6(ip6A, ip6B, layers.IPProtocolIPv6Destination)
	var ext []byte
	for i := 0; i < 17; i++ {
		ext = append(ext, 60, 0, 1, 4, 0, 0, 0, 0)
	}
	p, err := decodeOne(LinkRaw, ser(t, chain, gopacket.Payload(ext)))
	if err != nil || p.Proto != 60 || p.IPHdrLen != 40+16*8 || p.PayloadLen != 8 {
		t.Errorf("17 headers: err %v, Proto %d, IPHdrLen %d, PayloadLen %d; want nil, 60, 168, 8", err, p.Proto, p.IPHdrLen, p.PayloadLen)
	}
}

func isDecodeError(err error, layer string) bool {
	var de *DecodeError
	return errors.As(err, &de) && de.Layer == layer
}

func TestDecodeTransport(t *testing.T) {
	optCases0 := []struct {
		name string
		opts []layers.TCPOption
		want TCPOpts
		hl   int
	}{
		{"handshake", []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{7}},
			{OptionType: layers.TCPOptionKindSACKPermitted},
			{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{0, 0, 1, 0, 0, 0, 2, 0}},
			{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{0x02, 0x18}}, // repeated: last wins
			{OptionType: layers.TCPOptionKindEndList},
		}, TCPOpts{HasMSS: true, MSS: 536, HasWS: true, WS: 7, SACKOK: true, HasTS: true, TSVal: 256, TSEcr: 512,
			Kinds: 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<8}, 48},
		{"sack and mptcp", []layers.TCPOption{
			{OptionType: layers.TCPOptionKindSACK, OptionData: make([]byte, 16)},
			{OptionType: layers.TCPOptionKindSACK, OptionData: make([]byte, 8)},
			{OptionType: 30, OptionData: []byte{0x00, 0x81}}, // MP_CAPABLE
			{OptionType: 30, OptionData: []byte{0x20, 0x01}}, // DSS
		}, TCPOpts{SACKBlocks: 3, MPTCPCount: 2, MPTCPSub: 1<<0 | 1<<2, Kinds: 1<<5 | 1<<30}, 56},
	}
	for _, tc := range optCases0 {
		t.Run(tc.name, func(t *testing.T) {
			tcp := tcpL()
			tcp.SYN = true
			tcp.Options = tc.opts
			p, err := decodeOne(LinkRaw, ser(t, ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcp, hello))
			if err != nil {
				t.Fatal(err)
			}
			if p.Opts != tc.want {
				t.Errorf("Opts = %+v, want %+v", p.Opts, tc.want)
			}
			if p.TCPHdrLen != 20+len(p.TCPOptions) || p.TCPHdrLen != tc.hl || p.PayloadLen != 5 || p.TCPFlags != SYN|ACK|PSH {
				t.Errorf("TCPHdrLen %d (options %d), PayloadLen %d, flags %#x; want %d, 5, SYN|ACK|PSH", p.TCPHdrLen, len(p.TCPOptions), p.PayloadLen, p.TCPFlags, tc.hl)
			}
		})
	}

	optCases := []struct {
		name string
		raw  []byte
		want TCPOpts
	}{
		{"zero length stops", []byte{1, 2, 0, 5, 4, 2, 0, 0}, TCPOpts{Kinds: 1<<1 | 1<<2}},
		{"length one stops", []byte{3, 1, 4, 2}, TCPOpts{Kinds: 1 << 3}},
		{"overrun stops", []byte{4, 2, 8, 10, 0, 0, 0, 1}, TCPOpts{SACKOK: true, Kinds: 1<<4 | 1<<8}},
		{"kind without length", []byte{1, 1, 1, 2}, TCPOpts{Kinds: 1<<1 | 1<<2}},
		{"wrong mss length", []byte{2, 3, 1, 1, 1, 1, 1, 1}, TCPOpts{Kinds: 1<<1 | 1<<2}},
		{"high kind", []byte{200, 2, 1, 1, 0, 0, 0, 0}, TCPOpts{Kinds: 1<<1 | 1<<0}},
		{"all nops", bytes.Repeat([]byte{1}, 40), TCPOpts{Kinds: 1 << 1}},
	}
	for _, tc := range optCases {
		t.Run(tc.name, func(t *testing.T) {
			var o TCPOpts
			parseTCPOptions(&o, tc.raw)
			if o != tc.want {
				t.Errorf("parseTCPOptions(%v) = %+v, want %+v", tc.raw, o, tc.want)
			}
		})
	}

	icmp := func(typ, code uint8) []byte {
		return ser(t, ipv4(ip4A, ip4B, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: 0x1234, Seq: 7}, gopacket.Payload("abcdefgh"))
	}
	icmpCases := []struct {
		name              string
		frame             []byte
		typ, code         uint8
		id, seq           uint16
		v6                bool
		payload           int
		hasICMP, hasICMP6 bool
	}{
		{"echo request", icmp(8, 0), 8, 0, 0x1234, 7, false, 8, true, false},
		{"echo reply", icmp(0, 0), 0, 0, 0x1234, 7, false, 8, true, false},
		{"timestamp", icmp(13, 0), 13, 0, 0x1234, 7, false, 8, true, false},
		{"unreachable", icmp(3, 1), 3, 1, 0, 0, false, 8, true, false},
		{"icmpv6", ser(t, ipv6(ip6A, ip6B, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, gopacket.Payload("abcd")),
			128, 0, 0, 0, true, 8, false, true},
	}
	for _, tc := range icmpCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeOne(LinkRaw, tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{p.HasICMP, p.HasICMPv6, p.ICMPType, p.ICMPCode, p.ICMPID, p.ICMPSeq, p.PayloadLen, p.SrcPort, p.DstPort}
			want := []any{tc.hasICMP, tc.hasICMP6, tc.typ, tc.code, tc.id, tc.seq, tc.payload, uint16(0), uint16(0)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("icmp fields = %v, want %v", got, want)
			}
		})
	}
}

func TestDecodePaddingAndTruncation(t *testing.T) {
	ack := tcpL()
	ack.PSH = false
	frame := ser(t, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolTCP), ack)
	frame = append(frame, make([]byte, 60-len(frame))...) // Ethernet minimum frame
	p, err := decodeOne(LinkEthernet, frame)
	if err != nil || p.PayloadLen != 0 || len(p.Payload) != 0 || p.IPLen != 40 {
		t.Errorf("padded ACK: err %v, PayloadLen %d, len(Payload) %d, IPLen %d; want 0, 0, 40", err, p.PayloadLen, len(p.Payload), p.IPLen)
	}

	udpPad := ser(t, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolUDP), udpL(), gopacket.Payload("ab"))
	udpPad = append(udpPad, make([]byte, 60-len(udpPad))...)
	p, err = decodeOne(LinkEthernet, udpPad)
	if err != nil || p.PayloadLen != 2 || string(p.Payload) != "ab" {
		t.Errorf("padded UDP: err %v, PayloadLen %d, Payload %q; want 2, \"ab\"", err, p.PayloadLen, p.Payload)
	}

	big := ser(t, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcpL(), gopacket.Payload(bytes.Repeat([]byte{1}, 1000)))
	cases := []struct {
		name    string
		caplen  int
		want    int // PayloadLen
		payload int // len(Payload)
		tcp     bool
		port    uint16
		seq     uint32
	}{
		{"payload cut", 64, 1000, 10, true, 80, 1000},
		{"header cut", 14 + 20 + 10, 1000, 0, true, 80, 1000},
		{"ports only", 14 + 20 + 4, 1000, 0, true, 80, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Packet{CapLen: tc.caplen, WireLen: len(big)}
			var dec Decoder
			if err := dec.Decode(p, LinkEthernet, big[:tc.caplen]); err != nil {
				t.Fatal(err)
			}
			if !p.Truncated || p.PayloadLen != tc.want || len(p.Payload) != tc.payload || p.HasTCP != tc.tcp || p.DstPort != tc.port || p.Seq != tc.seq || p.IPLen != 1040 {
				t.Errorf("got Truncated %v PayloadLen %d len(Payload) %d HasTCP %v DstPort %d Seq %d IPLen %d",
					p.Truncated, p.PayloadLen, len(p.Payload), p.HasTCP, p.DstPort, p.Seq, p.IPLen)
			}
		})
	}

	// A total length larger than the frame on the wire is clamped to it.
	lying := ser(t, ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcpL(), hello)
	binary.BigEndian.PutUint16(lying[2:], 2000)
	p, err = decodeOne(LinkRaw, lying)
	if err != nil || p.PayloadLen != 5 || p.IPLen != 2000 || p.Truncated {
		t.Errorf("lying total length: err %v, PayloadLen %d, IPLen %d, Truncated %v; want 5, 2000, false", err, p.PayloadLen, p.IPLen, p.Truncated)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := ser(t, inner4()...)
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := []struct {
		name  string
		link  uint16
		frame []byte
		layer string
	}{
		{"ihl below 5", LinkRaw, mod(func(b []byte) { b[0] = 0x44 }), "ipv4"},
		{"version mismatch", LinkEthernet, append(ethHdr(0x0800), ser(t, inner6()...)...), "ipv4"},
		{"ipv6 version mismatch", LinkEthernet, append(ethHdr(0x86dd), good...), "ipv6"},
		{"total length below header", LinkRaw, mod(func(b []byte) { b[2], b[3] = 0, 19 }), "ipv4"},
		{"header beyond frame", LinkRaw, mod(func(b []byte) { b[0] = 0x4f })[:30], "ipv4"},
		{"total length beyond frame", LinkRaw, good[:30], "tcp"},
		{"short ipv4", LinkRaw, good[:10], "ipv4"},
		{"tcp segment too short", LinkRaw, mod(func(b []byte) { b[2], b[3] = 0, 30 }), "tcp"},
		{"udp length below 8", LinkRaw, func() []byte {
			b := ser(t, inner6()...)
			b[45] = 4
			return b
		}(), "udp"},
		{"udp segment too short", LinkRaw, ser(t, ipv4(ip4A, ip4B, layers.IPProtocolUDP), gopacket.Payload("abc")), "udp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeOne(tc.link, tc.frame)
			if !isDecodeError(err, tc.layer) {
				t.Errorf("Decode = %v, want a %s DecodeError", err, tc.layer)
			}
		})
	}
	if _, err := decodeOne(200, good); !errors.Is(err, ErrUnknownLinkType) {
		t.Errorf("link type 200: Decode = %v, want ErrUnknownLinkType", err)
	}
	// A TCP data offset that lies keeps the packet, marked Malformed: below 5
	// the header is taken as 20 bytes, past the segment as the whole segment.
	for _, tc := range []struct {
		name    string
		off     byte
		payload int
	}{{"data offset below 5", 0x40, 5}, {"data offset beyond segment", 0xf0, 0}} {
		p, err := decodeOne(LinkRaw, mod(func(b []byte) { b[32] = tc.off }))
		if err != nil || !p.Malformed || !p.HasTCP || p.SrcPort == 0 || p.PayloadLen != tc.payload {
			t.Errorf("%s: err %v, Malformed %v, ports %d/%d, PayloadLen %d; want a malformed TCP packet with payload %d",
				tc.name, err, p.Malformed, p.SrcPort, p.DstPort, p.PayloadLen, tc.payload)
		}
	}
	// Total length 0 (segmentation offload): the payload is measured on the
	// captured bytes; IPLen keeps the header's 0, as JoyfulJay reports it.
	p, err := decodeOne(LinkRaw, mod(func(b []byte) { b[2], b[3] = 0, 0 }))
	if err != nil || p.PayloadLen != 5 || p.IPLen != 0 {
		t.Errorf("total length 0: err %v, PayloadLen %d, IPLen %d; want 5, 0", err, p.PayloadLen, p.IPLen)
	}
}

// TestDecodeCrossCheck compares addresses, ports and payloads with gopacket's
// own decoding of the same frames.
func TestDecodeCrossCheck(t *testing.T) {
	frames := []struct {
		name  string
		link  layers.LinkType
		frame []byte
	}{
		{"eth tcp", layers.LinkTypeEthernet, ser(t, cat(ls(eth(layers.EthernetTypeIPv4)), inner4())...)},
		{"eth vlan udp6", layers.LinkTypeEthernet, ser(t, cat(ls(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv6}), inner6())...)},
		{"raw tcp", layers.LinkTypeRaw, ser(t, inner4()...)},
		{"loop", layers.LinkTypeLoop, append([]byte{0, 0, 0, 2}, ser(t, inner4()...)...)},
	}
	for _, tc := range frames {
		t.Run(tc.name, func(t *testing.T) {
			gp := gopacket.NewPacket(tc.frame, tc.link, gopacket.Default)
			p, err := decodeOne(uint16(tc.link), tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			nl := gp.NetworkLayer()
			tl := gp.TransportLayer()
			if nl == nil || tl == nil {
				t.Fatalf("gopacket found no network/transport layer: %v", gp)
			}
			src, dst := nl.NetworkFlow().Endpoints()
			if got := Addr(p.SrcIP, p.IPVersion == 6).String(); got != net.IP(src.Raw()).String() {
				t.Errorf("SrcIP = %s, gopacket %s", got, net.IP(src.Raw()))
			}
			if got := Addr(p.DstIP, p.IPVersion == 6).String(); got != net.IP(dst.Raw()).String() {
				t.Errorf("DstIP = %s, gopacket %s", got, net.IP(dst.Raw()))
			}
			sp, dp := tl.TransportFlow().Endpoints()
			if p.SrcPort != binary.BigEndian.Uint16(sp.Raw()) || p.DstPort != binary.BigEndian.Uint16(dp.Raw()) {
				t.Errorf("ports %d>%d, gopacket %v>%v", p.SrcPort, p.DstPort, sp, dp)
			}
			if !bytes.Equal(p.Payload, tl.LayerPayload()) {
				t.Errorf("Payload %q, gopacket %q", p.Payload, tl.LayerPayload())
			}
		})
	}
}

func TestDecodeTunnels(t *testing.T) {
	outer4 := func(p layers.IPProtocol) *layers.IPv4 { return ipv4(ip4C, ip4D, p) }
	outer6 := func(p layers.IPProtocol) *layers.IPv6 { return ipv6(ip6C, ip6D, p) }
	innerEth := func() []gopacket.SerializableLayer {
		return ls(&layers.Ethernet{SrcMAC: macB, DstMAC: macA, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 77, Type: layers.EthernetTypeIPv4})
	}
	e4 := ls(eth(layers.EthernetTypeIPv4))
	e6 := ls(eth(layers.EthernetTypeIPv6))
	udpTo := func(src, dst layers.UDPPort) *layers.UDP { return &layers.UDP{SrcPort: src, DstPort: dst} }
	erspan3 := func(o bool) gopacket.Payload {
		h := []byte{0x20, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 0}
		if o {
			h[11] = 0x01
			h = append(h, 1, 2, 3, 4, 5, 6, 7, 8)
		}
		return h
	}
	pptp := func(ppp []byte) gopacket.Payload {
		n := len(ppp) + 45
		h := []byte{0x30, 0x81, 0x88, 0x0b, byte(n >> 8), byte(n), 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 1}
		return append(h, ppp...)
	}
	teredo := func(auth bool) gopacket.Payload {
		var h []byte
		if auth {
			h = append(h, 0, 1, 2, 3, 'i', 'd', 'a', 'u', 't', 1, 2, 3, 4, 5, 6, 7, 8, 0)
		}
		return append(h, 0, 0, 0x12, 0x34, 1, 2, 3, 4)
	}
	nested := ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4},
		ipv4(ip4D, ip4C, layers.IPProtocolUDP), udpTo(999, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 5}), innerEth(), inner4())...)

	cases := []decodeCase{
		{"ipip", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolIPv4)), inner4())...), tunneled(v4tcp, TunnelIPinIP, 0x0800)},
		{"6in4", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolIPv6)), inner6())...), tunneled(v6udp, TunnelIPinIP, 0x0800)},
		{"4in6", LinkEthernet, ser(t, cat(e6, ls(outer6(layers.IPProtocolIPv4)), inner4())...), tunneled(v4tcp, TunnelIPinIP, 0x86dd)},
		{"6in6 raw", LinkRaw, ser(t, cat(ls(outer6(layers.IPProtocolIPv6)), inner6())...), tunneled(v6udp, TunnelIPinIP, 0)},
		{"gre ipv4", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}), inner4())...),
			tunneled(v4tcp, TunnelGRE, 0x0800)},
		{"gre checksum key seq ipv6", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE),
			&layers.GRE{ChecksumPresent: true, KeyPresent: true, SeqPresent: true, Key: 5, Seq: 9, Protocol: layers.EthernetTypeIPv6}), inner6())...),
			tunneled(v6udp, TunnelGRE, 0x0800)},
		{"gre over ipv6", LinkEthernet, ser(t, cat(e6, ls(outer6(layers.IPProtocolGRE), &layers.GRE{KeyPresent: true, Protocol: layers.EthernetTypeIPv4}), inner4())...),
			tunneled(v4tcp, TunnelGRE, 0x86dd)},
		{"gre ethernet", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}), innerEth(), inner4())...), tunneled(v4tcp, TunnelGRE, 0x0800)},
		{"gre mpls", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeMPLSUnicast},
			&layers.MPLS{Label: 16, StackBottom: true, TTL: 9}), inner4())...), tunneled(v4tcp, TunnelGRE, 0x0800)},
		{"erspan type ii", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Seq: 1, Protocol: layers.EthernetTypeERSPAN},
			&layers.ERSPANII{Version: 1, SessionID: 3}), innerEth(), inner4())...), tunneled(v4tcp, TunnelERSPAN, 0x0800)},
		{"erspan type i", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN}),
			innerEth(), inner4())...), tunneled(v4tcp, TunnelERSPAN, 0x0800)},
		{"erspan type iii", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Protocol: 0x22eb}, erspan3(false)),
			innerEth(), inner4())...), tunneled(v4tcp, TunnelERSPAN, 0x0800)},
		{"erspan type iii platform subheader", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Protocol: 0x22eb}, erspan3(true)),
			innerEth(), inner4())...), tunneled(v4tcp, TunnelERSPAN, 0x0800)},
		{"pptp", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), pptp([]byte{0xff, 0x03, 0x00, 0x21})), inner4())...), tunneled(v4tcp, TunnelGRE, 0x0800)},
		{"pptp compressed", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), pptp([]byte{0x21})), inner4())...), tunneled(v4tcp, TunnelGRE, 0x0800)},
		{"vxlan", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(40000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42}), innerEth(), inner4())...),
			tunneled(v4tcp, TunnelVXLAN, 0x0800)},
		{"vxlan source port", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(4789, 40000), &layers.VXLAN{ValidIDFlag: true, VNI: 42}), innerEth(), inner4())...),
			tunneled(v4tcp, TunnelVXLAN, 0x0800)},
		{"geneve ethernet options", LinkEthernet, ser(t, cat(e6, ls(outer6(layers.IPProtocolUDP), udpTo(40000, 6081),
			&layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 7,
				Options: []*layers.GeneveOption{{Class: 0x0102, Type: 0x80, Length: 8, Data: []byte{1, 2, 3, 4}}}}), innerEth(), inner4())...),
			tunneled(v4tcp, TunnelGENEVE, 0x86dd)},
		{"geneve ipv6", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(40000, 6081),
			&layers.Geneve{Protocol: layers.EthernetTypeIPv6, VNI: 7}), inner6())...), tunneled(v6udp, TunnelGENEVE, 0x0800)},
		{"gtp-u", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(2152, 2152),
			&layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 0xff, TEID: 99}), inner4())...), tunneled(v4tcp, TunnelGTPU, 0x0800)},
		{"gtp-u extension headers", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(2152, 2152),
			&layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 0xff, TEID: 99, SequenceNumberFlag: true, SequenceNumber: 4,
				GTPExtensionHeaders: []layers.GTPExtensionHeader{{Type: 0x85, Content: []byte{0x00, 0x09}}, {Type: 0x40, Content: []byte{1, 2, 3, 4, 5, 6}}}}), inner6())...),
			tunneled(v6udp, TunnelGTPU, 0x0800)},
		{"teredo", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(3544, 50000), teredo(false)), inner6())...),
			tunneled(v6udp, TunnelTeredo, 0x0800)},
		{"teredo authentication", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(50000, 3544), teredo(true)), inner6())...),
			tunneled(v6udp, TunnelTeredo, 0x0800)},
		{"teredo bare", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(50000, 3544)), inner6())...),
			tunneled(v6udp, TunnelTeredo, 0x0800)},
		{"gre then vxlan", LinkEthernet, nested, tunneled(v4tcp, TunnelGRE, 0x0800)},
	}
	runDecodeCases(t, cases)

	// Packets whose inner packet does not validate stay as the outer packet.
	outerUDP := func(sport, dport uint16, n int) view {
		return view{V: 4, Src: "192.0.2.1", Dst: "192.0.2.2", Proto: 17, FirstNH: 17, SPort: sport, DPort: dport, UDP: true,
			PayloadLen: n, IPLen: 28 + n, IPHdrLen: 20, HasEth: true, EthType: 0x0800}
	}
	junk := gopacket.Payload("this is not a packet at all, not even close")
	keep := []decodeCase{
		{"gre junk", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, junk))...),
			view{V: 4, Src: "192.0.2.1", Dst: "192.0.2.2", Proto: 47, FirstNH: 47, PayloadLen: 4 + len(junk), IPLen: 24 + len(junk), IPHdrLen: 20, HasEth: true, EthType: 0x0800}},
		{"vxlan without I flag", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(40000, 4789), &layers.VXLAN{VNI: 42}), innerEth(), inner4())...),
			outerUDP(40000, 4789, 8+18+45)},
		{"gtp-u not g-pdu", LinkEthernet, ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(2152, 2152),
			&layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 1, TEID: 99}), inner4())...), outerUDP(2152, 2152, 8+45)},
		{"teredo payload too long", LinkEthernet, func() []byte {
			b := ser(t, cat(e4, ls(outer4(layers.IPProtocolUDP), udpTo(50000, 3544)), inner6())...)
			b[14+28+4] = 0x40 // inner payload length 16384
			return b
		}(), outerUDP(50000, 3544, 58)},
		{"ipip bad inner", LinkRaw, ser(t, outer4(layers.IPProtocolIPv4), junk),
			view{V: 4, Src: "192.0.2.1", Dst: "192.0.2.2", Proto: 4, FirstNH: 4, PayloadLen: len(junk), IPLen: 20 + len(junk), IPHdrLen: 20}},
	}
	runDecodeCases(t, keep)

	// Nesting is bounded: ten IP-in-IP layers decapsulate eight deep.
	var deep []gopacket.SerializableLayer
	for i := 0; i < 10; i++ {
		deep = append(deep, ipv4(ip4C, ip4D, layers.IPProtocolIPv4))
	}
	p, err := decodeOne(LinkRaw, ser(t, append(deep, inner4()...)...))
	if err != nil || p.Proto != 4 || p.Tunnel != TunnelIPinIP || p.IPLen != 20*2+45 {
		t.Errorf("deep nesting: err %v, Proto %d, Tunnel %v, IPLen %d; want 4, ipip, 85", err, p.Proto, p.Tunnel, p.IPLen)
	}

	// The outer link layer is reported, not the inner Ethernet's.
	p, _ = decodeOne(LinkEthernet, nested)
	if !bytes.Equal(p.SrcMAC[:], macA) || !bytes.Equal(p.DstMAC[:], macB) || p.HasVLAN || p.VLANID != 0 {
		t.Errorf("nested: SrcMAC %x DstMAC %x HasVLAN %v VLANID %d; want outer MACs and no VLAN", p.SrcMAC, p.DstMAC, p.HasVLAN, p.VLANID)
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := []struct {
		name  string
		link  uint16
		frame []byte
	}{
		{"ethernet tcp", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeIPv4)), inner4())...)},
		{"vxlan", LinkEthernet, ser(t, cat(ls(eth(layers.EthernetTypeIPv4), ipv4(ip4C, ip4D, layers.IPProtocolUDP),
			&layers.UDP{SrcPort: 1, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true}, eth(layers.EthernetTypeIPv4)), inner4())...)},
		{"ipv6 udp", LinkRaw, ser(t, inner6()...)},
	}
	for _, tc := range frames {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			p := &Packet{CapLen: len(tc.frame), WireLen: len(tc.frame)}
			n := testing.AllocsPerRun(1000, func() {
				p.Reset()
				if d.decode(p, tc.link, tc.frame) != resultIP {
					t.Fatal("not decoded")
				}
			})
			if n != 0 {
				t.Errorf("decode allocates %v times per frame", n)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	tcp := tcpL()
	tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{0, 0, 1, 0, 0, 0, 2, 0}}}
	frame := ser(b, eth(layers.EthernetTypeIPv4), ipv4(ip4A, ip4B, layers.IPProtocolTCP), tcp, gopacket.Payload(bytes.Repeat([]byte{'z'}, 500)))
	var d decoder
	var p Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		p.Reset()
		p.CapLen, p.WireLen = len(frame), len(frame)
		if d.decode(&p, LinkEthernet, frame) != resultIP {
			b.Fatal("not decoded")
		}
	}
}

// TestDecodeCorpusBogusIPv4Version pins the frames of nDPI's fuzzed capture
// whose EtherType says IPv4 but whose version nibble is not 4. tshark marks
// them "Bogus IPv4 version" and nDPI drops them; so does jjsql. JoyfulJay's
// scapy path decodes them by EtherType alone and reads the header with the
// damaged IHL (frame 17: IHL 10, so UDP ports 2093 -> 50904 from bytes 40-43
// of the IP header): 7 of its reference flows for this capture exist only
// through such frames, and 4 more flows hold one of them (docs/PARITY.md).
func TestDecodeCorpusBogusIPv4Version(t *testing.T) {
	path := filepath.Join(corpusDir(t), "ndpi", "pcap", "fuzz-2020-02-16-11740.pcap")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s not in this corpus", path)
	}
	// frame number -> first byte of the IPv4 header (tshark: Bogus IPv4 version)
	bogus := map[uint64]byte{17: 0x5a, 63: 0x07, 150: 0x1b, 175: 0x51, 218: 0x55, 221: 0x17,
		223: 0xcb, 238: 0x65, 298: 0x24, 317: 0x8e, 339: 0x25}
	// A little-endian pcapng of one section: walk its blocks, keep the
	// enhanced packet blocks' frames.
	if len(data) < 12 || binary.LittleEndian.Uint32(data[8:]) != 0x1a2b3c4d {
		t.Fatalf("%s: not a little-endian pcapng", path)
	}
	frames := map[uint64][]byte{}
	var n uint64
	for off := 0; off+12 <= len(data); {
		typ, blen := binary.LittleEndian.Uint32(data[off:]), int(binary.LittleEndian.Uint32(data[off+4:]))
		if blen < 12 || off+blen > len(data) {
			t.Fatalf("block at %d: length %d", off, blen)
		}
		if typ == ngEPB {
			n++
			caplen := int(binary.LittleEndian.Uint32(data[off+20:]))
			frames[n] = data[off+28 : off+28+caplen]
		}
		off += blen
	}
	if n != 366 {
		t.Fatalf("%d records, want 366", n)
	}
	for i, first := range bogus {
		f := frames[i]
		if len(f) < 15 || be16(f[12:]) != 0x0800 || f[14] != first {
			t.Fatalf("frame %d: EtherType/first IP byte % x, want 08 00 %02x", i, f[12:15], first)
		}
		if _, err := decodeOne(LinkEthernet, f); !isDecodeError(err, "ipv4") || !errors.Is(err, errVersion) {
			t.Errorf("frame %d: Decode = %v, want an ipv4 version DecodeError", i, err)
		}
	}
	src, err := OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pkts, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 328 {
		t.Errorf("%d packets delivered, want 328", len(pkts))
	}
	for _, p := range pkts {
		if _, ok := bogus[p.Index]; ok {
			t.Errorf("frame %d delivered: %s -> %s", p.Index, Addr(p.SrcIP, false), Addr(p.DstIP, false))
		}
	}
}
