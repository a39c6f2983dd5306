// Command gentestdata writes the sample captures our own generator builds
// (internal/testgen) into testdata/: sample.pcap, sample.pcapng and
// golden/testgen_manifest.txt. The output is deterministic; the testgen
// tests fail when the committed files differ from what it writes.
//
//	go run ./tools/gentestdata [-dir testdata]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jjsql/jjsql/internal/testgen"
)

func main() {
	dir := flag.String("dir", "testdata", "directory to write the files into")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gentestdata:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := testgen.SampleFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes)\n", path, len(f.Data))
	}
	return nil
}
