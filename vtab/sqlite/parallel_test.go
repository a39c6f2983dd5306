//go:build sqlite_vtable

package sqlite

import (
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jjsql/jjsql/vtab"
)

// TestParallelSameRows: a flows() scan gives the same rows, in the same
// order (by flow_uid), whatever the number of flow tables it runs in
// parallel: every cell of SELECT * compared, on captures with many hosts,
// IP fragments, tunnels, idle splits and FIN/RST closes, under the default
// options and JoyfulJay's parity options.
func TestParallelSameRows(t *testing.T) {
	inputs := []string{sample(t)}
	for _, rel := range []string{"ndpi/pcap/ethereum.pcap", "ndpi/pcap/ip_fragmented_garbage.pcap",
		"wireshark/afs.cap", "ndpi/pcap/6in4tunnel.pcap", "ndpi/pcap/teams.pcap", "ja4/pcap/tls-handshake.pcapng",
		// timestamps that go back (Simple Packet Blocks without a time,
		// out-of-order records): expiry must not depend on the shard
		"pcapng/le_test202.pcapng", "ndpi/pcap/cassandra.pcap"} {
		inputs = append(inputs, corpus(t, rel))
	}
	// A directory of several captures: flows do not span files.
	inputs = append(inputs, filepath.Join(filepath.Dir(corpus(t, "ja4/pcap/ssh.pcapng")), "ssh*"))
	queries := []string{
		"SELECT * FROM flows(?)",
		"SELECT * FROM flows WHERE path = ? AND terminate_on_fin_rst = 0 AND flow_timeout = 1000000000",
		"SELECT * FROM flows WHERE path = ? AND flow_timeout = 1",
	}
	one, four := openWorkers(t, 1), openWorkers(t, 4)
	for _, in := range inputs {
		for qi, q := range queries {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(in), qi), func(t *testing.T) {
				a, cols := dumpRows(t, one, q, in)
				b, _ := dumpRows(t, four, q, in)
				if len(a) == 0 {
					t.Fatal("no rows")
				}
				if len(a) != len(b) {
					t.Fatalf("1 worker: %d rows, 4 workers: %d", len(a), len(b))
				}
				uid := -1
				for i, c := range cols {
					if c == "flow_uid" {
						uid = i
					}
				}
				var prev int64 = -1
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("row %d differs:\n 1 worker: %.300s\n4 workers: %.300s", i, a[i], b[i])
					}
					var u int64
					fmt.Sscan(strings.Split(a[i], "\x1f")[uid], &u)
					if u <= prev {
						t.Fatalf("row %d: flow_uid %d after %d, want increasing", i, u, prev)
					}
					prev = u
				}
			})
		}
	}
}

// dumpRows returns every row of q as one string (cells joined by 0x1f,
// floats in full precision) and the column names.
func dumpRows(t *testing.T, db *sql.DB, q string, arg any) ([]string, []string) {
	t.Helper()
	rows, err := db.Query(q, arg)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(0x1f)
			}
			switch x := v.(type) {
			case float64:
				fmt.Fprintf(&b, "%x", math.Float64bits(x))
			case []byte:
				fmt.Fprintf(&b, "%x", x)
			default:
				fmt.Fprint(&b, x)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out, cols
}

// TestParallelPacketsSameRows: packets() reads its rows in Next with one
// worker; with more, a flow column has them read ahead by one goroutine, and
// without one they are framed on one goroutine and decoded on several. All
// give the same rows, in record order.
func TestParallelPacketsSameRows(t *testing.T) {
	inputs := []string{sample(t)}
	for _, rel := range []string{"ndpi/pcap/ip_fragmented_garbage.pcap", "wireshark/afs.cap", "ndpi/pcap/6in4tunnel.pcap",
		"pcapng/le_test202.pcapng", "ja4/pcap/tls-handshake.pcapng"} {
		inputs = append(inputs, corpus(t, rel))
	}
	inputs = append(inputs, filepath.Join(filepath.Dir(corpus(t, "ja4/pcap/ssh.pcapng")), "ssh*"))
	one, four := openWorkers(t, 1), openWorkers(t, 4)
	const cols = "file, frame, timestamp, src_ip, dst_ip, src_port, dst_port, protocol, ip_len, tcp_flags, payload, tcp_options"
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			seq, _ := dumpRows(t, one, "SELECT "+cols+", flow_uid FROM packets(?)", in)
			ahead, _ := dumpRows(t, four, "SELECT "+cols+", flow_uid FROM packets(?)", in)
			a, _ := dumpRows(t, one, "SELECT "+cols+" FROM packets(?)", in)
			b, _ := dumpRows(t, four, "SELECT "+cols+" FROM packets(?)", in)
			if len(seq) == 0 || len(ahead) != len(seq) || len(a) != len(seq) || len(b) != len(seq) {
				t.Fatalf("rows: %d, %d read ahead, %d without flows, %d decoded by 4", len(seq), len(ahead), len(a), len(b))
			}
			for i := range seq {
				whole := seq[i][:strings.LastIndex(seq[i], "\x1f")]
				if ahead[i] != seq[i] || a[i] != whole || b[i] != whole {
					t.Fatalf("row %d differs:\n      %.200s\nahead %.200s\n  one %.200s\n four %.200s", i, seq[i], ahead[i], a[i], b[i])
				}
			}
		})
	}
}

// openWorkers opens a database whose scans use the given number of workers.
func openWorkers(t *testing.T, workers int) *sql.DB {
	env := vtab.NewEnv()
	env.Workers = workers
	db := Open(env, "")
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
