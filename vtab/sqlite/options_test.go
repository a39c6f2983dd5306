//go:build sqlite_vtable

package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestOptions checks that each value option reaches the scan, both by
// position and by name.
func TestOptions(t *testing.T) {
	db, _ := openDB(t)
	p := sample(t)
	base := queryInt(t, db, "SELECT count(*) FROM flows(?)", p)

	// The SSH conversation pauses 90 s: one flow more with the default 60 s
	// timeout than with a long one.
	if long := queryInt(t, db, "SELECT count(*) FROM flows(?, 1000)", p); long != base-1 {
		t.Errorf("flow_timeout 1000: %d flows, want %d", long, base-1)
	}
	// Without FIN/RST termination the counts are unchanged here (no port reuse).
	if n := queryInt(t, db, "SELECT count(*) FROM flows WHERE path = ? AND terminate_on_fin_rst = 0", p); n != base {
		t.Errorf("terminate_on_fin_rst 0: %d flows, want %d", n, base)
	}
	// Evicting at 1 open flow splits conversations that overlap others.
	if n := queryInt(t, db, "SELECT count(*) FROM flows WHERE path = ? AND max_concurrent_flows = 1", p); n <= base {
		t.Errorf("max_concurrent_flows 1: %d flows, want more than %d", n, base)
	}
	// Sampling keeps about half of the packets, the same ones for a seed.
	all := queryInt(t, db, "SELECT sum(total_packets) FROM flows(?)", p)
	a := queryInt(t, db, "SELECT sum(total_packets) FROM flows WHERE path = ? AND sampling_rate = 0.5 AND sampling_seed = 3", p)
	b := queryInt(t, db, "SELECT sum(total_packets) FROM flows WHERE path = ? AND sampling_rate = 0.5 AND sampling_seed = 3", p)
	if a != b || a < all/4 || a > all*3/4 {
		t.Errorf("sampling 0.5: %d and %d of %d packets, want the same half twice", a, b, all)
	}
	// A larger burst threshold merges bursts.
	b50 := queryInt(t, db, "SELECT sum(burst_count) FROM flows(?)", p)
	b5000 := queryInt(t, db, "SELECT sum(burst_count) FROM flows WHERE path = ? AND burst_threshold_ms = 5000", p)
	if b5000 >= b50 {
		t.Errorf("burst_threshold_ms 5000: %d bursts, want fewer than %d", b5000, b50)
	}
	// Anonymized addresses are sha256(salt + ip)[:16].
	var src string
	if err := db.QueryRow("SELECT src_ip FROM flows WHERE path = ? AND anonymize_ips = 1 AND anonymization_salt = 's' AND src_port = 53001", p).Scan(&src); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("s192.168.1.10"))
	if want := hex.EncodeToString(sum[:])[:16]; src != want {
		t.Errorf("anonymized src_ip = %q, want %q", src, want)
	}
	// Bad values are errors.
	if _, err := db.Exec("SELECT count(*) FROM flows WHERE path = ? AND sampling_rate = 2", p); err == nil {
		t.Error("sampling_rate 2 accepted")
	}
}

// TestPacketsSampling: packets() keeps the same sampled packets whether or
// not the query reads the flow columns.
func TestPacketsSampling(t *testing.T) {
	db, _ := openDB(t)
	p := sample(t)
	q := "SELECT sum(frame) FROM packets WHERE path = ? AND sampling_rate = 0.3 AND sampling_seed = 9"
	plain := queryInt(t, db, q, p)
	withFlows := queryInt(t, db, "SELECT sum(frame) FROM packets WHERE path = ? AND sampling_rate = 0.3 AND sampling_seed = 9 AND flow_uid IS NOT NULL", p)
	all := queryInt(t, db, "SELECT sum(frame) FROM packets(?)", p)
	if plain != withFlows || plain >= all || plain == 0 {
		t.Errorf("sampled frame sums %d (plain) and %d (with flows), all %d; want equal and smaller", plain, withFlows, all)
	}
}
