package tls

import (
	"crypto/md5"
	"encoding/hex"
	"testing"
)

// The JA4 specification's worked example (FoxIO technical_details/JA4.md):
// the fingerprint and the raw form are quoted from it.
const (
	specJA4  = "t13d1516h2_8daaf6152771_e5627efa2ab1"
	specJA4R = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
	specJA3  = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
)

// withGREASE adds GREASE values (RFC 8701) to the cipher, extension,
// group, supported-version and signature-algorithm lists of s, the way
// Chrome sends them.
func withGREASE(s helloSpec) helloSpec {
	s.ciphers = append([]uint16{0x0a0a}, s.ciphers...)
	exts := []ext{{0x1a1a, nil}}
	for _, e := range s.exts {
		switch e.typ {
		case ExtSupportedGroups:
			e = groupsExt(0x2a2a, 0x001d, 0x0017, 0x0018)
		case ExtSupportedVersions:
			e = versionsExt(0x3a3a, VersionTLS13, VersionTLS12)
		}
		exts = append(exts, e)
	}
	s.exts = append(exts, ext{0x4a4a, []byte{0}})
	return s
}

func TestFingerprints(t *testing.T) {
	tests := []struct {
		name      string
		spec      helloSpec
		transport byte
		ja3, ja4  string
		ja4r      string
	}{
		{"JA4 spec example", specHello(), JA4TCP, specJA3, specJA4, specJA4R},
		{"GREASE ignored", withGREASE(specHello()), JA4TCP, specJA3, specJA4, specJA4R},
		{"QUIC prefix", specHello(), JA4QUIC, specJA3, "q" + specJA4[1:], "q" + specJA4R[1:]},
		{
			"no extensions",
			helloSpec{version: VersionTLS10, ciphers: []uint16{0x0035, 0x002f}, noExtLen: true},
			JA4TCP, "769,53-47,,,", "t10i020000_" + sha12("002f,0035") + "_000000000000", "t10i020000_002f,0035_",
		},
		{
			"no ciphers, SNI and ALPN only",
			helloSpec{version: VersionTLS12, exts: []ext{sniExt("a.b"), alpnExt("http/1.1")}},
			JA4TCP, "771,,0-16,,", "t12d0002h1_000000000000_000000000000", "t12d0002h1__",
		},
		{
			"extensions without signature algorithms",
			helloSpec{version: VersionTLS12, ciphers: []uint16{0xc02f}, exts: []ext{groupsExt(0x17), formatsExt(0, 1, 2)}},
			JA4TCP, "771,49199,10-11,23,0-1-2", "t12i010200_" + sha12("c02f") + "_" + sha12("000a,000b"), "t12i010200_c02f_000a,000b",
		},
		{
			"near-GREASE values kept",
			helloSpec{version: VersionTLS12, ciphers: []uint16{0x0a1a}, exts: []ext{{0x1a2a, nil}}},
			JA4TCP, "771,2586,6698,,", "t12i010100_" + sha12("0a1a") + "_" + sha12("1a2a"), "t12i010100_0a1a_1a2a",
		},
		{
			"DTLS 1.2",
			helloSpec{version: VersionDTLS12, dtls: true, ciphers: []uint16{0xc02b}, exts: []ext{{0x0017, nil}}},
			JA4DTLS, "65277,49195,23,,", "dd2i010100_" + sha12("c02b") + "_" + sha12("0017"), "dd2i010100_c02b_0017",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseClientHello(tc.spec.body(), tc.spec.dtls)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(h.AppendJA3(nil)); got != tc.ja3 {
				t.Errorf("JA3 string = %q, want %q", got, tc.ja3)
			}
			sum := md5.Sum([]byte(tc.ja3))
			if got, want := h.JA3(), hex.EncodeToString(sum[:]); got != want {
				t.Errorf("JA3 = %q, want %q", got, want)
			}
			if got := h.JA4(tc.transport); got != tc.ja4 {
				t.Errorf("JA4 = %q, want %q", got, tc.ja4)
			}
			if got := h.JA4R(tc.transport); got != tc.ja4r {
				t.Errorf("JA4_r = %q, want %q", got, tc.ja4r)
			}
		})
	}
}

// The JA3 of the spec hello, as md5sum(1) gives it for specJA3.
func TestJA3Pinned(t *testing.T) {
	h, err := ParseClientHello(specHello().body(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.JA3(), "c000e2caf3a25423f9de6c8a4b12a975"; got != want {
		t.Errorf("JA3 = %q, want %q", got, want)
	}
}

func sha12(s string) string {
	var r [12]byte
	hashPart(r[:], []byte(s), false)
	return string(r[:])
}

// ALPN characters of JA4, with the specification's own examples.
func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		alpn string
		want string
	}{
		{"h2", "h2"},
		{"http/1.1", "h1"},
		{"h", "hh"},
		{"", "00"},
		{"\xab", "ab"},
		{"\xab\xcd", "ad"},
		{"\x30\xab", "3b"},
		{"\x30\x31\xab\xcd", "3d"},
		{"\x30\xab\xcd\x31", "01"},
	}
	for _, tc := range tests {
		t.Run(hex.EncodeToString([]byte(tc.alpn)), func(t *testing.T) {
			if got := string(appendALPNChars(nil, []byte(tc.alpn))); got != tc.want {
				t.Errorf("ALPN chars of %q = %q, want %q", tc.alpn, got, tc.want)
			}
		})
	}
}

func TestJA4Version(t *testing.T) {
	tests := []struct {
		legacy   uint16
		versions []uint16
		want     string
	}{
		{VersionTLS12, []uint16{0x7a7a, VersionTLS13, VersionTLS12}, "13"},
		{VersionTLS12, nil, "12"},
		{VersionTLS10, nil, "10"},
		{VersionSSL3, nil, "s3"},
		{VersionDTLS10, nil, "d1"},
		{VersionDTLS12, []uint16{VersionDTLS12}, "d2"},
		{VersionDTLSBad, nil, "00"},
		{VersionTLS12, []uint16{0x0a0a}, "12"}, // only GREASE: the legacy version
	}
	for _, tc := range tests {
		h := ClientHello{Version: tc.legacy, SupportedVersions: u16s(tc.versions...)}
		if got := h.ja4Version(); got != tc.want {
			t.Errorf("ja4Version(%#04x, %x) = %q, want %q", tc.legacy, tc.versions, got, tc.want)
		}
	}
}

func TestJA4Counts(t *testing.T) {
	ciphers := make([]uint16, 120)
	for i := range ciphers {
		ciphers[i] = uint16(0x1000 + i)
	}
	h, err := ParseClientHello(helloSpec{version: VersionTLS12, ciphers: ciphers, noExtLen: true}.body(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.JA4(JA4TCP)[:10]; got != "t12i990000" {
		t.Errorf("JA4 a part with 120 ciphers = %q, want t12i990000", got)
	}
}
