package tls

import (
	"bytes"
	"slices"
	"testing"
)

func dtlsHelloSpec() helloSpec {
	return helloSpec{version: VersionDTLS12, dtls: true, ciphers: []uint16{0xc02b, 0xc02f}, exts: []ext{sniExt("turn.example"), groupsExt(0x1d, 0x17)}}
}

func TestDTLSMessage(t *testing.T) {
	body := dtlsHelloSpec().body()
	n := len(body)
	rec := func(frags ...[]byte) []byte {
		return dtlsRecord(ContentHandshake, VersionDTLS10, 0, slices.Concat(frags...))
	}
	frag := func(off, l int) []byte { return fragmentBytes(TypeClientHello, 0, body, off, l) }
	hvr := dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeHelloVerifyRequest, 0, []byte{0xfe, 0xff, 2, 9, 9}, 0, 5))
	encrypted := dtlsRecord(ContentHandshake, VersionDTLS12, 1, frag(0, n))
	tests := []struct {
		name string
		dgs  [][]byte
		ok   bool
	}{
		{"whole", [][]byte{rec(frag(0, n))}, true},
		{"two fragments in one record", [][]byte{rec(frag(0, 40), frag(40, n-40))}, true},
		{"fragments in two datagrams, reversed", [][]byte{rec(frag(40, n-40)), rec(frag(0, 40))}, true},
		{"overlapping and repeated", [][]byte{rec(frag(0, 50)), rec(frag(30, 40)), rec(frag(0, 50)), rec(frag(60, n-60))}, true},
		{"two records in one datagram", [][]byte{slices.Concat(rec(frag(0, 10)), rec(frag(10, n-10)))}, true},
		{"after another message", [][]byte{slices.Concat(hvr, rec(frag(0, n)))}, true},
		{"a fragment missing", [][]byte{rec(frag(0, 40)), rec(frag(50, n-50))}, false},
		{"epoch 1 is encrypted", [][]byte{encrypted}, false},
		{"none", [][]byte{[]byte("not dtls")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DTLSMessage(tc.dgs, TypeClientHello)
			if ok != tc.ok {
				t.Fatalf("DTLSMessage ok = %v, want %v", ok, tc.ok)
			}
			if ok && !bytes.Equal(got, body) {
				t.Errorf("reassembled body differs")
			}
		})
	}
}

func TestDTLSRecordHeader(t *testing.T) {
	p := []byte{1, 2, 3}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"DTLS 1.0", dtlsRecord(ContentHandshake, VersionDTLS10, 0, p), true},
		{"DTLS 1.2", dtlsRecord(ContentHandshake, VersionDTLS12, 0, p), true},
		{"DTLS 1.3", dtlsRecord(ContentApplicationData, VersionDTLS13, 3, p), true},
		{"DTLS1_BAD_VER", dtlsRecord(ContentHandshake, VersionDTLSBad, 0, p), true},
		{"0xfefe", dtlsRecord(ContentHandshake, 0xfefe, 0, p), false},
		{"TLS version", dtlsRecord(ContentHandshake, VersionTLS12, 0, p), false},
		{"content type 24", dtlsRecord(24, VersionDTLS12, 0, p), false},
		{"zero length", dtlsRecord(ContentHandshake, VersionDTLS12, 0, nil), false},
		{"short", dtlsRecord(ContentHandshake, VersionDTLS12, 0, p)[:12], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, ok := DTLSRecordHeader(tc.b); ok != tc.ok {
				t.Errorf("DTLSRecordHeader ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestUnwrapDatagram(t *testing.T) {
	dtls := dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeClientHello, 0, dtlsHelloSpec().body(), 0, len(dtlsHelloSpec().body())))
	channelData := slices.Concat([]byte{0x40, 0x01}, be16(uint16(len(dtls))), dtls, []byte{0, 0, 0})
	stun := func(attrs ...[]byte) []byte {
		body := slices.Concat(attrs...)
		h := slices.Concat(be16(0x0017), be16(uint16(len(body))), []byte{0x21, 0x12, 0xa4, 0x42}, make([]byte, 12))
		return append(h, body...)
	}
	attr := func(typ uint16, v []byte) []byte {
		a := slices.Concat(be16(typ), be16(uint16(len(v))), v)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		return a
	}
	peer := attr(0x0012, []byte{0, 1, 0x12, 0x34, 1, 2, 3, 4})
	badCookie := stun(attr(stunData, dtls))
	badCookie[4] = 0
	tests := []struct {
		name string
		b    []byte
		want []byte
	}{
		{"plain DTLS", dtls, dtls},
		{"TURN ChannelData", channelData, dtls},
		{"STUN Data indication", stun(peer, attr(stunData, dtls)), dtls},
		{"STUN without Data", stun(peer), nil},
		{"STUN without the magic cookie", badCookie, nil},
		{"ChannelData carrying RTP", slices.Concat([]byte{0x40, 0x00, 0, 4}, []byte{0x80, 0, 0, 1}), nil},
		{"ChannelData length overruns", []byte{0x40, 0x00, 0, 40, 1}, nil},
		{"RTP", []byte{0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnwrapDatagram(tc.b); !bytes.Equal(got, tc.want) {
				t.Errorf("UnwrapDatagram = %x, want %x", got, tc.want)
			}
		})
	}
}

// ovpnPacket builds an OpenVPN control packet: opcode, session ID, an
// optional tls-auth block of hmac+8 bytes, ACKs, message packet ID, payload.
func ovpnPacket(op byte, hmac int, acks []uint32, id uint32, payload []byte) []byte {
	p := append([]byte{op << 3}, 1, 2, 3, 4, 5, 6, 7, 8)
	if hmac > 0 {
		p = append(p, bytes.Repeat([]byte{0xee}, hmac)...)
		p = append(p, 0, 0, 0, 1, 0x5f, 0, 0, 0)
	}
	p = append(p, byte(len(acks)))
	for _, a := range acks {
		p = append(p, byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
	}
	if len(acks) > 0 {
		p = append(p, 9, 9, 9, 9, 9, 9, 9, 9)
	}
	p = append(p, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	return append(p, payload...)
}

func TestOpenVPN(t *testing.T) {
	hello := record(ContentHandshake, VersionTLS10, handshake(TypeClientHello, specHello().body()))
	pieces := [][]byte{hello[:100], hello[100:200], hello[200:]}
	build := func(hmac int, order []int) [][]byte {
		pk := [][]byte{ovpnPacket(ovpnHardResetClientV2, hmac, nil, 0, nil)}
		for _, i := range order {
			pk = append(pk, ovpnPacket(ovpnControl, hmac, []uint32{uint32(i)}, uint32(i+1), pieces[i]))
		}
		return pk
	}
	ack := []byte{ovpnAckOpcode << 3, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9}
	tests := []struct {
		name    string
		packets [][]byte
		ok      bool
	}{
		{"in order", build(0, []int{0, 1, 2}), true},
		{"tls-auth SHA-1", build(20, []int{0, 1, 2}), true},
		{"tls-auth SHA-512", build(64, []int{0, 1, 2}), true},
		{"reordered and retransmitted", build(0, []int{1, 0, 0, 2, 1}), true},
		{"with ACK packets", append(build(0, []int{0, 1})[:2], ack, build(0, []int{0, 1, 2})[2], build(0, []int{0, 1, 2})[3]), true},
		{"a piece missing", build(0, []int{0, 2}), false},
		{"no hard reset first", build(0, []int{0, 1, 2})[1:], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := OpenVPN(tc.packets)
			if complete := ok && bytes.Equal(got, hello); complete != tc.ok {
				t.Fatalf("OpenVPN: ok %v, %d bytes; want the whole hello %v", ok, len(got), tc.ok)
			}
		})
	}
	// Over TCP each packet has a 2-byte length prefix.
	var stream []byte
	for _, p := range build(20, []int{0, 1, 2}) {
		stream = append(stream, be16(uint16(len(p)))...)
		stream = append(stream, p...)
	}
	packets := SplitOpenVPNTCP(nil, append(stream, 0, 50, 1)) // and a cut packet
	if len(packets) != 4 {
		t.Fatalf("SplitOpenVPNTCP: %d packets, want 4", len(packets))
	}
	if got, ok := OpenVPN(packets); !ok || !bytes.Equal(got, hello) {
		t.Errorf("OpenVPN over TCP: ok %v, %d bytes", ok, len(got))
	}
}
