package sqlitec

import (
	"slices"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/vtab"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		n    int
		text string
		want string
	}{
		{3040001, "3.40.1", ""},
		{3010000, "3.10.0", ""},
		{3009002, "3.9.2", "jjsql: this extension needs SQLite 3.10.0 or newer (sqlite3_index_info.colUsed and table-valued functions); this SQLite is 3.9.2"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			err := checkVersion(tc.n, tc.text)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("checkVersion(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}

// TestLayout checks the declared column order: arguments first, then every
// other column in the table's order, so SELECT * and positional arguments
// are unchanged.
func TestLayout(t *testing.T) {
	for _, tb := range vtab.Tables(vtab.NewEnv()) {
		t.Run(tb.Name(), func(t *testing.T) {
			cols := tb.Columns()
			et := newExtTable(tb)
			if len(et.tcol) != len(cols) {
				t.Fatalf("%d declared columns, want %d", len(et.tcol), len(cols))
			}
			var visible, hidden, wantVisible, wantHidden []string
			for _, c := range cols {
				if c.Hidden {
					wantHidden = append(wantHidden, c.Name)
				} else {
					wantVisible = append(wantVisible, c.Name)
				}
			}
			nargs := 0
			for d, ti := range et.tcol {
				c := cols[ti]
				if c.Kind == vtab.KindArg {
					nargs++
					if d >= nargs {
						t.Errorf("argument %s at declared position %d, after a non-argument column", c.Name, d)
					}
				}
				if c.Hidden {
					hidden = append(hidden, c.Name)
				} else {
					visible = append(visible, c.Name)
				}
			}
			if strings.Join(visible, ",") != strings.Join(wantVisible, ",") {
				t.Errorf("visible columns reordered")
			}
			if strings.Join(hidden, ",") != strings.Join(wantHidden, ",") {
				t.Errorf("hidden columns reordered: %v, want %v", hidden, wantHidden)
			}
			if nargs > 63 {
				t.Errorf("%d argument columns: more than colUsed can tell apart", nargs)
			}
			sql := declare(cols, et.tcol)
			if nargs > 0 && !strings.HasPrefix(sql, `CREATE TABLE x("path" TEXT HIDDEN, "flow_timeout" REAL HIDDEN, `) {
				t.Errorf("declared as %.80s...", sql)
			}
			if !strings.HasPrefix(sql, "CREATE TABLE x(") || strings.Count(sql, " HIDDEN") != len(wantHidden) {
				t.Errorf("declared as %s", sql)
			}
		})
	}
}

func TestParseIndex(t *testing.T) {
	// Declared order: column 0 is table column 2, 1 is 0, 2 is 1, 3 is 3.
	tcol := []int{2, 0, 1, 3}
	for _, tc := range []struct {
		idx   string
		order []int
		used  []bool
		err   bool
	}{
		{"0|01", []int{0}, []bool{false, false, true, false}, false},
		{"0,3,1|0f", []int{0, 3, 1}, []bool{true, true, true, true}, false},
		{"|0a", nil, []bool{true, false, false, true}, false},
		{"0|", nil, nil, true},     // bitmap too short
		{"0|0100", nil, nil, true}, // too long
		{"9|01", nil, nil, true},   // argument out of range
		{"x|01", nil, nil, true},
		{"01", nil, nil, true},
	} {
		t.Run(tc.idx, func(t *testing.T) {
			order, used, err := parseIndex(tc.idx, 4, tcol)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if tc.err {
				return
			}
			if !slices.Equal(order, tc.order) {
				t.Errorf("order = %v, want %v", order, tc.order)
			}
			for i := range tc.used {
				if used[i] != tc.used[i] {
					t.Errorf("used = %v, want %v", used, tc.used)
					break
				}
			}
		})
	}
}
