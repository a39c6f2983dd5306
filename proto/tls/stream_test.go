package tls

import (
	"bytes"
	"slices"
	"testing"
)

type msg struct {
	typ  uint8
	body []byte
}

func readAll(data []byte) []msg {
	var out []msg
	r := NewReader(data)
	for {
		typ, body, ok := r.Next()
		if !ok {
			return out
		}
		out = append(out, msg{typ, body})
	}
}

func TestReader(t *testing.T) {
	hello := handshake(TypeClientHello, specHello().body())
	sh := handshake(TypeServerHello, serverHelloBody(VersionTLS12, 0xc02f, nil))
	cert := handshake(TypeCertificate, certificateBody(1200, 900))
	done := handshake(14, nil)
	flight := slices.Concat(sh, cert, done)
	split := func(b []byte, at ...int) []byte {
		var out []byte
		prev := 0
		for _, a := range append(at, len(b)) {
			out = append(out, record(ContentHandshake, VersionTLS12, b[prev:a])...)
			prev = a
		}
		return out
	}
	tests := []struct {
		name string
		data []byte
		want []uint8 // message types
	}{
		{"one message", record(ContentHandshake, VersionTLS10, hello), []uint8{1}},
		{"three messages in one record", split(flight), []uint8{2, 11, 14}},
		{"message split across records", split(flight, 10, len(sh)+100, len(sh)+1000), []uint8{2, 11, 14}},
		{"header split across records", split(flight, 2, len(sh)+3), []uint8{2, 11, 14}},
		{"stops at change cipher spec", slices.Concat(split(sh), record(ContentChangeCipherSpec, VersionTLS12, []byte{1}), split(cert)), []uint8{2}},
		{"stops at application data", slices.Concat(record(ContentApplicationData, VersionTLS12, []byte{1, 2}), split(sh)), nil},
		{"last record cut", split(flight)[:5+len(sh)+len(cert)+2], []uint8{2, 11}},
		{"message cut", split(flight)[:5+len(sh)+100], []uint8{2}},
		{"bad record version", record(ContentHandshake, 0x0305, sh), nil},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint8
			for _, m := range readAll(tc.data) {
				got = append(got, m.typ)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("message types = %v, want %v", got, tc.want)
			}
		})
	}
	// Bodies survive later reads, also when a message was joined.
	ms := readAll(split(flight, 10, len(sh)+100, len(sh)+1000))
	if len(ms) != 3 || !bytes.Equal(ms[0].body, sh[4:]) || !bytes.Equal(ms[1].body, cert[4:]) {
		t.Errorf("joined bodies differ from the messages")
	}
}

func TestFindClientHello(t *testing.T) {
	hello := record(ContentHandshake, VersionTLS10, handshake(TypeClientHello, specHello().body()))
	starttls := []byte("EHLO x\r\nSTARTTLS\r\n")
	rdp := []byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x03, 0, 0, 0}
	// A decoy: a record header with type 1 whose hello does not parse.
	decoy := record(ContentHandshake, VersionTLS10, []byte{1, 0, 0, 2, 3, 3})
	far := append(make([]byte, SearchWindow), hello...)
	near := append(make([]byte, SearchWindow-1), hello...)
	tests := []struct {
		name string
		data []byte
		at   int // -1: not found
	}{
		{"at start", hello, 0},
		{"after STARTTLS", slices.Concat(starttls, hello), len(starttls)},
		{"after RDP negotiation", slices.Concat(rdp, hello), len(rdp)},
		{"after a decoy", slices.Concat(decoy, hello), len(decoy)},
		{"last offset of the search window", near, SearchWindow - 1},
		{"beyond the search window", far, -1},
		{"cut hello", hello[:len(hello)-1], -1},
		{"server hello only", record(ContentHandshake, VersionTLS12, handshake(TypeServerHello, serverHelloBody(VersionTLS12, 1, nil))), -1},
		{"empty", nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, at, ok := FindClientHello(tc.data)
			if !ok {
				at = -1
			}
			if at != tc.at {
				t.Fatalf("FindClientHello at %d, want %d", at, tc.at)
			}
			if ok && h.SNI() != "example.com" {
				t.Errorf("SNI = %q", h.SNI())
			}
		})
	}
}

// The search tries a bounded number of candidate headers: a window full of
// decoys is not searched past maxCandidates of them.
func TestFindClientHelloCandidates(t *testing.T) {
	decoy := record(ContentHandshake, VersionTLS10, []byte{1, 0, 0, 2, 3, 3})
	hello := record(ContentHandshake, VersionTLS10, handshake(TypeClientHello, specHello().body()))
	for _, n := range []int{maxCandidates - 1, maxCandidates + 1} {
		data := slices.Concat(bytes.Repeat(decoy, n), hello)
		_, _, ok := FindClientHello(data)
		if want := n < maxCandidates; ok != want {
			t.Errorf("%d decoys: found %v, want %v", n, ok, want)
		}
	}
}

func TestFindServerFlight(t *testing.T) {
	sh := handshake(TypeServerHello, serverHelloBody(VersionTLS12, 0xc02f, []ext{{ExtSessionTicket, nil}}))
	cert := handshake(TypeCertificate, certificateBody(1300, 0, 1100))
	ecdhe := slices.Concat([]byte{3}, be16(0x17), vec8(make([]byte, 65)), be16(0x0401), vec16(make([]byte, 256)))
	ske := handshake(TypeServerKeyExchange, ecdhe)
	data := slices.Concat([]byte("220 ready\r\n"), record(ContentHandshake, VersionTLS12, slices.Concat(sh, cert[:500])),
		record(ContentHandshake, VersionTLS12, slices.Concat(cert[500:], ske, handshake(14, nil))))
	fl, ok := FindServerFlight(data)
	if !ok {
		t.Fatal("no server flight")
	}
	if fl.Hello.CipherSuite != 0xc02f || fl.Hello.JA3S() != md5Hex([]byte("771,49199,35")) {
		t.Errorf("hello: cipher %#04x JA3S %s", fl.Hello.CipherSuite, fl.Hello.JA3S())
	}
	if !fl.HasCertificate || fl.Certificates != (Certificates{Count: 2, Total: 2400, First: 1300}) {
		t.Errorf("certificates = %+v", fl.Certificates)
	}
	if !fl.HasKeyExchange || fl.KeyExchange != (KeyExchange{Group: 0x17, Bits: 520}) {
		t.Errorf("key exchange = %+v", fl.KeyExchange)
	}
}

func TestParseServerKeyExchange(t *testing.T) {
	sig12 := slices.Concat(be16(0x0401), vec16(make([]byte, 256)))
	sig10 := vec16(make([]byte, 128))
	dh := func(p int) []byte {
		return slices.Concat(vec16(make([]byte, p)), vec16([]byte{2}), vec16(make([]byte, p)))
	}
	// A DHE prime of 768 bytes starts 0x03 0x00: a reader that only looks
	// at the first byte takes it for a named curve.
	tests := []struct {
		name string
		body []byte
		want KeyExchange
		ok   bool
	}{
		{"ECDHE x25519 TLS 1.2", slices.Concat([]byte{3}, be16(0x1d), vec8(make([]byte, 32)), sig12), KeyExchange{Group: 0x1d, Bits: 256}, true},
		{"ECDHE anonymous", slices.Concat([]byte{3}, be16(0x17), vec8(make([]byte, 65))), KeyExchange{Group: 0x17, Bits: 520}, true},
		{"DHE 2048 TLS 1.0", slices.Concat(dh(256), sig10), KeyExchange{Group: GroupFFDHE, Bits: 2048, DHE: true}, true},
		{"DHE 6144 looks like a curve", slices.Concat(dh(768), sig12), KeyExchange{Group: GroupFFDHE, Bits: 6144, DHE: true}, true},
		{"cut", []byte{3, 0}, KeyExchange{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseServerKeyExchange(tc.body)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseServerKeyExchange = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseCertificate(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want Certificates
		ok   bool
	}{
		{"chain", certificateBody(1500, 1000), Certificates{2, 2500, 1500}, true},
		{"empty list", certificateBody(), Certificates{}, true},
		{"empty first", certificateBody(0, 700), Certificates{1, 700, 700}, true},
		{"entry overruns", append(be24(10), be24(20)...), Certificates{}, false},
		{"list overruns", be24(10), Certificates{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCertificate(tc.body)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseCertificate = %+v, %v; want %+v, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestHelloFrom(t *testing.T) {
	body := specHello().body()
	msg := handshake(TypeClientHello, body)
	dbody := dtlsHelloSpec().body()
	dtls := dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeClientHello, 0, dbody, 0, len(dbody)))
	tests := []struct {
		name string
		b    []byte
		sni  string // "" when nothing is found
	}{
		{"record", record(ContentHandshake, VersionTLS10, msg), "example.com"},
		{"bare message", msg, "example.com"},
		{"bare message with trailing bytes", append(slices.Clone(msg), 0), ""},
		{"DTLS datagram", dtls, "turn.example"},
		{"cut record", record(ContentHandshake, VersionTLS10, msg)[:100], ""},
		{"garbage", []byte{1, 0, 0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := ClientHelloFrom(tc.b)
			if ok != (tc.sni != "") || h.SNI() != tc.sni {
				t.Errorf("ClientHelloFrom: ok %v SNI %q, want %q", ok, h.SNI(), tc.sni)
			}
		})
	}
	sh := handshake(TypeServerHello, serverHelloBody(VersionTLS12, 0xc02f, nil))
	for name, b := range map[string][]byte{"record": record(ContentHandshake, VersionTLS12, sh), "bare": sh} {
		if s, ok := ServerHelloFrom(b); !ok || s.CipherSuite != 0xc02f {
			t.Errorf("ServerHelloFrom(%s): ok %v cipher %#04x", name, ok, s.CipherSuite)
		}
	}
	if _, ok := ServerHelloFrom(msg); ok {
		t.Error("ServerHelloFrom accepted a ClientHello")
	}
}
