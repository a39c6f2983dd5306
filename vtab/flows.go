package vtab

import (
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// FlowsTable is flows(path, options...): one row per bidirectional flow.
//
// Columns: every registered feature column in JoyfulJay's order (except the
// optional ones), then flow_uid, then the HIDDEN argument columns (see
// ArgNames), the hidden aliases, and last the optional feature columns
// (hidden unless Env.Options turns them on). Optional columns come after
// the arguments so that positional arguments always bind to path and the
// options.
type FlowsTable struct {
	env     *Env
	cols    []ColumnDef
	feat    []int // per table column: index into extractors.Columns(), or -1
	nFeat   int   // len(extractors.Columns())
	uidCol  int
	argBase int
}

// NewFlowsTable returns the flows table of env.
func NewFlowsTable(env *Env) *FlowsTable {
	t := &FlowsTable{env: env}
	all := extractors.Columns()
	t.nFeat = len(all)
	addFeat := func(i int) {
		c := all[i]
		hidden := c.Option != "" && !env.Options[c.Option]
		t.cols = append(t.cols, ColumnDef{Name: c.Name, Type: c.Type, Kind: KindFeature, Doc: c.Doc, Hidden: hidden})
		t.feat = append(t.feat, i)
	}
	add := func(d ColumnDef) {
		t.cols = append(t.cols, d)
		t.feat = append(t.feat, -1)
	}
	for i, c := range all {
		if c.Option == "" {
			addFeat(i)
		}
	}
	t.uidCol = len(t.cols)
	add(ColumnDef{Name: "flow_uid", Type: schema.Int, Kind: KindField,
		Doc: "identifier of the flow, the same in flows() and packets(): (file index << 40) + frame number of its first packet"})
	t.argBase = len(t.cols)
	for _, a := range argColumns() {
		add(a)
	}
	// Aliases come after the arguments, so positional arguments still bind
	// to path and the options, and a WHERE on an alias is a filter.
	for _, a := range extractors.Aliases() {
		target := all[a.Target]
		add(ColumnDef{Name: a.Name, Type: target.Type, Hidden: true, Kind: KindAlias,
			Arg: slices.Index(t.feat, a.Target), Doc: "same as " + target.Name})
		t.feat[len(t.feat)-1] = a.Target
	}
	for i, c := range all {
		if c.Option != "" {
			addFeat(i)
		}
	}
	return t
}

// Name implements Table.
func (t *FlowsTable) Name() string { return "flows" }

// Columns implements Table.
func (t *FlowsTable) Columns() []ColumnDef { return t.cols }

// Open implements Table.
func (t *FlowsTable) Open(argVals []schema.Value, used []bool) (Cursor, error) {
	o, err := resolve(t.env, "flows", argVals)
	if err != nil {
		return nil, err
	}
	var featCols []int
	for i, fi := range t.feat {
		if fi >= 0 && (used == nil || (i < len(used) && used[i])) {
			featCols = append(featCols, fi)
		}
	}
	plan := extractors.PlanColumns(featCols)
	var (
		cross *extractors.CrossFlow
		first func(abort <-chan struct{}) error
	)
	if plan.Cross {
		if cross, first, err = t.crossPass(o, plan); err != nil {
			return nil, err
		}
		if runtime.GOMAXPROCS(0) == 1 {
			// One core: the passes one after the other (beside each
			// other they would only share the core and its caches).
			if err := first(nil); err != nil {
				return nil, err
			}
			first = nil
		}
	}
	in, err := newInput(t.env, "flows", o.path)
	if err != nil {
		return nil, err
	}
	c := &flowCursor{t: t, o: o, in: in}
	c.scan = newFlowScanWith(t, o, plan, cross, first, in, nil)
	return c, nil
}

// crossPass prepares the first pass of a scan that reads a cross-flow group
// (connection): it assembles every flow of the input, keeping only what that
// group needs, and hands each to the cross-flow state. The second pass (the
// cursor) reads the input again; flow assembly is deterministic, so both
// passes see the same flows. The second pass runs beside the first (its
// goroutine calls first, then CrossFlow.Finish): its rows wait, packed, for
// the graph, and the two passes share the cores. first returns early, with
// errAborted, once abort is closed.
func (t *FlowsTable) crossPass(o options, plan extractors.Plan) (*extractors.CrossFlow, func(abort <-chan struct{}) error, error) {
	files, err := flows.ExpandPath(o.path)
	if err != nil {
		return nil, nil, tableErr("flows", err)
	}
	for _, name := range files {
		if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("flows: %s is not a regular file: the connection columns read the input twice (every flow is needed before the first row), and a pipe can be read once; save it to a file first", name)
		}
	}
	x := extractors.NewCrossFlow(&o.cfg)
	first := func(abort <-chan struct{}) error {
		quiet := *t.env
		quiet.Warn = nil     // the second pass reports the input's problems
		quiet.Progress = nil // and its progress (which also interrupts it, and so this pass)
		in, err := newInput(&quiet, "flows", o.path)
		if err != nil {
			return err
		}
		defer in.close()
		// The same sharded scan as the rows' pass, with no group planned
		// and what the cross-flow groups need; the entries come back in
		// flow_uid order.
		p := extractors.Plan{Run: make([]bool, len(extractors.Groups())), Needs: plan.CrossNeeds}
		scan := newFlowScanWith(t, o, p, nil, nil, in, x)
		scan.abort = abort
		defer scan.close()
		for {
			r, ok, err := scan.next()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			x.AddEntry(*r.entry)
		}
	}
	return x, first, nil
}

type flowCursor struct {
	t        *FlowsTable
	cross    []schema.Value // the current row's cross-flow values (computed on first read)
	hasCross bool
	o        options
	in       *input
	scan     *flowScan
	row      scanRow
	view     rowView // row, decoded on first read
	has      bool
	rowid    int64
	closed   bool
	warned   map[int]bool
}

// Next implements Cursor.
func (c *flowCursor) Next() (bool, error) {
	c.has, c.view.ok = false, false
	c.hasCross = false
	r, ok, err := c.scan.next()
	if !ok {
		return false, err
	}
	c.row, c.has = r, true
	c.rowid++
	return true, nil
}

// Column implements Cursor.
func (c *flowCursor) Column(i int) schema.Value {
	if !c.has || i < 0 || i >= len(c.t.cols) {
		return schema.NullV()
	}
	if fi := c.t.feat[i]; fi >= 0 {
		s := c.scan
		if j := s.crossPos[fi]; j >= 0 && s.crossOff >= 0 {
			if c.cross == nil {
				c.cross = make([]schema.Value, s.crossLen)
			}
			return s.crossValues(&c.row, c.cross, &c.hasCross)[j]
		}
		pos := s.colPos[fi]
		if pos < 0 {
			// The engine reads a column it did not announce: its group
			// was not planned, so there is no value.
			if !c.warned[fi] {
				if c.warned == nil {
					c.warned = map[int]bool{}
				}
				c.warned[fi] = true
				c.t.env.warn("flows: column %s was not planned for this scan", extractors.Columns()[fi].Name)
			}
			return schema.NullV()
		}
		if !c.view.ok {
			c.view.decode(&c.row, s.colType)
		}
		return c.view.value(pos, s.colType[pos])
	}
	switch {
	case i == c.t.uidCol:
		return schema.IntV(int64(c.row.uid))
	case i >= c.t.argBase && i-c.t.argBase < len(args):
		return args[i-c.t.argBase].get(&c.o)
	}
	return schema.NullV()
}

// Rowid implements Cursor.
func (c *flowCursor) Rowid() int64 { return c.rowid }

// Close implements Cursor.
func (c *flowCursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.scan.close()
	c.in.close()
	if c.t.env.OnScanEnd != nil {
		s := c.scan
		st := ScanStats{Table: "flows", Rows: uint64(c.rowid), Packets: c.in.stats.IPPackets, Work: s.work,
			ComputeCalls: map[string]uint64{}, Assembled: true, CrossPass: s.cross != nil, Workers: s.workers, RowsWaiting: s.maxReady,
			RowsSpilled: s.spill.rows, SpilledBytes: s.spill.end}
		for i, n := range s.calls {
			if n > 0 {
				st.ComputeCalls[extractors.Groups()[i].ID] = n
			}
		}
		if s.crossCalls > 0 {
			st.ComputeCalls[s.crossGroup.ID] += uint64(s.crossCalls)
		}
		c.t.env.OnScanEnd(st)
	}
	return nil
}
