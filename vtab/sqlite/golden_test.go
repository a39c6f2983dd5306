//go:build sqlite_vtable

package sqlite

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/vtab"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testdata(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "testdata"}, parts...)...)
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -tags sqlite_vtable ./vtab/sqlite -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestSchemaGolden lists every column of the flows, packets and features
// tables with its type, group and definition, so that any added, renamed or
// reordered column shows in review. (The profile views are flows() in
// another order; testdata/schema.json holds each feature's profile.)
func TestSchemaGolden(t *testing.T) {
	var b bytes.Buffer
	env := vtab.NewEnv()
	groupOf := map[string]string{}
	for _, c := range extractors.Columns() {
		groupOf[c.Name] = c.Group.ID
	}
	for _, tab := range []vtab.Table{vtab.NewFlowsTable(env), vtab.NewPacketsTable(env), vtab.NewFeaturesTable()} {
		for i, c := range tab.Columns() {
			kind := groupOf[c.Name]
			if c.Kind == vtab.KindAlias {
				kind = "alias"
			} else if c.Hidden {
				kind = "argument"
			} else if kind == "" {
				kind = "-"
			}
			fmt.Fprintf(&b, "%s\t%d\t%s\t%s\t%s\t%s\n", tab.Name(), i, c.Name, c.Type.SQL(), kind, c.Doc)
		}
	}
	golden(t, testdata("schema.golden"), b.Bytes())
}

// TestFlowsGolden pins every column of flows() over the generated sample.
func TestFlowsGolden(t *testing.T) {
	for _, name := range []string{"sample.pcap", "sample.pcapng"} {
		t.Run(name, func(t *testing.T) {
			db, _ := openDB(t)
			rows, err := db.Query("SELECT * FROM flows(?) ORDER BY flow_uid", testdata(name))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var b bytes.Buffer
			w, _ := output.New("tsv", &b)
			w.Begin(cols)
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				w.Row(vals)
				n++
			}
			w.End()
			if n == 0 {
				t.Fatal("no flows")
			}
			golden(t, testdata("golden", "flows", name+".tsv"), b.Bytes())
		})
	}
}
