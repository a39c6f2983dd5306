package flows

import (
	"math/rand/v2"
	"testing"
)

func TestKeyOf(t *testing.T) {
	v4 := func(b ...byte) [16]byte { return [16]byte{b[0], b[1], b[2], b[3]} }
	v6 := func(last byte) [16]byte { return [16]byte{0x20, 0x01, 15: last} }
	pkt := func(src, dst [16]byte, sp, dp uint16, proto, ver uint8) *Packet {
		return &Packet{SrcIP: src, DstIP: dst, SrcPort: sp, DstPort: dp, Proto: proto, IPVersion: ver}
	}
	cases := []struct {
		name     string
		p, q     *Packet // the same flow, q in the other direction (nil: none)
		srcIsA   bool
		other    *Packet // a different flow
		sameFlow bool
	}{
		{"v4 lower address sends", pkt(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 5000, 80, 6, 4), pkt(v4(10, 0, 0, 2), v4(10, 0, 0, 1), 80, 5000, 6, 4), true,
			pkt(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 5000, 80, 17, 4), false},
		{"v4 higher address sends", pkt(v4(192, 168, 1, 1), v4(10, 0, 0, 2), 5000, 80, 6, 4), pkt(v4(10, 0, 0, 2), v4(192, 168, 1, 1), 80, 5000, 6, 4), false,
			pkt(v4(192, 168, 1, 1), v4(10, 0, 0, 2), 5001, 80, 6, 4), false},
		{"same address, ports decide", pkt(v4(1, 2, 3, 4), v4(1, 2, 3, 4), 9, 7, 17, 4), pkt(v4(1, 2, 3, 4), v4(1, 2, 3, 4), 7, 9, 17, 4), false,
			pkt(v4(1, 2, 3, 4), v4(1, 2, 3, 4), 9, 9, 17, 4), false},
		{"v6 low word decides", pkt(v6(2), v6(1), 1, 1, 6, 6), pkt(v6(1), v6(2), 1, 1, 6, 6), false,
			pkt(v6(2), v6(3), 1, 1, 6, 6), false},
		{"v4 and v6 apart", pkt(v4(1, 0, 0, 0), v4(2, 0, 0, 0), 1, 2, 6, 4), nil, true,
			pkt(v4(1, 0, 0, 0), v4(2, 0, 0, 0), 1, 2, 6, 6), false},
		{"one endpoint both sides", pkt(v4(1, 1, 1, 1), v4(1, 1, 1, 1), 5, 5, 6, 4), nil, true,
			pkt(v4(1, 1, 1, 1), v4(1, 1, 1, 1), 5, 5, 6, 4), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, a := keyOf(tc.p)
			if a != tc.srcIsA {
				t.Errorf("srcIsA = %v, want %v", a, tc.srcIsA)
			}
			if tc.q != nil {
				k2, a2 := keyOf(tc.q)
				if k2 != k || a2 == a {
					t.Errorf("reverse direction: key %v srcIsA %v; want %v, %v", k2, a2, k, !a)
				}
			}
			ko, _ := keyOf(tc.other)
			if (ko == k) != tc.sameFlow {
				t.Errorf("other packet: same key = %v, want %v", ko == k, tc.sameFlow)
			}
			if k.hash(1) == 0 || k.hash(1) != k.hash(1) {
				t.Error("hash is 0 or not deterministic")
			}
		})
	}
}

// TestFlowTable checks the table against a map under random inserts and
// deletes, through growth and shrinking.
func TestFlowTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seed := range []uint64{0, 12345} {
		tab := newFlowTable(seed)
		ref := map[flowKey]*Flow{}
		var keys []flowKey
		check := func(k flowKey) {
			got := tab.get(&k, k.hash(seed))
			if want := ref[k]; got != want {
				t.Fatalf("seed %d: get(%v) = %p, want %p", seed, k, got, want)
			}
		}
		for step := 0; step < 60000; step++ {
			grow := step < 30000 && rng.IntN(3) > 0 || step >= 30000 && rng.IntN(4) == 0
			if grow || len(keys) == 0 {
				// Clustered keys (few distinct bytes) make collisions likely.
				k := flowKey{a0: uint64(rng.IntN(64)) << 32, b0: uint64(rng.IntN(64)) << 32, meta: uint64(rng.IntN(8)) << 48}
				if _, ok := ref[k]; ok {
					check(k)
					continue
				}
				f := &Flow{key: k}
				ref[k] = f
				keys = append(keys, k)
				tab.put(f, k.hash(seed))
			} else {
				i := rng.IntN(len(keys))
				k := keys[i]
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				tab.remove(ref[k])
				delete(ref, k)
				check(k)
			}
			if tab.n != len(ref) {
				t.Fatalf("n = %d, want %d", tab.n, len(ref))
			}
			if step%997 == 0 {
				for _, k := range keys {
					check(k)
				}
			}
		}
		for _, k := range keys {
			tab.remove(ref[k])
		}
		if tab.n != 0 || len(tab.slots) != minTableSlots {
			t.Errorf("emptied table: n %d, %d slots; want 0, %d", tab.n, len(tab.slots), minTableSlots)
		}
	}
}
