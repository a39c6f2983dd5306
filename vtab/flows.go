package vtab

import (
	"io"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// FlowsTable is flows(path, options...): one row per bidirectional flow.
//
// Columns: every registered feature column in JoyfulJay's order, then
// flow_uid, then the HIDDEN argument columns (see ArgNames).
type FlowsTable struct {
	env       *Env
	cols      []ColumnDef
	nFeat     int // feature columns come first
	uidCol    int
	argBase   int
	aliasBase int
}

// NewFlowsTable returns the flows table of env.
func NewFlowsTable(env *Env) *FlowsTable {
	t := &FlowsTable{env: env}
	for _, c := range extractors.Columns() {
		t.cols = append(t.cols, ColumnDef{Name: c.Name, Type: c.Type, Kind: KindFeature, Doc: c.Doc})
	}
	t.nFeat = len(t.cols)
	t.uidCol = len(t.cols)
	t.cols = append(t.cols, ColumnDef{Name: "flow_uid", Type: schema.Int, Kind: KindField,
		Doc: "identifier of the flow, the same in flows() and packets(): (file index << 40) + frame number of its first packet"})
	t.argBase = len(t.cols)
	t.cols = append(t.cols, argColumns()...)
	// Aliases come after the arguments, so positional arguments still bind
	// to path and the options, and a WHERE on an alias is a filter.
	t.aliasBase = len(t.cols)
	for _, a := range extractors.Aliases() {
		target := t.cols[a.Target]
		t.cols = append(t.cols, ColumnDef{Name: a.Name, Type: target.Type, Hidden: true, Kind: KindAlias,
			Arg: a.Target, Doc: "same as " + target.Name})
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
	for i := 0; i < t.nFeat; i++ {
		if used == nil || (i < len(used) && used[i]) {
			featCols = append(featCols, i)
		}
	}
	for i := t.aliasBase; i < len(t.cols) && used != nil; i++ {
		if i < len(used) && used[i] {
			featCols = append(featCols, t.cols[i].Arg)
		}
	}
	plan := extractors.PlanColumns(featCols)
	in, err := newInput(t.env, "flows", o.path)
	if err != nil {
		return nil, err
	}
	gs := extractors.Groups()
	c := &flowCursor{
		t: t, o: o, in: in, plan: plan, groups: gs,
		vals:     make([]schema.Value, t.nFeat),
		computed: make([]bool, len(gs)),
		colGroup: make([]*extractors.Group, t.nFeat),
		calls:    make([]uint64, len(gs)),
	}
	for i, col := range extractors.Columns() {
		c.colGroup[i] = col.Group
	}
	c.asm = flows.NewAssembler(o.cfg, plan.Needs)
	return c, nil
}

type flowCursor struct {
	t        *FlowsTable
	o        options
	in       *input
	asm      *flows.Assembler
	plan     extractors.Plan
	groups   []*extractors.Group
	colGroup []*extractors.Group

	pkt      flows.Packet
	cur      *flows.Flow
	rowid    int64
	vals     []schema.Value
	computed []bool
	calls    []uint64
	eof      bool
	fileDone bool
	work     flows.WorkStats
	closed   bool
}

// Next implements Cursor.
func (c *flowCursor) Next() (bool, error) {
	if c.cur != nil {
		c.asm.Release(c.cur)
		c.cur = nil
	}
	clear(c.computed)
	for {
		if f := c.asm.Pop(); f != nil {
			c.cur = f
			c.rowid++
			return true, nil
		}
		if c.eof {
			return false, nil
		}
		if c.fileDone {
			// The previous file's flows are all out: flows do not span
			// files, so the next file gets a fresh flow table.
			c.fileDone = false
			c.addWork()
			c.asm = flows.NewAssembler(c.o.cfg, c.plan.Needs)
		}
		ok, err := c.in.next(&c.pkt)
		if ok {
			c.asm.Add(&c.pkt)
			continue
		}
		c.asm.Flush()
		c.fileDone = true
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			return false, err
		}
	}
}

func (c *flowCursor) addWork() {
	w := c.asm.Work
	c.work.Packets += w.Packets
	c.work.Records += w.Records
	c.work.BytesKept += w.BytesKept
	c.work.Flows += w.Flows
}

// Column implements Cursor.
func (c *flowCursor) Column(i int) schema.Value {
	f := c.cur
	if f == nil {
		return schema.NullV()
	}
	switch {
	case i < c.t.nFeat:
		g := c.colGroup[i]
		gi := g.Index()
		if !c.computed[gi] {
			c.computed[gi] = true
			if !c.plan.Run[gi] {
				// The engine reads a column it did not announce: its
				// per-packet data was not kept, so there is no value.
				c.t.env.warn("flows: column %s was not planned for this scan", c.t.cols[i].Name)
				return schema.NullV()
			}
			c.calls[gi]++
			out := c.vals[g.Offset() : g.Offset()+len(g.Features)]
			if err := g.Compute(f, &c.o.cfg, out); err != nil {
				for j := range out {
					out[j] = schema.NullV()
				}
				c.t.env.warn("flows: group %s failed on flow %d: %v", g.ID, f.UID, err)
			}
		}
		return c.vals[i]
	case i == c.t.uidCol:
		return schema.IntV(int64(f.UID))
	case i >= c.t.aliasBase && i < len(c.t.cols):
		return c.Column(c.t.cols[i].Arg)
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
	c.in.close()
	c.addWork()
	if c.t.env.OnScanEnd != nil {
		st := ScanStats{Table: "flows", Rows: uint64(c.rowid), Packets: c.in.stats.IPPackets, Work: c.work,
			ComputeCalls: map[string]uint64{}, Assembled: true}
		for i, n := range c.calls {
			if n > 0 {
				st.ComputeCalls[c.groups[i].ID] = n
			}
		}
		c.t.env.OnScanEnd(st)
	}
	return nil
}
