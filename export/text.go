package export

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/jjsql/jjsql/output"
)

// File is an output file written under a temporary name in the directory of
// its final name: Commit renames it into place, Abort removes it.
type File struct {
	*os.File
	tmp, path string
	done      bool
}

// Create starts writing path. The caller must Commit or Abort. A path that
// names an existing special file (/dev/null, /dev/stdout, a FIFO) is written
// in place: renaming over it would replace the device with a regular file.
func Create(path string) (*File, error) {
	if special(path) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, fmt.Errorf("export: cannot write %s: %w", path, unwrapPath(err))
		}
		return &File{File: f, path: path}, nil
	}
	tmp, err := tempName(path, true)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("export: cannot write %s: %w", path, unwrapPath(err))
	}
	return &File{File: f, tmp: tmp, path: path}, nil
}

// Commit closes the file and renames it to its final name.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Close(); err != nil {
		if f.tmp != "" {
			os.Remove(f.tmp)
		}
		return fmt.Errorf("export: %s: %w", f.path, unwrapPath(err))
	}
	if f.tmp == "" {
		return nil
	}
	return commit(f.tmp, f.path)
}

// Abort closes and removes the file.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if f.tmp != "" {
		os.Remove(f.tmp)
	}
}

// special reports whether path is an existing entry that is not a regular
// file or a directory: a device, a FIFO, a socket, or a symbolic link
// (/dev/stdout links to /proc/self/fd/1, whose file may be regular; renaming
// over the link would replace it, so such paths are written through).
func special(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && !st.Mode().IsRegular() && !st.IsDir()
}

// textFile writes the rows of one query in a text format.
func textFile(ctx context.Context, open func(context.Context) (*sql.Rows, error), path, format string) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = writeText(ctx, open, bw, format)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Abort()
		return ctxErr(ctx, err)
	}
	return f.Commit()
}

func writeText(ctx context.Context, open func(context.Context) (*sql.Rows, error), w *bufio.Writer, format string) error {
	rows, err := open(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	return WriteRows(rows, format, w)
}

// WriteRows writes rows in a text format of package output, with DuckDB's
// values (HUGEINT, DECIMAL, lists, ...) turned into the plain values the
// writers take. A result with no columns writes nothing.
func WriteRows(rows *sql.Rows, format string, w *bufio.Writer) error {
	return output.WriteResult(w, format, rows, Normalize)
}
