package extractors

import "github.com/jjsql/jjsql/flows"

// Plan is the set of groups one scan runs, and the per-packet data they need.
type Plan struct {
	Run   []bool      // indexed by Group.Index(): the group may be computed
	Needs flows.Needs // union of the Needs of the groups in Run
	// Cross is set when a cross-flow group is planned: the scan needs a
	// first pass over the whole input with CrossNeeds records.
	Cross      bool
	CrossNeeds flows.Needs
	// Used, when set, marks (by index into Columns()) the columns the scan
	// was asked for: the others of a planned group are computed (a group
	// computes all its columns) but need not be kept. Nil means every
	// column of the planned groups.
	Used []bool
}

// PlanColumns returns the plan for a scan that reads the given columns
// (indexes into Columns()), including the groups they depend on.
func PlanColumns(cols []int) Plan {
	gs := Groups()
	p := Plan{Run: make([]bool, len(gs))}
	var add func(g *Group)
	add = func(g *Group) {
		if p.Run[g.index] {
			return
		}
		p.Run[g.index] = true
		p.Needs |= g.Needs
		if g.CrossFlow() {
			p.Cross = true
			p.CrossNeeds |= g.CrossNeeds
		}
		for _, d := range g.Depends {
			add(Lookup(d))
		}
	}
	all := Columns()
	p.Used = make([]bool, len(all))
	for _, c := range cols {
		if c >= 0 && c < len(all) {
			add(all[c].Group)
			p.Used[c] = true
		}
	}
	return p
}

// PlanGroups returns the plan for the named groups (and their dependencies).
func PlanGroups(ids ...string) Plan {
	var cols []int
	for _, id := range ids {
		if g := Lookup(id); g != nil {
			cols = append(cols, g.offset)
		}
	}
	p := PlanColumns(cols)
	p.Used = nil // every column of the groups
	return p
}
