package extractors

import (
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

func init() {
	register(&Group{ID: "ipv6_options", Needs: flows.NeedIP, Compute: computeIPv6Options})
}

// computeIPv6Options fills the ipv6_options group. The flow label and
// traffic class reported are the smallest distinct values seen (as
// JoyfulJay does), not the first packet's.
func computeIPv6Options(f *flows.Flow, _ *flows.Config, out []schema.Value) error {
	var (
		v6, v4         int64
		labels         fieldSet[uint32]
		classes        fieldSet[uint8]
		minLabel       uint32
		minClass       uint8
		labelN, classN int64
	)
	for i := range f.IP {
		p := &f.IP[i]
		switch p.Version {
		case 4:
			v4++
		case 6:
			v6++
			if labels.len() == 0 || p.FlowLabel < minLabel {
				minLabel = p.FlowLabel
			}
			labels.add(p.FlowLabel)
			if classes.len() == 0 || p.TrafficClass < minClass {
				minClass = p.TrafficClass
			}
			classes.add(p.TrafficClass)
		}
	}
	labelN, classN = int64(labels.len()), int64(classes.len())
	var changes int64
	if labelN > 0 {
		changes = labelN - 1
	}
	var ratio float64
	if v4+v6 > 0 {
		ratio = float64(v6) / float64(v4+v6)
	}
	var only int64
	if v4 == 0 && v6 > 0 {
		only = 1
	}
	out[0] = schema.IntV(v6)
	out[1] = schema.IntV(v4)
	out[2] = schema.IntV(int64(minLabel))
	out[3] = schema.IntV(labelN)
	out[4] = schema.IntV(changes)
	out[5] = schema.IntV(int64(minClass))
	out[6] = schema.IntV(classN)
	out[7] = schema.IntV(int64(minClass >> 2))
	out[8] = schema.IntV(int64(minClass & 3))
	out[9] = schema.RealV(ratio)
	out[10] = schema.IntV(only)
	return nil
}
