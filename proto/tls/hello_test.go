package tls

import (
	"errors"
	"slices"
	"testing"
)

func TestIsGREASE(t *testing.T) {
	for v := 0; v <= 0xffff; v++ {
		hi, lo := v>>8, v&0xff
		want := hi == lo && lo&0x0f == 0x0a
		if got := IsGREASE(uint16(v)); got != want {
			t.Fatalf("IsGREASE(%#04x) = %v, want %v", v, got, want)
		}
	}
	// The sixteen RFC 8701 values, and look-alikes that are not GREASE.
	for _, v := range []uint16{0x0a0a, 0x1a1a, 0x7a7a, 0xfafa} {
		if !IsGREASE(v) {
			t.Errorf("IsGREASE(%#04x) = false", v)
		}
	}
	for _, v := range []uint16{0x0a1a, 0x1a2a, 0xabab, 0x0a0b} {
		if IsGREASE(v) {
			t.Errorf("IsGREASE(%#04x) = true", v)
		}
	}
}

func TestParseClientHello(t *testing.T) {
	h, err := ParseClientHello(specHello().body(), false)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Version", h.Version, uint16(VersionTLS12)},
		{"CipherCount", h.CipherCount(), 15},
		{"NumExtensions", h.NumExtensions, 16},
		{"SNI", h.SNI(), "example.com"},
		{"HasServerName", h.HasServerName, true},
		{"FirstALPN", string(h.FirstALPN()), "h2"},
		{"Groups", h.Groups, u16s(0x1d, 0x17, 0x18)},
		{"PointFormats", h.PointFormats, []byte{0}},
		{"SupportedVersions", h.SupportedVersions, u16s(VersionTLS13, VersionTLS12)},
		{"KeyShareGroup", h.KeyShareGroup, uint16(0x1d)},
		{"KeyShareLen", h.KeyShareLen, 32},
		{"SessionTicket", h.SessionTicket, true},
		{"PreSharedKey", h.PreSharedKey, false},
		{"EarlyData", h.EarlyData, false},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !equal(c.got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		})
	}
}

func equal(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, _ := b.([]byte)
		return slices.Equal(x, y)
	}
	return a == b
}

func TestParseClientHelloErrors(t *testing.T) {
	good := specHello().body()
	bigSID := helloSpec{version: VersionTLS12, sid: make([]byte, 33), ciphers: []uint16{1}}.body()
	oddCiphers := specHello().body()
	oddCiphers[2+32+1+1] = 29 // cipher suites length 29 (odd)
	extOverrun := slices.Clone(good)
	extOverrun = extOverrun[:len(extOverrun)-1] // last extension cut by one byte
	noExt := helloSpec{version: VersionTLS10, ciphers: []uint16{4, 5}, noExtLen: true}.body()
	tests := []struct {
		name string
		body []byte
		want error // nil: parses
	}{
		{"whole", good, nil},
		{"no extensions", noExt, nil},
		{"empty", nil, ErrShort},
		{"random cut", good[:20], ErrShort},
		{"session id over 32", bigSID, ErrMalformed},
		{"odd cipher length", oddCiphers, ErrMalformed},
		{"cipher list cut", good[:2+32+1+2+10], ErrShort},
		{"compression cut", good[:2+32+1+2+30], ErrShort},
		{"extension length cut", good[:2+32+1+2+30+2+1], ErrShort},
		{"last extension overruns", extOverrun, ErrShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientHello(tc.body, false)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("ParseClientHello(%s) error = %v, want %v", tc.name, err, tc.want)
			}
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %v is not a *ParseError", err)
			}
		})
	}
}

func TestParseClientHelloDTLS(t *testing.T) {
	spec := helloSpec{version: VersionDTLS12, dtls: true, cookie: []byte{1, 2, 3, 4}, ciphers: []uint16{0xc02b}, exts: []ext{groupsExt(0x1d)}}
	h, err := ParseClientHello(spec.body(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Cookie, []byte{1, 2, 3, 4}) || h.CipherCount() != 1 || !h.DTLS {
		t.Errorf("DTLS hello: cookie %x, ciphers %d, DTLS %v", h.Cookie, h.CipherCount(), h.DTLS)
	}
	if got, want := string(h.AppendJA3(nil)), "65277,49195,10,29,"; got != want {
		t.Errorf("JA3 = %q, want %q", got, want)
	}
	// Read as TLS, the cookie is taken for the cipher suite length (0x0401:
	// odd).
	if _, err := ParseClientHello(spec.body(), false); !errors.Is(err, ErrMalformed) {
		t.Errorf("DTLS hello read as TLS: error %v, want ErrMalformed", err)
	}
}

func TestServerNameEntries(t *testing.T) {
	// A list whose first entry is not a host_name, then a host_name.
	list := append([]byte{5}, vec16([]byte("x"))...)
	list = append(list, 0)
	list = append(list, vec16([]byte("b.example"))...)
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"host name", sniExt("a.example").body, "a.example"},
		{"second entry", vec16(list), "b.example"},
		{"name overruns", append(vec16([]byte{0, 0, 9}), 'a'), ""},
		{"empty", nil, ""},
		{"non-ascii dropped", sniExt("caf\xc3\xa9.example").body, "caf.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := ClientHello{ServerName: serverName(tc.body)}
			if got := h.SNI(); got != tc.want {
				t.Errorf("SNI = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseServerHello(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		cipher    uint16
		selected  uint16
		ja3s      string
		wantError bool
	}{
		{"tls12 no extensions", serverHelloBody(VersionTLS12, 0xc02f, nil), 0xc02f, 0, "771,49199,", false},
		{"tls13", serverHelloBody(VersionTLS12, 0x1301, []ext{{ExtSupportedVersions, be16(VersionTLS13)}, keyShareExt(0x1d, 32)}), 0x1301, VersionTLS13, "771,4865,43-51", false},
		{"grease extension dropped", serverHelloBody(VersionTLS12, 0x1301, []ext{{0x0a0a, nil}, {ExtSupportedVersions, be16(VersionTLS13)}}), 0x1301, VersionTLS13, "771,4865,43", false},
		{"cut", serverHelloBody(VersionTLS12, 0x1301, nil)[:36], 0, 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseServerHello(tc.body)
			if (err != nil) != tc.wantError {
				t.Fatalf("ParseServerHello error = %v, want error %v", err, tc.wantError)
			}
			if err != nil {
				return
			}
			if s.CipherSuite != tc.cipher || s.SelectedVersion != tc.selected {
				t.Errorf("cipher %#04x version %#04x, want %#04x %#04x", s.CipherSuite, s.SelectedVersion, tc.cipher, tc.selected)
			}
			if got := string(s.AppendJA3S(nil)); got != tc.ja3s {
				t.Errorf("JA3S string = %q, want %q", got, tc.ja3s)
			}
		})
	}
}

func TestHelloRetryRequest(t *testing.T) {
	body := serverHelloBody(VersionTLS12, 0x1301, nil)
	if IsHelloRetryRequest(body) {
		t.Error("a zero random is not a HelloRetryRequest")
	}
	copy(body[2:], helloRetryRandom)
	if !IsHelloRetryRequest(body) {
		t.Error("the RFC 8446 random is a HelloRetryRequest")
	}
}

func TestSSLv2ClientHello(t *testing.T) {
	specs := []byte{0x01, 0x00, 0x80, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f}
	challenge := make([]byte, 16)
	msg := []byte{TypeClientHello, 0x03, 0x01}
	msg = append(msg, be16(uint16(len(specs)))...)
	msg = append(msg, 0, 0)
	msg = append(msg, be16(uint16(len(challenge)))...)
	msg = append(msg, specs...)
	msg = append(msg, challenge...)
	rec := append([]byte{0x80 | byte(len(msg)>>8), byte(len(msg))}, msg...)

	h, err := ParseSSLv2ClientHello(rec)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != VersionTLS10 || h.CipherCount() != 3 || !h.SSLv2 || h.JA3() != "" || h.JA4(JA4TCP) != "" {
		t.Errorf("SSLv2 hello: version %#04x ciphers %d JA3 %q JA4 %q", h.Version, h.CipherCount(), h.JA3(), h.JA4(JA4TCP))
	}
	bad := slices.Clone(rec)
	bad[10] = 8 // challenge length 8 < 16
	if _, err := ParseSSLv2ClientHello(bad); err == nil {
		t.Error("challenge of 8 bytes accepted")
	}
	if _, err := ParseSSLv2ClientHello(rec[:len(rec)-1]); !errors.Is(err, ErrShort) {
		t.Errorf("cut record: error %v, want ErrShort", err)
	}
	if got, _, ok := FindClientHello(rec); !ok || !got.SSLv2 {
		t.Errorf("FindClientHello on an SSLv2 hello: ok %v", ok)
	}
}
