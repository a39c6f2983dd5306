package tls

import "slices"

// TLS inside OpenVPN.
//
// OpenVPN runs a TLS handshake over its own reliable control channel: the
// TLS bytes travel, cut into pieces of about 100 to 1200 bytes, in
// P_CONTROL_V1 packets numbered by a message packet ID, each with an
// OpenVPN header in front. Over TCP every packet has a 2-byte length
// prefix. The layout of a control packet (OpenVPN's ssl_pkt.h):
//
//	opcode<<3 | key_id (1), session ID (8),
//	[tls-auth: HMAC (16 to 64), replay packet ID (4), time (4)],
//	ACK count (1), ACKed packet IDs (4 each), [remote session ID (8) if ACKs],
//	message packet ID (4), TLS bytes.
//
// A session starts with a hard reset (packet ID 0), so the TLS bytes are
// the payloads of packet IDs 1, 2, 3, ... in order. With tls-crypt the
// control channel is encrypted and nothing is found.

// OpenVPN opcodes.
const (
	ovpnControl           = 4
	ovpnAckOpcode         = 5
	ovpnHardResetClientV2 = 7
	ovpnHardResetServerV2 = 8
)

// maxOpenVPNPackets bounds the packets a stream is split into.
const maxOpenVPNPackets = 64

// SplitOpenVPNTCP splits one direction of an OpenVPN-over-TCP stream into
// packets on their 2-byte length prefixes, appending them to dst. It stops
// at a packet the stream cuts short and after maxOpenVPNPackets packets.
func SplitOpenVPNTCP(dst [][]byte, stream []byte) [][]byte {
	for n := 0; n < maxOpenVPNPackets && len(stream) >= 2; n++ {
		l := int(u16(stream))
		if l == 0 || 2+l > len(stream) {
			break
		}
		dst = append(dst, stream[2:2+l])
		stream = stream[2+l:]
	}
	return dst
}

// OpenVPN returns the TLS bytes that one direction of an OpenVPN session
// carries in its control channel: the payloads of its P_CONTROL_V1 packets
// in packet-ID order, from ID 1 up to the first missing one. packets are
// the direction's OpenVPN packets in order (UDP payloads, or a TCP stream
// split by SplitOpenVPNTCP); the first must be a hard reset (client V2 or
// server V2) with packet ID 0. The tls-auth HMAC size is the first of the
// usual digest sizes under which that hard reset parses.
func OpenVPN(packets [][]byte) ([]byte, bool) {
	if len(packets) == 0 || len(packets[0]) == 0 {
		return nil, false
	}
	if op := packets[0][0] >> 3; op != ovpnHardResetClientV2 && op != ovpnHardResetServerV2 {
		return nil, false
	}
	hmac := -1
	// tls-auth digest sizes: none, MD5, SHA-1, SHA-256, SHA-384, SHA-512.
	for _, h := range [...]int{0, 16, 20, 32, 48, 64} {
		if id, _, ok := ovpnControlPacket(packets[0], h); ok && id == 0 {
			hmac = h
			break
		}
	}
	if hmac < 0 {
		return nil, false
	}
	type piece struct {
		id   uint32
		data []byte
	}
	var buf [maxOpenVPNPackets]piece
	pieces := buf[:0]
	for _, p := range packets[1:min(len(packets), maxOpenVPNPackets)] {
		if len(p) == 0 || p[0]>>3 != ovpnControl {
			continue
		}
		if id, data, ok := ovpnControlPacket(p, hmac); ok && id > 0 && len(data) > 0 {
			pieces = append(pieces, piece{id, data})
		}
	}
	slices.SortStableFunc(pieces, func(a, b piece) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	var out []byte
	next := uint32(1)
	for _, pc := range pieces {
		if pc.id < next {
			continue // a retransmission
		}
		if pc.id > next {
			break
		}
		out = append(out, pc.data...)
		next++
	}
	return out, len(out) > 0
}

// ovpnControlPacket reads the message packet ID and payload of a control
// packet (not P_ACK_V1, which has no message packet ID) whose tls-auth
// HMAC is hmac bytes long.
func ovpnControlPacket(p []byte, hmac int) (id uint32, payload []byte, ok bool) {
	off := 1 + 8
	if hmac > 0 {
		off += hmac + 8
	}
	if off >= len(p) {
		return 0, nil, false
	}
	n := int(p[off])
	if n > 8 {
		return 0, nil, false
	}
	off += 1 + 4*n
	if n > 0 {
		off += 8
	}
	if off+4 > len(p) {
		return 0, nil, false
	}
	id = uint32(u16(p[off:]))<<16 | uint32(u16(p[off+2:]))
	return id, p[off+4:], true
}
