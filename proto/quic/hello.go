package quic

import (
	"bytes"
	"encoding/binary"
)

// Bounds of one scan.
const (
	maxDatagrams = 64  // datagrams read per direction
	maxKeySets   = 16  // Initial key sets derived per direction
	maxOpens     = 256 // packet decryptions tried per direction
)

// keyCache holds the client Initial keys derived so far, by connection ID and
// version.
type keyCache struct {
	sets []keySet
}

type keySet struct {
	dcid []byte
	v    *version
	keys *Keys
}

func (c *keyCache) get(dcid []byte, v *version) *Keys {
	for _, s := range c.sets {
		if s.v == v && bytes.Equal(s.dcid, dcid) {
			return s.keys
		}
	}
	if len(c.sets) >= maxKeySets {
		return nil
	}
	k, err := v.keys(dcid, false)
	if err != nil {
		return nil
	}
	c.sets = append(c.sets, keySet{dcid: append([]byte(nil), dcid...), v: v, keys: k})
	return k
}

// initialForm is a packet read as an Initial of version v.
type initialForm struct {
	h LongHeader
	v *version
}

// greaseVersions are the versions whose Initial keys are tried on a packet
// of a reserved version (0x?a?a?a?a): implementations that exercise version
// negotiation protect such packets with the keys of a version they speak.
var greaseVersions = []*version{verV1, verD29, verD23, verD22}

// initialForms returns the ways h can be a client Initial: as an Initial of
// its own version, or, for a reserved version, with the Initial format and
// keys of each version in greaseVersions.
func initialForms(dst []initialForm, h *LongHeader) []initialForm {
	if h.Type == TypeInitial {
		return append(dst, initialForm{*h, lookup(h.Version)})
	}
	if h.Type != TypeUnknown || !Reserved(h.Version) {
		return dst
	}
	g, err := parseAs(h.Raw, verV1)
	if err != nil || g.Type != TypeInitial {
		return dst
	}
	for _, v := range greaseVersions {
		dst = append(dst, initialForm{g, v})
	}
	return dst
}

// clientScan is what the client's datagrams show.
type clientScan struct {
	firstDCID []byte     // DCID of the first Initial (opened or not): the Original DCID
	dcids     [][]byte   // the distinct DCIDs of the client's Initials (at most maxKeySets)
	opened    bool       // an Initial opened with the client Initial keys
	first     LongHeader // the first Initial that opened (slices point into the datagrams)
	pnLen     int        // its packet number length
	v         *version   // version whose keys and frames the last opened Initial used
	stream    cryptoStream
	complete  int // length of the complete hello message, 0 while incomplete
	zeroRTT   bool
	grease    uint32 // a reserved version whose Initials opened
}

// scanClient removes the protection of the client Initial packets in
// datagrams and reassembles their CRYPTO frames until the first handshake
// message is complete.
func scanClient(datagrams [][]byte) *clientScan {
	s := &clientScan{}
	var (
		cache keyCache
		cur   []byte // DCID the client Initial keys derive from
		hs    []LongHeader
		forms []initialForm
		tries int
	)
	open := func(f *initialForm, dcid []byte) (Opened, bool) {
		if tries >= maxOpens {
			return Opened{}, false
		}
		tries++
		k := cache.get(dcid, f.v)
		if k == nil {
			return Opened{}, false
		}
		o, err := k.Open(&f.h)
		return o, err == nil
	}
	for i, d := range datagrams {
		if i >= maxDatagrams {
			break
		}
		hs = Coalesced(hs[:0], d)
		for j := range hs {
			h := &hs[j]
			if h.Type == Type0RTT {
				// 0-RTT packets carry the DCID of the client's Initial.
				if s.firstDCID != nil && (bytes.Equal(h.DCID, s.firstDCID) || cur != nil && bytes.Equal(h.DCID, cur)) {
					s.zeroRTT = true
				}
				continue
			}
			forms = initialForms(forms[:0], h)
			if len(forms) == 0 {
				continue
			}
			if s.firstDCID == nil {
				s.firstDCID = h.DCID
			}
			if len(s.dcids) < maxKeySets && !containsCID(s.dcids, h.DCID) {
				s.dcids = append(s.dcids, h.DCID)
			}
			if s.complete > 0 && !Reserved(s.first.Version) {
				continue
			}
			var (
				o  Opened
				ok bool
				f  *initialForm
			)
			for k := range forms {
				f = &forms[k]
				if cur != nil {
					if o, ok = open(f, cur); ok {
						break
					}
				}
				if !bytes.Equal(h.DCID, cur) {
					// The first Initial, or one sent after a Retry, whose
					// new DCID the keys now derive from (RFC 9001 5.2).
					if o, ok = open(f, h.DCID); ok {
						if cur != nil && s.complete == 0 {
							s.stream.reset()
						}
						cur = h.DCID
						break
					}
				}
			}
			if !ok {
				continue
			}
			// The connection's version is never a reserved one (RFC 9000
			// section 15): a later Initial of a real version replaces it.
			if !s.opened || Reserved(s.first.Version) && !Reserved(f.h.Version) {
				if s.opened {
					// The connection proper starts after version
					// negotiation: its hello is the one to read.
					s.stream.reset()
					s.complete = 0
				}
				s.opened, s.first, s.pnLen = true, f.h, o.PNLen
			}
			if Reserved(f.h.Version) && s.grease == 0 {
				s.grease = f.h.Version
			}
			if s.complete == 0 {
				s.v = f.v
				_ = walkFrames(o.Payload, s.v, s.stream.add)
				s.complete = helloLen(s.stream.prefix(), s.v.chlo)
			}
		}
	}
	return s
}

// hello returns the reassembled handshake message, or the contiguous bytes
// received when it is incomplete.
func (s *clientScan) hello() (msg []byte, complete bool) {
	if s.complete > 0 {
		return s.stream.buf[:s.complete], true
	}
	return s.stream.prefix(), false
}

// helloLen returns the length of the complete first handshake message at the
// start of b, or 0 when b does not hold all of it: a TLS ClientHello (type 1
// and a 24-bit length) or, with chlo, a QUIC crypto CHLO.
func helloLen(b []byte, chlo bool) int {
	if chlo {
		n, ok := chloLen(b)
		if !ok {
			return 0
		}
		return n
	}
	if len(b) < 4 || b[0] != 0x01 {
		return 0
	}
	n := 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
	if n > len(b) {
		return 0
	}
	return n
}

// ClientHello returns the TLS ClientHello handshake message (type byte 0x01,
// 3-byte length and body, the whole message) that the client's Initial
// packets carry, given the client's UDP payloads in order. It removes the
// Initial protection with the keys of each packet's version and the client's
// first Destination Connection ID (or the new one after a Retry), walks
// coalesced packets, and reassembles the CRYPTO frames by offset across
// packets (at most MaxCrypto bytes). When the client first sent Initials of
// a reserved version (0x?a?a?a?a, opened with the keys of v1 or a draft) and
// then, after version negotiation, Initials of a real version, the hello of
// the real version's Initials is returned. ok is false when no complete
// ClientHello is found (Google QUIC's Q050 carries a CHLO, not TLS: false
// too). hello is a new slice.
func ClientHello(datagrams [][]byte) (hello []byte, ok bool) {
	return scanClient(datagrams).clientHello()
}

// Client is a client's Initial packets read once, for both hellos: a
// connection's ClientHello and ServerHello both need the client's keys and
// connection IDs.
type Client struct{ s *clientScan }

// ScanClient reads the client's UDP payloads, in order.
func ScanClient(datagrams [][]byte) Client { return Client{scanClient(datagrams)} }

// ClientHello is ClientHello of the client's datagrams.
func (c Client) ClientHello() (hello []byte, ok bool) { return c.s.clientHello() }

// ServerHello is ServerHello of the client's datagrams and server's.
func (c Client) ServerHello(server [][]byte) (hello []byte, ok bool) { return c.s.serverHello(server) }

func (s *clientScan) clientHello() (hello []byte, ok bool) {
	if !s.opened || s.v.chlo {
		return nil, false
	}
	msg, complete := s.hello()
	if !complete {
		return nil, false
	}
	return append([]byte(nil), msg...), true
}

// ServerHello returns the TLS ServerHello handshake message (type byte 0x02,
// 3-byte length and body) that the server's Initial packets carry, given the
// client's and the server's UDP payloads in order. The server's Initial keys
// derive from the DCID of the client's Initial that opened (RFC 9001 5.2)
// and the connection's version; CRYPTO frames are reassembled by offset.
// ok is false when the client's Initials do not open or no complete
// ServerHello is found. hello is a new slice.
func ServerHello(client, server [][]byte) (hello []byte, ok bool) {
	return scanClient(client).serverHello(server)
}

func (c *clientScan) serverHello(server [][]byte) (hello []byte, ok bool) {
	if !c.opened || c.v == nil || c.v.chlo {
		return nil, false
	}
	// The server's keys derive from the DCID of the client Initial it
	// answers (the first one, or the one sent after a Retry) and from the
	// version of the server's Initial (after version negotiation, not
	// necessarily the client's first): try each DCID the client used.
	type verKeys struct {
		ver  uint32
		keys []*Keys
	}
	var (
		stream cryptoStream
		hs     []LongHeader
		tries  int
		good   *Keys
		byVer  []verKeys
	)
	keysFor := func(ver uint32) ([]*Keys, *version) {
		v := lookup(ver)
		if v == nil || v.chlo {
			return nil, nil
		}
		for _, vk := range byVer {
			if vk.ver == ver {
				return vk.keys, v
			}
		}
		if len(byVer) >= 4 {
			return nil, nil
		}
		var ks []*Keys
		for _, dcid := range c.dcids {
			if k, err := v.keys(dcid, true); err == nil {
				ks = append(ks, k)
			}
		}
		byVer = append(byVer, verKeys{ver, ks})
		return ks, v
	}
	for i, d := range server {
		if i >= maxDatagrams || tries >= maxOpens {
			break
		}
		hs = Coalesced(hs[:0], d)
		for j := range hs {
			h := &hs[j]
			if h.Type != TypeInitial {
				continue
			}
			keys, v := keysFor(h.Version)
			var o Opened
			opened := false
			for _, k := range keys {
				if good != nil && k != good {
					continue
				}
				tries++
				var err error
				if o, err = k.Open(h); err == nil {
					good, opened = k, true
					break
				}
			}
			if !opened {
				continue
			}
			_ = walkFrames(o.Payload, v, stream.add)
			b := stream.prefix()
			if len(b) >= 4 && b[0] == 0x02 {
				n := 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
				if n <= len(b) {
					return append([]byte(nil), b[:n]...), true
				}
			}
		}
	}
	return nil, false
}

// Conn is what the first datagrams of a flow show of a QUIC connection.
type Conn struct {
	Detected bool   // a client Initial opened, a Google QUIC CHLO parsed, or a Retry or Version Negotiation answered a client packet
	Client   int    // index of the client's direction in the input; -1 when not detected
	Version  uint32 // version of the first client Initial that opened, preferring one that is not reserved (else of the client's first long-header packet)
	DCIDLen  int    // connection ID lengths of that packet
	SCIDLen  int
	DCID     []byte // its Destination Connection ID (a copy)
	PNLen    int    // its packet number length, header protection removed; 0 when nothing opened
	Opened   bool   // a client Initial was opened
	// Hello is the client's first handshake message: a TLS ClientHello, or
	// with CHLO a Google QUIC crypto CHLO. When the message is not complete
	// it holds the contiguous bytes received (HelloComplete false).
	Hello         []byte
	HelloComplete bool
	CHLO          bool
	ZeroRTT       bool   // the client sent a 0-RTT packet among the datagrams read
	Retry         bool   // the server sent a Retry that validates against the client's first Initial
	VersionNeg    bool   // the server answered the client with a Version Negotiation packet
	Google        bool   // Google QUIC (Q046 and earlier, read in clear)
	Grease        uint32 // a reserved version (0x?a?a?a?a) whose client Initials opened with another version's keys
}

// Inspect looks at the first datagrams of both directions of a UDP flow
// (dirs[0] and dirs[1], each in order) and reports whether they hold a QUIC
// handshake that validates, and what it shows. The client is the side whose
// Initial packets open with the client Initial keys (or that sent the CHLO,
// or the packet a Retry or Version Negotiation answers).
func Inspect(dirs [2][][]byte) Conn {
	c := Conn{Client: -1}
	if !mayBeQUIC(dirs) {
		return c
	}
	for i := 0; i < 2; i++ {
		s := scanClient(dirs[i])
		if !s.opened {
			continue
		}
		c.Detected, c.Client, c.Opened = true, i, true
		c.Version = s.first.Version
		c.DCIDLen, c.SCIDLen, c.PNLen = len(s.first.DCID), len(s.first.SCID), s.pnLen
		c.DCID = append([]byte(nil), s.first.DCID...)
		c.Hello, c.HelloComplete = s.hello()
		c.CHLO = s.v.chlo
		c.ZeroRTT = s.zeroRTT
		c.Grease = s.grease
		first, _ := firstLong(dirs[i])
		for _, dcid := range s.dcids {
			c.Retry = c.Retry || retryAnswers(dirs[1-i], dcid)
		}
		c.VersionNeg = vnAnswers(dirs[1-i], &first)
		return c
	}
	for i := 0; i < 2; i++ {
		if g, ok := googleScan(dirs[i]); ok {
			c.Detected, c.Client, c.Google = true, i, true
			c.Version, c.DCIDLen, c.PNLen = g.version, g.cidLen, g.pnLen
			c.Hello, c.HelloComplete, c.CHLO = g.chlo, true, true
			return c
		}
	}
	// No Initial opened: a validated Retry or Version Negotiation exchange.
	for i := 0; i < 2; i++ {
		first, ok := firstLong(dirs[i])
		if !ok {
			continue
		}
		retry := first.Type == TypeInitial && retryAnswers(dirs[1-i], first.DCID)
		vn := vnAnswers(dirs[1-i], &first)
		if !retry && !vn {
			continue
		}
		c.Detected, c.Client = true, i
		c.Version, c.DCIDLen, c.SCIDLen = first.Version, len(first.DCID), len(first.SCID)
		c.DCID = append([]byte(nil), first.DCID...)
		c.Retry, c.VersionNeg = retry, vn
		return c
	}
	return c
}

func containsCID(list [][]byte, cid []byte) bool {
	for _, c := range list {
		if bytes.Equal(c, cid) {
			return true
		}
	}
	return false
}

// mayBeQUIC reports whether some datagram begins like a long header or a
// Google QUIC packet that carries a version: everything else is left at once.
func mayBeQUIC(dirs [2][][]byte) bool {
	for _, dgs := range dirs {
		for i, d := range dgs {
			if i >= maxDatagrams {
				break
			}
			if len(d) > 0 && (d[0]&0x80 != 0 || d[0]&0x09 == 0x09) {
				return true
			}
		}
	}
	return false
}

// firstLong returns the first long-header packet of a direction that is not
// a Version Negotiation packet.
func firstLong(datagrams [][]byte) (LongHeader, bool) {
	for i, d := range datagrams {
		if i >= maxDatagrams {
			break
		}
		h, err := Parse(d)
		if err == nil && h.Type != TypeVersionNegotiation && h.Type != TypeRetry {
			return h, true
		}
	}
	return LongHeader{}, false
}

// retryAnswers reports whether the server's datagrams hold a Retry that
// validates against odcid.
func retryAnswers(server [][]byte, odcid []byte) bool {
	if odcid == nil {
		return false
	}
	for i, d := range server {
		if i >= maxDatagrams {
			break
		}
		h, err := Parse(d)
		if err == nil && h.Type == TypeRetry && VerifyRetry(&h, odcid) {
			return true
		}
	}
	return false
}

// vnAnswers reports whether the server's datagrams hold a Version
// Negotiation packet answering the client packet c: its connection IDs are
// c's swapped (RFC 9000 section 17.2.1) and it does not list c's version.
func vnAnswers(server [][]byte, c *LongHeader) bool {
	if c.Raw == nil || c.Version == 0 {
		return false
	}
	for i, d := range server {
		if i >= maxDatagrams {
			break
		}
		h, err := Parse(d)
		if err == nil && h.Type == TypeVersionNegotiation &&
			bytes.Equal(h.DCID, c.SCID) && bytes.Equal(h.SCID, c.DCID) && !h.SupportsVersion(c.Version) {
			return true
		}
	}
	return false
}

// helloExtensions walks the extensions of a TLS ClientHello message (the
// handshake header included) and calls fn for each, stopping when fn returns
// false. A truncated message yields the extensions that are whole.
func helloExtensions(m []byte, fn func(typ uint16, body []byte) bool) {
	if len(m) < 4 || m[0] != 0x01 {
		return
	}
	if n := 4 + (int(m[1])<<16 | int(m[2])<<8 | int(m[3])); n < len(m) {
		m = m[:n]
	}
	p := m[4:]
	// legacy_version, random
	if len(p) < 34 {
		return
	}
	p = p[34:]
	// session id, cipher suites, compression methods
	for _, w := range []int{1, 2, 1} {
		if len(p) < w {
			return
		}
		n := int(p[0])
		if w == 2 {
			n = int(binary.BigEndian.Uint16(p))
		}
		if len(p) < w+n {
			return
		}
		p = p[w+n:]
	}
	if len(p) < 2 {
		return
	}
	if n := int(binary.BigEndian.Uint16(p)); n <= len(p)-2 {
		p = p[2 : 2+n]
	} else {
		p = p[2:]
	}
	for len(p) >= 4 {
		typ := binary.BigEndian.Uint16(p)
		n := int(binary.BigEndian.Uint16(p[2:]))
		if len(p) < 4+n {
			return
		}
		if !fn(typ, p[4:4+n]) {
			return
		}
		p = p[4+n:]
	}
}

// ServerName returns the first host_name of the server_name extension of a
// TLS ClientHello message (RFC 6066), or "".
func ServerName(hello []byte) string {
	var name string
	helloExtensions(hello, func(typ uint16, b []byte) bool {
		if typ != 0 {
			return true
		}
		if len(b) < 2 {
			return false
		}
		if n := int(binary.BigEndian.Uint16(b)); n <= len(b)-2 {
			b = b[2 : 2+n]
		} else {
			return false
		}
		for len(b) >= 3 {
			l := int(binary.BigEndian.Uint16(b[1:]))
			if len(b) < 3+l {
				break
			}
			if b[0] == 0 {
				name = string(b[3 : 3+l])
				break
			}
			b = b[3+l:]
		}
		return false
	})
	return name
}

// ALPN returns the protocols of the application_layer_protocol_negotiation
// extension of a TLS ClientHello message (RFC 7301), in order.
func ALPN(hello []byte) []string {
	var out []string
	helloExtensions(hello, func(typ uint16, b []byte) bool {
		if typ != 16 {
			return true
		}
		if len(b) < 2 {
			return false
		}
		if n := int(binary.BigEndian.Uint16(b)); n <= len(b)-2 {
			b = b[2 : 2+n]
		} else {
			return false
		}
		for len(b) >= 1 {
			l := int(b[0])
			if l == 0 || len(b) < 1+l {
				break
			}
			out = append(out, string(b[1:1+l]))
			b = b[1+l:]
		}
		return false
	})
	return out
}
