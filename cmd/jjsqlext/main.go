// Command jjsqlext is jjsql as a loadable SQLite extension. Built with
// -buildmode=c-shared (make ext writes bin/jjsql.so), it gives any SQLite
// 3.10.0 or newer the tables of vtab.Tables (flows, packets, ...) and the
// scalar functions of functions.All(), with the same columns, values and
// errors as jjsql:
//
//	sqlite3 :memory: '.load ./bin/jjsql' "SELECT ja3, count(*) FROM flows('x.pcap') GROUP BY 1"
//
// bridge.c holds the entry points (sqlite3_jjsql_init and
// sqlite3_extension_init) and the sqlite3_module callbacks; it calls SQLite
// only through the host's sqlite3_api routines, so the library carries no
// SQLite of its own. The callbacks forward to the Go functions exported
// below, which find their Go objects (tables, cursors) through cgo handles.
// This package must not import mattn/go-sqlite3.
package main

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/jjsql/jjsql/functions"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// main is never called: the package is built as a shared library.
func main() {}

// minVersion is the oldest SQLite the extension accepts (bridge.h).
const minVersion = int(C.JJ_MIN_SQLITE)

// extTable is one registered table; a cgo handle to it is the module's
// client data.
//
// The table is declared to SQLite with its argument columns first (see
// newExtTable), so tcol maps a declared column index to the vtab.Table's.
type extTable struct {
	t     vtab.Table
	tcol  []int // declared column -> table column
	nargs int   // argument values Open receives
}

// extCursor is one scan; a cgo handle to it lives in the C cursor.
type extCursor struct {
	cur  vtab.Cursor
	tcol []int
}

var (
	envOnce sync.Once
	env     *vtab.Env
	funcs   = functions.All()
)

// statsEnv names the environment variable that, set to 1, makes every scan
// print its statistics (vtab.ScanStats as JSON) on standard error: how many
// packets it kept and whether it ran the cross-flow pass tell which columns
// SQLite said the query reads.
const statsEnv = "JJSQL_SCAN_STATS"

// sharedEnv returns the Env of every connection of the process: jjsql's
// defaults, and warnings written once each to standard error as jjsql does.
func sharedEnv() *vtab.Env {
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
	})
	return env
}

// checkVersion refuses an SQLite older than minVersion.
func checkVersion(have int, text string) error {
	if have >= minVersion {
		return nil
	}
	return fmt.Errorf("jjsql: this extension needs SQLite %s or newer (sqlite3_index_info.colUsed and table-valued functions); this SQLite is %s",
		versionText(minVersion), text)
}

// versionText formats an sqlite3_libversion_number as "3.10.0".
func versionText(n int) string {
	return fmt.Sprintf("%d.%d.%d", n/1000000, n/1000%1000, n%1000)
}

// declare returns the CREATE TABLE statement of a table's columns, in the
// order tcol gives; argument columns and the other optional columns are
// HIDDEN.
func declare(cols []vtab.ColumnDef, tcol []int) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE x(")
	for i, ti := range tcol {
		col := cols[ti]
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + strings.ReplaceAll(col.Name, `"`, `""`) + `" `)
		b.WriteString(col.Type.SQL())
		if col.Hidden {
			b.WriteString(" HIDDEN")
		}
	}
	b.WriteString(")")
	return b.String()
}

// newExtTable lays t out for SQLite: the argument columns first, then every
// other column in the table's order. SQLite reports the columns a statement
// reads (colUsed) exactly only for the first 63 columns, one bit standing
// for all the others; the path argument is read by every query, so in the
// table's own order (arguments after 300 feature columns) every query would
// look as if it read every feature. Moving HIDDEN columns changes neither
// SELECT * nor which hidden column a positional argument binds to (the
// arguments stay before the other hidden columns).
func newExtTable(t vtab.Table) *extTable {
	cols := t.Columns()
	et := &extTable{t: t, nargs: len(vtab.ArgNames())} // jjsql passes every argument slot
	for i, c := range cols {
		if c.Kind == vtab.KindArg {
			et.tcol = append(et.tcol, i)
			et.nargs = max(et.nargs, c.Arg+1)
		}
	}
	for i, c := range cols {
		if c.Kind != vtab.KindArg {
			et.tcol = append(et.tcol, i)
		}
	}
	return et
}

// argOf returns, per declared column, the argument index of an argument
// column, or -1 (for bridge.c's xBestIndex).
func (et *extTable) argOf() []C.int {
	cols := et.t.Columns()
	out := make([]C.int, len(et.tcol)+1) // +1: never empty
	for d, ti := range et.tcol {
		out[d] = -1
		if cols[ti].Kind == vtab.KindArg {
			out[d] = C.int(cols[ti].Arg)
		}
	}
	return out
}

// register adds every table and function to the connection db.
func register(db *C.sqlite3) error {
	for _, t := range vtab.Tables(sharedEnv()) {
		et := newExtTable(t)
		argOf := et.argOf()
		h := cgo.NewHandle(et)
		name := C.CString(t.Name())
		sql := C.CString(declare(t.Columns(), et.tcol))
		// From here on SQLite owns h: the module's destructor releases it.
		rc := C.jj_create_module(db, name, C.uintptr_t(h), sql, C.int(len(et.tcol)), &argOf[0])
		C.free(unsafe.Pointer(name))
		C.free(unsafe.Pointer(sql))
		if rc != 0 {
			return fmt.Errorf("jjsql: register table %s: %s", t.Name(), C.GoString(C.jj_errmsg(db)))
		}
	}
	for i, f := range funcs {
		name := C.CString(f.Name)
		rc := C.jj_create_function(db, name, C.int(i))
		C.free(unsafe.Pointer(name))
		if rc != 0 {
			return fmt.Errorf("jjsql: register function %s: %s", f.Name, C.GoString(C.jj_errmsg(db)))
		}
	}
	return nil
}

// internalError turns a recovered panic into an error string for C: a panic
// must not unwind into SQLite's frames.
func internalError(r any) *C.char {
	return C.CString(fmt.Sprintf("jjsql: internal error: %v", r))
}

//export goInit
func goInit(db *C.sqlite3, version C.int, text *C.char) (cerr *C.char) {
	defer func() {
		if r := recover(); r != nil {
			cerr = internalError(r)
		}
	}()
	if err := checkVersion(int(version), C.GoString(text)); err != nil {
		return C.CString(err.Error())
	}
	if err := register(db); err != nil {
		return C.CString(err.Error())
	}
	return nil
}

//export goRelease
func goRelease(h C.uintptr_t) {
	cgo.Handle(h).Delete()
}

// parseIndex decodes x_best_index's idxStr (bridge.c): the argument index of
// each filter value, and the columns the statement reads, as table column
// indices (tcol maps the declared indices of the bitmap).
func parseIndex(idxStr string, nargs int, tcol []int) (order []int, used []bool, err error) {
	argPart, maskPart, ok := strings.Cut(idxStr, "|")
	if !ok {
		return nil, nil, fmt.Errorf("bad index string %q", idxStr)
	}
	if argPart != "" {
		for _, s := range strings.Split(argPart, ",") {
			a, err := strconv.Atoi(s)
			if err != nil || a < 0 || a >= nargs {
				return nil, nil, fmt.Errorf("bad index string %q", idxStr)
			}
			order = append(order, a)
		}
	}
	bits, err := hex.DecodeString(maskPart)
	if err != nil || len(bits) != (len(tcol)+7)/8 {
		return nil, nil, fmt.Errorf("bad index string %q", idxStr)
	}
	used = make([]bool, len(tcol))
	for d, ti := range tcol {
		used[ti] = bits[d/8]&(1<<(d%8)) != 0
	}
	return order, used, nil
}

// filterValue converts an argument of a table-valued function as jjsql's
// adapter receives it: a blob is read as text.
func filterValue(v *C.sqlite3_value) schema.Value {
	x := funcValue(v)
	if x.Kind == schema.Blob {
		return schema.TextV(string(x.B))
	}
	return x
}

// funcValue converts the argument of a scalar function as jjsql does: text
// stays text, a blob stays a blob (an empty one too).
func funcValue(v *C.sqlite3_value) schema.Value {
	switch C.jj_value_type(v) {
	case C.SQLITE_INTEGER:
		return schema.IntV(int64(C.jj_value_int64(v)))
	case C.SQLITE_FLOAT:
		return schema.RealV(float64(C.jj_value_double(v)))
	case C.SQLITE_TEXT:
		return schema.TextV(textOf(v))
	case C.SQLITE_BLOB:
		return schema.BlobV(blobOf(v))
	}
	return schema.NullV()
}

func textOf(v *C.sqlite3_value) string {
	p := C.jj_value_text(v) // text first, then its length in bytes
	n := C.jj_value_bytes(v)
	return C.GoStringN((*C.char)(unsafe.Pointer(p)), n)
}

func blobOf(v *C.sqlite3_value) []byte {
	p := C.jj_value_blob(v)
	n := C.jj_value_bytes(v)
	return C.GoBytes(p, n) // a copy; never nil
}

// setResult hands v to SQLite. Text and blobs are passed as Go memory for
// the duration of the call; SQLite copies them (SQLITE_TRANSIENT).
func setResult(ctx *C.sqlite3_context, v schema.Value) {
	switch v.Kind {
	case schema.Int, schema.Bool:
		C.jj_result_int64(ctx, C.sqlite3_int64(v.I))
	case schema.Real:
		C.jj_result_double(ctx, C.double(v.F))
	case schema.Text:
		if len(v.S) > math.MaxInt32 {
			resultError(ctx, "jjsql: text value too large")
			return
		}
		C.jj_result_text(ctx, (*C.char)(unsafe.Pointer(unsafe.StringData(v.S))), C.int(len(v.S)))
	case schema.Blob:
		if len(v.B) > math.MaxInt32 {
			resultError(ctx, "jjsql: blob value too large")
			return
		}
		C.jj_result_blob(ctx, unsafe.Pointer(unsafe.SliceData(v.B)), C.int(len(v.B)))
	default:
		C.jj_result_null(ctx)
	}
}

func resultError(ctx *C.sqlite3_context, msg string) {
	cs := C.CString(msg)
	C.jj_result_error(ctx, cs)
	C.free(unsafe.Pointer(cs))
}

//export goFilter
func goFilter(table, old C.uintptr_t, idxStr *C.char, argc C.int, argv **C.sqlite3_value, eof *C.int, cerr **C.char) (cur C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			*cerr = internalError(r)
			cur = 0
		}
	}()
	*eof = 1
	if old != 0 {
		goClose(old)
	}
	et := cgo.Handle(table).Value().(*extTable)
	order, used, err := parseIndex(C.GoString(idxStr), et.nargs, et.tcol)
	if err != nil || len(order) != int(argc) {
		*cerr = C.CString(fmt.Sprintf("%s: internal: %v (%d values)", et.t.Name(), err, argc))
		return 0
	}
	args := make([]schema.Value, et.nargs)
	for i, v := range unsafe.Slice(argv, int(argc)) {
		args[order[i]] = filterValue(v)
	}
	c, err := et.t.Open(args, used)
	if err != nil {
		*cerr = C.CString(err.Error())
		return 0
	}
	h := cgo.NewHandle(&extCursor{cur: c, tcol: et.tcol})
	ok, err := c.Next()
	if err != nil {
		*cerr = C.CString(err.Error())
	}
	if ok {
		*eof = 0
	}
	return C.uintptr_t(h)
}

//export goNext
func goNext(cur C.uintptr_t, eof *C.int) (cerr *C.char) {
	defer func() {
		if r := recover(); r != nil {
			cerr = internalError(r)
		}
	}()
	ok, err := cgo.Handle(cur).Value().(*extCursor).cur.Next()
	*eof = 1
	if ok {
		*eof = 0
	}
	if err != nil {
		return C.CString(err.Error())
	}
	return nil
}

//export goColumn
func goColumn(cur C.uintptr_t, ctx *C.sqlite3_context, i C.int) (failed C.int) {
	defer func() {
		if r := recover(); r != nil {
			resultError(ctx, fmt.Sprintf("jjsql: internal error: %v", r))
			failed = 1
		}
	}()
	c := cgo.Handle(cur).Value().(*extCursor)
	setResult(ctx, c.cur.Column(c.tcol[i]))
	return 0
}

//export goRowid
func goRowid(cur C.uintptr_t) C.sqlite3_int64 {
	return C.sqlite3_int64(cgo.Handle(cur).Value().(*extCursor).cur.Rowid())
}

//export goClose
func goClose(cur C.uintptr_t) {
	h := cgo.Handle(cur)
	c := h.Value().(*extCursor)
	h.Delete()
	c.cur.Close()
}

//export goCall
func goCall(fn C.int, ctx *C.sqlite3_context, arg *C.sqlite3_value) {
	defer func() {
		if r := recover(); r != nil {
			resultError(ctx, fmt.Sprintf("jjsql: internal error in %s(): %v", funcs[fn].Name, r))
		}
	}()
	setResult(ctx, funcs[fn].Fn(funcValue(arg)))
}
