package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "ip_extended", Needs: flows.NeedBase | flows.NeedIP, Compute: computeIPExtended})
}

// ttlStats accumulates the TTL (hop limit) values of one direction.
type ttlStats struct {
	n        int
	sum      int64
	min, max uint8
	first    uint8
	distinct fieldSet[uint8]
}

func (s *ttlStats) add(ttl uint8) {
	if s.n == 0 {
		s.min, s.max, s.first = ttl, ttl, ttl
	}
	s.min = min(s.min, ttl)
	s.max = max(s.max, ttl)
	s.n++
	s.sum += int64(ttl)
	s.distinct.add(ttl)
}

// put writes min, max, mean and changes (distinct values - 1), all 0 when
// the direction has no packet.
func (s *ttlStats) put(out []schema.Value) {
	if s.n == 0 {
		out[0], out[1], out[2], out[3] = schema.IntV(0), schema.IntV(0), schema.RealV(0), schema.IntV(0)
		return
	}
	out[0] = schema.IntV(int64(s.min))
	out[1] = schema.IntV(int64(s.max))
	out[2] = schema.RealV(float64(s.sum) / float64(s.n))
	out[3] = schema.IntV(int64(s.distinct.len() - 1))
}

// ipIDGaps counts the gaps of one direction's IPv4 identification sequence.
type ipIDGaps struct {
	last uint16
	seen bool
	gaps int64
}

// add records the next IP ID of the direction. A gap is a step from the
// previous ID of the same direction to this one of more than 1, modulo
// 65536: an increment by 1 and a repeated ID are not gaps, a decrement is.
func (g *ipIDGaps) add(id uint16) {
	if g.seen && id-g.last > 1 {
		g.gaps++
	}
	g.last, g.seen = id, true
}

// computeIPExtended fills the ip_extended group. TTLs are split by
// direction; TOS, flags and IP ID exist only in IPv4 headers, so IPv6
// packets contribute nothing to them (ip_df_ratio still divides by every
// packet of the flow).
//
// ip_id_gaps is corrected (POLICY.md section 2): JoyfulJay runs the
// definition over both directions' IDs interleaved, which compares two
// hosts' unrelated counters; here each direction's own IPv4 ID sequence, in
// arrival order, is scanned for consecutive differences (mod 65536) greater
// than 1, and the two counts are summed.
func computeIPExtended(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		fwd, bwd       ttlStats
		tos            fieldSet[uint8]
		minTOS         uint8
		flagsOR, dfCnt int64
		version        uint8
		idFwd, idBwd   ipIDGaps
	)
	for i := range f.IP {
		p := &f.IP[i]
		isFwd := f.Base[i].Fwd
		if isFwd {
			fwd.add(p.TTL)
		} else {
			bwd.add(p.TTL)
		}
		if p.Version != 0 && (version == 0 || p.Version < version) {
			version = p.Version
		}
		if p.Version != 4 {
			continue
		}
		if tos.len() == 0 || p.TOS < minTOS {
			minTOS = p.TOS
		}
		tos.add(p.TOS)
		flagsOR |= int64(p.Flags)
		if p.Flags&2 != 0 {
			dfCnt++
		}
		if isFwd {
			idFwd.add(uint16(p.ID))
		} else {
			idBwd.add(uint16(p.ID))
		}
	}
	fwd.put(out[0:4])
	bwd.put(out[4:8])
	var initial, hops int64
	if fwd.n > 0 {
		switch t := int64(fwd.first); {
		case t <= 64:
			initial = 64
		case t <= 128:
			initial = 128
		default:
			initial = 255
		}
		hops = initial - int64(fwd.first)
	}
	out[8] = schema.IntV(initial)
	out[9] = schema.IntV(hops)
	out[10] = schema.IntV(int64(minTOS))
	out[11] = schema.IntV(int64(tos.len()))
	out[12] = schema.IntV(int64(minTOS >> 2))
	out[13] = schema.IntV(int64(minTOS & 3))
	out[14] = schema.IntV(flagsOR)
	out[15] = schema.IntV(dfCnt)
	var dfRatio float64
	if n := len(f.IP); n > 0 {
		dfRatio = float64(dfCnt) / float64(n)
	}
	out[16] = schema.RealV(dfRatio)
	if version == 0 {
		version = 4
	}
	out[17] = schema.IntV(int64(version))
	out[18] = schema.IntV(idFwd.gaps + idBwd.gaps)
	return nil
}
