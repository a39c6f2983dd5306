package testgen

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestTorLink: every packet is a 586-byte IPv4 packet holding one TLS
// application-data record; the directions alternate and each segment
// acknowledges everything the peer sent before it.
func TestTorLink(t *testing.T) {
	for _, ts := range []bool{true, false} {
		cv := NewConv("tor-test", ep(macClientA, "10.0.0.1", 51000), ep(macGateway, "10.0.0.2", 9001), Link{})
		cfg := DefaultTCP(1)
		cfg.Timestamps = ts
		last := TorLink(cv, tStart, cfg, 9, 10*time.Millisecond, 7)
		if want := tStart.Add(80 * time.Millisecond); !last.Equal(want) {
			t.Errorf("last cell at %s, want %s", last, want)
		}
		frames := mustFrames(t, cv)
		if len(frames) != 9 {
			t.Fatalf("%d frames, want 9", len(frames))
		}
		var sent [2]uint32 // next sequence number per direction
		for i, f := range frames {
			p := gopacket.NewPacket(f.Data, f.LinkType, gopacket.Default)
			ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if ip == nil || tcp == nil {
				t.Fatalf("cell %d: not IPv4/TCP", i)
			}
			if ip.Length != TorCellIPLen || f.Meta.IPLen != TorCellIPLen {
				t.Errorf("cell %d: IP length %d (meta %d), want %d", i, ip.Length, f.Meta.IPLen, TorCellIPLen)
			}
			d := i % 2
			if f.Meta.FromClient != (d == 0) {
				t.Errorf("cell %d: from client %v", i, f.Meta.FromClient)
			}
			if !tcp.ACK || !tcp.PSH || tcp.SYN || tcp.FIN {
				t.Errorf("cell %d: flags not PSH-ACK", i)
			}
			rec := tcp.Payload
			if len(rec) < 5 || rec[0] != 23 || int(binary.BigEndian.Uint16(rec[3:])) != len(rec)-5 {
				t.Errorf("cell %d: not one whole TLS application-data record", i)
			}
			if sent[d] != 0 && tcp.Seq != sent[d] {
				t.Errorf("cell %d: seq %d, want %d", i, tcp.Seq, sent[d])
			}
			sent[d] = tcp.Seq + uint32(len(rec))
			if i > 0 && tcp.Ack != sent[1-d] {
				t.Errorf("cell %d: ack %d, want %d (the peer's latest cell)", i, tcp.Ack, sent[1-d])
			}
		}
	}
}

func TestWireGuardMessages(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		typ  byte
		size int
	}{
		{"initiation", WireGuardInitiation(1, 0x11223344), 1, 148},
		{"response", WireGuardResponse(2, 0x55667788, 0x11223344), 2, 92},
		{"keepalive", WireGuardData(3, 0x55667788, 0, 0), 4, 32},
		{"data", WireGuardData(4, 0x55667788, 9, 84), 4, 32 + 84},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.b) != tc.size || tc.b[0] != tc.typ || tc.b[1] != 0 || tc.b[2] != 0 || tc.b[3] != 0 {
				t.Errorf("% x...: %d bytes, want type %d, three zero bytes, %d bytes", tc.b[:4], len(tc.b), tc.typ, tc.size)
			}
		})
	}
	if r := WireGuardResponse(2, 5, 0x11223344); binary.LittleEndian.Uint32(r[8:]) != 0x11223344 {
		t.Error("response does not name the initiator's index")
	}
	if d := WireGuardData(4, 7, 9, 0); binary.LittleEndian.Uint64(d[8:]) != 9 {
		t.Error("data message counter")
	}
}

func TestOpenVPNPackets(t *testing.T) {
	const cs, ss = 0x0102030405060708, 0x1112131415161718
	reset := OpenVPNControl(OpenVPNHardResetClientV2, cs, 0, nil, 0, nil)
	if len(reset) != 14 || reset[0] != 7<<3 || binary.BigEndian.Uint64(reset[1:]) != cs || reset[9] != 0 {
		t.Errorf("client hard reset % x", reset)
	}
	sreset := OpenVPNControl(OpenVPNHardResetServerV2, ss, cs, []uint32{0}, 0, nil)
	if len(sreset) != 26 || sreset[0] != 8<<3 || sreset[9] != 1 || binary.BigEndian.Uint64(sreset[14:]) != cs {
		t.Errorf("server hard reset % x", sreset)
	}
	ack := OpenVPNControl(OpenVPNAckV1, cs, ss, []uint32{0}, 0, nil)
	if len(ack) != 22 || ack[0] != 5<<3 {
		t.Errorf("ack % x", ack)
	}
	data := OpenVPNData(1, 0x000102, 3, 100)
	if len(data) != 8+100+16 || data[0] != 9<<3 || data[3] != 2 || binary.BigEndian.Uint32(data[4:]) != 3 {
		t.Errorf("data % x...", data[:8])
	}
}

// TestSampleOverlays checks the facts of the overlay flows at the end of
// the sample capture: after every other conversation, so that the frame
// numbers of the earlier flows stay as they were.
func TestSampleOverlays(t *testing.T) {
	specs, err := SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	byConv := map[string]FlowSpec{}
	last := 0
	for _, s := range specs {
		byConv[s.Conv] = s
		switch s.Conv {
		case "tor", "wireguard", "openvpn", "doh":
		default:
			last = max(last, s.Frames[len(s.Frames)-1])
		}
	}
	tests := []struct {
		conv            string
		proto           uint8
		resp            string
		respPort        uint16
		packets, cells  int
		syn, fin, ipFwd int
	}{
		{"tor", 6, "198.51.100.90", 9001, 60, 60, 0, 0, 30 * TorCellIPLen},
		{"wireguard", 17, "203.0.113.60", 51820, 15, 0, 0, 0, 148 + 28 + 32 + 28 + 6*(32+84+28)},
		{"openvpn", 17, "203.0.113.70", 1194, 13, 0, 0, 0, 14 + 28 + 22 + 28 + 5*(124+28)},
		{"doh", 6, "1.1.1.1", 443, 20, 0, 2, 2, -1}, // -1: IP bytes not pinned (crypto/tls record sizes)
	}
	for _, tc := range tests {
		t.Run(tc.conv, func(t *testing.T) {
			s, ok := byConv[tc.conv]
			if !ok {
				t.Fatal("missing")
			}
			if s.Proto != tc.proto || s.RespIP.String() != tc.resp || s.RespPort != tc.respPort {
				t.Errorf("flow %d %s:%d, want %d %s:%d", s.Proto, s.RespIP, s.RespPort, tc.proto, tc.resp, tc.respPort)
			}
			if s.Packets() != tc.packets || s.TorCells != tc.cells || s.SYN != tc.syn || s.FIN != tc.fin || (tc.ipFwd >= 0 && s.IPBytesFwd != tc.ipFwd) {
				t.Errorf("packets %d, Tor cells %d, SYN %d, FIN %d, fwd IP bytes %d; want %d, %d, %d, %d, %d",
					s.Packets(), s.TorCells, s.SYN, s.FIN, s.IPBytesFwd, tc.packets, tc.cells, tc.syn, tc.fin, tc.ipFwd)
			}
			if s.Frames[0] <= last {
				t.Errorf("first frame %d is not after the other conversations (last %d)", s.Frames[0], last)
			}
		})
	}
}
