package extractors

import (
	"crypto/md5"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/internal/testgen"
	"github.com/jjsql/jjsql/schema"
)

// sdCheck compares values with want (bool, int64 or string per column).
func sdCheck(t *testing.T, got map[string]schema.Value, want map[string]any) {
	t.Helper()
	for name, w := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("no column %s", name)
			continue
		}
		switch w := w.(type) {
		case bool:
			if (v.I != 0) != w {
				t.Errorf("%s = %v, want %v", name, v.I != 0, w)
			}
		case int:
			if v.I != int64(w) {
				t.Errorf("%s = %d, want %d", name, v.I, w)
			}
		case string:
			if v.S != w {
				t.Errorf("%s = %q, want %q", name, v.S, w)
			}
		default:
			t.Fatalf("%s: unsupported want %T", name, w)
		}
	}
}

// TestSSHCorpus pins the ssh group on the corpus's SSH connections. HASSH
// values are those of the JA4 authors' expected output and of tshark; the
// packet counts were checked by hand with tshark (payload packets minus the
// two banners minus the packets holding nothing but cleartext key exchange
// messages; a packet with NEWKEYS and encrypted bytes counts as both).
func TestSSHCorpus(t *testing.T) {
	corpus := corpusDir(t)
	tests := []struct {
		capture string
		port    uint16 // the client's port
		want    map[string]any
	}{
		// Capture without the TCP handshake: the side on port 22 is the
		// server. The server's 596-byte segment holds the ECDH reply,
		// NEWKEYS (ending at stream offset 1401) and 316 encrypted bytes, so
		// it counts as both.
		{"ja4/pcap/ssh.pcapng", 57377, map[string]any{
			"ssh_detected": true, "ssh_version": "2.0",
			"ssh_client_software": "OpenSSH_7.6p1", "ssh_server_software": "OpenSSH_8.9p1",
			"ssh_client_version": "2.0", "ssh_server_version": "2.0",
			"ssh_hassh": "06046964c022c6407d15a27b12a6a4fb", "ssh_hassh_server": "699519fdcc30cbcd093d5cd01e4b1d56",
			"ssh_kex_packets": 5, "ssh_encrypted_packets": 312}},
		{"ja4/pcap/ssh-r.pcap", 64980, map[string]any{
			"ssh_client_software": "PuTTY_Release_0.74", "ssh_server_software": "OpenSSH_7.4",
			"ssh_hassh": "e77c2db7432e8cfbc42a96909a84fc8e", "ssh_hassh_server": "6832f1ce43d4397c2c0a3e2f8c94334e",
			"ssh_kex_packets": 5, "ssh_encrypted_packets": 275}},
		{"ja4/pcap/ssh-r.pcap", 46394, map[string]any{
			"ssh_client_software": "OpenSSH_7.4", "ssh_server_software": "OpenSSH_8.7",
			"ssh_hassh": "ec9ea89c70f5fc71cf61061bff5e4740", "ssh_hassh_server": "2307c390c7c9aba5b4c9519e72347f34",
			"ssh_kex_packets": 5, "ssh_encrypted_packets": 5}},
		{"ja4/pcap/ssh-scp-1050.pcap", 49237, map[string]any{
			"ssh_client_software": "WinSCP_release_5.17.10",
			"ssh_hassh":           "eb6d4c713c7dcaba7cfd070b095213a9", "ssh_hassh_server": "6832f1ce43d4397c2c0a3e2f8c94334e",
			"ssh_kex_packets": 5, "ssh_encrypted_packets": 847}},
		// SSH-1.99 server: protocol 2 in use. The server's DH reply and
		// NEWKEYS share a segment; the client's NEWKEYS is alone.
		{"ja4/pcap/ssh2-malformed.pcap", 61672, map[string]any{
			"ssh_version": "2.0", "ssh_client_version": "2.0", "ssh_server_version": "1.99",
			"ssh_client_software": "OpenSSH_5.3", "ssh_server_software": "OpenSSH_3.9p1",
			"ssh_hassh": "21b457a327ce7a2d4fce5ef2c42400bd", "ssh_hassh_server": "f430cd6761697a6a658ee1d45ed22e49",
			"ssh_kex_packets": 7, "ssh_encrypted_packets": 4}},
		// GRE tunnel: the inner connection. The client never sends NEWKEYS.
		{"ja4/pcap/gre-sample.pcap", 40264, map[string]any{
			"ssh_client_software": "OpenSSH_3.6.1p1", "ssh_server_software": "OpenSSH_3.1p1",
			"ssh_hassh": "5ef6678a6b060094834599ca16581b05", "ssh_hassh_server": "6e3242d64766f4154c11858bbd654415",
			"ssh_kex_packets": 6, "ssh_encrypted_packets": 0}},
		// SSH-1: no KEXINIT; the server's public key and the client's
		// session key are the key exchange, everything after is encrypted.
		{"ja4/pcap/sshv1.pcap", 1022, map[string]any{
			"ssh_detected": true, "ssh_version": "1.5", "ssh_client_version": "1.5", "ssh_server_version": "1.5",
			"ssh_client_software": "1.2.26", "ssh_server_software": "1.2.26",
			"ssh_hassh": "", "ssh_hassh_server": "", "ssh_kex_packets": 2, "ssh_encrypted_packets": 39}},
		// Only the server's banner and two encrypted packets were captured.
		{"ndpi/pcap/ssh_unidirectional.pcap", 50306, map[string]any{
			"ssh_detected": true, "ssh_version": "2.0", "ssh_client_software": "", "ssh_server_software": "OpenSSH_7.4p1",
			"ssh_client_version": "", "ssh_hassh": "", "ssh_hassh_server": "", "ssh_kex_packets": 0, "ssh_encrypted_packets": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			fs := captureFlows(t, filepath.Join(corpus, tc.capture), conformanceConfig(), PlanGroups("ssh", "dns").Needs)
			got := cCompute(t, "ssh", flowByPort(t, fs, 6, tc.port))
			sdCheck(t, got, tc.want)
		})
	}
}

// sdAssemble runs packets through an assembler (one flow, reference
// settings) so that the flow carries its reassembled streams.
func sdAssemble(t *testing.T, pkts []flows.Packet) *flows.Flow {
	t.Helper()
	return assembleOne(t, pkts, conformanceConfig(), PlanGroups("ssh", "dns").Needs)
}

// sdSeg returns a TCP segment from src to dst ("ip:port") with sequence
// number seq, flags and payload data.
func sdSeg(ts float64, src, dst string, seq uint32, flags uint8, data []byte) flows.Packet {
	p := tcpPktA(ts, src, dst, 40+len(data), len(data), flags)
	p.Seq = seq
	p.Payload = data
	return p
}

// sdConv scripts a TCP conversation: each call to send appends one segment
// of a direction and advances that direction's sequence number.
type sdConv struct {
	pkts       []flows.Packet
	ts         float64
	cli, srv   string
	seqC, seqS uint32
}

func newSDConv(cli, srv string) *sdConv {
	return &sdConv{cli: cli, srv: srv, seqC: 1000, seqS: 5000}
}

func (c *sdConv) send(fromClient bool, flags uint8, data []byte) {
	c.ts += 0.01
	if fromClient {
		c.pkts = append(c.pkts, sdSeg(c.ts, c.cli, c.srv, c.seqC, flags, data))
		c.seqC += uint32(len(data))
		if flags&(flows.SYN|flows.FIN) != 0 {
			c.seqC++
		}
		return
	}
	c.pkts = append(c.pkts, sdSeg(c.ts, c.srv, c.cli, c.seqS, flags, data))
	c.seqS += uint32(len(data))
	if flags&(flows.SYN|flows.FIN) != 0 {
		c.seqS++
	}
}

func sdMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The HASSH inputs of testgen's KEXINITs.
var (
	sdClientHASSH = sdMD5("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,diffie-hellman-group14-sha256,ext-info-c,kex-strict-c-v00@openssh.com;" +
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com;" +
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1;" +
		"none,zlib@openssh.com")
	sdServerHASSH = sdMD5("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group16-sha512,kex-strict-s-v00@openssh.com;" +
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com;" +
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256;" +
		"none,zlib@openssh.com")
)

func TestSSHSynthetic(t *testing.T) {
	const cli, srv = "10.0.0.1:50022", "10.0.0.2:22"
	cBanner, sBanner := []byte("SSH-2.0-OpenSSH_9.7\r\n"), []byte("SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n")
	cKex, sKex := testgen.SSHClientKex(1), testgen.SSHServerKex(2) // server: KEXINIT, reply, NEWKEYS
	newKeys := testgen.SSHNewKeys(3)
	enc := testgen.RandomBytes(4, 80)
	const A, PA = flows.ACK, flows.ACK | flows.PSH

	// handshake scripts a whole connection; split cuts the client's
	// KEXINIT segment in two, retransmit sends it twice.
	handshake := func(split, retransmit bool) *sdConv {
		c := newSDConv(cli, srv)
		c.send(true, flows.SYN, nil)
		c.send(false, flows.SYN|flows.ACK, nil)
		c.send(true, A, nil)
		c.send(false, PA, sBanner)
		c.send(true, PA, cBanner)
		switch {
		case split:
			c.send(true, PA, cKex[:300])
			c.send(true, PA, cKex[300:])
		case retransmit:
			seq := c.seqC
			c.send(true, PA, cKex)
			c.seqC = seq
			c.send(true, PA, cKex)
		default:
			c.send(true, PA, cKex)
		}
		c.send(false, PA, sKex)
		c.send(true, PA, append(append([]byte(nil), newKeys...), enc...)) // NEWKEYS + encrypted bytes
		c.send(false, PA, enc)
		c.send(true, PA, enc)
		return c
	}
	whole := map[string]any{
		"ssh_detected": true, "ssh_version": "2.0", "ssh_client_software": "OpenSSH_9.7", "ssh_server_software": "OpenSSH_9.6p1",
		"ssh_client_version": "2.0", "ssh_server_version": "2.0", "ssh_hassh": sdClientHASSH, "ssh_hassh_server": sdServerHASSH,
		"ssh_kex_packets": 3, "ssh_encrypted_packets": 3,
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name string
		pkts func() []flows.Packet
		want map[string]any
	}{
		{name: "whole", pkts: func() []flows.Packet { return handshake(false, false).pkts }, want: whole},
		// The KEXINIT spans two segments: the HASSH is read from the
		// stream. The second segment also starts the ECDH_INIT message
		// (which shared the first segment before), so it counts.
		{name: "kexinit split", pkts: func() []flows.Packet { return handshake(true, false).pkts },
			want: with(whole, "ssh_kex_packets", 4)},
		{name: "kexinit retransmitted", pkts: func() []flows.Packet { return handshake(false, true).pkts },
			want: with(whole, "ssh_kex_packets", 4)},
		// The capture starts with the server's SYN+ACK: the responder is
		// the client.
		{name: "starts with syn-ack", pkts: func() []flows.Packet { return handshake(false, false).pkts[1:] }, want: whole},
		// The capture starts after the banners: both streams start with a
		// KEXINIT packet.
		{name: "after the banners", pkts: func() []flows.Packet {
			c := newSDConv(cli, srv)
			c.send(true, PA, cKex)
			c.send(false, PA, sKex)
			c.send(true, PA, newKeys)
			c.send(true, PA, enc)
			return c.pkts
		}, want: map[string]any{
			"ssh_detected": true, "ssh_version": "", "ssh_client_software": "", "ssh_server_software": "",
			"ssh_hassh": sdClientHASSH, "ssh_hassh_server": sdServerHASSH, "ssh_kex_packets": 3, "ssh_encrypted_packets": 1}},
		// The server (port 22) sends first, without a handshake.
		{name: "server first, no handshake", pkts: func() []flows.Packet {
			c := newSDConv(cli, srv)
			c.send(false, PA, sBanner)
			c.send(true, PA, cBanner)
			return c.pkts
		}, want: map[string]any{
			"ssh_detected": true, "ssh_version": "2.0", "ssh_client_software": "OpenSSH_9.7", "ssh_server_software": "OpenSSH_9.6p1",
			"ssh_hassh": "", "ssh_hassh_server": "", "ssh_kex_packets": 0, "ssh_encrypted_packets": 0}},
		{name: "http", pkts: func() []flows.Packet {
			c := newSDConv("10.0.0.1:50080", "10.0.0.2:80")
			c.send(true, PA, testgen.HTTPRequest("example.test", "/SSH-2.0-x"))
			c.send(false, PA, []byte("HTTP/1.1 200 OK\r\nSSH-2.0-x\r\n\r\n"))
			return c.pkts
		}, want: map[string]any{
			"ssh_detected": false, "ssh_version": "", "ssh_client_software": "", "ssh_server_software": "",
			"ssh_hassh": "", "ssh_hassh_server": "", "ssh_kex_packets": 0, "ssh_encrypted_packets": 0}},
		{name: "udp", pkts: func() []flows.Packet {
			p := udpPktA(0, cli, srv, 28+len(cBanner), len(cBanner))
			p.Payload = cBanner
			return []flows.Packet{p}
		}, want: map[string]any{"ssh_detected": false, "ssh_client_software": "", "ssh_kex_packets": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sdCheck(t, cCompute(t, "ssh", sdAssemble(t, tc.pkts())), tc.want)
		})
	}
}

func TestTCPClientDir(t *testing.T) {
	seg := func(src, dst string, flags uint8) flows.Packet { return sdSeg(0, src, dst, 1, flags, nil) }
	tests := []struct {
		name string
		pkts []flows.Packet
		want int
	}{
		{"syn from initiator", []flows.Packet{seg("10.0.0.1:22", "10.0.0.2:40000", flows.SYN)}, 0},
		{"syn-ack from initiator", []flows.Packet{seg("10.0.0.1:40000", "10.0.0.2:22", flows.SYN|flows.ACK)}, 1},
		{"syn-ack after data", []flows.Packet{
			seg("10.0.0.1:5000", "10.0.0.2:6000", flows.ACK),
			seg("10.0.0.2:6000", "10.0.0.1:5000", flows.SYN|flows.ACK)}, 0},
		{"initiator on 22", []flows.Packet{seg("10.0.0.1:22", "10.0.0.2:40000", flows.ACK)}, 1},
		{"responder on 22", []flows.Packet{seg("10.0.0.1:22222", "10.0.0.2:22", flows.ACK)}, 0},
		{"initiator on a system port", []flows.Packet{seg("10.0.0.1:830", "10.0.0.2:40000", flows.ACK)}, 1},
		{"both registered ports", []flows.Packet{seg("10.0.0.1:2222", "10.0.0.2:40000", flows.ACK)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tcpClientDir(buildFlowA(tc.pkts)); got != tc.want {
				t.Errorf("tcpClientDir = %d, want %d", got, tc.want)
			}
		})
	}
}
