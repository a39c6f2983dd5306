package ssh

// Side is what one direction of an SSH connection shows in cleartext.
type Side struct {
	Banner    Banner
	HasBanner bool
	// Packets are the cleartext binary packets after the banner, up to and
	// including NEWKEYS (for SSH-1: the one session-key packet).
	Packets    []Packet
	KexInit    KexInit // the first KEXINIT of Packets (HasKexInit)
	HasKexInit bool
	// Encrypted is the stream offset where this side's encrypted data
	// starts: just after its NEWKEYS (SSH-2) or after its public-key or
	// session-key packet (SSH-1); -1 when that point was not seen.
	Encrypted int
}

// Conn reads the cleartext start of both directions of a connection,
// client and server being each side's reassembled stream. A server may send
// lines before its banner (RFC 4253 section 4.2); they are skipped when the
// client's stream starts with a banner (so that text protocols quoting
// "SSH-" on a later line are not taken for SSH). A stream without a banner
// is still read when it starts with a whole KEXINIT packet (a capture that
// began after the banners). Protocol 1 is assumed when either banner
// announces it (see Banner.IsSSH1).
func Conn(client, server []byte) (c, s Side) {
	var cEnd, sEnd int
	c.Banner, cEnd, c.HasBanner = FindBanner(client, false)
	s.Banner, sEnd, s.HasBanner = FindBanner(server, c.HasBanner)
	v1 := c.Banner.IsSSH1() || s.Banner.IsSSH1()
	c.read(client, cEnd, v1, MsgV1SessionKey)
	s.read(server, sEnd, v1, MsgV1PublicKey)
	return c, s
}

func (sd *Side) read(stream []byte, end int, v1 bool, keyMsg byte) {
	sd.Encrypted = -1
	if !sd.HasBanner {
		sd.readHeadless(stream)
		return
	}
	if end < 0 {
		return
	}
	if v1 {
		typ, size, _, err := ReadPacketV1(stream[end:])
		if err != nil || typ != keyMsg {
			return
		}
		sd.Packets = []Packet{{Start: end, End: end + size, Type: typ, Partial: end+size > len(stream)}}
		sd.Encrypted = end + size
		return
	}
	sd.packets(stream, end)
}

// readHeadless accepts a stream that starts with a whole KEXINIT packet.
func (sd *Side) readHeadless(stream []byte) {
	payload, _, _, err := ReadPacket(stream)
	if err != nil || len(payload) == 0 || payload[0] != MsgKexInit {
		return
	}
	if k, err := ParseKexInit(payload); err != nil || !k.Complete {
		return
	}
	sd.packets(stream, 0)
}

func (sd *Side) packets(stream []byte, start int) {
	sd.Packets = ReadPackets(stream, start)
	for _, p := range sd.Packets {
		if p.Type == MsgKexInit && !sd.HasKexInit {
			payload, _, _, err := ReadPacket(stream[p.Start:])
			if err == nil {
				if k, _ := ParseKexInit(payload); k.N > 0 {
					sd.KexInit, sd.HasKexInit = k, true
				}
			}
		}
		if p.Type == MsgNewKeys && !p.Partial {
			sd.Encrypted = p.End
		}
	}
}
