package testgen

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/proto/quic"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestQUICInitialKeysRFC9001 checks the key derivation against RFC 9001
// appendix A.1 (DCID 8394c8f03e515708).
func TestQUICInitialKeysRFC9001(t *testing.T) {
	dcid := unhex(t, "8394c8f03e515708")
	c, s, err := QUICInitialSecrets(dcid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"client_initial_secret", hex.EncodeToString(c), "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"},
		{"server_initial_secret", hex.EncodeToString(s), "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name         string
		secret       []byte
		key, iv, hp  string
		sample, mask string
	}{
		{"client", c, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2",
			"d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"},
		{"server", s, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314",
			"2cd0991cd25b0aac406a5816b6394100", "2ec0d8356a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kv := range []struct {
				label string
				n     int
				want  string
			}{{"quic key", 16, tc.key}, {"quic iv", 12, tc.iv}, {"quic hp", 16, tc.hp}} {
				got, err := quic.ExpandLabel(tc.secret, kv.label, kv.n), error(nil)
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(got) != kv.want {
					t.Errorf("%s = %x, want %s", kv.label, got, kv.want)
				}
			}
			k, err := QUICInitialKeys(dcid, tc.name == "server")
			if err != nil {
				t.Fatal(err)
			}
			var mask [16]byte
			k.hp.Encrypt(mask[:], unhex(t, tc.sample))
			if got := hex.EncodeToString(mask[:5]); got != tc.mask {
				t.Errorf("mask = %s, want %s", got, tc.mask)
			}
		})
	}
}

// TestQUICSealServerInitialRFC9001 seals the server Initial of RFC 9001
// appendix A.3 (packet number 1, ACK and CRYPTO with a ServerHello) and
// compares it with the protected packet of the RFC.
func TestQUICSealServerInitialRFC9001(t *testing.T) {
	k, err := QUICInitialKeys(unhex(t, "8394c8f03e515708"), true)
	if err != nil {
		t.Fatal(err)
	}
	payload := unhex(t, `02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988
		cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d
		89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b0002
		0304`)
	got, err := k.SealLong(QUICLongHeader{Type: QUICInitial, SCID: unhex(t, "f067a5502a4262b5"), PN: 1}, payload)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
		5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
		dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
		022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
		2158407dd074ee`)
	if !bytes.Equal(got, want) {
		t.Errorf("server Initial =\n%x\nwant\n%x", got, want)
	}
}

// TestQUICHandshakeDatagrams builds the handshake datagrams of a
// ClientHello in one Initial and split over two and three, and reads the
// ClientHello and ServerHello back with jjsql's QUIC parser.
func TestQUICHandshakeDatagrams(t *testing.T) {
	for _, tc := range []struct {
		name     string
		groups   []tls.CurveID
		initials int
	}{
		{"one initial", nil, 1},
		{"two initials", nil, 2},
		{"p256 first, three initials", []tls.CurveID{tls.CurveP256, tls.X25519}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := QUICTLSConfig{ServerName: "quic.example.test", Groups: tc.groups, Seed: 7, Time: tStart,
				DCID: unhex(t, "0001020304050607"), SCID: unhex(t, "a1a2a3a4"), ServerCID: unhex(t, "b1b2b3b4b5b6b7b8")}
			fl, err := QUICTLSHandshake(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if fl.ClientInitial[0] != 1 || fl.ServerInitial[0] != 2 || len(fl.ServerHandshake) == 0 || len(fl.ClientHandshake) == 0 {
				t.Fatalf("flights: CH type %d, SH type %d, %d handshake bytes from the server, %d from the client",
					fl.ClientInitial[0], fl.ServerInitial[0], len(fl.ServerHandshake), len(fl.ClientHandshake))
			}
			dgs, err := QUICHandshakeDatagrams(cfg, fl, tc.initials, 1)
			if err != nil {
				t.Fatal(err)
			}
			var client, server [][]byte
			for i, d := range dgs {
				if len(d.Data) > quicMaxDatagram {
					t.Errorf("datagram %d: %d bytes, want at most %d", i, len(d.Data), quicMaxDatagram)
				}
				if d.FromServer {
					server = append(server, d.Data)
					continue
				}
				if len(d.Data) < quicMinDatagram {
					t.Errorf("client datagram %d: %d bytes, want at least %d", i, len(d.Data), quicMinDatagram)
				}
				client = append(client, d.Data)
			}
			if got := len(client) - 1; got != tc.initials {
				t.Errorf("%d client datagrams before the server's, want %d", got, tc.initials)
			}
			ch, ok := quic.ClientHello(client)
			if !ok || !bytes.Equal(ch, fl.ClientInitial) {
				t.Errorf("quic.ClientHello = %d bytes, %v; want the %d bytes of the ClientHello", len(ch), ok, len(fl.ClientInitial))
			}
			sh, ok := quic.ServerHello(client, server)
			if !ok || !bytes.Equal(sh, fl.ServerInitial) {
				t.Errorf("quic.ServerHello = %d bytes, %v; want the %d bytes of the ServerHello", len(sh), ok, len(fl.ServerInitial))
			}
			again, err := QUICTLSHandshake(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.ClientInitial, fl.ClientInitial) || !bytes.Equal(again.ServerHandshake, fl.ServerHandshake) {
				t.Error("a second handshake with the same configuration gave other bytes")
			}
		})
	}
}
