package output

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeFile(t *testing.T, path string) error {
	t.Helper()
	w, err := CreateFile(path)
	if err != nil {
		return err
	}
	if err := w.Begin([]string{"proto", "n", "mean"}); err != nil {
		return err
	}
	for _, r := range [][]any{{"tcp", int64(20), 1.5}, {"udp", int64(14), nil}} {
		if err := w.Row(r); err != nil {
			return err
		}
	}
	return w.End()
}

func TestCreateFile(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"a.csv", "proto,n,mean\ntcp,20,1.5\nudp,14,\n"},
		{"a.tsv", "proto\tn\tmean\ntcp\t20\t1.5\nudp\t14\t\n"},
		{"a.json", "[\n{\"proto\":\"tcp\",\"n\":20,\"mean\":1.5},\n{\"proto\":\"udp\",\"n\":14,\"mean\":null}\n]\n"},
		{"A.JSONL", "{\"proto\":\"tcp\",\"n\":20,\"mean\":1.5}\n{\"proto\":\"udp\",\"n\":14,\"mean\":null}\n"},
		{"a.md", "| proto | n | mean |\n| --- | ---:| ---:|\n| tcp | 20 | 1.5 |\n| udp | 14 |  |\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.name)
			if err := writeFile(t, path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("%s:\n%s\nwant\n%s", tc.name, b, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("files left in the directory: %v", ents)
			}
		})
	}
}

func TestCreateFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "x.xlsx"), "unknown extension .xlsx (want one of .csv, .json, .jsonl, .markdown, .md, .ndjson, .tsv, .txt)"},
		{filepath.Join(dir, "x"), "no extension"},
		{filepath.Join(dir, "missing", "x.csv"), "missing/x.csv: no such file or directory"},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			_, err := CreateFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left behind: %v", ents)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "half.csv")
	w, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Begin([]string{"a"})
	w.Row([]any{int64(1)})
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left behind: %v", ents)
	}
}

type fakeFile struct {
	Writer
	path string
}

func (fakeFile) Abort() error { return nil }

func TestRegisterFileFormat(t *testing.T) {
	var got string
	RegisterFileFormat(".Fake", func(path string) (FileWriter, error) {
		got = path
		w, _ := New("csv", os.Stderr)
		return fakeFile{w, path}, nil
	})
	defer func() {
		fileMu.Lock()
		delete(fileFormats, ".fake")
		fileMu.Unlock()
	}()
	if _, err := CreateFile("dir/out.fake"); err != nil {
		t.Fatal(err)
	}
	if got != "dir/out.fake" {
		t.Errorf("registered format got %q", got)
	}
	if exts := strings.Join(FileExtensions(), " "); !strings.Contains(exts, ".fake") {
		t.Errorf("FileExtensions() = %s, want .fake among them", exts)
	}
}

// TestCreateFileSpecial: a symbolic link or a FIFO is written through,
// never replaced (renaming a temporary file over /dev/null or
// /dev/stdout would turn them into regular files).
func TestCreateFileSpecial(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.csv")
	os.WriteFile(target, []byte("old\n"), 0o644)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	for _, p := range []string{link, fifo} {
		w, err := CreateFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Begin([]string{"x"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Row([]any{int64(7)}); err != nil {
			t.Fatal(err)
		}
		if err := w.End(); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link (%v)", link, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "x\n7\n" {
		t.Errorf("link target = %q, want the rows", b)
	}
	if b := <-got; string(b) != "x\n7\n" {
		t.Errorf("fifo read %q", b)
	}
}
