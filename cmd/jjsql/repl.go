//go:build sqlite_vtable

package main

import (
	"context"
	"io"

	"github.com/jjsql/jjsql/export"
	fnsqlite "github.com/jjsql/jjsql/functions/sqlite"
	"github.com/jjsql/jjsql/repl"
	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlite"
)

// wantsREPL reports whether the command line asks for the interactive
// shell: `jjsql repl`, or no query at all with a terminal on standard input
// and output.
func wantsREPL(args []string, stdin io.Reader, stdout io.Writer, sqlFile string) bool {
	if len(args) == 1 && args[0] == "repl" {
		return true
	}
	return len(args) == 0 && sqlFile == "" && isTerminal(stdin) && isTerminal(stdout)
}

// runREPL opens the database and runs the shell on the process's terminal.
func runREPL(env *vtab.Env, dsn, format, outPath string, quiet bool) int {
	db := sqlite.Open(env, dsn, fnsqlite.Register)
	defer db.Close()
	exp := func(ctx context.Context, query, path string) error {
		return export.Query(ctx, db, query, path, export.Options{Env: env})
	}
	return repl.Run(repl.Config{DB: db, Env: env, Mode: format, Output: outPath, Quiet: quiet, Version: version,
		Export: exp, ExportExts: []string{".parquet", ".duckdb", ".db", ".sqlite"}})
}
