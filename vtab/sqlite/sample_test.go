//go:build sqlite_vtable

package sqlite

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/jjsql/jjsql/internal/testgen"
)

type flowRow struct {
	src, dst                           string
	sport, dport, proto                int64
	pf, pb, payF, payB, bytesF, bytesB int64
	start, dur                         float64
	syn, fin, rst, dup, retrans, ooo   int64
	packets                            int64
}

// TestSampleFlows checks flows() over the generated captures against the
// facts the generator recorded while it built them: endpoints (innermost,
// through every tunnel), per-direction packets, payload and IP bytes, start
// and duration, flags, and the corrected TCP analysis (retransmissions,
// out-of-order segments, RFC 5681 duplicate ACKs). It covers the idle
// timeout (ssh-idle is split in two), FIN and RST closes, fragments and every
// tunnel.
func TestSampleFlows(t *testing.T) {
	specs, err := testgen.SampleFlows()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(sample(t))
	for _, file := range []string{"sample.pcap", "sample.pcapng"} {
		t.Run(file, func(t *testing.T) {
			db, _ := openDB(t)
			rows, err := db.Query(`SELECT src_ip, dst_ip, src_port, dst_port, protocol, packets_fwd, packets_bwd,
				payload_bytes_fwd, payload_bytes_bwd, bytes_fwd, bytes_bwd, start_time, duration,
				tcp_syn_count + tcp_synack_count, tcp_fin_count, tcp_rst_count, tcp_total_dup_acks,
				tcp_total_retrans, tcp_total_ooo, total_packets
				FROM flows(?) ORDER BY flow_uid`, filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []flowRow
			for rows.Next() {
				var r flowRow
				if err := rows.Scan(&r.src, &r.dst, &r.sport, &r.dport, &r.proto, &r.pf, &r.pb, &r.payF, &r.payB,
					&r.bytesF, &r.bytesB, &r.start, &r.dur, &r.syn, &r.fin, &r.rst, &r.dup, &r.retrans, &r.ooo, &r.packets); err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
			}
			if len(got) != len(specs) {
				t.Fatalf("flows = %d, want %d", len(got), len(specs))
			}
			byKey := map[string]flowRow{}
			for _, r := range got {
				byKey[fmt.Sprintf("%s:%d-%s:%d/%d@%.3f", r.src, r.sport, r.dst, r.dport, r.proto, r.start)] = r
			}
			for _, s := range specs {
				start := float64(s.First.UnixNano()) / 1e9
				k := fmt.Sprintf("%s:%d-%s:%d/%d@%.3f", s.InitIP, s.InitPort, s.RespIP, s.RespPort, s.Proto, start)
				r, ok := byKey[k]
				name := fmt.Sprintf("%s part %d", s.Conv, s.Part)
				if !ok {
					t.Errorf("%s: no flow %s", name, k)
					continue
				}
				check := func(field string, got, want int64) {
					if got != want {
						t.Errorf("%s: %s = %d, want %d", name, field, got, want)
					}
				}
				check("packets_fwd", r.pf, int64(s.PacketsFwd))
				check("packets_bwd", r.pb, int64(s.PacketsBwd))
				payF, payB := int64(s.PayloadFwd), int64(s.PayloadBwd)
				if s.Proto == 58 {
					// JoyfulJay has no ICMPv6 transport layer: the whole IP
					// payload, ICMPv6 header included, is payload.
					payF += 8 * int64(s.PacketsFwd)
					payB += 8 * int64(s.PacketsBwd)
				}
				check("payload_bytes_fwd", r.payF, payF)
				check("payload_bytes_bwd", r.payB, payB)
				check("bytes_fwd", r.bytesF, int64(s.IPBytesFwd))
				check("bytes_bwd", r.bytesB, int64(s.IPBytesBwd))
				if s.Proto == 6 {
					check("syn+synack", r.syn, int64(s.SYN))
					check("fin", r.fin, int64(s.FIN))
					check("rst", r.rst, int64(s.RST))
					check("dup acks", r.dup, int64(s.DupAcks))
					check("retransmissions", r.retrans, int64(s.Retransmissions))
					// A retransmitted segment arrives below the next expected
					// sequence number, so it also counts as out of order (as
					// in JoyfulJay).
					check("out of order", r.ooo, int64(s.OutOfOrder+s.Retransmissions))
				}
				wantDur := s.Last.Sub(s.First).Seconds()
				if math.Abs(r.dur-wantDur) > 1e-6 {
					t.Errorf("%s: duration = %v, want %v", name, r.dur, wantDur)
				}
			}
		})
	}
}
