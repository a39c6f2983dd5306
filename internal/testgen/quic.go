package testgen

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jjsql/jjsql/proto/quic"
)

// QUIC version 1 (RFC 9000) packets with Initial protection (RFC 9001
// section 5). Initial packets are really encrypted, with the keys both ends
// derive from the client's first Destination Connection ID; Handshake and
// 1-RTT packets carry random bytes of the right length instead of
// ciphertext (a passive observer cannot tell the difference).

// QUICVersion1 is the version number of QUIC v1.
const QUICVersion1 = 0x00000001

// QUIC long-header packet types of version 1 (RFC 9000 section 17.2).
const (
	QUICInitial   = 0
	QUIC0RTT      = 1
	QUICHandshake = 2
	QUICRetry     = 3
)

// QUICKeys are the AEAD, IV and header-protection cipher of one direction.
type QUICKeys struct {
	aead cipher.AEAD
	iv   []byte
	hp   cipher.Block
}

// QUICInitialSecrets returns the client and server Initial secrets of QUIC
// v1 for the client's first Destination Connection ID (proto/quic's
// derivation; the generator seals with them).
func QUICInitialSecrets(dcid []byte) (client, server []byte, err error) {
	return quic.InitialSecrets(1, dcid)
}

// QUICInitialKeys returns the Initial packet protection keys of the client
// (server false) or of the server, for the client's first Destination
// Connection ID dcid.
func QUICInitialKeys(dcid []byte, server bool) (*QUICKeys, error) {
	c, s, err := QUICInitialSecrets(dcid)
	if err != nil {
		return nil, fmt.Errorf("testgen: quic keys: %w", err)
	}
	secret := c
	if server {
		secret = s
	}
	key := quic.ExpandLabel(secret, "quic key", 16)
	iv := quic.ExpandLabel(secret, "quic iv", 12)
	hpKey := quic.ExpandLabel(secret, "quic hp", 16)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("testgen: quic keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("testgen: quic keys: %w", err)
	}
	hp, err := aes.NewCipher(hpKey)
	if err != nil {
		return nil, fmt.Errorf("testgen: quic keys: %w", err)
	}
	return &QUICKeys{aead: aead, iv: iv, hp: hp}, nil
}

// quicVarint appends v as a QUIC variable-length integer (RFC 9000
// section 16) of the shortest encoding.
func quicVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x8000_0000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc000_0000_0000_0000)
}

func quicVarintLen(v uint64) int { return len(quicVarint(nil, v)) }

// QUICLongHeader describes a long-header packet to build.
type QUICLongHeader struct {
	Type  int    // QUICInitial, QUIC0RTT or QUICHandshake
	DCID  []byte // destination connection ID
	SCID  []byte // source connection ID
	Token []byte // Initial packets only
	PN    uint64 // packet number
	PNLen int    // bytes of the packet number on the wire, 1 to 4 (0: 2)
}

// headerBytes returns the unprotected header with a Length field for a
// payload of n plaintext bytes plus the 16-byte AEAD tag.
func (h *QUICLongHeader) headerBytes(n int) []byte {
	pnLen := h.PNLen
	if pnLen == 0 {
		pnLen = 2
	}
	b := []byte{0xc0 | byte(h.Type)<<4 | byte(pnLen-1)}
	b = binary.BigEndian.AppendUint32(b, QUICVersion1)
	b = append(b, byte(len(h.DCID)))
	b = append(b, h.DCID...)
	b = append(b, byte(len(h.SCID)))
	b = append(b, h.SCID...)
	if h.Type == QUICInitial {
		b = quicVarint(b, uint64(len(h.Token)))
		b = append(b, h.Token...)
	}
	// The Length field is always two bytes here (payloads below 16 kB), as
	// most implementations write it.
	b = binary.BigEndian.AppendUint16(b, uint16(pnLen+n+16)|0x4000)
	for i := pnLen - 1; i >= 0; i-- {
		b = append(b, byte(h.PN>>(8*i)))
	}
	return b
}

// QUICLongHeaderLen returns the length of the header of h (up to and
// including the packet number), with a two-byte Length field.
func QUICLongHeaderLen(h QUICLongHeader) int { return len(h.headerBytes(0)) }

// SealLong builds a protected long-header packet carrying the frames in
// payload: AEAD_AES_128_GCM over the payload with the header as associated
// data, then header protection (RFC 9001 section 5.4). The payload must be
// at least 4-PNLen bytes long so that the header-protection sample exists.
func (k *QUICKeys) SealLong(h QUICLongHeader, payload []byte) ([]byte, error) {
	pnLen := h.PNLen
	if pnLen == 0 {
		pnLen = 2
	}
	if pnLen < 1 || pnLen > 4 {
		return nil, fmt.Errorf("testgen: quic: packet number length %d", pnLen)
	}
	if len(payload)+pnLen < 4 || len(payload) >= 1<<14-32 {
		return nil, fmt.Errorf("testgen: quic: payload of %d bytes", len(payload))
	}
	hdr := h.headerBytes(len(payload))
	pnOff := len(hdr) - pnLen
	nonce := make([]byte, len(k.iv))
	copy(nonce, k.iv)
	for i := 0; i < 8; i++ {
		nonce[len(nonce)-1-i] ^= byte(h.PN >> (8 * i))
	}
	pkt := k.aead.Seal(hdr, nonce, payload, hdr)
	sample := pkt[pnOff+4 : pnOff+4+16]
	var mask [16]byte
	k.hp.Encrypt(mask[:], sample)
	pkt[0] ^= mask[0] & 0x0f
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt, nil
}

// QUICCryptoFrame appends a CRYPTO frame carrying data at offset off.
func QUICCryptoFrame(b []byte, off uint64, data []byte) []byte {
	b = append(b, 0x06)
	b = quicVarint(b, off)
	b = quicVarint(b, uint64(len(data)))
	return append(b, data...)
}

// QUICAckFrame appends an ACK frame acknowledging packets 0 to largest.
func QUICAckFrame(b []byte, largest uint64, delay uint64) []byte {
	b = append(b, 0x02)
	b = quicVarint(b, largest)
	b = quicVarint(b, delay)
	b = quicVarint(b, 0)          // no further ranges
	return quicVarint(b, largest) // first range: largest down to 0
}

// FakeLong builds a long-header packet of type h.Type whose protected
// payload is n random bytes (n includes the AEAD tag), for Handshake and
// 0-RTT packets the generator does not encrypt.
func FakeLong(h QUICLongHeader, n int, seed uint64) []byte {
	hdr := h.headerBytes(n - 16)
	return append(hdr, RandomBytes(seed, n)...)
}

// FakeShort builds a 1-RTT (short header) packet: the fixed bit, the spin
// bit, the destination connection ID, then n random bytes standing for the
// protected packet number, payload and tag.
func FakeShort(dcid []byte, spin bool, n int, seed uint64) []byte {
	first := byte(0x40)
	if spin {
		first |= 0x20
	}
	r := RandomBytes(seed, n+1)
	first |= r[0] & 0x1f // protected bits look random
	b := append([]byte{first}, dcid...)
	return append(b, r[1:]...)
}

// QUICTLSConfig selects the TLS handshake of a QUIC connection.
type QUICTLSConfig struct {
	ServerName string
	ALPN       []string      // default: h3
	Groups     []tls.CurveID // key exchange groups the client offers (nil: X25519, P-256)
	Seed       uint64
	Time       time.Time
	DCID, SCID []byte // the client's first Destination Connection ID and its Source Connection ID
	ServerCID  []byte // the server's Source Connection ID
}

// QUICTLSFlights are the CRYPTO stream bytes a QUIC handshake writes per
// encryption level.
type QUICTLSFlights struct {
	ClientInitial   []byte // ClientHello
	ServerInitial   []byte // ServerHello
	ServerHandshake []byte // EncryptedExtensions, Certificate, CertificateVerify, Finished
	ClientHandshake []byte // client Finished
}

// quicTransportParams encodes the transport parameters of one end (RFC 9000
// section 18.2).
func quicTransportParams(scid, odcid []byte) []byte {
	var b []byte
	param := func(id uint64, v []byte) {
		b = quicVarint(b, id)
		b = quicVarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	num := func(id, v uint64) { param(id, quicVarint(nil, v)) }
	if odcid != nil {
		param(0x00, odcid) // original_destination_connection_id
	}
	num(0x01, 30000)    // max_idle_timeout (ms)
	num(0x03, 1472)     // max_udp_payload_size
	num(0x04, 15728640) // initial_max_data
	num(0x05, 6291456)  // initial_max_stream_data_bidi_local
	num(0x06, 6291456)  // initial_max_stream_data_bidi_remote
	num(0x07, 6291456)  // initial_max_stream_data_uni
	num(0x08, 100)      // initial_max_streams_bidi
	num(0x09, 103)      // initial_max_streams_uni
	param(0x0f, scid)   // initial_source_connection_id
	return b
}

// QUICTLSHandshake runs a crypto/tls QUIC client and server (RFC 9001
// section 4) in memory and returns the handshake bytes of each level. Like
// TLSHandshake it is deterministic for a given configuration and sets
// GODEBUG cryptocustomrand=1 while it runs.
func QUICTLSHandshake(cfg QUICTLSConfig) (*QUICTLSFlights, error) {
	var out *QUICTLSFlights
	err := withCustomRand(func() error {
		var err error
		out, err = runQUICTLS(cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("testgen: quic tls: %w", err)
	}
	return out, nil
}

func runQUICTLS(cfg QUICTLSConfig) (*QUICTLSFlights, error) {
	cert, err := selfSigned(cfg.ServerName, cfg.Seed, cfg.Time)
	if err != nil {
		return nil, err
	}
	alpn := cfg.ALPN
	if alpn == nil {
		alpn = []string{"h3"}
	}
	groups := cfg.Groups
	if groups == nil {
		groups = []tls.CurveID{tls.X25519, tls.CurveP256}
	}
	clock := func() time.Time { return cfg.Time }
	client := tls.QUICClient(&tls.QUICConfig{TLSConfig: &tls.Config{
		ServerName: cfg.ServerName, NextProtos: alpn, MinVersion: tls.VersionTLS13,
		Rand: newDetRand(cfg.Seed, "quic client"), Time: clock, CurvePreferences: groups,
		SessionTicketsDisabled: true, InsecureSkipVerify: true,
	}})
	server := tls.QUICServer(&tls.QUICConfig{TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, NextProtos: alpn, MinVersion: tls.VersionTLS13,
		Rand: newDetRand(cfg.Seed, "quic server"), Time: clock, CurvePreferences: groups,
		SessionTicketsDisabled: true,
	}})
	client.SetTransportParameters(quicTransportParams(cfg.SCID, nil))
	server.SetTransportParameters(quicTransportParams(cfg.ServerCID, cfg.DCID))
	defer client.Close()
	defer server.Close()
	ctx := context.Background()
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	if err := server.Start(ctx); err != nil {
		return nil, err
	}
	var out QUICTLSFlights
	// drain collects what one end writes and hands it to the other.
	drain := func(from, to *tls.QUICConn, isServer bool) (bool, error) {
		done := false
		type write struct {
			level tls.QUICEncryptionLevel
			data  []byte
		}
		var ws []write
		for {
			ev := from.NextEvent()
			switch ev.Kind {
			case tls.QUICNoEvent:
				for _, w := range ws {
					if err := to.HandleData(w.level, w.data); err != nil {
						return done, err
					}
				}
				return done, nil
			case tls.QUICWriteData:
				d := append([]byte(nil), ev.Data...)
				ws = append(ws, write{ev.Level, d})
				switch {
				case !isServer && ev.Level == tls.QUICEncryptionLevelInitial:
					out.ClientInitial = append(out.ClientInitial, d...)
				case !isServer && ev.Level == tls.QUICEncryptionLevelHandshake:
					out.ClientHandshake = append(out.ClientHandshake, d...)
				case isServer && ev.Level == tls.QUICEncryptionLevelInitial:
					out.ServerInitial = append(out.ServerInitial, d...)
				case isServer && ev.Level == tls.QUICEncryptionLevelHandshake:
					out.ServerHandshake = append(out.ServerHandshake, d...)
				}
			case tls.QUICHandshakeDone:
				done = true
			case tls.QUICErrorEvent:
				return done, ev.Err
			}
		}
	}
	var cdone, sdone bool
	for i := 0; i < 4 && !(cdone && sdone); i++ {
		d, err := drain(client, server, false)
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		cdone = cdone || d
		d, err = drain(server, client, true)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		sdone = sdone || d
	}
	if !cdone || !sdone {
		return nil, errors.New("handshake did not complete")
	}
	return &out, nil
}

// QUICDatagram is the UDP payload of one datagram of a QUIC connection.
type QUICDatagram struct {
	FromServer bool
	Data       []byte
}

// Datagram sizes of the handshake: clients pad every datagram carrying an
// Initial packet to quicMinDatagram bytes (RFC 9000 section 14.1); neither
// end sends more than quicMaxDatagram.
const (
	quicMinDatagram = 1200
	quicMaxDatagram = 1252
	quicTagLen      = 16
)

// QUICHandshakeDatagrams lays the flights of a QUIC handshake out as
// datagrams, as a browser and a server would send them:
//
//  1. the client's Initial packets (packet numbers 0, 1, ...) carrying the
//     ClientHello in CRYPTO frames, one per datagram padded to 1200 bytes:
//     as many as the hello needs, and at least initials (a ClientHello with
//     a post-quantum key share takes two; splitting a short one in two
//     gives the same reassembly work; crypto/tls's ML-KEM key generation
//     ignores a custom random source, so the generator cannot use it);
//  2. the server's Initial (ACK, CRYPTO with the ServerHello) with a
//     Handshake packet coalesced after it, then more Handshake packets
//     until the server's handshake flight is out;
//  3. the client's Initial ACK with its Handshake packet (the Finished)
//     coalesced, padded to 1200 bytes.
//
// Initial packets are protected with the keys derived from cfg.DCID;
// Handshake packets carry random bytes of the flight's length plus frame
// overhead and tag.
func QUICHandshakeDatagrams(cfg QUICTLSConfig, fl *QUICTLSFlights, initials int, seed uint64) ([]QUICDatagram, error) {
	ck, err := QUICInitialKeys(cfg.DCID, false)
	if err != nil {
		return nil, err
	}
	sk, err := QUICInitialKeys(cfg.DCID, true)
	if err != nil {
		return nil, err
	}
	var out []QUICDatagram
	// 1. Client Initials.
	var cpn uint64
	ch := fl.ClientInitial
	if len(ch) == 0 {
		return nil, errors.New("testgen: quic: no ClientHello")
	}
	for off := 0; off < len(ch); {
		h := QUICLongHeader{Type: QUICInitial, DCID: cfg.DCID, SCID: cfg.SCID, PN: cpn}
		room := quicMinDatagram - QUICLongHeaderLen(h) - quicTagLen - 8 // CRYPTO frame header
		if left := initials - int(cpn); left > 1 {
			room = min(room, (len(ch)-off+left-1)/left)
		}
		n := min(room, len(ch)-off)
		payload := QUICCryptoFrame(nil, uint64(off), ch[off:off+n])
		payload = append(payload, make([]byte, quicMinDatagram-QUICLongHeaderLen(h)-quicTagLen-len(payload))...)
		pkt, err := ck.SealLong(h, payload)
		if err != nil {
			return nil, err
		}
		out = append(out, QUICDatagram{Data: pkt})
		off += n
		cpn++
	}
	// 2. Server Initial + Handshake packets.
	sh := QUICLongHeader{Type: QUICInitial, DCID: cfg.SCID, SCID: cfg.ServerCID, PN: 0}
	payload := QUICAckFrame(nil, cpn-1, 0)
	payload = QUICCryptoFrame(payload, 0, fl.ServerInitial)
	initial, err := sk.SealLong(sh, payload)
	if err != nil {
		return nil, err
	}
	dg := initial
	var hpn uint64
	rest := len(fl.ServerHandshake)
	for first := true; rest > 0 || first; first = false {
		h := QUICLongHeader{Type: QUICHandshake, DCID: cfg.SCID, SCID: cfg.ServerCID, PN: hpn}
		room := quicMaxDatagram - len(dg) - QUICLongHeaderLen(h) - quicTagLen - 8
		n := min(room, rest)
		size := n + 8 + quicTagLen
		if first && len(dg)+QUICLongHeaderLen(h)+size < quicMinDatagram {
			size = quicMinDatagram - len(dg) - QUICLongHeaderLen(h) // padded
		}
		dg = append(dg, FakeLong(h, size, seed+hpn)...)
		out = append(out, QUICDatagram{FromServer: true, Data: dg})
		dg = nil
		rest -= n
		hpn++
	}
	// 3. Client Initial ACK + Handshake (Finished), padded.
	ih := QUICLongHeader{Type: QUICInitial, DCID: cfg.ServerCID, SCID: cfg.SCID, PN: cpn}
	hh := QUICLongHeader{Type: QUICHandshake, DCID: cfg.ServerCID, SCID: cfg.SCID, PN: 0}
	hsize := len(fl.ClientHandshake) + 8 + 6 + quicTagLen // CRYPTO and ACK frames
	ack := QUICAckFrame(nil, 0, 0)
	pad := quicMinDatagram - QUICLongHeaderLen(ih) - quicTagLen - len(ack) - QUICLongHeaderLen(hh) - hsize
	if pad > 0 {
		ack = append(ack, make([]byte, pad)...)
	}
	cinit, err := ck.SealLong(ih, ack)
	if err != nil {
		return nil, err
	}
	out = append(out, QUICDatagram{Data: append(cinit, FakeLong(hh, hsize, seed+100)...)})
	return out, nil
}
