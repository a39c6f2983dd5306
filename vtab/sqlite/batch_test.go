//go:build sqlite_vtable

package sqlite

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// TestPayloadCells: every packet's payload reaches SQL byte for byte through
// the row batches of vtab/sqlitec (an scp upload: about 1 MB of payload
// over batches of growing size, their arena grown from 4 KiB), an empty
// payload as a zero-length blob, and the rows in capture order.
func TestPayloadCells(t *testing.T) {
	p := corpus(t, "ja4/pcap/ssh-scp-1050.pcap")
	src, err := flows.OpenFile(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	var total int
	for {
		var pk flows.Packet
		err := src.Next(&pk)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, bytes.Clone(pk.Payload))
		total += len(pk.Payload)
	}
	src.Close()
	if total < 1<<19 {
		t.Fatalf("%d payload bytes: the capture no longer fills large batches", total)
	}
	db, _ := openDB(t)
	rows, err := db.Query("SELECT payload, typeof(payload) FROM packets(?)", p)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, empty := 0, 0
	for rows.Next() {
		var b []byte
		var typ string
		if err := rows.Scan(&b, &typ); err != nil {
			t.Fatal(err)
		}
		if n < len(want) && (!bytes.Equal(b, want[n]) || typ != "blob") {
			t.Fatalf("row %d: %d bytes (%s), want %d bytes", n+1, len(b), typ, len(want[n]))
		}
		if len(b) == 0 {
			empty++
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) || empty == 0 {
		t.Errorf("%d rows (%d empty payloads), want %d rows and some empty", n, empty, len(want))
	}
}
