//go:build sqlite_vtable

package sqlite

import (
	"fmt"
	"slices"
	"testing"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// profileColumns returns what SELECT * of a profile view must return: the
// key columns, then the profile's other features in flows() order.
func profileColumns(p schema.Profile) []string {
	want := slices.Clone(vtab.KeyColumns)
	for _, c := range extractors.Columns() {
		if c.Profile == p && c.Option == "" && !slices.Contains(vtab.KeyColumns, c.Name) {
			want = append(want, c.Name)
		}
	}
	return want
}

func TestProfileViews(t *testing.T) {
	db, rec := openDB(t)
	p := sample(t)
	flowsN := queryInt(t, db, "SELECT count(*) FROM flows(?)", p)
	for _, v := range vtab.ProfileViews {
		t.Run(v.Name, func(t *testing.T) {
			want := profileColumns(v.Profile)
			if len(want) < len(vtab.KeyColumns)+20 {
				t.Fatalf("profile %v has only %d columns", v.Profile, len(want))
			}
			got := columnsOf(t, db, "SELECT * FROM "+v.Name+"(?) LIMIT 0", p)
			if !slices.Equal(got, want) {
				t.Fatalf("SELECT * FROM %s:\n got %v\nwant %v", v.Name, got, want)
			}

			// SELECT * computes only the profile's groups (and flow_meta
			// for the key columns).
			rows, err := db.Query("SELECT * FROM "+v.Name+"(?)", p)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if int64(n) != flowsN {
				t.Errorf("%d rows, flows() has %d", n, flowsN)
			}
			st := rec.last(t)
			for g := range st.ComputeCalls {
				gp := extractors.Lookup(g).Features[0].Profile
				if g != "flow_meta" && gp != v.Profile {
					t.Errorf("SELECT * computed group %s (%v)", g, gp)
				}
			}
			if len(st.ComputeCalls) < 2 {
				t.Errorf("SELECT * computed %v", st.ComputeCalls)
			}

			// Same rows and values as flows(), for a column of each profile
			// (hidden ones read by name), with a positional option.
			q := "SELECT count(*) FROM flows(?1, 30) f JOIN %s(?1, 30) v USING (flow_uid) " +
				"WHERE f.total_packets = v.total_packets AND f.tls_sni = v.tls_sni AND f.mac_src = v.mac_src AND f.ja3 = v.ja3_hash"
			if got := queryInt(t, db, fmt.Sprintf(q, v.Name), p); got != queryInt(t, db, "SELECT count(*) FROM flows(?, 30)", p) {
				t.Errorf("%s joined to flows() on equal values: %d rows", v.Name, got)
			}
			if got := queryInt(t, db, "SELECT count(*) FROM "+v.Name+" WHERE path = ? AND flow_timeout = 30 AND terminate_on_fin_rst = 0", p); got == 0 {
				t.Error("named arguments: no rows")
			}
		})
	}
}

// TestProfileValuesByName reads a few values of the sample through the
// views, hidden or not, and compares them with flows().
func TestProfileValuesByName(t *testing.T) {
	db, _ := openDB(t)
	p := sample(t)
	for _, q := range []string{
		"SELECT group_concat(tls_sni || ja4, ',') FROM (SELECT tls_sni, ja4 FROM %s(?) WHERE tls_detected ORDER BY flow_uid)",
		"SELECT sum(total_packets) || '/' || sum(tcp_syn_count) || '/' || sum(mac_vlan_count) FROM %s(?)",
		"SELECT group_concat(dns_query_name, ',') FROM (SELECT dns_query_name FROM %s(?) WHERE dns_detected ORDER BY flow_uid)",
	} {
		var want string
		if err := db.QueryRow(fmt.Sprintf(q, "flows"), p).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if len(want) < 5 {
			t.Fatalf("%s: %q", q, want)
		}
		for _, v := range vtab.ProfileViews {
			var got string
			if err := db.QueryRow(fmt.Sprintf(q, v.Name), p).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: %q, flows() %q", fmt.Sprintf(q, v.Name), got, want)
			}
		}
	}
}

// TestEnvProfile: with env.Profile (jjsql --profile) flows() itself is the
// profile view.
func TestEnvProfile(t *testing.T) {
	for _, prof := range schema.Profiles {
		t.Run(prof.String(), func(t *testing.T) {
			env := vtab.NewEnv()
			env.Profile = prof
			db := Open(env, "")
			defer db.Close()
			got := columnsOf(t, db, "SELECT * FROM flows(?) LIMIT 0", sample(t))
			if want := profileColumns(prof); !slices.Equal(got, want) {
				t.Errorf("SELECT * FROM flows():\n got %v\nwant %v", got, want)
			}
			var n int64
			if err := db.QueryRow("SELECT count(ja3_hash) + count(tls_sni) FROM flows(?)", sample(t)).Scan(&n); err != nil || n == 0 {
				t.Errorf("hidden columns by name: %d, %v", n, err)
			}
		})
	}
}
