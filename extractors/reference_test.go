package extractors

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// This file compares every registered group with JoyfulJay's own output
// rows: <corpus>/../reference/joyfuljay/<capture>.csv, made by the Python
// JoyfulJay with terminate_on_fin_rst=False and an endless flow timeout.
// The captures are read with the project's reader and assembler under the
// same settings, each reference row is paired with our flow of the same
// (protocol, sorted endpoints) key as ../shared/tools/conformance.py does,
// and every column of every group is compared cell by cell, except:
//   - flow_id, which JoyfulJay's default rows lack;
//   - the columns of <corpus>/../spec/corrected.tsv, where POLICY.md asks
//     jjsql to be correct instead of matching JoyfulJay (refPayloadOnly
//     ones are still compared on flows the correction does not touch);
//   - refPayloadColumns on flows where JoyfulJay's payload input differs
//     from the corrected one: a padded frame or a payload cut short
//     (docs/PARITY.md: consequences of the declared-payload correction).
//
// Floats must agree within refRelTol relative, absolute timestamps exactly.
// A mismatching cell fails the test unless its capture is one of
// refKnownCaptures. Reference flows without a twin (tunnels, IPv6 extension
// headers, fragments, fuzzed files: docs/PARITY.md) are logged and allowed
// up to refMaxTwinless of all reference flows.

// refRelTol is the relative tolerance of float cells. JoyfulJay's run used
// numpy's pairwise sums; stats.go sums left to right, so standard deviations
// may differ in the last bits.
const refRelTol = 1e-9

// refMaxTwinless is the share of reference flows allowed to have no twin.
const refMaxTwinless = 0.01

// refTimeColumns hold absolute timestamps: compared exactly, since a
// relative tolerance would mean seconds at epoch scale.
var refTimeColumns = map[string]bool{"start_time": true, "end_time": true}

// refPayloadColumns are computed from the declared transport payload
// (corrected) but are not in corrected.tsv themselves (docs/PARITY.md). They
// are skipped on flows where JoyfulJay's payload (the captured bytes after
// the transport header) differs from the declared one: a frame with link
// padding, which JoyfulJay counts, or a payload the capture cut short (snap
// length, or a length field beyond the captured bytes), which JoyfulJay
// counts only as far as captured.
var refPayloadColumns = map[string]bool{
	"l7_bytes_total":   true,
	"tcp_fstat":        true, // bit 0x40: any data packet
	"tcp_rtt_ack_min":  true,
	"tcp_rtt_ack_max":  true,
	"tcp_rtt_ack_mean": true,
	"is_mptcp":         true,
}

// refPayloadOnly are columns of corrected.tsv whose only correction is the
// declared payload (link padding never counts, a cut payload keeps its
// declared length): on flows with neither padded frames nor cut payloads
// they must equal JoyfulJay's (subtest "payload").
var refPayloadOnly = map[string]bool{
	"payload_bytes_total": true,
	// padding: header overhead per burst
	"burst_padding_ratio": true, "burst_overhead_bytes": true, "avg_burst_payload_efficiency": true,
	// entropy: the payload sample
	"entropy_payload": true, "entropy_initiator": true, "entropy_responder": true, "entropy_ratio": true,
	"byte_distribution_uniformity": true, "printable_ratio": true, "null_ratio": true, "high_byte_ratio": true,
	"payload_bytes_sampled": true,
}

// refKnownCaptures are the captures where docs/PARITY.md documents cells that
// differ from JoyfulJay; their mismatches are counted and logged, not failed.
// Patterns are matched with path.Match against the capture's path in the
// corpus.
var refKnownCaptures = []struct{ pattern, reason string }{
	{"ndpi/pcap/fuzz-2020-02-16-11740.pcap", "11 frames with an IPv4 EtherType but a version nibble other than 4 are dropped (tshark: Bogus IPv4 version); scapy decodes them"},
	{"ndpi/pcap/ip_fragmented_garbage.pcap", "non-first IP fragments join their datagram's flow"},
	{"wireshark/afs.cap", "non-first IP fragments join their datagram's flow"},
	{"wireshark/mpls-basic.cap", "jjsql decodes the MPLS-labelled direction, JoyfulJay drops it"},
	{"wireshark/Obsolete_Packets.cap", "IPv6 hop-by-hop packets (JoyfulJay: protocol 0) join the ICMPv6 flow of the same endpoints"},
	{"pcapng/*test012*", "Simple Packet Blocks have no timestamp: jjsql 0, JoyfulJay its own wall clock"},
	{"pcapng/*test101*", "Simple Packet Blocks have no timestamp: jjsql 0, JoyfulJay its own wall clock"},
	{"pcapng/*test102*", "Simple Packet Blocks have no timestamp: jjsql 0, JoyfulJay its own wall clock"},
	{"pcapng/*test201*", "Simple Packet Blocks have no timestamp: jjsql 0, JoyfulJay its own wall clock"},
	{"pcapng/*test202*", "Simple Packet Blocks have no timestamp: jjsql 0, JoyfulJay its own wall clock"},
	{"pcapng/*test901*", "pcapng section of major version 2: reading stops there, as in tshark and libpcap; scapy reads it and the section after it"},
}

// refKnown returns the reason capture's mismatches are allowed, or "".
func refKnown(capture string) string {
	for _, k := range refKnownCaptures {
		if ok, _ := path.Match(k.pattern, capture); ok {
			return k.reason
		}
	}
	return ""
}

// refDirs returns the corpus and reference directories and the corrected
// columns, skipping the test (failing under CI=true) when one is missing.
func refDirs(t *testing.T) (corpus, reference string, corrected map[string]bool) {
	t.Helper()
	corpus = os.Getenv("JJ_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "shared", "corpus")
	}
	reference = filepath.Join(corpus, "..", "reference", "joyfuljay")
	spec := filepath.Join(corpus, "..", "spec", "corrected.tsv")
	for _, p := range []string{corpus, reference, spec} {
		if _, err := os.Stat(p); err != nil {
			skipOrFail(t, "reference data missing: %v", err)
		}
	}
	tab, err := readRefTable(spec, '\t')
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(tab.head, "column_name")
	if col < 0 {
		t.Fatalf("%s: no column_name column", spec)
	}
	corrected = map[string]bool{}
	for _, r := range tab.rows {
		corrected[r[col]] = true
	}
	if len(corrected) == 0 {
		t.Fatalf("%s: no corrected columns", spec)
	}
	return corpus, reference, corrected
}

// refTable is a CSV or TSV file: its header and rows.
type refTable struct {
	head []string
	rows [][]string
}

// readRefTable reads a CSV (comma ',') or TSV file. An empty file has no
// header and no rows (JoyfulJay writes one when it finds no flow).
func readRefTable(name string, comma rune) (refTable, error) {
	fh, err := os.Open(name)
	if err != nil {
		return refTable{}, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		return refTable{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return refTable{}, nil
	}
	return refTable{head: recs[0], rows: recs[1:]}, nil
}

// refKey is conformance.py's flow key: protocol and the two endpoints in
// sorted order, addresses in canonical text.
func refKey(proto, ipA, portA, ipB, portB string) string {
	a, b := refEndpoint(ipA, portA), refEndpoint(ipB, portB)
	if b < a {
		a, b = b, a
	}
	return strings.TrimSpace(proto) + " " + a + " " + b
}

func refEndpoint(ip, port string) string {
	ip = strings.Trim(strings.TrimSpace(ip), "[]")
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.String()
	}
	return ip + "|" + strings.TrimSpace(port)
}

// refFlowKey is the key of one of our flows.
func refFlowKey(f *flows.Flow) string {
	return refKey(strconv.Itoa(int(f.Proto)), f.InitAddr().String(), strconv.Itoa(int(f.InitPort)),
		f.RespAddr().String(), strconv.Itoa(int(f.RespPort)))
}

// refOurFlow is one flow we assembled, and whether one of its packets has a
// padded frame or a cut payload (refPadded, refCut).
type refOurFlow struct {
	f           *flows.Flow
	padded, cut bool
}

// refPadded reports whether p's frame carries bytes after its IP datagram
// (link padding of a short frame, or a captured FCS), which JoyfulJay counts
// as transport payload. Frames are judged on the link types whose header
// length is known from p: Ethernet carrying IP directly or behind VLAN tags
// (14 bytes plus 4 per tag), Linux cooked captures (SLL 16, SLL2 20 bytes).
func refPadded(p *flows.Packet) bool {
	if p.Tunnel != flows.TunnelNone {
		return false
	}
	var link int
	switch p.LinkType {
	case 1: // Ethernet
		switch p.EthType {
		case 0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100:
			link = 14 + 4*int(p.VLANCount)
		default:
			return false // MPLS, PPPoE...: header length unknown here
		}
	case 113: // Linux cooked capture
		link = 16
	case 276: // Linux cooked capture v2
		link = 20
	default:
		return false
	}
	return p.CapLen > link+p.IPLen
}

// refCut reports whether the capture holds less of p's payload than its
// headers declare (snap length, or a length field beyond the captured
// bytes): JoyfulJay counts only the captured bytes.
func refCut(p *flows.Packet) bool { return len(p.Payload) != p.PayloadLen }

// readRefFlows reads a capture with the project's reader and assembles it
// as the reference run did. A damaged record ending the file (a
// *flows.FormatError) keeps what was read before it and is returned as note.
func readRefFlows(name string, cfg flows.Config, needs flows.Needs) (out []refOurFlow, note error, err error) {
	files, err := flows.ExpandPath(name)
	if err != nil {
		return nil, nil, err
	}
	if len(files) != 1 {
		return nil, nil, fmt.Errorf("%s: expands to %d files", name, len(files))
	}
	src, err := flows.OpenFile(files[0], 0)
	if err != nil {
		var fe *flows.FormatError
		if errors.As(err, &fe) {
			return nil, err, nil // not a capture jjsql reads: every reference flow is twinless
		}
		return nil, nil, err
	}
	defer src.Close()
	Configure(&cfg)
	asm := flows.NewAssembler(cfg, needs)
	padded, cut := map[*flows.Flow]bool{}, map[*flows.Flow]bool{}
	var p flows.Packet
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var fe *flows.FormatError
			if !errors.As(err, &fe) {
				return nil, nil, err
			}
			note = err
			break
		}
		f, _ := asm.Add(&p)
		if f != nil && refPadded(&p) {
			padded[f] = true
		}
		if f != nil && refCut(&p) {
			cut[f] = true
		}
	}
	asm.Flush()
	for f := asm.Pop(); f != nil; f = asm.Pop() {
		out = append(out, refOurFlow{f: f, padded: padded[f], cut: cut[f]})
	}
	return out, note, nil
}

// refCell compares one computed value with a reference cell. equal means
// within tolerance; exact means bit for bit (or the same text).
func refCell(col string, got schema.Value, want string) (equal, exact bool) {
	switch got.Kind {
	case schema.Text:
		return got.S == want, got.S == want
	case schema.Bool:
		// pandas writes a bool column as True/False, or as 0/1 when JoyfulJay
		// stored an int
		var w bool
		switch want {
		case "True", "1", "1.0":
			w = true
		case "False", "0", "0.0":
		default:
			return false, false
		}
		return (got.I != 0) == w, (got.I != 0) == w
	case schema.Int:
		w, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			// pandas writes an int column holding a NaN as floats
			f, ferr := strconv.ParseFloat(want, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return false, false
			}
			w = int64(f)
		}
		return got.I == w, got.I == w
	case schema.Real:
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return false, false
		}
		if got.F == w || (math.IsNaN(got.F) && math.IsNaN(w)) {
			return true, true
		}
		if refTimeColumns[col] {
			return false, false
		}
		return closeA(got.F, w, refRelTol), false
	}
	return false, false
}

// refGroupTally counts one group's cells over the corpus.
type refGroupTally struct {
	cells      int // compared
	exact      int // compared and bit-exact
	corrected  int // skipped: corrected.tsv
	payload    int // skipped: refPayloadColumns on a flow with a padded frame or a cut payload
	mismatches []refMismatch
}

func (g *refGroupTally) add(o *refGroupTally) {
	g.cells += o.cells
	g.exact += o.exact
	g.corrected += o.corrected
	g.payload += o.payload
	g.mismatches = append(g.mismatches, o.mismatches...)
}

// refMismatch is one cell that differs from JoyfulJay.
type refMismatch struct {
	capture, key, column, want, got string
	known                           bool // the capture is one of refKnownCaptures
}

// refResult is the outcome of one capture.
type refResult struct {
	capture     string
	refFlows    int
	ourFlows    int
	twins       int
	paddedFlows int // twins with a padded frame
	cutFlows    int // twins with a cut payload
	// cells of refPayloadOnly columns (corrected) on twins with neither
	// padded frames nor cut payloads, where they must equal JoyfulJay's
	payloadChecked int
	payloadDiffer  []refMismatch
	twinless       []string // keys of reference flows without a twin
	note           error    // the reader stopped at a damaged record (or cannot read the file)
	errs           []string // problems that fail the test whatever the capture
	groups         []refGroupTally
}

// compareRefCapture compares one capture with its reference rows.
func compareRefCapture(groups []*Group, capture, pcapPath, csvPath string, corrected map[string]bool) refResult {
	res := refResult{capture: capture, groups: make([]refGroupTally, len(groups))}
	fail := func(format string, args ...any) { res.errs = append(res.errs, fmt.Sprintf(format, args...)) }
	tab, err := readRefTable(csvPath, ',')
	if err != nil {
		fail("%v", err)
		return res
	}
	res.refFlows = len(tab.rows)
	cfg := conformanceConfig()
	var needs flows.Needs
	for _, g := range groups {
		needs |= g.Needs | g.CrossNeeds
	}
	ours, note, err := readRefFlows(pcapPath, cfg, needs)
	if err != nil {
		fail("read: %v", err)
		return res
	}
	res.note = note
	res.ourFlows = len(ours)
	if len(tab.rows) == 0 {
		return res
	}

	col := map[string]int{}
	for i, h := range tab.head {
		col[h] = i
	}
	for _, c := range []string{"protocol", "src_ip", "src_port", "dst_ip", "dst_port"} {
		if _, ok := col[c]; !ok {
			fail("%s: no %s column", csvPath, c)
			return res
		}
	}
	byKey := map[string][]refOurFlow{}
	for _, o := range ours {
		k := refFlowKey(o.f)
		byKey[k] = append(byKey[k], o)
	}
	// The cross-flow group sees every flow of the capture: where the two
	// tools' flow sets differ (flows keyed differently by POLICY, link types
	// only jjsql decodes), its values legitimately differ.
	x := NewCrossFlow(&cfg)
	for _, o := range ours {
		x.Add(o.f)
	}
	x.Finish()
	graphDiffers := len(ours) != len(tab.rows)
	{
		seen := map[string]int{}
		for _, row := range tab.rows {
			k := refKey(row[col["protocol"]], row[col["src_ip"]], row[col["src_port"]], row[col["dst_ip"]], row[col["dst_port"]])
			if seen[k]++; seen[k] > len(byKey[k]) {
				graphDiffers = true
			}
		}
	}
	used := map[string]int{}
	known := refKnown(capture) != ""
	outs := make([][]schema.Value, len(groups))
	for i, g := range groups {
		outs[i] = make([]schema.Value, len(g.Features))
	}
	for _, row := range tab.rows {
		cell := func(c string) string { return row[col[c]] }
		k := refKey(cell("protocol"), cell("src_ip"), cell("src_port"), cell("dst_ip"), cell("dst_port"))
		cands := byKey[k]
		if used[k] >= len(cands) {
			res.twinless = append(res.twinless, k)
			continue
		}
		o := cands[used[k]]
		used[k]++
		res.twins++
		if o.padded {
			res.paddedFlows++
		}
		if o.cut {
			res.cutFlows++
		}
		for gi, g := range groups {
			out := outs[gi]
			var err error
			if g.CrossFlow() {
				err = g.ComputeCross(o.f, &cfg, x, out)
			} else {
				err = g.Compute(o.f, &cfg, out)
			}
			if err != nil {
				fail("flow %s: %s: Compute: %v", k, g.ID, err)
				continue
			}
			tl := &res.groups[gi]
			for i, ft := range g.Features {
				if _, jj := schema.Lookup(ft.Name); !jj {
					continue // our column (flow_id, ja3 for ja3_hash, ja4): not in JoyfulJay's rows
				}
				if out[i].Kind != ft.Type {
					fail("%s.%s: value kind %v, declared %v", g.ID, ft.Name, out[i].Kind, ft.Type)
				}
				if corrected[ft.Name] {
					tl.corrected++
					if refPayloadOnly[ft.Name] && !o.padded && !o.cut {
						// Without padding or cuts the payload correction
						// changes nothing: this checks refPadded, refCut
						// and the columns' other rules.
						res.payloadChecked++
						if ci, ok := col[ft.Name]; ok {
							if equal, _ := refCell(ft.Name, out[i], row[ci]); !equal {
								res.payloadDiffer = append(res.payloadDiffer, refMismatch{capture: capture, key: k,
									column: ft.Name, want: row[ci], got: out[i].String(), known: known})
							}
						}
					}
					continue
				}
				if (o.padded || o.cut) && refPayloadColumns[ft.Name] {
					tl.payload++
					continue
				}
				ci, ok := col[ft.Name]
				if !ok {
					fail("%s: reference lacks column %q", csvPath, ft.Name)
					return res
				}
				tl.cells++
				equal, exact := refCell(ft.Name, out[i], row[ci])
				if exact {
					tl.exact++
				}
				if !equal {
					tl.mismatches = append(tl.mismatches, refMismatch{capture: capture, key: k,
						column: ft.Name, want: row[ci], got: out[i].String(), known: known || (g.CrossFlow() && graphDiffers)})
				}
			}
		}
	}
	return res
}

// refCaptures lists the reference files whose capture is in the corpus, as
// capture paths relative to the corpus (slash-separated), sorted.
func refCaptures(t *testing.T, corpus, reference string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(reference, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".csv") {
			return err
		}
		rel, err := filepath.Rel(reference, strings.TrimSuffix(p, ".csv"))
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(corpus, rel)); err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestReferenceJoyfulJay compares every registered group with JoyfulJay's
// reference rows over the whole corpus: subtest "flows" checks the flow
// pairing, "payload" the detection of padded and cut payloads, and one
// subtest per group that group's cells.
func TestReferenceJoyfulJay(t *testing.T) {
	corpus, reference, corrected := refDirs(t)
	captures := refCaptures(t, corpus, reference)
	if len(captures) == 0 {
		skipOrFail(t, "no reference file has its capture in %s", corpus)
	}

	groups := Groups() // seals the registry before the workers read it
	results := make([]refResult, len(captures))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				c := captures[i]
				results[i] = compareRefCapture(groups, c, filepath.Join(corpus, filepath.FromSlash(c)),
					filepath.Join(reference, filepath.FromSlash(c)+".csv"), corrected)
			}
		})
	}
	for i := range captures {
		next <- i
	}
	close(next)
	wg.Wait()

	total := make([]refGroupTally, len(groups))
	var refFlows, ourFlows, twins, padded, cut, twinless int
	for _, r := range results {
		for _, e := range r.errs {
			t.Errorf("%s: %s", r.capture, e)
		}
		refFlows += r.refFlows
		ourFlows += r.ourFlows
		twins += r.twins
		padded += r.paddedFlows
		cut += r.cutFlows
		twinless += len(r.twinless)
		for gi := range groups {
			total[gi].add(&r.groups[gi])
		}
	}

	t.Run("flows", func(t *testing.T) {
		for _, r := range results {
			if r.note != nil {
				t.Logf("%s: reader stopped: %v", r.capture, r.note)
			}
			if len(r.twinless) > 0 {
				t.Logf("%s: %d of %d reference flows without a twin, e.g. %s",
					r.capture, len(r.twinless), r.refFlows, r.twinless[0])
			}
		}
		t.Logf("%d captures, %d reference flows: %d with a twin (%d with padded frames, %d with cut payloads), %d without; we assembled %d flows",
			len(captures), refFlows, twins, padded, cut, twinless, ourFlows)
		if refFlows == 0 {
			t.Fatal("no reference flow")
		}
		if float64(twinless) > refMaxTwinless*float64(refFlows) {
			t.Errorf("%d of %d reference flows have no twin, want at most %.0f%%", twinless, refFlows, 100*refMaxTwinless)
		}
	})

	t.Run("payload", func(t *testing.T) {
		var checked int
		var differ []refMismatch
		for _, r := range results {
			checked += r.payloadChecked
			differ = append(differ, r.payloadDiffer...)
		}
		known := refReport(t, differ)
		t.Logf("%d cells of payload-only corrected columns on twins without padded frames or cut payloads: %d differ (%d in known captures)",
			checked, len(differ), known)
		if checked == 0 {
			t.Error("no payload-only corrected column compared")
		}
	})

	for gi, g := range groups {
		t.Run(g.ID, func(t *testing.T) {
			tl := &total[gi]
			known := refReport(t, tl.mismatches)
			t.Logf("%s: %d cells compared (%d bit-exact), %d mismatches (%d in known captures); skipped %d corrected, %d on padded or cut flows",
				g.ID, tl.cells, tl.exact, len(tl.mismatches), known, tl.corrected, tl.payload)
			if tl.cells == 0 && refComparable(g, corrected) {
				t.Errorf("%s: no cell compared", g.ID)
			}
		})
	}
}

// refComparable reports whether g has a column the test compares.
func refComparable(g *Group, corrected map[string]bool) bool {
	for _, ft := range g.Features {
		if _, jj := schema.Lookup(ft.Name); jj && !corrected[ft.Name] {
			return true
		}
	}
	return false
}

// refMaxReported bounds the mismatching cells refReport names one by one.
const refMaxReported = 50

// refReport fails the test on each mismatch outside refKnownCaptures and
// logs how many each known capture has. It returns the number of known ones.
func refReport(t *testing.T, ms []refMismatch) int {
	t.Helper()
	byCapture := map[string]int{}
	var captures []string
	failed := 0
	for _, m := range ms {
		if !m.known {
			if failed++; failed <= refMaxReported {
				t.Errorf("%s: flow %s: %s = %s, JoyfulJay %q", m.capture, m.key, m.column, m.got, m.want)
			}
			continue
		}
		if byCapture[m.capture] == 0 {
			captures = append(captures, m.capture)
		}
		byCapture[m.capture]++
	}
	if failed > refMaxReported {
		t.Errorf("... %d mismatching cells in all", failed)
	}
	n := 0
	for _, c := range captures {
		reason := refKnown(c)
		if reason == "" {
			reason = "cross-flow group: the capture's flow set differs from JoyfulJay's (docs/PARITY.md)"
		}
		t.Logf("%s: %d mismatching cells allowed (%s)", c, byCapture[c], reason)
		n += byCapture[c]
	}
	return n
}
