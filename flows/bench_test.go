package flows

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// BenchmarkCapture reads the capture named by JJ_BENCH_PCAP (for example
// testdata/bench/corpus-replay.pcap, see make bench) end to end, with the
// file memory-mapped or streamed, only decoding or also assembling flows
// with a given set of per-packet records. One iteration is the whole file;
// pkt/s and ns/pkt are reported per core (run with -cpu 1).
func BenchmarkCapture(b *testing.B) {
	path := os.Getenv("JJ_BENCH_PCAP")
	if path == "" {
		b.Skip("JJ_BENCH_PCAP not set")
	}
	needs := []struct {
		name  string
		needs Needs
		flows bool
	}{
		{"read", 0, false},
		{"flows", 0, true},
		{"flows-base", NeedBase, true},
		{"flows-tls", NeedPayload | NeedHeads, true},
		{"flows-all", NeedBase | NeedTCP | NeedIP | NeedL2 | NeedICMP | NeedHeads | NeedPayload | NeedSample, true},
	}
	for _, mapped := range []bool{true, false} {
		mode := "stream"
		if mapped {
			mode = "mmap"
		}
		for _, n := range needs {
			b.Run(mode+"/"+n.name, func(b *testing.B) {
				defer func(old bool) { useMmap = old }(useMmap)
				useMmap = mapped
				b.ReportAllocs()
				var pkts uint64
				var cpu time.Duration
				for i := 0; i < b.N; i++ {
					c0 := cpuTime()
					src, err := OpenFile(path, 0)
					if err != nil {
						b.Fatal(err)
					}
					var a *Assembler
					if n.flows {
						a = NewAssembler(DefaultConfig(), n.needs)
					}
					var p Packet
					for {
						err := src.Next(&p)
						if err != nil {
							if !errors.Is(err, io.EOF) {
								b.Fatal(err)
							}
							break
						}
						pkts++
						if a != nil {
							a.Add(&p)
							for f := a.Pop(); f != nil; f = a.Pop() {
								a.Release(f)
							}
						}
					}
					if a != nil {
						a.Flush()
						for f := a.Pop(); f != nil; f = a.Pop() {
							a.Release(f)
						}
					}
					st := src.Stats()
					src.Close()
					b.SetBytes(st.Bytes)
					cpu += cpuTime() - c0
				}
				b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkt/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(pkts), "cpu-ns/pkt")
			})
		}
	}
}
