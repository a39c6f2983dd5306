package output

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// FileWriter writes one result set to a file. Nothing shows under the
// file's name until End succeeds (writers write a temporary file beside it
// and rename it); Abort, after an error or an interrupted query, removes
// what was written.
type FileWriter interface {
	Writer
	Abort() error
}

// FileFormat creates a FileWriter for path.
type FileFormat func(path string) (FileWriter, error)

var (
	fileMu      sync.RWMutex
	fileFormats = map[string]FileFormat{}
)

// textExt maps the extensions of the text formats to their format names.
var textExt = map[string]string{
	".csv":      "csv",
	".tsv":      "tsv",
	".json":     "json",
	".jsonl":    "jsonl",
	".ndjson":   "jsonl",
	".md":       "markdown",
	".markdown": "markdown",
	".txt":      "table",
}

// RegisterFileFormat makes CreateFile write the files whose name ends in ext
// (".parquet", say) with f. Writers that are costly to link (DuckDB,
// Parquet) live in their own package and register in its init function, so
// only the programs that import that package carry them.
func RegisterFileFormat(ext string, f FileFormat) {
	fileMu.Lock()
	defer fileMu.Unlock()
	fileFormats[strings.ToLower(ext)] = f
}

// FileExtensions returns every extension CreateFile accepts, sorted.
func FileExtensions() []string {
	fileMu.RLock()
	defer fileMu.RUnlock()
	var out []string
	for e := range textExt {
		out = append(out, e)
	}
	for e := range fileFormats {
		if _, ok := textExt[e]; !ok {
			out = append(out, e)
		}
	}
	sort.Strings(out)
	return out
}

// KnownFileExtension reports whether CreateFile can write path (a text
// format or a registered one).
func KnownFileExtension(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	fileMu.RLock()
	_, ok := fileFormats[ext]
	fileMu.RUnlock()
	_, text := textExt[ext]
	return ok || text
}

// CreateFile returns a writer of the file at path in the format its
// extension names: the text formats (.csv, .tsv, .json, .jsonl, .md, .txt
// for a table) and those registered with RegisterFileFormat.
func CreateFile(path string) (FileWriter, error) {
	ext := strings.ToLower(filepath.Ext(path))
	fileMu.RLock()
	f, ok := fileFormats[ext]
	fileMu.RUnlock()
	if ok {
		return f(path)
	}
	if format, ok := textExt[ext]; ok {
		return createText(path, format)
	}
	if ext == "" {
		return nil, fmt.Errorf("output: %s: no extension to choose a format by (want one of %s)", path, strings.Join(FileExtensions(), ", "))
	}
	return nil, fmt.Errorf("output: %s: unknown extension %s (want one of %s)", path, ext, strings.Join(FileExtensions(), ", "))
}

// textFile is a text-format writer on a temporary file renamed at End.
type textFile struct {
	Writer
	path    string
	f       *os.File
	bw      *bufio.Writer
	done    bool
	inPlace bool // f is path itself (a special file): no rename
}

func createText(path, format string) (FileWriter, error) {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		// A device, FIFO or symbolic link (/dev/null, /dev/stdout) is
		// written through in place: renaming over it would replace it with
		// a regular file.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, fmt.Errorf("output: create %s: %w", path, unwrapPath(err))
		}
		tf := &textFile{path: path, f: f, bw: bufio.NewWriterSize(f, 1<<16), inPlace: true}
		if tf.Writer, err = New(format, tf.bw); err != nil {
			tf.Abort()
			return nil, err
		}
		return tf, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("output: create %s: %w", path, unwrapPath(err))
	}
	tf := &textFile{path: path, f: f, bw: bufio.NewWriterSize(f, 1<<16)}
	if tf.Writer, err = New(format, tf.bw); err != nil {
		tf.Abort()
		return nil, err
	}
	return tf, nil
}

// unwrapPath drops the temporary name from an *os.PathError.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (t *textFile) End() error {
	if t.done {
		return nil
	}
	err := t.Writer.End()
	if err == nil {
		err = t.bw.Flush()
	}
	if err == nil && !t.inPlace {
		err = t.f.Chmod(0o644)
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !t.inPlace {
		err = os.Rename(t.f.Name(), t.path)
	}
	t.done = true
	if err != nil {
		if !t.inPlace {
			os.Remove(t.f.Name())
		}
		return fmt.Errorf("output: write %s: %w", t.path, err)
	}
	return nil
}

func (t *textFile) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	t.f.Close()
	if t.inPlace {
		return nil
	}
	return os.Remove(t.f.Name())
}
