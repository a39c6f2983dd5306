// Command jjsqlext is jjsql as a loadable SQLite extension. Built with
// -buildmode=c-shared (make ext writes bin/jjsql.so), it gives any SQLite
// 3.10.0 or newer the tables of vtab.Tables (flows, packets, ...) and the
// scalar functions of functions.All(), with the same columns, values and
// errors as jjsql:
//
//	sqlite3 :memory: '.load ./bin/jjsql' "SELECT ja3, count(*) FROM flows('x.pcap') GROUP BY 1"
//
// The entry points (sqlite3_jjsql_init and sqlite3_extension_init) and the
// sqlite3_module callbacks are package vtab/sqlitec's (bridge.c), which
// jjsql itself uses on its mattn/go-sqlite3 connections; they call SQLite
// only through the host's sqlite3_api routines, so the library carries no
// SQLite of its own. This package only says what they register: jjsql's
// tables and functions, with jjsql's defaults. It must not import
// mattn/go-sqlite3.
package main

import "C" // a c-shared library needs cgo; the C half is vtab/sqlitec's

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/jjsql/jjsql/functions"
	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlitec"
)

// main is never called: the package is built as a shared library.
func main() {}

func init() { sqlitec.SetExtension(setup) }

var (
	envOnce sync.Once
	env     *vtab.Env
	funcs   []sqlitec.Func
)

// statsEnv names the environment variable that, set to 1, makes every scan
// print its statistics (vtab.ScanStats as JSON) on standard error: how many
// packets it kept and whether it ran the cross-flow pass tell which columns
// SQLite said the query reads.
const statsEnv = "JJSQL_SCAN_STATS"

// setup returns the Env of every connection of the process (jjsql's
// defaults, and warnings written once each to standard error as jjsql does)
// and jjsql's scalar functions.
func setup() (*vtab.Env, []sqlitec.Func) {
	envOnce.Do(func() {
		env = vtab.NewEnv()
		var mu sync.Mutex
		warned := map[string]bool{}
		env.Warn = func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			if warned[msg] {
				return
			}
			warned[msg] = true
			fmt.Fprintln(os.Stderr, "jjsql: warning:", msg)
		}
		if os.Getenv(statsEnv) == "1" {
			env.OnScanEnd = func(st vtab.ScanStats) {
				b, _ := json.Marshal(st)
				fmt.Fprintf(os.Stderr, "jjsql: scan stats: %s\n", b)
			}
		}
		for _, f := range functions.All() {
			funcs = append(funcs, sqlitec.Func{Name: f.Name, Fn: f.Fn})
		}
	})
	return env, funcs
}
