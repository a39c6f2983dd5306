package extractors

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// testCSR returns the directed unweighted graph on n nodes with the given
// edges (duplicates merged, rows sorted).
func testCSR(n int, edges [][2]int32) *csr {
	rows := make([][]int32, n)
	for _, e := range edges {
		rows[e[0]] = append(rows[e[0]], e[1])
	}
	g := &csr{off: make([]int32, n+1)}
	for v, r := range rows {
		slices.Sort(r)
		g.adj = append(g.adj, slices.Compact(r)...)
		g.off[v+1] = int32(len(g.adj))
	}
	return g
}

// randomDigraph returns n nodes and about p*n*n random edges (self-loops
// and duplicates included), from a seeded generator.
func randomDigraph(seed uint64, n int, p float64) (int, [][2]int32) {
	r := rand.New(rand.NewPCG(seed, 7))
	var edges [][2]int32
	for range int(p * float64(n*n)) {
		edges = append(edges, [2]int32{int32(r.IntN(n)), int32(r.IntN(n))})
	}
	return n, edges
}

// naiveBetweenness computes betweenness from its definition: all-pairs
// distances by Floyd-Warshall, shortest-path counts by distance layers, then
// for every v and every pair (s, t) around it sigma(s,v)*sigma(v,t)/sigma(s,t)
// when v lies on a shortest s-t path.
func naiveBetweenness(n int, edges [][2]int32) []float64 {
	const inf = math.MaxInt32
	adj := make([][]bool, n)
	dist := make([][]int, n)
	for i := range n {
		adj[i] = make([]bool, n)
		dist[i] = make([]int, n)
		for j := range n {
			dist[i][j] = inf
		}
		dist[i][i] = 0
	}
	for _, e := range edges {
		if e[0] != e[1] {
			adj[e[0]][e[1]] = true
			dist[e[0]][e[1]] = 1
		}
	}
	for k := range n {
		for i := range n {
			for j := range n {
				if dist[i][k] < inf && dist[k][j] < inf && dist[i][k]+dist[k][j] < dist[i][j] {
					dist[i][j] = dist[i][k] + dist[k][j]
				}
			}
		}
	}
	// sigma[s][t]: shortest paths from s to t, layer by layer
	sigma := make([][]float64, n)
	for s := range n {
		sigma[s] = make([]float64, n)
		sigma[s][s] = 1
		for d := 1; d < n; d++ {
			for t := range n {
				if dist[s][t] != d {
					continue
				}
				for u := range n {
					if adj[u][t] && dist[s][u] == d-1 {
						sigma[s][t] += sigma[s][u]
					}
				}
			}
		}
	}
	b := make([]float64, n)
	for v := range n {
		for s := range n {
			for t := range n {
				if s == v || t == v || s == t || dist[s][t] == inf || dist[s][v] == inf || dist[v][t] == inf {
					continue
				}
				if dist[s][v]+dist[v][t] == dist[s][t] {
					b[v] += sigma[s][v] * sigma[v][t] / sigma[s][t]
				}
			}
		}
	}
	return b
}

func TestBetweenness(t *testing.T) {
	type tc struct {
		name  string
		n     int
		edges [][2]int32
		want  []float64 // nil: the naive computation's values
	}
	cases := []tc{
		{"empty", 0, nil, []float64{}},
		{"single", 1, [][2]int32{{0, 0}}, []float64{0}},
		{"path", 3, [][2]int32{{0, 1}, {1, 2}}, []float64{0, 1, 0}},
		// two shortest paths 0->1->3 and 0->2->3 share the pair (0, 3)
		{"diamond", 4, [][2]int32{{0, 1}, {0, 2}, {1, 3}, {2, 3}}, []float64{0, 0.5, 0.5, 0}},
		{"cycle", 3, [][2]int32{{0, 1}, {1, 2}, {2, 0}}, []float64{1, 1, 1}},
		{"self-loops", 3, [][2]int32{{0, 0}, {0, 1}, {1, 1}, {1, 2}}, []float64{0, 1, 0}},
	}
	for i, sz := range []struct {
		n int
		p float64
	}{{5, 0.3}, {12, 0.15}, {20, 0.1}, {30, 0.05}, {40, 0.08}, {60, 0.03}, {300, 0.004}} {
		n, e := randomDigraph(uint64(i+1), sz.n, sz.p)
		cases = append(cases, tc{name: "random" + string(rune('A'+i)), n: n, edges: e})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == nil {
				want = naiveBetweenness(c.n, c.edges)
			}
			got := betweenness(testCSR(c.n, c.edges))
			if len(got) != len(want) {
				t.Fatalf("%d values, want %d", len(got), len(want))
			}
			var nonzero int
			for v := range want {
				if math.Abs(got[v]-want[v]) > 1e-12*max(1, math.Abs(want[v])) {
					t.Errorf("betweenness[%d] = %v, want %v", v, got[v], want[v])
				}
				if want[v] != 0 {
					nonzero++
				}
			}
			if c.n >= 20 && nonzero == 0 {
				t.Errorf("random graph with no node between others: not a useful case")
			}
		})
	}
}

// TestBetweennessParallel: the sums are the same bits whatever GOMAXPROCS,
// on a graph of several chunks.
func TestBetweennessParallel(t *testing.T) {
	n, edges := randomDigraph(99, 3*brandesChunk+17, 0.002)
	g := testCSR(n, edges)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	one := betweenness(g)
	for _, procs := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		got := betweenness(g)
		for v := range one {
			if math.Float64bits(got[v]) != math.Float64bits(one[v]) {
				t.Fatalf("GOMAXPROCS=%d: betweenness[%d] = %v, with 1: %v", procs, v, got[v], one[v])
			}
		}
	}
	var sum float64
	for _, b := range one {
		sum += b
	}
	if sum == 0 {
		t.Error("all betweenness 0: not a useful graph")
	}
}
