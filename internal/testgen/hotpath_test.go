package testgen

// Benchmarks of jjsql's per-packet hot path on the traffic mix of the
// benchmark capture (a 3000-conversation WriteBench capture, 113k packets,
// held in memory), next to the per-frame benchmarks of package flows
// (BenchmarkDecode, BenchmarkReadPcap, BenchmarkAssemblerAdd). Each
// reports ns/packet and packets/s:
//
//	BenchmarkMixDecode        Decoder.Decode of every frame
//	BenchmarkMixAssemble      flow lookup and per-packet update (Assembler.Add), keeping no records,
//	                          the records of the flow_meta group, or those of every group
//	BenchmarkMixExtract       groups: Compute of every group on the finished flows (the connection
//	                          group's ComputeCross with its cross-flow state built beforehand);
//	                          cross_pass: building that state (CrossFlow Add of every flow, Finish);
//	                          both per packet of those flows
//	BenchmarkMixPipeline      the whole scan without SQLite: read the pcap, decode, assemble with
//	                          every group's records, compute every group (two passes, as flows() does)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/flows"
	"github.com/jjsql/jjsql/schema"
)

var mixOnce struct {
	sync.Once
	pcap   []byte
	frames [][]byte
	st     BenchStats
	err    error
}

// mixCapture returns the in-memory benchmark capture and its frames.
func mixCapture(b *testing.B) ([]byte, [][]byte, BenchStats) {
	b.Helper()
	mixOnce.Do(func() {
		cfg := BenchConfig{Seed: 20260601, Flows: 3000, MaxOpen: 1000, Span: 6 * time.Second,
			Start: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), SizeScale: 1}
		var buf bytes.Buffer
		mixOnce.st, mixOnce.err = WriteBench(&buf, cfg)
		mixOnce.pcap = buf.Bytes()
		for off := 24; off+16 <= len(mixOnce.pcap); {
			n := int(binary.LittleEndian.Uint32(mixOnce.pcap[off+8:]))
			mixOnce.frames = append(mixOnce.frames, mixOnce.pcap[off+16:off+16+n])
			off += 16 + n
		}
	})
	if mixOnce.err != nil {
		b.Fatal(mixOnce.err)
	}
	return mixOnce.pcap, mixOnce.frames, mixOnce.st
}

func reportPackets(b *testing.B, packets int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(packets)
	b.ReportMetric(ns, "ns/packet")
	b.ReportMetric(1e9/ns, "packets/s")
}

// decodeAll decodes the frames into packets, numbered as a Source numbers
// them (Decode leaves the capture fields alone).
func decodeAll(b *testing.B, frames [][]byte) []flows.Packet {
	var dec flows.Decoder
	pkts := make([]flows.Packet, len(frames))
	for i, fr := range frames {
		p := &pkts[i]
		p.CapLen, p.WireLen, p.Index = len(fr), len(fr), uint64(i+1)
		if err := dec.Decode(p, 1, fr); err != nil {
			b.Fatalf("frame %d: %v", i+1, err)
		}
	}
	return pkts
}

func BenchmarkMixDecode(b *testing.B) {
	_, frames, _ := mixCapture(b)
	var dec flows.Decoder
	var p flows.Packet
	var bytes int64
	for _, fr := range frames {
		bytes += int64(len(fr))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, fr := range frames {
			p.Reset()
			p.CapLen, p.WireLen = len(fr), len(fr)
			if err := dec.Decode(&p, 1, fr); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPackets(b, b.N*len(frames))
}

// mixPackets returns the decoded packets of the capture with their times.
func mixPackets(b *testing.B) []flows.Packet {
	pcap, frames, _ := mixCapture(b)
	pkts := decodeAll(b, frames)
	off := 24
	for i := range pkts {
		sec := binary.LittleEndian.Uint32(pcap[off:])
		usec := binary.LittleEndian.Uint32(pcap[off+4:])
		pkts[i].TS = float64(sec) + float64(usec)*1e-6
		off += 16 + len(frames[i])
	}
	return pkts
}

func BenchmarkMixAssemble(b *testing.B) {
	pkts := mixPackets(b)
	var all []int
	for i := range extractors.Columns() {
		all = append(all, i)
	}
	for _, tc := range []struct {
		name  string
		needs flows.Needs
	}{
		{"lookup", 0},
		{"flow_meta", extractors.PlanGroups("flow_meta").Needs},
		{"every_group", extractors.PlanColumns(all).Needs},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				asm := flows.NewAssembler(flows.DefaultConfig(), tc.needs)
				for j := range pkts {
					asm.Add(&pkts[j])
					for f := asm.Pop(); f != nil; f = asm.Pop() {
						asm.Release(f)
					}
				}
				asm.Flush()
				for f := asm.Pop(); f != nil; f = asm.Pop() {
					asm.Release(f)
				}
			}
			reportPackets(b, b.N*len(pkts))
		})
	}
}

// computer computes every group of a flow, as SELECT * does.
type computer struct {
	cfg   flows.Config
	cross *extractors.CrossFlow
	out   []schema.Value
}

func newComputer(cfg flows.Config) *computer {
	return &computer{cfg: cfg, out: make([]schema.Value, len(extractors.Columns()))}
}

func (c *computer) compute(b *testing.B, f *flows.Flow) {
	for _, g := range extractors.Groups() {
		out := c.out[g.Offset() : g.Offset()+len(g.Features)]
		var err error
		if g.ComputeCross != nil {
			err = g.ComputeCross(f, &c.cfg, c.cross, out)
		} else {
			err = g.Compute(f, &c.cfg, out)
		}
		if err != nil {
			b.Fatalf("%s: %v", g.ID, err)
		}
	}
}

func BenchmarkMixExtract(b *testing.B) {
	pkts := mixPackets(b)
	var all []int
	for i := range extractors.Columns() {
		all = append(all, i)
	}
	plan := extractors.PlanColumns(all)
	cfg := flows.DefaultConfig()
	// The finished flows, kept (not released) so that every iteration
	// computes the same flows.
	asm := flows.NewAssembler(cfg, plan.Needs)
	var done []*flows.Flow
	for j := range pkts {
		asm.Add(&pkts[j])
		for f := asm.Pop(); f != nil; f = asm.Pop() {
			done = append(done, f)
		}
	}
	asm.Flush()
	for f := asm.Pop(); f != nil; f = asm.Pop() {
		done = append(done, f)
	}
	c := newComputer(cfg)
	c.cross = extractors.NewCrossFlow(&cfg)
	for _, f := range done {
		c.cross.Add(f)
	}
	c.cross.Finish()
	b.Run("groups", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, f := range done {
				c.compute(b, f)
			}
		}
		reportPackets(b, b.N*len(pkts))
	})
	b.Run("cross_pass", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			x := extractors.NewCrossFlow(&cfg)
			for _, f := range done {
				x.Add(f)
			}
			x.Finish()
		}
		reportPackets(b, b.N*len(pkts))
	})
}

func BenchmarkMixPipeline(b *testing.B) {
	pcap, frames, _ := mixCapture(b)
	path := filepath.Join(b.TempDir(), "mix.pcap")
	if err := os.WriteFile(path, pcap, 0o644); err != nil {
		b.Fatal(err)
	}
	var all []int
	for i := range extractors.Columns() {
		all = append(all, i)
	}
	plan := extractors.PlanColumns(all)
	cfg := flows.DefaultConfig()
	scan := func(needs flows.Needs, each func(f *flows.Flow)) {
		src, err := flows.OpenFile(path, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close()
		asm := flows.NewAssembler(cfg, needs)
		var p flows.Packet
		for {
			err := src.Next(&p)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			asm.Add(&p)
			for f := asm.Pop(); f != nil; f = asm.Pop() {
				each(f)
				asm.Release(f)
			}
		}
		asm.Flush()
		for f := asm.Pop(); f != nil; f = asm.Pop() {
			each(f)
			asm.Release(f)
		}
	}
	b.SetBytes(int64(len(pcap)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := newComputer(cfg)
		c.cross = extractors.NewCrossFlow(&cfg)
		scan(plan.CrossNeeds, c.cross.Add)
		c.cross.Finish()
		scan(plan.Needs, func(f *flows.Flow) { c.compute(b, f) })
	}
	reportPackets(b, b.N*len(frames))
}
