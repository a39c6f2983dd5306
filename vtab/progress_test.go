package vtab

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jjsql/jjsql/schema"
)

type progressCall struct{ bytes, total, packets uint64 }

// scanAll opens t on path reading the named column (all columns when col is
// ""), and reads every row, returning the rows read and the error that
// ended the scan.
func scanAll(tab Table, path, col string) (int, error) {
	args := make([]schema.Value, len(ArgNames()))
	args[0] = schema.TextV(path)
	var used []bool
	if col != "" {
		used = make([]bool, len(tab.Columns()))
		for i, c := range tab.Columns() {
			used[i] = c.Name == col
		}
	}
	cur, err := tab.Open(args, used)
	if err != nil {
		return 0, err
	}
	defer cur.Close()
	n := 0
	for {
		ok, err := cur.Next()
		if err != nil || !ok {
			return n, err
		}
		n++
	}
}

func TestProgress(t *testing.T) {
	old := ProgressInterval
	ProgressInterval = 0 // a call every progressEvery packets
	defer func() { ProgressInterval = old }()
	const glob = "../testdata/sample.pcap*" // sample.pcap and sample.pcapng, 504 packets each
	var total uint64
	for _, f := range []string{"../testdata/sample.pcap", "../testdata/sample.pcapng"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += uint64(fi.Size())
	}
	for _, table := range []string{"flows", "packets"} {
		t.Run(table, func(t *testing.T) {
			var calls []progressCall
			env := NewEnv()
			env.Progress = func(b, tot, p uint64) bool {
				calls = append(calls, progressCall{b, tot, p})
				return true
			}
			tab := map[string]Table{"flows": NewFlowsTable(env), "packets": NewPacketsTable(env)}[table]
			n, err := scanAll(tab, glob, "src_ip")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"flows": 76, "packets": 1008}[table]; n != want {
				t.Errorf("rows = %d, want %d", n, want)
			}
			if len(calls) != 3 {
				t.Fatalf("calls = %+v, want 3 (at packets 256, 512, 768)", calls)
			}
			for i, c := range calls {
				if c.packets != uint64(256*(i+1)) {
					t.Errorf("call %d: packets = %d, want %d", i, c.packets, 256*(i+1))
				}
				if c.total != total {
					t.Errorf("call %d: total = %d, want %d", i, c.total, total)
				}
				if c.bytes == 0 || c.bytes > total || (i > 0 && c.bytes <= calls[i-1].bytes) {
					t.Errorf("call %d: bytes = %d (previous %+v, total %d)", i, c.bytes, calls[:i], total)
				}
			}
		})
	}
}

func TestProgressInterrupts(t *testing.T) {
	old := ProgressInterval
	ProgressInterval = 0
	defer func() { ProgressInterval = old }()
	for _, tc := range []struct {
		table, col string
		workers    int
		wantRows   int
	}{
		{"packets", "src_ip", 1, 255},   // one core, rows read in Next: the 256th packet is read, then the scan stops
		{"packets", "flow_uid", 2, 255}, // with the flow table (one goroutine reading ahead): the same
		{"packets", "src_ip", 2, 0},     // framed in chunks of 1024 records: the stop comes before the first chunk is decoded
		{"flows", "src_ip", 2, 0},       // the reader stops before it hands the first batch to the flow tables
		{"flows", "", 2, 0},             // all columns: the connection group's first pass (in Open) stops
	} {
		t.Run(fmt.Sprintf("%s/%s/%d", tc.table, tc.col, tc.workers), func(t *testing.T) {
			env := NewEnv()
			env.Workers = tc.workers
			env.Progress = func(b, tot, p uint64) bool { return false }
			tab := map[string]Table{"flows": NewFlowsTable(env), "packets": NewPacketsTable(env)}[tc.table]
			n, err := scanAll(tab, "../testdata/sample.pcap", tc.col)
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("err = %v, want ErrInterrupted", err)
			}
			if n != tc.wantRows {
				t.Errorf("rows before the stop = %d, want %d", n, tc.wantRows)
			}
		})
	}
}
