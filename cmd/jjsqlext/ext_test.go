//go:build sqlite_vtable

package main

// These tests build the extension, load it into the real sqlite3 shell and
// compare its answers with jjsql's engine (vtab/sqlite on mattn, run in this
// process) cell by cell: same column names, same number of rows, and per
// cell the same storage class and the same bits.
//
// The shell stores each result in a database file, in a table whose columns
// have no declared type (so SQLite converts nothing), and the test reads the
// file back; no value goes through text formatting.

import (
	"bytes"
	"database/sql"
	"debug/elf"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jjsql/jjsql/functions"
	fnsqlite "github.com/jjsql/jjsql/functions/sqlite"
	"github.com/jjsql/jjsql/vtab"
	vtsqlite "github.com/jjsql/jjsql/vtab/sqlite"
)

var (
	buildOnce sync.Once
	buildDir  string
	soPath    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// extension builds the shared library once per test binary (about 25 s
// cold, 2 s with a warm build cache) and returns its path.
func extension(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "jjsqlext")
		if buildErr != nil {
			return
		}
		soPath = filepath.Join(buildDir, "jjsql.so")
		cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-o", soPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build -buildmode=c-shared: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return soPath
}

// shell returns the sqlite3 shell's path, skipping the test when it is not
// installed (failing under CI=true, where .ci/run installs it).
func shell(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sqlite3 shell missing under CI: %v", err)
		}
		t.Skipf("sqlite3 shell not installed: %v", err)
	}
	return p
}

func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

// corpus returns a file of the shared corpus, skipping the test when the
// corpus is absent (failing under CI=true).
func corpus(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = repoFile("..", "shared", "corpus")
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

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// result is one query's answer.
type result struct {
	cols []string
	rows [][]any
	warn []string
}

// viaJJSQL runs query on jjsql's engine: the mattn adapter and functions,
// with jjsql's defaults.
func viaJJSQL(t *testing.T, query string) (result, error) {
	t.Helper()
	env := vtab.NewEnv()
	var res result
	seen := map[string]bool{}
	env.Warn = func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			res.warn = append(res.warn, msg)
		}
	}
	db := vtsqlite.Open(env, "", fnsqlite.Register)
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.Query(query)
	if err != nil {
		return res, err
	}
	res.cols, res.rows, err = readRows(rows)
	return res, err
}

func readRows(rows *sql.Rows) ([]string, [][]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}

// viaExtension runs query in the sqlite3 shell with the extension loaded
// and returns what it stored: the column names, the rows in order, and the
// warnings the shell printed.
func viaExtension(t *testing.T, so, query string, ncol int) result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.db")
	cs := make([]string, ncol)
	for i := range cs {
		cs[i] = fmt.Sprintf("c%d", i)
	}
	cmd := exec.Command(shell(t), "-init", os.DevNull, "-bail", "-batch", out,
		".load "+so,
		"CREATE TEMP VIEW v AS "+query,
		"CREATE TABLE names AS SELECT name FROM pragma_table_info('v') ORDER BY cid",
		"CREATE TABLE r("+strings.Join(cs, ", ")+")",
		"INSERT INTO r SELECT * FROM v")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sqlite3 with the extension: %v\n%s", err, stderr.String())
	}
	var res result
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if msg, ok := strings.CutPrefix(line, "jjsql: warning: "); ok {
			res.warn = append(res.warn, msg)
		} else if line != "" {
			t.Errorf("sqlite3 printed %q", line)
		}
	}
	db := vtsqlite.Open(vtab.NewEnv(), "file:"+out+"?mode=ro")
	defer db.Close()
	rows, err := db.Query("SELECT name FROM names")
	if err != nil {
		t.Fatal(err)
	}
	_, names, err := readRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		res.cols = append(res.cols, n[0].(string))
	}
	rows, err = db.Query("SELECT * FROM r ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	if _, res.rows, err = readRows(rows); err != nil {
		t.Fatal(err)
	}
	return res
}

// sameCell reports whether two cells hold the same storage class and value
// (floats bit for bit).
func sameCell(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return false
}

// compare checks the extension's answer against jjsql's. It returns the
// number of cells where jjsql has NULL and the extension an empty blob: the
// mattn adapter hands SQLite an empty blob as a NULL pointer, which SQLite
// stores as NULL (see docs/EXTENSION.md); every other cell must be equal.
func compare(t *testing.T, query string, want, got result) (emptyBlobs int) {
	t.Helper()
	if strings.Join(got.cols, ",") != strings.Join(want.cols, ",") {
		t.Fatalf("%s:\ncolumns %q\n   want %q", query, got.cols, want.cols)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s: %d rows, want %d", query, len(got.rows), len(want.rows))
	}
	bad := 0
	for r := range want.rows {
		for c := range want.cols {
			w, g := want.rows[r][c], got.rows[r][c]
			if sameCell(w, g) {
				continue
			}
			if b, ok := g.([]byte); ok && len(b) == 0 && w == nil {
				emptyBlobs++
				continue
			}
			if bad++; bad <= 10 {
				t.Errorf("%s: row %d column %s = %#v (%T), jjsql %#v (%T)", query, r, want.cols[c], g, g, w, w)
			}
		}
	}
	if bad > 10 {
		t.Errorf("%s: %d cells differ in all", query, bad)
	}
	if strings.Join(got.warn, "\n") != strings.Join(want.warn, "\n") {
		t.Errorf("%s: warnings\n%q\nwant\n%q", query, got.warn, want.warn)
	}
	return emptyBlobs
}

type capture struct {
	name  string
	path  func(t *testing.T) string
	flows int64 // count(*) of flows(), as jjsql gives it
}

// sampleFlows is the number of flows of testdata/sample.pcap under the
// default options (internal/testgen; vtab/sqlite's TestSampleFlows checks
// each of them).
const sampleFlows = 38

var captures = []capture{
	{"sample.pcap", func(*testing.T) string { return repoFile("testdata", "sample.pcap") }, sampleFlows},
	{"ja4/tls-handshake.pcapng", func(t *testing.T) string { return corpus(t, "ja4/pcap/tls-handshake.pcapng") }, 79},
	{"ja4/ssh.pcapng", func(t *testing.T) string { return corpus(t, "ja4/pcap/ssh.pcapng") }, 1},
}

// queries returns the statements compared on one capture (p is its path as
// an SQL literal): every table of vtab.Tables in full, and the queries of
// the documentation.
func queries(p string) map[string]string {
	qs := map[string]string{
		"ja3 groups":    "SELECT ja3, count(*) FROM flows(" + p + ") GROUP BY 1 ORDER BY 1",
		"packet counts": "SELECT count(*), sum(ip_len), sum(payload_len), count(DISTINCT flow_uid) FROM packets(" + p + ")",
		"named arguments": "SELECT count(*), sum(total_packets), sum(duration) FROM flows WHERE path = " + p +
			" AND flow_timeout = 5 AND terminate_on_fin_rst = 0",
		"positional arguments": "SELECT count(*), sum(total_packets), sum(duration) FROM flows(" + p + ", 5, 0)",
		"some columns":         "SELECT src_ip, dst_port, ja4, tls_sni, ssh_hassh, duration, pkt_len_mean FROM flows(" + p + ") WHERE total_packets > 1",
		"join": "SELECT f.src_ip, count(*), sum(p.payload_len) FROM flows(" + p + ") f JOIN packets(" + p +
			") p ON p.flow_uid = f.flow_uid GROUP BY f.flow_uid ORDER BY f.flow_uid",
	}
	var fs []string
	for _, f := range functions.All() {
		fs = append(fs, f.Name+"(payload) AS "+f.Name)
	}
	qs["functions"] = "SELECT " + strings.Join(fs, ", ") + " FROM packets(" + p + ") WHERE length(payload) > 0"
	for _, tb := range vtab.Tables(vtab.NewEnv()) {
		q := "SELECT * FROM " + tb.Name()
		for _, c := range tb.Columns() {
			if c.Kind == vtab.KindArg && c.Arg == 0 {
				q += "(" + p + ")"
				break
			}
		}
		qs["table "+tb.Name()] = q
	}
	return qs
}

func TestExtensionMatchesJJSQL(t *testing.T) {
	shell(t)
	so := extension(t)
	nonNull := map[string]int{} // per function: non-NULL results seen
	for _, cp := range captures {
		t.Run(cp.name, func(t *testing.T) {
			p := quote(cp.path(t))
			for name, q := range queries(p) {
				t.Run(name, func(t *testing.T) {
					want, err := viaJJSQL(t, q)
					if err != nil {
						t.Fatalf("jjsql: %s: %v", q, err)
					}
					if len(want.rows) == 0 {
						t.Fatalf("jjsql: %s: no rows", q)
					}
					got := viaExtension(t, so, q, len(want.cols))
					n := compare(t, q, want, got)
					if n > 0 {
						t.Logf("%d empty blobs that jjsql gives as NULL", n)
					}
					switch name {
					case "table flows":
						if int64(len(got.rows)) != cp.flows {
							t.Errorf("flows: %d rows, want %d", len(got.rows), cp.flows)
						}
					case "functions":
						for _, row := range got.rows {
							for i, v := range row {
								if v != nil {
									nonNull[got.cols[i]]++
								}
							}
						}
					}
				})
			}
		})
	}
	if t.Failed() || t.Skipped() || len(nonNull) == 0 {
		return
	}
	// Every function must have produced a value somewhere, so the
	// comparison above did not only compare NULLs.
	for _, f := range functions.All() {
		if nonNull[f.Name] == 0 {
			t.Errorf("%s() gave NULL on every payload of every capture", f.Name)
		}
	}
}

// TestFunctionsOnConstants compares every function on values of each
// storage class, NULL and empty ones included.
func TestFunctionsOnConstants(t *testing.T) {
	so := extension(t)
	args := []string{"NULL", "x''", "''", "'abc'", "x'00ff10'", "1", "1.5", "'é'"}
	var cols []string
	for _, f := range functions.All() {
		for _, a := range args {
			cols = append(cols, f.Name+"("+a+")")
		}
	}
	cols = append(cols, "typeof(entropy(x''))", "ja3_string(x'16')")
	q := "SELECT " + strings.Join(cols, ", ")
	want, err := viaJJSQL(t, q)
	if err != nil {
		t.Fatal(err)
	}
	got := viaExtension(t, so, q, len(want.cols))
	if n := compare(t, q, want, got); n != 0 {
		t.Errorf("%d empty blobs", n)
	}
	if got.rows[0][3] != 1.584962500721156 { // entropy('abc') = log2(3)
		t.Errorf("entropy('abc') = %v", got.rows[0][3])
	}
}

// runShell runs the sqlite3 shell on an in-memory database with args and
// returns its standard output and error.
func runShell(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(shell(t), append([]string{"-init", os.DevNull, "-bail", "-batch", "-csv", ":memory:"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestExtensionErrors(t *testing.T) {
	so := extension(t)
	sample := quote(repoFile("testdata", "sample.pcap"))
	for _, tc := range []struct {
		name, query string
	}{
		{"missing file", "SELECT count(*) FROM flows('/nonexistent/x.pcap')"},
		{"no path", "SELECT count(*) FROM flows"},
		{"bad option", "SELECT count(*) FROM flows(" + sample + ", 'soon')"},
		{"bad strategy", "SELECT count(*) FROM packets(" + sample + ", 60, 1, 10, 'random')"},
		{"not a capture", "SELECT count(*) FROM flows(" + quote(repoFile("go.mod")) + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := viaJJSQL(t, tc.query)
			if err == nil {
				t.Fatalf("jjsql accepted %s", tc.query)
			}
			stdout, stderr, serr := runShell(t, ".load "+so, tc.query)
			if serr == nil {
				t.Fatalf("sqlite3 accepted %s: %q", tc.query, stdout)
			}
			if !strings.Contains(stderr, err.Error()) {
				t.Errorf("sqlite3 said %q; want it to contain jjsql's %q", stderr, err.Error())
			}
		})
	}
}

// TestLoading loads the library the ways the documentation shows: by its
// name without suffix (entry point sqlite3_jjsql_init), under another name
// (sqlite3_extension_init), twice on one connection, and again after .open.
func TestLoading(t *testing.T) {
	so := extension(t)
	other := filepath.Join(t.TempDir(), "other.so")
	b, err := os.ReadFile(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, b, 0o755); err != nil {
		t.Fatal(err)
	}
	sample := quote(repoFile("testdata", "sample.pcap"))
	count := "SELECT count(*) FROM flows(" + sample + ")"
	one := fmt.Sprintf("%d\n", sampleFlows)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"without suffix", []string{".load " + strings.TrimSuffix(so, ".so"), count}, one},
		{"other name", []string{".load " + other, count}, one},
		{"twice", []string{".load " + so, ".load " + so, count}, one},
		{"after open", []string{".load " + so, count, ".open :memory:", ".load " + so, count}, one + one},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runShell(t, tc.args...)
			if err != nil || stdout != tc.want {
				t.Errorf("sqlite3 %q: %q, want %q (err %v, stderr %q)", tc.args, stdout, tc.want, err, stderr)
			}
		})
	}
	// Eponymous only, as in jjsql: no CREATE VIRTUAL TABLE.
	_, stderr, err := runShell(t, ".load "+so, "CREATE VIRTUAL TABLE t USING flows")
	if err == nil || !strings.Contains(stderr, "no such module: flows") {
		t.Errorf("CREATE VIRTUAL TABLE: err %v, stderr %q", err, stderr)
	}
}

// TestLibrary checks the shared library itself: it exports both entry
// points and neither needs a libsqlite3 nor leaves an sqlite3_ symbol for
// the loader to resolve (every SQLite call goes through sqlite3_api).
func TestLibrary(t *testing.T) {
	f, err := elf.Open(extension(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.Contains(l, "sqlite") {
			t.Errorf("the library needs %s", l)
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			if strings.HasPrefix(s.Name, "sqlite3") {
				t.Errorf("undefined symbol %s", s.Name)
			}
			continue
		}
		defined[s.Name] = true
	}
	for _, name := range []string{"sqlite3_jjsql_init", "sqlite3_extension_init"} {
		if !defined[name] {
			t.Errorf("entry point %s not exported", name)
		}
	}
	if defined["sqlite3_api"] {
		t.Error("sqlite3_api is exported; it must be static")
	}
}

// scanStats runs query in the shell with JJSQL_SCAN_STATS=1 and in jjsql's
// engine, and returns the statistics of the first scan of each.
func scanStats(t *testing.T, so, query string) (ext, jj vtab.ScanStats) {
	t.Helper()
	cmd := exec.Command(shell(t), "-init", os.DevNull, "-bail", "-batch", ":memory:", ".load "+so, query)
	cmd.Env = append(os.Environ(), statsEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, stderr.String())
	}
	line, ok := strings.CutPrefix(strings.SplitN(stderr.String(), "\n", 2)[0], "jjsql: scan stats: ")
	if !ok {
		t.Fatalf("no scan statistics on stderr: %q", stderr.String())
	}
	if err := json.Unmarshal([]byte(line), &ext); err != nil {
		t.Fatal(err)
	}
	env := vtab.NewEnv()
	var got []vtab.ScanStats
	env.OnScanEnd = func(st vtab.ScanStats) { got = append(got, st) }
	db := vtsqlite.Open(env, "", fnsqlite.Register)
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRows(rows); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if len(got) == 0 {
		t.Fatal("jjsql reported no scan")
	}
	return ext, got[0]
}

// TestLaziness checks that the extension tells the engine which columns a
// query reads: exactly for the argument columns and the first 50 columns of
// flows() (colUsed has one bit per column up to 62), as a superset
// otherwise.
func TestLaziness(t *testing.T) {
	so := extension(t)
	p := quote(repoFile("testdata", "sample.pcap"))
	for _, tc := range []struct {
		name, query string
		exact       bool // the same work as jjsql
		records     bool // per-packet records kept
		cross       bool // the cross-flow pass ran
	}{
		{"count", "SELECT count(*) FROM flows(" + p + ")", true, false, false},
		{"low columns", "SELECT src_ip, dst_port FROM flows(" + p + ") WHERE total_packets > 2", true, false, false}, // flow_meta keeps no records
		{"low timing column", "SELECT src_ip, iat_max FROM flows(" + p + ") WHERE total_packets > 2", true, true, false},
		{"all columns", "SELECT * FROM flows(" + p + ")", true, true, true},
		{"late column", "SELECT ja3 FROM flows(" + p + ")", false, true, true},
		{"packets", "SELECT count(*) FROM packets(" + p + ")", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ext, jj := scanStats(t, so, tc.query)
			if ext.Rows == 0 || ext.Rows != jj.Rows {
				t.Errorf("%d rows, jjsql %d", ext.Rows, jj.Rows)
			}
			if (ext.Work.Records > 0) != tc.records || ext.CrossPass != tc.cross {
				t.Errorf("records %d, cross pass %v; want records %v, cross pass %v", ext.Work.Records, ext.CrossPass, tc.records, tc.cross)
			}
			if tc.exact && (ext.Work != jj.Work || ext.CrossPass != jj.CrossPass) {
				t.Errorf("work %+v cross %v, jjsql %+v cross %v", ext.Work, ext.CrossPass, jj.Work, jj.CrossPass)
			}
			if ext.Work.Records < jj.Work.Records || ext.Work.BytesKept < jj.Work.BytesKept || jj.CrossPass && !ext.CrossPass {
				t.Errorf("less work than jjsql: %+v, jjsql %+v", ext.Work, jj.Work)
			}
		})
	}
}
