package extractors

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// testUndCSR returns the undirected weighted graph on n nodes with the edges
// {a, b, w}: each edge in the rows of both ends, parallel edges summed,
// self-loops left out.
func testUndCSR(n int, edges [][3]int64) *csr {
	w := make([]map[int32]float64, n)
	for v := range w {
		w[v] = map[int32]float64{}
	}
	for _, e := range edges {
		a, b := int32(e[0]), int32(e[1])
		if a != b {
			w[a][b] += float64(e[2])
			w[b][a] += float64(e[2])
		}
	}
	g := &csr{off: make([]int32, n+1)}
	for v := range n {
		var nb []int32
		for u := range w[v] {
			nb = append(nb, u)
		}
		slices.Sort(nb)
		for _, u := range nb {
			g.adj = append(g.adj, u)
			g.w = append(g.w, w[v][u])
		}
		g.off[v+1] = int32(len(g.adj))
	}
	return g
}

// cliques returns k cliques of size s (nodes c*s .. c*s+s-1, unit weights)
// and the edges joining clique c's last node to clique c+1's first: a chain,
// or with ring a ring.
func cliques(k, s int, ring bool) (int, [][3]int64) {
	var edges [][3]int64
	for c := range k {
		for i := range s {
			for j := i + 1; j < s; j++ {
				edges = append(edges, [3]int64{int64(c*s + i), int64(c*s + j), 1})
			}
		}
		if c+1 < k || (ring && k > 2) {
			edges = append(edges, [3]int64{int64(c*s + s - 1), int64((c + 1) % k * s), 1})
		}
	}
	return k * s, edges
}

// planted returns groups of size s with edges inside a group with
// probability pin and between groups with pout (seeded), and the planted
// grouping.
func planted(seed uint64, groups, s int, pin, pout float64) (int, [][3]int64, []int64) {
	r := rand.New(rand.NewPCG(seed, 3))
	n := groups * s
	var edges [][3]int64
	truth := make([]int64, n)
	for v := range n {
		truth[v] = int64(v / s)
		for u := v + 1; u < n; u++ {
			p := pout
			if u/s == v/s {
				p = pin
			}
			if r.Float64() < p {
				edges = append(edges, [3]int64{int64(v), int64(u), int64(1 + r.IntN(3))})
			}
		}
	}
	return n, edges, truth
}

// testModularity returns Newman's modularity (resolution 1) of the grouping
// comm of the undirected graph with the weighted edges {a, b, w} (an edge
// listed twice, either way, counts with the sum of its weights; self-loops
// are left out).
func testModularity(edges [][3]int64, comm []int64) float64 {
	var m float64
	k := map[int64]float64{}
	var in float64
	for _, e := range edges {
		if e[0] == e[1] {
			continue
		}
		w := float64(e[2])
		m += w
		k[e[0]] += w
		k[e[1]] += w
		if comm[e[0]] == comm[e[1]] {
			in += w
		}
	}
	tot := map[int64]float64{}
	for v, kv := range k {
		tot[comm[v]] += kv
	}
	q := in / m
	for _, s := range tot {
		q -= (s / (2 * m)) * (s / (2 * m))
	}
	return q
}

func TestLouvain(t *testing.T) {
	twoN, twoE := cliques(2, 5, false)
	ringN, ringE := cliques(8, 5, true)
	// two triangles held together by heavy weights, one light edge between
	weightedE := [][3]int64{{0, 1, 10}, {1, 2, 10}, {0, 2, 10}, {3, 4, 10}, {4, 5, 10}, {3, 5, 10}, {2, 3, 1}}
	// node order mixes the two groups: ids follow each community's smallest node
	mixedE := [][3]int64{{0, 2, 5}, {2, 4, 5}, {0, 4, 5}, {1, 3, 5}, {3, 5, 5}, {1, 5, 5}, {4, 5, 1}}
	blocks := func(sizes ...int) []int32 {
		var c []int32
		for i, s := range sizes {
			for range s {
				c = append(c, int32(i))
			}
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		n     int
		edges [][3]int64
		want  []int32
	}{
		{"empty", 0, nil, []int32{}},
		{"edgeless", 4, nil, []int32{0, 1, 2, 3}},
		{"self-loops only", 2, [][3]int64{{0, 0, 3}, {1, 1, 1}}, []int32{0, 1}},
		{"one edge", 3, [][3]int64{{1, 2, 1}}, []int32{0, 1, 1}},
		{"two cliques", twoN, twoE, blocks(5, 5)},
		{"ring of cliques", ringN, ringE, blocks(5, 5, 5, 5, 5, 5, 5, 5)},
		{"weighted", 6, weightedE, blocks(3, 3)},
		{"interleaved", 6, mixedE, []int32{0, 1, 0, 1, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := louvain(testUndCSR(tc.n, tc.edges))
			if !slices.Equal(got, tc.want) {
				t.Errorf("louvain = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLouvainModularity: on random graphs with planted groups, the result's
// modularity (computed by testModularity, apart from louvain) is at least
// the planted grouping's less 0.01 (Louvain stops at a local optimum) and at
// least the value this implementation reached when written (gonum's seeded
// Louvain, used before, scored 0.5753, 0.3933 and 0.7562 here; on 30 such
// graphs of 44 to 726 nodes both averaged 0.570); a second run gives the same
// ids, numbered by smallest node. With 30 groups of 8 weakly linked,
// merging pairs of groups scores better than the planted grouping (the
// resolution limit of modularity), so fewer communities are expected.
func TestLouvainModularity(t *testing.T) {
	for _, tc := range []struct {
		name         string
		seed         uint64
		groups, size int
		pin, pout    float64
		minQ         float64
		comms        int32
	}{
		{"clear", 1, 4, 25, 0.3, 0.02, 0.5737, 4},
		{"fuzzy", 2, 6, 20, 0.2, 0.04, 0.3888, 7},
		{"many small", 3, 30, 8, 0.6, 0.005, 0.7558, 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, edges, truth := planted(tc.seed, tc.groups, tc.size, tc.pin, tc.pout)
			g := testUndCSR(n, edges)
			got := louvain(g)
			if again := louvain(g); !slices.Equal(again, got) {
				t.Fatalf("second run differs")
			}
			comm := make([]int64, n)
			next := int32(0)
			for v, c := range got {
				if c > next {
					t.Fatalf("node %d in community %d before any node of community %d", v, c, next)
				}
				if c == next {
					next++
				}
				comm[v] = int64(c)
			}
			q, qTruth := testModularity(edges, comm), testModularity(edges, truth)
			t.Logf("%d communities, modularity %.4f, planted %.4f", next, q, qTruth)
			if q < qTruth-0.01 || q < tc.minQ {
				t.Errorf("modularity %.4f, want at least %.4f and the planted grouping's %.4f less 0.01", q, tc.minQ, qTruth)
			}
			if next != tc.comms {
				t.Errorf("%d communities, want %d", next, tc.comms)
			}
		})
	}
}
