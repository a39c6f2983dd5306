package vtab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
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

// TestEarlyCloseManyFiles closes scans of a directory of captures after a
// few rows, at varying points (some while the framer waits for a file's
// chunks to be decoded): every close returns.
func TestEarlyCloseManyFiles(t *testing.T) {
	dir := sampleDir(t, 12)
	for _, table := range []string{"flows", "packets"} {
		for stopAt := 0; stopAt < 3000; stopAt += 97 {
			env := NewEnv()
			env.Workers = 2
			tab := map[string]Table{"flows": NewFlowsTable(env), "packets": NewPacketsTable(env)}[table]
			args := make([]schema.Value, len(ArgNames()))
			args[0] = schema.TextV(dir)
			used := make([]bool, len(tab.Columns()))
			for i, c := range tab.Columns() {
				used[i] = c.Name == "src_ip"
			}
			cur, err := tab.Open(args, used)
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n < stopAt; n++ {
				if ok, err := cur.Next(); err != nil || !ok {
					break
				}
			}
			done := make(chan struct{})
			go func() { cur.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: Close after %d rows did not return", table, stopAt)
			}
		}
	}
}

// TestEndedFilesUnmapped: a flows scan of a directory keeps an ended file
// mapped only until every flow table is past it (its packets point into
// the mapping), not to the end of the scan: at most the files of the
// batches in flight (one chunk per file here; the chunks and the batches
// queued at the workers, about 20 with two workers) are mapped at once,
// however many the directory holds; Close unmaps the rest.
func TestEndedFilesUnmapped(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps here")
	}
	const files = 100
	dir := sampleDir(t, files)
	mapped := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), dir+"/")
	}
	env := NewEnv()
	env.Workers = 2
	tab := NewFlowsTable(env)
	args := make([]schema.Value, len(ArgNames()))
	args[0] = schema.TextV(dir)
	used := make([]bool, len(tab.Columns()))
	for i, c := range tab.Columns() {
		used[i] = c.Name == "src_ip" || c.Name == "payload_bytes_fwd"
	}
	cur, err := tab.Open(args, used)
	if err != nil {
		t.Fatal(err)
	}
	rows, most := 0, 0
	eachRow(t, cur, func() {
		rows++
		most = max(most, mapped())
	})
	atEnd := mapped()
	cur.Close()
	if rows != files*38 {
		t.Errorf("%d rows, want %d", rows, files*38)
	}
	if limit := 2 * (4*env.Workers + 4 + 2*env.Workers); most > limit || atEnd > 2 {
		t.Errorf("up to %d of the %d files mapped during the scan, %d at its end; want at most %d and 2", most, files, atEnd, limit)
	}
	if n := mapped(); n != 0 {
		t.Errorf("%d files still mapped after Close", n)
	}
}

// eachRow calls fn after each row cur returns, to the end; an error fails t.
func eachRow(t *testing.T, cur Cursor, fn func()) {
	t.Helper()
	for {
		ok, err := cur.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		fn()
	}
}

// sampleDir returns a new directory holding n copies of the sample capture.
func sampleDir(t *testing.T, n int) string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%02d.pcap", i)), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
