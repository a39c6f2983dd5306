package extractors

import (
	"fmt"
	"math"
	"strconv"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// The sequences group holds JoyfulJay's optional per-packet outputs
// (include_raw_sequences, include_splt) as JSON arrays of the flow's first
// max_sequence_length packets, in arrival order. JSON keeps one value per
// cell and unpacks in SQL with json_each:
//
//	SELECT f.flow_uid, j.key AS i, j.value AS len
//	FROM flows('x.pcap') AS f, json_each(f.pkt_len_sequence) AS j
//
// The columns are HIDDEN in flows() unless their option is on (jjsql
// --include-raw-sequences / --include-splt), and can always be read by name.
func init() {
	cols := []struct{ name, unit, opt, doc string }{
		{"iat_sequence", "s", OptRawSequences, "JSON array: seconds between each of the first max_sequence_length packets and the one before it (first packet 0)."},
		{"timestamp_sequence", "s", OptRawSequences, "JSON array: capture time (epoch seconds) of each of the first max_sequence_length packets."},
		{"pkt_len_sequence", "bytes", OptRawSequences, "JSON array: IP total length of each of the first max_sequence_length packets."},
		{"direction_sequence", "-", OptRawSequences, "JSON array: 1 for a packet of the initiator, -1 for one of the responder, for the first max_sequence_length packets."},
		{"splt_lengths", "bytes", OptSPLT, "SPLT lengths, JSON array: declared transport payload length of each of the first max_sequence_length packets, negative when the responder sent it."},
		{"splt_times", "ms", OptSPLT, "SPLT times, JSON array: milliseconds since the previous packet (first packet 0), for the first max_sequence_length packets."},
	}
	g := &Group{ID: "sequences", Needs: flows.NeedBase, Compute: computeSequences, Optional: map[string]string{}}
	for _, c := range cols {
		g.Extra = append(g.Extra, schema.Feature{Name: c.name, Group: "sequences", Type: schema.Text, Unit: c.unit,
			Profile: schema.Experimental, Doc: c.doc})
		g.Optional[c.name] = c.opt
	}
	register(g)
}

// computeSequences fills the sequences group.
func computeSequences(f *flows.Flow, cfg *flows.Config, out []schema.Value) error {
	if len(out) != 6 {
		return fmt.Errorf("extractors: sequences: %d output cells, want 6", len(out))
	}
	n := min(len(f.Base), max(cfg.MaxSequenceLength, 0))
	recs := f.Base[:n]
	var iat, ts, lens, dirs, splL, splT []byte
	for _, b := range []*[]byte{&iat, &ts, &lens, &dirs, &splL, &splT} {
		*b = append(make([]byte, 0, 8*n+2), '[')
	}
	for i := range recs {
		r := &recs[i]
		if i > 0 {
			for _, b := range []*[]byte{&iat, &ts, &lens, &dirs, &splL, &splT} {
				*b = append(*b, ',')
			}
		}
		// Capture times are float64 epoch seconds (about 0.2 µs resolution):
		// gaps are rounded to the microsecond so they print as measured.
		gap := math.Round((r.TS-prevTS(recs, i))*1e6) / 1e6
		iat = strconv.AppendFloat(iat, gap, 'g', -1, 64)
		ts = strconv.AppendFloat(ts, r.TS, 'f', -1, 64)
		lens = strconv.AppendUint(lens, uint64(r.IPLen), 10)
		pay := int64(r.Payload)
		if r.Fwd {
			dirs = append(dirs, '1')
		} else {
			dirs = append(dirs, "-1"...)
			pay = -pay
		}
		splL = strconv.AppendInt(splL, pay, 10)
		splT = strconv.AppendFloat(splT, math.Round((r.TS-prevTS(recs, i))*1e6)/1e3, 'g', -1, 64)
	}
	for i, b := range [][]byte{iat, ts, lens, dirs, splL, splT} {
		out[i] = schema.TextV(string(append(b, ']')))
	}
	return nil
}

// prevTS returns the capture time of the packet before recs[i] (recs[0]'s own
// time for the first).
func prevTS(recs []flows.PktBase, i int) float64 {
	if i == 0 {
		return recs[0].TS
	}
	return recs[i-1].TS
}
