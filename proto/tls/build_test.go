package tls

// Builders of handshake bytes for the tests.

type ext struct {
	typ  uint16
	body []byte
}

func be16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func be24(n int) []byte { return []byte{byte(n >> 16), byte(n >> 8), byte(n)} }

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, be16(v)...)
	}
	return b
}

// vec16 prefixes b with its 16-bit length.
func vec16(b []byte) []byte { return append(be16(uint16(len(b))), b...) }

// vec8 prefixes b with its 8-bit length.
func vec8(b []byte) []byte { return append([]byte{byte(len(b))}, b...) }

func sniExt(name string) ext {
	return ext{ExtServerName, vec16(append([]byte{0}, vec16([]byte(name))...))}
}

func alpnExt(protos ...string) ext {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext{ExtALPN, vec16(l)}
}

func groupsExt(gs ...uint16) ext { return ext{ExtSupportedGroups, vec16(u16s(gs...))} }

func formatsExt(fs ...byte) ext { return ext{ExtECPointFormats, vec8(fs)} }

func sigAlgsExt(ss ...uint16) ext { return ext{ExtSignatureAlgorithms, vec16(u16s(ss...))} }

func versionsExt(vs ...uint16) ext { return ext{ExtSupportedVersions, vec8(u16s(vs...))} }

func keyShareExt(group uint16, keyLen int) ext {
	entry := append(be16(group), vec16(make([]byte, keyLen))...)
	return ext{ExtKeyShare, vec16(entry)}
}

// helloSpec describes a ClientHello to build.
type helloSpec struct {
	version  uint16
	sid      []byte
	cookie   []byte // DTLS only
	dtls     bool
	ciphers  []uint16
	exts     []ext
	noExtLen bool // end after the compression methods
}

// body returns the ClientHello body (no handshake header).
func (s helloSpec) body() []byte {
	b := be16(s.version)
	b = append(b, make([]byte, 32)...) // random
	b = append(b, vec8(s.sid)...)
	if s.dtls {
		b = append(b, vec8(s.cookie)...)
	}
	b = append(b, vec16(u16s(s.ciphers...))...)
	b = append(b, 1, 0) // null compression
	if s.noExtLen {
		return b
	}
	var e []byte
	for _, x := range s.exts {
		e = append(e, be16(x.typ)...)
		e = append(e, vec16(x.body)...)
	}
	return append(b, vec16(e)...)
}

// handshake wraps a body in a handshake header.
func handshake(typ uint8, body []byte) []byte {
	return append(append([]byte{typ}, be24(len(body))...), body...)
}

// record wraps payload in a TLS record header.
func record(typ uint8, version uint16, payload []byte) []byte {
	return append(append([]byte{typ}, be16(version)...), vec16(payload)...)
}

// dtlsRecord wraps payload in a DTLS record header (epoch, sequence 0).
func dtlsRecord(typ uint8, version, epoch uint16, payload []byte) []byte {
	b := append([]byte{typ}, be16(version)...)
	b = append(b, be16(epoch)...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return append(b, vec16(payload)...)
}

// fragmentBytes builds a DTLS handshake fragment of a message body.
func fragmentBytes(typ uint8, seq uint16, body []byte, off, n int) []byte {
	b := append([]byte{typ}, be24(len(body))...)
	b = append(b, be16(seq)...)
	b = append(b, be24(off)...)
	b = append(b, be24(n)...)
	return append(b, body[off:off+n]...)
}

// serverHelloBody builds a ServerHello body.
func serverHelloBody(version, cipher uint16, exts []ext) []byte {
	b := be16(version)
	b = append(b, make([]byte, 32)...)
	b = append(b, vec8(make([]byte, 32))...)
	b = append(b, be16(cipher)...)
	b = append(b, 0)
	if exts == nil {
		return b
	}
	var e []byte
	for _, x := range exts {
		e = append(e, be16(x.typ)...)
		e = append(e, vec16(x.body)...)
	}
	return append(b, vec16(e)...)
}

// certificateBody builds a Certificate body with certificates of the given
// lengths.
func certificateBody(lens ...int) []byte {
	var l []byte
	for _, n := range lens {
		l = append(l, be24(n)...)
		l = append(l, make([]byte, n)...)
	}
	return append(be24(len(l)), l...)
}

// specHello is the ClientHello of the JA4 specification's worked example
// (FoxIO JA4.md): 15 ciphers, 16 extensions, ALPN h2, TLS 1.3.
func specHello() helloSpec {
	return helloSpec{
		version: VersionTLS12,
		ciphers: []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		exts: []ext{
			{0x001b, []byte{2, 0, 2}},
			sniExt("example.com"),
			keyShareExt(0x001d, 32),
			alpnExt("h2", "http/1.1"),
			{0x4469, []byte{0, 3, 2, 'h', '2'}},
			{0x0017, nil},
			{0x002d, []byte{1, 1}},
			sigAlgsExt(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
			{0x0005, []byte{1, 0, 0, 0, 0}},
			{0x0023, nil},
			{0x0012, nil},
			versionsExt(VersionTLS13, VersionTLS12),
			{0xff01, []byte{0}},
			formatsExt(0),
			groupsExt(0x001d, 0x0017, 0x0018),
			{0x0015, make([]byte, 10)},
		},
	}
}
