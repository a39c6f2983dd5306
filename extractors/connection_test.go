package extractors

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// connFlow builds a flow from initiator a to responder b (IPv4 text) with
// n packets of size bytes each, starting at t.
func connFlow(a, b string, port uint16, n int, size uint32, t float64) *flows.Flow {
	f := &flows.Flow{InitIP: addr16(a), RespIP: addr16(b), InitPort: 40000, RespPort: port, Proto: 6,
		First: t, Last: t + float64(n), Packets: n}
	for i := range n {
		f.Base = append(f.Base, flows.PktBase{TS: t + float64(i), IPLen: size, Fwd: i%2 == 0})
		f.Sum.Add(&f.Base[i])
	}
	return f
}

func addr16(s string) [16]byte {
	var b [16]byte
	a := netip.MustParseAddr(s).As4()
	copy(b[:], a[:])
	return b
}

// crossValues runs phase one over fs and returns every flow's connection
// values by column name.
func crossValues(t *testing.T, cfg flows.Config, fs []*flows.Flow) []map[string]schema.Value {
	t.Helper()
	g := Lookup("connection")
	x := NewCrossFlow(&cfg)
	for _, f := range fs {
		x.Add(f)
	}
	x.Finish()
	var rows []map[string]schema.Value
	for _, f := range fs {
		out := make([]schema.Value, len(g.Features))
		if err := g.ComputeCross(f, &cfg, x, out); err != nil {
			t.Fatal(err)
		}
		m := map[string]schema.Value{}
		for i, ft := range g.Features {
			if out[i].Kind != ft.Type {
				t.Errorf("%s: kind %v, declared %v", ft.Name, out[i].Kind, ft.Type)
			}
			m[ft.Name] = out[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestConnectionSmallGraph checks every connection column on a graph whose
// metrics are worked out by hand:
//
//	A -> B (two flows, ports 80 and 443), A -> C, B -> C, C -> D
//
// Directed shortest paths through another node: A->D and B->D pass C, so C's
// betweenness is 2/((n-1)(n-2)) = 2/6. Undirected neighbours: A{B,C} B{A,C}
// C{A,B,D} D{C}: clustering A = B = 1 (B-C and A-C are linked), C = 1/3.
func TestConnectionSmallGraph(t *testing.T) {
	const A, B, C, D = "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"
	fs := []*flows.Flow{
		connFlow(A, B, 80, 3, 100, 0),
		connFlow(A, B, 443, 5, 200, 0.5),
		connFlow(A, C, 80, 2, 60, 3),
		connFlow(B, C, 22, 4, 1000, 4),
		connFlow(C, D, 53, 2, 80, 5),
	}
	rows := crossValues(t, flows.DefaultConfig(), fs)
	type want map[string]float64
	cases := []struct {
		flow int
		want want
	}{
		{0, want{"conn_src_unique_dsts": 2, "conn_dst_unique_srcs": 1, "conn_src_dst_flows": 2, "conn_src_port_flows": 1,
			"conn_src_total_flows": 3, "conn_dst_total_flows": 2, "conn_src_total_packets": 10, "conn_src_total_bytes": 300 + 1000 + 120,
			"conn_dst_total_packets": 8, "conn_dst_total_bytes": 1300, "conn_src_unique_ports": 2, "conn_src_out_degree": 2,
			"conn_dst_in_degree": 1, "conn_src_betweenness": 0, "conn_dst_betweenness": 0, "conn_src_clustering": 1, "conn_dst_clustering": 1,
			"conn_src_flow_rate": 2.0 / 3, "conn_temporal_spread": 3, "conn_burst_connections": 2}},
		{3, want{"conn_src_unique_dsts": 1, "conn_dst_unique_srcs": 2, "conn_src_dst_flows": 1, "conn_src_port_flows": 1,
			"conn_src_total_flows": 1, "conn_dst_total_flows": 2, "conn_src_total_packets": 4, "conn_src_total_bytes": 4000,
			"conn_dst_total_packets": 6, "conn_dst_total_bytes": 4120, "conn_src_unique_ports": 1, "conn_src_out_degree": 1,
			"conn_dst_in_degree": 2, "conn_src_betweenness": 0, "conn_dst_betweenness": 2.0 / 6, "conn_src_clustering": 1,
			"conn_dst_clustering": 1.0 / 3, "conn_src_flow_rate": 0, "conn_temporal_spread": 0, "conn_burst_connections": 1}},
		{4, want{"conn_src_unique_dsts": 1, "conn_dst_unique_srcs": 1, "conn_src_total_flows": 1, "conn_dst_total_flows": 1,
			"conn_src_betweenness": 2.0 / 6, "conn_dst_betweenness": 0, "conn_src_clustering": 1.0 / 3, "conn_dst_clustering": 0,
			"conn_dst_in_degree": 1}},
	}
	for _, tc := range cases {
		for col, w := range tc.want {
			v := rows[tc.flow][col]
			got := float64(v.I)
			if v.Kind == schema.Real {
				got = v.F
			}
			if math.Abs(got-w) > 1e-12 {
				t.Errorf("flow %d: %s = %v, want %v", tc.flow, col, got, w)
			}
		}
	}
	// Communities: a partition (every node in one), same_community agrees
	// with the ids.
	for i, r := range rows {
		s, d := r["conn_src_community"].I, r["conn_dst_community"].I
		if s < 0 || d < 0 {
			t.Errorf("flow %d: community %d/%d, want ids >= 0", i, s, d)
		}
		if same := r["conn_same_community"].I == 1; same != (s == d) {
			t.Errorf("flow %d: same_community %v with ids %d and %d", i, same, s, d)
		}
	}
}

// TestConnectionUsePorts: with connection_use_ports a node is address:port,
// so two flows from one host but different source ports start from
// different nodes.
func TestConnectionUsePorts(t *testing.T) {
	a := connFlow("10.0.0.1", "10.0.0.2", 80, 2, 100, 0)
	b := connFlow("10.0.0.1", "10.0.0.3", 80, 2, 100, 1)
	b.InitPort = 40001
	cfg := flows.DefaultConfig()
	for _, tc := range []struct {
		ports bool
		dsts  int64
	}{{false, 2}, {true, 1}} {
		cfg.ConnectionUsePorts = tc.ports
		rows := crossValues(t, cfg, []*flows.Flow{a, b})
		if got := rows[0]["conn_src_unique_dsts"].I; got != tc.dsts {
			t.Errorf("use_ports=%v: conn_src_unique_dsts = %d, want %d", tc.ports, got, tc.dsts)
		}
	}
}

// TestConnectionFanOut reads a real capture with a clear fan-out pattern: in
// nDPI's ethereum.pcap one host (192.168.1.184) opens 70 flows to 62
// different peers on 5 ports. The values are JoyfulJay's (reference row).
func TestConnectionFanOut(t *testing.T) {
	path := corpusPath(t, "ndpi/pcap/ethereum.pcap")
	cfg := conformanceConfig()
	g := Lookup("connection")
	fs := captureFlows(t, path, cfg, g.CrossNeeds)
	rows := crossValues(t, cfg, fs)
	var seen int
	for i, f := range fs {
		if f.InitAddr().String() != "192.168.1.184" {
			continue
		}
		seen++
		r := rows[i]
		for col, want := range map[string]int64{"conn_src_unique_dsts": 62, "conn_src_out_degree": 62, "conn_src_total_flows": 70,
			"conn_src_total_packets": 1992, "conn_src_total_bytes": 184411, "conn_src_unique_ports": 5} {
			if got := r[col].I; got != want {
				t.Errorf("flow %d: %s = %d, want %d", f.UID, col, got, want)
			}
		}
		if got := r["conn_src_betweenness"].F; math.Abs(got-0.057808857808857805) > 1e-12 {
			t.Errorf("flow %d: conn_src_betweenness = %v, want 0.0578088578...", f.UID, got)
		}
	}
	if seen != 70 {
		t.Errorf("%d flows from the fan-out host, want 70", seen)
	}
}

// TestConnectionCommunities: POLICY asks for deterministic communities
// (JoyfulJay's Louvain is randomly seeded, so its ids can only be compared
// as a grouping). On nDPI's sites.pcapng (64 flows, JoyfulJay finds 12
// communities): the same flows give the same ids on every run; ids are
// numbered by first-seen node (the first flow's initiator is in community
// 0); and our grouping is as good as JoyfulJay's by the measure Louvain
// optimises: its modularity is at least JoyfulJay's grouping's, less 0.01.
func TestConnectionCommunities(t *testing.T) {
	const capture = "ndpi/pcap/sites.pcapng"
	path := corpusPath(t, capture)
	_, reference, _ := refDirs(t)
	cfg := conformanceConfig()
	fs := captureFlows(t, path, cfg, Lookup("connection").CrossNeeds)
	first := crossValues(t, cfg, fs)
	if got := first[0]["conn_src_community"].I; got != 0 {
		t.Errorf("first flow's initiator in community %d, want 0", got)
	}
	for run := range 5 {
		again := crossValues(t, cfg, fs)
		for i := range first {
			for _, col := range []string{"conn_src_community", "conn_dst_community"} {
				if again[i][col].I != first[i][col].I {
					t.Fatalf("run %d, flow %d: %s = %d, first run %d", run, i, col, again[i][col].I, first[i][col].I)
				}
			}
		}
	}

	// Both groupings as node -> community, then modularity on our graph.
	x := NewCrossFlow(&cfg)
	for _, f := range fs {
		x.Add(f)
	}
	x.Finish()
	g := x.conn
	ours := map[int32]int64{}
	for v := range g.nodes {
		ours[int32(v)] = g.comm[v]
	}
	tab, err := readRefTable(filepath.Join(reference, capture+".csv"), ',')
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range tab.head {
		col[h] = i
	}
	theirs := map[int32]int64{}
	for _, r := range tab.rows {
		for _, end := range [][2]string{{"src_ip", "conn_src_community"}, {"dst_ip", "conn_dst_community"}} {
			id, ok := g.ids[connNode{addr: netip.MustParseAddr(r[col[end[0]]])}]
			if !ok {
				t.Fatalf("reference node %s not in our graph", r[col[end[0]]])
			}
			c, err := strconv.ParseInt(r[col[end[1]]], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			theirs[id] = c
		}
	}
	if len(theirs) != len(g.nodes) {
		t.Fatalf("reference names %d nodes, our graph has %d", len(theirs), len(g.nodes))
	}
	qOurs, qTheirs := g.modularity(ours), g.modularity(theirs)
	t.Logf("%s: modularity ours %.4f, JoyfulJay's %.4f", capture, qOurs, qTheirs)
	if qOurs < qTheirs-0.01 {
		t.Errorf("modularity of our grouping %.4f, JoyfulJay's %.4f", qOurs, qTheirs)
	}
}

// modularity returns Newman's modularity of a grouping of g's undirected
// graph weighted by flow counts (self-loops left out, as in finish), from
// the directed edges and their flow counts.
func (g *connGraph) modularity(comm map[int32]int64) float64 {
	var edges [][3]int64
	for s := range int32(g.out.n()) {
		for e := g.out.off[s]; e < g.out.off[s+1]; e++ {
			edges = append(edges, [3]int64{int64(s), int64(g.out.adj[e]), g.edgeFl[e]})
		}
	}
	c := make([]int64, len(g.nodes))
	for v := range c {
		c[v] = comm[int32(v)]
	}
	return testModularity(edges, c)
}

// TestConnectionEmptyGraph: phase one over nothing is fine.
func TestConnectionEmptyGraph(t *testing.T) {
	cfg := flows.DefaultConfig()
	x := NewCrossFlow(&cfg)
	x.Finish()
	g := Lookup("connection")
	out := make([]schema.Value, len(g.Features))
	if err := g.ComputeCross(connFlow("10.0.0.1", "10.0.0.2", 1, 1, 40, 0), &cfg, x, out); err != nil {
		t.Fatal(err)
	}
	if err := g.ComputeCross(connFlow("10.0.0.1", "10.0.0.2", 1, 1, 40, 0), &cfg, nil, out); err == nil {
		t.Error("no cross-flow state: no error")
	}
}

// benchConnEntries returns the phase-one entries of a synthetic scan shaped
// like our 1 GB benchmark capture: 60,000 flows from about 25,000 client
// hosts to 8,000 server hosts whose popularity is heavy-tailed (Zipf), plus
// 300 flows between servers. The generator is seeded, so every run sees the
// same graph.
func benchConnEntries() []CrossEntry {
	const clients, servers, flowsN, serverFlows = 25000, 8000, 60000, 300
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.2, 1, servers-1)
	client := func(i int) connNode {
		return connNode{addr: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
	}
	server := func(i int) connNode {
		return connNode{addr: netip.AddrFrom4([4]byte{172, 16 + byte(i>>16), byte(i >> 8), byte(i)})}
	}
	ports := []uint16{443, 80, 53, 22, 8080}
	es := make([]CrossEntry, 0, flowsN)
	for i := range flowsN {
		e := CrossEntry{pkts: 10, bytes: 4000, first: float64(i) * 0.01, port: ports[r.IntN(len(ports))]}
		if i%(flowsN/serverFlows) == 0 {
			e.src, e.dst = server(r.IntN(servers)), server(int(zipf.Uint64()))
		} else {
			e.src, e.dst = client(r.IntN(clients)), server(int(zipf.Uint64()))
		}
		es = append(es, e)
	}
	return es
}

// BenchmarkConnFinish times the graph computation (Finish) on the synthetic
// scan of benchConnEntries; adding the flows is not timed.
func BenchmarkConnFinish(b *testing.B) {
	es := benchConnEntries()
	cfg := flows.DefaultConfig()
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		x := NewCrossFlow(&cfg)
		for _, e := range es {
			x.AddEntry(e)
		}
		b.StartTimer()
		x.Finish()
	}
	b.StopTimer()
}

// TestConnectionLoopsAndReciprocal: a self-loop flow counts in the degrees
// (as an edge to itself) but not in the undirected graph; flows both ways
// between two hosts are one undirected edge weighted by both.
//
//	A -> B (ports 80, 80, 443), B -> A (port 53), A -> A (port 80), C -> B (port 80)
func TestConnectionLoopsAndReciprocal(t *testing.T) {
	const A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
	fs := []*flows.Flow{
		connFlow(A, B, 80, 1, 100, 0),
		connFlow(A, B, 80, 1, 100, 1),
		connFlow(A, B, 443, 1, 100, 2),
		connFlow(B, A, 53, 1, 100, 3),
		connFlow(A, A, 80, 1, 100, 4),
		connFlow(C, B, 80, 1, 100, 5),
	}
	rows := crossValues(t, flows.DefaultConfig(), fs)
	for _, tc := range []struct {
		flow int
		col  string
		want float64
	}{
		{0, "conn_src_dst_flows", 3},
		{0, "conn_src_port_flows", 2},
		{2, "conn_src_port_flows", 1},
		{3, "conn_src_dst_flows", 1},
		{4, "conn_src_dst_flows", 1},
		{0, "conn_src_out_degree", 2}, // B and A itself
		{0, "conn_src_unique_ports", 2},
		{0, "conn_dst_in_degree", 2}, // A and C
		{3, "conn_dst_in_degree", 2}, // B and A itself
		{4, "conn_src_clustering", 0},
		// undirected: A-B (weight 4), B-C; B lies on C -> B -> A
		{5, "conn_dst_betweenness", 1.0 / 2},
		{0, "conn_src_betweenness", 0},
	} {
		v := rows[tc.flow][tc.col]
		got := float64(v.I)
		if v.Kind == schema.Real {
			got = v.F
		}
		if got != tc.want {
			t.Errorf("flow %d: %s = %v, want %v", tc.flow, tc.col, got, tc.want)
		}
	}

	cfg := flows.DefaultConfig()
	x := NewCrossFlow(&cfg)
	for _, f := range fs {
		x.Add(f)
	}
	x.Finish()
	x.Finish() // a second call does nothing
	u := undirected(&x.conn.out, x.conn.edgeFl)
	wantOff, wantAdj, wantW := []int32{0, 1, 3, 4}, []int32{1, 0, 2, 1}, []float64{4, 4, 1, 1}
	if !slices.Equal(u.off, wantOff) || !slices.Equal(u.adj, wantAdj) || !slices.Equal(u.w, wantW) {
		t.Errorf("undirected = %v %v %v, want %v %v %v", u.off, u.adj, u.w, wantOff, wantAdj, wantW)
	}
}

// TestTriangles compares triangles with a count over every node triple, on
// random undirected graphs with a few high-degree hubs.
func TestTriangles(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		p    float64
	}{{"sparse", 40, 0.05}, {"dense", 25, 0.4}, {"hubs", 120, 0.02}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.n), 5))
			adj := make([][]bool, tc.n)
			for v := range adj {
				adj[v] = make([]bool, tc.n)
			}
			var edges [][3]int64
			link := func(a, b int) {
				if a != b && !adj[a][b] {
					adj[a][b], adj[b][a] = true, true
					edges = append(edges, [3]int64{int64(a), int64(b), 1})
				}
			}
			for a := range tc.n {
				for b := a + 1; b < tc.n; b++ {
					if r.Float64() < tc.p {
						link(a, b)
					}
				}
			}
			for hub := range 3 { // nodes 0..2 linked to half of the graph
				for v := range tc.n {
					if r.IntN(2) == 0 {
						link(hub, v)
					}
				}
			}
			want := make([]int64, tc.n)
			var total int64
			for a := range tc.n {
				for b := a + 1; b < tc.n; b++ {
					for c := b + 1; c < tc.n; c++ {
						if adj[a][b] && adj[b][c] && adj[a][c] {
							want[a]++
							want[b]++
							want[c]++
							total++
						}
					}
				}
			}
			if total == 0 {
				t.Fatal("no triangle: not a useful graph")
			}
			if got := triangles(testUndCSR(tc.n, edges)); !slices.Equal(got, want) {
				t.Errorf("triangles = %v, want %v", got, want)
			}
		})
	}
}
