//go:build sqlite_vtable

package sqlite

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQUICServerHello: JA3S of QUIC connections whose server answers after a
// Retry or a version negotiation equals tshark's (the oracle beside the
// corpus), so the server's Initial keys come from the right DCID and version.
func TestQUICServerHello(t *testing.T) {
	for _, rel := range []string{
		"ndpi/pcap/quic-29.pcap",                     // Retry
		"ndpi/pcap/quic-28.pcap",                     // version negotiation draft-28 -> draft-27
		"ndpi/pcap/quic-forcing-vn-with-data.pcapng", // reserved version first
	} {
		t.Run(rel, func(t *testing.T) {
			p := corpus(t, rel)
			oracle := filepath.Join(filepath.Dir(p), "..", "..", "tshark", rel+".tsv")
			f, err := os.Open(oracle)
			if err != nil {
				t.Fatalf("oracle: %v", err)
			}
			defer f.Close()
			want := map[string]bool{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				c := strings.Split(sc.Text(), "\t")
				if len(c) > 6 && c[0] == "UDP" && c[6] != "" {
					want[c[6]] = true
				}
			}
			if len(want) == 0 {
				t.Fatal("oracle has no JA3S")
			}
			db, _ := openDB(t)
			rows, err := db.Query("SELECT ja3s FROM flows(?) WHERE protocol = 17 AND ja3s <> ''", p)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[string]bool{}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				got[s] = true
			}
			for w := range want {
				if !got[w] {
					t.Errorf("JA3S %s (tshark) not found; jjsql has %v", w, got)
				}
			}
		})
	}
}
