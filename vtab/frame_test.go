package vtab

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// TestDecoderPanicEndsScan: a panic while decoding (a bug in a decoder)
// ends a parallel scan with an error naming the record, after the rows
// before it, instead of leaving the scan waiting for the chunk.
func TestDecoderPanicEndsScan(t *testing.T) {
	defer func(f func(*flows.Frame, *flows.Packet, *flows.SourceStats) bool) { decodeFrame = f }(decodeFrame)
	var n atomic.Int64
	decodeFrame = func(fr *flows.Frame, p *flows.Packet, st *flows.SourceStats) bool {
		if n.Add(1) == 300 {
			panic("decoder bug")
		}
		return flows.DecodeFrame(fr, p, st)
	}
	for _, tc := range []struct{ table, col string }{{"flows", "src_ip"}, {"packets", "src_ip"}} {
		t.Run(tc.table, func(t *testing.T) {
			n.Store(0)
			env := NewEnv()
			env.Workers = 2
			tab := map[string]Table{"flows": NewFlowsTable(env), "packets": NewPacketsTable(env)}[tc.table]
			rows, err := scanAll(tab, "../testdata/sample.pcap", tc.col)
			if err == nil || !strings.Contains(err.Error(), "internal error while decoding record 300 of file 0: decoder bug") {
				t.Fatalf("error %v, want the decoder's panic", err)
			}
			if rows == 0 {
				t.Errorf("no rows before the error")
			}
		})
	}
}
