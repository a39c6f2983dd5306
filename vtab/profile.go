package vtab

import (
	"strings"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/schema"
)

// KeyColumns are the flow key columns that every profile view returns first
// (JoyfulJay's profiles are not cumulative and only JJ-CORE holds the key).
var KeyColumns = []string{"src_ip", "src_port", "dst_ip", "dst_port", "protocol", "start_time", "flow_uid"}

// ProfileTable is flows() seen through one JoyfulJay profile: the same
// table function, arguments and values, but SELECT * returns the key
// columns and then the profile's features in flows() order. The features
// of other profiles are HIDDEN columns: still readable by name, and computed
// only when a query names them.
//
// Column layout: key columns, the profile's other features, any other
// visible column of flows(), the argument columns (HIDDEN, in flows()
// order, so positional arguments bind as in flows()), the features outside
// the profile (HIDDEN), then the aliases (HIDDEN).
type ProfileTable struct {
	name    string
	profile schema.Profile
	inner   *FlowsTable
	cols    []ColumnDef
	inCol   []int // column i of this table is column inCol[i] of inner
}

// NewProfileTable returns flows() restricted to profile p under the given
// table name (flows_core, or flows itself under jjsql --profile).
func NewProfileTable(env *Env, name string, p schema.Profile) *ProfileTable {
	t := &ProfileTable{name: name, profile: p, inner: NewFlowsTable(env)}
	profileOf := map[string]schema.Profile{}
	for _, c := range extractors.Columns() {
		profileOf[c.Name] = c.Profile
	}
	inner := t.inner.Columns()
	byName := map[string]int{}
	for i, c := range inner {
		byName[c.Name] = i
	}
	taken := make([]bool, len(inner))
	add := func(i int, hidden bool) {
		c := inner[i]
		c.Hidden = hidden
		t.cols = append(t.cols, c)
		t.inCol = append(t.inCol, i)
		taken[i] = true
	}
	for _, k := range KeyColumns {
		if i, ok := byName[k]; ok {
			add(i, false)
		}
	}
	for i, c := range inner {
		if !taken[i] && c.Kind == KindFeature && !c.Hidden && profileOf[c.Name] == p {
			add(i, false)
		}
	}
	for i, c := range inner {
		if !taken[i] && !c.Hidden && c.Kind != KindFeature {
			add(i, false)
		}
	}
	for i, c := range inner {
		if !taken[i] && c.Kind == KindArg {
			add(i, true)
		}
	}
	for i, c := range inner {
		if !taken[i] && c.Kind != KindAlias {
			add(i, true)
		}
	}
	for i := range inner {
		if !taken[i] {
			add(i, true)
		}
	}
	// An alias names its target by column index: renumber to this table.
	pos := make([]int, len(inner))
	for i, in := range t.inCol {
		pos[in] = i
	}
	for i := range t.cols {
		if t.cols[i].Kind == KindAlias {
			t.cols[i].Arg = pos[t.cols[i].Arg]
		}
	}
	return t
}

// Name implements Table.
func (t *ProfileTable) Name() string { return t.name }

// Profile returns the table's profile.
func (t *ProfileTable) Profile() schema.Profile { return t.profile }

// Columns implements Table.
func (t *ProfileTable) Columns() []ColumnDef { return t.cols }

// Open implements Table.
func (t *ProfileTable) Open(args []schema.Value, used []bool) (Cursor, error) {
	var innerUsed []bool
	if used != nil {
		innerUsed = make([]bool, len(t.inner.Columns()))
		for i, u := range used {
			if u && i < len(t.inCol) {
				innerUsed[t.inCol[i]] = true
			}
		}
	}
	c, err := t.inner.Open(args, innerUsed)
	if err != nil {
		return nil, err
	}
	return &profileCursor{Cursor: c, inCol: t.inCol}, nil
}

type profileCursor struct {
	Cursor
	inCol []int
}

// Column implements Cursor.
func (c *profileCursor) Column(i int) schema.Value {
	if i < 0 || i >= len(c.inCol) {
		return schema.NullV()
	}
	return c.Cursor.Column(c.inCol[i])
}

// ProfileViews are the profile tables every connection has, by name.
var ProfileViews = []struct {
	Name    string
	Profile schema.Profile
}{
	{"flows_core", schema.Core},
	{"flows_extended", schema.Extended},
	{"flows_experimental", schema.Experimental},
}

// Tables returns every table of a connection: flows (restricted to
// env.Profile when it is set), packets, the profile views flows_core,
// flows_extended and flows_experimental, and features.
func Tables(env *Env) []Table {
	var flowsTable Table = NewFlowsTable(env)
	if env.Profile != schema.NoProfile {
		flowsTable = NewProfileTable(env, "flows", env.Profile)
	}
	ts := []Table{flowsTable, NewPacketsTable(env)}
	for _, v := range ProfileViews {
		ts = append(ts, NewProfileTable(env, v.Name, v.Profile))
	}
	return append(ts, NewFeaturesTable())
}

// ProfileName returns the short name of p as the --profile flag spells it
// (core, extended, experimental; all for NoProfile).
func ProfileName(p schema.Profile) string {
	if p == schema.NoProfile {
		return "all"
	}
	return strings.ToLower(strings.TrimPrefix(p.String(), "JJ-"))
}
