package dns

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// msgBuilder assembles DNS messages byte by byte for the tests.
type msgBuilder []byte

func header(id, flags, qd, an, ns, ar uint16) msgBuilder {
	b := make(msgBuilder, 0, 512)
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// name appends labels and the root byte.
func (b msgBuilder) name(labels ...string) msgBuilder {
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func (b msgBuilder) ptr(off int) msgBuilder   { return append(b, 0xC0|byte(off>>8), byte(off)) }
func (b msgBuilder) u16(v uint16) msgBuilder  { return binary.BigEndian.AppendUint16(b, v) }
func (b msgBuilder) u32(v uint32) msgBuilder  { return binary.BigEndian.AppendUint32(b, v) }
func (b msgBuilder) raw(p ...byte) msgBuilder { return append(b, p...) }

// rr appends the fixed part of a resource record and its data.
func (b msgBuilder) rr(typ uint16, ttl uint32, rdata ...byte) msgBuilder {
	b = b.u16(typ).u16(1).u32(ttl).u16(uint16(len(rdata)))
	return append(b, rdata...)
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name                  string
		msg                   []byte
		ok                    bool
		resp, tc, rd, ra      bool
		opcode, rcode         uint8
		qd, an, ns, ar, flags uint16
	}{
		{name: "query", msg: header(0x1234, 0x0100, 1, 0, 0, 1), ok: true, rd: true, qd: 1, ar: 1, flags: 0x0100},
		{name: "nxdomain", msg: header(1, 0x8183, 1, 0, 1, 0), ok: true, resp: true, rd: true, ra: true, rcode: 3, qd: 1, ns: 1, flags: 0x8183},
		{name: "truncated notify", msg: header(1, 0x2200, 1, 0, 0, 0), ok: true, tc: true, opcode: 4, qd: 1, flags: 0x2200},
		{name: "short", msg: header(1, 0x8180, 1, 0, 0, 0)[:11]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := ParseHeader(tc.msg)
			if ok != tc.ok {
				t.Fatalf("ParseHeader ok = %v, want %v", ok, tc.ok)
			}
			if h.Response() != tc.resp || h.Truncated() != tc.tc || h.RecursionDesired() != tc.rd ||
				h.RecursionAvailable() != tc.ra || h.Opcode() != tc.opcode || h.RCode() != tc.rcode {
				t.Errorf("flags of %#04x: QR %v TC %v RD %v RA %v opcode %d rcode %d", h.Flags,
					h.Response(), h.Truncated(), h.RecursionDesired(), h.RecursionAvailable(), h.Opcode(), h.RCode())
			}
			if h.Flags != tc.flags || h.QDCount != tc.qd || h.ANCount != tc.an || h.NSCount != tc.ns || h.ARCount != tc.ar {
				t.Errorf("header = %+v", h)
			}
		})
	}
}

func TestReadName(t *testing.T) {
	// www.example.com at 12, then mail.<ptr to example.com at 16>.
	base := header(0, 0, 0, 0, 0, 0).name("www", "example", "com")
	twice := base.raw(4, 'm', 'a', 'i', 'l').ptr(16)
	loop := header(0, 0, 0, 0, 0, 0).raw(1, 'a').ptr(12)
	tests := []struct {
		name string
		msg  []byte
		off  int
		want string
		end  int
		err  error
	}{
		{name: "plain", msg: base, off: 12, want: "www.example.com", end: 29},
		{name: "pointer", msg: twice, off: 29, want: "mail.example.com", end: 36},
		{name: "root", msg: header(0, 0, 0, 0, 0, 0).raw(0), off: 12, want: ".", end: 13},
		{name: "escapes", msg: header(0, 0, 0, 0, 0, 0).raw(4, 'a', '.', 0xC3, '\\').raw(0), off: 12, want: `a\.\195\\`, end: 18},
		{name: "loop with a label", msg: loop, off: 12, err: ErrNameLen},
		{name: "self pointer", msg: header(0, 0, 0, 0, 0, 0).ptr(12), off: 12, err: ErrPointers},
		{name: "label past end", msg: header(0, 0, 0, 0, 0, 0).raw(5, 'a', 'b'), off: 12, err: ErrShort},
		{name: "no root", msg: header(0, 0, 0, 0, 0, 0).raw(1, 'a'), off: 12, err: ErrShort},
		{name: "half pointer", msg: header(0, 0, 0, 0, 0, 0).raw(0xC0), off: 12, err: ErrShort},
		{name: "pointer out of range", msg: header(0, 0, 0, 0, 0, 0).ptr(400), off: 12, err: ErrShort},
		{name: "extended label", msg: header(0, 0, 0, 0, 0, 0).raw(0x41, 0, 0), off: 12, err: ErrLabelType},
		{name: "too long", msg: header(0, 0, 0, 0, 0, 0).name(long63(), long63(), long63(), long63()), off: 12, err: ErrNameLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, end, err := ReadName(tc.msg, tc.off)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadName error = %v, want %v", err, tc.err)
			}
			if err == nil && (got != tc.want || end != tc.end) {
				t.Errorf("ReadName = %q, %d, want %q, %d", got, end, tc.want, tc.end)
			}
		})
	}
}

func long63() string {
	b := make([]byte, 63)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

func TestSkipName(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		end  int
		err  error
	}{
		{name: "labels", msg: header(0, 0, 0, 0, 0, 0).name("a", "bc"), end: 18},
		{name: "pointer ends the name", msg: header(0, 0, 0, 0, 0, 0).raw(1, 'a').ptr(12).raw(9, 9), end: 16},
		{name: "root", msg: header(0, 0, 0, 0, 0, 0).raw(0), end: 13},
		{name: "cut", msg: header(0, 0, 0, 0, 0, 0).raw(3, 'a'), err: ErrShort},
		{name: "reserved", msg: header(0, 0, 0, 0, 0, 0).raw(0x80), err: ErrLabelType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			end, err := SkipName(tc.msg, HeaderLen)
			if !errors.Is(err, tc.err) || (err == nil && end != tc.end) {
				t.Errorf("SkipName = %d, %v, want %d, %v", end, err, tc.end, tc.err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	// Response: www.example.com A, answers CNAME (ttl 3600) then A (ttl 60)
	// and A (ttl 300), one authority and one additional record.
	q := header(0xBEEF, 0x8180, 1, 3, 1, 1).name("www", "example", "com").u16(1).u16(1)
	resp := q.ptr(12).rr(5, 3600, 0xC0, 16).
		ptr(16).rr(1, 60, 192, 0, 2, 1).
		ptr(16).rr(1, 300, 192, 0, 2, 2).
		ptr(16).rr(2, 7, 0xC0, 12).
		raw(0).rr(41, 0)
	tests := []struct {
		name string
		msg  []byte
		err  error
		want Message
	}{
		{name: "response", msg: resp, want: Message{
			Header:      Header{ID: 0xBEEF, Flags: 0x8180, QDCount: 1, ANCount: 3, NSCount: 1, ARCount: 1},
			HasQuestion: true, QName: "www.example.com", QType: 1, QClass: 1,
			Answers: 3, MinTTL: 60, MaxTTL: 3600}},
		{name: "query", msg: header(7, 0x0100, 1, 0, 0, 0).name("example", "org").u16(28).u16(1), want: Message{
			Header:      Header{ID: 7, Flags: 0x0100, QDCount: 1},
			HasQuestion: true, QName: "example.org", QType: 28, QClass: 1}},
		// Cut inside the second answer's data: two TTLs were read.
		{name: "cut rdata", msg: resp[:len(q)+2+10+2+2+10+2], err: ErrShort, want: Message{
			Header:      Header{ID: 0xBEEF, Flags: 0x8180, QDCount: 1, ANCount: 3, NSCount: 1, ARCount: 1},
			HasQuestion: true, QName: "www.example.com", QType: 1, QClass: 1,
			Answers: 2, MinTTL: 60, MaxTTL: 3600}},
		// Cut inside the second answer's fixed fields: one TTL.
		{name: "cut fixed fields", msg: resp[:len(q)+2+10+2+2+6], err: ErrShort, want: Message{
			Header:      Header{ID: 0xBEEF, Flags: 0x8180, QDCount: 1, ANCount: 3, NSCount: 1, ARCount: 1},
			HasQuestion: true, QName: "www.example.com", QType: 1, QClass: 1,
			Answers: 1, MinTTL: 3600, MaxTTL: 3600}},
		{name: "question loop", msg: header(1, 0x8180, 1, 1, 0, 0).ptr(12), err: ErrPointers, want: Message{
			Header: Header{ID: 1, Flags: 0x8180, QDCount: 1, ANCount: 1}}},
		{name: "second question skipped", msg: header(1, 0x8180, 2, 1, 0, 0).name("a").u16(1).u16(1).ptr(12).u16(28).u16(1).
			ptr(12).rr(1, 5, 1, 2, 3, 4), want: Message{
			Header:      Header{ID: 1, Flags: 0x8180, QDCount: 2, ANCount: 1},
			HasQuestion: true, QName: "a", QType: 1, QClass: 1, Answers: 1, MinTTL: 5, MaxTTL: 5}},
		{name: "ttl with top bit", msg: header(1, 0x8180, 0, 1, 0, 0).raw(0).rr(1, 0x80000000, 1, 2, 3, 4), want: Message{
			Header:  Header{ID: 1, Flags: 0x8180, ANCount: 1},
			Answers: 1, MinTTL: 0x80000000, MaxTTL: 0x80000000}},
		{name: "short", msg: []byte{1, 2, 3}, err: ErrShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.msg)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse error = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Parse = %+v\nwant    %+v", got, tc.want)
			}
		})
	}
}

func TestLegacyQuestion(t *testing.T) {
	q := func() msgBuilder { return header(1, 0x0100, 1, 0, 0, 0) }
	// n pointers, each to the next, then the name "a": JoyfulJay takes 50
	// steps (a jump is a step) and keeps the labels read by then.
	chain := func(n int) msgBuilder {
		b := q()
		for range n {
			b = b.ptr(len(b) + 2)
		}
		return b.name("a").u16(1).u16(1)
	}
	tests := []struct {
		name  string
		msg   []byte
		qname string
		qtype uint16
		ok    bool
	}{
		{name: "plain", msg: q().name("www", "Example", "com").u16(1).u16(1), qname: "www.Example.com", qtype: 1, ok: true},
		{name: "hex label", msg: q().raw(2, 0xC3, 0xA9).name("fr").u16(28).u16(1), qname: "c3a9.fr", qtype: 28, ok: true},
		{name: "control bytes kept", msg: q().raw(3, 'a', 4, '.').raw(0).u16(16).u16(1), qname: "a\x04.", qtype: 16, ok: true},
		{name: "root name", msg: q().raw(0).u16(2).u16(1)},
		{name: "no question", msg: header(1, 0x0100, 0, 0, 0, 0).name("a").u16(1).u16(1)},
		{name: "no room for type", msg: q().name("a").u16(1)[:17]},
		// A pointer loop: 50 steps, no labels, the name ends 2 bytes after
		// the pointer.
		{name: "pointer loop", msg: q().ptr(12).u16(1).u16(1)},
		// Label and pointer alternate: 25 labels in 50 steps.
		{name: "label then loop", msg: q().raw(1, 'x').ptr(12).u16(5).u16(1), qname: strings.Repeat("x.", 24) + "x", qtype: 5, ok: true},
		// The label runs past the end: the name so far, and the type read
		// right after the length byte.
		{name: "label past end", msg: q().raw(1, 'a', 9, 0, 15, 0, 1), qname: "a", qtype: 15, ok: true},
		// Reserved label types 01 and 10 are read as lengths.
		{name: "length 0x41", msg: append(q().raw(0x41), make([]byte, 0x41)...).raw(0).u16(1).u16(1),
			qname: string(make([]byte, 0x41)), qtype: 1, ok: true},
		// The type is read 2 bytes after the first pointer: the second pointer.
		{name: "49 jumps", msg: chain(49), qname: "a", qtype: 0xC000 | 16, ok: true},
		{name: "50 jumps", msg: chain(50)},
		{name: "header only", msg: q()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, qtype, ok := LegacyQuestion(tc.msg)
			if name != tc.qname || qtype != tc.qtype || ok != tc.ok {
				t.Errorf("LegacyQuestion = %q, %d, %v, want %q, %d, %v", name, qtype, ok, tc.qname, tc.qtype, tc.ok)
			}
		})
	}
}

func TestNames(t *testing.T) {
	types := map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT",
		28: "AAAA", 33: "SRV", 65: "HTTPS", 255: "ANY", 64: "TYPE64", 0: "TYPE0", 65535: "TYPE65535"}
	for v, want := range types {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%d) = %q, want %q", v, got, want)
		}
	}
	codes := map[uint8]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
		6: "RCODE6", 15: "RCODE15"}
	for v, want := range codes {
		if got := RCodeName(v); got != want {
			t.Errorf("RCodeName(%d) = %q, want %q", v, got, want)
		}
	}
}
