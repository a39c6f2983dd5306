// Package testgen generates packet captures from real protocol bytes, for
// tests and for the committed files under testdata/.
//
// Every frame is built with gopacket layers and gopacket.SerializeLayers
// (lengths fixed, checksums computed); TLS records come from a real
// crypto/tls client and server. Output is deterministic: no clock, no
// unseeded randomness, so the same calls give byte-identical frames.
//
// A Conv holds the endpoints and link of one conversation. Builders
// (TCPSession, TCPConversation, UDPExchange, DNSQueryResponse, ICMPEcho,
// ...) append frames to it; Conv.Frames returns them. Sample merges the
// conversations of the demo capture, and SampleFlows describes the flows a
// flow table should find in it.
package testgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured frame.
type Frame struct {
	TS       time.Time
	Data     []byte
	LinkType layers.LinkType
	Iface    int  // pcapng interface index; classic pcap ignores it
	Meta     Meta // what the generator put in the frame; never written to a capture
}

// Event marks a deliberate anomaly in a TCP segment.
type Event uint8

const (
	EventNone           Event = iota
	EventRetransmission       // the segment repeats data sent before
	EventOutOfOrder           // the segment arrives after one with a higher sequence number
)

// Meta describes a generated frame.
type Meta struct {
	Conv       string // name of the Conv the frame belongs to
	FromClient bool   // sent by the Conv's client
	IPVersion  int    // innermost IP version
	Proto      uint8  // transport protocol (after IPv6 extension headers)
	IPLen      int    // innermost IP total length (IPv6: payload length + 40)
	// Payload is the transport payload the frame adds to its flow: the bytes
	// after the TCP or UDP header, or after the 8-byte ICMP/ICMPv6 header. A
	// fragmented datagram counts its payload once, on the fragment at offset
	// 0; later fragments count 0. Ethernet padding never counts.
	Payload  int
	Fragment bool // an IP fragment
	TCP      bool
	Flags    uint8 // TCP flags
	Seq, Ack uint32
	Window   uint16
	Event    Event
	ICMPType uint8
}

// Endpoint is one side of a conversation. MAC is the outermost Ethernet
// address of frames this side sends; IP and Port are the innermost
// (tunnelled) addresses.
type Endpoint struct {
	MAC  net.HardwareAddr
	IP   netip.Addr
	Port uint16
}

// Tunnel selects an IP encapsulation.
type Tunnel uint8

const (
	TunnelNone   Tunnel = iota
	TunnelIPinIP        // IPv4 or IPv6 inside IPv4 (protocol 4 or 41)
	TunnelGRE           // GRE (protocol 47) carrying IP
	TunnelVXLAN         // UDP 4789, inner Ethernet
	TunnelGeneve        // UDP 6081, inner Ethernet (protocol 0x6558)
	TunnelGTPU          // UDP 2152, GTPv1-U G-PDU
	TunnelTeredo        // IPv6 inside UDP, server side port 3544
)

func (t Tunnel) String() string {
	switch t {
	case TunnelIPinIP:
		return "ipip"
	case TunnelGRE:
		return "gre"
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGeneve:
		return "geneve"
	case TunnelGTPU:
		return "gtpu"
	case TunnelTeredo:
		return "teredo"
	}
	return ""
}

// Link says how a conversation's IP packets are carried, from the outside
// in: Ethernet, 802.1Q tags, then an MPLS stack or a PPPoE session, then an
// optional IP tunnel.
type Link struct {
	VLANs        []uint16 // 802.1Q VIDs, outermost first; with two or more the outer tag uses 802.1ad (0x88a8)
	MPLS         []uint32 // MPLS labels, outermost first
	PPPoESession uint16   // non-zero: PPPoE session stage with this session ID
	Tunnel       Tunnel
	OuterClient  netip.Addr // tunnel endpoint on the client's side
	OuterServer  netip.Addr // tunnel endpoint on the server's side
	VNI          uint32     // VXLAN/GENEVE network identifier, GTP-U TEID
}

// IPOptions are the per-conversation IP header values.
type IPOptions struct {
	ClientTTL, ServerTTL uint8  // TTL or hop limit (0: 64)
	TOS                  uint8  // IPv4 TOS or IPv6 traffic class
	FlowLabel            uint32 // IPv6 flow label of client packets (server packets use FlowLabel+1)
	HopByHop             bool   // IPv6: add a hop-by-hop header (PadN) before the transport header
	DontFragment         bool   // IPv4: set DF
}

// Conv is one conversation. Builders append frames; Frames returns them in
// the order they were built. The first error a builder meets is kept and
// returned by Frames; later builder calls do nothing.
type Conv struct {
	Name   string
	Client Endpoint
	Server Endpoint
	Link   Link
	IP     IPOptions

	frames  []Frame
	err     error
	ipID    [2]uint16 // next inner IPv4 ID per direction (0 client, 1 server)
	outerID [2]uint16
	last    time.Time
}

// NewConv returns an empty conversation. IP IDs start from values derived
// from the name, so two conversations do not share an ID sequence.
func NewConv(name string, client, server Endpoint, link Link) *Conv {
	h := fnv32(name)
	return &Conv{
		Name: name, Client: client, Server: server, Link: link,
		ipID:    [2]uint16{uint16(h), uint16(h >> 16)},
		outerID: [2]uint16{uint16(h>>8) ^ 0x5a5a, uint16(h>>24) ^ 0xa5a5},
	}
}

// Frames returns the frames built so far and the first error met.
func (c *Conv) Frames() ([]Frame, error) { return c.frames, c.err }

// Last returns the time of the latest frame.
func (c *Conv) Last() time.Time { return c.last }

func (c *Conv) fail(err error) {
	if c.err == nil {
		c.err = fmt.Errorf("testgen: %s: %w", c.Name, err)
	}
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// Serialize serializes layers with lengths fixed and checksums computed and
// returns a copy of the bytes.
func Serialize(ls ...gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

func ipSlice(a netip.Addr) net.IP { return net.IP(a.AsSlice()) }

// dirIndex is 0 for the client, 1 for the server.
func dirIndex(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// ends returns sender and receiver of a packet.
func (c *Conv) ends(fromClient bool) (src, dst Endpoint) {
	if fromClient {
		return c.Client, c.Server
	}
	return c.Server, c.Client
}

// innerIP builds the innermost IP header of a packet.
func (c *Conv) innerIP(fromClient bool, proto layers.IPProtocol) gopacket.NetworkLayer {
	src, dst := c.ends(fromClient)
	ttl := c.IP.ClientTTL
	if !fromClient {
		ttl = c.IP.ServerTTL
	}
	if ttl == 0 {
		ttl = 64
	}
	if src.IP.Is4() {
		d := dirIndex(fromClient)
		ip := &layers.IPv4{
			Version: 4, TTL: ttl, TOS: c.IP.TOS, Id: c.ipID[d], Protocol: proto,
			SrcIP: ipSlice(src.IP), DstIP: ipSlice(dst.IP),
		}
		c.ipID[d]++
		if c.IP.DontFragment {
			ip.Flags = layers.IPv4DontFragment
		}
		return ip
	}
	label := c.IP.FlowLabel
	if !fromClient && label != 0 {
		label++
	}
	ip := &layers.IPv6{
		Version: 6, HopLimit: ttl, TrafficClass: c.IP.TOS, FlowLabel: label & 0xfffff,
		NextHeader: proto, SrcIP: ipSlice(src.IP), DstIP: ipSlice(dst.IP),
	}
	if c.IP.HopByHop {
		hbh := &layers.IPv6HopByHop{}
		hbh.NextHeader = proto
		// PadN option filling the header to 8 bytes.
		hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}
		ip.HopByHop = hbh
		ip.NextHeader = layers.IPProtocolIPv6HopByHop
	}
	return ip
}

func etherTypeOf(a netip.Addr) layers.EthernetType {
	if a.Is4() {
		return layers.EthernetTypeIPv4
	}
	return layers.EthernetTypeIPv6
}

// macFor derives a locally administered MAC address from an IP address,
// for the inner Ethernet header of VXLAN and GENEVE frames.
func macFor(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x42, b[12], b[13], b[14], b[15]}
}

// wrap returns the layers that go in front of the innermost IP header.
func (c *Conv) wrap(fromClient bool) ([]gopacket.SerializableLayer, error) {
	src, dst := c.ends(fromClient)
	next := etherTypeOf(src.IP)
	var tun []gopacket.SerializableLayer
	if c.Link.Tunnel != TunnelNone {
		osrc, odst := c.Link.OuterClient, c.Link.OuterServer
		if !fromClient {
			osrc, odst = odst, osrc
		}
		if !osrc.IsValid() || !odst.IsValid() || osrc.Is4() != odst.Is4() {
			return nil, errors.New("tunnel needs outer addresses of one family")
		}
		var outer gopacket.NetworkLayer
		var proto layers.IPProtocol
		switch c.Link.Tunnel {
		case TunnelIPinIP:
			proto = layers.IPProtocolIPv4
			if next == layers.EthernetTypeIPv6 {
				proto = layers.IPProtocolIPv6
			}
		case TunnelGRE:
			proto = layers.IPProtocolGRE
		default:
			proto = layers.IPProtocolUDP
		}
		d := dirIndex(fromClient)
		if osrc.Is4() {
			outer = &layers.IPv4{Version: 4, TTL: 64, Id: c.outerID[d], Protocol: proto, SrcIP: ipSlice(osrc), DstIP: ipSlice(odst)}
			c.outerID[d]++
		} else {
			outer = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: ipSlice(osrc), DstIP: ipSlice(odst)}
		}
		tun = append(tun, outer.(gopacket.SerializableLayer))
		udp := func(cport, sport uint16) *layers.UDP {
			u := &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: layers.UDPPort(sport)}
			if !fromClient {
				u.SrcPort, u.DstPort = u.DstPort, u.SrcPort
			}
			u.SetNetworkLayerForChecksum(outer)
			return u
		}
		// Flow-entropy source port for VXLAN/GENEVE, as RFC 7348 suggests.
		entropy := uint16(49152 + fnv32(c.Name)%16384)
		switch c.Link.Tunnel {
		case TunnelGRE:
			tun = append(tun, &layers.GRE{Protocol: next})
		case TunnelVXLAN:
			tun = append(tun, udp(entropy, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: c.Link.VNI},
				&layers.Ethernet{SrcMAC: macFor(src.IP), DstMAC: macFor(dst.IP), EthernetType: next})
		case TunnelGeneve:
			tun = append(tun, udp(entropy, 6081), &layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: c.Link.VNI},
				&layers.Ethernet{SrcMAC: macFor(src.IP), DstMAC: macFor(dst.IP), EthernetType: next})
		case TunnelGTPU:
			tun = append(tun, udp(2152, 2152), &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: c.Link.VNI})
		case TunnelTeredo:
			if next != layers.EthernetTypeIPv6 {
				return nil, errors.New("teredo carries IPv6 only")
			}
			tun = append(tun, udp(40123, 3544))
		}
		next = etherTypeOf(osrc)
	}
	var l2 []gopacket.SerializableLayer
	switch {
	case c.Link.PPPoESession != 0:
		ppp := layers.PPPTypeIPv4
		if next == layers.EthernetTypeIPv6 {
			ppp = layers.PPPTypeIPv6
		}
		l2 = append(l2, &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: c.Link.PPPoESession},
			&layers.PPP{PPPType: ppp})
		next = layers.EthernetTypePPPoESession
	case len(c.Link.MPLS) > 0:
		for i, label := range c.Link.MPLS {
			l2 = append(l2, &layers.MPLS{Label: label, TTL: 64, StackBottom: i == len(c.Link.MPLS)-1})
		}
		next = layers.EthernetTypeMPLSUnicast
	}
	var tags []gopacket.SerializableLayer
	for i := len(c.Link.VLANs) - 1; i >= 0; i-- {
		tags = append([]gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: c.Link.VLANs[i], Type: next}}, tags...)
		next = layers.EthernetTypeDot1Q
		if i == 0 && len(c.Link.VLANs) > 1 {
			next = layers.EthernetTypeQinQ
		}
	}
	out := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src.MAC, DstMAC: dst.MAC, EthernetType: next}}
	out = append(out, tags...)
	out = append(out, l2...)
	return append(out, tun...), nil
}

// emit builds and appends one frame: the link layers, the innermost IP
// header ip (nil: built by innerIP for proto) and the layers after it.
func (c *Conv) emit(ts time.Time, fromClient bool, ip gopacket.NetworkLayer, proto layers.IPProtocol, meta Meta, rest ...gopacket.SerializableLayer) {
	if c.err != nil {
		return
	}
	if len(c.frames) > 0 && !ts.After(c.last) {
		c.fail(fmt.Errorf("frame at %s is not after the previous one at %s", ts.Format(time.RFC3339Nano), c.last.Format(time.RFC3339Nano)))
		return
	}
	if ip == nil {
		ip = c.innerIP(fromClient, proto)
	}
	for _, l := range rest {
		if t, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			if err := t.SetNetworkLayerForChecksum(ip); err != nil {
				c.fail(err)
				return
			}
		}
	}
	ls, err := c.wrap(fromClient)
	if err != nil {
		c.fail(err)
		return
	}
	ls = append(ls, ip.(gopacket.SerializableLayer))
	ls = append(ls, rest...)
	data, err := Serialize(ls...)
	if err != nil {
		c.fail(err)
		return
	}
	meta.Conv = c.Name
	meta.FromClient = fromClient
	meta.Proto = uint8(proto)
	switch ip := ip.(type) {
	case *layers.IPv4:
		meta.IPVersion = 4
		meta.IPLen = int(ip.Length)
	case *layers.IPv6:
		meta.IPVersion = 6
		meta.IPLen = int(ip.Length) + 40
	}
	c.frames = append(c.frames, Frame{TS: ts, Data: data, LinkType: layers.LinkTypeEthernet, Meta: meta})
	c.last = ts
}
