package testgen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Application payloads: plain-text protocols written byte for byte after
// their specifications.

// HTTPRequest returns an HTTP/1.1 GET request.
func HTTPRequest(host, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
}

// HTTPResponse returns an HTTP/1.1 200 response with a text body of n bytes.
func HTTPResponse(n int) []byte {
	body := TextBody(n)
	h := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: testgen\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", n)
	return append([]byte(h), body...)
}

// TextBody returns n bytes of HTML-like text.
func TextBody(n int) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><body>\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<p>line %d: the quick brown fox jumps over the lazy dog</p>\n", i)
	}
	return []byte(b.String()[:n])
}

// RandomBytes returns n bytes from a generator seeded with seed, e.g. for
// encrypted-looking payloads.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// SSH (RFC 4253).

func sshString(b []byte, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// sshPacket wraps an unencrypted SSH payload into a binary packet: length,
// padding length, payload, at least 4 bytes of padding to a multiple of 8.
func sshPacket(payload []byte, seed uint64) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, RandomBytes(seed, pad)...)
}

// SSHKexInit returns an SSH_MSG_KEXINIT packet with the given name-lists
// (kex, host key, ciphers, MACs; compression "none"; no languages).
func SSHKexInit(seed uint64, kex, hostKey, ciphers, macs string) []byte {
	p := []byte{20}
	p = append(p, RandomBytes(seed, 16)...) // cookie
	for _, l := range []string{kex, hostKey, ciphers, ciphers, macs, macs, "none,zlib@openssh.com", "none,zlib@openssh.com", "", ""} {
		p = sshString(p, []byte(l))
	}
	p = append(p, 0)          // first_kex_packet_follows
	p = append(p, 0, 0, 0, 0) // reserved
	return sshPacket(p, seed+1)
}

// SSHClientKex returns the client's first flight after the banners:
// KEXINIT, then SSH_MSG_KEX_ECDH_INIT with a 32-byte public key.
func SSHClientKex(seed uint64) []byte {
	b := SSHKexInit(seed,
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,diffie-hellman-group14-sha256,ext-info-c,kex-strict-c-v00@openssh.com",
		"ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1")
	init := sshString([]byte{30}, RandomBytes(seed+2, 32))
	return append(b, sshPacket(init, seed+3)...)
}

// SSHServerKex returns the server's KEXINIT, then SSH_MSG_KEX_ECDH_REPLY
// (ssh-ed25519 host key blob, public key, signature blob) and SSH_MSG_NEWKEYS.
func SSHServerKex(seed uint64) []byte {
	b := SSHKexInit(seed,
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group16-sha512,kex-strict-s-v00@openssh.com",
		"rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256")
	hostKey := sshString(sshString(nil, []byte("ssh-ed25519")), RandomBytes(seed+4, 32))
	sig := sshString(sshString(nil, []byte("ssh-ed25519")), RandomBytes(seed+5, 64))
	reply := sshString(sshString(sshString([]byte{31}, hostKey), RandomBytes(seed+6, 32)), sig)
	b = append(b, sshPacket(reply, seed+7)...)
	return append(b, sshPacket([]byte{21}, seed+8)...)
}

// SSHNewKeys returns SSH_MSG_NEWKEYS.
func SSHNewKeys(seed uint64) []byte { return sshPacket([]byte{21}, seed) }

// HTTP/2 (RFC 9113) in cleartext with prior knowledge.

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func h2Frame(b []byte, typ, flags byte, stream uint32, payload []byte) []byte {
	b = append(b, byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload)), typ, flags)
	b = binary.BigEndian.AppendUint32(b, stream)
	return append(b, payload...)
}

func h2Settings(kv ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(kv); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(kv[i]))
		p = binary.BigEndian.AppendUint32(p, kv[i+1])
	}
	return p
}

// hpackLiteral encodes a literal header field with incremental indexing
// and an indexed name (RFC 7541 6.2.1), without Huffman coding.
func hpackLiteral(nameIndex byte, value string) []byte {
	return append([]byte{0x40 | nameIndex, byte(len(value))}, value...)
}

// H2ClientStart returns the client preface, SETTINGS, WINDOW_UPDATE and a
// GET request for path on stream 1 (HEADERS with END_STREAM).
func H2ClientStart(authority, path string) []byte {
	b := []byte(h2Preface)
	b = h2Frame(b, 0x4, 0, 0, h2Settings(0x2, 0, 0x3, 100, 0x4, 10485760))
	b = h2Frame(b, 0x8, 0, 0, binary.BigEndian.AppendUint32(nil, 1048510465))
	hdr := []byte{0x82, 0x86} // :method GET, :scheme http
	if path == "/" {
		hdr = append(hdr, 0x84)
	} else {
		hdr = append(hdr, hpackLiteral(4, path)...)
	}
	hdr = append(hdr, hpackLiteral(1, authority)...)
	hdr = append(hdr, hpackLiteral(58, "h2c-client/1.0")...) // user-agent
	return h2Frame(b, 0x1, 0x5, 1, hdr)
}

// H2ServerStart returns the server's SETTINGS and its ACK of the client's.
func H2ServerStart() []byte {
	b := h2Frame(nil, 0x4, 0, 0, h2Settings(0x3, 128, 0x4, 65536, 0x5, 16384))
	return h2Frame(b, 0x4, 0x1, 0, nil)
}

// H2Response returns HEADERS (:status 200, content-type) and DATA frames
// with END_STREAM for a body of n bytes on stream 1.
func H2Response(n int) []byte {
	hdr := append([]byte{0x88}, hpackLiteral(31, "text/html")...)
	hdr = append(hdr, hpackLiteral(28, fmt.Sprint(n))...) // content-length
	b := h2Frame(nil, 0x1, 0x4, 1, hdr)
	return h2Frame(b, 0x0, 0x1, 1, TextBody(n))
}

// H2ClientEnd returns the client's SETTINGS ACK and a GOAWAY (last stream 1, NO_ERROR).
func H2ClientEnd() []byte {
	b := h2Frame(nil, 0x4, 0x1, 0, nil)
	return h2Frame(b, 0x7, 0, 0, []byte{0, 0, 0, 1, 0, 0, 0, 0})
}

// NTP (RFC 5905).

func ntpTime(t time.Time) layers.NTPTimestamp {
	const epochOffset = 2208988800 // seconds from 1900 to 1970
	sec := uint64(t.Unix() + epochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return layers.NTPTimestamp(sec<<32 | frac)
}

// NTPRequest returns an NTPv4 client-mode message sent at t.
func NTPRequest(t time.Time) ([]byte, error) {
	return Serialize(&layers.NTP{Version: 4, Mode: 3, Poll: 6, Precision: -20, TransmitTimestamp: ntpTime(t)})
}

// NTPResponse returns a stratum-2 server-mode answer to a request sent at
// sent, received at recv and answered at reply.
func NTPResponse(sent, recv, reply time.Time) ([]byte, error) {
	return Serialize(&layers.NTP{
		Version: 4, Mode: 4, Stratum: 2, Poll: 6, Precision: -24,
		RootDelay: 0x0000_0a3d, RootDispersion: 0x0000_0521, ReferenceID: 0xc0000201,
		ReferenceTimestamp: ntpTime(recv.Add(-17 * time.Second)),
		OriginTimestamp:    ntpTime(sent), ReceiveTimestamp: ntpTime(recv), TransmitTimestamp: ntpTime(reply),
	})
}
