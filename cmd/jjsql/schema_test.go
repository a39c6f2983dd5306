//go:build sqlite_vtable

package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

var update = flag.Bool("update", false, "rewrite testdata/schema.json")

func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

// TestSchemaJSON pins the feature-schema document (testdata/schema.json;
// rewrite it with go test -tags sqlite_vtable ./cmd/jjsql -run SchemaJSON
// -update when a change is intended) and checks it against the registry.
func TestSchemaJSON(t *testing.T) {
	out, errs, code := jj(t, "schema", "--json")
	if code != 0 {
		t.Fatalf("schema --json: code %d, stderr %q", code, errs)
	}
	if again, _, _ := jj(t, "schema", "--json"); again != out {
		t.Fatal("schema --json differs between two runs")
	}
	golden := repoFile("testdata", "schema.json")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -tags sqlite_vtable ./cmd/jjsql -run SchemaJSON -update)", err)
	}
	if string(want) != out {
		gl, wl := strings.Split(out, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d (run with -update if the change is intended)", golden, i+1)
			}
		}
	}

	var doc schemaDoc
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != vtab.SchemaVersion || doc.JJSQLVersion != version || doc.Table != "flows" ||
		!slices.Equal(doc.KeyColumns, vtab.KeyColumns) || !slices.Equal(doc.Profiles, []string{"JJ-CORE", "JJ-EXTENDED", "JJ-EXPERIMENTAL"}) {
		t.Errorf("header: version %d, jjsql %q, table %q, keys %v, profiles %v", doc.SchemaVersion, doc.JJSQLVersion, doc.Table, doc.KeyColumns, doc.Profiles)
	}
	// flows() order: every-day features, flow_uid, then optional columns.
	var reg, optional []extractors.Column
	for _, c := range extractors.Columns() {
		if c.Option == "" {
			reg = append(reg, c)
		} else {
			optional = append(optional, c)
		}
	}
	uidPos := len(reg)
	reg = append(append(reg, extractors.Column{}), optional...)
	if len(doc.Features) != len(reg) {
		t.Fatalf("%d features, want %d registered columns + flow_uid", len(doc.Features), len(reg))
	}
	seenJJ := map[string]int{}
	for i, f := range doc.Features {
		jjName := f.JoyfulJayName
		if jjName != "" {
			seenJJ[jjName]++
		}
		if (i <= uidPos && f.Position != i) || (i > uidPos && f.Position <= doc.Features[i-1].Position) || f.ID != f.Group+"."+f.Name {
			t.Errorf("feature %d: position %d, id %s", i, f.Position, f.ID)
		}
		if i == uidPos {
			if f.Name != "flow_uid" || f.Default != nil || !f.FlowKey || f.Origin != "jjsql" {
				t.Errorf("last feature %+v, want flow_uid", f)
			}
			continue
		}
		c := reg[i]
		if f.Name != c.Name || f.Group != c.Group.ID || f.DType != c.Type.String() || f.SQLType != c.Type.SQL() || f.Units != c.Unit ||
			f.Profile != c.Profile.String() || f.Description != c.Doc || f.CrossFlow != c.Group.CrossFlow() || f.Option != c.Option {
			t.Errorf("feature %d %+v, registry %s/%s %v %q %v", i, f, c.Group.ID, c.Name, c.Type, c.Unit, c.Profile)
		}
		if !jsonEqual(c.DefaultValue(), f.Default) {
			t.Errorf("%s: default %v (%T), registry %v", f.ID, f.Default, f.Default, c.DefaultValue())
		}
		wantJJ, wantOrigin := c.Name, "joyfuljay"
		if r, ok := map[string]string{"ja3": "ja3_hash", "ja3s": "ja3s_hash"}[c.Name]; ok {
			wantJJ = r
		} else if cf, ok := schema.Lookup(c.Name); !ok || cf.Group != c.Group.ID {
			wantJJ, wantOrigin = "", "jjsql"
		}
		if jjName != wantJJ || f.Origin != wantOrigin {
			t.Errorf("%s: joyfuljay_name %q origin %q, want %q %q", f.ID, jjName, f.Origin, wantJJ, wantOrigin)
		}
	}
	for n, c := range seenJJ {
		if _, ok := schema.Lookup(n); !ok || c != 1 {
			t.Errorf("joyfuljay_name %s: %d times, in the catalogue: %v", n, c, ok)
		}
	}
	for _, tc := range []struct {
		id      string
		payload bool
		def     any
	}{
		{"tls.ja3", true, ""},
		{"tls.ja4", true, ""},
		{"flow_meta.total_packets", false, 0.0},
		{"icmp.icmp_dominant_type", false, -1.0},
		{"ip_extended.ip_version", false, 4.0},
		{"tcp.tcp_is_tcp", false, false},
		{"tcp_fingerprint.tcp_os_hint_fwd", false, "unknown"},
	} {
		i := slices.IndexFunc(doc.Features, func(f schemaFeature) bool { return f.ID == tc.id })
		if i < 0 {
			t.Errorf("%s missing", tc.id)
			continue
		}
		if f := doc.Features[i]; f.NeedsPayload != tc.payload || f.Default != tc.def {
			t.Errorf("%s: needs_payload %v default %v (%T), want %v %v", tc.id, f.NeedsPayload, f.Default, f.Default, tc.payload, tc.def)
		}
	}
}

// schemaDoc is the document as a reader decodes it, with every field (the
// decoder rejects unknown ones).
type schemaDoc struct {
	SchemaVersion int             `json:"schema_version"`
	JJSQLVersion  string          `json:"jjsql_version"`
	Table         string          `json:"table"`
	Profiles      []string        `json:"profiles"`
	KeyColumns    []string        `json:"key_columns"`
	Features      []schemaFeature `json:"features"`
}

type schemaFeature struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	JoyfulJayName string `json:"joyfuljay_name"`
	Group         string `json:"group"`
	Position      int    `json:"position"`
	DType         string `json:"dtype"`
	SQLType       string `json:"sql_type"`
	Units         string `json:"units"`
	Profile       string `json:"profile"`
	Default       any    `json:"default"`
	Description   string `json:"description"`
	NeedsPayload  bool   `json:"needs_payload"`
	CrossFlow     bool   `json:"cross_flow"`
	FlowKey       bool   `json:"flow_key"`
	Origin        string `json:"origin"`
	Option        string `json:"option"`
}

// jsonEqual compares a registry value with its decoded JSON form.
func jsonEqual(v schema.Value, got any) bool {
	switch v.Kind {
	case schema.Int:
		f, ok := got.(float64)
		return ok && f == float64(v.I)
	case schema.Real:
		f, ok := got.(float64)
		return ok && f == v.F
	case schema.Bool:
		b, ok := got.(bool)
		return ok && b == (v.I != 0)
	case schema.Text:
		s, ok := got.(string)
		return ok && s == v.S
	}
	return got == nil
}

func TestSchemaCommand(t *testing.T) {
	out, errs, code := jj(t, "schema", "--format", "tsv")
	if code != 0 {
		t.Fatalf("schema: code %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	everyday := 0
	for _, c := range extractors.Columns() {
		if c.Option == "" {
			everyday++
		}
	}
	if lines[0] != "position\tname\tgrp\tdtype\tunits\tprofile\tdefault_value\tdescription" || len(lines) != everyday+2 {
		t.Fatalf("schema: header %q, %d lines", lines[0], len(lines))
	}
	if !strings.HasPrefix(lines[1], "0\tsrc_ip\tflow_meta\tstring\t\tJJ-CORE\t\t") {
		t.Errorf("first row %q", lines[1])
	}
	out, _, code = jj(t, "schema", "--profile", "experimental", "--format", "csv")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) < 10 || !strings.HasPrefix(lines[7], "6,flow_uid,") || !strings.HasPrefix(lines[8], "7,pkt_size_variance,padding,float64,bytes^2,JJ-EXPERIMENTAL,0,") {
		t.Errorf("schema --profile experimental: code %d, lines %q", code, lines[:min(len(lines), 10)])
	}
	for _, args := range [][]string{{"schema", "extra"}, {"--json", "SELECT 1"}, {"--profile", "basic", "SELECT 1"}} {
		if _, errs, code := jj(t, args...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: code %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}

// TestProfileFlag runs SELECT * under --profile: the header is the key
// columns and the profile's features, as `jjsql schema --profile` lists them.
func TestProfileFlag(t *testing.T) {
	sample := repoFile("testdata", "sample.pcap")
	for _, p := range []string{"core", "extended", "experimental", "all"} {
		t.Run(p, func(t *testing.T) {
			out, errs, code := jj(t, "--profile", p, "--format", "csv", "SELECT * FROM flows('"+sample+"') LIMIT 1")
			if code != 0 {
				t.Fatalf("code %d, stderr %q", code, errs)
			}
			header := strings.Split(strings.SplitN(out, "\n", 2)[0], ",")
			list, _, _ := jj(t, "schema", "--profile", p, "--format", "csv")
			var want []string
			for _, l := range strings.Split(strings.TrimSuffix(list, "\n"), "\n")[1:] {
				want = append(want, strings.Split(l, ",")[1])
			}
			if !slices.Equal(header, want) {
				t.Errorf("header %v\nschema %v", header, want)
			}
			if p != "all" && !slices.Equal(header[:len(vtab.KeyColumns)], vtab.KeyColumns) {
				t.Errorf("header starts %v", header[:len(vtab.KeyColumns)])
			}
		})
	}
}
