package extractors

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/network"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// The connection group describes each flow's place in the graph of all flows
// of the scan: a node per host (IP address, or address and port with
// connection_use_ports), a directed edge from each flow's initiator to its
// responder. It is the one cross-flow group: its values exist only once every
// flow of the input has been seen (see Group.ComputeCross and CrossFlow).

// Names of the optional temporal columns (JoyfulJay's
// connection_include_temporal).
const (
	colConnFlowRate = "conn_src_flow_rate"
	colConnSpread   = "conn_temporal_spread"
	colConnBurst    = "conn_burst_connections"
)

func init() {
	register(&Group{ID: "connection", ComputeCross: computeConnection, CrossNeeds: flows.NeedBase,
		Extra: []schema.Feature{
			{Name: colConnFlowRate, Group: "connection", Type: schema.Real, Unit: "flows/s", Profile: schema.Experimental,
				Doc: "Flows started per second by this flow's initiator node (as initiator): (flows - 1) / (last start - first start); 0.0 with fewer than 2 flows or all starting at once."},
			{Name: colConnSpread, Group: "connection", Type: schema.Real, Unit: "s", Profile: schema.Experimental,
				Doc: "Seconds between the first and the last start of a flow initiated by this flow's initiator node; 0.0 with one flow."},
			{Name: colConnBurst, Group: "connection", Type: schema.Int, Unit: "count", Profile: schema.Experimental,
				Doc: "Largest number of flows the initiator node started within one second (any window [t, t+1 s) beginning at one of its flow starts)."},
		},
		Optional: map[string]string{colConnFlowRate: OptConnTemporal, colConnSpread: OptConnTemporal, colConnBurst: OptConnTemporal},
	})
}

// Options that reveal optional columns (JoyfulJay's Config names).
const (
	OptConnTemporal  = "connection_include_temporal"
	OptRawSequences  = "include_raw_sequences"
	OptSPLT          = "include_splt"
	defaultCommunity = -1
)

type connNode struct {
	addr netip.Addr
	port uint16 // with connection_use_ports
}

type connNodeStats struct {
	outFlows, inFlows int64
	outPkts, outBytes int64 // flows it initiated: their total packets and bytes
	inPkts, inBytes   int64 // flows it answered
	ports             int64 // distinct responder ports it contacted
	starts            []float64
}

type connEdge struct{ src, dst int32 }

type connPortKey struct {
	src, dst int32
	port     uint16
}

type connNodePort struct {
	src  int32
	port uint16
}

// connGraph is the connection group's state over one scan.
type connGraph struct {
	usePorts bool
	ids      map[connNode]int32
	nodes    []connNodeStats
	edges    map[connEdge]int64 // flows per (initiator node, responder node)
	portFl   map[connPortKey]int64
	srcPorts map[connNodePort]struct{}

	// after finish
	outDeg, inDeg []int64
	betw          []float64
	comm          []int64
	clus          []float64
	burst         []int64
}

func newConnGraph(cfg *flows.Config) *connGraph {
	return &connGraph{
		usePorts: cfg.ConnectionUsePorts,
		ids:      map[connNode]int32{},
		edges:    map[connEdge]int64{},
		portFl:   map[connPortKey]int64{},
		srcPorts: map[connNodePort]struct{}{},
	}
}

func (g *connGraph) nodeKeys(f *flows.Flow) (src, dst connNode) {
	src, dst = connNode{addr: f.InitAddr()}, connNode{addr: f.RespAddr()}
	if g.usePorts {
		src.port, dst.port = f.InitPort, f.RespPort
	}
	return src, dst
}

func (g *connGraph) id(k connNode) int32 {
	if id, ok := g.ids[k]; ok {
		return id
	}
	id := int32(len(g.nodes))
	g.ids[k] = id
	g.nodes = append(g.nodes, connNodeStats{})
	return id
}

// add records one flow (phase one). It reads the flow's endpoints and its
// base records (packet count and IP bytes).
func (g *connGraph) add(f *flows.Flow) { g.addEntry(g.entry(f)) }

// CrossEntry is what the cross-flow groups take from one flow: computed
// from the flow alone (so in parallel, by Entry), added in flow order (by
// AddEntry).
type CrossEntry struct {
	src, dst connNode
	port     uint16
	pkts     int64
	bytes    int64
	first    float64
}

func (g *connGraph) entry(f *flows.Flow) CrossEntry {
	e := CrossEntry{port: f.RespPort, pkts: int64(f.Packets), first: f.First}
	e.src, e.dst = g.nodeKeys(f)
	for i := range f.Base {
		e.bytes += int64(f.Base[i].IPLen)
	}
	e.bytes += f.Dropped.BytesFwd + f.Dropped.BytesBwd // packets past the record cap
	return e
}

func (g *connGraph) addEntry(e CrossEntry) {
	s, d := g.id(e.src), g.id(e.dst)
	pkts, bytes := e.pkts, e.bytes
	ns := &g.nodes[s]
	ns.outFlows++
	ns.outPkts += pkts
	ns.outBytes += bytes
	ns.starts = append(ns.starts, e.first)
	nd := &g.nodes[d]
	nd.inFlows++
	nd.inPkts += pkts
	nd.inBytes += bytes
	g.edges[connEdge{s, d}]++
	g.portFl[connPortKey{s, d, e.port}]++
	if _, ok := g.srcPorts[connNodePort{s, e.port}]; !ok {
		g.srcPorts[connNodePort{s, e.port}] = struct{}{}
		g.nodes[s].ports++
	}
}

// finish computes the graph metrics once every flow has been added.
func (g *connGraph) finish() {
	n := len(g.nodes)
	g.outDeg = make([]int64, n)
	g.inDeg = make([]int64, n)
	out := make([][]int32, n) // directed successors, self-loops excluded
	und := make([][]int32, n) // undirected neighbours, self-loops excluded
	undW := map[connEdge]float64{}
	for e, c := range g.edges {
		g.outDeg[e.src]++
		g.inDeg[e.dst]++
		if e.src == e.dst {
			continue
		}
		out[e.src] = append(out[e.src], e.dst)
		a, b := min(e.src, e.dst), max(e.src, e.dst)
		if _, seen := undW[connEdge{a, b}]; !seen {
			und[a] = append(und[a], b)
			und[b] = append(und[b], a)
		}
		undW[connEdge{a, b}] += float64(c)
	}
	for i := range out {
		slices.Sort(out[i])
		slices.Sort(und[i])
	}

	// Betweenness: Brandes over the directed graph (gonum), normalised as
	// NetworkX normalises a directed graph: 1/((n-1)(n-2)).
	g.betw = make([]float64, n)
	if n > 2 {
		scale := 1 / (float64(n-1) * float64(n-2))
		for id, v := range network.Betweenness(&adjGraph{adj: out, directed: true}) {
			g.betw[id] = v * scale
		}
	}

	// Local clustering on the undirected simple graph.
	g.clus = make([]float64, n)
	for v := range und {
		d := len(und[v])
		if d < 2 {
			continue
		}
		var t int
		for _, u := range und[v] {
			t += countCommon(und[v], und[u])
		}
		// every triangle through v is counted twice (once from each end)
		g.clus[v] = float64(t) / float64(d*(d-1))
	}

	// Communities: Louvain (gonum) on the undirected graph weighted by flow
	// counts, with a fixed seed over an adjacency that iterates in id order,
	// so the same input always gives the same grouping; ids are numbered by
	// the smallest node (first seen) of each community.
	g.comm = make([]int64, n)
	for i := range g.comm {
		g.comm[i] = defaultCommunity
	}
	if n > 0 {
		ug := &adjGraph{adj: und, weight: undW}
		red := community.Modularize(ug, 1, rand.NewPCG(0x6a6a, 0x73716c))
		comms := red.Communities()
		ids := make([][]int64, len(comms))
		for i, c := range comms {
			for _, nd := range c {
				ids[i] = append(ids[i], nd.ID())
			}
			slices.Sort(ids[i])
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i][0] < ids[j][0] })
		for ci, c := range ids {
			for _, v := range c {
				g.comm[v] = int64(ci)
			}
		}
	}

	// Temporal: largest number of flow starts within one second.
	g.burst = make([]int64, n)
	for v := range g.nodes {
		st := g.nodes[v].starts
		slices.Sort(st)
		j := 0
		for i := range st {
			for st[i]-st[j] >= 1 {
				j++
			}
			if c := int64(i - j + 1); c > g.burst[v] {
				g.burst[v] = c
			}
		}
	}
}

// countCommon counts the values two sorted slices share.
func countCommon(a, b []int32) int {
	var n, i, j int
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

func computeConnection(f *flows.Flow, cfg *flows.Config, x *CrossFlow, out []schema.Value) error {
	if len(out) != 23 {
		return fmt.Errorf("extractors: connection: %d output cells, want 23", len(out))
	}
	if x == nil {
		return fmt.Errorf("extractors: connection: no cross-flow state (the scan skipped its first pass)")
	}
	e := CrossEntry{port: f.RespPort}
	e.src, e.dst = x.conn.nodeKeys(f)
	return x.Values(&e, out)
}

// Values fills out with the connection group's values of the flow whose
// Entry is e (only its endpoints and responder port are read). Call it after
// Finish; it only reads the graph, so calls may run concurrently.
func (x *CrossFlow) Values(e *CrossEntry, out []schema.Value) error {
	if len(out) != 23 {
		return fmt.Errorf("extractors: connection: %d output cells, want 23", len(out))
	}
	g := x.conn
	s, okS := g.ids[e.src]
	d, okD := g.ids[e.dst]
	if !okS || !okD {
		// A flow the first pass did not see (cannot happen with a
		// re-readable input): the defaults.
		for i, ft := range Lookup("connection").Features {
			out[i] = ft.DefaultValue()
		}
		return nil
	}
	ns, nd := &g.nodes[s], &g.nodes[d]
	same := g.comm[s] >= 0 && g.comm[s] == g.comm[d]
	st := ns.starts
	spread, rate := 0.0, 0.0
	if len(st) > 0 {
		spread = st[len(st)-1] - st[0]
	}
	if len(st) > 1 && spread > 0 {
		rate = float64(len(st)-1) / spread
	}
	vals := [...]schema.Value{
		schema.IntV(g.outDeg[s]), // conn_src_unique_dsts
		schema.IntV(g.inDeg[d]),  // conn_dst_unique_srcs
		schema.IntV(g.edges[connEdge{s, d}]),
		schema.IntV(g.portFl[connPortKey{s, d, e.port}]),
		schema.IntV(ns.outFlows),
		schema.IntV(nd.inFlows),
		schema.IntV(ns.outPkts),
		schema.IntV(ns.outBytes),
		schema.IntV(nd.inPkts),
		schema.IntV(nd.inBytes),
		schema.IntV(ns.ports),
		schema.IntV(g.outDeg[s]),
		schema.IntV(g.inDeg[d]),
		schema.RealV(g.betw[s]),
		schema.RealV(g.betw[d]),
		schema.IntV(g.comm[s]),
		schema.IntV(g.comm[d]),
		schema.BoolV(same),
		schema.RealV(g.clus[s]),
		schema.RealV(g.clus[d]),
		schema.RealV(rate),
		schema.RealV(spread),
		schema.IntV(g.burst[s]),
	}
	copy(out, vals[:])
	return nil
}

// CrossFlow holds the state of the cross-flow groups over one scan: phase
// one adds every flow of the input, Finish computes, and phase two reads the
// values of each flow through Group.ComputeCross.
type CrossFlow struct {
	conn *connGraph
}

// NewCrossFlow returns empty cross-flow state for a scan with options cfg.
func NewCrossFlow(cfg *flows.Config) *CrossFlow {
	return &CrossFlow{conn: newConnGraph(cfg)}
}

// Add records one flow of phase one.
func (x *CrossFlow) Add(f *flows.Flow) { x.conn.add(f) }

// Entry returns what Add takes from f. It reads only f and the options, so
// flows may be turned into entries in parallel; AddEntry then adds them, in
// flow order (node ids, and so community ids, follow the order of addition).
func (x *CrossFlow) Entry(f *flows.Flow) CrossEntry { return x.conn.entry(f) }

// AddEntry records one flow of phase one from its Entry.
func (x *CrossFlow) AddEntry(e CrossEntry) { x.conn.addEntry(e) }

// Finish computes the cross-flow values; call it once, after the last Add.
func (x *CrossFlow) Finish() { x.conn.finish() }

// adjGraph adapts sorted adjacency lists to gonum's graph interfaces. Its
// iterators walk nodes and neighbours in id order, so gonum's algorithms see
// the same order on every run (gonum's own simple graphs iterate maps).
type adjGraph struct {
	adj      [][]int32
	directed bool
	weight   map[connEdge]float64 // undirected weights keyed (low id, high id)
}

type adjNode int64

func (n adjNode) ID() int64 { return int64(n) }

type adjEdge struct {
	f, t adjNode
	w    float64
}

func (e adjEdge) From() graph.Node         { return e.f }
func (e adjEdge) To() graph.Node           { return e.t }
func (e adjEdge) ReversedEdge() graph.Edge { return adjEdge{e.t, e.f, e.w} }
func (e adjEdge) Weight() float64          { return e.w }

// adjNodes iterates a fixed list of node ids.
type adjNodes struct {
	ids []int32
	all int // when ids is nil: iterate 0..all-1
	pos int
}

func (it *adjNodes) len() int {
	if it.ids != nil {
		return len(it.ids)
	}
	return it.all
}
func (it *adjNodes) Next() bool { it.pos++; return it.pos <= it.len() }
func (it *adjNodes) Len() int   { return it.len() - it.pos }
func (it *adjNodes) Reset()     { it.pos = 0 }
func (it *adjNodes) Node() graph.Node {
	if it.pos < 1 || it.pos > it.len() {
		return nil
	}
	if it.ids != nil {
		return adjNode(it.ids[it.pos-1])
	}
	return adjNode(it.pos - 1)
}

func (g *adjGraph) has(id int64) bool { return id >= 0 && id < int64(len(g.adj)) }

func (g *adjGraph) Node(id int64) graph.Node {
	if !g.has(id) {
		return nil
	}
	return adjNode(id)
}

func (g *adjGraph) Nodes() graph.Nodes { return &adjNodes{all: len(g.adj)} }

func (g *adjGraph) From(id int64) graph.Nodes {
	if !g.has(id) || len(g.adj[id]) == 0 {
		return graph.Empty
	}
	return &adjNodes{ids: g.adj[id]}
}

func (g *adjGraph) HasEdgeFromTo(u, v int64) bool {
	if !g.has(u) || !g.has(v) {
		return false
	}
	_, ok := slices.BinarySearch(g.adj[u], int32(v))
	return ok
}

func (g *adjGraph) HasEdgeBetween(x, y int64) bool {
	if g.directed {
		return g.HasEdgeFromTo(x, y) || g.HasEdgeFromTo(y, x)
	}
	return g.HasEdgeFromTo(x, y)
}

func (g *adjGraph) Edge(u, v int64) graph.Edge { return g.WeightedEdge(u, v) }

func (g *adjGraph) EdgeBetween(x, y int64) graph.Edge { return g.WeightedEdgeBetween(x, y) }

func (g *adjGraph) WeightedEdge(u, v int64) graph.WeightedEdge {
	if !g.HasEdgeFromTo(u, v) {
		return nil
	}
	return adjEdge{adjNode(u), adjNode(v), g.w(u, v)}
}

func (g *adjGraph) WeightedEdgeBetween(x, y int64) graph.WeightedEdge {
	if !g.HasEdgeBetween(x, y) {
		return nil
	}
	return adjEdge{adjNode(x), adjNode(y), g.w(x, y)}
}

func (g *adjGraph) w(x, y int64) float64 {
	if g.weight == nil {
		return 1
	}
	return g.weight[connEdge{int32(min(x, y)), int32(max(x, y))}]
}

// Weight returns the weight of the edge between x and y (self: 0).
func (g *adjGraph) Weight(x, y int64) (float64, bool) {
	if x == y {
		return 0, true
	}
	if !g.HasEdgeBetween(x, y) {
		return 0, false
	}
	return g.w(x, y), true
}

// To returns the predecessors of v (directed use only; linear scan).
func (g *adjGraph) To(v int64) graph.Nodes {
	var ids []int32
	for u := range g.adj {
		if g.HasEdgeFromTo(int64(u), v) {
			ids = append(ids, int32(u))
		}
	}
	if len(ids) == 0 {
		return graph.Empty
	}
	return &adjNodes{ids: ids}
}
