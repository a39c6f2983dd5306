package sqlitec

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/schema"
)

// fakeCursor returns n rows of five columns (int, real, text, blob, null),
// then err (or the end).
type fakeCursor struct {
	n, i   int
	err    error
	closed bool
}

func (c *fakeCursor) Next() (bool, error) {
	if c.i >= c.n {
		return false, c.err
	}
	c.i++
	return true, nil
}

func (c *fakeCursor) Column(col int) schema.Value {
	switch col {
	case 0:
		return schema.IntV(int64(c.i))
	case 1:
		return schema.RealV(float64(c.i) / 4)
	case 2:
		return schema.TextV(strings.Repeat("x", c.i%3)) // "" every third row
	case 3:
		return schema.BlobV(make([]byte, c.i*1000)) // grows the arena
	}
	return schema.NullV()
}

func (c *fakeCursor) Rowid() int64 { return int64(100 + c.i) }
func (c *fakeCursor) Close() error { c.closed = true; return nil }

// readAll fills batches until the end, checking every cell against the
// fake's values; it returns the rows per batch and the error met.
func readAll(t *testing.T, ec *extCursor, cols []int) (sizes []int, err error) {
	t.Helper()
	row := 0
	for range 100 {
		eof, err := ec.fill()
		if err != nil || eof {
			return sizes, err
		}
		n, _, _ := ec.batchInfo()
		sizes = append(sizes, n)
		for r := 0; r < n; r++ {
			row++
			want := &fakeCursor{i: row}
			for s, col := range cols {
				got, rowid := ec.cell(r, s)
				if w := want.Column(col); !reflect.DeepEqual(got, w) && !(w.Kind == schema.Blob && len(w.B) == len(got.B)) {
					t.Fatalf("row %d column %d: %+v, want %+v", row, col, got, w)
				}
				if rowid != int64(100+row) {
					t.Fatalf("row %d: rowid %d", row, rowid)
				}
			}
		}
	}
	t.Fatal("no end")
	return nil, nil
}

// TestBatches: rows come in growing batches, with exactly the columns used,
// every cell as the cursor gave it.
func TestBatches(t *testing.T) {
	et := &extTable{tcol: []int{4, 0, 1, 2, 3}} // declared order: the null column first
	used := []bool{true, false, true, true, true}
	fc := &fakeCursor{n: 50}
	ec := newCursor(et, fc, used)
	defer ec.free()
	_, _, slots := ec.batchInfo()
	// Declared column 2 is table column 1, unused: no cell.
	if want := []int{0, 1, -1, 2, 3}; !reflect.DeepEqual(slots, want) {
		t.Errorf("slots %v, want %v", slots, want)
	}
	sizes, err := readAll(t, ec, []int{4, 0, 2, 3}) // table column of each slot
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 8, 16, 22}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
	if eof, err := ec.fill(); !eof || err != nil {
		t.Errorf("after the end: eof %v err %v", eof, err)
	}
}

// TestBatchError: an error after some rows comes after those rows, once.
func TestBatchError(t *testing.T) {
	et := &extTable{tcol: []int{0, 1, 2, 3, 4}}
	boom := errors.New("boom")
	ec := newCursor(et, &fakeCursor{n: 6, err: boom}, nil)
	defer ec.free()
	sizes, err := readAll(t, ec, []int{0, 1, 2, 3, 4})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if want := []int{4, 2}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes %v, want %v: the rows before the error first", sizes, want)
	}
	if eof, err := ec.fill(); !eof || err != nil {
		t.Errorf("after the error: eof %v err %v, want the end", eof, err)
	}
}

// TestBatchBounds: a wide row gets at least one row per batch and no more
// than maxBatchCells cells; the arena stops a batch early.
func TestBatchBounds(t *testing.T) {
	wide := &extTable{tcol: make([]int, 100000)}
	ec := newCursor(wide, &fakeCursor{n: 3}, nil)
	if ec.cap != 1 {
		t.Errorf("cap %d rows for 100000 cells, want 1", ec.cap)
	}
	ec.free()

	blobs := &extTable{tcol: []int{3}}
	ec = newCursor(blobs, &fakeCursor{n: 5000}, nil)
	defer ec.free()
	ec.want = ec.cap
	if _, err := ec.fill(); err != nil {
		t.Fatal(err)
	}
	n, _, _ := ec.batchInfo()
	// Row i holds i*1000 bytes: the batch ends once the arena passes 1 MiB.
	if n < 40 || n > 50 {
		t.Errorf("%d rows in a batch of growing blobs, want about 45 (1 MiB)", n)
	}
}
