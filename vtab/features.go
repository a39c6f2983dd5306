package vtab

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// SchemaVersion is the version of the feature-schema document
// (WriteSchemaJSON). It changes when the document's layout changes, not when
// a feature is added.
const SchemaVersion = 1

// headerNeeds are the per-packet records and sums that hold header fields
// only (NeedHeadCount reads the first payload bytes but keeps none); any
// other Needs bit keeps payload bytes.
const headerNeeds = flows.NeedBase | flows.NeedTCP | flows.NeedIP | flows.NeedL2 | flows.NeedICMP |
	flows.NeedSum | flows.NeedHeadCount

// FeatureInfo describes one column of flows(): the rows of the features
// table and the entries of the schema document.
type FeatureInfo struct {
	Position    int    // index of the column in flows(), i.e. in SELECT * order
	Name        string // column name in flows()
	JJName      string // JoyfulJay's column name ("ja3_hash" for ja3); "" for a column jjsql adds
	Group       string
	Type        schema.Type
	Units       string
	Profile     schema.Profile
	Default     schema.Value // NULL for flow_uid, which always has a value
	Description string
	// NeedsPayload is set when computing the column keeps payload bytes (its
	// group, or a group it depends on, needs more than header records).
	NeedsPayload bool
	CrossFlow    bool // the value depends on every flow of the scan
	FlowKey      bool // one of KeyColumns, carried by every profile view
	// Option is the JoyfulJay option (include_raw_sequences, include_splt,
	// connection_include_temporal) that shows the column in SELECT *; ""
	// for the every-day columns. Optional columns are HIDDEN otherwise.
	Option string
}

// ID returns "<group>.<name>".
func (f FeatureInfo) ID() string { return f.Group + "." + f.Name }

// Origin returns "joyfuljay" for JoyfulJay's features and "jjsql" for the
// columns jjsql adds.
func (f FeatureInfo) Origin() string {
	if f.JJName != "" {
		return "joyfuljay"
	}
	return "jjsql"
}

// Features returns one FeatureInfo per column of flows() that is not an
// argument or an alias, in flows() order: every feature of the registry,
// flow_uid, and last the optional columns (Option names the option that
// shows them in SELECT *). An alias shows as the JJName of the column it
// names.
func Features() []FeatureInfo {
	all := extractors.Columns()
	aliasOf := map[int]string{} // registry index -> JoyfulJay name it stands for
	for _, a := range extractors.Aliases() {
		if _, ok := schema.Lookup(a.Name); ok {
			aliasOf[a.Target] = a.Name
		}
	}
	key := map[string]bool{}
	for _, k := range KeyColumns {
		key[k] = true
	}
	ft := NewFlowsTable(NewEnv())
	var out []FeatureInfo
	for i, tc := range ft.Columns() {
		switch tc.Kind {
		case KindFeature:
			ri := ft.feat[i]
			c := all[ri]
			jj := ""
			if f, ok := schema.Lookup(c.Name); ok && f.Group == c.Group.ID {
				jj = c.Name
			} else if a, ok := aliasOf[ri]; ok {
				jj = a
			}
			plan := extractors.PlanGroups(c.Group.ID)
			out = append(out, FeatureInfo{
				Position: i, Name: c.Name, JJName: jj, Group: c.Group.ID, Type: c.Type, Units: c.Unit,
				Profile: c.Profile, Default: c.DefaultValue(), Description: c.Doc,
				NeedsPayload: (plan.Needs|plan.CrossNeeds)&^headerNeeds != 0, CrossFlow: plan.Cross, FlowKey: key[c.Name],
				Option: c.Option,
			})
		case KindField:
			out = append(out, FeatureInfo{Position: i, Name: tc.Name, Group: "flow_meta", Type: tc.Type,
				Profile: schema.Core, Description: tc.Doc, FlowKey: key[tc.Name]})
		}
	}
	return out
}

// FeaturesTable is the features table: one row per column of flows(), with
// its group, type, units, profile, default and definition.
//
//	SELECT name FROM features WHERE grp = 'tls'
type FeaturesTable struct {
	cols []ColumnDef
	rows [][]schema.Value
}

// Columns of the features table, in order.
var featureColumns = []struct {
	name string
	typ  schema.Type
	doc  string
	get  func(f *FeatureInfo) schema.Value
}{
	{"name", schema.Text, "column name in flows()", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Name) }},
	{"grp", schema.Text, "feature group", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Group) }},
	{"dtype", schema.Text, "JoyfulJay's dtype: int64, float64, bool or string", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Type.String()) }},
	{"units", schema.Text, "units ('' when unitless)", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Units) }},
	{"profile", schema.Text, "JJ-CORE, JJ-EXTENDED or JJ-EXPERIMENTAL", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Profile.String()) }},
	// Null type: the declared type is empty, so each row keeps its default's own type.
	{"default_value", schema.Null, "value when the column's input is absent (NULL for flow_uid)", func(f *FeatureInfo) schema.Value { return f.Default }},
	{"description", schema.Text, "one-line definition", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Description) }},
	{"position", schema.Int, "index of the column in flows() (SELECT * order, from 0)", func(f *FeatureInfo) schema.Value { return schema.IntV(int64(f.Position)) }},
	{"needs_payload", schema.Bool, "1 if computing the column keeps payload bytes", func(f *FeatureInfo) schema.Value { return schema.BoolV(f.NeedsPayload) }},
	{"cross_flow", schema.Bool, "1 if the value depends on every flow of the scan", func(f *FeatureInfo) schema.Value { return schema.BoolV(f.CrossFlow) }},
	{"flow_key", schema.Bool, "1 for the key columns every profile view carries", func(f *FeatureInfo) schema.Value { return schema.BoolV(f.FlowKey) }},
	{"origin", schema.Text, "'joyfuljay' or 'jjsql' (a column jjsql adds)", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Origin()) }},
	{"jj_name", schema.Text, "JoyfulJay's column name ('' for a column jjsql adds)", func(f *FeatureInfo) schema.Value { return schema.TextV(f.JJName) }},
	{"option", schema.Text, "the option that shows the column in SELECT * (include_raw_sequences, include_splt, connection_include_temporal); '' for every-day columns", func(f *FeatureInfo) schema.Value { return schema.TextV(f.Option) }},
}

// NewFeaturesTable returns the features table.
func NewFeaturesTable() *FeaturesTable {
	t := &FeaturesTable{}
	for _, c := range featureColumns {
		t.cols = append(t.cols, ColumnDef{Name: c.name, Type: c.typ, Kind: KindField, Doc: c.doc})
	}
	for _, f := range Features() {
		row := make([]schema.Value, len(featureColumns))
		for i, c := range featureColumns {
			row[i] = c.get(&f)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// Name implements Table.
func (t *FeaturesTable) Name() string { return "features" }

// Columns implements Table.
func (t *FeaturesTable) Columns() []ColumnDef { return t.cols }

// Open implements Table. The table takes no arguments.
func (t *FeaturesTable) Open([]schema.Value, []bool) (Cursor, error) {
	return &rowsCursor{rows: t.rows, i: -1}, nil
}

// rowsCursor walks fixed rows.
type rowsCursor struct {
	rows [][]schema.Value
	i    int
}

func (c *rowsCursor) Next() (bool, error) {
	if c.i < len(c.rows) {
		c.i++
	}
	return c.i < len(c.rows), nil
}

func (c *rowsCursor) Column(i int) schema.Value {
	if c.i < 0 || c.i >= len(c.rows) || i < 0 || i >= len(c.rows[c.i]) {
		return schema.NullV()
	}
	return c.rows[c.i][i]
}

func (c *rowsCursor) Rowid() int64 { return int64(c.i) + 1 }
func (c *rowsCursor) Close() error { return nil }

// SchemaDoc is the feature-schema document of `jjsql schema --json`.
type SchemaDoc struct {
	SchemaVersion int          `json:"schema_version"`
	JJSQLVersion  string       `json:"jjsql_version"`
	Table         string       `json:"table"`
	Profiles      []string     `json:"profiles"`
	KeyColumns    []string     `json:"key_columns"`
	Features      []FeatureDoc `json:"features"`
}

// FeatureDoc is one feature of SchemaDoc.
type FeatureDoc struct {
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
	Option        string `json:"option,omitempty"`
}

// Schema returns the feature-schema document of the registry.
func Schema(version string) (SchemaDoc, error) {
	d := SchemaDoc{SchemaVersion: SchemaVersion, JJSQLVersion: version, Table: "flows", KeyColumns: KeyColumns}
	for _, p := range schema.Profiles {
		d.Profiles = append(d.Profiles, p.String())
	}
	for _, f := range Features() {
		def, err := jsonValue(f.Default)
		if err != nil {
			return d, fmt.Errorf("vtab: %s: %w", f.Name, err)
		}
		d.Features = append(d.Features, FeatureDoc{
			ID: f.ID(), Name: f.Name, JoyfulJayName: f.JJName, Group: f.Group, Position: f.Position,
			DType: f.Type.String(), SQLType: f.Type.SQL(), Units: f.Units, Profile: f.Profile.String(),
			Default: def, Description: f.Description, NeedsPayload: f.NeedsPayload, CrossFlow: f.CrossFlow,
			FlowKey: f.FlowKey, Origin: f.Origin(), Option: f.Option,
		})
	}
	return d, nil
}

// WriteSchemaJSON writes the feature-schema document as indented JSON.
func WriteSchemaJSON(w io.Writer, version string) error {
	d, err := Schema(version)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// jsonValue returns v as a JSON-encodable value: a number, a boolean, a
// string or nil.
func jsonValue(v schema.Value) (any, error) {
	switch v.Kind {
	case schema.Int:
		return v.I, nil
	case schema.Bool:
		return v.I != 0, nil
	case schema.Real:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			return nil, fmt.Errorf("default %s has no JSON form", schema.FormatFloat(v.F))
		}
		// As a JSON number with a decimal point (0.0, not 0), so the
		// document shows the default's type as well as its value.
		n := strconv.FormatFloat(v.F, 'g', -1, 64)
		if !strings.ContainsAny(n, ".e") {
			n += ".0"
		}
		return json.Number(n), nil
	case schema.Text:
		return v.S, nil
	case schema.Null:
		return nil, nil
	}
	return nil, fmt.Errorf("default of kind %v has no JSON form", v.Kind)
}
