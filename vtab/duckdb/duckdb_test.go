//go:build sqlite_vtable

package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

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

func (r *recorder) env() *vtab.Env {
	env := vtab.NewEnv()
	env.OnScanEnd = func(s vtab.ScanStats) { r.mu.Lock(); r.scans = append(r.scans, s); r.mu.Unlock() }
	env.Warn = func(m string) { r.mu.Lock(); r.warns = append(r.warns, m); r.mu.Unlock() }
	return env
}

func (r *recorder) take(t *testing.T) vtab.ScanStats {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.scans) != 1 {
		t.Fatalf("%d scans recorded, want 1", len(r.scans))
	}
	s := r.scans[0]
	r.scans = nil
	return s
}

func openDuck(t *testing.T, env *vtab.Env) *sql.DB {
	t.Helper()
	db, err := Open(context.Background(), env, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSQLite(t *testing.T, env *vtab.Env) *sql.DB {
	t.Helper()
	db := sqlite.Open(env, "")
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

type result struct {
	cols  []string
	types []string
	rows  [][]any
}

func query(t *testing.T, db *sql.DB, q string) result {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
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
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// same reports whether a DuckDB cell equals the SQLite cell of a column of
// type typ: booleans against 0/1, floats bit for bit (SQLite stores NaN as
// NULL), blobs byte for byte.
func same(typ schema.Type, d, s any) bool {
	switch x := d.(type) {
	case nil:
		return s == nil
	case bool:
		i, ok := s.(int64)
		return ok && typ == schema.Bool && (i == 1) == x && (i == 0 || i == 1)
	case int64:
		i, ok := s.(int64)
		return ok && typ == schema.Int && i == x
	case float64:
		if math.IsNaN(x) {
			return s == nil
		}
		f, ok := s.(float64)
		return ok && typ == schema.Real && math.Float64bits(f) == math.Float64bits(x)
	case string:
		str, ok := s.(string)
		return ok && (typ == schema.Text || typ == schema.Null) && str == x
	case []byte:
		if len(x) == 0 && s == nil && typ == schema.Blob {
			// mattn's ResultBlob turns an empty blob into NULL (the
			// SQLite adapter passes an empty payload as []byte{}).
			return true
		}
		b, ok := s.([]byte)
		return ok && typ == schema.Blob && string(b) == string(x)
	}
	return false
}

func colTypes(t *testing.T, env *vtab.Env, table string) map[string]schema.Type {
	t.Helper()
	for _, tb := range vtab.Tables(env) {
		if tb.Name() == table {
			m := map[string]schema.Type{}
			for _, c := range tb.Columns() {
				m[c.Name] = c.Type
			}
			return m
		}
	}
	t.Fatalf("no table %s", table)
	return nil
}

// TestSelectStarMatchesSQLite: SELECT * over flows() and packets() gives the
// same columns, in the same order, with the registry's types, and the same
// value in every cell as SQLite's flows().
func TestSelectStarMatchesSQLite(t *testing.T) {
	files := map[string]string{
		"sample.pcap":          sample(t),
		"tls12.pcap":           corpus(t, "ja4/pcap/tls12.pcap"),
		"tls-handshake.pcapng": corpus(t, "ja4/pcap/tls-handshake.pcapng"),
	}
	env := vtab.NewEnv()
	duck, lite := openDuck(t, env), openSQLite(t, env)
	for name, path := range files {
		for _, table := range []string{"flows", "packets"} {
			t.Run(name+"/"+table, func(t *testing.T) {
				q := "SELECT * FROM " + table + "('" + path + "')"
				key := "flow_uid"
				if table == "packets" {
					key = "file, frame"
				}
				d := query(t, duck, q+" ORDER BY "+key)
				s := query(t, lite, q+" ORDER BY "+key)
				if !reflect.DeepEqual(d.cols, s.cols) {
					t.Fatalf("columns differ:\nduckdb %v\nsqlite %v", d.cols, s.cols)
				}
				if len(d.rows) != len(s.rows) || len(d.rows) == 0 {
					t.Fatalf("rows: duckdb %d, sqlite %d", len(d.rows), len(s.rows))
				}
				types := colTypes(t, env, table)
				nBool := 0
				for i, c := range d.cols {
					if want := TypeName(types[c]); d.types[i] != want {
						t.Errorf("column %s: DuckDB type %s, want %s", c, d.types[i], want)
					}
					if types[c] == schema.Bool {
						nBool++
					}
				}
				if table == "flows" && nBool < 30 {
					t.Errorf("only %d BOOLEAN columns in flows()", nBool)
				}
				bad := 0
				for r := range d.rows {
					for i, c := range d.cols {
						if !same(types[c], d.rows[r][i], s.rows[r][i]) {
							if bad++; bad <= 10 {
								t.Errorf("row %d %s: duckdb %#v, sqlite %#v", r, c, d.rows[r][i], s.rows[r][i])
							}
						}
					}
				}
			})
		}
	}
}

// TestNamedParameters: the options are named parameters with the same
// meaning as SQLite's positional arguments (which DuckDB takes too).
func TestNamedParameters(t *testing.T) {
	p := sample(t)
	env := vtab.NewEnv()
	duck, lite := openDuck(t, env), openSQLite(t, env)
	for _, c := range []struct{ duck, lite string }{
		{"flows('" + p + "')", "flows('" + p + "')"},
		{"flows('" + p + "', flow_timeout := 0.05)", "flows('" + p + "', 0.05)"},
		{"flows('" + p + "', terminate_on_fin_rst := false)", "flows WHERE path = '" + p + "' AND terminate_on_fin_rst = 0"},
		{"flows('" + p + "', flow_timeout := 1, terminate_on_fin_rst := 0)", "flows('" + p + "', 1, 0)"},
		{"flows('" + p + "', sampling_rate := 0.5, sampling_seed := 7)", "flows WHERE path = '" + p + "' AND sampling_rate = 0.5 AND sampling_seed = 7"},
		{"packets('" + p + "', flow_timeout := 0.05)", "packets('" + p + "', 0.05)"},
		// The macro also takes the options by position, in SQLite's order.
		{"flows('" + p + "', 0.05, 0)", "flows('" + p + "', 0.05, 0)"},
	} {
		t.Run(c.duck, func(t *testing.T) {
			cols := "count(*), count(DISTINCT flow_uid), sum(total_packets)"
			if strings.HasPrefix(c.duck, "packets") {
				cols = "count(*), count(DISTINCT flow_uid), sum(ip_len)"
			}
			lq := "SELECT " + cols + " FROM " + c.lite
			d := query(t, duck, "SELECT "+cols+" FROM "+c.duck)
			s := query(t, lite, lq)
			dv := []any{d.rows[0][0], d.rows[0][1], d.rows[0][2]}
			sv := []any{s.rows[0][0], s.rows[0][1], s.rows[0][2]}
			// DuckDB's sum of BIGINT is a HUGEINT (*big.Int).
			for i := range dv {
				dv[i] = normInt(dv[i])
			}
			if !reflect.DeepEqual(dv, sv) {
				t.Errorf("duckdb %v, sqlite %v", dv, sv)
			}
		})
	}
	// The options change the result: a short timeout splits flows.
	base := query(t, duck, "SELECT count(*) FROM flows('"+p+"')").rows[0][0].(int64)
	short := query(t, duck, "SELECT count(*) FROM flows('"+p+"', flow_timeout := 0.05)").rows[0][0].(int64)
	if short <= base {
		t.Errorf("flow_timeout := 0.05 gives %d flows, default %d: the option had no effect", short, base)
	}
}

func normInt(v any) any {
	type bigint interface{ Int64() int64 }
	if b, ok := v.(bigint); ok {
		return b.Int64()
	}
	return v
}

// TestBadArguments: a missing path, an unreadable file and a bad option value
// are query errors with the table's message.
func TestBadArguments(t *testing.T) {
	duck := openDuck(t, vtab.NewEnv())
	for _, c := range []struct{ q, want string }{
		{"SELECT * FROM flows(NULL)", "path argument required"},
		{"SELECT * FROM flows('/nonexistent/x.pcap')", "does not exist"},
		{"SELECT * FROM flows('" + sample(t) + "', flow_timeout := 'abc')", "abc"},
		{"SELECT * FROM packets()", "packets"},
		{"SELECT * FROM flows('" + sample(t) + "', flow_eviction_strategy := 'newest')", "newest"},
		{"SELECT * FROM flows('" + sample(t) + "', no_such_option := 1)", "no_such_option"},
	} {
		t.Run(c.q, func(t *testing.T) {
			rows, err := duck.Query(c.q)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestProjectionLaziness: DuckDB's projection reaches vtab as the used
// columns, so a query computes the feature groups of the columns it reads and
// no other, the same ones as in SQLite. One difference: DuckDB's C API has no
// row-id column, so for count(*) DuckDB reads the first column (src_ip) and
// its group (flow_meta, which keeps only the base per-packet records) runs.
func TestProjectionLaziness(t *testing.T) {
	p := sample(t)
	var drec, srec recorder
	duck, lite := openDuck(t, drec.env()), openSQLite(t, srec.env())
	first := groupOf(t, "src_ip")
	for _, c := range []struct {
		q            string
		duck, sqlite []string // groups computed
	}{
		{"SELECT count(*) FROM flows('" + p + "')", []string{first}, nil},
		{"SELECT sum(total_packets) FROM flows('" + p + "')", []string{groupOf(t, "total_packets")}, []string{groupOf(t, "total_packets")}},
		{"SELECT tls_sni FROM flows('" + p + "') WHERE tls_sni IS NOT NULL", []string{groupOf(t, "tls_sni")}, []string{groupOf(t, "tls_sni")}},
		{"SELECT count(*) FROM flows('" + p + "') WHERE ssh_detected", []string{groupOf(t, "ssh_detected")}, []string{groupOf(t, "ssh_detected")}},
		{"SELECT ja3, src_ip FROM flows('" + p + "') WHERE ja3 IS NOT NULL", []string{groupOf(t, "ja3"), first}, []string{groupOf(t, "ja3"), first}},
	} {
		t.Run(c.q, func(t *testing.T) {
			d := query(t, duck, c.q)
			ds := drec.take(t)
			s := query(t, lite, c.q)
			ss := srec.take(t)
			if len(d.rows) != len(s.rows) || !reflect.DeepEqual(fmt.Sprint(d.rows), fmt.Sprint(s.rows)) {
				t.Errorf("rows: duckdb %v, sqlite %v", d.rows, s.rows)
			}
			for _, e := range []struct {
				name string
				st   vtab.ScanStats
				want []string
			}{{"duckdb", ds, c.duck}, {"sqlite", ss, c.sqlite}} {
				var got []string
				for g := range e.st.ComputeCalls {
					got = append(got, g)
				}
				sort.Strings(got)
				want := append([]string(nil), e.want...)
				sort.Strings(want)
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s computed %v, want %v", e.name, e.st.ComputeCalls, want)
				}
			}
			if c.sqlite != nil && !reflect.DeepEqual(ds.ComputeCalls, ss.ComputeCalls) {
				t.Errorf("group runs: duckdb %v, sqlite %v", ds.ComputeCalls, ss.ComputeCalls)
			}
			if ds.Rows != ss.Rows || ds.Rows == 0 {
				t.Errorf("rows scanned: duckdb %d, sqlite %d", ds.Rows, ss.Rows)
			}
		})
	}
}

func groupOf(t *testing.T, col string) string {
	t.Helper()
	for _, c := range extractors.Columns() {
		if c.Name == col {
			return c.Group.ID
		}
	}
	t.Fatalf("no column %s", col)
	return ""
}

// TestOptionalColumns: a column option is a named parameter that adds its
// columns to SELECT *.
func TestOptionalColumns(t *testing.T) {
	p := sample(t)
	env := vtab.NewEnv()
	env.Options = map[string]bool{extractors.OptSPLT: false}
	duck := openDuck(t, env)
	plain := query(t, duck, "SELECT * FROM flows('"+p+"') LIMIT 1").cols
	with := query(t, duck, "SELECT * FROM flows('"+p+"', include_splt := true) LIMIT 1").cols
	if len(with) != len(plain)+2 || with[len(with)-2] != "splt_lengths" || with[len(with)-1] != "splt_times" {
		t.Errorf("include_splt := true adds %v", with[len(plain):])
	}
	d := query(t, duck, "SELECT splt_lengths FROM flows('"+p+"', include_splt := true) WHERE splt_lengths IS NOT NULL LIMIT 1")
	if len(d.rows) != 1 || !strings.HasPrefix(d.rows[0][0].(string), "[") {
		t.Errorf("splt_lengths = %v", d.rows)
	}
}

// TestAbandonedScan: a scan DuckDB stops early (LIMIT) still closes its
// cursor (and its capture file) once DuckDB drops it.
func TestAbandonedScan(t *testing.T) {
	var rec recorder
	duck := openDuck(t, rec.env())
	r := query(t, duck, "SELECT src_ip FROM flows('"+sample(t)+"') LIMIT 1")
	if len(r.rows) != 1 {
		t.Fatalf("%d rows", len(r.rows))
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		rec.mu.Lock()
		n := len(rec.scans)
		rec.mu.Unlock()
		if n > 0 {
			s := rec.take(t)
			if s.Rows == 0 || s.Rows > 2048 {
				t.Errorf("abandoned scan read %d rows", s.Rows)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the abandoned scan's cursor was never closed")
}

// constTable is a table without arguments, like the features table.
type constTable struct{}

func (constTable) Name() string { return "consts" }
func (constTable) Columns() []vtab.ColumnDef {
	return []vtab.ColumnDef{{Name: "name", Type: schema.Text}, {Name: "n", Type: schema.Int},
		{Name: "ok", Type: schema.Bool}, {Name: "secret", Type: schema.Int, Hidden: true}}
}
func (constTable) Open(args []schema.Value, used []bool) (vtab.Cursor, error) {
	if len(args) != 0 || len(used) != 4 || used[3] {
		return nil, fmt.Errorf("Open(%v, %v)", args, used)
	}
	return &constCursor{}, nil
}

type constCursor struct{ i int }

func (c *constCursor) Next() (bool, error) { c.i++; return c.i <= 3, nil }
func (c *constCursor) Column(i int) schema.Value {
	switch i {
	case 0:
		return schema.TextV(fmt.Sprint("row", c.i))
	case 1:
		return schema.IntV(int64(c.i * 10))
	case 2:
		return schema.BoolV(c.i%2 == 1)
	}
	return schema.IntV(-1)
}
func (c *constCursor) Rowid() int64 { return int64(c.i) }
func (c *constCursor) Close() error { return nil }

// TestTableWithoutArguments: a table with no arguments (the features table)
// is both a table macro and a view.
func TestTableWithoutArguments(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	env := vtab.NewEnv()
	macros, err := registerTables(conn, env, []vtab.Table{constTable{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range macros {
		if _, err := conn.ExecContext(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	conn.Close()
	want := "[[row1 10 true] [row2 20 false] [row3 30 true]]"
	for _, q := range []string{"SELECT * FROM consts ORDER BY n", "SELECT * FROM consts() ORDER BY n"} {
		r := query(t, db, q)
		if got := fmt.Sprint(r.rows); got != want || fmt.Sprint(r.types) != "[VARCHAR BIGINT BOOLEAN]" {
			t.Errorf("%s: %s %v, want %s", q, got, r.types, want)
		}
	}
}
