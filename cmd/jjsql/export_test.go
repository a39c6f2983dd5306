//go:build sqlite_vtable

package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestEngineDuckDB: the DuckDB engine answers like SQLite, with options as
// named parameters, through the same output writers.
func TestEngineDuckDB(t *testing.T) {
	p := sampleFile(t)
	cols := "src_ip, src_port, dst_ip, dst_port, protocol, total_packets, tls_detected, iat_mean, ja3"
	lite, errs, code := jj(t, "--format", "csv", "SELECT "+cols+" FROM flows('"+p+"', 30) ORDER BY flow_uid")
	if code != 0 {
		t.Fatalf("sqlite: %d %s", code, errs)
	}
	duck, errs, code := jj(t, "--engine", "duckdb", "--format", "csv", "SELECT "+cols+" FROM flows('"+p+"', flow_timeout := 30) ORDER BY flow_uid")
	if code != 0 {
		t.Fatalf("duckdb: %d %s", code, errs)
	}
	if duck != lite || strings.Count(lite, "\n") < 30 {
		t.Errorf("duckdb:\n%s\nsqlite:\n%s", duck, lite)
	}
	// The CLI's option flags are the defaults of the named parameters.
	a, _, _ := jj(t, "--engine", "duckdb", "--flow-timeout", "0.05", "SELECT count(*) FROM flows('"+p+"')")
	b, _, _ := jj(t, "--engine", "duckdb", "SELECT count(*) FROM flows('"+p+"', flow_timeout := 0.05)")
	c, _, _ := jj(t, "SELECT count(*) FROM flows('"+p+"', 0.05)")
	if a != b || strings.TrimPrefix(a, "count_star()") != strings.TrimPrefix(c, "count(*)") {
		t.Errorf("--flow-timeout: %q, named parameter: %q, sqlite: %q", a, b, c)
	}
	if _, errs, code := jj(t, "--engine", "duckdb", "SELECT * FROM flows('/nonexistent.pcap')"); code != 1 || !strings.Contains(errs, "does not exist") {
		t.Errorf("missing capture: code %d, %q", code, errs)
	}
	if _, errs, code := jj(t, "--engine", "duckdb", "SELECT * FROM flows('"+p+"', flow_timout := 3)"); code != 1 ||
		!strings.Contains(errs, "(it takes flows(path, flow_timeout := NULL,") || strings.Count(errs, "\n") != 1 {
		t.Errorf("misspelled option: code %d, %q", code, errs)
	}
}

// TestOutputFile: -o FILE and jjsql export FILE pick the writer from the
// extension; the file holds the last statement's result.
func TestOutputFile(t *testing.T) {
	p := sampleFile(t)
	dir := t.TempDir()
	q := "SELECT src_ip, dst_port, tls_detected FROM flows('" + p + "') ORDER BY flow_uid"
	stdout, _, _ := jj(t, "--format", "csv", q)
	if _, errs, code := jj(t, "-o", filepath.Join(dir, "a.csv"), q); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.csv")); string(b) != stdout {
		t.Errorf("-o a.csv:\n%s\nstdout:\n%s", b, stdout)
	}
	if _, errs, code := jj(t, "-o", filepath.Join(dir, "a.jsonl"), q); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.jsonl")); !strings.HasPrefix(string(b), `{"src_ip":"192.168.1.10","dst_port":`) {
		t.Errorf("-o a.jsonl: %s", b)
	}
	for _, args := range [][]string{
		{"-o", filepath.Join(dir, "b.parquet"), "CREATE TEMP VIEW v AS " + q + "; SELECT * FROM v"},
		{"export", filepath.Join(dir, "c.parquet"), q},
		{"export", "-q", "--table", "flows", "--flow-timeout", "30", filepath.Join(dir, "d.duckdb"), q},
		{"--engine", "duckdb", "export", filepath.Join(dir, "e.parquet"), q},
		{"export", "--engine=duckdb", "--", filepath.Join(dir, "f.db"), q},
	} {
		if _, errs, code := jj(t, args...); code != 0 {
			t.Errorf("%q: code %d, %s", args, code, errs)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{"b.parquet", "c.parquet", "d.duckdb"} {
		var n, tls int
		src := "read_parquet('" + filepath.Join(dir, f) + "')"
		if f == "d.duckdb" {
			db.Exec("ATTACH '" + filepath.Join(dir, f) + "' AS d (READ_ONLY)")
			src = "d.flows"
		}
		if err := db.QueryRow("SELECT count(*), sum(tls_detected::INT) FROM "+src).Scan(&n, &tls); err != nil || n != strings.Count(stdout, "\n")-1 || tls == 0 {
			t.Errorf("%s: %d rows, %d tls, %v", f, n, tls, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "e.parquet")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f.db")); err != nil {
		t.Error(err)
	}
}

func TestOutputFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-o", filepath.Join(dir, "no", "x.parquet"), "SELECT 1"}, 1, "does not exist"},
		{[]string{"--engine", "postgres", "SELECT 1"}, 2, "unknown engine"},
		{[]string{"--table", "t", "SELECT 1"}, 2, "need an output file"},
		{[]string{"export", "SELECT 1 AS x"}, 2, "the output file comes first"},
		{[]string{"export", "-o", filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), "SELECT 1"}, 2, "two output files"},
		{[]string{"-o", filepath.Join(dir, "x.parquet"), "SELECT nonsense"}, 1, "no such column"},
	} {
		_, errs, code := jj(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%q: code %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
	// An existing table: an error, then --replace.
	out := filepath.Join(dir, "t.duckdb")
	for i, want := range []int{0, 1, 0} {
		args := []string{"-o", out, "SELECT 1 AS one"}
		if i == 2 {
			args = append([]string{"--replace"}, args...)
		}
		if _, errs, code := jj(t, args...); code != want {
			t.Errorf("run %d: code %d, %s", i, code, errs)
		} else if code == 1 && !strings.Contains(errs, "already has a table t") {
			t.Errorf("run %d: %s", i, errs)
		}
	}
}
