//go:build sqlite_vtable

package export

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
	vduck "github.com/jjsql/jjsql/vtab/duckdb"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

func corpus(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "shared", "corpus")
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
	p := filepath.Join(filepath.Dir(file), "..", "testdata", "sample.pcap")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("generated sample missing: %v (run make generate)", err)
	}
	return p
}

func openSQLite(t *testing.T, env *vtab.Env, hooks ...sqlite.Hook) *sql.DB {
	t.Helper()
	db := sqlite.Open(env, "", hooks...)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

type result struct {
	cols  []string
	types []string // DuckDB types (or SQLite declared types)
	rows  [][]any
}

func scan(t *testing.T, rows *sql.Rows) result {
	t.Helper()
	defer rows.Close()
	var r result
	r.cols, _ = rows.Columns()
	cts, _ := rows.ColumnTypes()
	for _, ct := range cts {
		r.types = append(r.types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(r.cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r.rows = append(r.rows, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

func query(t *testing.T, db *sql.DB, q string) result {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return scan(t, rows)
}

// readBack reads an exported file with DuckDB (Parquet, DuckDB) or SQLite.
func readBack(t *testing.T, path, table string) result {
	t.Helper()
	if strings.HasSuffix(path, ".db") {
		db := sql.OpenDB(sqliteConnector{dsn: "file:" + path + "?mode=ro"})
		defer db.Close()
		r := query(t, db, "SELECT * FROM "+quoteIdent(table))
		r.types = nil
		decl := query(t, db, "SELECT type FROM pragma_table_info("+quoteString(table)+")")
		for _, row := range decl.rows {
			r.types = append(r.types, row[0].(string))
		}
		return r
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if strings.HasSuffix(path, ".parquet") {
		return query(t, db, "SELECT * FROM read_parquet("+quoteString(path)+")")
	}
	if _, err := db.Exec("ATTACH " + quoteString(path) + " AS r (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	return query(t, db, "SELECT * FROM r.main."+quoteIdent(table))
}

// sameCell reports whether a value read back from an export equals the
// value SQLite returned: BOOLEAN against 0/1, floats bit for bit, blobs byte
// for byte.
func sameCell(want, got any) bool {
	switch g := got.(type) {
	case nil:
		return want == nil
	case bool:
		w, ok := want.(int64)
		return ok && (w == 0 || w == 1) && (w == 1) == g
	case int64:
		w, ok := want.(int64)
		return ok && w == g
	case float64:
		switch w := want.(type) {
		case float64:
			return math.Float64bits(w) == math.Float64bits(g)
		case int64:
			return float64(w) == g
		}
	case string:
		w, ok := want.(string)
		return ok && w == g
	case []byte:
		if len(g) == 0 && want == nil {
			// mattn's ResultBlob returns an empty blob as NULL: the
			// SQLite route has NULL where DuckDB's has X''.
			return true
		}
		w, ok := want.([]byte)
		return ok && string(w) == string(g)
	}
	return false
}

func compare(t *testing.T, want, got result) {
	t.Helper()
	if !reflect.DeepEqual(want.cols, got.cols) {
		t.Fatalf("columns differ:\nwant %v\n got %v", want.cols, got.cols)
	}
	if len(want.rows) != len(got.rows) {
		t.Fatalf("%d rows, want %d", len(got.rows), len(want.rows))
	}
	bad := 0
	for r := range want.rows {
		for i, c := range want.cols {
			if !sameCell(want.rows[r][i], got.rows[r][i]) {
				if bad++; bad <= 10 {
					t.Errorf("row %d %s: got %#v, want %#v", r, c, got.rows[r][i], want.rows[r][i])
				}
			}
		}
	}
}

// registryTypes returns the DuckDB type the registry gives each column of
// table.
func registryTypes(t *testing.T, env *vtab.Env, table string, cols []string, sqliteFile bool) []string {
	t.Helper()
	m := map[string]schema.Type{}
	for _, tb := range vtab.Tables(env) {
		if tb.Name() == table {
			for _, c := range tb.Columns() {
				m[c.Name] = c.Type
			}
		}
	}
	var out []string
	for _, c := range cols {
		typ, ok := m[c]
		if !ok {
			t.Fatalf("column %s not in %s", c, table)
		}
		if sqliteFile {
			out = append(out, sqliteType(typ))
		} else {
			out = append(out, vduck.TypeName(typ))
		}
	}
	return out
}

// TestRoundTrip exports SELECT * of flows() and packets() to Parquet, DuckDB
// and SQLite files, by both routes, reads each file back and compares it
// with SQLite's result row for row, cell for cell, with the registry's
// types.
func TestRoundTrip(t *testing.T) {
	files := map[string]string{
		"sample.pcap":          sample(t),
		"tls12.pcap":           corpus(t, "ja4/pcap/tls12.pcap"),
		"tls-handshake.pcapng": corpus(t, "ja4/pcap/tls-handshake.pcapng"),
	}
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	dir := t.TempDir()
	for name, capture := range files {
		for _, table := range []string{"flows", "packets"} {
			q := "SELECT * FROM " + table + "(" + quoteString(capture) + ")"
			want := query(t, db, q)
			if len(want.rows) == 0 {
				t.Fatalf("%s: no rows", q)
			}
			for _, c := range []struct {
				ext   string
				route Route
				used  string
			}{
				{".parquet", RouteAuto, "duckdb"},
				{".parquet", RouteSQLite, "sqlite"},
				{".duckdb", RouteAuto, "duckdb"},
				{".duckdb", RouteSQLite, "sqlite"},
				{".db", RouteAuto, "sqlite"},
			} {
				t.Run(fmt.Sprintf("%s/%s/%s/%s", name, table, c.ext, c.used), func(t *testing.T) {
					out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s%s", name, table, c.used, c.ext))
					var used string
					err := Query(context.Background(), db, q, out, Options{Env: env, Route: c.route, Table: "t",
						Used: func(e string) { used = e }})
					if err != nil {
						t.Fatal(err)
					}
					if used != c.used {
						t.Errorf("ran in %s, want %s", used, c.used)
					}
					got := readBack(t, out, "t")
					compare(t, want, got)
					wantTypes := registryTypes(t, env, table, want.cols, c.ext == ".db")
					if !reflect.DeepEqual(got.types, wantTypes) {
						for i := range wantTypes {
							if i < len(got.types) && got.types[i] != wantTypes[i] {
								t.Errorf("column %s: type %s, want %s", want.cols[i], got.types[i], wantTypes[i])
							}
						}
					}
				})
			}
		}
	}
}

// TestExpressionColumns: columns computed by expressions take the type of
// their values; a feature column keeps the registry's type under an alias of
// its own name; infinities and NULL survive in every file kind.
func TestExpressionColumns(t *testing.T) {
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	q := `SELECT flow_uid, tls_detected, total_bytes / 2.0 AS half, total_packets * 2 AS twice,
		1e999 AS inf, -1e999 AS ninf, NULL AS empty, CASE WHEN tls_detected THEN 'tls' END AS label,
		x'00ff' AS raw, src_ip || ':' || src_port AS src, total_packets > 10 AS big
		FROM flows(` + quoteString(sample(t)) + `) ORDER BY flow_uid`
	want := query(t, db, q)
	duckTypes := []string{"BIGINT", "BOOLEAN", "DOUBLE", "BIGINT", "DOUBLE", "DOUBLE", "VARCHAR", "VARCHAR", "BLOB", "VARCHAR", "BIGINT"}
	sqliteTypes := []string{"INTEGER", "BOOLEAN", "", "", "", "", "", "", "", "", ""}
	dir := t.TempDir()
	for _, ext := range []string{".parquet", ".duckdb", ".db"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "x"+ext)
			var used string
			if err := Query(context.Background(), db, q, out, Options{Env: env, Used: func(e string) { used = e }}); err != nil {
				t.Fatal(err)
			}
			if used != "sqlite" {
				t.Errorf("ran in %s", used)
			}
			got := readBack(t, out, "x")
			compare(t, want, got)
			wantTypes := duckTypes
			if ext == ".db" {
				wantTypes = sqliteTypes
			}
			if !reflect.DeepEqual(got.types, wantTypes) {
				t.Errorf("types %v, want %v", got.types, wantTypes)
			}
			if v := got.rows[0][4]; v != math.Inf(1) {
				t.Errorf("inf read back as %#v", v)
			}
			if v := got.rows[0][5]; v != math.Inf(-1) {
				t.Errorf("-inf read back as %#v", v)
			}
		})
	}
}

// TestDuckDBEngine: a query run in DuckDB keeps DuckDB's types and values,
// NaN and infinities included.
func TestDuckDBEngine(t *testing.T) {
	env := vtab.NewEnv()
	ctx := context.Background()
	ddb, err := vduck.Open(ctx, env, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	ddb.SetMaxOpenConns(1)
	q := `SELECT flow_uid, tls_detected, 'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, sum(total_bytes) OVER () AS total
		FROM flows(` + quoteString(sample(t)) + `, flow_timeout := 30) ORDER BY flow_uid`
	want := query(t, ddb, q)
	dir := t.TempDir()
	for _, ext := range []string{".parquet", ".duckdb", ".db", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "d"+ext)
			if err := QueryDuckDB(ctx, ddb, q, out, Options{Env: env}); err != nil {
				t.Fatal(err)
			}
			if ext == ".csv" {
				b, _ := os.ReadFile(out)
				lines := strings.Split(string(b), "\n")
				if lines[0] != "flow_uid,tls_detected,nan,inf,total" || !strings.Contains(lines[1], ",nan,inf,") {
					t.Errorf("csv starts %q", lines[:2])
				}
				return
			}
			got := readBack(t, out, "d")
			if len(got.rows) != len(want.rows) || len(got.rows) == 0 {
				t.Fatalf("%d rows, want %d", len(got.rows), len(want.rows))
			}
			for r := range want.rows {
				w, g := want.rows[r], got.rows[r]
				if ext == ".db" {
					// SQLite: NaN as NULL, HUGEINT as INTEGER; mattn
					// reads the BOOLEAN column back as bool.
					if g[0] != w[0] || g[1] != w[1] || g[2] != nil || g[3] != math.Inf(1) || g[4] != Normalize(w[4]) {
						t.Errorf("row %d: %v, want %v", r, g, w)
					}
					continue
				}
				if g[0] != w[0] || g[1] != w[1] || !math.IsNaN(g[2].(float64)) || g[3] != math.Inf(1) || fmt.Sprint(g[4]) != fmt.Sprint(w[4]) {
					t.Errorf("row %d: %v, want %v", r, g, w)
				}
			}
			wantTypes := append([]string(nil), want.types...)
			if ext == ".parquet" {
				// Parquet has no 128-bit integer: DuckDB writes HUGEINT
				// (the type of sum(BIGINT)) as DOUBLE.
				wantTypes[4] = "DOUBLE"
			}
			if ext != ".db" && !reflect.DeepEqual(got.types, wantTypes) {
				t.Errorf("types %v, want %v", got.types, wantTypes)
			}
		})
	}
}

// TestPlain: which queries run in DuckDB, and their DuckDB form.
func TestPlain(t *testing.T) {
	env := vtab.NewEnv()
	for _, c := range []struct{ in, out string }{
		{"SELECT * FROM flows('x.pcap')", `SELECT * FROM "flows"('x.pcap')`},
		{"select * from FLOWS('x.pcap');", `SELECT * FROM "flows"('x.pcap')`},
		{"SELECT src_ip, Dst_Port AS port, \"ja3\" j FROM flows('it''s.pcap', 30, 0) f LIMIT 10",
			`SELECT "src_ip" AS "src_ip", "dst_port" AS "port", "ja3" AS "j" FROM "flows"('it''s.pcap', "flow_timeout" := 30, "terminate_on_fin_rst" := 0) LIMIT 10`},
		{"SELECT payload FROM packets('dir/', 1.5e1)", `SELECT "payload" AS "payload" FROM "packets"('dir/', "flow_timeout" := 1.5e1)`},
		{"SELECT * FROM flows('x.pcap') WHERE protocol = 6", ""},
		{"SELECT * FROM flows('x.pcap') ORDER BY 1", ""},
		{"SELECT count(*) FROM flows('x.pcap')", ""},
		{"SELECT src_ip FROM flows('x.pcap'), packets('x.pcap')", ""},
		{"SELECT path FROM flows('x.pcap')", ""},                                    // hidden column
		{"SELECT ja3_hash FROM flows('x.pcap')", ""},                                // hidden alias
		{"SELECT * FROM flows", ""},                                                 // no arguments
		{"SELECT * FROM flows(30)", ""},                                             // path not text
		{"SELECT * FROM flows('x.pcap') -- comment", ""},                            // comment
		{"SELECT * FROM flows('x.pcap') LIMIT 1.5", ""},                             // odd limit
		{"SELECT * FROM t", ""},                                                     // not a table function
		{"SELECT * FROM flows('x', 1,1,1,'lru',1,1,0,'s',1,1,0,1,1,1,1,1,1,1)", ""}, // too many arguments
	} {
		t.Run(c.in, func(t *testing.T) {
			got, ok := Plain(c.in, env)
			if ok != (c.out != "") || got != c.out {
				t.Errorf("Plain = %q, %v; want %q", got, ok, c.out)
			}
		})
	}
}

// TestExistingTable: a second export of a table into the same database file
// fails and leaves the first table as it was; Replace replaces it; another
// table name adds a table beside it.
func TestExistingTable(t *testing.T) {
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	dir := t.TempDir()
	q := "SELECT * FROM flows(" + quoteString(sample(t)) + ")"
	q5 := q + " LIMIT 5"
	for _, ext := range []string{".duckdb", ".db"} {
		for _, route := range []Route{RouteAuto, RouteSQLite} {
			t.Run(fmt.Sprintf("%s/%d", ext, route), func(t *testing.T) {
				out := filepath.Join(dir, fmt.Sprintf("e%d%s", route, ext))
				ctx := context.Background()
				o := Options{Env: env, Route: route}
				if err := Query(ctx, db, q, out, o); err != nil {
					t.Fatal(err)
				}
				n := len(readBack(t, out, fmt.Sprintf("e%d", route)).rows)
				err := Query(ctx, db, q5, out, o)
				if err == nil || !strings.Contains(err.Error(), "already has a table") {
					t.Fatalf("second export: %v", err)
				}
				if got := len(readBack(t, out, fmt.Sprintf("e%d", route)).rows); got != n {
					t.Errorf("after a failed export: %d rows, want %d", got, n)
				}
				o.Replace = true
				if err := Query(ctx, db, q5, out, o); err != nil {
					t.Fatal(err)
				}
				if got := len(readBack(t, out, fmt.Sprintf("e%d", route)).rows); got != 5 {
					t.Errorf("after --replace: %d rows, want 5", got)
				}
				o.Replace, o.Table = false, "other"
				if err := Query(ctx, db, q5, out, o); err != nil {
					t.Fatal(err)
				}
				if got := len(readBack(t, out, "other").rows); got != 5 {
					t.Errorf("second table: %d rows, want 5", got)
				}
				noLeftovers(t, dir)
			})
		}
	}
}

// noLeftovers fails when an export left a temporary file.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".jjsql-") || strings.HasSuffix(e.Name(), ".wal") || strings.HasSuffix(e.Name(), "-journal") {
			t.Errorf("leftover file %s", e.Name())
		}
	}
}

// TestBadOutput: a missing directory, a directory, a file as directory and
// a result that does not fit its column type are clear errors that leave no
// file.
func TestBadOutput(t *testing.T) {
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	p := quoteString(sample(t))
	for _, c := range []struct {
		name, path, query string
		opts              Options
		want              string
	}{
		{"missing dir", filepath.Join(dir, "no", "x.parquet"), "SELECT * FROM flows(" + p + ")", Options{}, "does not exist"},
		{"missing dir duckdb", filepath.Join(dir, "no", "x.duckdb"), "SELECT 1", Options{}, "does not exist"},
		{"directory", dir, "SELECT 1", Options{}, "is a directory"},
		{"file as directory", filepath.Join(notDir, "x.csv"), "SELECT 1", Options{}, "not a directory"},
		{"bad sql", filepath.Join(dir, "bad.parquet"), "SELECT nonsense FROM flows(" + p + ")", Options{}, "no such column"},
		{"missing capture", filepath.Join(dir, "bad2.parquet"), "SELECT * FROM flows('/nonexistent.pcap')", Options{}, "does not exist"},
		{"missing capture sqlite", filepath.Join(dir, "bad3.duckdb"), "SELECT * FROM flows('/nonexistent.pcap') WHERE 1", Options{}, "does not exist"},
		{"type change", filepath.Join(dir, "mixed.parquet"),
			"SELECT CASE WHEN flow_uid = (SELECT min(flow_uid) FROM flows(" + p + ")) THEN 1 ELSE 'many' END AS x FROM flows(" + p + ") ORDER BY flow_uid",
			Options{Lookahead: 1}, `column x is BIGINT (values of the first 1 rows), but a row holds the text "many"`},
		{"not a database", notDir + ".db", "SELECT 1", Options{}, "not a database"},
		{"unknown format", filepath.Join(dir, "x.txt"), "SELECT 1", Options{Format: "xml"}, "unknown format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "not a database" {
				os.WriteFile(c.path, []byte("this is not a database file, it is text long enough to have a header"), 0o644)
				defer os.Remove(c.path)
			}
			c.opts.Env = env
			err := Query(context.Background(), db, c.query, c.path, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if c.name != "directory" && c.name != "not a database" {
				if _, err := os.Stat(c.path); err == nil {
					t.Errorf("%s exists after a failed export", c.path)
				}
			}
			noLeftovers(t, dir)
		})
	}
}

// TestInterrupted: an export cancelled halfway (after some rows were
// written) fails with an interruption error and leaves no file, and no
// table in an existing database file.
func TestInterrupted(t *testing.T) {
	env := vtab.NewEnv()
	var ctx context.Context
	var cancel context.CancelFunc
	calls := 0
	hook := func(conn *sqlite3.SQLiteConn) error {
		return conn.RegisterFunc("tick", func(x int64) int64 {
			if calls++; calls == 10 {
				cancel()
			}
			return x
		}, false)
	}
	db := openSQLite(t, env, hook)
	dir := t.TempDir()
	t.Cleanup(func() {
		// An interrupted SQLite or DuckDB write can still touch its
		// journal for a moment after Query returns (it removes it
		// itself); wait until only the two existing files are left, so
		// that TempDir's removal does not race with it (three quiet
		// looks in a row).
		for k, quiet := 0, 0; k < 100; k++ {
			time.Sleep(20 * time.Millisecond)
			if es, _ := os.ReadDir(dir); len(es) > 2 {
				quiet = 0
			} else if quiet++; quiet == 3 {
				return
			}
		}
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			t.Errorf("left after an interrupted export: %s", e.Name())
		}
	})
	existing := filepath.Join(dir, "existing.duckdb")
	existingDB := filepath.Join(dir, "existing.db")
	q := "SELECT tick(flow_uid) AS t, * FROM flows(" + quoteString(sample(t)) + ")"
	if err := Query(context.Background(), db, "SELECT 1 AS one", existing, Options{Env: env}); err != nil {
		t.Fatal(err)
	}
	if err := Query(context.Background(), db, "SELECT 1 AS one", existingDB, Options{Env: env}); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"i.parquet", "i.duckdb", "i.db", "i.csv", "i.jsonl", existing, existingDB} {
		t.Run(filepath.Base(out), func(t *testing.T) {
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			calls = 0
			err := Query(ctx, db, q, out, Options{Env: env, Table: "flows"})
			if err == nil || !strings.Contains(err.Error(), "interrupted") {
				t.Fatalf("error %v, want an interruption", err)
			}
			if calls < 10 {
				t.Errorf("cancelled after %d rows", calls)
			}
			if out == existing || out == existingDB {
				r := readBack(t, out, "existing")
				if len(r.rows) != 1 {
					t.Errorf("existing table has %d rows", len(r.rows))
				}
				check := "SELECT count(*) FROM information_schema.tables WHERE table_name = 'flows'"
				if out == existingDB {
					check = "SELECT count(*) FROM sqlite_master WHERE name = 'flows'"
				}
				var rdb *sql.DB
				if out == existingDB {
					rdb = sql.OpenDB(sqliteConnector{dsn: out})
				} else {
					rdb, _ = sql.Open("duckdb", out+"?access_mode=read_only")
				}
				var n int
				rdb.QueryRow(check).Scan(&n)
				rdb.Close()
				if n != 0 {
					t.Errorf("table flows left in %s", out)
				}
			} else if _, err := os.Stat(out); err == nil {
				t.Errorf("%s exists after an interrupted export", out)
			}
			noLeftovers(t, dir)
		})
	}
	// DuckDB interrupted inside COPY.
	ddb, err := vduck.Open(context.Background(), env, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		for {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), "big.parquet") {
					cancel2()
					return
				}
			}
			runtime.Gosched()
		}
	}()
	out := filepath.Join(dir, "big.parquet")
	err = QueryDuckDB(ctx2, ddb, "SELECT range AS i, range * 0.5 AS f FROM range(2000000000)", out, Options{Env: env})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("DuckDB COPY: error %v, want an interruption", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s exists after an interrupted export", out)
	}
	noLeftovers(t, dir)
}

// TestTextFiles: text files hold exactly what jjsql prints, in the format
// the extension names.
func TestTextFiles(t *testing.T) {
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	dir := t.TempDir()
	q := "SELECT src_ip, dst_port, tls_detected, duration FROM flows(" + quoteString(sample(t)) + ") ORDER BY flow_uid LIMIT 2"
	for _, c := range []struct{ file, want string }{
		{"a.csv", "src_ip,dst_port,tls_detected,duration\n"},
		{"a.tsv", "src_ip\tdst_port\ttls_detected\tduration\n"},
		{"a.jsonl", `{"src_ip":`},
		{"a.json", "[\n{\"src_ip\":"},
	} {
		t.Run(c.file, func(t *testing.T) {
			out := filepath.Join(dir, c.file)
			if err := Query(context.Background(), db, q, out, Options{Env: env}); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(out)
			if !strings.HasPrefix(string(b), c.want) || strings.Count(string(b), "192.168.") != 2 {
				t.Errorf("%s:\n%s", c.file, b)
			}
		})
	}
	noLeftovers(t, dir)
}

// TestQuerySpecialFiles: a text export to /dev/null or through a symbolic
// link writes in place; renaming a temporary file over them would replace
// the device or the link with a regular file. A database or Parquet file
// cannot be a special file.
func TestQuerySpecialFiles(t *testing.T) {
	db := openSQLite(t, vtab.NewEnv())
	ctx := context.Background()
	if err := Query(ctx, db, "SELECT 1 AS x", os.DevNull, Options{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(os.DevNull); err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device (%v)", os.DevNull, err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "t.csv")
	os.WriteFile(target, []byte("old\n"), 0o644)
	link := filepath.Join(dir, "l.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Query(ctx, db, "SELECT 2 AS y", link, Options{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link (%v)", link, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "y\n2\n" {
		t.Errorf("link target = %q", b)
	}
	plink := filepath.Join(dir, "p.parquet")
	os.Symlink(filepath.Join(dir, "elsewhere.parquet"), plink)
	if err := Query(ctx, db, "SELECT 3 AS z", plink, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("parquet through a link: err = %v", err)
	}
}

// TestParquetRowGroups: Parquet files are written in row groups of at most
// 16,384 rows (parquetOptions), so DuckDB's writer holds one such group,
// not 122,880 rows of every column, in memory.
func TestParquetRowGroups(t *testing.T) {
	env := vtab.NewEnv()
	db := openSQLite(t, env)
	out := filepath.Join(t.TempDir(), "rows.parquet")
	q := "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40000) SELECT i, i * 2 AS j FROM c"
	if err := Query(context.Background(), db, q, out, Options{Env: env}); err != nil {
		t.Fatal(err)
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	r := query(t, duck, "SELECT count(DISTINCT row_group_id), max(row_group_num_rows), sum(DISTINCT row_group_num_rows) FROM parquet_metadata("+quoteString(out)+")")
	if len(r.rows) != 1 {
		t.Fatalf("parquet_metadata: %d rows", len(r.rows))
	}
	groups, maxRows := fmt.Sprint(r.rows[0][0]), fmt.Sprint(r.rows[0][1])
	if groups != "3" || maxRows != "16384" {
		t.Errorf("row groups %s, largest %s rows; want 3 of at most 16384 (40,000 rows)", groups, maxRows)
	}
	if got := query(t, duck, "SELECT count(*), sum(j) FROM read_parquet("+quoteString(out)+")"); fmt.Sprint(got.rows[0]) != "[40000 1600040000]" {
		t.Errorf("read back %v, want 40000 rows summing to 1600040000", got.rows[0])
	}
}
