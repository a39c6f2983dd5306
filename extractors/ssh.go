package extractors

import (
	"slices"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/proto/ssh"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "ssh", Needs: flows.NeedBase | flows.NeedTCP | flows.NeedPayload, Compute: computeSSH})
}

// computeSSH fills the ssh group from the reassembled TCP streams (POLICY:
// banners and KEXINIT read whole, where JoyfulJay reads the first 256 bytes
// of single packets and so never completes a HASSH).
//
// Client and server are the TCP client and server, not the initiator and
// responder: the sender of a SYN without ACK is the client, the sender of a
// SYN+ACK the server; without a handshake in the capture the side on port
// 22 is the server, then a side on a port below 1024 facing one at or above
// it; else the initiator is the client.
//
//   - ssh_detected: either stream starts with an identification line
//     ("SSH-"; the server may send other lines first), or with a whole
//     KEXINIT packet (a capture that began after the banners).
//   - ssh_*_version, ssh_*_software: protoversion (digits.digits) and
//     softwareversion (up to the first space or tab) of each side's banner;
//     ssh_version is the client's, else the server's.
//   - ssh_hassh, ssh_hassh_server: HASSH and HASSH-server (MD5 of
//     "kex;enc;mac;comp" for the client-to-server, resp. server-to-client,
//     lists) of the first KEXINIT after each side's banner. SSH-1 has none.
//   - ssh_kex_packets: TCP packets of either side whose payload holds the
//     first byte of a cleartext key exchange message (message numbers 20 to
//     49: KEXINIT, NEWKEYS and the method's messages, up to the side's
//     NEWKEYS; for SSH-1 the server's public-key and the client's
//     session-key packets). Retransmitted copies count again.
//   - ssh_encrypted_packets: TCP packets of either side carrying payload
//     after that side's NEWKEYS (SSH-1: after its key packet), i.e. any
//     byte of encrypted data. A side whose NEWKEYS was not seen (hole in the
//     stream, capture cut) contributes none.
//
// Packets are placed in their stream by sequence number, counted from where
// the stream starts (after the SYN, else at the first data segment, as
// flows.Stream does).
func computeSSH(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		detected                 bool
		version                  string
		cSoft, sSoft, cVer, sVer string
		hassh, hasshServer       string
		kex, enc                 int64
	)
	if f.Proto == 6 {
		cd := tcpClientDir(f)
		c, s := ssh.Conn(f.App.Stream[cd].Data, f.App.Stream[1-cd].Data)
		detected = c.HasBanner || s.HasBanner || c.HasKexInit || s.HasKexInit
		if c.HasBanner {
			cSoft, cVer = c.Banner.Software, c.Banner.Version
		}
		if s.HasBanner {
			sSoft, sVer = s.Banner.Software, s.Banner.Version
		}
		version = cVer
		if version == "" {
			version = sVer
		}
		if c.HasKexInit {
			hassh = c.KexInit.HASSH()
		}
		if s.HasKexInit {
			hasshServer = s.KexInit.HASSHServer()
		}
		if detected {
			kex, enc = sshPacketCounts(f, cd, &c, &s)
		}
	}
	out[0] = schema.BoolV(detected)
	out[1] = schema.TextV(version)
	out[2] = schema.TextV(cSoft)
	out[3] = schema.TextV(sSoft)
	out[4] = schema.TextV(cVer)
	out[5] = schema.TextV(sVer)
	out[6] = schema.TextV(hassh)
	out[7] = schema.TextV(hasshServer)
	out[8] = schema.IntV(kex)
	out[9] = schema.IntV(enc)
	return nil
}

// tcpClientDir returns the index into f.App.Stream of the TCP client's
// direction: 0 when the initiator is the client, 1 when the responder is
// (see computeSSH for the rules).
func tcpClientDir(f *flows.Flow) int {
	for i := range f.Base {
		b := &f.Base[i]
		if !b.HasFlags || b.Flags&flows.SYN == 0 {
			continue
		}
		synAck := b.Flags&flows.ACK != 0
		if b.Fwd != synAck { // initiator sent SYN, or responder sent SYN+ACK
			return 0
		}
		return 1
	}
	switch ip, rp := f.InitPort, f.RespPort; {
	case rp == 22:
		return 0
	case ip == 22:
		return 1
	case ip < 1024 && rp >= 1024:
		return 1
	}
	return 0
}

// sshPacketCounts counts the key exchange and encrypted TCP packets (see
// computeSSH). cd is the client's stream index.
func sshPacketCounts(f *flows.Flow, cd int, c, s *ssh.Side) (kex, enc int64) {
	var start [2]uint32
	var ok [2]bool
	for d := range start {
		start[d], ok[d] = f.App.Stream[d].Start()
	}
	v1 := c.Banner.IsSSH1() || s.Banner.IsSSH1()
	// Per direction: stream offsets where key exchange messages start
	// (ascending), and where encrypted data starts.
	var (
		kexAt     [2][]int64
		encrypted [2]int64
	)
	for d, sd := range [2]*ssh.Side{c, s} {
		dir := cd
		if d == 1 {
			dir = 1 - cd
		}
		for _, p := range sd.Packets {
			if isKexMessage(p.Type, v1) {
				kexAt[dir] = append(kexAt[dir], int64(p.Start))
			}
		}
		encrypted[dir] = int64(sd.Encrypted)
	}
	for i := range f.Base {
		b := &f.Base[i]
		if !b.HasFlags || b.Payload == 0 || i >= len(f.TCP) {
			continue
		}
		d := 1
		if b.Fwd {
			d = 0
		}
		if !ok[d] {
			continue
		}
		lo := int64(int32(f.TCP[i].Seq - start[d]))
		hi := lo + int64(b.Payload)
		if at := kexAt[d]; len(at) > 0 {
			j, _ := slices.BinarySearch(at, lo)
			if j < len(at) && at[j] < hi {
				kex++
			}
		}
		if encrypted[d] >= 0 && hi > encrypted[d] {
			enc++
		}
	}
	return kex, enc
}

// isKexMessage reports whether a cleartext message number belongs to the key
// exchange: 20 to 49 in SSH-2 (RFC 4250), the key packets in SSH-1.
func isKexMessage(t byte, v1 bool) bool {
	if v1 {
		return t == ssh.MsgV1PublicKey || t == ssh.MsgV1SessionKey
	}
	return t >= 20 && t <= 49
}
