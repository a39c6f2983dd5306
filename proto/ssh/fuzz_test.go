package ssh

import (
	"testing"

	"github.com/jjsql/jjsql/internal/testgen"
)

// FuzzConn runs the banner, packet and KEXINIT readers on arbitrary client
// and server streams: no panic, no out-of-range offsets.
func FuzzConn(f *testing.F) {
	cBanner, sBanner := []byte("SSH-2.0-OpenSSH_9.7\r\n"), []byte("SSH-2.0-OpenSSH_9.6p1 Debian\r\n")
	f.Add(cat(cBanner, testgen.SSHClientKex(1), testgen.SSHNewKeys(2), testgen.RandomBytes(3, 64)),
		cat(sBanner, testgen.SSHServerKex(4), testgen.RandomBytes(5, 64)))
	f.Add(cat(cBanner, packet(kexPayload(nameLists, 0))), cat([]byte("hello\r\n"), sBanner, packet(kexPayload(serverLists(), 1))))
	f.Add(packet(kexPayload(nameLists, 0)), []byte(nil))
	f.Add(cat([]byte("SSH-1.5-1.2.26\n"), v1Packet(MsgV1SessionKey, 140)), cat([]byte("SSH-1.99-x\n"), v1Packet(MsgV1PublicKey, 260)))
	f.Add([]byte("SSH-2.0-x\r\n\x00\x00\x00\x0c\x0a\x15"), []byte("SSH-"))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		c, s := Conn(client, server)
		check := func(who string, sd *Side, stream []byte) {
			prev := -1
			for _, p := range sd.Packets {
				if p.Start < 0 || p.Start >= len(stream) || p.End <= p.Start || p.Start < prev {
					t.Fatalf("%s packet %+v in a %d-byte stream", who, p, len(stream))
				}
				prev = p.End
			}
			if sd.KexInit.N > len(sd.KexInit.Lists) {
				t.Fatalf("%s: %d lists", who, sd.KexInit.N)
			}
			for _, h := range []string{sd.KexInit.HASSH(), sd.KexInit.HASSHServer()} {
				if h != "" && len(h) != 32 {
					t.Fatalf("%s: fingerprint %q", who, h)
				}
			}
			if sd.HasKexInit && !sd.HasBanner && !sd.KexInit.Complete {
				t.Fatalf("%s: KEXINIT without banner accepted incomplete", who)
			}
		}
		check("client", &c, client)
		check("server", &s, server)
		FindKexInit(client)
		FindKexInit(server)
	})
}
