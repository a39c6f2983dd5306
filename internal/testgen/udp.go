package testgen

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Default gaps between datagrams of UDPExchange and ICMPEcho.
const (
	udpSameSide = time.Millisecond
	udpReply    = 20 * time.Millisecond
	udpTurn     = 500 * time.Microsecond
)

// UDPSend sends one UDP datagram at t.
func UDPSend(cv *Conv, t time.Time, fromClient bool, payload []byte) {
	src, dst := cv.ends(fromClient)
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port), DstPort: layers.UDPPort(dst.Port)}
	cv.emit(t, fromClient, nil, layers.IPProtocolUDP, Meta{Payload: len(payload)}, udp, gopacket.Payload(payload))
}

// gap is the default pause before a datagram from `fromClient` after one
// from `prevClient`, seen next to the client.
func gap(first bool, prevClient, fromClient bool) time.Duration {
	switch {
	case first:
		return 0
	case prevClient == fromClient:
		return udpSameSide
	case !fromClient:
		return udpReply
	}
	return udpTurn
}

// UDPExchange sends each message as one datagram: the first at start, each
// later one after a default gap (1 ms from the same side, 20 ms for a
// server reply, 0.5 ms for a client reply) plus its Think. It returns the
// time of the last datagram.
func UDPExchange(cv *Conv, start time.Time, msgs []Message) time.Time {
	t := start
	for i, m := range msgs {
		prev := i > 0 && !msgs[i-1].FromServer
		t = t.Add(gap(i == 0, prev, !m.FromServer) + m.Think)
		UDPSend(cv, t, !m.FromServer, m.Data)
	}
	return t
}

// DNSAnswer is one resource record of a DNS response.
type DNSAnswer struct {
	Name  string
	Type  layers.DNSType // A, AAAA or CNAME
	TTL   uint32
	IP    netip.Addr // A, AAAA
	CNAME string     // CNAME
}

// DNSMessage returns a DNS query (answers nil, response false) or response
// for one question, serialized by gopacket's layers.DNS.
func DNSMessage(id uint16, name string, qtype layers.DNSType, response bool, rcode layers.DNSResponseCode, answers []DNSAnswer) ([]byte, error) {
	d := &layers.DNS{ID: id, RD: true, QR: response, RA: response, ResponseCode: rcode,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
	for _, a := range answers {
		rr := layers.DNSResourceRecord{Name: []byte(a.Name), Type: a.Type, Class: layers.DNSClassIN, TTL: a.TTL}
		switch a.Type {
		case layers.DNSTypeA, layers.DNSTypeAAAA:
			rr.IP = a.IP.AsSlice()
		case layers.DNSTypeCNAME:
			rr.CNAME = []byte(a.CNAME)
		default:
			return nil, errors.New("testgen: DNS answer type not supported")
		}
		d.Answers = append(d.Answers, rr)
	}
	return Serialize(d)
}

// DNSQueryResponse sends a DNS query from the client at start and the
// server's response one reply gap later. It returns the response time.
func DNSQueryResponse(cv *Conv, start time.Time, id uint16, name string, qtype layers.DNSType, rcode layers.DNSResponseCode, answers []DNSAnswer) time.Time {
	q, err := DNSMessage(id, name, qtype, false, 0, nil)
	if err != nil {
		cv.fail(err)
		return start
	}
	r, err := DNSMessage(id, name, qtype, true, rcode, answers)
	if err != nil {
		cv.fail(err)
		return start
	}
	return UDPExchange(cv, start, []Message{{Data: q}, {FromServer: true, Data: r}})
}

// pingPayload is the 56-byte payload of Linux ping: a timeval, then the
// bytes 0x10, 0x11, ...
func pingPayload(t time.Time) []byte {
	p := make([]byte, 56)
	binary.LittleEndian.PutUint64(p[0:], uint64(t.Unix()))
	binary.LittleEndian.PutUint64(p[8:], uint64(t.Nanosecond()/1000))
	for i := 16; i < len(p); i++ {
		p[i] = byte(i)
	}
	return p
}

// ICMPEcho sends count echo request/reply pairs (ICMPv4 or ICMPv6, after the
// client's address family) one second apart, with sequence numbers 1, 2,
// ... It returns the time of the last reply.
func ICMPEcho(cv *Conv, start time.Time, id uint16, count int) time.Time {
	last := start
	for seq := 1; seq <= count; seq++ {
		req := start.Add(time.Duration(seq-1) * time.Second)
		echo(cv, req, true, id, uint16(seq))
		last = req.Add(udpReply)
		echo(cv, last, false, id, uint16(seq))
	}
	return last
}

func echo(cv *Conv, t time.Time, request bool, id, seq uint16) {
	payload := gopacket.Payload(pingPayload(t))
	if cv.Client.IP.Is4() {
		typ := uint8(layers.ICMPv4TypeEchoRequest)
		if !request {
			typ = layers.ICMPv4TypeEchoReply
		}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq}
		cv.emit(t, request, nil, layers.IPProtocolICMPv4, Meta{Payload: len(payload), ICMPType: typ}, icmp, payload)
		return
	}
	typ := uint8(layers.ICMPv6TypeEchoRequest)
	if !request {
		typ = layers.ICMPv6TypeEchoReply
	}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
	cv.emit(t, request, nil, layers.IPProtocolICMPv6, Meta{Payload: len(payload), ICMPType: typ}, icmp,
		&layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}, payload)
}

// ICMPUnreachable sends an ICMPv4 destination unreachable message with the
// given code, quoting the IP header and the first 8 payload bytes of the
// frame orig (an Ethernet frame carrying IPv4).
func ICMPUnreachable(cv *Conv, t time.Time, fromClient bool, code uint8, orig Frame) {
	p := gopacket.NewPacket(orig.Data, orig.LinkType, gopacket.Default)
	ip, ok := p.NetworkLayer().(*layers.IPv4)
	if !ok {
		cv.fail(errors.New("ICMP unreachable must quote an IPv4 packet"))
		return
	}
	quoted := append(append([]byte(nil), ip.Contents...), ip.Payload[:min(8, len(ip.Payload))]...)
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)}
	cv.emit(t, fromClient, nil, layers.IPProtocolICMPv4, Meta{Payload: len(quoted), ICMPType: layers.ICMPv4TypeDestinationUnreachable}, icmp, gopacket.Payload(quoted))
}

// UDPFragmented sends one UDP datagram carrying payload, split into IP
// fragments that fit mtu bytes of IP packet: IPv4 fragments (MF flag and
// offset) or IPv6 fragment headers, after the client's address family.
// Fragments go out 10 µs apart, in order; it returns the time of the last.
func UDPFragmented(cv *Conv, t time.Time, fromClient bool, payload []byte, mtu int) time.Time {
	src, dst := cv.ends(fromClient)
	ip := cv.innerIP(fromClient, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port), DstPort: layers.UDPPort(dst.Port)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		cv.fail(err)
		return t
	}
	datagram, err := Serialize(udp, gopacket.Payload(payload))
	if err != nil {
		cv.fail(err)
		return t
	}
	hdr := 20
	if v6, ok := ip.(*layers.IPv6); ok {
		hdr = 40 + 8
		if v6.HopByHop != nil {
			hdr += 8
		}
	}
	chunk := (mtu - hdr) &^ 7
	if chunk <= 0 {
		cv.fail(errors.New("MTU too small for a fragment"))
		return t
	}
	id := uint32(fnv32(cv.Name)) | 1
	for off := 0; off < len(datagram); off += chunk {
		end := min(off+chunk, len(datagram))
		more := end < len(datagram)
		meta := Meta{Fragment: true}
		if off == 0 {
			meta.Payload = len(payload)
		}
		if off > 0 {
			t = t.Add(10 * time.Microsecond)
		}
		piece := gopacket.Payload(datagram[off:end])
		switch ip := ip.(type) {
		case *layers.IPv4:
			f := *ip
			f.FragOffset = uint16(off / 8)
			if more {
				f.Flags |= layers.IPv4MoreFragments
			}
			cv.emit(t, fromClient, &f, layers.IPProtocolUDP, meta, piece)
		case *layers.IPv6:
			f := *ip
			if f.HopByHop != nil {
				hbh := *f.HopByHop
				hbh.NextHeader = layers.IPProtocolIPv6Fragment
				f.HopByHop = &hbh
			} else {
				f.NextHeader = layers.IPProtocolIPv6Fragment
			}
			fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: more, Identification: id}
			cv.emit(t, fromClient, &f, layers.IPProtocolUDP, meta, fh, piece)
		}
	}
	return t
}
