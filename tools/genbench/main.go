// Command genbench writes the benchmark capture of issue 6 (make
// bench-capture): a deterministic classic pcap of about 1 GB, 2.5M packets
// and 60k flows built by internal/testgen, streamed to disk. It prints what
// the file holds and how long and how much memory writing it took, and
// writes the same summary next to the capture (FILE.manifest) for
// scripts/bench.sh.
//
//	go run ./tools/genbench [-o testdata/bench/synthetic.pcap] [-flows 60000] [-max-open 20000] [-span 2m] [-seed N] [-scale 1]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/jjsql/jjsql/internal/testgen"
)

func main() {
	def := testgen.DefaultBenchConfig()
	out := flag.String("o", "testdata/bench/synthetic.pcap", "capture file to write")
	flows := flag.Int("flows", def.Flows, "conversations (flows)")
	maxOpen := flag.Int("max-open", def.MaxOpen, "most conversations open at once")
	span := flag.Duration("span", def.Span, "conversations start over this span")
	seed := flag.Uint64("seed", def.Seed, "seed of every random choice")
	scale := flag.Float64("scale", def.SizeScale, "multiplies every transfer size")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the generation to FILE")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "genbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := def
	cfg.Flows, cfg.MaxOpen, cfg.Span, cfg.Seed, cfg.SizeScale = *flows, *maxOpen, *span, *seed, *scale
	if err := run(*out, cfg); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "genbench:", err)
		os.Exit(1)
	}
}

func run(path string, cfg testgen.BenchConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	t0 := time.Now()
	bw := bufio.NewWriterSize(f, 1<<20)
	st, err := testgen.WriteBench(bw, cfg)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	wall := time.Since(t0)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	summary := manifest(path, cfg, st)
	if err := os.WriteFile(path+".manifest", []byte(summary), 0o644); err != nil {
		return err
	}
	fmt.Print(summary)
	fmt.Printf("generated in %.1f s (%.0f MB/s, %.0f packets/s), peak RSS %d MiB, Go heap peak %d MiB\n",
		wall.Seconds(), float64(st.FileBytes)/1e6/wall.Seconds(), float64(st.Frames)/wall.Seconds(),
		ru.Maxrss>>10, ms.HeapSys>>20)
	return nil
}

// manifest renders the summary as key=value lines (what scripts/bench.sh
// reads) followed by comment lines.
func manifest(path string, cfg testgen.BenchConfig, st testgen.BenchStats) string {
	var b strings.Builder
	w := io.Writer(&b)
	fmt.Fprintf(w, "# %s: written by go run ./tools/genbench (internal/testgen.WriteBench)\n", filepath.Base(path))
	fmt.Fprintf(w, "seed=%d\nconfig_flows=%d\nmax_open=%d\nspan=%s\nscale=%g\n", cfg.Seed, cfg.Flows, cfg.MaxOpen, cfg.Span, cfg.SizeScale)
	fmt.Fprintf(w, "bytes=%d\npackets=%d\nflows=%d\n", st.FileBytes, st.Frames, st.Flows)
	fmt.Fprintf(w, "ipv6_flows=%d\nvlan_flows=%d\npeak_open=%d\nmax_flow_packets=%d\n", st.IPv6Flows, st.VLANFlows, st.PeakOpen, st.MaxPackets)
	fmt.Fprintf(w, "first=%s\nlast=%s\n", st.First.Format(time.RFC3339Nano), st.Last.Format(time.RFC3339Nano))
	for k, ks := range st.Kinds {
		fmt.Fprintf(w, "kind_%s=%d flows %d packets %d bytes\n", testgen.BenchKindNames[k], ks.Flows, ks.Frames, ks.Bytes)
	}
	fmt.Fprintf(w, "# packets per flow (flows): ")
	lo := 1
	for i, n := range st.PacketsHist {
		hi := 2 << i
		if n > 0 {
			fmt.Fprintf(w, "%d-%d:%d ", lo, hi, n)
		}
		lo = hi + 1
	}
	fmt.Fprintf(w, "\n# mean %.1f packets per flow, %.0f bytes per packet\n",
		float64(st.Frames)/float64(max(st.Flows, 1)), float64(st.FileBytes)/float64(max(st.Frames, 1)))
	return b.String()
}
