// Command depcheck fails when a package imports one above it in jjsql's
// layering: cmd -> repl -> export -> vtab/functions/output -> extractors ->
// flows, with schema a leaf.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/jjsql/jjsql"

// rank: a package may import only packages of a strictly lower rank (or the
// same package family listed in allowed).
var rank = map[string]int{
	"schema":           0,
	"flows":            1,
	"extractors":       2,
	"functions":        3,
	"vtab":             3,
	"output":           3,
	"export":           4,
	"repl":             5,
	"cmd":              6,
	"tools":            6,
	"internal/testgen": 4,
}

func family(pkg string) (string, bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	for _, f := range []string{"internal/testgen", "schema", "proto", "flows", "extractors", "functions", "vtab", "output", "export", "repl", "cmd", "tools"} {
		if rel == f || strings.HasPrefix(rel, f+"/") {
			return f, true
		}
	}
	return rel, false
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func main() {
	out, err := exec.Command("go", "list", "-tags", "sqlite_vtable", "-json", module+"/...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck:", err)
		os.Exit(1)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	bad := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			fmt.Fprintln(os.Stderr, "depcheck:", err)
			os.Exit(1)
		}
		from, ok := family(p.ImportPath)
		if !ok {
			fmt.Fprintf(os.Stderr, "depcheck: %s is not in a known layer\n", p.ImportPath)
			bad++
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to, _ := family(imp)
			if to == from {
				continue
			}
			if rank[to] >= rank[from] {
				fmt.Fprintf(os.Stderr, "depcheck: %s imports %s (upward or sideways)\n", p.ImportPath, imp)
				bad++
			}
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
}
