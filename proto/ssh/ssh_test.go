package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseBanner(t *testing.T) {
	tests := []struct {
		line                  string
		ok                    bool
		version, sw, comments string
		wantLine              string
		ssh1                  bool
	}{
		{line: "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.5\r\n", ok: true, version: "2.0", sw: "OpenSSH_7.6p1",
			comments: "Ubuntu-4ubuntu0.5", wantLine: "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.5"},
		{line: "SSH-1.99-OpenSSH_3.1p1\n", ok: true, version: "1.99", sw: "OpenSSH_3.1p1", wantLine: "SSH-1.99-OpenSSH_3.1p1"},
		{line: "SSH-1.5-1.2.26\n", ok: true, version: "1.5", sw: "1.2.26", wantLine: "SSH-1.5-1.2.26", ssh1: true},
		{line: "SSH-2.0-PuTTY_Release_0.74", ok: true, version: "2.0", sw: "PuTTY_Release_0.74", wantLine: "SSH-2.0-PuTTY_Release_0.74"},
		{line: "SSH-2.0-srv\tcomment\r\n", ok: true, version: "2.0", sw: "srv", comments: "comment", wantLine: "SSH-2.0-srv\tcomment"},
		{line: "SSH-2.0-\r\n", ok: true, version: "2.0", wantLine: "SSH-2.0-"},
		{line: "SSH-2-OpenSSH\r\n", ok: true, wantLine: "SSH-2-OpenSSH"},
		{line: "SSH-2.0\r\n", ok: true, wantLine: "SSH-2.0"},
		{line: "SSH-x.0-a\r\n", ok: true, wantLine: "SSH-x.0-a"},
		{line: "SSH-2.0-caf\xe9\r\n", ok: true, version: "2.0", sw: "caf\uFFFD", wantLine: "SSH-2.0-caf\uFFFD"},
		{line: "HTTP/1.1 200 OK\r\n"},
		{line: "ssh-2.0-lower\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			b, ok := ParseBanner([]byte(tc.line))
			if ok != tc.ok {
				t.Fatalf("ParseBanner(%q) ok = %v, want %v", tc.line, ok, tc.ok)
			}
			if b.Version != tc.version || b.Software != tc.sw || b.Comments != tc.comments || b.Line != tc.wantLine {
				t.Errorf("ParseBanner(%q) = %+v", tc.line, b)
			}
			if b.IsSSH1() != tc.ssh1 {
				t.Errorf("IsSSH1 = %v, want %v", b.IsSSH1(), tc.ssh1)
			}
		})
	}
}

func TestFindBanner(t *testing.T) {
	long := "SSH-2.0-" + strings.Repeat("x", MaxBannerLine+10) + "\r\n"
	tests := []struct {
		name     string
		stream   string
		preamble bool
		ok       bool
		sw       string
		end      int
	}{
		{name: "at start", stream: "SSH-2.0-a\r\n\x00\x00", ok: true, sw: "a", end: 11},
		{name: "no line end yet", stream: "SSH-2.0-abc", ok: true, sw: "abc", end: -1},
		{name: "preamble refused", stream: "hello\r\nSSH-2.0-a\r\n", end: -1},
		{name: "preamble", stream: "hello\r\nworld\nSSH-2.0-a\r\nrest", preamble: true, ok: true, sw: "a", end: 24},
		{name: "preamble without banner", stream: "hello\r\nworld\n", preamble: true, end: -1},
		{name: "preamble too long", stream: strings.Repeat("x\n", maxPreambleLines+1) + "SSH-2.0-a\n", preamble: true, end: -1},
		{name: "line too long", stream: long, ok: true, sw: strings.Repeat("x", MaxBannerLine-8), end: -1},
		{name: "empty", stream: "", end: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, end, ok := FindBanner([]byte(tc.stream), tc.preamble)
			if ok != tc.ok || b.Software != tc.sw || end != tc.end {
				t.Errorf("FindBanner = %q, %d, %v, want %q, %d, %v", b.Software, end, ok, tc.sw, tc.end, tc.ok)
			}
		})
	}
}

// nameLists are a real client's KEXINIT lists (OpenSSH_7.6p1, from
// ja4/pcap/ssh.pcapng in the corpus; HASSH 06046964c022c6407d15a27b12a6a4fb
// per the JA4 authors and tshark).
var nameLists = [10]string{
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1,ext-info-c",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa",
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"none,zlib@openssh.com,zlib",
	"none,zlib@openssh.com,zlib",
	"",
	"",
}

// kexPayload builds a KEXINIT payload from lists.
func kexPayload(lists [10]string, follows byte) []byte {
	p := []byte{MsgKexInit}
	p = append(p, bytes.Repeat([]byte{0xA5}, 16)...)
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	return append(p, follows, 0, 0, 0, 0)
}

// packet wraps a payload into an unencrypted binary packet.
func packet(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

func TestKexInit(t *testing.T) {
	full := kexPayload(nameLists, 0)
	tests := []struct {
		name         string
		payload      []byte
		err          error
		n            int
		complete     bool
		follows      bool
		hassh, hsrv  string
		hasshAlgoPre string
	}{
		{name: "openssh 7.6 client", payload: full, n: 10, complete: true,
			hassh: "06046964c022c6407d15a27b12a6a4fb", hsrv: md5Of(nameLists[0] + ";" + nameLists[3] + ";" + nameLists[5] + ";" + nameLists[7]),
			hasshAlgoPre: "curve25519-sha256,"},
		{name: "first kex packet follows", payload: kexPayload(nameLists, 1), n: 10, complete: true, follows: true,
			hassh: "06046964c022c6407d15a27b12a6a4fb"},
		// Cut inside the 8th list: the client HASSH needs 7 lists, the
		// server one 8.
		{name: "cut in s2c compression", payload: full[:bytes.Index(full, []byte("none,zlib@openssh.com,zlib"))+30],
			err: ErrNameList, n: 7, hassh: "06046964c022c6407d15a27b12a6a4fb"},
		{name: "cut in c2s compression", payload: full[:bytes.Index(full, []byte("none,zlib@openssh.com,zlib"))+3],
			err: ErrNameList, n: 6},
		{name: "trailing bytes", payload: append(append([]byte(nil), full...), 0), err: ErrTrailing, n: 10,
			hassh: "06046964c022c6407d15a27b12a6a4fb"},
		{name: "list length past end", payload: append(full[:17:17], 0xFF, 0xFF, 0xFF, 0xFF, 'a'), err: ErrNameList},
		{name: "not kexinit", payload: append([]byte{21}, full[1:]...), err: ErrNotKex},
		{name: "cookie cut", payload: full[:10], err: ErrNotKex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKexInit(tc.payload)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseKexInit error = %v, want %v", err, tc.err)
			}
			if k.N != tc.n || k.Complete != tc.complete || k.FirstKexFollows != tc.follows {
				t.Errorf("N %d complete %v follows %v, want %d %v %v", k.N, k.Complete, k.FirstKexFollows, tc.n, tc.complete, tc.follows)
			}
			if got := k.HASSH(); got != tc.hassh {
				t.Errorf("HASSH = %q, want %q", got, tc.hassh)
			}
			if tc.hsrv != "" {
				if got := k.HASSHServer(); got != tc.hsrv {
					t.Errorf("HASSHServer = %q, want %q", got, tc.hsrv)
				}
			}
			if tc.hasshAlgoPre != "" {
				s, ok := k.HASSHAlgorithms()
				if !ok || !strings.HasPrefix(s, tc.hasshAlgoPre) || strings.Count(s, ";") != 3 {
					t.Errorf("HASSHAlgorithms = %q, %v", s, ok)
				}
			}
		})
	}
}

func md5Of(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestReadPacket(t *testing.T) {
	kex := packet(kexPayload(nameLists, 0))
	tests := []struct {
		name    string
		b       []byte
		err     error
		payload int
		size    int
		whole   bool
	}{
		{name: "newkeys", b: packet([]byte{MsgNewKeys}), payload: 1, size: 16, whole: true},
		{name: "kexinit", b: kex, payload: len(kexPayload(nameLists, 0)), size: len(kex), whole: true},
		{name: "padding cut", b: kex[:len(kex)-3], payload: len(kexPayload(nameLists, 0)), size: len(kex)},
		{name: "payload cut", b: kex[:100], payload: 95, size: len(kex)},
		{name: "header cut", b: kex[:5], err: ErrShort},
		{name: "huge length", b: []byte{0x7F, 0, 0, 0, 4, 20}, err: ErrLength},
		{name: "zero length", b: []byte{0, 0, 0, 0, 4, 20}, err: ErrLength},
		{name: "padding eats payload", b: []byte{0, 0, 0, 12, 11, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, err: ErrPadding},
		{name: "banner text", b: []byte("SSH-2.0-x\r\n"), err: ErrLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, size, whole, err := ReadPacket(tc.b)
			if !errors.Is(err, tc.err) || len(p) != tc.payload || size != tc.size || whole != tc.whole {
				t.Errorf("ReadPacket = %d bytes, size %d, whole %v, %v; want %d, %d, %v, %v",
					len(p), size, whole, err, tc.payload, tc.size, tc.whole, tc.err)
			}
		})
	}
}

func TestConn(t *testing.T) {
	cKex, sKex := packet(kexPayload(nameLists, 0)), packet(kexPayload(serverLists(), 0))
	ecdhInit := packet(append([]byte{30}, make([]byte, 36)...))
	ecdhReply := packet(append([]byte{31}, make([]byte, 200)...))
	newKeys := packet([]byte{MsgNewKeys})
	encrypted := bytes.Repeat([]byte{0x5A}, 64)
	cBanner, sBanner := "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.5\r\n", "SSH-2.0-OpenSSH_8.9p1\r\n"
	client := cat([]byte(cBanner), cKex, ecdhInit, newKeys, encrypted)
	server := cat([]byte(sBanner), sKex, ecdhReply, newKeys, encrypted)
	const srvHASSH = "699519fdcc30cbcd093d5cd01e4b1d56"

	t.Run("whole handshake", func(t *testing.T) {
		c, s := Conn(client, server)
		if !c.HasBanner || c.Banner.Software != "OpenSSH_7.6p1" || !s.HasBanner || s.Banner.Software != "OpenSSH_8.9p1" {
			t.Fatalf("banners: %+v %+v", c.Banner, s.Banner)
		}
		if !c.HasKexInit || c.KexInit.HASSH() != "06046964c022c6407d15a27b12a6a4fb" {
			t.Errorf("client HASSH = %q", c.KexInit.HASSH())
		}
		if !s.HasKexInit || s.KexInit.HASSHServer() != srvHASSH {
			t.Errorf("server HASSH = %q, want %q", s.KexInit.HASSHServer(), srvHASSH)
		}
		wantC := []Packet{
			{Start: len(cBanner), End: len(cBanner) + len(cKex), Type: 20},
			{Start: len(cBanner) + len(cKex), End: len(cBanner) + len(cKex) + len(ecdhInit), Type: 30},
			{Start: len(client) - len(encrypted) - 16, End: len(client) - len(encrypted), Type: 21},
		}
		if !equalPackets(c.Packets, wantC) {
			t.Errorf("client packets = %+v, want %+v", c.Packets, wantC)
		}
		if c.Encrypted != len(client)-len(encrypted) || s.Encrypted != len(server)-len(encrypted) {
			t.Errorf("encrypted from %d and %d, want %d and %d", c.Encrypted, s.Encrypted,
				len(client)-len(encrypted), len(server)-len(encrypted))
		}
	})
	t.Run("server preamble, client cut", func(t *testing.T) {
		// The client's stream ends after the KEXINIT's first list.
		c, s := Conn(client[:len(cBanner)+5+17+4+len(nameLists[0])+10], cat([]byte("Welcome\r\n"), server))
		if !s.HasBanner || !s.HasKexInit || s.Encrypted != len(server)-len(encrypted)+9 {
			t.Errorf("server: banner %v kexinit %v encrypted %d", s.HasBanner, s.HasKexInit, s.Encrypted)
		}
		if !c.HasKexInit || c.KexInit.N != 1 || c.KexInit.HASSH() != "" || c.Encrypted != -1 {
			t.Errorf("client: kexinit %v lists %d hassh %q encrypted %d", c.HasKexInit, c.KexInit.N, c.KexInit.HASSH(), c.Encrypted)
		}
		if len(c.Packets) != 1 || !c.Packets[0].Partial {
			t.Errorf("client packets = %+v, want one partial", c.Packets)
		}
	})
	t.Run("capture after the banners", func(t *testing.T) {
		c, s := Conn(client[len(cBanner):], server[len(sBanner)+len(sKex):])
		if c.HasBanner || !c.HasKexInit || c.KexInit.HASSH() != "06046964c022c6407d15a27b12a6a4fb" {
			t.Errorf("client: banner %v kexinit %v", c.HasBanner, c.HasKexInit)
		}
		if s.HasBanner || s.HasKexInit || len(s.Packets) != 0 || s.Encrypted != -1 {
			t.Errorf("server without banner or KEXINIT: %+v", s)
		}
	})
	t.Run("not ssh", func(t *testing.T) {
		c, s := Conn([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nSSH-2.0-x\r\n"))
		if c.HasBanner || s.HasBanner || c.HasKexInit || s.HasKexInit || len(c.Packets)+len(s.Packets) != 0 {
			t.Errorf("found SSH in HTTP: %+v %+v", c, s)
		}
	})
	t.Run("ssh-1", func(t *testing.T) {
		pub := v1Packet(MsgV1PublicKey, 260)
		sess := v1Packet(MsgV1SessionKey, 140)
		c, s := Conn(cat([]byte("SSH-1.5-1.2.26\n"), sess, encrypted), cat([]byte("SSH-1.5-1.2.26\n"), pub, encrypted))
		if c.HasKexInit || s.HasKexInit {
			t.Errorf("SSH-1 has no KEXINIT")
		}
		if len(c.Packets) != 1 || c.Packets[0].Type != MsgV1SessionKey || c.Encrypted != 15+len(sess) {
			t.Errorf("client: %+v", c)
		}
		if len(s.Packets) != 1 || s.Packets[0].Type != MsgV1PublicKey || s.Encrypted != 15+len(pub) {
			t.Errorf("server: %+v", s)
		}
	})
	t.Run("ssh-1.99 server, ssh-1 client", func(t *testing.T) {
		c, s := Conn(cat([]byte("SSH-1.5-x\n"), v1Packet(MsgV1SessionKey, 140)), cat([]byte("SSH-1.99-y\n"), v1Packet(MsgV1PublicKey, 260)))
		if len(c.Packets) != 1 || len(s.Packets) != 1 || s.Packets[0].Type != MsgV1PublicKey {
			t.Errorf("packets: %+v %+v", c.Packets, s.Packets)
		}
	})
}

// serverLists are the server KEXINIT lists of the same connection
// (OpenSSH_8.9p1; HASSH-server 699519fdcc30cbcd093d5cd01e4b1d56).
func serverLists() [10]string {
	return [10]string{
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,sntrup761x25519-sha512@openssh.com,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
		"rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		"none,zlib@openssh.com",
		"none,zlib@openssh.com",
		"",
		"",
	}
}

// v1Packet returns an SSH-1 packet of type typ with n data bytes.
func v1Packet(typ byte, n int) []byte {
	length := 1 + n + 4
	pad := 8 - length%8
	b := binary.BigEndian.AppendUint32(nil, uint32(length))
	b = append(b, make([]byte, pad)...)
	b = append(b, typ)
	return append(b, make([]byte, n+4)...)
}

func TestReadPacketV1(t *testing.T) {
	p := v1Packet(MsgV1PublicKey, 260)
	tests := []struct {
		name  string
		b     []byte
		typ   byte
		size  int
		whole bool
		err   error
	}{
		{name: "public key", b: p, typ: MsgV1PublicKey, size: len(p), whole: true},
		{name: "cut", b: p[:40], typ: MsgV1PublicKey, size: len(p)},
		{name: "header cut", b: p[:6], err: ErrShort},
		{name: "bad length", b: []byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, err: ErrLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, size, whole, err := ReadPacketV1(tc.b)
			if typ != tc.typ || size != tc.size || whole != tc.whole || !errors.Is(err, tc.err) {
				t.Errorf("ReadPacketV1 = %d, %d, %v, %v; want %d, %d, %v, %v", typ, size, whole, err, tc.typ, tc.size, tc.whole, tc.err)
			}
		})
	}
}

func TestFindKexInit(t *testing.T) {
	payload := kexPayload(nameLists, 0)
	pkt := packet(payload)
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{name: "payload", b: payload, ok: true},
		{name: "packet", b: pkt, ok: true},
		{name: "banner then packet", b: cat([]byte("SSH-2.0-x\r\n"), pkt), ok: true},
		{name: "ignore message first", b: cat([]byte("SSH-2.0-x\r\n"), packet([]byte{2, 0, 0, 0, 0}), pkt), ok: true},
		{name: "banner only", b: []byte("SSH-2.0-x\r\n")},
		{name: "banner without end", b: []byte("SSH-2.0-x")},
		{name: "newkeys", b: packet([]byte{MsgNewKeys})},
		{name: "nothing", b: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := FindKexInit(tc.b)
			if ok != tc.ok {
				t.Fatalf("FindKexInit ok = %v, want %v", ok, tc.ok)
			}
			if ok && k.HASSH() != "06046964c022c6407d15a27b12a6a4fb" {
				t.Errorf("HASSH = %q", k.HASSH())
			}
		})
	}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func equalPackets(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
