package testgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

// smallBench is a benchmark capture of 400 conversations at a quarter of
// the default transfer sizes, at most 60 open at once.
func smallBench(seed uint64) BenchConfig {
	return BenchConfig{Seed: seed, Flows: 400, MaxOpen: 60, Span: 20 * time.Second,
		Start: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), SizeScale: 0.25}
}

func writeBench(t *testing.T, cfg BenchConfig) ([]byte, BenchStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := WriteBench(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// TestWriteBenchDeterministic: the same configuration gives the same
// bytes, another seed other bytes.
func TestWriteBenchDeterministic(t *testing.T) {
	a, sa := writeBench(t, smallBench(7))
	b, sb := writeBench(t, smallBench(7))
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs of the same configuration differ (%d and %d bytes)", len(a), len(b))
	}
	if sa != sb {
		t.Errorf("stats differ: %+v and %+v", sa, sb)
	}
	c, _ := writeBench(t, smallBench(8))
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same capture")
	}
	if int64(len(a)) != sa.FileBytes {
		t.Errorf("FileBytes = %d, wrote %d", sa.FileBytes, len(a))
	}
	// Classic pcap, little endian, microseconds, Ethernet.
	if m, lt := binary.LittleEndian.Uint32(a[0:]), binary.LittleEndian.Uint32(a[20:]); m != 0xa1b2c3d4 || lt != 1 {
		t.Errorf("header: magic %#x link type %d, want 0xa1b2c3d4 and 1", m, lt)
	}
}

// TestWriteBenchFlows reads the capture with jjsql's reader, flow table and
// protocol groups: it finds as many packets and flows as the generator
// wrote, one flow per conversation, the packets-per-flow histogram, IPv6 and
// VLAN flows, and the TLS, QUIC, SSH and DNS conversations.
func TestWriteBenchFlows(t *testing.T) {
	cfg := smallBench(7)
	data, st := writeBench(t, cfg)
	if st.Flows != cfg.Flows {
		t.Errorf("Flows = %d, want %d", st.Flows, cfg.Flows)
	}
	if st.PeakOpen != cfg.MaxOpen {
		t.Errorf("PeakOpen = %d, want the cap %d to be reached", st.PeakOpen, cfg.MaxOpen)
	}
	for k, ks := range st.Kinds {
		if ks.Flows == 0 {
			t.Errorf("no %s conversation", BenchKindNames[k])
		}
	}
	if f := float64(st.IPv6Flows) / float64(st.Flows); f < 0.08 || f > 0.22 {
		t.Errorf("%d IPv6 flows of %d, want about 15%%", st.IPv6Flows, st.Flows)
	}
	if f := float64(st.VLANFlows) / float64(st.Flows); f < 0.02 || f > 0.09 {
		t.Errorf("%d VLAN flows of %d, want about 5%%", st.VLANFlows, st.Flows)
	}

	path := filepath.Join(t.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	var idx []int
	for i, c := range extractors.Columns() {
		switch c.Name {
		case "tls_sni", "quic_detected", "ssh_detected", "dns_detected":
			cols[c.Name] = i
			idx = append(idx, i)
		}
	}
	if len(cols) != 4 {
		t.Fatalf("columns found: %v", cols)
	}
	plan := extractors.PlanColumns(idx)
	src, err := flows.OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	asm := flows.NewAssembler(flows.DefaultConfig(), plan.Needs)
	fcfg := flows.DefaultConfig()
	all := extractors.Columns()
	value := func(f *flows.Flow, name string) schema.Value {
		c := all[cols[name]]
		out := make([]schema.Value, len(c.Group.Features))
		if err := c.Group.Compute(f, &fcfg, out); err != nil {
			t.Fatalf("%s: %v", c.Group.ID, err)
		}
		return out[c.Pos]
	}
	var got BenchStats
	var tlsFlows, quicFlows, sshFlows, dnsFlows int
	vlan := map[uint64]bool{}
	pop := func() {
		for f := asm.Pop(); f != nil; f = asm.Pop() {
			got.Flows++
			if f.IPv6 {
				got.IPv6Flows++
			}
			if vlan[f.UID] {
				got.VLANFlows++
			}
			b := 0
			for n := f.Packets - 1; n > 1 && b < len(got.PacketsHist)-1; n >>= 1 {
				b++
			}
			got.PacketsHist[b]++
			got.MaxPackets = max(got.MaxPackets, f.Packets)
			if value(f, "tls_sni").S != "" {
				tlsFlows++
			}
			if value(f, "quic_detected").I != 0 {
				quicFlows++
			}
			if value(f, "ssh_detected").I != 0 {
				sshFlows++
			}
			if value(f, "dns_detected").I != 0 {
				dnsFlows++
			}
			asm.Release(f)
		}
	}
	var p flows.Packet
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got.Frames++
		f, _ := asm.Add(&p)
		if p.HasVLAN {
			vlan[f.UID] = true
		}
		pop()
	}
	asm.Flush()
	pop()
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"packets", got.Frames, st.Frames},
		{"flows", got.Flows, st.Flows},
		{"IPv6 flows", got.IPv6Flows, st.IPv6Flows},
		{"VLAN flows", got.VLANFlows, st.VLANFlows},
		{"largest flow", got.MaxPackets, st.MaxPackets},
		{"tls_sni set", tlsFlows, st.Kinds[BenchTLS12].Flows + st.Kinds[BenchTLS13].Flows + st.Kinds[BenchQUIC].Flows},
		{"quic_detected", quicFlows, st.Kinds[BenchQUIC].Flows},
		{"ssh_detected", sshFlows, st.Kinds[BenchSSH].Flows},
		{"dns_detected", dnsFlows, st.Kinds[BenchDNS].Flows},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("jjsql reads %d %s, the generator wrote %d", tc.got, tc.name, tc.want)
			}
		})
	}
	if got.PacketsHist != st.PacketsHist {
		t.Errorf("packets per flow histogram: jjsql %v, generator %v", got.PacketsHist, st.PacketsHist)
	}
}
