package extractors

import (
	"encoding/binary"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/dns"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "dns", Needs: flows.NeedBase | flows.NeedPayload, Compute: computeDNS})
}

// jjPayloadCap is the number of payload bytes of a packet JoyfulJay's
// protocol parsers see.
const jjPayloadCap = 256

// maxDNSTCPMessages is the number of length-prefixed messages read from each
// direction of a DNS-over-TCP connection.
const maxDNSTCPMessages = 64

// computeDNS fills the dns group for UDP and TCP flows with port 53 on
// either side (JoyfulJay's port rule: mDNS on 5353 and LLMNR on 5355 are not
// DNS flows here). Over UDP a message is a datagram; over TCP each direction
// is a sequence of messages with a 2-byte length prefix (RFC 1035 4.2.2).
// A message is any payload of at least 12 bytes.
//
// dns_detected and the query columns (dns_query_name, dns_query_type,
// dns_query_type_str, dns_is_query, dns_truncated, dns_recursion_desired)
// come from the flow's first message, read as JoyfulJay reads it (over UDP
// only its first 256 bytes, names decoded by dns.LegacyQuestion). Over TCP
// the first message is that of the direction whose first data segment came
// first.
//
// The response columns (POLICY: from the first response, where JoyfulJay
// reads the first message, normally the query) come from the first message
// with QR=1, read whole by dns.Parse: dns_is_response, dns_response_code
// (the header RCODE) and its name, the three section counts (header
// fields), dns_recursion_available, and the minimum and maximum TTL of the
// answer records whose fixed fields were read (0 without any). Without a
// response they keep JoyfulJay's defaults (-1 for the code, else 0, false,
// empty text). Over TCP the responder's messages are searched before the
// initiator's.
func computeDNS(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var first, resp []byte
	udp := f.Proto == 17
	if (udp || f.Proto == 6) && (f.InitPort == 53 || f.RespPort == 53) {
		if udp {
			first, resp = dnsUDPMessages(f)
			if len(first) > jjPayloadCap {
				first = first[:jjPayloadCap]
			}
		} else {
			first, resp = dnsTCPMessages(f)
		}
	}
	var (
		qname, qtypeStr string
		qtype           int64
	)
	h, detected := dns.ParseHeader(first)
	if detected {
		if name, t, ok := dns.LegacyQuestion(first); ok {
			qname, qtype, qtypeStr = name, int64(t), dns.TypeName(t)
		}
	}
	var (
		rcode             int64 = -1
		rcodeStr          string
		an, ns, ar        int64
		minTTL, maxTTL    int64
		isResp, recursion bool
	)
	if resp != nil {
		m, _ := dns.Parse(resp)
		isResp, recursion = true, m.RecursionAvailable()
		rcode, rcodeStr = int64(m.RCode()), dns.RCodeName(m.RCode())
		an, ns, ar = int64(m.ANCount), int64(m.NSCount), int64(m.ARCount)
		if m.Answers > 0 {
			minTTL, maxTTL = int64(m.MinTTL), int64(m.MaxTTL)
		}
	}
	out[0] = schema.BoolV(detected)
	out[1] = schema.TextV(qname)
	out[2] = schema.IntV(qtype)
	out[3] = schema.TextV(qtypeStr)
	out[4] = schema.IntV(rcode)
	out[5] = schema.TextV(rcodeStr)
	out[6] = schema.IntV(an)
	out[7] = schema.IntV(ns)
	out[8] = schema.IntV(ar)
	out[9] = schema.IntV(minTTL)
	out[10] = schema.IntV(maxTTL)
	out[11] = schema.BoolV(detected && !h.Response())
	out[12] = schema.BoolV(isResp)
	out[13] = schema.BoolV(h.Truncated())
	out[14] = schema.BoolV(h.RecursionDesired())
	out[15] = schema.BoolV(recursion)
	return nil
}

// dnsUDPMessages returns the flow's first datagram of at least 12 bytes and
// its first such datagram with QR=1 (nil when absent), in packet order over
// both directions.
func dnsUDPMessages(f *flows.Flow) (first, resp []byte) {
	dg := &f.App.Datagrams
	i, j := 0, 0
	for i < len(dg[0]) || j < len(dg[1]) {
		var d *flows.Datagram
		if j >= len(dg[1]) || (i < len(dg[0]) && dg[0][i].Index < dg[1][j].Index) {
			d = &dg[0][i]
			i++
		} else {
			d = &dg[1][j]
			j++
		}
		if len(d.Data) < dns.HeaderLen {
			continue
		}
		if first == nil {
			first = d.Data
		}
		if d.Data[2]&0x80 != 0 {
			return first, d.Data
		}
	}
	return first, nil
}

// dnsTCPMessages returns the first message of the DNS-over-TCP flow and its
// first response (nil when absent).
func dnsTCPMessages(f *flows.Flow) (first, resp []byte) {
	firstDir := -1
	for i := range f.Base {
		if f.Base[i].Payload > 0 {
			firstDir = 1
			if f.Base[i].Fwd {
				firstDir = 0
			}
			break
		}
	}
	if firstDir < 0 {
		return nil, nil
	}
	first = tcpDNSMessage(&f.App.Stream[firstDir], 0)
	if first == nil {
		first = tcpDNSMessage(&f.App.Stream[1-firstDir], 0)
	}
	for _, d := range [2]int{1, 0} {
		s := &f.App.Stream[d]
		data := s.Data
		for k, off := 0, 0; k < maxDNSTCPMessages && off+2 <= len(data); k++ {
			m := tcpDNSMessage(s, off)
			if m == nil {
				break
			}
			if m[2]&0x80 != 0 {
				return first, m
			}
			off += 2 + int(binary.BigEndian.Uint16(data[off:]))
		}
	}
	return first, nil
}

// tcpDNSMessage returns the length-prefixed message at off in a TCP stream,
// or nil when its length is below 12 or the stream ends before it does
// without a hole or the byte budget to explain it. A message cut by a hole
// or the budget is returned as far as it goes when 12 of its bytes are
// there.
func tcpDNSMessage(s *flows.Stream, off int) []byte {
	data := s.Data
	if off+2 > len(data) {
		return nil
	}
	n := int(binary.BigEndian.Uint16(data[off:]))
	m := data[off+2:]
	switch {
	case n < dns.HeaderLen:
		return nil
	case n <= len(m):
		return m[:n]
	case !s.Done() || len(m) < dns.HeaderLen:
		return nil
	}
	return m
}
