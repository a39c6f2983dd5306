//go:build sqlite_vtable

package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/jjsql/jjsql/export"
	fnsqlite "github.com/jjsql/jjsql/functions/sqlite"
	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/vtab"
	vduck "github.com/jjsql/jjsql/vtab/duckdb"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

const exportUsage = `
Engines and output files:
  jjsql --engine duckdb "SELECT ... FROM flows('x.pcap', flow_timeout := 30)"
        runs the query in DuckDB (flows() and packets() are DuckDB table
        functions; options are named parameters)
  jjsql -o FILE "SQL"          writes the result to FILE, by its extension:
        .parquet, .duckdb (table --table, default: the file's base name),
        .db/.sqlite (SQLite table), .csv, .tsv, .json, .jsonl, .md
  jjsql export [flags] FILE "SQL"   the same as -o FILE
  Files are replaced whole or left untouched: a failed or interrupted export
  leaves no file behind.
`

// exportFlags are the flags of the DuckDB engine and of file exports.
type exportFlags struct {
	engine  *string
	table   *string
	replace *bool
	sub     bool   // jjsql export
	file    string // the file operand of jjsql export
}

// addExportFlags defines --engine, --table and --replace on fs.
func addExportFlags(fs *pflag.FlagSet, stderr io.Writer) *exportFlags {
	x := &exportFlags{
		engine:  fs.String("engine", "sqlite", "SQL engine: sqlite or duckdb"),
		table:   fs.String("table", "", "table name for -o FILE.duckdb or FILE.db (default: the file's base name)"),
		replace: fs.Bool("replace", false, "with -o FILE.duckdb or FILE.db: replace an existing table of that name"),
	}
	if prev := fs.Usage; prev != nil {
		fs.Usage = func() { prev(); fmt.Fprint(stderr, exportUsage) }
	}
	return x
}

// subcommand handles `jjsql [flags] export [flags] FILE [SQL]`: when the
// first operand (an argument that is neither a flag nor a flag's value) is
// the word export, it removes that word and the next operand, the file, from
// argv.
func (x *exportFlags) subcommand(fs *pflag.FlagSet, argv []string) []string {
	first := operands(fs, argv, 2)
	if len(first) == 0 || argv[first[0]] != "export" {
		return argv
	}
	x.sub = true
	drop := map[int]bool{first[0]: true}
	if len(first) > 1 {
		x.file = argv[first[1]]
		drop[first[1]] = true
	}
	var out []string
	for i, a := range argv {
		if !drop[i] {
			out = append(out, a)
		}
	}
	return out
}

// operands returns the indexes of the first n operands of argv.
func operands(fs *pflag.FlagSet, argv []string, n int) []int {
	var idx []int
	for i := 0; i < len(argv) && len(idx) < n; i++ {
		a := argv[i]
		switch {
		case a == "--":
			for j := i + 1; j < len(argv) && len(idx) < n; j++ {
				idx = append(idx, j)
			}
			return idx
		case strings.HasPrefix(a, "--"):
			if f := fs.Lookup(a[2:]); f != nil && f.NoOptDefVal == "" && !strings.Contains(a, "=") {
				i++ // the flag's value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				f := fs.ShorthandLookup(a[j : j+1])
				if f == nil {
					break
				}
				if f.NoOptDefVal == "" {
					if j == len(a)-1 {
						i++
					}
					break
				}
			}
		default:
			idx = append(idx, i)
		}
	}
	return idx
}

// active reports whether this run is for runExport: another engine, an
// output file, or jjsql export.
func (x *exportFlags) active(outPath string) bool {
	return x.sub || outPath != "" || *x.engine != "sqlite" || *x.table != "" || *x.replace
}

// run runs the query with the chosen engine and writes the result to the
// output file (by its extension) or to stdout. It returns the exit status.
func (x *exportFlags) run(env *vtab.Env, query, dbPath, outPath, format string, quiet bool, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "jjsql:", oneLine(err)+macroHint(err))
		return code
	}
	if x.sub {
		switch {
		case x.file == "" && outPath == "":
			return fail(2, fmt.Errorf("export: no output file (jjsql export FILE \"SQL\")"))
		case x.file != "" && outPath != "":
			return fail(2, fmt.Errorf("export: two output files, %s and -o %s", x.file, outPath))
		case strings.ContainsAny(x.file, " \t\n") && filepath.Ext(x.file) == "":
			return fail(2, fmt.Errorf("export: %q is not a file name: the output file comes first (jjsql export FILE \"SQL\")", x.file))
		case x.file != "":
			outPath = x.file
		}
	}
	if *x.engine != "sqlite" && *x.engine != "duckdb" {
		return fail(2, fmt.Errorf("unknown engine %q (want sqlite or duckdb)", *x.engine))
	}
	if (*x.table != "" || *x.replace) && outPath == "" {
		return fail(2, fmt.Errorf("--table and --replace need an output file (-o FILE.duckdb or FILE.db)"))
	}
	var kind export.Kind
	if outPath != "" {
		var err error
		if kind, format, err = export.KindOf(outPath, format); err != nil {
			return fail(2, err)
		}
	} else {
		if format == "" {
			format = "csv"
			if isTerminal(stdout) {
				format = "table"
			}
		}
		if _, err := output.New(format, io.Discard); err != nil {
			return fail(2, err)
		}
	}
	warned := map[string]bool{}
	env.Warn = func(msg string) {
		if quiet || warned[msg] {
			return
		}
		warned[msg] = true
		fmt.Fprintln(stderr, "jjsql: warning:", msg)
	}
	// The first Ctrl-C (or SIGTERM) interrupts the query and removes the
	// unfinished file; a second one kills jjsql as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()

	stmts := SplitStatements(query)
	if len(stmts) == 0 {
		return 0
	}
	opts := export.Options{Table: *x.table, Replace: *x.replace, Format: format, Env: env}
	var db *sql.DB
	if *x.engine == "duckdb" {
		dsn := dbPath
		if dsn == ":memory:" {
			dsn = ""
		}
		var err error
		if db, err = vduck.Open(ctx, env, dsn); err != nil {
			return fail(1, err)
		}
	} else {
		db = sqlite.Open(env, dbPath, fnsqlite.Register)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // temp views and attachments live on one connection

	var err error
	switch {
	case outPath == "":
		bw := bufio.NewWriterSize(stdout, 1<<16)
		err = writeAll(ctx, db, stmts, format, bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	case kind == export.Text:
		var f *export.File
		if f, err = export.Create(outPath); err != nil {
			break
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		err = writeAll(ctx, db, stmts, format, bw)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = f.Commit()
		} else {
			f.Abort()
		}
	default:
		// Every statement runs; the last one's result is the file's.
		if err = writeAll(ctx, db, stmts[:len(stmts)-1], "csv", bufio.NewWriter(io.Discard)); err != nil {
			break
		}
		last := stmts[len(stmts)-1]
		if *x.engine == "duckdb" {
			err = export.QueryDuckDB(ctx, db, last, outPath, opts)
		} else {
			err = export.Query(ctx, db, last, outPath, opts)
		}
	}
	if err != nil {
		if ctx.Err() != nil && !strings.Contains(err.Error(), "interrupted") {
			err = fmt.Errorf("interrupted: %w", err)
		}
		return fail(1, err)
	}
	return 0
}

// writeAll runs each statement and writes the ones that return columns.
func writeAll(ctx context.Context, db *sql.DB, stmts []string, format string, w *bufio.Writer) error {
	for _, stmt := range stmts {
		rows, err := db.QueryContext(ctx, stmt)
		if err != nil {
			return err
		}
		err = export.WriteRows(rows, format, w)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// macroHint returns, for DuckDB's error on a table macro called with
// arguments it does not take, the macro's signature (DuckDB prints it on a
// later line, which oneLine drops).
func macroHint(err error) string {
	_, rest, ok := strings.Cut(err.Error(), "Candidate macros:\n")
	if !ok {
		return ""
	}
	sig, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	return " (it takes " + sig + ")"
}
