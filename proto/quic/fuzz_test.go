package quic

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary datagrams to the header parsers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{rfc9001ClientInitial, rfc9369ClientInitial, rfc9001ServerInitial, rfc9369ServerInitial, rfc9001Retry, rfc9369Retry} {
		f.Add(unhex(f, s))
	}
	f.Add(unhex(f, "80 00000000 04 0a0b0c0d 08 0102030405060708 00000001 ff00001d"))
	f.Add(unhex(f, "f0 ff000017 00 00 02 aabb 746f6b"))
	f.Add(unhex(f, "c0 00000001 00 00 ffffffffffffffff 00"))
	f.Add(googlePacket("Q046", []byte{0xa0, 1, 0, 4, 'C', 'H', 'L', 'O'}))
	f.Fuzz(func(t *testing.T, d []byte) {
		orig := append([]byte(nil), d...)
		h, err := Parse(d)
		if err == nil {
			if len(h.Raw) > len(d) || h.PNOffset > len(h.Raw) || len(h.DCID) > 255 || len(h.SCID) > 255 {
				t.Fatalf("Parse = %+v for %d bytes", h, len(d))
			}
			if KnownVersion(h.Version) && (len(h.DCID) > MaxCIDLen || len(h.SCID) > MaxCIDLen) {
				t.Fatalf("known version %#x with a %d-byte CID", h.Version, len(h.DCID))
			}
			if k, err := InitialKeys(h.Version, h.DCID, false); err == nil {
				k.Open(&h)
			}
			VerifyRetry(&h, h.DCID)
		}
		total := 0
		for _, p := range Coalesced(nil, d) {
			total += len(p.Raw)
		}
		if total > len(d) {
			t.Fatalf("Coalesced packets add up to %d of %d bytes", total, len(d))
		}
		PeekType(d)
		if g, ok := ParseGoogle(d); ok && len(g.Payload) > len(d) {
			t.Fatal("ParseGoogle payload beyond the datagram")
		}
		if !bytes.Equal(d, orig) {
			t.Fatal("the parsers modified their input")
		}
	})
}

// FuzzClientHello feeds arbitrary bytes, cut into datagrams, to
// ClientHello and Inspect.
func FuzzClientHello(f *testing.F) {
	f.Add(unhex(f, rfc9001ClientInitial), uint16(0), uint16(0))
	f.Add(unhex(f, rfc9369ClientInitial), uint16(600), uint16(0))
	f.Add(append(unhex(f, rfc9001ClientInitial), unhex(f, rfc9001ServerInitial)...), uint16(1200), uint16(1))
	f.Fuzz(func(t *testing.T, d []byte, cut uint16, swap uint16) {
		c := int(cut)
		if c > len(d) {
			c = len(d)
		}
		dgs := [][]byte{d[:c], d[c:]}
		if h, ok := ClientHello(dgs); ok {
			if len(h) < 4 || h[0] != 1 || len(h) != 4+(int(h[1])<<16|int(h[2])<<8|int(h[3])) {
				t.Fatalf("ClientHello returned a malformed message of %d bytes", len(h))
			}
			ServerName(h)
			ALPN(h)
		}
		dirs := [2][][]byte{{d[:c]}, {d[c:]}}
		if swap&1 != 0 {
			dirs[0], dirs[1] = dirs[1], dirs[0]
		}
		conn := Inspect(dirs)
		conn.ServerName()
		conn.ALPN()
	})
}

// FuzzInitialFrames seals arbitrary plaintext into valid client Initial
// packets, so that the fuzzer reaches the frame walk, the CRYPTO reassembly
// and the hello parsers with hostile contents (lying lengths, offsets).
func FuzzInitialFrames(f *testing.F) {
	crypto := unhex(f, rfcClientCrypto)
	f.Add(crypto, []byte(nil), false)
	f.Add(crypto[:100], append([]byte{0x06, 0x40, 0x64}, crypto[100+4:]...), false)
	f.Add(unhex(f, "06 00 44 00 01 0040 00"), unhex(f, "06 4004 05 aabbccddee"), true)
	f.Add(unhex(f, "02 05 00 7fff 00"), unhex(f, "06 bfffffff 01 00"), true)
	f.Add(testCHLO("SNI\x00", "x.y"), []byte(nil), true)
	dcid := unhex(f, "0102030405060708")
	f.Fuzz(func(t *testing.T, p1, p2 []byte, q050 bool) {
		if len(p1) > 4000 || len(p2) > 4000 {
			return
		}
		ver := V1
		if q050 {
			ver = Q050
		}
		var dgs [][]byte
		for i, p := range [][]byte{p1, p2} {
			p = append(p, make([]byte, max(0, 4-len(p)))...) // room for the sample
			dgs = append(dgs, initial{version: ver, dcid: dcid, pn: uint64(i), payload: p}.build(t))
		}
		if h, ok := ClientHello(dgs); ok {
			if len(h) < 4 || h[0] != 1 || len(h) > MaxCrypto {
				t.Fatalf("ClientHello returned %d bytes starting %x", len(h), h[:min(4, len(h))])
			}
		}
		c := Inspect([2][][]byte{dgs, nil})
		if !c.Detected || !c.Opened {
			t.Fatalf("a valid Initial was not detected: %+v", c)
		}
		c.ServerName()
		c.ALPN()
	})
}

// FuzzGoogleFrames wraps arbitrary frames in Google QUIC packets with a
// valid message hash.
func FuzzGoogleFrames(f *testing.F) {
	chlo := testCHLO("PAD\x00", "----", "SNI\x00", "www.example.org")
	f.Add(append([]byte{0xa0, 0x01, 0x00, byte(len(chlo))}, chlo...), uint8(0))
	f.Add(append([]byte{0xbf, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10}, chlo...), uint8(1))
	f.Add([]byte{0x07, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff}, uint8(2))
	versions := []string{"Q025", "Q033", "Q039", "Q043", "Q046"}
	f.Fuzz(func(t *testing.T, frames []byte, v uint8) {
		pkt := googlePacket(versions[int(v)%len(versions)], frames)
		c := Inspect([2][][]byte{{pkt}, nil})
		if c.Detected && (!c.Google || len(c.Hello) > MaxCrypto) {
			t.Fatalf("Inspect = %+v", c)
		}
		c.ServerName()
	})
}

// FuzzHelloParsers feeds arbitrary handshake messages to the extension and
// CHLO readers.
func FuzzHelloParsers(f *testing.F) {
	f.Add(rfcClientHello(f))
	f.Add(testHello("a.example", []string{"h3", "h2"}, 600))
	f.Add(testCHLO("SNI\x00", "a.b", "VER\x00", "Q043"))
	f.Fuzz(func(t *testing.T, m []byte) {
		if s := ServerName(m); len(s) > len(m) {
			t.Fatal("server name longer than the message")
		}
		for _, p := range ALPN(m) {
			if p == "" {
				t.Fatal("empty ALPN protocol")
			}
		}
		if n, ok := chloLen(m); ok && n > len(m) {
			t.Fatal("chloLen beyond the message")
		}
		CHLOTag(m, "SNI\x00")
		helloLen(m, false)
	})
}
