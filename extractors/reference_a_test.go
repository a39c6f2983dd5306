package extractors

import (
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// This file checks flow_meta, timing, size and tcp against JoyfulJay's own
// output rows (reference/joyfuljay/<capture>.csv beside the corpus). The
// packets are decoded here with gopacket, independently of the project's
// capture reader, and grouped the way the reference runs were made
// (terminate_on_fin_rst=False, endless timeout: one flow per 5-tuple, the
// initiator is the sender of the first packet).
//
// Every flow is computed twice:
//   - with JoyfulJay's inputs (payload = captured bytes after the transport
//     header, Ethernet padding included; protocol = the first IPv6 Next
//     Header): every column must match;
//   - with jjsql's inputs (declared payload, transport protocol): every
//     column must match except those a POLICY correction changes, which are
//     skipped only on flows where the corrected input actually differs.
//
// Floats must agree within 1e-9 relative (timestamps exactly). JoyfulJay's
// reference run used numpy's pairwise summation for sums and squared
// deviations, so standard deviations of 8 or more values can differ from
// stats.go's sequential sums in the last bits.

// referenceCapturesA are checked strictly: each must decode to exactly the
// flows of its reference file, every flow matching in every column.
var referenceCapturesA = []string{
	"gopacket/test_ethernet.pcap",
	"gopacket/test_dns.pcap",
	"joyfuljay/sample.pcap",
}

// minComparedA is the share of all reference flows that TestReferenceCorpusA
// must compare. The rest are flows this file's small decoder does not see as
// scapy does (GTP-U and MPLS payloads, IPv4 length 0 from segmentation
// offload, BSD loopback IPv6, fuzzed files, pcapng simple packet blocks).
const minComparedA = 0.98

// payloadColumnsA are the columns of these groups that depend on the
// transport payload length (POLICY: declared length, no Ethernet padding).
// corrected.tsv lists all but l7_bytes_total and tcp_fstat (bit 0x40, data
// packets), which are derived from the same counts.
var payloadColumnsA = map[string]bool{
	"payload_bytes_fwd": true, "payload_bytes_bwd": true, "payload_bytes_total": true,
	"payload_len_min": true, "payload_len_max": true, "payload_len_mean": true, "payload_len_std": true,
	"payload_len_fwd_mean": true, "payload_len_fwd_std": true,
	"payload_len_bwd_mean": true, "payload_len_bwd_std": true,
	"packets_with_payload": true, "packets_with_payload_fwd": true, "packets_with_payload_bwd": true,
	"header_only_ratio": true,
	"l7_bytes_fwd":      true, "l7_bytes_bwd": true, "l7_bytes_total": true,
	"l7_pkt_min_fwd": true, "l7_pkt_max_fwd": true, "l7_pkt_min_bwd": true, "l7_pkt_max_bwd": true,
	"tcp_data_packets": true, "tcp_ack_only_packets": true, "tcp_fstat": true,
}

// inputColumnsA restate a flow's decoded inputs: packet counts, IP bytes,
// first and last time, payload bytes. In the corpus-wide test a flow whose
// inputs differ from JoyfulJay's was decoded differently, and is not
// compared.
var inputColumnsA = []string{"total_packets", "packets_fwd", "bytes_fwd", "bytes_bwd",
	"start_time", "end_time", "payload_bytes_fwd", "payload_bytes_bwd"}

// timeColumnsA hold absolute timestamps: compared exactly, since a relative
// tolerance means seconds at epoch scale.
var timeColumnsA = map[string]bool{"start_time": true, "end_time": true, "time_first": true, "time_last": true}

var referenceGroupsA = []string{"flow_meta", "timing", "size", "tcp"}

// refPktA is one decoded packet with JoyfulJay's view of it beside ours.
type refPktA struct {
	flows.Packet
	jjPayload int // scapy's len(transport.payload): captured bytes, padding included
}

// corpusDirA returns the corpus directory, skipping (or failing under
// CI=true) when it is missing.
func corpusDirA(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus missing: %v", err)
	}
	return dir
}

// referenceDirA returns the JoyfulJay reference directory beside the corpus.
func referenceDirA(t *testing.T, corpus string) string {
	t.Helper()
	dir := filepath.Join(corpus, "..", "reference", "joyfuljay")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reference missing: %v", err)
		}
		t.Skipf("reference missing: %v", err)
	}
	return dir
}

func TestReferenceJoyfulJayA(t *testing.T) {
	corpus := corpusDirA(t)
	refDir := referenceDirA(t, corpus)
	for _, capture := range referenceCapturesA {
		t.Run(capture, func(t *testing.T) {
			pcapPath, csvPath := filepath.Join(corpus, capture), filepath.Join(refDir, capture+".csv")
			for _, p := range []string{pcapPath, csvPath} {
				if _, err := os.Stat(p); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("missing: %v", err)
					}
					t.Skipf("missing: %v", err)
				}
			}
			rows := readReferenceCSVA(t, csvPath)
			pkts := readCaptureA(t, pcapPath)
			st := compareCaptureA(t, pkts, rows, true)
			for _, pr := range st.problems {
				t.Error(pr)
			}
			if st.flows == 0 || st.flows != len(rows) {
				t.Errorf("compared %d flows, reference has %d", st.flows, len(rows))
			}
			t.Logf("%d flows; %d cells with JoyfulJay's inputs (%d bit-exact), %d with ours (%d bit-exact, %d skipped as corrected)",
				st.flows, st.jjCells, st.jjExact, st.ourCells, st.ourExact, st.ourSkipped)
		})
	}
}

// TestReferenceCorpusA compares every reference file of the corpus. Flows
// the decoder here sees differently from scapy (see inputColumnsA) are
// counted, not compared; all other flows must match in every column, and
// they must be at least minComparedA of all reference flows.
func TestReferenceCorpusA(t *testing.T) {
	corpus := corpusDirA(t)
	refDir := referenceDirA(t, corpus)
	var csvs []string
	err := filepath.WalkDir(refDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".csv") {
			csvs = append(csvs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var tot parityA
	refRows := 0
	for _, csvPath := range csvs {
		rel, _ := filepath.Rel(refDir, csvPath)
		capture := strings.TrimSuffix(rel, ".csv")
		raw, err := os.ReadFile(filepath.Join(corpus, capture))
		if err != nil {
			continue // JoyfulJay's run covers files the corpus no longer has
		}
		rows := readReferenceCSVA(t, csvPath)
		refRows += len(rows)
		recs, err := parseCaptureA(raw)
		if err != nil {
			t.Logf("%s: read %d records: %v", capture, len(recs), err)
		}
		st := compareCaptureA(t, decodeRecordsA(recs), rows, false)
		for _, pr := range st.problems {
			t.Errorf("%s: %s", capture, pr)
		}
		tot.add(st)
	}
	t.Logf("%d reference files, %d reference flows: %d compared, %d decoded differently, %d unmatched rows, %d unmatched flows",
		len(csvs), refRows, tot.flows, tot.gapFlows, tot.unmatchedRows, tot.unmatchedOur)
	t.Logf("cells with JoyfulJay's inputs: %d (%d bit-exact); with ours: %d (%d bit-exact, %d skipped as corrected)",
		tot.jjCells, tot.jjExact, tot.ourCells, tot.ourExact, tot.ourSkipped)
	if refRows == 0 || float64(tot.flows) < minComparedA*float64(refRows) {
		t.Errorf("compared %d of %d reference flows, want at least %.0f%%", tot.flows, refRows, 100*minComparedA)
	}
}

// parityA counts compared flows and cells and lists the mismatches.
type parityA struct {
	flows                       int // flows compared
	gapFlows                    int // flows whose decoded inputs differ (lenient mode)
	jjCells, jjExact            int
	ourCells, ourExact          int
	ourSkipped                  int
	unmatchedRows, unmatchedOur int
	problems                    []string
}

func (st *parityA) add(o parityA) {
	st.flows += o.flows
	st.gapFlows += o.gapFlows
	st.jjCells += o.jjCells
	st.jjExact += o.jjExact
	st.ourCells += o.ourCells
	st.ourExact += o.ourExact
	st.ourSkipped += o.ourSkipped
	st.unmatchedRows += o.unmatchedRows
	st.unmatchedOur += o.unmatchedOur
}

// compareCaptureA groups pkts into flows, pairs them with the reference rows
// by 5-tuple and compares every column of the four groups. In strict mode
// every flow and row must pair up and match; otherwise unpaired flows and
// flows whose inputs differ are only counted.
func compareCaptureA(t *testing.T, pkts []refPktA, rows []map[string]string, strict bool) parityA {
	t.Helper()
	var st parityA
	fail := func(format string, args ...any) { st.problems = append(st.problems, fmt.Sprintf(format, args...)) }
	byKey := map[string]map[string]string{}
	for _, r := range rows {
		k := strings.Join([]string{r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["protocol"]}, "|")
		if byKey[k] != nil {
			fail("reference has two rows for %s", k)
		}
		byKey[k] = r
	}
	// Group on JoyfulJay's key (protocol = first Next Header).
	jjPkts := make([]flows.Packet, len(pkts))
	for i := range pkts {
		jjPkts[i] = pkts[i].Packet
		jjPkts[i].Proto = pkts[i].FirstNH
	}
	cfg := flows.DefaultConfig()
	cfg.TerminateOnFinRst = false
	for _, idx := range splitIndexA(jjPkts) {
		jjFlow := make([]flows.Packet, len(idx))
		ourFlow := make([]flows.Packet, len(idx))
		paddingDiffers := false
		for j, i := range idx {
			jjFlow[j] = jjPkts[i]
			jjFlow[j].PayloadLen = pkts[i].jjPayload
			ourFlow[j] = pkts[i].Packet
			if pkts[i].jjPayload != pkts[i].PayloadLen {
				paddingDiffers = true
			}
		}
		fj, fo := buildFlowA(jjFlow), buildFlowA(ourFlow)
		protoDiffers := fj.Proto != fo.Proto
		k := strings.Join([]string{fj.InitAddr().String(), strconv.Itoa(int(fj.InitPort)),
			fj.RespAddr().String(), strconv.Itoa(int(fj.RespPort)), strconv.Itoa(int(fj.Proto))}, "|")
		row := byKey[k]
		if row == nil {
			st.unmatchedOur++
			if strict {
				fail("flow %s (%d packets) has no reference row", k, len(idx))
			}
			continue
		}
		delete(byKey, k)

		got := map[string]map[string]schema.Value{}
		for _, id := range referenceGroupsA {
			got["jj:"+id] = computeA(t, id, fj, &cfg)
			got["our:"+id] = computeA(t, id, fo, &cfg)
		}
		if !strict {
			same := true
			for _, col := range inputColumnsA {
				if _, err := matchCellA(col, got["jj:flow_meta"][col], row[col]); err != nil {
					same = false
				}
			}
			if !same {
				st.gapFlows++
				continue
			}
		}
		st.flows++
		for _, id := range referenceGroupsA {
			for _, feat := range Lookup(id).Features {
				want, ok := row[feat.Name]
				if !ok && feat.Name == "flow_id" {
					continue // optional in JoyfulJay, not in its default rows
				}
				if !ok {
					t.Fatalf("reference lacks column %q", feat.Name)
				}
				st.jjCells++
				exact, err := matchCellA(feat.Name, got["jj:"+id][feat.Name], want)
				if err != nil {
					fail("flow %s, JoyfulJay inputs: %v", k, err)
				} else if exact {
					st.jjExact++
				}
				if (paddingDiffers && payloadColumnsA[feat.Name]) ||
					(protoDiffers && (feat.Name == "protocol" || feat.Name == "hdr_desc" || id == "tcp")) {
					st.ourSkipped++
					continue
				}
				st.ourCells++
				exact, err = matchCellA(feat.Name, got["our:"+id][feat.Name], want)
				if err != nil {
					fail("flow %s, jjsql inputs: %v", k, err)
				} else if exact {
					st.ourExact++
				}
			}
		}
	}
	for k := range byKey {
		st.unmatchedRows++
		if strict {
			fail("reference flow %s not found in the capture", k)
		}
	}
	return st
}

// splitIndexA groups packet indexes like splitFlowsA groups packets.
func splitIndexA(pkts []flows.Packet) [][]int {
	tagged := make([]flows.Packet, len(pkts))
	copy(tagged, pkts)
	for i := range tagged {
		tagged[i].Index = uint64(i)
	}
	var out [][]int
	for _, fl := range splitFlowsA(tagged) {
		idx := make([]int, len(fl))
		for j := range fl {
			idx[j] = int(fl[j].Index)
		}
		out = append(out, idx)
	}
	return out
}

// matchCellA compares one computed value with the reference text. It
// reports whether the match is exact, or an error describing the mismatch.
func matchCellA(col string, got schema.Value, want string) (bool, error) {
	switch got.Kind {
	case schema.Text:
		if got.S != want {
			return false, fmt.Errorf("%s = %q, want %q", col, got.S, want)
		}
		return true, nil
	case schema.Bool:
		b := got.I != 0
		if (want != "True" && want != "False") || b != (want == "True") {
			return false, fmt.Errorf("%s = %v, want %s", col, b, want)
		}
		return true, nil
	case schema.Int:
		w, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(want, 64)
			if ferr != nil || f != math.Trunc(f) {
				return false, fmt.Errorf("%s: reference %q is not an integer", col, want)
			}
			w = int64(f)
		}
		if got.I != w {
			return false, fmt.Errorf("%s = %d, want %d", col, got.I, w)
		}
		return true, nil
	case schema.Real:
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return false, fmt.Errorf("%s: reference %q is not a number", col, want)
		}
		if got.F == w || (math.IsNaN(got.F) && math.IsNaN(w)) {
			return true, nil
		}
		if timeColumnsA[col] || !closeA(got.F, w, 1e-9) {
			return false, fmt.Errorf("%s = %v, want %v", col, got.F, w)
		}
		return false, nil
	}
	return false, fmt.Errorf("%s: unexpected value kind %v", col, got.Kind)
}

// readReferenceCSVA reads a reference file into one map per row.
func readReferenceCSVA(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil // JoyfulJay writes an empty file when it finds no flow
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := make(map[string]string, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// readCaptureA decodes every IP packet of a pcap or pcapng file.
func readCaptureA(t *testing.T, path string) []refPktA {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := parseCaptureA(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return decodeRecordsA(recs)
}

// decodeRecordsA decodes the IP packets among recs.
func decodeRecordsA(recs []captureRecA) []refPktA {
	var out []refPktA
	for n, r := range recs {
		p, ok := decodeRefPacketA(r.data, layers.LinkType(r.link))
		if !ok {
			continue
		}
		p.TS = r.ts
		p.Index = uint64(n + 1)
		out = append(out, p)
	}
	return out
}

// captureRecA is one captured frame.
type captureRecA struct {
	data []byte
	link uint16
	ts   float64 // the float64 nearest to the exact decimal capture time
}

// parseCaptureA reads a classic pcap or a pcapng file. (A small reader of
// its own: the test must not depend on the project's capture reader, and
// gopacket's pcapgo needs a module this build does not have.)
func parseCaptureA(b []byte) ([]captureRecA, error) {
	if len(b) < 24 {
		return nil, errors.New("file too short")
	}
	if binary.LittleEndian.Uint32(b) == 0x0A0D0D0A {
		return parsePcapngA(b)
	}
	var bo binary.ByteOrder
	var digits int
	switch m := binary.LittleEndian.Uint32(b); {
	case m == 0xa1b2c3d4:
		bo, digits = binary.LittleEndian, 6
	case m == 0xa1b23c4d:
		bo, digits = binary.LittleEndian, 9
	case bits.ReverseBytes32(m) == 0xa1b2c3d4:
		bo, digits = binary.BigEndian, 6
	case bits.ReverseBytes32(m) == 0xa1b23c4d:
		bo, digits = binary.BigEndian, 9
	default:
		return nil, fmt.Errorf("unknown magic %#x", m)
	}
	link := uint16(bo.Uint32(b[20:]) & 0xffff)
	var out []captureRecA
	for off := 24; off+16 <= len(b); {
		sec, frac, incl := bo.Uint32(b[off:]), bo.Uint32(b[off+4:]), int(bo.Uint32(b[off+8:]))
		off += 16
		if incl > len(b)-off {
			return out, fmt.Errorf("record at %d cut short", off-16)
		}
		out = append(out, captureRecA{b[off : off+incl], link, decimalTimeA(uint64(sec), uint64(frac), digits)})
		off += incl
	}
	return out, nil
}

// parsePcapngA reads the packet blocks of a pcapng file (every section).
func parsePcapngA(b []byte) ([]captureRecA, error) {
	type ifaceA struct {
		link uint16
		base uint64 // resolution: 10^digits (base 10) or 2^exp ticks per second
		pow2 bool
		exp  int
	}
	var bo binary.ByteOrder = binary.LittleEndian
	var ifaces []ifaceA
	var out []captureRecA
	for off := 0; off+12 <= len(b); {
		typ := bo.Uint32(b[off:])
		if typ == 0x0A0D0D0A { // section header: byte order from its magic
			if binary.LittleEndian.Uint32(b[off+8:]) == 0x1A2B3C4D {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			ifaces = ifaces[:0]
		}
		blen := int(bo.Uint32(b[off+4:]))
		if blen < 12 || blen > len(b)-off {
			return out, fmt.Errorf("bad block length %d at %d", blen, off)
		}
		body := b[off+8 : off+blen-4]
		switch typ {
		case 1: // interface description
			ifc := ifaceA{link: bo.Uint16(body), exp: 6}
			for o := 8; o+4 <= len(body); {
				code, olen := bo.Uint16(body[o:]), int(bo.Uint16(body[o+2:]))
				if code == 0 || o+4+olen > len(body) {
					break
				}
				if code == 9 && olen >= 1 { // if_tsresol
					v := body[o+4]
					ifc.pow2, ifc.exp = v&0x80 != 0, int(v&0x7f)
				}
				o += 4 + (olen+3)&^3
			}
			ifaces = append(ifaces, ifc)
		case 6, 2: // enhanced packet, obsolete packet
			var id int
			var hi, lo uint32
			var capLen int
			var data []byte
			if typ == 6 {
				id = int(bo.Uint32(body))
				hi, lo, capLen = bo.Uint32(body[4:]), bo.Uint32(body[8:]), int(bo.Uint32(body[12:]))
				data = body[20:]
			} else {
				id = int(bo.Uint16(body))
				hi, lo, capLen = bo.Uint32(body[4:]), bo.Uint32(body[8:]), int(bo.Uint32(body[12:]))
				data = body[20:]
			}
			if id >= len(ifaces) || capLen > len(data) {
				return out, fmt.Errorf("bad packet block at %d", off)
			}
			ifc := ifaces[id]
			ticks := uint64(hi)<<32 | uint64(lo)
			var ts float64
			if ifc.pow2 {
				ts, _ = new(big.Rat).SetFrac(new(big.Int).SetUint64(ticks), new(big.Int).Lsh(big.NewInt(1), uint(ifc.exp))).Float64()
			} else {
				div := uint64(1)
				for i := 0; i < ifc.exp; i++ {
					div *= 10
				}
				ts = decimalTimeA(ticks/div, ticks%div, ifc.exp)
			}
			out = append(out, captureRecA{data[:capLen], ifc.link, ts})
		case 3: // simple packet: interface 0, no time
			if len(ifaces) == 0 {
				return out, fmt.Errorf("simple packet block before an interface at %d", off)
			}
			out = append(out, captureRecA{body[4:], ifaces[0].link, 0})
		}
		off += blen
	}
	return out, nil
}

// decimalTimeA returns the float64 nearest to sec + frac/10^digits.
func decimalTimeA(sec, frac uint64, digits int) float64 {
	f, err := strconv.ParseFloat(fmt.Sprintf("%d.%0*d", sec, digits, frac), 64)
	if err != nil {
		panic(err)
	}
	return f
}

// decodeRefPacketA fills a packet the way JoyfulJay's scapy backend sees it:
// the first IPv4 layer (else the first IPv6 layer), the first TCP layer (else
// UDP, else ICMPv4). ok is false for frames without IP.
func decodeRefPacketA(data []byte, link layers.LinkType) (refPktA, bool) {
	var p refPktA
	pkt := gopacket.NewPacket(data, link, gopacket.NoCopy)
	ls := pkt.Layers()
	// gopacket leaves a first IPv4 fragment's transport header undecoded;
	// scapy decodes it.
	for i, l := range ls {
		ip, ok := l.(*layers.IPv4)
		if !ok || ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments == 0 || i+1 >= len(ls) {
			continue
		}
		if ls[i+1].LayerType() == gopacket.LayerTypeFragment {
			sub := gopacket.NewPacket(ls[i+1].LayerContents(), ip.Protocol.LayerType(), gopacket.NoCopy)
			ls = append(ls[:i+1:i+1], sub.Layers()...)
		}
		break
	}
	ipAt, trAt := -1, -1
	for i, l := range ls {
		switch l.LayerType() {
		case layers.LayerTypeIPv4:
			if ipAt < 0 || ls[ipAt].LayerType() != layers.LayerTypeIPv4 {
				ipAt = i
			}
		case layers.LayerTypeIPv6:
			if ipAt < 0 {
				ipAt = i
			}
		case layers.LayerTypeEthernet:
			p.HasEth = true
		}
	}
	if ipAt < 0 {
		return p, false
	}
	for _, want := range []gopacket.LayerType{layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeICMPv4} {
		for i, l := range ls {
			if l.LayerType() == want {
				trAt = i
				break
			}
		}
		if trAt >= 0 {
			break
		}
	}
	// Header bytes before the transport payload (or the IP payload).
	hdrEnd := ipAt
	if trAt >= 0 {
		hdrEnd = trAt
	}
	before, ipToPayload := 0, 0
	for i := 0; i <= hdrEnd; i++ {
		n := len(ls[i].LayerContents())
		before += n
		if i >= ipAt {
			ipToPayload += n
		}
	}
	switch ip := ls[ipAt].(type) {
	case *layers.IPv4:
		p.IPVersion = 4
		copy(p.SrcIP[:], ip.SrcIP.To4())
		copy(p.DstIP[:], ip.DstIP.To4())
		p.IPLen = int(ip.Length)
		p.FirstNH = uint8(ip.Protocol)
	case *layers.IPv6:
		p.IPVersion = 6
		copy(p.SrcIP[:], ip.SrcIP.To16())
		copy(p.DstIP[:], ip.DstIP.To16())
		p.IPLen = int(ip.Length) + 40
		p.FirstNH = uint8(ip.NextHeader)
	}
	p.Proto = p.FirstNH
	if trAt >= 0 {
		switch tr := ls[trAt].(type) {
		case *layers.TCP:
			p.Proto = 6
			p.HasTCP = true
			p.SrcPort, p.DstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
			for _, fl := range []struct {
				on  bool
				bit uint8
			}{{tr.FIN, flows.FIN}, {tr.SYN, flows.SYN}, {tr.RST, flows.RST}, {tr.PSH, flows.PSH},
				{tr.ACK, flows.ACK}, {tr.URG, flows.URG}, {tr.ECE, flows.ECE}, {tr.CWR, flows.CWR}} {
				if fl.on {
					p.TCPFlags |= fl.bit
				}
			}
		case *layers.UDP:
			p.Proto = 17
			p.HasUDP = true
			p.SrcPort, p.DstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
		case *layers.ICMPv4:
			p.Proto = 1
			p.HasICMP = true
		}
	}
	p.PayloadLen = max(p.IPLen-ipToPayload, 0)
	p.jjPayload = max(len(data)-before, 0)
	return p, true
}
