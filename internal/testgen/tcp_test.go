package testgen

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var (
	tClient = ep(macClientA, "192.168.1.10", 40001)
	tServer = ep(macGateway, "203.0.113.10", 80)
	tStart  = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

// decodeConv decodes a conversation's frames (checksums verified).
func decodeConv(t *testing.T, cv *Conv) []pktInfo {
	t.Helper()
	frames, err := cv.Frames()
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder()
	var out []pktInfo
	for i, f := range frames {
		p, err := d.decode(f.LinkType, f.Data, f.TS)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, p)
	}
	return out
}

func optionKinds(tcp *layers.TCP) []layers.TCPOptionKind {
	var k []layers.TCPOptionKind
	for _, o := range tcp.Options {
		if o.OptionType != layers.TCPOptionKindEndList {
			k = append(k, o.OptionType)
		}
	}
	return k
}

func option(tcp *layers.TCP, kind layers.TCPOptionKind) []byte {
	for _, o := range tcp.Options {
		if o.OptionType == kind {
			return o.OptionData
		}
	}
	return nil
}

func tsOf(tcp *layers.TCP) (val, ecr uint32, ok bool) {
	d := option(tcp, layers.TCPOptionKindTimestamps)
	if len(d) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]), true
}

func TestTCPHandshakeOptions(t *testing.T) {
	var nop, mss, sack, ts, ws layers.TCPOptionKind = layers.TCPOptionKindNop, layers.TCPOptionKindMSS, layers.TCPOptionKindSACKPermitted, layers.TCPOptionKindTimestamps, layers.TCPOptionKindWindowScale
	noOpts := TCPConfig{MSS: 1460, WScale: -1}
	mptcp := DefaultTCP(3)
	mptcp.MPTCP = true
	tests := []struct {
		name     string
		cfg      TCPConfig
		synKinds []layers.TCPOptionKind
		ackKinds []layers.TCPOptionKind
		maxSeg   int // largest data segment
	}{
		{"linux default", DefaultTCP(1), []layers.TCPOptionKind{mss, sack, ts, nop, ws}, []layers.TCPOptionKind{nop, nop, ts}, 1448},
		{"no timestamps", TCPConfig{MSS: 1400, WScale: 2, SACK: true}, []layers.TCPOptionKind{mss, nop, nop, sack, nop, ws}, nil, 1400},
		{"MSS only", noOpts, []layers.TCPOptionKind{mss}, nil, 1460},
		{"MPTCP", mptcp, []layers.TCPOptionKind{mss, sack, ts, nop, ws, 30}, []layers.TCPOptionKind{nop, nop, ts, 30}, 1448},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := NewConv("hs-"+tc.name, tClient, tServer, Link{})
			TCPConversation(cv, tStart, tc.cfg, []Message{
				{Data: HTTPRequest("example.test", "/")},
				{FromServer: true, Data: HTTPResponse(5000)},
			}, TCPEnd{Kind: CloseFIN})
			ps := decodeConv(t, cv)
			syn, synAck, ack := ps[0].tcp, ps[1].tcp, ps[2].tcp
			if !syn.SYN || syn.ACK || !synAck.SYN || !synAck.ACK || ack.SYN || !ack.ACK {
				t.Fatalf("handshake flags wrong")
			}
			for i, tcp := range []*layers.TCP{syn, synAck} {
				if got := optionKinds(tcp); !slices.Equal(got, tc.synKinds) {
					t.Errorf("handshake segment %d options %v, want %v", i, got, tc.synKinds)
				}
				if got := binary.BigEndian.Uint16(option(tcp, mss)); got != tc.cfg.MSS {
					t.Errorf("MSS %d, want %d", got, tc.cfg.MSS)
				}
				if w := option(tcp, ws); tc.cfg.WScale >= 0 && (len(w) != 1 || int8(w[0]) != tc.cfg.WScale) {
					t.Errorf("window scale %v, want %d", w, tc.cfg.WScale)
				}
			}
			if synAck.Ack != syn.Seq+1 || ack.Ack != synAck.Seq+1 || ack.Seq != syn.Seq+1 {
				t.Errorf("handshake numbers: SYN %d, SYN-ACK %d/%d, ACK %d/%d", syn.Seq, synAck.Seq, synAck.Ack, ack.Seq, ack.Ack)
			}
			if tc.cfg.Timestamps {
				v0, e0, _ := tsOf(syn)
				_, e1, _ := tsOf(synAck)
				if e0 != 0 || e1 != v0 {
					t.Errorf("SYN TSecr %d, SYN-ACK TSecr %d, want 0 and %d", e0, e1, v0)
				}
			}
			largest := 0
			for i, p := range ps[3:] {
				if got := optionKinds(p.tcp); !slices.Equal(got, tc.ackKinds) && len(option(p.tcp, layers.TCPOptionKindSACK)) == 0 {
					t.Errorf("segment %d options %v, want %v", i+3, got, tc.ackKinds)
				}
				largest = max(largest, len(p.tcp.Payload))
			}
			if largest != tc.maxSeg {
				t.Errorf("largest segment %d bytes, want %d", largest, tc.maxSeg)
			}
		})
	}
}

// TestTCPInvariants checks every TCP flow of the sample: acknowledgments
// never cover unsent data and never go back, TSecr echoes a TSval the
// peer sent, TSval does not go back, segments fit the MSS.
func TestTCPInvariants(t *testing.T) {
	infos, specs := sampleRecords(t)
	for _, s := range specs {
		if s.Proto != 6 {
			continue
		}
		t.Run(s.Conv+"-"+string(rune('0'+s.Part)), func(t *testing.T) {
			var sent [2]uint32 // highest sequence end per direction
			var started [2]bool
			var lastAck [2]uint32
			var acked [2]bool
			var lastTS [2]uint32
			tsvals := [2]map[uint32]bool{{}, {}}
			for _, i := range s.Frames {
				p := infos[i]
				tcp := p.tcp
				d := 1
				if p.src == s.InitIP && p.sport == s.InitPort {
					d = 0
				}
				end := tcp.Seq + uint32(len(tcp.Payload))
				if tcp.SYN || tcp.FIN {
					end++
				}
				if !started[d] || seqLT(sent[d], end) {
					sent[d], started[d] = end, true
				}
				if tcp.ACK && !tcp.RST && started[1-d] {
					if seqLT(sent[1-d], tcp.Ack) {
						t.Errorf("frame %d acknowledges %d, the peer sent up to %d", i, tcp.Ack, sent[1-d])
					}
					if acked[d] && seqLT(tcp.Ack, lastAck[d]) {
						t.Errorf("frame %d: ack %d after %d", i, tcp.Ack, lastAck[d])
					}
					lastAck[d], acked[d] = tcp.Ack, true
				}
				if val, ecr, ok := tsOf(tcp); ok {
					if ecr != 0 && len(tsvals[1-d]) > 0 && !tsvals[1-d][ecr] {
						t.Errorf("frame %d echoes TSval %d the peer never sent", i, ecr)
					}
					if len(tsvals[d]) > 0 && seqLT(val, lastTS[d]) {
						t.Errorf("frame %d: TSval %d after %d", i, val, lastTS[d])
					}
					tsvals[d][val], lastTS[d] = true, val
				}
				if len(tcp.Payload) > 1460 {
					t.Errorf("frame %d carries %d bytes", i, len(tcp.Payload))
				}
			}
		})
	}
}

func TestTCPLossAndReorder(t *testing.T) {
	cv := NewConv("loss", tClient, tServer, Link{})
	s := NewTCPSession(cv, tStart, DefaultTCP(9))
	s.Handshake()
	s.Send(true, HTTPRequest("example.test", "/"))
	body := HTTPResponse(10000)
	s.SendWith(false, body, SendOptions{Lose: 2, Reorder: 5})
	s.Close(true, true)
	frames, err := cv.Frames()
	if err != nil {
		t.Fatal(err)
	}
	ps := decodeConv(t, cv)
	var events []Event
	var dataSeqs []uint32
	for i, p := range ps {
		if !p.tcp.SYN && len(p.tcp.Payload) > 0 && p.sport == 80 {
			events = append(events, frames[i].Meta.Event)
			dataSeqs = append(dataSeqs, p.tcp.Seq)
		}
	}
	// Segments 1..7 of 1448 bytes: 5 and 6 swapped, 2 sent again at the end.
	wantEvents := []Event{EventNone, EventNone, EventNone, EventNone, EventNone, EventOutOfOrder, EventNone, EventRetransmission}
	if !slices.Equal(events, wantEvents) {
		t.Fatalf("events %v, want %v", events, wantEvents)
	}
	isn := dataSeqs[0]
	want := []uint32{0, 1, 2, 3, 5, 4, 6, 1}
	for i, k := range want {
		if dataSeqs[i] != isn+k*1448 {
			t.Errorf("data segment %d at relative seq %d, want %d", i, dataSeqs[i]-isn, k*1448)
		}
	}
	// The client's duplicate ACKs hold the hole's start and SACK what arrived above it.
	hole := isn + 1448
	dups := 0
	for _, p := range ps {
		if p.sport != 40001 || len(p.tcp.Payload) > 0 || p.tcp.FIN {
			continue
		}
		sk := option(p.tcp, layers.TCPOptionKindSACK)
		if len(sk) == 0 {
			continue
		}
		dups++
		if p.tcp.Ack != hole && p.tcp.Ack != isn+4*1448 {
			t.Errorf("SACK with ack %d", p.tcp.Ack-isn)
		}
		for b := sk; len(b) >= 8; b = b[8:] {
			l, r := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
			if !seqLT(p.tcp.Ack, l) || !seqLT(l, r) || seqLT(isn+uint32(len(body)), r) {
				t.Errorf("SACK block %d-%d with ack %d", l-isn, r-isn, p.tcp.Ack-isn)
			}
		}
	}
	if dups < 4 {
		t.Errorf("%d ACKs with SACK blocks, want at least 4", dups)
	}
	// The four-way close ends the session.
	n := len(ps)
	flags := func(p pktInfo) (bool, bool) { return p.tcp.FIN, p.tcp.ACK }
	if f, a := flags(ps[n-4]); !f || !a || ps[n-4].sport != 40001 {
		t.Error("close does not start with the client's FIN")
	}
	if f, _ := flags(ps[n-3]); f || ps[n-3].sport != 80 {
		t.Error("four-way close: no server ACK before its FIN")
	}
	if f, _ := flags(ps[n-2]); !f {
		t.Error("no server FIN")
	}
	if last := ps[n-1].tcp; last.FIN || last.Ack != ps[n-2].tcp.Seq+1 {
		t.Error("the last ACK does not acknowledge the server's FIN")
	}
}

func TestTCPRefuseAndReset(t *testing.T) {
	cv := NewConv("refuse", tClient, tServer, Link{})
	NewTCPSession(cv, tStart, DefaultTCP(4)).Refuse()
	ps := decodeConv(t, cv)
	if len(ps) != 2 || !ps[0].tcp.SYN || !ps[1].tcp.RST || !ps[1].tcp.ACK || ps[1].tcp.Ack != ps[0].tcp.Seq+1 {
		t.Errorf("refused connection: %d packets", len(ps))
	}
	cv = NewConv("reset", tClient, tServer, Link{})
	TCPConversation(cv, tStart, DefaultTCP(4), []Message{{Data: []byte("hello")}}, TCPEnd{Kind: CloseRST, ByServer: true})
	ps = decodeConv(t, cv)
	last := ps[len(ps)-1].tcp
	if !last.RST || last.SrcPort != 80 || last.Seq != ps[1].tcp.Seq+1 || last.Ack != ps[0].tcp.Seq+1+5 {
		t.Errorf("reset: RST %v from %d seq %d ack %d", last.RST, last.SrcPort, last.Seq, last.Ack)
	}
}

func TestMPTCPOptions(t *testing.T) {
	_, specs := sampleRecords(t)
	s := specByName(t, specs, "mptcp")
	frames, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder()
	for n, i := range s.Frames {
		p, err := d.decode(frames[i].LinkType, frames[i].Data, frames[i].TS)
		if err != nil {
			t.Fatal(err)
		}
		mp := option(p.tcp, 30)
		if mp == nil {
			t.Fatalf("segment %d has no MPTCP option", n)
		}
		subtype := mp[0] >> 4
		wantLen, wantSub := 0, byte(2)
		switch n {
		case 0, 1:
			wantLen, wantSub = 10, 0 // MP_CAPABLE with one key (option length 12)
		case 2:
			wantLen, wantSub = 18, 0 // both keys (option length 20)
		}
		if subtype != wantSub || (wantLen != 0 && len(mp) != wantLen) {
			t.Errorf("segment %d: MPTCP subtype %d, %d data bytes; want %d, %d", n, subtype, len(mp), wantSub, wantLen)
		}
		if n == 2 {
			syn, synAck := option(infosTCP(t, d, frames[s.Frames[0]]), 30), option(infosTCP(t, d, frames[s.Frames[1]]), 30)
			if string(mp[2:10]) != string(syn[2:10]) || string(mp[10:18]) != string(synAck[2:10]) {
				t.Error("third ACK does not repeat both keys")
			}
		}
	}
}

func infosTCP(t *testing.T, d *decoder, f Frame) *layers.TCP {
	t.Helper()
	p, err := d.decode(f.LinkType, f.Data, f.TS)
	if err != nil {
		t.Fatal(err)
	}
	return p.tcp
}

func TestConvErrors(t *testing.T) {
	cv := NewConv("order", tClient, tServer, Link{})
	UDPSend(cv, tStart, true, []byte("a"))
	UDPSend(cv, tStart, false, []byte("b"))
	UDPSend(cv, tStart.Add(time.Second), false, []byte("c"))
	if fr, err := cv.Frames(); err == nil || len(fr) != 1 {
		t.Errorf("two frames at one time: %d frames, error %v", len(fr), err)
	}
	teredo := NewConv("teredo4", tClient, tServer, Link{Tunnel: TunnelTeredo, OuterClient: tClient.IP, OuterServer: tServer.IP})
	UDPSend(teredo, tStart, true, []byte("a"))
	if _, err := teredo.Frames(); err == nil {
		t.Error("Teredo with IPv4 inside: no error")
	}
	noOuter := NewConv("gre", tClient, tServer, Link{Tunnel: TunnelGRE})
	UDPSend(noOuter, tStart, true, []byte("a"))
	if _, err := noOuter.Frames(); err == nil {
		t.Error("tunnel without outer addresses: no error")
	}
}
