package extractors

import (
	"fmt"
	"net/netip"
	"slices"

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
	register(&Group{ID: "connection", ComputeCross: computeConnection, CrossNeeds: flows.NeedSum,
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
	OptConnTemporal = "connection_include_temporal"
	OptRawSequences = "include_raw_sequences"
	OptSPLT         = "include_splt"
)

type connNode struct {
	addr netip.Addr
	port uint16 // with connection_use_ports
}

type connNodeStats struct {
	outFlows, inFlows int64
	outPkts, outBytes int64 // flows it initiated: their total packets and bytes
	inPkts, inBytes   int64 // flows it answered
	ports             int64 // distinct responder ports it contacted (set by finish)
	starts            []float64
}

// connLink is one flow of phase one: its two nodes and responder port.
type connLink struct {
	src, dst int32
	port     uint16
}

// connGraph is the connection group's state over one scan.
type connGraph struct {
	usePorts bool
	ids      map[connNode]int32
	nodes    []connNodeStats
	links    []connLink // every flow, in order of addition (released by finish)

	// after finish
	out     csr     // directed edges initiator -> responder, rows sorted, self-loops kept
	edgeFl  []int64 // flows of each edge (indexed like out.adj)
	portOff []int32 // edge e's responder ports: portKey[portOff[e]:portOff[e+1]], sorted
	portKey []uint16
	portFl  []int64 // flows of each (edge, port)

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
	e.bytes = f.Sum.BytesFwd + f.Sum.BytesBwd // every packet's IP length (NeedSum): no per-packet records
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
	g.links = append(g.links, connLink{s, d, e.port})
}

// finish computes the graph metrics once every flow has been added. A second
// call does nothing.
func (g *connGraph) finish() {
	if g.out.off != nil {
		return
	}
	n := len(g.nodes)
	g.buildEdges()
	und := undirected(&g.out, g.edgeFl)

	// Betweenness on the directed graph (brandes.go), normalised as NetworkX
	// normalises a directed graph: 1/((n-1)(n-2)).
	g.betw = make([]float64, n)
	if n > 2 {
		scale := 1 / (float64(n-1) * float64(n-2))
		for v, b := range betweenness(&g.out) {
			g.betw[v] = b * scale
		}
	}

	// Local clustering on the undirected simple graph.
	g.clus = make([]float64, n)
	for v, t := range triangles(&und) {
		if d := int64(und.off[v+1] - und.off[v]); d >= 2 {
			g.clus[v] = float64(2*t) / float64(d*(d-1))
		}
	}

	// Communities: Louvain (louvain.go) on the undirected graph weighted by
	// flow counts. It is deterministic and numbers communities by their
	// smallest node (the first seen).
	g.comm = make([]int64, n)
	for v, c := range louvain(&und) {
		g.comm[v] = int64(c)
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

// buildEdges turns the flows of phase one into the directed graph (g.out,
// g.edgeFl), the flows per edge and responder port, the degrees and each
// node's number of distinct responder ports, and releases g.links.
//
// The flows are bucketed by initiator (a counting sort: a node's outFlows is
// its bucket size), each bucket holding (responder, port) packed in a
// uint64; sorting a bucket puts each edge's flows together and, within an
// edge, each port's.
func (g *connGraph) buildEdges() {
	n := len(g.nodes)
	start := make([]int, n+1)
	for v := range g.nodes {
		start[v+1] = start[v] + int(g.nodes[v].outFlows)
	}
	keys := make([]uint64, len(g.links))
	pos := slices.Clone(start[:n])
	for _, l := range g.links {
		keys[pos[l.src]] = uint64(l.dst)<<16 | uint64(l.port)
		pos[l.src]++
	}
	g.links = nil

	g.out = csr{off: make([]int32, n+1)}
	g.portOff = []int32{0}
	g.outDeg = make([]int64, n)
	g.inDeg = make([]int64, n)
	portSeen := make([]int32, 1<<16) // node + 1 that last used the port
	for v := range n {
		b := keys[start[v]:start[v+1]]
		slices.Sort(b)
		var ports int64
		for i := 0; i < len(b); {
			d := int32(b[i] >> 16)
			g.out.adj = append(g.out.adj, d)
			g.inDeg[d]++
			var flows int64
			for i < len(b) && int32(b[i]>>16) == d {
				j := i + 1
				for j < len(b) && b[j] == b[i] {
					j++
				}
				p := uint16(b[i])
				g.portKey = append(g.portKey, p)
				g.portFl = append(g.portFl, int64(j-i))
				flows += int64(j - i)
				if portSeen[p] != int32(v)+1 {
					portSeen[p] = int32(v) + 1
					ports++
				}
				i = j
			}
			g.edgeFl = append(g.edgeFl, flows)
			g.portOff = append(g.portOff, int32(len(g.portKey)))
		}
		g.out.off[v+1] = int32(len(g.out.adj))
		g.outDeg[v] = int64(g.out.off[v+1] - g.out.off[v])
		g.nodes[v].ports = ports
	}
}

// undirected returns the undirected simple graph under the directed graph
// out whose edge e carries cnt[e] flows: an edge between two distinct nodes
// linked either way, weighted by the flows of both directions, in the rows
// of both ends (sorted). Self-loops are left out.
func undirected(out *csr, cnt []int64) csr {
	n := out.n()
	// the transpose of out; filling it source by source keeps rows sorted
	in := csr{off: make([]int32, n+1), adj: make([]int32, len(out.adj))}
	inCnt := make([]int64, len(out.adj))
	for _, d := range out.adj {
		in.off[d+1]++
	}
	for v := range n {
		in.off[v+1] += in.off[v]
	}
	pos := slices.Clone(in.off[:n])
	for s := range int32(n) {
		for e := out.off[s]; e < out.off[s+1]; e++ {
			d := out.adj[e]
			in.adj[pos[d]], inCnt[pos[d]] = s, cnt[e]
			pos[d]++
		}
	}
	// each row: the merge of the out row and the in row
	u := csr{off: make([]int32, n+1), adj: make([]int32, 0, 2*len(out.adj)), w: make([]float64, 0, 2*len(out.adj))}
	for v := range int32(n) {
		i, iEnd := out.off[v], out.off[v+1]
		j, jEnd := in.off[v], in.off[v+1]
		for i < iEnd || j < jEnd {
			var x int32
			var c int64
			switch {
			case j == jEnd || (i < iEnd && out.adj[i] < in.adj[j]):
				x, c = out.adj[i], cnt[i]
				i++
			case i == iEnd || in.adj[j] < out.adj[i]:
				x, c = in.adj[j], inCnt[j]
				j++
			default:
				x, c = out.adj[i], cnt[i]+inCnt[j]
				i++
				j++
			}
			if x != v {
				u.adj = append(u.adj, x)
				u.w = append(u.w, float64(c))
			}
		}
		u.off[v+1] = int32(len(u.adj))
	}
	return u
}

// triangles returns, per node of the undirected simple graph g (sorted
// rows), the number of triangles through it. Each triangle is found once,
// from its lowest node in the order (degree, id): every edge is kept only
// in the row of its lower end, and for each node v and each kept neighbour
// u, the kept neighbours of u that are also kept neighbours of v close a
// triangle. High-degree nodes come last, so their long rows are never
// scanned from the many small nodes around them.
func triangles(g *csr) []int64 {
	n := g.n()
	deg := func(v int32) int32 { return g.off[v+1] - g.off[v] }
	below := func(a, b int32) bool { return deg(a) < deg(b) || (deg(a) == deg(b) && a < b) }
	fwd := csr{off: make([]int32, n+1)}
	for v := range int32(n) {
		for _, u := range g.row(v) {
			if below(v, u) {
				fwd.adj = append(fwd.adj, u)
			}
		}
		fwd.off[v+1] = int32(len(fwd.adj))
	}
	tri := make([]int64, n)
	mark := make([]int32, n) // v + 1 while v's kept neighbours are marked
	for v := range int32(n) {
		for _, u := range fwd.row(v) {
			mark[u] = v + 1
		}
		for _, u := range fwd.row(v) {
			for _, w := range fwd.row(u) {
				if mark[w] == v+1 {
					tri[v]++
					tri[u]++
					tri[w]++
				}
			}
		}
	}
	return tri
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
		schema.IntV(g.edgeFlows(s, d)),
		schema.IntV(g.portFlows(s, d, e.port)),
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

// edge returns the index of the edge s -> d in g.out, or -1.
func (g *connGraph) edge(s, d int32) int {
	i, ok := slices.BinarySearch(g.out.row(s), d)
	if !ok {
		return -1
	}
	return int(g.out.off[s]) + i
}

// edgeFlows returns the number of flows from s to d.
func (g *connGraph) edgeFlows(s, d int32) int64 {
	if e := g.edge(s, d); e >= 0 {
		return g.edgeFl[e]
	}
	return 0
}

// portFlows returns the number of flows from s to d's port.
func (g *connGraph) portFlows(s, d int32, port uint16) int64 {
	e := g.edge(s, d)
	if e < 0 {
		return 0
	}
	lo := g.portOff[e]
	if i, ok := slices.BinarySearch(g.portKey[lo:g.portOff[e+1]], port); ok {
		return g.portFl[int(lo)+i]
	}
	return 0
}
