package extractors

// Community detection by the Louvain method (Blondel, Guillaume, Lambiotte,
// Lefebvre, 2008), maximising Newman's modularity at resolution 1 on an
// undirected weighted graph:
//
//	Q = sum over communities c of  in(c)/m - (tot(c)/2m)^2
//
// with m the total edge weight, in(c) the weight of the edges inside c and
// tot(c) the sum of the weighted degrees of c's nodes.
//
// Each level has two phases. Local moving: every node starts alone; nodes
// are visited in id order, each is taken out of its community and put into
// the neighbouring community where it adds most to Q. Joining community c
// adds k(i,c)/m - tot(c)*k(i)/(2m^2), with k(i,c) the weight of i's edges
// into c and k(i) its degree, so candidates are ranked by
// k(i,c) - tot(c)*k(i)/2m. A node moves only when the best candidate beats
// its own community; ties go to the smallest community id. Passes repeat
// until one moves nothing. Aggregation: each community becomes one node of
// the next level, the edges between two communities one edge of the summed
// weight, the edges inside one a self-loop. The method stops at the first
// level where no node moves.
//
// Nothing is random and every loop runs in a fixed order, so one graph
// always gives one partition. The weights of a node's edges into each
// community are summed in an array indexed by community with a list of the
// entries touched, reset after each node.

// louvainGraph is one level: an undirected graph whose every edge appears in
// the rows of both its ends, plus per node the weight of its self-loop
// (counted once) and its degree (edge weights plus twice the self-loop).
type louvainGraph struct {
	csr
	self, deg []float64
}

// louvain returns a community per node of the undirected weighted graph g
// (each edge in both rows, no self-loops, positive weights). Communities are
// numbered from 0 in the order of their smallest node.
func louvain(g *csr) []int32 {
	n := g.n()
	lg := &louvainGraph{csr: *g, self: make([]float64, n), deg: make([]float64, n)}
	var m2 float64 // twice the total weight
	for v := range n {
		for e := g.off[v]; e < g.off[v+1]; e++ {
			lg.deg[v] += g.w[e]
		}
		m2 += lg.deg[v]
	}
	member := make([]int32, n) // node of the current level holding each original node
	for v := range member {
		member[v] = int32(v)
	}
	if m2 > 0 {
		for {
			comm, moved := localMoving(lg, m2)
			if !moved {
				break
			}
			k := renumber(comm)
			for v, c := range member {
				member[v] = comm[c]
			}
			lg = aggregate(lg, comm, k)
		}
	}
	renumber(member)
	return member
}

// localMoving runs the first phase on lg and returns each node's community
// (a node id of lg) and whether any node moved.
func localMoving(lg *louvainGraph, m2 float64) ([]int32, bool) {
	n := lg.n()
	comm := make([]int32, n)
	tot := make([]float64, n)
	for v := range n {
		comm[v] = int32(v)
		tot[v] = lg.deg[v]
	}
	acc := make([]float64, n) // weight from the current node into each community
	seen := make([]bool, n)
	var touched []int32
	moved := false
	for {
		moves := 0
		for v := range n {
			cv, kv := comm[v], lg.deg[v]
			for e := lg.off[v]; e < lg.off[v+1]; e++ {
				c := comm[lg.adj[e]]
				if !seen[c] {
					seen[c] = true
					touched = append(touched, c)
				}
				acc[c] += lg.w[e]
			}
			tot[cv] -= kv
			stay := acc[cv] - tot[cv]*kv/m2
			best, gain := cv, stay
			for _, c := range touched {
				if c == cv {
					continue
				}
				q := acc[c] - tot[c]*kv/m2
				if best == cv || q > gain || (q == gain && c < best) {
					best, gain = c, q
				}
			}
			// Rounding must not make a move of no real gain look like
			// one: require a margin relative to the node's degree.
			if best != cv && gain-stay > 1e-12*kv {
				comm[v] = best
				moves++
			}
			tot[comm[v]] += kv
			for _, c := range touched {
				acc[c], seen[c] = 0, false
			}
			touched = touched[:0]
		}
		if moves == 0 {
			return comm, moved
		}
		moved = true
	}
}

// renumber replaces the ids in comm by 0, 1, ... in order of first
// appearance and returns how many distinct ids there are.
func renumber(comm []int32) int {
	next := make([]int32, len(comm))
	for i := range next {
		next[i] = -1
	}
	k := int32(0)
	for v, c := range comm {
		if next[c] < 0 {
			next[c] = k
			k++
		}
		comm[v] = next[c]
	}
	return int(k)
}

// aggregate returns the next level: one node per community of comm
// (numbered 0..k-1).
func aggregate(lg *louvainGraph, comm []int32, k int) *louvainGraph {
	n := lg.n()
	// members of each community, in node order (counting sort)
	off := make([]int32, k+1)
	for _, c := range comm {
		off[c+1]++
	}
	for c := range k {
		off[c+1] += off[c]
	}
	members := make([]int32, n)
	pos := make([]int32, k)
	copy(pos, off[:k])
	for v, c := range comm {
		members[pos[c]] = int32(v)
		pos[c]++
	}

	next := &louvainGraph{csr: csr{off: make([]int32, k+1)}, self: make([]float64, k), deg: make([]float64, k)}
	acc := make([]float64, k)
	seen := make([]bool, k)
	var touched []int32
	for c := range int32(k) {
		var inner float64 // internal edges, each seen from both ends
		for _, v := range members[off[c]:off[c+1]] {
			next.self[c] += lg.self[v]
			next.deg[c] += lg.deg[v]
			for e := lg.off[v]; e < lg.off[v+1]; e++ {
				d := comm[lg.adj[e]]
				if d == c {
					inner += lg.w[e]
					continue
				}
				if !seen[d] {
					seen[d] = true
					touched = append(touched, d)
				}
				acc[d] += lg.w[e]
			}
		}
		next.self[c] += inner / 2
		for _, d := range touched {
			next.adj = append(next.adj, d)
			next.w = append(next.w, acc[d])
			acc[d], seen[d] = 0, false
		}
		touched = touched[:0]
		next.off[c+1] = int32(len(next.adj))
	}
	return next
}
