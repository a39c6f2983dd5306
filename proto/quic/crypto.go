package quic

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
)

// Errors of packet protection removal.
var (
	ErrVersion = errors.New("quic: unknown version")
	ErrType    = errors.New("quic: not an Initial packet")
	ErrSample  = errors.New("quic: packet too short for the header protection sample")
	ErrAuth    = errors.New("quic: packet authentication failed")
)

// Keys are the Initial packet protection keys of one endpoint (RFC 9001
// section 5.2): AEAD_AES_128_GCM with its IV, and the AES header protection
// key. A Keys value remembers the largest packet number it opened, to expand
// truncated packet numbers (RFC 9000 section 17.1).
type Keys struct {
	Key, IV, HP []byte // the derived key material

	aead    cipher.AEAD
	hp      cipher.Block
	largest int64 // -1 until a packet opened
}

// ExpandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1) over
// SHA-256 with an empty context, for n of at most 32 bytes.
func ExpandLabel(secret []byte, label string, n int) []byte {
	if n > sha256.Size {
		panic("quic: ExpandLabel of more than 32 bytes")
	}
	var l labeler
	l.init(secret)
	return l.expand(label, n)
}

// labeler computes HKDF-Expand-Label outputs of one secret. An output of at
// most one hash length is the first HKDF-Expand block alone, T(1) =
// HMAC(secret, info | 0x01) (RFC 5869 section 2.3), so the keyed HMAC is
// set up once for all the labels of a secret.
type labeler struct {
	h    hash.Hash
	info []byte
}

func (l *labeler) init(secret []byte) { l.h = hmac.New(sha256.New, secret) }

func (l *labeler) expand(label string, n int) []byte {
	const prefix = "tls13 "
	l.info = binary.BigEndian.AppendUint16(l.info[:0], uint16(n))
	l.info = append(l.info, byte(len(prefix)+len(label)))
	l.info = append(l.info, prefix...)
	l.info = append(l.info, label...)
	l.info = append(l.info, 0, 1) // the empty context, then HKDF's block counter
	l.h.Reset()
	l.h.Write(l.info)
	return l.h.Sum(make([]byte, 0, sha256.Size))[:n:n]
}

// InitialSecrets returns the client and server Initial secrets of a
// connection whose client chose dcid as the Destination Connection ID of its
// first Initial packet, for QUIC version ver.
func InitialSecrets(ver uint32, dcid []byte) (client, server []byte, err error) {
	v := lookup(ver)
	if v == nil {
		return nil, nil, ErrVersion
	}
	var l labeler
	v.initial(&l, dcid)
	return l.expand("client in", 32), l.expand("server in", 32), nil
}

// initial sets l to expand the initial secret of dcid (HKDF-Extract with
// the version's salt, RFC 9001 section 5.2).
func (v *version) initial(l *labeler, dcid []byte) {
	m := hmac.New(sha256.New, v.salt)
	m.Write(dcid)
	l.init(m.Sum(make([]byte, 0, sha256.Size)))
}

// InitialKeys derives the Initial keys that protect the packets of the
// client (server false) or of the server, for QUIC version ver and the
// client's first Destination Connection ID dcid.
func InitialKeys(ver uint32, dcid []byte, server bool) (*Keys, error) {
	v := lookup(ver)
	if v == nil {
		return nil, ErrVersion
	}
	return v.keys(dcid, server)
}

func (v *version) keys(dcid []byte, server bool) (*Keys, error) {
	var l labeler
	v.initial(&l, dcid)
	which := "client in"
	if server {
		which = "server in"
	}
	l.init(l.expand(which, 32))
	k := &Keys{
		Key:     l.expand(v.label+"key", 16),
		IV:      l.expand(v.label+"iv", 12),
		HP:      l.expand(v.label+"hp", 16),
		largest: -1,
	}
	block, err := aes.NewCipher(k.Key)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	if k.hp, err = aes.NewCipher(k.HP); err != nil {
		return nil, err
	}
	return k, nil
}

// Opened is an Initial packet with its protection removed.
type Opened struct {
	First   byte   // first byte, header protection removed
	PNLen   int    // packet number length in bytes (1 to 4)
	PN      uint64 // packet number, expanded
	Payload []byte // the frames (a new slice)
}

// Mask returns the header protection mask for a 16-byte sample (RFC 9001
// section 5.4.3): the first 5 bytes of AES-ECB(hp, sample).
func (k *Keys) Mask(sample []byte) [5]byte {
	var block [16]byte
	k.hp.Encrypt(block[:], sample)
	var m [5]byte
	copy(m[:], block[:5])
	return m
}

// Open removes the header protection of the long-header packet h (an
// Initial, 0-RTT or Handshake packet parsed by Parse) and authenticates and
// decrypts its payload. The packet's bytes are not modified.
func (k *Keys) Open(h *LongHeader) (Opened, error) {
	var o Opened
	if h.Type != TypeInitial && h.Type != Type0RTT && h.Type != TypeHandshake {
		return o, ErrType
	}
	pkt, pn := h.Raw, h.PNOffset
	if pn <= 0 || pn+4+16 > len(pkt) {
		return o, ErrSample
	}
	mask := k.Mask(pkt[pn+4 : pn+20])
	o.First = pkt[0] ^ mask[0]&0x0f
	o.PNLen = int(o.First&3) + 1
	if pn+o.PNLen+k.aead.Overhead() > len(pkt) {
		return o, ErrSample
	}
	header := make([]byte, pn+o.PNLen)
	copy(header, pkt)
	header[0] = o.First
	var truncated uint64
	for i := 0; i < o.PNLen; i++ {
		header[pn+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(header[pn+i])
	}
	o.PN = expandPN(k.largest, truncated, o.PNLen)
	var nonce [12]byte
	copy(nonce[:], k.IV)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(o.PN >> (56 - 8*i))
	}
	payload, err := k.aead.Open(nil, nonce[:], pkt[pn+o.PNLen:], header)
	if err != nil {
		return Opened{}, ErrAuth
	}
	o.Payload = payload
	if int64(o.PN) > k.largest {
		k.largest = int64(o.PN)
	}
	return o, nil
}

// expandPN recovers a full packet number from its truncated encoding
// (RFC 9000 appendix A.3); largest is the largest packet number opened so
// far, -1 for none.
func expandPN(largest int64, truncated uint64, n int) uint64 {
	bits := uint(8 * n)
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	half := win / 2
	candidate := expected&^(win-1) | truncated
	switch {
	case candidate+half <= expected && candidate < 1<<62-win:
		return candidate + win
	case candidate > expected+half && candidate >= win:
		return candidate - win
	}
	return candidate
}

// VerifyRetry checks a Retry packet against the Original Destination
// Connection ID of the client's first Initial: by its integrity tag (RFC 9001
// section 5.8; draft-25 and later) or, for earlier drafts, by the ODCID field
// it carries.
func VerifyRetry(h *LongHeader, odcid []byte) bool {
	if h.Type != TypeRetry {
		return false
	}
	v := lookup(h.Version)
	if v == nil {
		return false
	}
	if v.retryKey == nil {
		return len(h.ODCID) > 0 && bytes.Equal(h.ODCID, odcid)
	}
	if len(h.Tag) != 16 || len(odcid) > 255 {
		return false
	}
	block, err := aes.NewCipher(v.retryKey)
	if err != nil {
		return false
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return false
	}
	pseudo := make([]byte, 0, 1+len(odcid)+len(h.Raw))
	pseudo = append(pseudo, byte(len(odcid)))
	pseudo = append(pseudo, odcid...)
	pseudo = append(pseudo, h.Raw[:len(h.Raw)-16]...)
	tag := aead.Seal(nil, v.retryNonce, nil, pseudo)
	return bytes.Equal(tag, h.Tag)
}
