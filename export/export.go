// Package export writes a query's result to a file whose extension picks the
// writer:
//
//	.parquet          Parquet, written by DuckDB (COPY ... TO ... (FORMAT parquet))
//	.duckdb           a table in a DuckDB database file (duckdb-go's Appender)
//	.db .sqlite .sqlite3  a table in a SQLite database file
//	.csv .tsv .json .jsonl .md  the text formats of package output
//
// Column types come from the feature registry: bool features are BOOLEAN,
// counts BIGINT, statistics DOUBLE, text VARCHAR and blobs BLOB (in SQLite
// files: BOOLEAN, INTEGER, REAL, TEXT, BLOB). A column computed by an
// expression takes the type of its values (see Options). NULL stays NULL;
// infinities stay IEEE infinities (SQLite itself stores NaN as NULL; results
// computed in DuckDB keep NaN).
//
// Files are written whole or not at all: a new file is written under a
// temporary name in the same directory and renamed at the end, and removed on
// any error or cancellation; a table added to an existing database file is
// created in one transaction. Results stream: rows are never all in memory.
//
// This package links DuckDB.
package export

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/vtab"
)

// Kind is the kind of file an export writes.
type Kind int

const (
	Text    Kind = iota // a text format of package output
	Parquet             // Apache Parquet
	DuckDB              // a table in a DuckDB database
	SQLite              // a table in a SQLite database
)

func (k Kind) String() string {
	switch k {
	case Parquet:
		return "parquet"
	case DuckDB:
		return "duckdb"
	case SQLite:
		return "sqlite"
	}
	return "text"
}

// Route says where a query over flows() or packets() runs when its result
// goes to a Parquet or DuckDB file.
type Route int

const (
	// RouteAuto runs a plain query (SELECT columns or * FROM flows(...) or
	// packets(...), with an optional LIMIT: see Plain) in DuckDB through its
	// table functions, and every other query in SQLite.
	RouteAuto Route = iota
	// RouteSQLite always runs the query in SQLite and streams its rows to
	// DuckDB.
	RouteSQLite
)

// Options configure an export.
type Options struct {
	// Table names the table of a .duckdb or .db file; "" takes the file's
	// base name without its extension (out/features.duckdb: "features").
	Table string
	// Replace replaces a table of that name; without it an existing table
	// is an error.
	Replace bool
	// Format is the text format for a file whose extension names none
	// (.txt, .out); "" means csv.
	Format string
	// Env is the Env of the tables: it gives the registry's column types
	// and the option defaults of the DuckDB route. nil means vtab.NewEnv().
	Env *vtab.Env
	// Route picks where a query over flows() runs for Parquet and DuckDB
	// files.
	Route Route
	// Lookahead is the number of rows read ahead to type the expression
	// columns of a SQLite result (0 means 1000).
	Lookahead int
	// Used, when set, is called with "duckdb" or "sqlite": the engine that ran
	// the query.
	Used func(engine string)
}

func (o *Options) env() *vtab.Env {
	if o.Env == nil {
		return vtab.NewEnv()
	}
	return o.Env
}

// KindOf returns the kind of file path names, and for a text file its format
// (the extension's, else format, else csv).
func KindOf(path, format string) (Kind, string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return Parquet, "", nil
	case ".duckdb", ".ddb":
		return DuckDB, "", nil
	case ".db", ".sqlite", ".sqlite3":
		return SQLite, "", nil
	case ".csv":
		return Text, "csv", nil
	case ".tsv":
		return Text, "tsv", nil
	case ".json":
		return Text, "json", nil
	case ".jsonl", ".ndjson":
		return Text, "jsonl", nil
	case ".md":
		return Text, "markdown", nil
	}
	if format == "" {
		format = "csv"
	}
	if _, err := output.New(format, nil); err != nil {
		return Text, "", fmt.Errorf("export: %w", err)
	}
	return Text, format, nil
}

// Query runs one SQL statement on db, a SQLite database (jjsql's connection,
// with flows() and packets()), and writes its result to path.
func Query(ctx context.Context, db *sql.DB, query, path string, opts Options) error {
	kind, format, err := KindOf(path, opts.Format)
	if err != nil {
		return err
	}
	if (kind == Parquet || kind == DuckDB) && opts.Route == RouteAuto {
		if dq, ok := Plain(query, opts.env()); ok {
			return viaDuckDB(ctx, dq, path, kind, opts)
		}
	}
	if opts.Used != nil {
		opts.Used("sqlite")
	}
	return fromRows(ctx, func(ctx context.Context) (*sql.Rows, error) { return db.QueryContext(ctx, query) },
		path, kind, format, opts, false)
}

// QueryDuckDB runs one SQL statement on db, a DuckDB database (see package
// vtab/duckdb), and writes its result to path. Parquet files and DuckDB
// tables are written by DuckDB itself.
func QueryDuckDB(ctx context.Context, db *sql.DB, query, path string, opts Options) error {
	kind, format, err := KindOf(path, opts.Format)
	if err != nil {
		return err
	}
	if opts.Used != nil {
		opts.Used("duckdb")
	}
	switch kind {
	case Parquet:
		return parquetFromDuckDB(ctx, db, query, path)
	case DuckDB:
		return duckTableFromDuckDB(ctx, db, query, path, opts)
	}
	return fromRows(ctx, func(ctx context.Context) (*sql.Rows, error) { return db.QueryContext(ctx, query) },
		path, kind, format, opts, true)
}

// fromRows writes the rows of a query run by open to a text or SQLite file,
// or (for a SQLite result) to a Parquet or DuckDB file.
func fromRows(ctx context.Context, open func(context.Context) (*sql.Rows, error), path string, kind Kind, format string, opts Options, duckRows bool) error {
	switch kind {
	case Text:
		return textFile(ctx, open, path, format)
	case SQLite:
		return sqliteTable(ctx, open, path, opts, duckRows)
	case Parquet:
		return parquetFromRows(ctx, open, path, opts)
	case DuckDB:
		return duckTableFromRows(ctx, open, path, opts)
	}
	return fmt.Errorf("export: %s: unknown kind", path)
}

// tableName returns the table name of a database file export.
func tableName(path string, opts Options) string {
	if opts.Table != "" {
		return opts.Table
	}
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// checkDir fails early, with a clear message, when path cannot be written:
// its directory is missing or is not a directory, or path is a directory.
func checkDir(path string) error {
	if path == "" {
		return errors.New("export: no output file given")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export: cannot write %s: directory %s does not exist", path, dir)
		}
		return fmt.Errorf("export: cannot write %s: %w", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("export: cannot write %s: %s is not a directory", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("export: cannot write %s: it is a directory", path)
	}
	if special(path) {
		// Database and Parquet files are written under a temporary name
		// and renamed; a device or FIFO must never be replaced.
		return fmt.Errorf("export: cannot write %s: not a regular file (text formats can be written to it)", path)
	}
	return nil
}

// tempName returns an unused name in path's directory for the file that
// becomes path; the file is created empty (so the directory is known to be
// writable) unless keep is false, in which case it is removed again for a
// writer that must create it itself.
func tempName(path string, keep bool) (string, error) {
	if err := checkDir(path); err != nil {
		return "", err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	for range 100 {
		var r [6]byte
		rand.Read(r[:])
		name := filepath.Join(dir, "."+base+".jjsql-"+hex.EncodeToString(r[:])+".tmp")
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("export: cannot write %s: %w", path, unwrapPath(err))
		}
		f.Close()
		if !keep {
			os.Remove(name)
		}
		return name, nil
	}
	return "", fmt.Errorf("export: cannot write %s: no free temporary name", path)
}

// unwrapPath drops the temporary name from a *PathError.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// commit renames the finished temporary file to path.
func commit(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export: %s: %w", path, unwrapPath(err))
	}
	return nil
}

// removeTemp removes a temporary database file and the files DuckDB or
// SQLite keep beside it.
func removeTemp(tmp string) {
	for _, suffix := range []string{"", ".wal", "-journal", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	// DuckDB's COPY writes "tmp_<name>" beside the target and renames it
	// when done; an interrupted COPY can leave it.
	os.Remove(filepath.Join(filepath.Dir(tmp), "tmp_"+filepath.Base(tmp)))
}

// ctxErr prefers the context's error (an interrupted export) to the error
// an engine reported for it.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("export: interrupted: %w", ce)
	}
	return err
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
