package extractors

import (
	"math"
	"math/bits"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{
		ID:      "tcp_window",
		Needs:   flows.NeedBase | flows.NeedTCP,
		Compute: computeTCPWindow,
	})
}

// winDir is the window state of one direction.
type winDir struct {
	packets  int64
	init     uint16
	wsSeen   bool
	ws       uint8
	min, max uint16
	sum      int64 // exact: 65535 * packets stays far below 2^53
	zero     int64
	up, down int64
	prev     uint16
}

// computeTCPWindow follows SEMANTICS.md, tcp_window: raw 16-bit windows per
// direction; the window scale is the option value of the first packet of the
// direction that carries one.
func computeTCPWindow(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var dirs [2]winDir
	n := tcpRecCount(f)
	for i := 0; i < n; i++ {
		if !tcpRecIsTCP(f, i) {
			continue
		}
		t := &f.TCP[i]
		d := &dirs[1]
		if f.Base[i].Fwd {
			d = &dirs[0]
		}
		w := t.Window
		if d.packets == 0 {
			d.init, d.min, d.max = w, w, w
		} else {
			d.min, d.max = min(d.min, w), max(d.max, w)
			switch {
			case w > d.prev:
				d.up++
			case w < d.prev:
				d.down++
			}
		}
		d.prev = w
		d.packets++
		d.sum += int64(w)
		if w == 0 {
			d.zero++
		}
		if t.OptFlags&flows.OptWS != 0 && !d.wsSeen {
			d.wsSeen, d.ws = true, t.WS
		}
	}

	fw, bw := &dirs[0], &dirs[1]
	zeroRatio := 0.0
	if total := fw.packets + bw.packets; total > 0 {
		zeroRatio = float64(fw.zero+bw.zero) / float64(total)
	}
	out[0] = schema.IntV(int64(fw.init))
	out[1] = schema.IntV(int64(bw.init))
	out[2] = schema.IntV(int64(fw.ws))
	out[3] = schema.IntV(int64(bw.ws))
	out[4] = schema.IntV(int64(fw.min))
	out[5] = schema.IntV(int64(fw.max))
	out[6] = schema.RealV(fw.mean())
	out[7] = schema.IntV(fw.zero)
	out[8] = schema.IntV(int64(bw.min))
	out[9] = schema.IntV(int64(bw.max))
	out[10] = schema.RealV(bw.mean())
	out[11] = schema.IntV(bw.zero)
	out[12] = schema.IntV(fw.up)
	out[13] = schema.IntV(fw.down)
	out[14] = schema.IntV(fw.up + fw.down)
	out[15] = schema.IntV(bw.up)
	out[16] = schema.IntV(bw.down)
	out[17] = schema.IntV(bw.up + bw.down)
	out[18] = schema.IntV(fw.scaledMax())
	out[19] = schema.IntV(bw.scaledMax())
	out[20] = schema.RealV(zeroRatio)
	return nil
}

// mean is JoyfulJay's sum(windows)/len(windows): an exact integer sum divided
// once, so the result is the correctly rounded quotient.
func (d *winDir) mean() float64 {
	if d.packets == 0 {
		return 0
	}
	return float64(d.sum) / float64(d.packets)
}

// scaledMax returns the raw maximum window shifted left by the window scale
// when one was seen. JoyfulJay does not clamp the shift to RFC 7323's 14, so
// neither do we; a product that does not fit in int64 (shift ≥ 48 with a
// nonzero window, possible only in hostile input since the option is one
// byte) saturates at math.MaxInt64.
func (d *winDir) scaledMax() int64 {
	m := uint64(d.max)
	if !d.wsSeen || m == 0 {
		return int64(m)
	}
	if bits.Len64(m)+int(d.ws) > 63 {
		return math.MaxInt64
	}
	return int64(m << d.ws)
}
