package flows

import (
	"encoding/binary"
	"math/bits"
)

// flowKey identifies a bidirectional flow: the two endpoints in canonical
// order (the byte-wise smaller address, then port, first) and the transport
// protocol. Ports are 0 for protocols without ports. Addresses are held as
// big-endian words, so comparing words compares bytes.
type flowKey struct {
	a0, a1, b0, b1 uint64 // addresses A and B
	meta           uint64 // portA<<48 | portB<<32 | proto<<8 | v6
}

// keyOf returns the canonical key of p and whether p's sender is endpoint A.
func keyOf(p *Packet) (k flowKey, srcIsA bool) {
	s0, s1 := binary.BigEndian.Uint64(p.SrcIP[:8]), binary.BigEndian.Uint64(p.SrcIP[8:])
	d0, d1 := binary.BigEndian.Uint64(p.DstIP[:8]), binary.BigEndian.Uint64(p.DstIP[8:])
	sp, dp := p.SrcPort, p.DstPort
	// The sender is B when the destination sorts first.
	srcIsA = !(d0 < s0 || d0 == s0 && (d1 < s1 || d1 == s1 && dp < sp))
	meta := uint64(p.Proto) << 8
	if p.IPVersion == 6 {
		meta |= 1
	}
	if srcIsA {
		return flowKey{s0, s1, d0, d1, meta | uint64(sp)<<48 | uint64(dp)<<32}, true
	}
	return flowKey{d0, d1, s0, s1, meta | uint64(dp)<<48 | uint64(sp)<<32}, false
}

// hash returns a hash of k under seed; it is never 0 (0 marks an empty slot).
func (k *flowKey) hash(seed uint64) uint64 {
	const m1, m2 = 0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9
	h1, l1 := bits.Mul64(k.a0^seed, k.b0^m1)
	h2, l2 := bits.Mul64(k.a1^m2, k.b1^seed)
	h3, l3 := bits.Mul64(h1^l2^k.meta, h2^l1^m1)
	return (h3 ^ l3) | 1
}

// flowTable is an open-addressing hash table (linear probing, backward-shift
// deletion) of the open flows. Each slot keeps the key's hash next to the
// flow, so a probe reads the flow only when the hashes match. The table
// grows at half full and shrinks when it falls below 1/8 full, so a burst of
// concurrent flows does not pin its memory after they end.
type flowTable struct {
	slots []flowSlot
	n     int
	seed  uint64
}

type flowSlot struct {
	hash uint64
	f    *Flow
}

const minTableSlots = 1024

func newFlowTable(seed uint64) flowTable {
	return flowTable{slots: make([]flowSlot, minTableSlots), seed: seed}
}

// get returns the flow with key k (whose hash is h), or nil.
func (t *flowTable) get(k *flowKey, h uint64) *Flow {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == h && s.f.key == *k {
			return s.f
		}
		if s.hash == 0 {
			return nil
		}
	}
}

// put adds f, whose key is not in the table, under hash h.
func (t *flowTable) put(f *Flow, h uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(2 * len(t.slots))
	}
	t.insert(f, h)
	t.n++
}

func (t *flowTable) insert(f *Flow, h uint64) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].hash != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = flowSlot{h, f}
	f.hash = h
}

// remove deletes f, which is in the table.
func (t *flowTable) remove(f *Flow) {
	mask := uint64(len(t.slots) - 1)
	i := f.hash & mask
	for t.slots[i].f != f {
		i = (i + 1) & mask
	}
	// Shift back the entries after i that probed past it.
	for j := (i + 1) & mask; t.slots[j].hash != 0; j = (j + 1) & mask {
		home := t.slots[j].hash & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = flowSlot{}
	t.n--
	if len(t.slots) > minTableSlots && 8*t.n < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

func (t *flowTable) resize(size int) {
	old := t.slots
	t.slots = make([]flowSlot, size)
	for _, s := range old {
		if s.hash != 0 {
			t.insert(s.f, s.hash)
		}
	}
}
