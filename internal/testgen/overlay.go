package testgen

import (
	"encoding/binary"
	"time"
)

// TorCellIPLen is the IP total length of every packet TorLink sends: a
// 514-byte Tor cell (link protocol 4+) in a TLS 1.2 application-data record
// with AES-GCM (8-byte explicit nonce, 16-byte tag), with room to spare for
// the TCP header, as the classic 586-byte Tor packet.
const TorCellIPLen = 586

// TorLink builds a Tor-like link on cv (IPv4, TCP, normally to an OR port
// such as 9001) that is already open when the capture starts: n cells
// alternating between client and server, gap apart, the first at start.
// Each cell is one TCP segment carrying one TLS application-data record of
// random bytes, sized so that the IP packet is TorCellIPLen bytes; every
// segment acknowledges the peer's latest cell, so there are no bare ACKs.
// It returns the time of the last cell.
func TorLink(cv *Conv, start time.Time, cfg TCPConfig, n int, gap time.Duration, seed uint64) time.Time {
	s := NewTCPSession(cv, start, cfg)
	for i := range s.end {
		e, peer := &s.end[i], &s.end[1-i]
		e.nxt = e.isn + 1
		peer.rcv = e.nxt
		peer.tsRecent = s.tsval(e, start)
	}
	hdr := 20 + 20 // IPv4 and TCP headers
	if cfg.Timestamps {
		hdr += 12 // NOP, NOP, timestamps
	}
	payload := TorCellIPLen - hdr
	t := start
	for i := range n {
		from := i % 2
		x, peer := &s.end[from], &s.end[1-from]
		rec := make([]byte, 5, payload)
		rec[0], rec[1], rec[2] = 23, 3, 3 // application data, TLS 1.2
		binary.BigEndian.PutUint16(rec[3:], uint16(payload-5))
		rec = append(rec, RandomBytes(seed+uint64(i), payload-5)...)
		s.send(t, segment{from: from, flags: 0x18, seq: x.nxt, ack: x.rcv, tsecr: x.tsRecent, win: x.win, payload: rec})
		x.nxt += uint32(payload)
		peer.rcv = x.nxt
		peer.tsRecent = s.tsval(x, t)
		s.now = t
		if i < n-1 {
			t = t.Add(gap)
		}
	}
	return t
}

// WireGuard message types (the WireGuard whitepaper, section 5.4).
const (
	wgInitiation = 1
	wgResponse   = 2
	wgTransport  = 4
)

// WireGuardInitiation returns a handshake initiation message (148 bytes):
// type, sender index, then the ephemeral key, encrypted static key,
// encrypted timestamp and the two MACs as random bytes.
func WireGuardInitiation(seed uint64, sender uint32) []byte {
	b := binary.LittleEndian.AppendUint32([]byte{wgInitiation, 0, 0, 0}, sender)
	return append(b, RandomBytes(seed, 148-8)...)
}

// WireGuardResponse returns a handshake response message (92 bytes).
func WireGuardResponse(seed uint64, sender, receiver uint32) []byte {
	b := binary.LittleEndian.AppendUint32([]byte{wgResponse, 0, 0, 0}, sender)
	b = binary.LittleEndian.AppendUint32(b, receiver)
	return append(b, RandomBytes(seed, 92-12)...)
}

// WireGuardData returns a transport data message carrying n bytes of
// (encrypted) packet: type, receiver index, 64-bit counter, then n+16 bytes
// of ciphertext and tag. n = 0 is a keepalive (32 bytes).
func WireGuardData(seed uint64, receiver uint32, counter uint64, n int) []byte {
	b := binary.LittleEndian.AppendUint32([]byte{wgTransport, 0, 0, 0}, receiver)
	b = binary.LittleEndian.AppendUint64(b, counter)
	return append(b, RandomBytes(seed, n+16)...)
}

// OpenVPN opcodes (high 5 bits of the first byte; key id 0).
const (
	OpenVPNAckV1             = 5
	OpenVPNHardResetClientV2 = 7
	OpenVPNHardResetServerV2 = 8
	ovpnDataV2               = 9
	ovpnOpcodeShift          = 3
)

// OpenVPNControl returns an OpenVPN control-channel packet (UDP, no
// tls-auth): opcode, session id, the acknowledged packet ids with the
// peer's session id, then (except for P_ACK_V1) the message packet id and
// the payload.
func OpenVPNControl(opcode byte, session, peer uint64, acks []uint32, id uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint64([]byte{opcode << ovpnOpcodeShift}, session)
	b = append(b, byte(len(acks)))
	for _, a := range acks {
		b = binary.BigEndian.AppendUint32(b, a)
	}
	if len(acks) > 0 {
		b = binary.BigEndian.AppendUint64(b, peer)
	}
	if opcode == OpenVPNAckV1 {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, payload...)
}

// OpenVPNData returns a P_DATA_V2 packet carrying n bytes of (encrypted)
// tunnelled packet: opcode and peer id, packet id, ciphertext and tag.
func OpenVPNData(seed uint64, peerID uint32, id uint32, n int) []byte {
	b := []byte{ovpnDataV2 << ovpnOpcodeShift, byte(peerID >> 16), byte(peerID >> 8), byte(peerID)}
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, RandomBytes(seed, n+16)...)
}
