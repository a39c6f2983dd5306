//go:build sqlite_vtable

package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jjsql/jjsql/vtab"
)

// corpus returns the path of a file in the shared corpus, skipping the test
// when the corpus is absent (failing under CI=true).
func corpus(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file %s missing under CI: %v", p, err)
		}
		t.Skipf("corpus not available: %v", err)
	}
	return p
}

func sample(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample.pcap")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("generated sample missing: %v (run make generate)", err)
	}
	return p
}

type recorder struct {
	mu    sync.Mutex
	scans []vtab.ScanStats
	warns []string
}

func openDB(t *testing.T) (*sql.DB, *recorder) {
	t.Helper()
	rec := &recorder{}
	env := vtab.NewEnv()
	env.OnScanEnd = func(s vtab.ScanStats) { rec.mu.Lock(); rec.scans = append(rec.scans, s); rec.mu.Unlock() }
	env.Warn = func(m string) { rec.mu.Lock(); rec.warns = append(rec.warns, m); rec.mu.Unlock() }
	db := Open(env, "")
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db, rec
}

func (r *recorder) last(t *testing.T) vtab.ScanStats {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.scans) == 0 {
		t.Fatal("no scan recorded")
	}
	return r.scans[len(r.scans)-1]
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestArgumentForms(t *testing.T) {
	db, _ := openDB(t)
	p := corpus(t, "gopacket/test_ethernet.pcap")
	for _, tc := range []struct {
		name, q string
		args    []any
		want    int64
	}{
		{"positional", "SELECT total_packets FROM flows(?)", []any{p}, 10},
		{"positional timeout", "SELECT total_packets FROM flows(?, 30)", []any{p}, 10},
		{"named", "SELECT total_packets FROM flows WHERE path = ? AND terminate_on_fin_rst = 0 AND flow_timeout = 1000000000", []any{p}, 10},
		{"feature filter is not an argument", "SELECT count(*) FROM flows(?) WHERE total_packets = 10 AND protocol = 6", []any{p}, 1},
		{"feature filter excludes", "SELECT count(*) FROM flows(?) WHERE total_packets > 10", []any{p}, 0},
		{"argument column reads back", "SELECT flow_timeout FROM flows(?, 42)", []any{p}, 42},
		{"packets", "SELECT count(*) FROM packets(?)", []any{p}, 10},
		{"join on flow_uid", "SELECT count(*) FROM flows(?1) f JOIN packets(?1) p USING (flow_uid)", []any{p}, 10},
		{"materialized join", "WITH f AS MATERIALIZED (SELECT flow_uid FROM flows(?1)) SELECT count(*) FROM f JOIN packets(?1) p USING (flow_uid)", []any{p}, 10},
		{"direction split", "SELECT count(*) FROM packets(?) WHERE direction = 'fwd'", []any{p}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := queryInt(t, db, tc.q, tc.args...); got != tc.want {
				t.Errorf("%s = %d, want %d", tc.q, got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	db, _ := openDB(t)
	dir := t.TempDir()
	notCap := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCap, []byte("hello, this is not a capture file\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	for _, tc := range []struct {
		name, q, want string
	}{
		{"no path", "SELECT count(*) FROM flows", "path argument required"},
		{"missing file", "SELECT count(*) FROM flows('" + filepath.Join(dir, "nope.pcap") + "')", "nope.pcap"},
		{"not a capture", "SELECT count(*) FROM flows('" + notCap + "')", "not a capture file"},
		{"empty file", "SELECT count(*) FROM flows('" + empty + "')", "empty"},
		{"bad option", "SELECT count(*) FROM flows('" + notCap + "', -5)", "flow_timeout"},
		{"bad strategy", "SELECT count(*) FROM flows WHERE path = 'x' AND flow_eviction_strategy = 'fifo'", "flow_eviction_strategy"},
		{"bad sql", "SELEC 1", "syntax error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n int64
			err := db.QueryRow(tc.q).Scan(&n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one containing %q", tc.q, err, tc.want)
			}
		})
	}
}

// TestLaziness checks that a scan runs only the per-packet work of the groups
// its query reads.
func TestLaziness(t *testing.T) {
	db, rec := openDB(t)
	p := sample(t)
	total := queryInt(t, db, "SELECT count(*) FROM packets(?)", p)
	if total == 0 {
		t.Fatal("sample has no packets")
	}

	queryInt(t, db, "SELECT count(*) FROM flows(?)", p)
	st := rec.last(t)
	if st.Work.Records != 0 || st.Work.BytesKept != 0 || len(st.ComputeCalls) != 0 {
		t.Errorf("count(*): records %d, bytes %d, compute %v; want none", st.Work.Records, st.Work.BytesKept, st.ComputeCalls)
	}
	if st.Work.Packets != uint64(total) {
		t.Errorf("count(*): packets %d, want %d", st.Work.Packets, total)
	}
	if st.CrossPass {
		t.Error("count(*): the connection group's first pass ran")
	}
	flowsN := int64(st.Rows)

	queryInt(t, db, "SELECT sum(total_packets) FROM flows(?)", p)
	st = rec.last(t)
	if len(st.ComputeCalls) != 1 || st.ComputeCalls["flow_meta"] != uint64(flowsN) {
		t.Errorf("flow_meta column: compute calls %v, want flow_meta x%d only", st.ComputeCalls, flowsN)
	}
	if st.Work.Records != 0 || st.Work.BytesKept != 0 {
		t.Errorf("flow_meta column: %d records, %d bytes kept; want none (flow_meta reads the flow's sums)", st.Work.Records, st.Work.BytesKept)
	}

	// A column in WHERE counts as read; each group is computed once per row.
	queryInt(t, db, "SELECT count(*) FROM flows(?) WHERE iat_mean >= 0 AND iat_max >= 0", p)
	st = rec.last(t)
	if len(st.ComputeCalls) != 1 || st.ComputeCalls["timing"] != uint64(flowsN) {
		t.Errorf("timing filter: compute calls %v, want timing x%d only", st.ComputeCalls, flowsN)
	}

	// A fingerprint column runs only the tls group (stream reassembly and
	// packet heads), and a dns column only dns.
	queryInt(t, db, "SELECT count(*) FROM flows(?) WHERE ja3 <> ''", p)
	st = rec.last(t)
	if len(st.ComputeCalls) != 1 || st.ComputeCalls["tls"] != uint64(flowsN) {
		t.Errorf("ja3: compute calls %v, want tls x%d only", st.ComputeCalls, flowsN)
	}
	if st.Work.BytesKept == 0 {
		t.Error("ja3: no payload kept")
	}
	tlsBytes := st.Work.BytesKept
	queryInt(t, db, "SELECT count(*) FROM flows(?) WHERE iat_mean > 0", p)
	if st = rec.last(t); st.Work.BytesKept >= tlsBytes/2 {
		t.Errorf("timing column keeps %d bytes, the tls scan %d: payload kept without need", st.Work.BytesKept, tlsBytes)
	}

	// SELECT * runs every group.
	rows, err := db.Query("SELECT * FROM flows(?)", p)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	st = rec.last(t)
	if len(st.ComputeCalls) < 14 {
		t.Errorf("SELECT *: %d groups computed (%v), want all", len(st.ComputeCalls), st.ComputeCalls)
	}

	if !st.CrossPass || st.ComputeCalls["connection"] != uint64(flowsN) {
		t.Errorf("SELECT *: cross pass %v, connection computed %d times; want the pass and %d", st.CrossPass, st.ComputeCalls["connection"], flowsN)
	}

	// A connection column alone runs the first pass and only that group.
	queryInt(t, db, "SELECT max(conn_src_total_flows) FROM flows(?)", p)
	if st = rec.last(t); !st.CrossPass || len(st.ComputeCalls) != 1 {
		t.Errorf("connection column: cross pass %v, compute calls %v; want the pass and connection only", st.CrossPass, st.ComputeCalls)
	}

	// packets() runs the flow table only when direction or flow_uid is read.
	queryInt(t, db, "SELECT sum(payload_len) FROM packets(?)", p)
	if st = rec.last(t); st.Assembled {
		t.Error("packets payload_len: flow table ran, want not")
	}
	queryInt(t, db, "SELECT count(*) FROM packets(?) WHERE direction = 'fwd'", p)
	if st = rec.last(t); !st.Assembled {
		t.Error("packets direction: flow table did not run")
	}
}

// TestPacketsColumns checks packets() fields on the generated sample.
func TestPacketsColumns(t *testing.T) {
	db, _ := openDB(t)
	p := sample(t)
	for _, tc := range []struct {
		q    string
		want int64
	}{
		{"SELECT count(*) FROM packets(?) WHERE vlan_id = 100", 10},
		{"SELECT count(*) FROM packets(?) WHERE tunnel = 'gre'", 11},
		{"SELECT count(*) FROM packets(?) WHERE tunnel = 'teredo' AND ip_version = 6", 11},
		{"SELECT count(*) FROM packets(?) WHERE frag_offset > 0", 4},
		// Headers as they are, whether or not the flow table runs; the
		// fragments still belong to their datagram's flow.
		{"SELECT count(*) FROM packets(?) WHERE frag_offset > 0 AND src_port = 0 AND flow_uid IN (SELECT flow_uid FROM packets(?1) WHERE src_port = 45500 AND more_fragments)", 2},
		{"SELECT sum(payload_len) FROM packets(?) WHERE src_ip = '192.168.1.10' AND dst_port = 33300 OR (src_ip = '192.168.1.10' AND frag_offset > 0 AND ip_version = 4)", 4000 + 1480 + 1048},
	} {
		if got := queryInt(t, db, tc.q, p); got != tc.want {
			t.Errorf("%s = %d, want %d", tc.q, got, tc.want)
		}
	}
}

// TestConnectionSQL checks the connection group through SQL against counts
// SQL itself makes from the same flows: a node's flows as initiator, packets
// it initiated, and the distinct peers and ports it contacted.
func TestConnectionSQL(t *testing.T) {
	db, _ := openDB(t)
	p := sample(t)
	for _, tc := range []struct{ name, q string }{
		{"src_total_flows", `SELECT count(*) FROM flows(?1) f WHERE conn_src_total_flows <>
			(SELECT count(*) FROM flows(?1) g WHERE g.src_ip = f.src_ip)`},
		{"src_total_packets", `SELECT count(*) FROM flows(?1) f WHERE conn_src_total_packets <>
			(SELECT sum(total_packets) FROM flows(?1) g WHERE g.src_ip = f.src_ip)`},
		{"dst_total_bytes", `SELECT count(*) FROM flows(?1) f WHERE conn_dst_total_bytes <>
			(SELECT sum(total_bytes) FROM flows(?1) g WHERE g.dst_ip = f.dst_ip)`},
		{"src_unique_dsts", `SELECT count(*) FROM flows(?1) f WHERE conn_src_unique_dsts <>
			(SELECT count(DISTINCT dst_ip) FROM flows(?1) g WHERE g.src_ip = f.src_ip)`},
		{"src_unique_ports", `SELECT count(*) FROM flows(?1) f WHERE conn_src_unique_ports <>
			(SELECT count(DISTINCT dst_port) FROM flows(?1) g WHERE g.src_ip = f.src_ip)`},
		{"src_dst_flows", `SELECT count(*) FROM flows(?1) f WHERE conn_src_dst_flows <>
			(SELECT count(*) FROM flows(?1) g WHERE g.src_ip = f.src_ip AND g.dst_ip = f.dst_ip)`},
		{"same_community", `SELECT count(*) FROM flows(?1) WHERE conn_same_community <> (conn_src_community = conn_dst_community)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := queryInt(t, db, tc.q, p); got != 0 {
				t.Errorf("%d flows disagree", got)
			}
		})
	}
	// The sample has a real graph: a host with several peers.
	if got := queryInt(t, db, "SELECT max(conn_src_unique_dsts) FROM flows(?)", p); got < 3 {
		t.Errorf("max conn_src_unique_dsts = %d, want a host with several peers", got)
	}
}

// TestOptionalColumns: the optional columns (include_raw_sequences,
// include_splt, connection_include_temporal) are HIDDEN in flows() unless
// the run turns their option on, and can always be read by name.
func TestOptionalColumns(t *testing.T) {
	p := sample(t)
	starCols := func(db *sql.DB) map[string]bool {
		rows, err := db.Query("SELECT * FROM flows(?) LIMIT 1", p)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		names, _ := rows.Columns()
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	db, _ := openDB(t)
	cols := starCols(db)
	for _, c := range []string{"pkt_len_sequence", "splt_lengths", "conn_burst_connections"} {
		if cols[c] {
			t.Errorf("SELECT * shows %s without its option", c)
		}
	}
	if !cols["conn_src_clustering"] {
		t.Error("SELECT * lacks conn_src_clustering")
	}
	// Readable by name, and max_sequence_length bounds the arrays.
	var seq string
	if err := db.QueryRow("SELECT pkt_len_sequence FROM flows WHERE path = ? AND max_sequence_length = 3 ORDER BY total_packets DESC LIMIT 1", p).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT json_array_length(?)", seq); n != 3 {
		t.Errorf("pkt_len_sequence %s: %d values, want 3", seq, n)
	}
	// The sequences agree with the flow's own counters.
	if bad := queryInt(t, db, `SELECT count(*) FROM flows(?) WHERE json_array_length(pkt_len_sequence) <> min(total_packets, 50)
		OR (total_packets <= 50 AND (SELECT sum(value) FROM json_each(pkt_len_sequence)) <> total_bytes)
		OR (total_packets <= 50 AND (SELECT count(*) FROM json_each(direction_sequence) WHERE value = 1) <> packets_fwd)`, p); bad != 0 {
		t.Errorf("%d flows whose sequences disagree with their counters", bad)
	}

	env := vtab.NewEnv()
	env.Options = map[string]bool{"include_raw_sequences": true, "connection_include_temporal": true}
	db2 := Open(env, "")
	defer db2.Close()
	cols = starCols(db2)
	for c, want := range map[string]bool{"pkt_len_sequence": true, "iat_sequence": true, "conn_burst_connections": true, "splt_lengths": false} {
		if cols[c] != want {
			t.Errorf("with options: SELECT * shows %s = %v, want %v", c, cols[c], want)
		}
	}
}

// TestConnectionNeedsRereadableInput: the connection columns read the input
// twice; a pipe gives a clear error instead of an empty second pass.
func TestConnectionNeedsRereadableInput(t *testing.T) {
	db, _ := openDB(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "capture.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var n int64
	err := db.QueryRow("SELECT max(conn_src_total_flows) FROM flows(?)", fifo).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), fifo) {
		t.Errorf("connection column over a fifo: err = %v, want a 'not a regular file' error naming it", err)
	}
}
