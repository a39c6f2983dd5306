package quic

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// unhex decodes a hex test vector, ignoring white space.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex vector: %v", err)
	}
	return b
}

// rfcClientPayload returns the plaintext of the RFC client Initials: the
// CRYPTO frame and PADDING to 1162 bytes.
func rfcClientPayload(t testing.TB) []byte {
	p := make([]byte, 1162)
	copy(p, unhex(t, rfcClientCrypto))
	return p
}

// rfcClientHello is the ClientHello message inside the RFC's CRYPTO frame
// (after type 0x06, offset 0x00 and length 0x40f1).
func rfcClientHello(t testing.TB) []byte { return unhex(t, rfcClientCrypto)[4:] }

func TestInitialSecretsAndKeys(t *testing.T) {
	dcid := unhex(t, rfcDCID)
	tests := []struct {
		name           string
		version        uint32
		clientSecret   string
		serverSecret   string
		cKey, cIV, cHP string
		sKey, sIV, sHP string
	}{
		{
			name:         "RFC 9001 A.1 (v1)",
			version:      V1,
			clientSecret: "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
			serverSecret: "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
			cKey:         "1f369613dd76d5467730efcbe3b1a22d", cIV: "fa044b2f42a3fd3b46fb255c", cHP: "9f50449e04a0e810283a1e9933adedd2",
			sKey: "cf3a5331653c364c88f0f379b6067e37", sIV: "0ac1493ca1905853b0bba03e", sHP: "c206b8d9b9f0f37644430b490eeaa314",
		},
		{
			name:         "RFC 9369 A.1 (v2)",
			version:      V2,
			clientSecret: "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
			serverSecret: "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
			cKey:         "8b1a0bc121284290a29e0971b5cd045d", cIV: "91f73e2351d8fa91660e909f", cHP: "45b95e15235d6f45a6b19cbcb0294ba9",
			sKey: "82db637861d55e1d011f19ea71d5d2a7", sIV: "dd13c276499c0249d3310652", sHP: "edf6d05c83121201b436e16877593c3a",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s, err := InitialSecrets(tc.version, dcid)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(c); got != tc.clientSecret {
				t.Errorf("client_initial_secret = %s, want %s", got, tc.clientSecret)
			}
			if got := hex.EncodeToString(s); got != tc.serverSecret {
				t.Errorf("server_initial_secret = %s, want %s", got, tc.serverSecret)
			}
			for _, side := range []struct {
				server      bool
				key, iv, hp string
			}{{false, tc.cKey, tc.cIV, tc.cHP}, {true, tc.sKey, tc.sIV, tc.sHP}} {
				k, err := InitialKeys(tc.version, dcid, side.server)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range []struct {
					name      string
					got, want string
				}{{"key", hex.EncodeToString(k.Key), side.key}, {"iv", hex.EncodeToString(k.IV), side.iv}, {"hp", hex.EncodeToString(k.HP), side.hp}} {
					if f.got != f.want {
						t.Errorf("server=%v %s = %s, want %s", side.server, f.name, f.got, f.want)
					}
				}
			}
		})
	}
	if _, err := InitialKeys(0x1a2a3a4a, dcid, false); !errors.Is(err, ErrVersion) {
		t.Errorf("InitialKeys(reserved version) error = %v, want ErrVersion", err)
	}
}

func TestHeaderProtectionMask(t *testing.T) {
	dcid := unhex(t, rfcDCID)
	tests := []struct {
		name    string
		version uint32
		server  bool
		sample  string
		mask    string
	}{
		{"RFC 9001 A.2 client", V1, false, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"},
		{"RFC 9001 A.3 server", V1, true, "2cd0991cd25b0aac406a5816b6394100", "2ec0d8356a"},
		{"RFC 9369 A.2 client", V2, false, "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := InitialKeys(tc.version, dcid, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			m := k.Mask(unhex(t, tc.sample))
			if got := hex.EncodeToString(m[:]); got != tc.mask {
				t.Errorf("mask = %s, want %s", got, tc.mask)
			}
		})
	}
}

func TestOpenRFCPackets(t *testing.T) {
	dcid := unhex(t, rfcDCID)
	tests := []struct {
		name     string
		packet   string
		version  uint32
		server   bool
		first    byte
		pnLen    int
		pn       uint64
		header   string // the unprotected header (RFC)
		payload  []byte
		wantDCID string
		wantSCID string
	}{
		{"RFC 9001 A.2 client Initial", rfc9001ClientInitial, V1, false, 0xc3, 4, 2,
			"c300000001088394c8f03e5157080000449e00000002", rfcClientPayload(t), rfcDCID, ""},
		{"RFC 9001 A.3 server Initial", rfc9001ServerInitial, V1, true, 0xc1, 2, 1,
			"c1000000010008f067a5502a4262b50040750001", unhex(t, rfcServerPayload), "", "f067a5502a4262b5"},
		{"RFC 9369 A.2 client Initial", rfc9369ClientInitial, V2, false, 0xd3, 4, 2,
			"d36b3343cf088394c8f03e5157080000449e00000002", rfcClientPayload(t), rfcDCID, ""},
		{"RFC 9369 A.3 server Initial", rfc9369ServerInitial, V2, true, 0xd1, 2, 1,
			"d16b3343cf0008f067a5502a4262b50040750001", unhex(t, rfcServerPayload), "", "f067a5502a4262b5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkt := unhex(t, tc.packet)
			orig := append([]byte(nil), pkt...)
			h, err := Parse(pkt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if h.Type != TypeInitial || h.Version != tc.version || len(h.Raw) != len(pkt) {
				t.Fatalf("Parse = type %v version %#x len %d, want Initial %#x %d", h.Type, h.Version, len(h.Raw), tc.version, len(pkt))
			}
			if got := hex.EncodeToString(h.DCID); got != tc.wantDCID {
				t.Errorf("DCID = %s, want %s", got, tc.wantDCID)
			}
			if got := hex.EncodeToString(h.SCID); got != tc.wantSCID {
				t.Errorf("SCID = %s, want %s", got, tc.wantSCID)
			}
			k, err := InitialKeys(tc.version, dcid, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			o, err := k.Open(&h)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if o.First != tc.first || o.PNLen != tc.pnLen || o.PN != tc.pn {
				t.Errorf("Open = first %#x pnLen %d pn %d, want %#x %d %d", o.First, o.PNLen, o.PN, tc.first, tc.pnLen, tc.pn)
			}
			if !bytes.Equal(o.Payload, tc.payload) {
				t.Errorf("payload = %x..., want %x...", o.Payload[:min(32, len(o.Payload))], tc.payload[:32])
			}
			if !bytes.Equal(pkt, orig) {
				t.Error("Open modified the packet")
			}
			// The other side's keys must not open it.
			other, _ := InitialKeys(tc.version, dcid, !tc.server)
			if _, err := other.Open(&h); !errors.Is(err, ErrAuth) {
				t.Errorf("Open with the other side's keys: error %v, want ErrAuth", err)
			}
			// Sealing the RFC's plaintext again must give the RFC's packet.
			hdr := unhex(t, tc.header)
			if got := sealRaw(t, k, hdr, len(hdr)-tc.pnLen, tc.pn, tc.payload); !bytes.Equal(got, pkt) {
				t.Errorf("sealed packet differs from the RFC's: %x...", got[:32])
			}
		})
	}
}

func TestClientHelloRFC(t *testing.T) {
	for _, tc := range []struct {
		name, packet string
	}{{"RFC 9001", rfc9001ClientInitial}, {"RFC 9369", rfc9369ClientInitial}} {
		t.Run(tc.name, func(t *testing.T) {
			hello, ok := ClientHello([][]byte{unhex(t, tc.packet)})
			if !ok {
				t.Fatal("ClientHello: not found")
			}
			if want := rfcClientHello(t); !bytes.Equal(hello, want) {
				t.Fatalf("ClientHello = %x, want %x", hello, want)
			}
			if got := ServerName(hello); got != "example.com" {
				t.Errorf("ServerName = %q, want %q", got, "example.com")
			}
			if got := ALPN(hello); len(got) != 1 || got[0] != "alpn" {
				t.Errorf("ALPN = %q, want [alpn]", got)
			}
			// The server's Initial is not a client Initial.
			srv := rfc9001ServerInitial
			if tc.name == "RFC 9369" {
				srv = rfc9369ServerInitial
			}
			if _, ok := ClientHello([][]byte{unhex(t, srv)}); ok {
				t.Error("ClientHello found a hello in the server's Initial")
			}
		})
	}
}

func TestVerifyRetry(t *testing.T) {
	odcid := unhex(t, rfcDCID)
	for _, tc := range []struct {
		name    string
		packet  string
		version uint32
	}{{"RFC 9001 A.4", rfc9001Retry, V1}, {"RFC 9369 A.4", rfc9369Retry, V2}} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := unhex(t, tc.packet)
			h, err := Parse(pkt)
			if err != nil || h.Type != TypeRetry || h.Version != tc.version {
				t.Fatalf("Parse = %v %v %#x, want Retry %#x", err, h.Type, h.Version, tc.version)
			}
			if string(h.Token) != "token" {
				t.Errorf("token = %q, want %q", h.Token, "token")
			}
			if !VerifyRetry(&h, odcid) {
				t.Error("VerifyRetry(RFC ODCID) = false")
			}
			if VerifyRetry(&h, odcid[1:]) {
				t.Error("VerifyRetry(other ODCID) = true")
			}
			pkt[len(pkt)-20] ^= 1
			if VerifyRetry(&h, odcid) {
				t.Error("VerifyRetry(tampered packet) = true")
			}
		})
	}
}

func TestVarint(t *testing.T) {
	// RFC 9000 appendix A.1.
	tests := []struct {
		in   string
		want uint64
		n    int
	}{
		{"c2197c5eff14e88c", 151288809941952652, 8},
		{"9d7f3e7d", 494878333, 4},
		{"7bbd", 15293, 2},
		{"25", 37, 1},
		{"4025", 37, 2},
		{"9d7f3e", 0, 0},
		{"", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, n := varint(unhex(t, tc.in))
			if v != tc.want || n != tc.n {
				t.Errorf("varint(%s) = %d, %d, want %d, %d", tc.in, v, n, tc.want, tc.n)
			}
		})
	}
}

func TestExpandPN(t *testing.T) {
	tests := []struct {
		name      string
		largest   int64
		truncated uint64
		n         int
		want      uint64
	}{
		{"RFC 9000 A.3", 0xa82f30ea, 0x9b32, 2, 0xa82f9b32},
		{"first packet", -1, 0, 1, 0},
		{"small after none", -1, 2, 4, 2},
		{"wrap forward", 0xff, 0x01, 1, 0x101},
		{"slightly behind", 0x100, 0xfe, 1, 0xfe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := expandPN(tc.largest, tc.truncated, tc.n); got != tc.want {
				t.Errorf("expandPN(%#x, %#x, %d) = %#x, want %#x", tc.largest, tc.truncated, tc.n, got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	v1Initial := unhex(t, rfc9001ClientInitial)
	vn := unhex(t, "80 00000000 04 0a0b0c0d 08 0102030405060708 00000001 ff00001d")
	tests := []struct {
		name    string
		in      []byte
		err     error
		typ     Type
		version uint32
		dcid    string
		scid    string
		rawLen  int
	}{
		{"v1 Initial", v1Initial, nil, TypeInitial, V1, rfcDCID, "", 1200},
		{"Initial with trailing bytes", append(append([]byte(nil), v1Initial...), 0, 0, 0), nil, TypeInitial, V1, rfcDCID, "", 1200},
		{"empty", nil, ErrTruncated, 0, 0, "", "", 0},
		{"short header", []byte{0x40, 1, 2, 3, 4, 5, 6, 7}, ErrNotLong, 0, 0, "", "", 0},
		{"too short", []byte{0xc0, 0, 0, 0, 1, 0}, ErrTruncated, 0, 0, "", "", 0},
		{"DCID beyond datagram", unhex(t, "c0 00000001 08 0102"), ErrTruncated, 0, 0, "", "", 0},
		{"DCID longer than 20 in v1", append(unhex(t, "c0 00000001 15"), make([]byte, 40)...), ErrCIDLength, 0, 0, "", "", 0},
		{"token length lies", unhex(t, "c0 00000001 00 00 50 ff"), ErrLength, 0, 0, "", "", 0},
		{"length field lies", unhex(t, "c0 00000001 00 00 00 4100 0102"), ErrLength, 0, 0, "", "", 0},
		{"length field missing", unhex(t, "c0 00000001 00 00 00"), ErrTruncated, 0, 0, "", "", 0},
		{"8-byte token length", unhex(t, "c0 00000001 00 00 ffffffffffffffff 00"), ErrLength, 0, 0, "", "", 0},
		{"version negotiation", vn, nil, TypeVersionNegotiation, 0, "0a0b0c0d", "0102030405060708", len(vn)},
		{"version negotiation, ragged list", append(append([]byte(nil), vn...), 1), ErrVersions, 0, 0, "", "", 0},
		{"unknown version: invariants only", append(unhex(t, "c5 1a2a3a4a 18"), make([]byte, 30)...), nil, TypeUnknown, 0x1a2a3a4a,
			"000000000000000000000000000000000000000000000000", "", 36},
		{"v2 Initial type bits", unhex(t, "d0 6b3343cf 00 00 00 02 0000"), nil, TypeInitial, V2, "", "", 11},
		{"v2 Retry type bits", append(unhex(t, "c0 6b3343cf 00 00"), make([]byte, 16)...), nil, TypeRetry, V2, "", "", 23},
		{"v1 Handshake", unhex(t, "e0 00000001 00 00 02 0000"), nil, TypeHandshake, V1, "", "", 10},
		{"draft-23 Retry with ODCID", unhex(t, "f0 ff000017 00 00 02 aabb 746f6b"), nil, TypeRetry, Draft | 23, "", "", 13},
		{"draft-23 Retry ODCID lies", unhex(t, "f0 ff000017 00 00 09 aabb"), ErrTruncated, 0, 0, "", "", 0},
		{"Retry without room for the tag", unhex(t, "f0 00000001 00 00 0102"), ErrTruncated, 0, 0, "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Parse(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse error = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if h.Type != tc.typ || h.Version != tc.version || len(h.Raw) != tc.rawLen {
				t.Errorf("Parse = %v %#x len %d, want %v %#x %d", h.Type, h.Version, len(h.Raw), tc.typ, tc.version, tc.rawLen)
			}
			if got := hex.EncodeToString(h.DCID); got != tc.dcid {
				t.Errorf("DCID = %s, want %s", got, tc.dcid)
			}
			if got := hex.EncodeToString(h.SCID); got != tc.scid {
				t.Errorf("SCID = %s, want %s", got, tc.scid)
			}
		})
	}
	h, _ := Parse(vn)
	if !h.SupportsVersion(Draft|29) || h.SupportsVersion(V2) {
		t.Errorf("SupportsVersion: list %x", h.Versions)
	}
}

func TestSpinBit(t *testing.T) {
	tests := []struct {
		in       []byte
		spin, ok bool
	}{
		{[]byte{0x61, 0}, true, true},
		{[]byte{0x41, 0}, false, true},
		{[]byte{0x61}, false, false},    // too short
		{[]byte{0xe1, 0}, false, false}, // long header
		{[]byte{0x21, 0}, false, false}, // fixed bit clear
	}
	for _, tc := range tests {
		t.Run(hex.EncodeToString(tc.in), func(t *testing.T) {
			if spin, ok := SpinBit(tc.in); spin != tc.spin || ok != tc.ok {
				t.Errorf("SpinBit(%x) = %v, %v, want %v, %v", tc.in, spin, ok, tc.spin, tc.ok)
			}
		})
	}
}

func TestPeekType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		typ  Type
		ver  uint32
	}{
		{"v1 Initial", "c3 00000001 08", TypeInitial, V1},
		{"v1 0-RTT", "d3 00000001 08", Type0RTT, V1},
		{"v2 Initial", "d3 6b3343cf 08", TypeInitial, V2},
		{"v2 0-RTT", "e3 6b3343cf 08", Type0RTT, V2},
		{"v2 Retry", "c3 6b3343cf 08", TypeRetry, V2},
		{"draft-29 Handshake", "e1 ff00001d 08", TypeHandshake, Draft | 29},
		{"version negotiation", "80 00000000 08", TypeVersionNegotiation, 0},
		{"unknown version", "c3 1a2a3a4a 08", TypeUnknown, 0x1a2a3a4a},
		{"CID too long", "c3 00000001 15", TypeUnknown, V1},
		{"short header", "43 00000001 08", TypeUnknown, 0},
		{"too short", "c3 000000", TypeUnknown, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, ver := PeekType(unhex(t, tc.in))
			if typ != tc.typ || ver != tc.ver {
				t.Errorf("PeekType(%s) = %v %#x, want %v %#x", tc.in, typ, ver, tc.typ, tc.ver)
			}
		})
	}
}

// sealRaw protects a packet whose unprotected header hdr ends with a
// pnLen-byte packet number at pnOff (the RFC 9001 section 5 procedure,
// written out here independently of Open).
func sealRaw(t testing.TB, k *Keys, hdr []byte, pnOff int, pn uint64, payload []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(k.Key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := append([]byte(nil), k.IV...)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	pkt := append(append([]byte(nil), hdr...), aead.Seal(nil, nonce, payload, hdr)...)
	hp, err := aes.NewCipher(k.HP)
	if err != nil {
		t.Fatal(err)
	}
	var mask [16]byte
	hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+20])
	pnLen := len(hdr) - pnOff
	if pkt[0]&0x80 != 0 {
		pkt[0] ^= mask[0] & 0x0f
	} else {
		pkt[0] ^= mask[0] & 0x1f
	}
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}

// initial describes a client Initial to build.
type initial struct {
	version   uint32
	keyDCID   []byte // DCID the keys derive from (nil: dcid)
	dcid      []byte
	scid      []byte
	token     []byte
	pn        uint64
	pnLen     int
	typ       Type // TypeInitial (default) or Type0RTT / TypeHandshake
	payload   []byte
	keyServer bool
}

// build protects the packet.
func (in initial) build(t testing.TB) []byte {
	t.Helper()
	v := lookup(in.version)
	if v == nil {
		v = verV1
	}
	if in.pnLen == 0 {
		in.pnLen = 4
	}
	typ := in.typ
	if typ == TypeUnknown {
		typ = TypeInitial
	}
	var bits byte
	for b := byte(0); b < 4; b++ {
		if v.typeOf(b<<4) == typ {
			bits = b
		}
	}
	hdr := []byte{0xc0 | bits<<4 | byte(in.pnLen-1)}
	hdr = binary.BigEndian.AppendUint32(hdr, in.version)
	hdr = append(hdr, byte(len(in.dcid)))
	hdr = append(hdr, in.dcid...)
	hdr = append(hdr, byte(len(in.scid)))
	hdr = append(hdr, in.scid...)
	if typ == TypeInitial {
		hdr = appendVarint(hdr, uint64(len(in.token)))
		hdr = append(hdr, in.token...)
	}
	hdr = binary.BigEndian.AppendUint16(hdr, 0x4000|uint16(in.pnLen+len(in.payload)+16))
	pnOff := len(hdr)
	for i := in.pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(in.pn>>(8*i)))
	}
	kd := in.keyDCID
	if kd == nil {
		kd = in.dcid
	}
	k, err := v.keys(kd, in.keyServer)
	if err != nil {
		t.Fatal(err)
	}
	return sealRaw(t, k, hdr, pnOff, in.pn, in.payload)
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, 0x4000|uint16(v))
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, 0x80000000|uint32(v))
	}
	return binary.BigEndian.AppendUint64(b, 0xc000000000000000|v)
}

// cryptoFrameBytes encodes a CRYPTO frame.
func cryptoFrameBytes(off int, data []byte) []byte {
	f := appendVarint([]byte{0x06}, uint64(off))
	f = appendVarint(f, uint64(len(data)))
	return append(f, data...)
}

// testHello builds a TLS ClientHello message of about size bytes with the
// given server name and ALPN protocols (a padding extension fills it up).
func testHello(name string, alpn []string, size int) []byte {
	var ext []byte
	addExt := func(typ uint16, body []byte) {
		ext = binary.BigEndian.AppendUint16(ext, typ)
		ext = binary.BigEndian.AppendUint16(ext, uint16(len(body)))
		ext = append(ext, body...)
	}
	if name != "" {
		sni := binary.BigEndian.AppendUint16(nil, uint16(3+len(name)))
		sni = append(sni, 0)
		sni = binary.BigEndian.AppendUint16(sni, uint16(len(name)))
		addExt(0, append(sni, name...))
	}
	if len(alpn) > 0 {
		var list []byte
		for _, p := range alpn {
			list = append(list, byte(len(p)))
			list = append(list, p...)
		}
		addExt(16, append(binary.BigEndian.AppendUint16(nil, uint16(len(list))), list...))
	}
	addExt(43, []byte{2, 3, 4})
	body := []byte{3, 3}
	body = append(body, bytes.Repeat([]byte{0x5a}, 32)...)
	body = append(body, 0)                // session id
	body = append(body, 0, 2, 0x13, 0x01) // cipher suites
	body = append(body, 1, 0)             // compression
	if pad := size - 4 - len(body) - 2 - len(ext) - 4; pad > 0 {
		addExt(21, make([]byte, pad))
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	m := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(m, body...)
}

func TestClientHelloReassembly(t *testing.T) {
	dcid := unhex(t, "0011223344556677")
	scid := unhex(t, "a1a2a3a4")
	hello := testHello("multi.example", []string{"h3", "h3-29"}, 3000)
	part := func(a, b int) []byte { return cryptoFrameBytes(a, hello[a:b]) }
	pad := func(p []byte, n int) []byte { return append(p, make([]byte, n)...) }
	ping := []byte{0x01}
	ack := unhex(t, "02 05 00 01 00 01 01") // largest 5, delay 0, 1 extra range, first 0, gap 1, len 1
	cat := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	mk := func(pn uint64, payload []byte) []byte {
		return initial{version: V1, dcid: dcid, scid: scid, pn: pn, payload: payload}.build(t)
	}
	tests := []struct {
		name      string
		datagrams [][]byte
		ok        bool
	}{
		{"three packets in order", [][]byte{
			mk(0, pad(part(0, 1100), 20)),
			mk(1, cat(ping, part(1100, 2200), ping)),
			mk(2, pad(part(2200, 3000), 200)),
		}, true},
		{"out of order, overlapping, with ACK and PING", [][]byte{
			mk(2, cat(part(2000, 3000), ping)),
			mk(0, cat(ack, part(0, 900), pad(nil, 30))),
			mk(1, cat(part(800, 1500), part(1400, 2100))),
		}, true},
		{"chaos-style small frames", func() [][]byte {
			var frames [][]byte
			for off := 0; off < 3000; off += 250 {
				frames = append(frames, part(off, min(off+250, 3000)), ping)
			}
			return [][]byte{
				mk(0, cat(frames[12:]...)), // the second half first
				mk(1, cat(frames[:12]...)),
			}
		}(), true},
		{"coalesced in one datagram with a 0-RTT packet", [][]byte{
			cat(mk(0, part(0, 1500)), mk(1, part(1500, 3000)),
				initial{version: V1, dcid: dcid, scid: scid, pn: 0, typ: Type0RTT, payload: pad(nil, 40)}.build(t)),
		}, true},
		{"a piece missing", [][]byte{
			mk(0, part(0, 1100)),
			mk(2, part(2200, 3000)),
		}, false},
		{"a packet corrupted", func() [][]byte {
			p := mk(1, part(1100, 2200))
			p[len(p)-30] ^= 0x40
			return [][]byte{mk(0, part(0, 1100)), p, mk(2, part(2200, 3000))}
		}(), false},
		{"later packets keep the first DCID's keys", [][]byte{
			mk(0, part(0, 1100)),
			initial{version: V1, keyDCID: dcid, dcid: scid, scid: scid, pn: 1, payload: part(1100, 3000)}.build(t),
		}, true},
		{"keys of the server", [][]byte{
			initial{version: V1, dcid: dcid, pn: 0, keyServer: true, payload: part(0, 3000)}.build(t),
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ClientHello(tc.datagrams)
			if ok != tc.ok {
				t.Fatalf("ClientHello ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if !bytes.Equal(got, hello) {
				t.Fatalf("ClientHello = %d bytes, want the %d-byte hello", len(got), len(hello))
			}
			if s := ServerName(got); s != "multi.example" {
				t.Errorf("ServerName = %q", s)
			}
			if a := ALPN(got); len(a) != 2 || a[0] != "h3" || a[1] != "h3-29" {
				t.Errorf("ALPN = %q", a)
			}
		})
	}
}

func TestClientHelloAfterRetry(t *testing.T) {
	odcid := unhex(t, "0102030405060708")
	newDCID := unhex(t, "f0f1f2f3f4f5f6f7f8")
	first := testHello("before.example", nil, 1000)
	second := testHello("after.example", nil, 1000)
	client := [][]byte{
		// The first attempt, cut short: half its hello.
		initial{version: V1, dcid: odcid, pn: 0, payload: cryptoFrameBytes(0, first[:500])}.build(t),
		// After the Retry: keys from the new DCID, the hello from offset 0.
		initial{version: V1, dcid: newDCID, token: []byte("tok"), pn: 1, payload: cryptoFrameBytes(0, second)}.build(t),
	}
	got, ok := ClientHello(client)
	if !ok || ServerName(got) != "after.example" {
		t.Fatalf("ClientHello = %v %q, want the hello sent after the Retry", ok, ServerName(got))
	}
	c := Inspect([2][][]byte{client, nil})
	if !c.Detected || c.Client != 0 || c.DCIDLen != 8 || c.PNLen != 4 || c.Retry {
		t.Errorf("Inspect = %+v", c)
	}
}

func TestInspect(t *testing.T) {
	dcid := unhex(t, "c1c2c3c4c5c6c7c8")
	scid := unhex(t, "5150")
	hello := testHello("inspect.example", []string{"h3"}, 1100)
	client := initial{version: V1, dcid: dcid, scid: scid, pn: 0, pnLen: 2, payload: cryptoFrameBytes(0, hello)}.build(t)
	zeroRTT := initial{version: V1, dcid: dcid, scid: scid, pn: 0, typ: Type0RTT, payload: make([]byte, 30)}.build(t)
	// A Retry for dcid, with its integrity tag computed as RFC 9001 5.8 says.
	retry := append(unhex(t, "f0 00000001 02 5150 04 99887766"), "retry-token"...)
	pseudo := append(append([]byte{byte(len(dcid))}, dcid...), retry...)
	block, _ := aes.NewCipher(retryKeyV1)
	aead, _ := cipher.NewGCM(block)
	retry = append(retry, aead.Seal(nil, retryNonceV1, nil, pseudo)...)
	badRetry := append([]byte(nil), retry...)
	badRetry[len(badRetry)-1] ^= 1
	greased := append(unhex(t, "c0 1a2a3a4a 08 c1c2c3c4c5c6c7c8 02 5150"), make([]byte, 1180)...)
	vn := unhex(t, "80 00000000 02 5150 08 c1c2c3c4c5c6c7c8 00000001 6b3343cf")
	vnWrongCIDs := unhex(t, "80 00000000 02 5150 08 c1c2c3c4c5c6c7c9 00000001")
	tests := []struct {
		name   string
		dirs   [2][][]byte
		want   Conn
		sni    string
		noSNI  bool
		absent bool
	}{
		{"client first", [2][][]byte{{client, zeroRTT}, {retry}},
			Conn{Detected: true, Client: 0, Version: V1, DCIDLen: 8, SCIDLen: 2, PNLen: 2, Opened: true, HelloComplete: true, ZeroRTT: true, Retry: true},
			"inspect.example", false, false},
		{"client second, bad Retry tag", [2][][]byte{{badRetry}, {client}},
			Conn{Detected: true, Client: 1, Version: V1, DCIDLen: 8, SCIDLen: 2, PNLen: 2, Opened: true, HelloComplete: true},
			"inspect.example", false, false},
		{"version negotiation answers a greased version", [2][][]byte{{greased}, {vn}},
			Conn{Detected: true, Client: 0, Version: 0x1a2a3a4a, DCIDLen: 8, SCIDLen: 2, VersionNeg: true},
			"", true, false},
		{"version negotiation with other CIDs", [2][][]byte{{greased}, {vnWrongCIDs}}, Conn{Client: -1}, "", true, true},
		{"unanswered greased version", [2][][]byte{{greased}, nil}, Conn{Client: -1}, "", true, true},
		{"Retry alone validates an unopened Initial", [2][][]byte{{corrupt(client)}, {retry}},
			Conn{Detected: true, Client: 0, Version: V1, DCIDLen: 8, SCIDLen: 2, Retry: true}, "", true, false},
		{"nothing", [2][][]byte{{[]byte("hello")}, {{0x16, 3, 1}}}, Conn{Client: -1}, "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Inspect(tc.dirs)
			got := c
			got.Hello, got.DCID = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Inspect = %+v\nwant      %+v", got, tc.want)
			}
			if s := c.ServerName(); s != tc.sni {
				t.Errorf("ServerName = %q, want %q", s, tc.sni)
			}
			if !tc.absent && !bytes.Equal(c.DCID, dcid) {
				t.Errorf("DCID = %x, want %x", c.DCID, dcid)
			}
		})
	}
}

// corrupt returns a copy of a packet with its last byte changed.
func corrupt(p []byte) []byte {
	c := append([]byte(nil), p...)
	c[len(c)-1] ^= 0x80
	return c
}

func TestGreasedVersionOpensWithV1Keys(t *testing.T) {
	dcid := unhex(t, "0102030405060708")
	hello := testHello("grease.example", []string{"hq-interop"}, 1100)
	// Build a v1 Initial, then change the version field and re-seal: the
	// keys are v1's, the version on the wire is reserved.
	pkt := initial{version: V1, dcid: dcid, pn: 0, payload: cryptoFrameBytes(0, hello)}.build(t)
	h, _ := Parse(pkt)
	hdr := append([]byte(nil), pkt[:h.PNOffset+4]...)
	hdr[0] = 0xc3
	binary.BigEndian.PutUint32(hdr[1:], 0x4a5a6a7a)
	for i := 0; i < 4; i++ {
		hdr[h.PNOffset+i] = 0
	}
	k, _ := InitialKeys(V1, dcid, false)
	greased := sealRaw(t, k, hdr, h.PNOffset, 0, cryptoFrameBytes(0, hello))
	c := Inspect([2][][]byte{{greased}, nil})
	if !c.Detected || c.Version != 0x4a5a6a7a || c.Grease != 0x4a5a6a7a || c.ServerName() != "grease.example" {
		t.Errorf("Inspect = %+v, sni %q", c, c.ServerName())
	}
	// A real version later in the flow wins.
	c = Inspect([2][][]byte{{greased, pkt}, nil})
	if c.Version != V1 || c.Grease != 0x4a5a6a7a {
		t.Errorf("with a v1 Initial too: version %#x grease %#x, want v1 and the reserved one", c.Version, c.Grease)
	}
}

func TestCryptoStream(t *testing.T) {
	var s cryptoStream
	s.add(4, []byte("efgh"))
	if p := s.prefix(); p != nil {
		t.Fatalf("prefix before offset 0 = %q", p)
	}
	s.add(0, []byte("abXY"))
	s.add(2, []byte("cdZZ")) // "cd" fills the hole at 2..3; "ZZ" overlaps "ef": the first copy wins
	if got := string(s.prefix()); got != "abXYefgh" {
		t.Errorf("prefix = %q, want %q", got, "abXYefgh")
	}
	s.add(MaxCrypto-1, []byte("xy"))
	if !s.over {
		t.Error("data beyond MaxCrypto was accepted")
	}
	var m cryptoStream
	for i := 0; i < 2*maxSpans; i++ {
		m.add(uint64(10+2*i), []byte{1})
	}
	if !m.over || len(m.spans) > maxSpans+1 {
		t.Errorf("spans = %d, over = %v: the piece count is not capped", len(m.spans), m.over)
	}
}

func TestWalkFrames(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		crypto  []string // "off:hex"
		err     bool
	}{
		{"padding ping crypto", "0000 01 06 00 02 aabb 00", []string{"0:aabb"}, false},
		{"ack with ECN", "03 05 00 00 00 01 02 03 06 05 01 cc", []string{"5:cc"}, false},
		{"ack range count lies", "02 05 00 7fff 00", nil, true},
		{"crypto length lies", "06 00 10 aabb", nil, true},
		{"connection close ends", "06 00 01 aa 1c 00 00 00 06 00 01 bb", []string{"0:aa"}, false},
		{"stream frame not allowed", "06 00 01 aa 08 00", []string{"0:aa"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := walkFrames(unhex(t, tc.payload), verV1, func(off uint64, d []byte) {
				got = append(got, strconv.FormatUint(off, 10)+":"+hex.EncodeToString(d))
			})
			if (err != nil) != tc.err {
				t.Errorf("walkFrames error = %v, want error %v", err, tc.err)
			}
			if strings.Join(got, ",") != strings.Join(tc.crypto, ",") {
				t.Errorf("crypto frames = %v, want %v", got, tc.crypto)
			}
		})
	}
	// A long run of PING frames is capped.
	if err := walkFrames(bytes.Repeat([]byte{1}, 2*maxFrames), verV1, func(uint64, []byte) {}); err == nil {
		t.Error("walkFrames read more than maxFrames frames")
	}
}

func TestServerNameAndALPNMalformed(t *testing.T) {
	good := testHello("ok.example", []string{"h2", "http/1.1"}, 0)
	tests := []struct {
		name string
		in   []byte
		sni  string
		alpn int
	}{
		{"whole", good, "ok.example", 2},
		{"truncated inside ALPN", good[:len(good)-12], "ok.example", 0},
		{"only the header", good[:10], "", 0},
		{"not a ClientHello", append([]byte{2}, good[1:]...), "", 0},
		{"empty", nil, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ServerName(tc.in); got != tc.sni {
				t.Errorf("ServerName = %q, want %q", got, tc.sni)
			}
			if got := ALPN(tc.in); len(got) != tc.alpn {
				t.Errorf("ALPN = %q, want %d protocols", got, tc.alpn)
			}
		})
	}
}

// googlePacket builds a Google QUIC client packet carrying frames, with its
// message authentication hash.
func googlePacket(version string, frames []byte) []byte {
	n := int(version[2]-'0')*10 + int(version[3]-'0')
	var hdr []byte
	if n == 46 {
		hdr = append([]byte{0xc3}, version...)
		hdr = append(hdr, 0x50)
		hdr = append(hdr, 1, 2, 3, 4, 5, 6, 7, 8)
		hdr = append(hdr, 0, 0, 0, 1)
	} else {
		hdr = append([]byte{0x09, 1, 2, 3, 4, 5, 6, 7, 8}, version...)
		hdr = append(hdr, 1)
	}
	plain := frames
	if n <= 33 {
		plain = append([]byte{0x01}, frames...) // private flags
	}
	h := fnv.New128a()
	h.Write(hdr)
	h.Write(plain)
	if n >= 37 {
		h.Write([]byte("Client"))
	}
	sum := h.Sum(nil)
	var tag [12]byte
	binary.LittleEndian.PutUint64(tag[:], binary.BigEndian.Uint64(sum[8:]))
	binary.LittleEndian.PutUint32(tag[8:], binary.BigEndian.Uint32(sum[4:8]))
	return append(append(hdr, tag[:]...), plain...)
}

// testCHLO builds a CHLO message with the given tags (in order).
func testCHLO(tags ...string) []byte {
	m := []byte("CHLO")
	m = binary.LittleEndian.AppendUint16(m, uint16(len(tags)/2))
	m = append(m, 0, 0)
	var values []byte
	for i := 0; i+1 < len(tags); i += 2 {
		values = append(values, tags[i+1]...)
		m = append(m, tags[i]...)
		m = binary.LittleEndian.AppendUint32(m, uint32(len(values)))
	}
	return append(m, values...)
}

func TestGoogleQUIC(t *testing.T) {
	chlo := testCHLO("PAD\x00", strings.Repeat("-", 100), "SNI\x00", "www.example.org", "VER\x00", "Q043")
	streamFrame := func(le bool, off int, data []byte) []byte {
		// 0xa4: data length present, 2-byte offset, 1-byte stream id.
		f := []byte{0xa4, 0x01}
		if le {
			f = binary.LittleEndian.AppendUint16(f, uint16(off))
			f = binary.LittleEndian.AppendUint16(f, uint16(len(data)))
		} else {
			f = binary.BigEndian.AppendUint16(f, uint16(off))
			f = binary.BigEndian.AppendUint16(f, uint16(len(data)))
		}
		return append(f, data...)
	}
	tests := []struct {
		name    string
		dgs     [][]byte
		version uint32
		pnLen   int
		sni     string
	}{
		{"Q025 little-endian, private flags", [][]byte{googlePacket("Q025", append(streamFrame(true, 0, chlo), 0, 0, 0))}, 0x51303235, 1, "www.example.org"},
		{"Q039 big-endian with perspective", [][]byte{googlePacket("Q039", streamFrame(false, 0, chlo))}, 0x51303339, 1, "www.example.org"},
		{"Q046 long header", [][]byte{googlePacket("Q046", streamFrame(false, 0, chlo))}, 0x51303436, 4, "www.example.org"},
		{"CHLO split over two packets", [][]byte{
			googlePacket("Q043", streamFrame(false, 60, chlo[60:])),
			googlePacket("Q043", streamFrame(false, 0, chlo[:60])),
		}, 0x51303433, 1, "www.example.org"},
		{"CHLO after a rejected one (offset 1024)", [][]byte{googlePacket("Q046", streamFrame(false, 1024, chlo))}, 0x51303436, 4, "www.example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Inspect([2][][]byte{nil, tc.dgs})
			if !c.Detected || !c.Google || !c.CHLO || c.Client != 1 || c.Version != tc.version || c.PNLen != tc.pnLen || c.DCIDLen != 8 {
				t.Errorf("Inspect = %+v", c)
			}
			if s := c.ServerName(); s != tc.sni {
				t.Errorf("ServerName = %q, want %q", s, tc.sni)
			}
			if a := c.ALPN(); a != nil {
				t.Errorf("ALPN = %q, want none", a)
			}
			// A wrong hash is not Google QUIC.
			bad := append([]byte(nil), tc.dgs[0]...)
			bad[len(bad)-1] ^= 1
			if c := Inspect([2][][]byte{{bad}, nil}); c.Detected {
				t.Errorf("Inspect(bad hash) = %+v", c)
			}
		})
	}
}

func TestCHLOMalformed(t *testing.T) {
	good := testCHLO("SNI\x00", "a.b", "VER\x00", "Q043")
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"good", good, true},
		{"truncated values", good[:len(good)-1], false},
		{"decreasing offsets", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[8+4:], 9)
			return b
		}(), false},
		{"huge tag count", append([]byte("CHLO\xff\xff\x00\x00"), good[8:]...), false},
		{"huge offset", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[16+4:], 0xffffffff)
			return b
		}(), false},
		{"not a CHLO", append([]byte("SHLO"), good[4:]...), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := chloLen(tc.in); ok != tc.ok {
				t.Errorf("chloLen ok = %v, want %v", ok, tc.ok)
			}
			v, ok := CHLOTag(tc.in, "SNI\x00")
			if ok != tc.ok || ok && string(v) != "a.b" {
				t.Errorf("CHLOTag = %q, %v", v, ok)
			}
		})
	}
}

func TestCoalesced(t *testing.T) {
	dcid := unhex(t, "0102030405060708")
	a := initial{version: V1, dcid: dcid, pn: 0, payload: make([]byte, 30)}.build(t)
	b := initial{version: V1, dcid: dcid, pn: 0, typ: TypeHandshake, payload: make([]byte, 30)}.build(t)
	short := []byte{0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	hs := Coalesced(nil, bytes.Join([][]byte{a, b, short}, nil))
	if len(hs) != 2 || hs[0].Type != TypeInitial || hs[1].Type != TypeHandshake || !bytes.Equal(hs[1].Raw, b) {
		t.Fatalf("Coalesced = %d packets", len(hs))
	}
	many := bytes.Repeat(b, 40)
	if hs := Coalesced(nil, many); len(hs) != maxCoalesced {
		t.Errorf("Coalesced returned %d packets, want the cap %d", len(hs), maxCoalesced)
	}
}

func BenchmarkInspect(b *testing.B) {
	client := [][]byte{unhex(b, rfc9001ClientInitial)}
	server := [][]byte{unhex(b, rfc9001ServerInitial)}
	dns := [][]byte{unhex(b, "123401000001000000000000076578616d706c6503636f6d0000010001")}
	b.Run("QUIC", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if c := Inspect([2][][]byte{client, server}); !c.Detected {
				b.Fatal("not detected")
			}
		}
	})
	b.Run("DNS", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if c := Inspect([2][][]byte{dns, dns}); c.Detected {
				b.Fatal("detected")
			}
		}
	})
}
