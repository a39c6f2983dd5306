// Package extractors computes JoyfulJay's per-flow features. Each feature group
// lives in its own file and registers a Group in its init function; the
// registry orders groups by JoyfulJay's column order and checks them once.
package extractors

import (
	"fmt"
	"sort"
	"sync"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// Group is one feature group: its columns, the per-packet data it needs the
// flow to keep, and the function that computes its values from a finished flow.
type Group struct {
	ID       string           // group id, as in JoyfulJay's feature list (e.g. "timing")
	Table    string           // "flows"
	Features []schema.Feature // columns in output order; nil means schema.GroupFeatures(ID)
	Extra    []schema.Feature // columns jjsql adds after the group's JoyfulJay columns
	Depends  []string         // groups whose per-packet data this one also reads
	// Aliases maps extra, hidden column names to one of the group's columns
	// (e.g. JoyfulJay's ja3_hash to ja3).
	Aliases map[string]string
	Needs   flows.Needs // per-packet records the flow must keep
	// Compute fills out (len(out) == len(Features)) in declared order. It is
	// deterministic, keeps no reference to f, and reads cfg only for options.
	Compute func(f *flows.Flow, cfg *flows.Config, out []schema.Value) error
	// ComputeCross replaces Compute for a cross-flow group (connection):
	// its values need every flow of the input. The scan first adds every
	// flow to a CrossFlow (keeping CrossNeeds records), then calls
	// ComputeCross for each flow of the second pass.
	ComputeCross func(f *flows.Flow, cfg *flows.Config, x *CrossFlow, out []schema.Value) error
	CrossNeeds   flows.Needs
	// Optional maps columns of Extra to the option that shows them
	// (include_raw_sequences, include_splt, connection_include_temporal):
	// the flows table declares them HIDDEN unless that option is on; they
	// can always be read by name.
	Optional map[string]string

	index  int // position in Groups()
	offset int // index of the group's first column in Columns()
}

// CrossFlow reports whether the group's values depend on every flow of the
// input.
func (g *Group) CrossFlow() bool { return g.ComputeCross != nil }

// Index returns the group's position in Groups().
func (g *Group) Index() int { return g.index }

// Offset returns the index of the group's first column in Columns().
func (g *Group) Offset() int { return g.offset }

var (
	registered []*Group
	sealed     bool
	groups     []*Group
	columns    []Column
)

// Column is one feature column of the flows table.
type Column struct {
	schema.Feature
	Group  *Group
	Pos    int    // index within the group's output
	Option string // the option that shows the column (Group.Optional); "" for every-day columns
}

func register(g *Group) {
	if sealed {
		panic("extractors: register after the registry was read")
	}
	registered = append(registered, g)
}

// seal runs once, on the first read of the registry (after every init has
// registered its group).
func seal() { sealOnce.Do(doSeal) }

var sealOnce sync.Once

func doSeal() {
	sealed = true
	byID := map[string]*Group{}
	for _, g := range registered {
		if g.ID == "" || (g.Compute == nil) == (g.ComputeCross == nil) {
			panic(fmt.Sprintf("extractors: group %q: empty id, or not exactly one of Compute and ComputeCross", g.ID))
		}
		if byID[g.ID] != nil {
			panic(fmt.Sprintf("extractors: duplicate group %q", g.ID))
		}
		byID[g.ID] = g
		if g.Table == "" {
			g.Table = "flows"
		}
		if g.Features == nil {
			g.Features = schema.GroupFeatures(g.ID)
		}
		g.Features = append(g.Features, g.Extra...)
		if len(g.Features) == 0 {
			panic(fmt.Sprintf("extractors: group %q has no features", g.ID))
		}
	}
	sort.SliceStable(registered, func(i, j int) bool {
		oi, oj := schema.GroupOrder(registered[i].ID), schema.GroupOrder(registered[j].ID)
		if oi < 0 {
			oi = 1 << 30
		}
		if oj < 0 {
			oj = 1 << 30
		}
		return oi < oj
	})
	seen := map[string]string{}
	for i, g := range registered {
		g.index = i
		g.offset = len(columns)
		for j, f := range g.Features {
			if f.Doc == "" {
				panic(fmt.Sprintf("extractors: %s.%s has no definition", g.ID, f.Name))
			}
			if other, dup := seen[f.Name]; dup {
				panic(fmt.Sprintf("extractors: column %q in groups %q and %q", f.Name, other, g.ID))
			}
			seen[f.Name] = g.ID
			columns = append(columns, Column{Feature: f, Group: g, Pos: j, Option: g.Optional[f.Name]})
		}
		for name := range g.Optional {
			if _, ok := seen[name]; !ok || seen[name] != g.ID {
				panic(fmt.Sprintf("extractors: optional column %q is not a column of group %q", name, g.ID))
			}
		}
		for _, d := range g.Depends {
			if byID[d] == nil {
				panic(fmt.Sprintf("extractors: group %q depends on unknown group %q", g.ID, d))
			}
		}
	}
	// Dependency cycles.
	state := map[string]int{}
	var visit func(id string)
	visit = func(id string) {
		switch state[id] {
		case 1:
			panic(fmt.Sprintf("extractors: dependency cycle through %q", id))
		case 2:
			return
		}
		state[id] = 1
		for _, d := range byID[id].Depends {
			visit(d)
		}
		state[id] = 2
	}
	for _, g := range registered {
		visit(g.ID)
	}
	groups = registered
}

// Alias is a hidden column name that reads another column.
type Alias struct {
	Name   string
	Target int // index into Columns()
}

// Aliases returns every alias column, sorted by name.
func Aliases() []Alias {
	var out []Alias
	idx := map[string]int{}
	for i, c := range Columns() {
		idx[c.Name] = i
	}
	for _, g := range Groups() {
		for name, target := range g.Aliases {
			i, ok := idx[target]
			if !ok {
				panic(fmt.Sprintf("extractors: alias %q of group %q names unknown column %q", name, g.ID, target))
			}
			out = append(out, Alias{Name: name, Target: i})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Groups returns every registered group in column order.
func Groups() []*Group { seal(); return groups }

// Columns returns every feature column of the flows table in output order.
func Columns() []Column { seal(); return columns }

// Lookup returns the group with the given id.
func Lookup(id string) *Group {
	for _, g := range Groups() {
		if g.ID == id {
			return g
		}
	}
	return nil
}
