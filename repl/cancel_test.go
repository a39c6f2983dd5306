//go:build sqlite_vtable

package repl

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	fnsqlite "github.com/jjsql/jjsql/functions/sqlite"
	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

// bigCapture writes the sample capture copies times over, each copy an hour
// after the previous one (so the flows do not merge), and returns its path.
func bigCapture(t *testing.T, copies int) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/sample.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatal("sample.pcap: want a little-endian microsecond pcap")
	}
	out := append([]byte(nil), b[:24]...)
	for i := 0; i < copies; i++ {
		for off := 24; off+16 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[off+8:]))
			rec := append([]byte(nil), b[off:off+16+n]...)
			binary.LittleEndian.PutUint32(rec, binary.LittleEndian.Uint32(rec)+uint32(i*3600))
			out = append(out, rec...)
			off += 16 + n
		}
	}
	path := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCancelLongScan cancels queries over a large capture the way the shell
// does on Ctrl-C, once the scan is under way, and measures how long they
// take to stop. Between rows, SQLite's interrupt (mattn calls
// sqlite3_interrupt when the context ends) stops the statement; inside one
// long engine callback (the connection group's first pass over the whole
// input, run when the scan starts) only Env.Progress can stop it.
func TestCancelLongScan(t *testing.T) {
	old := vtab.ProgressInterval
	vtab.ProgressInterval = 10 * time.Millisecond
	defer func() { vtab.ProgressInterval = old }()
	path := os.Getenv("JJSQL_BIG_CAPTURE") // to measure on a capture of your own
	if path == "" {
		path = bigCapture(t, 300) // 47 MB, 151,200 packets
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture: %s, %d bytes", path, fi.Size())

	for _, tc := range []struct {
		name, query string
		stopScan    bool // Progress returns false once the query is cancelled
		maxLatency  time.Duration
	}{
		{"between rows, interrupt", "SELECT count(*), avg(iat_mean), max(ja4) FROM flows(?)", false, time.Second},
		{"first pass, Progress", "SELECT avg(conn_src_unique_dsts) FROM flows(?)", true, time.Second},
		{"first pass, no Progress stop", "SELECT avg(conn_src_unique_dsts) FROM flows(?)", false, 0},
		{"every column, Progress", "SELECT * FROM flows(?)", true, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := vtab.NewEnv()
			db := sqlite.Open(env, ":memory:", fnsqlite.Register)
			defer db.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled time.Time
			env.Progress = func(b, total, packets uint64) bool {
				if cancelled.IsZero() && packets > 20000 {
					cancelled = time.Now()
					cancel() // Ctrl-C, once the scan is well under way
				}
				return !tc.stopScan || ctx.Err() == nil
			}
			start := time.Now()
			var n int
			rows, err := db.QueryContext(ctx, tc.query, path)
			if err == nil {
				for rows.Next() {
					n++
				}
				err = rows.Err()
				rows.Close()
			}
			end := time.Now()
			if cancelled.IsZero() {
				t.Fatalf("the scan ended (%v, %d rows) before it was cancelled, after %v", err, n, end.Sub(start))
			}
			lat := end.Sub(cancelled)
			t.Logf("ran %v before the cancel, stopped %v after it: %v", cancelled.Sub(start), lat, err)
			if err == nil || !(errors.Is(err, context.Canceled) || errors.Is(err, vtab.ErrInterrupted) || cleanErr(err) == "interrupted") {
				t.Fatalf("err = %v, want an interruption", err)
			}
			if tc.maxLatency > 0 && lat > tc.maxLatency {
				t.Errorf("stopped %v after the cancel, want under %v", lat, tc.maxLatency)
			}
		})
	}
}
