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
