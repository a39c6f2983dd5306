package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoMattn: the extension must not carry mattn/go-sqlite3 (a second
// SQLite) into the shared library.
func TestNoMattn(t *testing.T) {
	out, err := exec.Command(goTool(), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/jjsql/jjsql/vtab\n") {
		t.Fatalf("go list -deps does not list vtab:\n%s", out)
	}
	if strings.Contains(string(out), "mattn/go-sqlite3") {
		t.Error("the extension depends on mattn/go-sqlite3")
	}
}

// goTool returns the go command of the toolchain running the tests.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "go"
	}
	return p
}
