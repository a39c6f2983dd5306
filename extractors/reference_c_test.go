package extractors

import (
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// cRefCaptures are the corpus captures compared with JoyfulJay's rows: plain
// Ethernet captures (no tunnels, no fragments) covering IPv4, IPv6, VLAN
// tags, ICMP echo and ICMP errors.
var cRefCaptures = []string{
	"gopacket/test_ethernet.pcap",
	"joyfuljay/sample.pcap",
	"ndpi/pcap/icmp-tunnel.pcap",         // 863 ICMP echo packets
	"ndpi/pcap/googledns_android10.pcap", // ICMP port unreachable inside UDP traffic
	"ndpi/pcap/stun_signal.pcapng",       // ICMP errors, pcapng
	"ndpi/pcap/lru_ipv6_caches.pcapng",   // IPv6 only
	"ndpi/pcap/vrrp3.pcapng",             // IPv6 and VLAN tags
	"ndpi/pcap/bfd.pcap",                 // VLAN tags
	"ndpi/pcap/whatsapp_login_call.pcap", // IPv4, IPv6 and ICMP mixed
	"ndpi/pcap/tls_certificate_too_long.pcap",
	"ndpi/pcap/alexa-app.pcapng", // ICMP redirects, IPv6
	"wireshark/vlan.cap",         // VLAN tags, ICMP echo with sequence gaps
}

// cRefGroups are the groups this test compares.
var cRefGroups = []string{"mac", "ip_extended", "ipv6_options", "icmp"}

// cRefSkip are columns not compared: POLICY.md section 2 corrects them.
var cRefSkip = map[string]bool{"ip_id_gaps": true}

// cCorpus returns the corpus directory and JoyfulJay's reference directory,
// skipping the test when they are missing (failing when CI=true).
func cCorpus(t *testing.T) (corpus, ref string) {
	t.Helper()
	corpus = os.Getenv("JJ_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "shared", "corpus")
	}
	ref = filepath.Join(corpus, "..", "reference", "joyfuljay")
	for _, d := range []string{corpus, ref} {
		if _, err := os.Stat(d); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("corpus missing: %v", err)
			}
			t.Skipf("corpus missing: %v", err)
		}
	}
	return corpus, ref
}

// cRefFlow is one flow of a capture as JoyfulJay would build it.
type cRefFlow struct {
	initIP, respIP     string
	initPort, respPort uint16
	proto              uint8
	flow               *flows.Flow
}

type cRefKey struct {
	ipA, ipB     string
	portA, portB uint16
	proto        uint8
}

// cReadCapture reads a pcap or pcapng file and builds one flow per 5-tuple
// (ports 0 for non-TCP/UDP; the initiator sends the first packet), with the
// per-packet records JoyfulJay's scapy backend would report.
func cReadCapture(t *testing.T, path string) []*cRefFlow {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := cFrames(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []*cRefFlow
	byKey := map[cRefKey]*cRefFlow{}
	for _, fr := range frames {
		pkt := gopacket.NewPacket(fr.data, fr.link, gopacket.DecodeOptions{NoCopy: true})
		rec, ok := cScapyRecord(pkt)
		if !ok {
			continue
		}
		rec.base.TS = fr.ts
		k := cRefKey{rec.src, rec.dst, rec.sport, rec.dport, rec.proto}
		if k.ipB < k.ipA || (k.ipA == k.ipB && k.portB < k.portA) {
			k.ipA, k.ipB, k.portA, k.portB = k.ipB, k.ipA, k.portB, k.portA
		}
		fl := byKey[k]
		if fl == nil {
			fl = &cRefFlow{initIP: rec.src, respIP: rec.dst, initPort: rec.sport, respPort: rec.dport,
				proto: rec.proto, flow: &flows.Flow{}}
			byKey[k] = fl
			out = append(out, fl)
		}
		rec.base.Fwd = rec.src == fl.initIP && rec.sport == fl.initPort
		f := fl.flow
		f.Packets++
		if rec.base.Fwd {
			f.PacketsFwd++
		}
		f.Base = append(f.Base, rec.base)
		f.IP = append(f.IP, rec.ip)
		f.L2 = append(f.L2, rec.l2)
		f.ICMP = append(f.ICMP, rec.icmp)
	}
	return out
}

// cFrame is one captured frame.
type cFrame struct {
	data []byte
	link layers.LinkType
	ts   float64
}

// cFrames splits a classic pcap or a pcapng file into frames. It is a
// minimal reader for the corpus (gopacket's pcapgo needs golang.org/x/net,
// which go.mod does not list); the project's own reader lives in flows.
func cFrames(raw []byte) ([]cFrame, error) {
	if len(raw) < 24 {
		return nil, errors.New("short file")
	}
	if binary.LittleEndian.Uint32(raw) == 0x0a0d0d0a {
		return cFramesNg(raw)
	}
	var bo binary.ByteOrder
	var frac float64
	switch {
	case binary.LittleEndian.Uint32(raw) == 0xa1b2c3d4:
		bo, frac = binary.LittleEndian, 1e6
	case binary.BigEndian.Uint32(raw) == 0xa1b2c3d4:
		bo, frac = binary.BigEndian, 1e6
	case binary.LittleEndian.Uint32(raw) == 0xa1b23c4d:
		bo, frac = binary.LittleEndian, 1e9
	case binary.BigEndian.Uint32(raw) == 0xa1b23c4d:
		bo, frac = binary.BigEndian, 1e9
	default:
		return nil, errors.New("not a pcap file")
	}
	link := layers.LinkType(bo.Uint32(raw[20:]) & 0xffff)
	var out []cFrame
	for off := 24; off+16 <= len(raw); {
		sec, sub, incl := bo.Uint32(raw[off:]), bo.Uint32(raw[off+4:]), int(bo.Uint32(raw[off+8:]))
		off += 16
		if off+incl > len(raw) {
			return nil, fmt.Errorf("record at %d overruns the file", off)
		}
		out = append(out, cFrame{data: raw[off : off+incl], link: link, ts: float64(sec) + float64(sub)/frac})
		off += incl
	}
	return out, nil
}

// cFramesNg reads the enhanced and simple packet blocks of a pcapng file.
func cFramesNg(raw []byte) ([]cFrame, error) {
	var (
		bo    binary.ByteOrder = binary.LittleEndian
		links []layers.LinkType
		res   []float64 // ticks per second of each interface
		out   []cFrame
	)
	for off := 0; off+12 <= len(raw); {
		typ := bo.Uint32(raw[off:])
		if typ == 0x0a0d0d0a { // section header: its byte-order magic sets the order
			if binary.BigEndian.Uint32(raw[off+8:]) == 0x1a2b3c4d {
				bo = binary.BigEndian
			} else {
				bo = binary.LittleEndian
			}
			links, res = links[:0], res[:0]
		}
		n := int(bo.Uint32(raw[off+4:]))
		if n < 12 || off+n > len(raw) {
			return nil, fmt.Errorf("bad block length %d at %d", n, off)
		}
		body := raw[off+8 : off+n-4]
		switch typ {
		case 1: // interface description
			links = append(links, layers.LinkType(bo.Uint16(body)))
			r := 1e6
			for o := 8; o+4 <= len(body); {
				code, l := bo.Uint16(body[o:]), int(bo.Uint16(body[o+2:]))
				if code == 0 || o+4+l > len(body) {
					break
				}
				if code == 9 && l >= 1 { // if_tsresol
					v := body[o+4]
					if v&0x80 != 0 {
						r = math.Exp2(float64(v & 0x7f))
					} else {
						r = math.Pow10(int(v))
					}
				}
				o += 4 + (l+3)&^3
			}
			res = append(res, r)
		case 6: // enhanced packet
			ifc := int(bo.Uint32(body))
			if ifc >= len(links) {
				return nil, fmt.Errorf("packet on unknown interface %d", ifc)
			}
			ticks := uint64(bo.Uint32(body[4:]))<<32 | uint64(bo.Uint32(body[8:]))
			capLen := int(bo.Uint32(body[12:]))
			if 20+capLen > len(body) {
				return nil, fmt.Errorf("packet at %d overruns its block", off)
			}
			out = append(out, cFrame{data: body[20 : 20+capLen], link: links[ifc], ts: float64(ticks) / res[ifc]})
		case 3: // simple packet
			if len(links) == 0 {
				return nil, errors.New("simple packet before any interface")
			}
			l := min(int(bo.Uint32(body)), len(body)-4)
			out = append(out, cFrame{data: body[4 : 4+l], link: links[0]})
		}
		off += n
	}
	return out, nil
}

// cScapyPkt is one packet's records plus its flow key fields.
type cScapyPkt struct {
	cPkt
	src, dst     string
	sport, dport uint16
	proto        uint8
}

// cScapyRecord emulates JoyfulJay's scapy backend on a decoded packet: the
// first IPv4 layer (else the first IPv6 layer), the first Ethernet and
// 802.1Q layers, and the first TCP, else UDP, else ICMPv4 layer. A first
// IPv4 fragment is decoded through to its transport header as scapy does.
// ICMP id and sequence are kept for the types whose message has them.
func cScapyRecord(pkt gopacket.Packet) (cScapyPkt, bool) {
	var p cScapyPkt
	ls := pkt.Layers()
	if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		p.src, p.dst, p.proto = ip4.SrcIP.String(), ip4.DstIP.String(), uint8(ip4.Protocol)
		p.base.IPLen = uint32(ip4.Length)
		p.ip = flows.PktIP{Version: 4, TTL: ip4.TTL, TOS: ip4.TOS, ID: uint32(ip4.Id), Flags: uint8(ip4.Flags)}
		if ip4.FragOffset == 0 && ip4.Flags&layers.IPv4MoreFragments != 0 {
			inner := gopacket.NewPacket(ip4.Payload, ip4.Protocol.LayerType(), gopacket.DecodeOptions{NoCopy: true})
			ls = append(ls, inner.Layers()...)
		}
	} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		src, _ := netip.AddrFromSlice(ip6.SrcIP)
		dst, _ := netip.AddrFromSlice(ip6.DstIP)
		p.src, p.dst, p.proto = src.String(), dst.String(), uint8(ip6.NextHeader)
		p.base.IPLen = uint32(ip6.Length) + 40
		p.ip = flows.PktIP{Version: 6, TTL: ip6.HopLimit, FlowLabel: ip6.FlowLabel, TrafficClass: ip6.TrafficClass}
	} else {
		return p, false
	}
	if eth, ok := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		p.l2.HasEth = true
		copy(p.l2.SrcMAC[:], eth.SrcMAC)
		copy(p.l2.DstMAC[:], eth.DstMAC)
		p.l2.EthType = uint16(eth.EthernetType)
	}
	if tag, ok := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
		p.l2.HasVLAN, p.l2.VLANID = true, tag.VLANIdentifier
	}
	first := func(lt gopacket.LayerType) gopacket.Layer {
		for _, l := range ls {
			if l.LayerType() == lt {
				return l
			}
		}
		return nil
	}
	if tcp, ok := first(layers.LayerTypeTCP).(*layers.TCP); ok {
		p.sport, p.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
		p.base.HasFlags = true
	} else if udp, ok := first(layers.LayerTypeUDP).(*layers.UDP); ok {
		p.sport, p.dport = uint16(udp.SrcPort), uint16(udp.DstPort)
	} else if ic, ok := first(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		typ := ic.TypeCode.Type()
		p.icmp = flows.PktICMP{IsICMP: true, Type: typ, Code: ic.TypeCode.Code()}
		if icmpHasIDSeq(typ) {
			p.icmp.ID, p.icmp.Seq = ic.Id, ic.Seq
		}
	}
	return p, true
}

// cRefRows reads JoyfulJay's CSV for a capture, keyed by the flow's
// initiator/responder endpoints and protocol.
func cRefRows(t *testing.T, path string) (rows map[cRefKey]map[string]string, n int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	head := recs[0]
	rows = map[cRefKey]map[string]string{}
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		k := cRefKey{ipA: m["src_ip"], ipB: m["dst_ip"],
			portA: uint16(cNum(m["src_port"])), portB: uint16(cNum(m["dst_port"])), proto: uint8(cNum(m["protocol"]))}
		if _, dup := rows[k]; dup {
			t.Fatalf("%s: two reference rows for %+v", path, k)
		}
		rows[k] = m
	}
	return rows, len(recs) - 1
}

func cNum(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// cRefEqual compares one of our values with a reference CSV cell.
func cRefEqual(v schema.Value, cell string) bool {
	switch v.Kind {
	case schema.Text:
		return v.S == cell
	case schema.Bool:
		switch cell {
		case "True", "1", "1.0":
			return v.I == 1
		case "False", "0", "0.0":
			return v.I == 0
		}
		return false
	case schema.Int:
		return cNum(cell) == float64(v.I)
	case schema.Real:
		want := cNum(cell)
		if want == v.F {
			return true
		}
		return math.Abs(want-v.F) <= 1e-9*math.Max(math.Abs(want), math.Abs(v.F))
	}
	return false
}

// TestReferenceGroupsC compares the mac, ip_extended, ipv6_options and icmp
// columns with JoyfulJay's rows for real captures, cell by cell.
func TestReferenceGroupsC(t *testing.T) {
	corpus, ref := cCorpus(t)
	type tally struct{ cells, equal, nondefault, nondefaultEqual int }
	total := map[string]*tally{}
	for _, id := range cRefGroups {
		total[id] = &tally{}
	}
	cfg := flows.DefaultConfig()
	for _, capture := range cRefCaptures {
		t.Run(capture, func(t *testing.T) {
			pcap := filepath.Join(corpus, capture)
			if _, err := os.Stat(pcap); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			rows, nRows := cRefRows(t, filepath.Join(ref, capture+".csv"))
			fls := cReadCapture(t, pcap)
			if len(fls) != nRows {
				t.Errorf("%d flows, reference has %d rows", len(fls), nRows)
			}
			for _, fl := range fls {
				k := cRefKey{fl.initIP, fl.respIP, fl.initPort, fl.respPort, fl.proto}
				row := rows[k]
				if row == nil {
					t.Errorf("flow %+v: no reference row", k)
					continue
				}
				for _, id := range cRefGroups {
					g := Lookup(id)
					out := make([]schema.Value, len(g.Features))
					if err := g.Compute(fl.flow, &cfg, out); err != nil {
						t.Fatalf("%s: %v", id, err)
					}
					tl := total[id]
					for i, ft := range g.Features {
						cell, ok := row[ft.Name]
						if !ok {
							t.Fatalf("reference has no column %q", ft.Name)
						}
						if cRefSkip[ft.Name] {
							continue
						}
						eq := cRefEqual(out[i], cell)
						tl.cells++
						nondefault := cell != "" && cell != "0" && cell != "0.0" && cell != "False"
						if nondefault {
							tl.nondefault++
						}
						if eq {
							tl.equal++
							if nondefault {
								tl.nondefaultEqual++
							}
							continue
						}
						t.Errorf("flow %+v: %s = %s, reference %q", k, ft.Name, out[i].String(), cell)
					}
				}
			}
		})
	}
	for _, id := range cRefGroups {
		tl := total[id]
		t.Logf("%-13s %5d/%5d cells equal, %5d/%5d non-default cells equal", id, tl.equal, tl.cells, tl.nondefaultEqual, tl.nondefault)
	}
}
