package extractors

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// csr is a graph in compressed sparse row form: the neighbours of node v are
// adj[off[v]:off[v+1]], and w (nil for an unweighted graph) holds the weight
// of each entry of adj.
type csr struct {
	off []int32
	adj []int32
	w   []float64
}

// n returns the number of nodes.
func (g *csr) n() int { return max(len(g.off)-1, 0) }

// row returns the neighbours of v.
func (g *csr) row(v int32) []int32 { return g.adj[g.off[v]:g.off[v+1]] }

// Betweenness centrality (Brandes, 2001), written for our graphs: directed,
// unweighted, self-loops allowed (they lie on no shortest path).
//
// For one source s a breadth-first search gives every reachable node its
// distance from s, its parents (in-neighbours one step closer to s) and
// sigma, its number of shortest paths from s (the sum of its parents'
// sigmas). The dependency of s on a node v,
//
//	delta(v) = sum over children w of v: sigma(v)/sigma(w) * (1 + delta(w)),
//
// is the expected number of shortest paths from s to other nodes that pass
// through v. Taking the nodes in reverse search order settles every child
// before its parents: each node w popped pushes its share to its parents.
// The betweenness of a node is the sum of its dependencies over every source
// other than itself, sources taken in id order.
//
// The parents of the current search are kept as linked lists in one arena
// (head per node, next per entry), so their cost is the number of edges the
// search crossed. Only the nodes a search reached are reset afterwards: a
// source whose search stays small (a client that contacted two servers)
// costs little however large the graph.

// brandesChunk is the number of consecutive sources one unit of work covers.
// It is fixed, not derived from the number of CPUs: each chunk sums its
// sources in order and the chunks are summed in order, so the result is the
// same bits whatever the parallelism (and, for a graph of one chunk, a plain
// sum over the sources in order).
const brandesChunk = 256

// brandesState is the scratch space of one worker, reused from source to
// source: outside a search dist is -1, sigma and delta 0, head -1.
type brandesState struct {
	dist         []int32
	sigma, delta []float64
	head         []int32 // first parent entry of each node, -1 for none
	parent, next []int32 // parent entries: the parent and the next entry of the same node
	order        []int32 // nodes in the order the search reached them

	acc     []float64 // the current chunk's sums
	mark    []int32   // chunk + 1 of the chunk that last touched acc[v]
	touched []int32
}

func newBrandesState(n int) *brandesState {
	st := &brandesState{dist: make([]int32, n), sigma: make([]float64, n), delta: make([]float64, n),
		head: make([]int32, n), acc: make([]float64, n), mark: make([]int32, n)}
	for i := range n {
		st.dist[i], st.head[i] = -1, -1
	}
	return st
}

// source adds the dependencies of source s to st.acc.
func (st *brandesState) source(g *csr, s int32, chunk int32) {
	dist, sigma, delta, head := st.dist, st.sigma, st.delta, st.head
	parent, next := st.parent[:0], st.next[:0]
	order := append(st.order[:0], s)
	dist[s], sigma[s] = 0, 1
	for i := 0; i < len(order); i++ {
		v := order[i]
		dv := dist[v] + 1
		for _, w := range g.row(v) {
			if dist[w] < 0 {
				dist[w] = dv
				order = append(order, w)
			}
			if dist[w] == dv {
				sigma[w] += sigma[v]
				parent = append(parent, v)
				next = append(next, head[w])
				head[w] = int32(len(parent) - 1)
			}
		}
	}
	for i := len(order) - 1; i > 0; i-- { // order[0] is s itself
		w := order[i]
		for k := head[w]; k >= 0; k = next[k] {
			v := parent[k]
			delta[v] += sigma[v] / sigma[w] * (1 + delta[w])
		}
		if d := delta[w]; d != 0 {
			if st.mark[w] != chunk+1 {
				st.mark[w] = chunk + 1
				st.touched = append(st.touched, w)
			}
			st.acc[w] += d
		}
	}
	for _, v := range order {
		dist[v], sigma[v], delta[v], head[v] = -1, 0, 0, -1
	}
	st.order, st.parent, st.next = order, parent, next
}

// brandesPart is one chunk's sum: value[i] for node[i].
type brandesPart struct {
	node  []int32
	value []float64
}

// runChunk returns the dependencies summed over the sources of chunk c.
func (st *brandesState) runChunk(g *csr, c int) brandesPart {
	n := g.n()
	for s := c * brandesChunk; s < min((c+1)*brandesChunk, n); s++ {
		if g.off[s] != g.off[s+1] {
			st.source(g, int32(s), int32(c))
		}
	}
	p := brandesPart{node: make([]int32, len(st.touched)), value: make([]float64, len(st.touched))}
	for i, v := range st.touched {
		p.node[i], p.value[i] = v, st.acc[v]
		st.acc[v] = 0
	}
	st.touched = st.touched[:0]
	return p
}

// betweenness returns the betweenness centrality of every node of the
// directed unweighted graph g, not normalised: for each node v, the sum over
// ordered pairs (s, t) of distinct nodes other than v of the fraction of
// shortest paths from s to t that pass through v.
func betweenness(g *csr) []float64 {
	n := g.n()
	b := make([]float64, n)
	chunks := (n + brandesChunk - 1) / brandesChunk
	parts := make([]brandesPart, chunks)
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			st := newBrandesState(n)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				parts[c] = st.runChunk(g, c)
			}
		})
	}
	wg.Wait()
	for _, p := range parts {
		for i, v := range p.node {
			b[v] += p.value[i]
		}
	}
	return b
}
