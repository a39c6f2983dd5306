package extractors

import (
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// bGroups are the groups the reference test compares.
var bGroups = []string{"tcp_sequence", "tcp_window", "tcp_options", "tcp_mptcp", "tcp_rtt", "tcp_fingerprint"}

// bCorrected are the columns of bGroups where jjsql is correct instead of
// matching JoyfulJay (POLICY.md §2). They are computed but not compared.
// is_mptcp is derived from the same MPTCP options as the mptcp_* columns.
var bCorrected = map[string]bool{
	"tcp_seq_fwd_ooo": true, "tcp_seq_bwd_ooo": true, "tcp_total_ooo": true,
	"tcp_seq_fwd_gaps": true, "tcp_seq_bwd_gaps": true,
	"tcp_ack_fwd_dup": true, "tcp_ack_bwd_dup": true, "tcp_total_dup_acks": true,
	"tcp_seq_fwd_bytes_sent": true, "tcp_seq_bwd_bytes_sent": true,
	"tcp_seq_fwd_retrans": true, "tcp_seq_bwd_retrans": true,
	"tcp_total_retrans": true, "tcp_retrans_ratio": true,
	"tcp_sack_blocks_total": true,
	"mptcp_detected":        true, "mptcp_capable_fwd": true, "mptcp_capable_bwd": true,
	"mptcp_option_count": true, "mptcp_stat": true, "is_mptcp": true,
}

// bReferenceCaptures are the captures compared with JoyfulJay's rows, as
// paths under the corpus directory.
var bReferenceCaptures = []string{"gopacket/test_ethernet.pcap", "joyfuljay/sample.pcap"}

// bCorpusDir returns the corpus directory (JJ_CORPUS, else ../../shared/corpus
// from this package's directory). Without it the test is skipped, or fails
// when CI=true.
func bCorpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus %s missing: %v", dir, err)
		}
		t.Skipf("corpus %s missing: %v", dir, err)
	}
	return dir
}

func TestReferenceTCPGroups(t *testing.T) {
	corpus := bCorpusDir(t)
	refDir := filepath.Join(corpus, "..", "reference", "joyfuljay")
	type tally struct{ cells, equal int }
	parity := map[string]*tally{}
	for _, g := range bGroups {
		parity[g] = &tally{}
	}
	for _, capture := range bReferenceCaptures {
		t.Run(capture, func(t *testing.T) {
			pcapPath := filepath.Join(corpus, capture)
			refPath := filepath.Join(refDir, capture+".csv")
			for _, p := range []string{pcapPath, refPath} {
				if _, err := os.Stat(p); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("%v", err)
					}
					t.Skipf("%v", err)
				}
			}
			fl, err := bReadFlows(pcapPath)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := bReadCSV(refPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(fl) {
				t.Errorf("%d flows, reference has %d rows", len(fl), len(rows))
			}
			byKey := map[string]*bRefFlow{}
			for _, f := range fl {
				byKey[f.key] = f
			}
			for _, row := range rows {
				key := row["src_ip"] + "|" + row["src_port"] + "|" + row["dst_ip"] + "|" + row["dst_port"] + "|" + row["protocol"]
				f := byKey[key]
				if f == nil {
					t.Errorf("reference flow %s not found", key)
					continue
				}
				for _, id := range bGroups {
					got := bRun(t, id, f.flow)
					for _, feat := range Lookup(id).Features {
						want, ok := row[feat.Name]
						if bCorrected[feat.Name] {
							if ok && !bRefEqual(got[feat.Name], want) {
								t.Logf("flow %s: corrected %s = %s, JoyfulJay %s", key, feat.Name, got[feat.Name], want)
							}
							continue
						}
						if !ok {
							t.Errorf("reference has no column %s", feat.Name)
							continue
						}
						parity[id].cells++
						if bRefEqual(got[feat.Name], want) {
							parity[id].equal++
						} else {
							t.Errorf("flow %s: %s = %s, JoyfulJay %s", key, feat.Name, got[feat.Name], want)
						}
					}
				}
			}
		})
	}
	for _, id := range bGroups {
		p := parity[id]
		t.Logf("parity %-16s %d/%d cells", id, p.equal, p.cells)
	}
}

// bRefEqual compares a computed value with a CSV cell: integers exactly,
// floats within 1e-9 relative, text exactly.
func bRefEqual(v schema.Value, cell string) bool {
	switch v.Kind {
	case schema.Int, schema.Bool:
		if i, err := strconv.ParseInt(cell, 10, 64); err == nil {
			return i == v.I
		}
		switch cell {
		case "True":
			return v.I == 1
		case "False":
			return v.I == 0
		}
		f, err := strconv.ParseFloat(cell, 64) // pandas may write an int column as float
		return err == nil && f == float64(v.I)
	case schema.Real:
		f, err := strconv.ParseFloat(cell, 64)
		return err == nil && bClose(v.F, f, 1e-9)
	case schema.Text:
		return v.S == cell
	}
	return false
}

// bReadCSV returns the rows of a JoyfulJay CSV as column-name maps.
func bReadCSV(path string) ([]map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := make(map[string]string, len(rec))
		for i, c := range rec {
			if i < len(header) {
				m[header[i]] = c
			}
		}
		rows = append(rows, m)
	}
}

// bRefFlow is one flow of a capture: its key in the reference's terms
// (initiator ip|port|responder ip|port|protocol) and its records.
type bRefFlow struct {
	key  string
	init bEndpoint
	flow *flows.Flow
}

// bEndpoint is one side of a flow key.
type bEndpoint struct {
	ip   string
	port uint16
}

// bReadFlows reads a classic pcap file into one flow per 5-tuple (no
// timeouts, no FIN/RST split), with the initiator the sender of the first
// packet, as JoyfulJay does with terminate_on_fin_rst off and an infinite
// timeout. Frames without an IP layer are dropped.
func bReadFlows(path string) ([]*bRefFlow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rd, err := bNewPcapReader(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	link := rd.link

	type canon struct {
		a, b  bEndpoint
		proto uint8
	}
	index := map[canon]*bRefFlow{}
	var out []*bRefFlow
	for {
		frame, ts, err := rd.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		pkt := gopacket.NewPacket(frame, link, gopacket.Default)
		var (
			srcIP, dstIP string
			proto        uint8
			ipLen        int
			hdrEnd       int // IP header bytes, IPv6 extension headers included
			ip           flows.PktIP
		)
		if l := pkt.Layer(layers.LayerTypeIPv4); l != nil {
			v4 := l.(*layers.IPv4)
			srcIP, dstIP, proto = v4.SrcIP.String(), v4.DstIP.String(), uint8(v4.Protocol)
			ipLen, hdrEnd = int(v4.Length), int(v4.IHL)*4
			ip = flows.PktIP{Version: 4, TTL: v4.TTL, TOS: v4.TOS, ID: uint32(v4.Id), Flags: uint8(v4.Flags)}
		} else if l := pkt.Layer(layers.LayerTypeIPv6); l != nil {
			v6 := l.(*layers.IPv6)
			srcIP, dstIP, proto = v6.SrcIP.String(), v6.DstIP.String(), uint8(v6.NextHeader)
			ipLen, hdrEnd = int(v6.Length)+40, 40
			ip = flows.PktIP{Version: 6, TTL: v6.HopLimit, FlowLabel: v6.FlowLabel, TrafficClass: v6.TrafficClass}
			if tl := pkt.Layer(layers.LayerTypeTCP); tl != nil {
				// extension headers: the distance from the IPv6 header to TCP
				hdrEnd = cap(v6.Contents) - cap(tl.LayerContents())
			}
		} else {
			continue
		}

		base := flows.PktBase{TS: ts, IPLen: uint32(ipLen)}
		var tcp flows.PktTCP
		var sport, dport uint16
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if v4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok && tl == nil &&
			v4.Protocol == layers.IPProtocolTCP && v4.FragOffset == 0 && v4.Flags&layers.IPv4MoreFragments != 0 {
			// gopacket leaves a first fragment undecoded; JoyfulJay reads its
			// TCP header.
			var first layers.TCP
			if first.DecodeFromBytes(v4.Payload, gopacket.NilDecodeFeedback) == nil {
				tl = &first
			}
		}
		if tl != nil {
			sport, dport = uint16(tl.SrcPort), uint16(tl.DstPort)
			base.HasFlags = true
			base.Flags = bTCPFlags(tl)
			if pl := ipLen - hdrEnd - int(tl.DataOffset)*4; pl > 0 {
				base.Payload = uint32(pl)
			}
			tcp = bTCPRecord(tl)
		} else if l := pkt.Layer(layers.LayerTypeUDP); l != nil {
			ul := l.(*layers.UDP)
			sport, dport = uint16(ul.SrcPort), uint16(ul.DstPort)
			if pl := int(ul.Length) - 8; pl > 0 {
				base.Payload = uint32(pl)
			}
		}

		s, d := bEndpoint{srcIP, sport}, bEndpoint{dstIP, dport}
		k := canon{s, d, proto}
		if d.ip < s.ip || (d.ip == s.ip && d.port < s.port) {
			k = canon{d, s, proto}
		}
		rf := index[k]
		if rf == nil {
			rf = &bRefFlow{
				key:  fmt.Sprintf("%s|%d|%s|%d|%d", srcIP, sport, dstIP, dport, proto),
				init: s,
				flow: &flows.Flow{Proto: proto, InitPort: sport, RespPort: dport, First: base.TS},
			}
			index[k] = rf
			out = append(out, rf)
		}
		f := rf.flow
		base.Fwd = s == rf.init
		f.Packets++
		if base.Fwd {
			f.PacketsFwd++
		}
		f.Last = base.TS
		f.Base = append(f.Base, base)
		f.TCP = append(f.TCP, tcp)
		f.IP = append(f.IP, ip)
	}
}

// bPcapReader reads classic pcap files (either byte order, micro- or
// nanosecond resolution). pcapgo would need golang.org/x/net, which go.sum
// does not list yet.
type bPcapReader struct {
	data  []byte
	order binary.ByteOrder
	nano  bool
	link  layers.LinkType
}

func bNewPcapReader(data []byte) (*bPcapReader, error) {
	if len(data) < 24 {
		return nil, errors.New("short pcap header")
	}
	r := &bPcapReader{data: data[24:]}
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4:
		r.order = binary.LittleEndian
	case 0xa1b23c4d:
		r.order, r.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		r.order = binary.BigEndian
	case 0x4d3cb2a1:
		r.order, r.nano = binary.BigEndian, true
	default:
		return nil, errors.New("not a classic pcap file")
	}
	r.link = layers.LinkType(r.order.Uint32(data[20:]) & 0xffff)
	return r, nil
}

// next returns the next record and its time: the float64 nearest to the
// decimal sec.frac, as JoyfulJay's float(pkt.time).
func (r *bPcapReader) next() ([]byte, float64, error) {
	if len(r.data) == 0 {
		return nil, 0, io.EOF
	}
	if len(r.data) < 16 {
		return nil, 0, io.ErrUnexpectedEOF
	}
	sec, frac, capLen := r.order.Uint32(r.data), r.order.Uint32(r.data[4:]), int(r.order.Uint32(r.data[8:]))
	if len(r.data) < 16+capLen {
		return nil, 0, io.ErrUnexpectedEOF
	}
	frame := r.data[16 : 16+capLen]
	r.data = r.data[16+capLen:]
	text := fmt.Sprintf("%d.%06d", sec, frac)
	if r.nano {
		text = fmt.Sprintf("%d.%09d", sec, frac)
	}
	ts, err := strconv.ParseFloat(text, 64)
	return frame, ts, err
}

func bTCPFlags(t *layers.TCP) uint8 {
	var f uint8
	for _, b := range []struct {
		set bool
		bit uint8
	}{
		{t.FIN, flows.FIN}, {t.SYN, flows.SYN}, {t.RST, flows.RST}, {t.PSH, flows.PSH},
		{t.ACK, flows.ACK}, {t.URG, flows.URG}, {t.ECE, flows.ECE}, {t.CWR, flows.CWR},
	} {
		if b.set {
			f |= b.bit
		}
	}
	return f
}

// bTCPRecord fills a TCP record from the parsed header; a repeated option
// kind overwrites the earlier one.
func bTCPRecord(t *layers.TCP) flows.PktTCP {
	r := flows.PktTCP{Seq: t.Seq, Ack: t.Ack, Window: t.Window, OptFlags: flows.OptIsTCP}
	for _, o := range t.Options {
		d := o.OptionData
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(d) == 2 {
				r.MSS = uint16(d[0])<<8 | uint16(d[1])
				r.OptFlags |= flows.OptMSS
			}
		case layers.TCPOptionKindWindowScale:
			if len(d) == 1 {
				r.WS = d[0]
				r.OptFlags |= flows.OptWS
			}
		case layers.TCPOptionKindSACKPermitted:
			r.OptFlags |= flows.OptSACKOK
		case layers.TCPOptionKindSACK:
			r.SACKBlocks += uint8((int(o.OptionLength) - 2) / 8)
		case layers.TCPOptionKindTimestamps:
			if len(d) == 8 {
				r.TSVal = uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
				r.TSEcr = uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])
				r.OptFlags |= flows.OptTS
			}
		case 30: // MPTCP
			r.MPTCPCount++
			if len(d) > 0 {
				r.MPTCPSub |= 1 << (d[0] >> 4)
			}
		}
	}
	return r
}
