package vtab

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// Rows waiting for an earlier flow to end (so that rows come out in
// flow_uid order) keep their packed cells in memory up to spillAt bytes in
// all; beyond it, a waiting row's cells go to an unlinked temporary file and
// are read back when the row's turn comes. A capture whose first flow lasts
// to its end makes every row wait: without the file, SELECT * over a
// capture of ten million flows would hold about 12 GB of rows. (A variable
// for the tests.)
var spillAt = 16 << 20

// rowSpill is the file of a scan's spilled rows (the cursor goroutine
// only).
type rowSpill struct {
	f       *os.File
	w       *bufio.Writer
	end     int64 // bytes written, buffered ones included
	flushed int64 // bytes written through to f
	buf     []byte
	rows    uint64 // rows spilled
	failed  bool   // no file could be made: rows stay in memory
}

// put moves row r's cells to the file; false (r unchanged) when there is
// no file.
func (sp *rowSpill) put(r *scanRow, warn func(string, ...any)) bool {
	if sp.failed {
		return false
	}
	if sp.f == nil {
		f, err := os.CreateTemp("", "jjsql-rows-*")
		if err != nil {
			sp.failed = true
			warn("flows: rows waiting for an earlier flow stay in memory: %v", err)
			return false
		}
		os.Remove(f.Name()) // unlinked: the space goes with the scan
		sp.f, sp.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	if _, err := sp.w.Write(r.enc); err != nil {
		// The file is unusable (disk full): keep this row and the next in
		// memory; rows already spilled stay readable up to what reached it.
		sp.failed = true
		warn("flows: rows waiting for an earlier flow stay in memory: %v", err)
		return false
	}
	r.spillOff, r.spillLen = sp.end, len(r.enc)
	r.enc = nil
	sp.end += int64(r.spillLen)
	sp.rows++
	return true
}

// get reads row r's cells back into a buffer of sp's, valid until the next
// get.
func (sp *rowSpill) get(r *scanRow) error {
	if r.spillOff+int64(r.spillLen) > sp.flushed {
		if err := sp.w.Flush(); err != nil {
			return fmt.Errorf("flows: reading back a waiting row: %w", err)
		}
		sp.flushed = sp.end
	}
	if cap(sp.buf) < r.spillLen {
		sp.buf = make([]byte, r.spillLen)
	}
	b := sp.buf[:r.spillLen]
	if _, err := sp.f.ReadAt(b, r.spillOff); err != nil && err != io.EOF {
		return fmt.Errorf("flows: reading back a waiting row: %w", err)
	}
	r.enc, r.spillLen = b, 0
	return nil
}

func (sp *rowSpill) close() {
	if sp.f != nil {
		sp.f.Close()
		sp.f, sp.w = nil, nil
	}
}
