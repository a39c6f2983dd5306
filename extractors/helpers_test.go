package extractors

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/jjsql/jjsql/flows"
)

// Test helpers shared by the group tests: the corpus, reading captures into
// flows and assembling synthetic packets.

// skipOrFail skips the test, or fails it when CI=true (data the test needs
// is missing).
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// corpusDir returns the shared corpus directory (JJ_CORPUS, else
// ../../shared/corpus), skipping the test when it is missing (failing
// under CI=true).
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		skipOrFail(t, "corpus %s missing", dir)
	}
	return dir
}

// corpusPath returns the path of rel (slash-separated) inside the corpus,
// skipping the test when the corpus is missing (failing under CI=true).
func corpusPath(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(corpusDir(t), filepath.FromSlash(rel))
}

// conformanceConfig is the assembly configuration of the conformance
// (reference) runs: flows end neither on FIN/RST nor on an idle timeout,
// so there is one flow per conversation.
func conformanceConfig() flows.Config {
	cfg := flows.DefaultConfig()
	cfg.TerminateOnFinRst = false
	cfg.FlowTimeout = 1e9
	return cfg
}

// eachCaptureFlow reads the capture at path through an assembler with cfg
// and needs and calls fn with every flow as it leaves the assembler. fn
// reports whether it keeps the flow; a flow it does not keep goes back to
// the assembler (Release) for reuse. A damaged record ending the file (a *flows.FormatError)
// stops the reading and is returned; any other error fails the test.
func eachCaptureFlow(t testing.TB, path string, cfg flows.Config, needs flows.Needs, fn func(*flows.Flow) (keep bool)) (damaged error) {
	t.Helper()
	Configure(&cfg)
	return assembleCapture(t, path, flows.NewAssembler(cfg, needs), fn)
}

// assembleCapture is eachCaptureFlow with the assembler given.
func assembleCapture(t testing.TB, path string, a *flows.Assembler, fn func(*flows.Flow) (keep bool)) (damaged error) {
	t.Helper()
	src, err := flows.OpenFile(path, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	drain := func() {
		for f := a.Pop(); f != nil; f = a.Pop() {
			if !fn(f) {
				a.Release(f)
			}
		}
	}
	var p flows.Packet
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var fe *flows.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("read %s: %v", path, err)
			}
			damaged = err
			break
		}
		a.Add(&p)
		drain()
	}
	a.Flush()
	drain()
	return damaged
}

// captureFlows returns every flow of the capture at path, assembled with
// cfg and needs; the capture must read to its end without damage.
func captureFlows(t testing.TB, path string, cfg flows.Config, needs flows.Needs) []*flows.Flow {
	t.Helper()
	var out []*flows.Flow
	if err := eachCaptureFlow(t, path, cfg, needs, func(f *flows.Flow) bool {
		out = append(out, f)
		return true
	}); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// findFlow returns the flow from initPort to respPort, or nil.
func findFlow(fs []*flows.Flow, initPort, respPort uint16) *flows.Flow {
	for _, f := range fs {
		if f.InitPort == initPort && f.RespPort == respPort {
			return f
		}
	}
	return nil
}

// flowByPort returns the flow with protocol proto and one endpoint on port,
// failing the test when there is none.
func flowByPort(t testing.TB, fs []*flows.Flow, proto uint8, port uint16) *flows.Flow {
	t.Helper()
	for _, f := range fs {
		if f.Proto == proto && (f.InitPort == port || f.RespPort == port) {
			return f
		}
	}
	t.Fatalf("no flow with protocol %d and port %d", proto, port)
	return nil
}

// assembleOne runs pkts through an assembler with cfg and needs and
// returns the single flow they make, failing the test otherwise.
func assembleOne(t testing.TB, pkts []flows.Packet, cfg flows.Config, needs flows.Needs) *flows.Flow {
	t.Helper()
	Configure(&cfg)
	a := flows.NewAssembler(cfg, needs)
	for i := range pkts {
		a.Add(&pkts[i])
	}
	a.Flush()
	f := a.Pop()
	if f == nil || a.Pop() != nil {
		t.Fatal("want exactly one flow")
	}
	return f
}
