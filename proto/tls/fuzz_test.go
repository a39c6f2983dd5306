package tls

import (
	"bytes"
	"crypto/tls"
	"slices"
	"testing"
	"time"

	"github.com/jjsql/jjsql/internal/testgen"
)

// generatedFlights returns the bytes each end of real crypto/tls
// handshakes (TLS 1.2 and 1.3) wrote, client first.
func generatedFlights(t testing.TB) [][]byte {
	var out [][]byte
	for i, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		fl, err := testgen.TLSHandshake(testgen.TLSConfig{
			Version: v, ServerName: "fuzz.example", ALPN: []string{"h2", "http/1.1"},
			Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 204 No Content\r\n\r\n"),
			Seed: uint64(i + 1), Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
		var client, server []byte
		for _, f := range fl {
			if f.FromServer {
				server = append(server, f.Data...)
			} else {
				client = append(client, f.Data...)
			}
		}
		out = append(out, client, server)
	}
	return out
}

// The generated handshakes parse: a cross-check of the parsers against Go's
// own TLS stack.
func TestGeneratedHandshakes(t *testing.T) {
	fl := generatedFlights(t)
	for i, name := range []string{"TLS 1.2", "TLS 1.3"} {
		t.Run(name, func(t *testing.T) {
			h, at, ok := FindClientHello(fl[2*i])
			if !ok || at != 0 {
				t.Fatalf("FindClientHello: ok %v at %d", ok, at)
			}
			if h.SNI() != "fuzz.example" || string(h.FirstALPN()) != "h2" || h.Version != VersionTLS12 {
				t.Errorf("hello: SNI %q ALPN %q version %#04x", h.SNI(), h.FirstALPN(), h.Version)
			}
			s, ok := FindServerFlight(fl[2*i+1])
			if !ok {
				t.Fatal("no ServerHello")
			}
			if i == 0 {
				if !s.HasCertificate || s.Certificates.Count != 1 || !s.HasKeyExchange || s.KeyExchange.Group != 0x1d || s.KeyExchange.Bits != 256 {
					t.Errorf("TLS 1.2 flight: %+v", s)
				}
			} else {
				if s.HasCertificate || s.Hello.SelectedVersion != VersionTLS13 || s.Hello.KeyShareGroup != 0x1d {
					t.Errorf("TLS 1.3 flight: %+v", s)
				}
			}
		})
	}
}

func FuzzClientHello(f *testing.F) {
	for _, b := range generatedFlights(f) {
		f.Add(b)
	}
	f.Add(specHello().body())
	f.Add(withGREASE(specHello()).body())
	f.Add(dtlsHelloSpec().body())
	f.Add(record(ContentHandshake, VersionTLS10, handshake(TypeClientHello, specHello().body())))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dtls := range []bool{false, true} {
			h, err := ParseClientHello(b, dtls)
			if err != nil {
				continue
			}
			h.AppendJA3(nil)
			h.JA3()
			h.SNI()
			h.FirstALPN()
			if ja4 := h.JA4(JA4TCP); len(ja4) != 36 {
				t.Fatalf("JA4 %q is not 36 characters", ja4)
			}
			if r := h.JA4R(JA4DTLS); len(r) < 11 {
				t.Fatalf("JA4_r %q too short", r)
			}
		}
		if s, err := ParseServerHello(b); err == nil {
			s.JA3S()
		}
		ParseCertificate(b)
		ParseServerKeyExchange(b)
		ParseSSLv2ClientHello(b)
		if _, at, ok := FindClientHello(b); ok && (at < 0 || at >= len(b)) {
			t.Fatalf("FindClientHello offset %d out of %d bytes", at, len(b))
		}
		FindServerFlight(b)
		if h, ok := ClientHelloFrom(b); ok {
			h.JA4(JA4TCP)
		}
		ServerHelloFrom(b)
	})
}

func FuzzDatagrams(f *testing.F) {
	body := dtlsHelloSpec().body()
	whole := dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeClientHello, 0, body, 0, len(body)))
	two := slices.Concat(dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeClientHello, 0, body, 20, len(body)-20)),
		dtlsRecord(ContentHandshake, VersionDTLS10, 0, fragmentBytes(TypeClientHello, 0, body, 0, 20)))
	f.Add(whole, 0)
	f.Add(two, len(two)/2)
	f.Add(slices.Concat([]byte{0x40, 0x01}, be16(uint16(len(whole))), whole), 3)
	hello := record(ContentHandshake, VersionTLS10, handshake(TypeClientHello, specHello().body()))
	ovpn := slices.Concat(ovpnPacket(ovpnHardResetClientV2, 20, nil, 0, nil), ovpnPacket(ovpnControl, 20, []uint32{0}, 1, hello))
	f.Add(ovpn, 42)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		// One datagram, or two when cut falls inside b.
		dgs := [][]byte{b}
		if cut > 0 && cut < len(b) {
			dgs = [][]byte{b[:cut], b[cut:]}
		}
		if s, ok := OpenVPN(dgs); ok && len(s) > len(b) {
			t.Fatalf("OpenVPN returned %d bytes from %d", len(s), len(b))
		}
		OpenVPN(SplitOpenVPNTCP(nil, b))
		for i, d := range dgs {
			if u := UnwrapDatagram(d); u != nil {
				if !bytes.Contains(d, u) {
					t.Fatalf("unwrapped bytes are not part of the datagram")
				}
				dgs[i] = u
			}
		}
		for _, typ := range []uint8{TypeClientHello, TypeServerHello, TypeCertificate} {
			if m, ok := DTLSMessage(dgs, typ); ok && len(m) > len(b) {
				t.Fatalf("message of %d bytes from %d bytes", len(m), len(b))
			}
		}
	})
}
