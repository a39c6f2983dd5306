//go:build sqlite_vtable

package sqlite

import (
	"bufio"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// jjRenamed are JoyfulJay's columns that flows() shows under another name
// (the JoyfulJay name stays a hidden alias).
var jjRenamed = map[string]string{"ja3_hash": "ja3", "ja3s_hash": "ja3s"}

func columnsOf(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// specNames returns the column names of ../shared/spec/features.tsv in
// file order, skipping the test when the spec is absent (failing under
// CI=true).
func specNames(t *testing.T) []string {
	t.Helper()
	base := os.Getenv("JJ_CORPUS")
	if base == "" {
		_, file, _, _ := runtime.Caller(0)
		base = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	}
	p := filepath.Join(base, "..", "spec", "features.tsv")
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("feature list missing under CI: %v", err)
		}
		t.Skipf("feature list not available: %v", err)
	}
	defer f.Close()
	var names []string
	col := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col < 0 {
			col = slices.Index(fields, "column_name")
			if col < 0 {
				t.Fatalf("%s: no column_name column", p)
			}
			continue
		}
		if len(fields) > col {
			names = append(names, fields[col])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func catalogNames() []string {
	var out []string
	for _, f := range schema.Catalog {
		out = append(out, f.Name)
	}
	return out
}

// TestFeaturesTableAgreesWithRegistry reads the whole features table and
// compares each row with the registry's column of the same position, and
// the table's names with the visible columns of flows().
func TestFeaturesTableAgreesWithRegistry(t *testing.T) {
	db, _ := openDB(t)
	rows, err := db.Query(`SELECT position, name, grp, dtype, units, profile, default_value, typeof(default_value),
		description, needs_payload, cross_flow, flow_key, origin, jj_name FROM features`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	all := extractors.Columns()
	aliasOf := map[string]string{}
	for _, a := range extractors.Aliases() {
		aliasOf[all[a.Target].Name] = a.Name
	}
	// flows() order: the every-day features, flow_uid, then the optional
	// columns (hidden unless their option is on).
	var reg, optional []extractors.Column
	for _, c := range all {
		if c.Option == "" {
			reg = append(reg, c)
		} else {
			optional = append(optional, c)
		}
	}
	uidPos := len(reg)
	reg = append(append(reg, extractors.Column{}), optional...)
	var names []string
	n, prevPos := 0, -1
	for rows.Next() {
		var pos int
		var name, grp, dtype, units, profile, defType, desc, origin, jjName string
		var def any
		var needsPayload, crossFlow, flowKey bool
		if err := rows.Scan(&pos, &name, &grp, &dtype, &units, &profile, &def, &defType, &desc, &needsPayload, &crossFlow, &flowKey, &origin, &jjName); err != nil {
			t.Fatal(err)
		}
		// Positions are flows() column indexes: contiguous up to flow_uid;
		// the optional columns come after the hidden arguments and aliases.
		if (n <= uidPos && pos != n) || (n > uidPos && pos <= prevPos) {
			t.Fatalf("row %d has position %d", n, pos)
		}
		prevPos = pos
		row := n
		n++
		names = append(names, name)
		if row == uidPos {
			// flow_uid, the one column between the features and the optional ones.
			if name != "flow_uid" || dtype != "int64" || def != nil || !flowKey || origin != "jjsql" || profile != "JJ-CORE" {
				t.Errorf("flow_uid row: %s %s %v flow_key=%v %s %s", name, dtype, def, flowKey, origin, profile)
			}
			continue
		}
		if row >= len(reg) {
			t.Fatalf("row %d (%s) beyond the %d registered columns and flow_uid", pos, name, len(reg))
		}
		c := reg[row]
		g := c.Group
		plan := extractors.PlanGroups(g.ID)
		needs := plan.Needs | plan.CrossNeeds
		wantJJ := ""
		if f, ok := schema.Lookup(c.Name); ok && f.Group == g.ID {
			wantJJ = c.Name
		} else if a := aliasOf[c.Name]; a != "" {
			wantJJ = a
		}
		wantOrigin := "joyfuljay"
		if wantJJ == "" {
			wantOrigin = "jjsql"
		}
		wantDefType := map[schema.Type]string{schema.Int: "integer", schema.Bool: "integer", schema.Real: "real", schema.Text: "text"}[c.Type]
		if name != c.Name || grp != g.ID || dtype != c.Type.String() || units != c.Unit || profile != c.Profile.String() ||
			desc != c.Doc || defType != wantDefType || jjName != wantJJ || origin != wantOrigin ||
			needsPayload != (needs&^headerOnly != 0) || crossFlow != g.CrossFlow() ||
			flowKey != slices.Contains(vtab.KeyColumns, c.Name) {
			t.Errorf("row %d: %s/%s %s %q %s default %v (%s) jj %q %s payload=%v cross=%v key=%v; registry %s/%s %v %q %v jj %q",
				pos, grp, name, dtype, units, profile, def, defType, jjName, origin, needsPayload, crossFlow, flowKey,
				g.ID, c.Name, c.Type, c.Unit, c.Profile, wantJJ)
		}
		if !valueEqualsSQL(c.DefaultValue(), def) {
			t.Errorf("%s: default_value %v, registry %v", c.Name, def, c.DefaultValue())
		}
		if c.Profile == schema.NoProfile {
			t.Errorf("%s (group %s) has no profile: give it one in its declaration", c.Name, g.ID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(reg) {
		t.Errorf("features has %d rows, want %d registered columns + flow_uid", n, len(reg))
	}
	flowCols := columnsOf(t, db, "SELECT * FROM flows(?) LIMIT 0", sample(t))
	if !slices.Equal(names[:min(uidPos+1, len(names))], flowCols) {
		t.Errorf("features names differ from SELECT * FROM flows():\n%v\n%v", names, flowCols)
	}
}

// headerOnly are the Needs bits of header records and sums (NeedHeadCount
// reads the first payload bytes but keeps none); any other bit keeps
// payload bytes.
const headerOnly = flows.NeedBase | flows.NeedTCP | flows.NeedIP | flows.NeedL2 | flows.NeedICMP | flows.NeedSum | flows.NeedHeadCount

// valueEqualsSQL compares a registry value with what database/sql scanned
// into an any.
func valueEqualsSQL(v schema.Value, got any) bool {
	switch v.Kind {
	case schema.Int, schema.Bool:
		g, ok := got.(int64)
		return ok && g == v.I
	case schema.Real:
		g, ok := got.(float64)
		return ok && g == v.F
	case schema.Text:
		switch g := got.(type) {
		case string:
			return g == v.S
		case []byte:
			return string(g) == v.S
		}
	case schema.Null:
		return got == nil
	}
	return false
}

// TestFeaturesTableValues checks rows a user would look up.
func TestFeaturesTableValues(t *testing.T) {
	db, _ := openDB(t)
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"SELECT group_concat(name, ',') FROM features WHERE grp = 'tls' AND name LIKE 'ja%'", "ja3,ja3s,ja4,ja4_r"},
		{"SELECT jj_name FROM features WHERE name = 'ja3'", "ja3_hash"},
		{"SELECT jj_name || '|' || origin FROM features WHERE name = 'ja4'", "|jjsql"},
		{"SELECT origin || '|' || profile FROM features WHERE name = 'flow_id'", "jjsql|JJ-CORE"},
		{"SELECT default_value FROM features WHERE name = 'icmp_dominant_type'", "-1"},
		{"SELECT default_value FROM features WHERE name = 'ip_version'", "4"},
		{"SELECT default_value FROM features WHERE name = 'tcp_os_hint_fwd'", "unknown"},
		{"SELECT typeof(default_value) FROM features WHERE name = 'iat_mean'", "real"},
		{"SELECT needs_payload FROM features WHERE name = 'tls_sni'", "1"},
		{"SELECT needs_payload FROM features WHERE name = 'total_packets'", "0"},
		{"SELECT units FROM features WHERE name = 'duration'", "s"},
		{"SELECT group_concat(name, ',') FROM (SELECT name FROM features WHERE flow_key ORDER BY position)", "src_ip,dst_ip,src_port,dst_port,protocol,start_time,flow_uid"},
		{"SELECT count(*) FROM features WHERE grp = 'tcp_mptcp' AND profile = 'JJ-EXPERIMENTAL'", "6"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			var got string
			if err := db.QueryRow(tc.q).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFeatureNamesOnce checks that each name of JoyfulJay's feature list
// (the catalogue generated from it, and features.tsv itself when present)
// is exactly one column of flows(): as its name, or for ja3_hash and
// ja3s_hash as the jj_name of ja3 and ja3s.
func TestFeatureNamesOnce(t *testing.T) {
	db, _ := openDB(t)
	count := map[string]int{}
	rows, err := db.Query("SELECT jj_name FROM features WHERE jj_name <> ''")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		count[n]++
	}
	rows.Close()
	registered := map[string]bool{}
	for _, g := range extractors.Groups() {
		registered[g.ID] = true
	}
	check := func(t *testing.T, names []string) {
		if len(names) != 401 {
			t.Errorf("%d names, want 401", len(names))
		}
		for _, name := range names {
			f, ok := schema.Lookup(name)
			if !ok {
				t.Errorf("%s: not in the catalogue", name)
				continue
			}
			switch {
			case !registered[f.Group]:
				t.Errorf("%s: group %s is not registered", name, f.Group)
			case count[name] != 1:
				t.Errorf("%s appears %d times in features", name, count[name])
			}
		}
	}
	t.Run("catalogue", func(t *testing.T) { check(t, catalogNames()) })
	t.Run("features.tsv", func(t *testing.T) {
		names := specNames(t)
		if !slices.Equal(names, catalogNames()) {
			t.Error("features.tsv and the generated catalogue differ: run make schema")
		}
		check(t, names)
	})
	for n, c := range count {
		if _, ok := schema.Lookup(n); !ok || c != 1 {
			t.Errorf("jj_name %s: %d rows, in catalogue %v", n, c, ok)
		}
	}
}

// TestSelectStarOrder checks the column list of SELECT * FROM flows():
// features.tsv order (ja3 and ja3s in place of ja3_hash and ja3s_hash), the
// columns jjsql adds right after their group, then flow_uid.
func TestSelectStarOrder(t *testing.T) {
	db, _ := openDB(t)
	got := columnsOf(t, db, "SELECT * FROM flows(?) LIMIT 0", sample(t))
	check := func(t *testing.T, names []string) {
		additions := map[string][]string{} // group -> columns jjsql adds, in registry order
		for _, c := range extractors.Columns() {
			if f, ok := schema.Lookup(c.Name); ok && f.Group == c.Group.ID {
				continue
			}
			if slices.Contains([]string{"ja3", "ja3s"}, c.Name) || c.Option != "" {
				continue // ja3/ja3s stand for ja3_hash/ja3s_hash; optional columns are not in SELECT *
			}
			additions[c.Group.ID] = append(additions[c.Group.ID], c.Name)
		}
		var want []string
		for i, name := range names {
			f, _ := schema.Lookup(name)
			if r, ok := jjRenamed[name]; ok {
				name = r
			}
			want = append(want, name)
			if next, _ := schema.Lookup(names[min(i+1, len(names)-1)]); i+1 == len(names) || next.Group != f.Group {
				want = append(want, additions[f.Group]...)
				delete(additions, f.Group)
			}
		}
		if len(additions) > 0 {
			t.Errorf("additions of groups not in the feature list: %v", additions)
		}
		want = append(want, "flow_uid")
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("column %d is %s, want %s\n got %v\nwant %v", i, got[i], want[i], got, want)
				}
			}
			t.Fatalf("%d columns, want %d\n got %v\nwant %v", len(got), len(want), got, want)
		}
	}
	t.Run("catalogue", func(t *testing.T) { check(t, catalogNames()) })
	t.Run("features.tsv", func(t *testing.T) { check(t, specNames(t)) })
	// The additions known today sit where the README says.
	for _, tc := range []struct{ col, after string }{{"flow_id", "hdr_desc"}, {"ja4", "tls_key_exchange_length"}, {"ja4_r", "ja4"}} {
		i := slices.Index(got, tc.col)
		if i < 1 || got[i-1] != tc.after {
			t.Errorf("%s at %d, want right after %s", tc.col, i, tc.after)
		}
	}
}
