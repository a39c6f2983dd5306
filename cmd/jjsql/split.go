//go:build sqlite_vtable

package main

import "github.com/jjsql/jjsql/repl"

// SplitStatements splits SQL text into statements at semicolons that are not
// inside quotes, identifiers in brackets or backticks, or comments (the
// shell's rule, repl.SplitComplete). Empty statements are dropped; a last
// statement without its semicolon counts.
func SplitStatements(sql string) []string {
	stmts, rest := repl.SplitComplete(sql)
	if rest != "" {
		stmts = append(stmts, rest)
	}
	return stmts
}
