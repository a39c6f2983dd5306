// Package sqlitec puts jjsql's tables (vtab.Tables: flows, packets, ...)
// and scalar functions on an SQLite connection through SQLite's extension
// API routines (sqlite3ext.h). It serves two hosts: the loadable extension
// (cmd/jjsqlext, whose entry points are bridge.c's) and jjsql itself, whose
// mattn/go-sqlite3 connections get the same module (Register, with the
// routines of the SQLite mattn links).
//
// bridge.c holds the sqlite3_module callbacks. xBestIndex hands xFilter the
// argument order and the columns the statement reads (colUsed), so a scan
// computes only those. Rows reach SQLite in batches: the Go cursor reads
// rows ahead into C memory (a cell per column read, text and blob bytes in
// an arena), and xNext, xColumn and xRowid read the batch without calling
// into Go, one call per batch instead of one per row and per cell.
//
// This package must not import mattn/go-sqlite3 (the extension would carry a
// second SQLite).
package sqlitec

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"encoding/hex"
	"fmt"
	"math"
	"runtime/cgo"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// minVersion is the oldest SQLite the module accepts (bridge.h).
const minVersion = int(C.JJ_MIN_SQLITE)

// Func is a scalar SQL function of one argument.
type Func struct {
	Name string
	Fn   func(schema.Value) schema.Value
}

// extension, set by SetExtension, gives the loadable extension's entry
// point what to register on each connection.
var extension func() (*vtab.Env, []Func)

// SetExtension sets what the extension entry points (sqlite3_jjsql_init)
// register on each connection that loads the library: f's tables and
// functions. The loadable extension calls it from an init function.
func SetExtension(f func() (*vtab.Env, []Func)) { extension = f }

// Reads tells which columns of a table the statement being prepared reads,
// for the columns SQLite's colUsed does not tell apart (the 64th and later
// share one bit): a host with an authorizer knows them from its SQLITE_READ
// reports, which come before xBestIndex.
type Reads interface {
	// Columns returns, per column of the named table (in its
	// vtab.Table.Columns order), whether the statement reads it; nil when
	// it cannot tell.
	Columns(table string) []bool
	// Reset forgets the table's columns: a scan of it starts, and the next
	// statement reports its own.
	Reset(table string)
}

// Register adds env's tables to the SQLite connection db (a sqlite3*) of a
// host that links SQLite, calling SQLite through api (its
// sqlite3_api_routines, as an extension's entry point receives them). Every
// connection of a process must come from the same SQLite. reads, when not
// nil, narrows down the columns past colUsed's reach.
func Register(db, api unsafe.Pointer, env *vtab.Env, reads Reads) error {
	if db == nil || api == nil {
		return fmt.Errorf("sqlitec: no connection or no API routines")
	}
	C.jj_set_api(api)
	v := int(C.jj_version())
	if err := checkVersion(v, versionText(v)); err != nil {
		return err
	}
	return register((*C.sqlite3)(db), env, nil, reads)
}

// extTable is one registered table; a cgo handle to it is the module's
// client data.
//
// The table is declared to SQLite with its argument columns first (see
// newExtTable), so tcol maps a declared column index to the vtab.Table's.
type extTable struct {
	t     vtab.Table
	tcol  []int // declared column -> table column
	nargs int   // argument values Open receives
	reads Reads // or nil
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

// register adds env's tables and funcs to the connection db.
func register(db *C.sqlite3, env *vtab.Env, funcs []Func, reads Reads) error {
	refine := C.int(0)
	if reads != nil {
		refine = 1
	}
	for _, t := range vtab.Tables(env) {
		et := newExtTable(t)
		et.reads = reads
		argOf := et.argOf()
		h := cgo.NewHandle(et)
		name := C.CString(t.Name())
		sql := C.CString(declare(t.Columns(), et.tcol))
		// From here on SQLite owns h: the module's destructor releases it.
		rc := C.jj_create_module(db, name, C.uintptr_t(h), sql, C.int(len(et.tcol)), &argOf[0], refine)
		C.free(unsafe.Pointer(name))
		C.free(unsafe.Pointer(sql))
		if rc != 0 {
			return fmt.Errorf("jjsql: register table %s: %s", t.Name(), C.GoString(C.jj_errmsg(db)))
		}
	}
	for _, f := range funcs {
		fn := cgo.NewHandle(f) // kept for the life of the process, like the function
		name := C.CString(f.Name)
		rc := C.jj_create_function(db, name, C.uintptr_t(fn))
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
	if extension == nil {
		return C.CString("jjsql: internal: no extension set up (sqlitec.SetExtension)")
	}
	env, funcs := extension()
	if err := register(db, env, funcs, nil); err != nil {
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

// Batch sizes: a cursor reads firstBatch rows ahead, then twice as many each
// time up to maxBatchCells cells (and at least one row, at most
// maxBatchRows), and stops a batch early once its arena holds
// arenaSoftLimit bytes. Starting small keeps a LIMIT query from reading far
// ahead of what it returns.
const (
	firstBatch     = 4
	maxBatchRows   = 1024
	maxBatchCells  = 64 << 10
	arenaSoftLimit = 1 << 20
)

// extCursor is one scan; a cgo handle to it lives in the C cursor, which
// reads the rows of b.
type extCursor struct {
	cur   vtab.Cursor
	b     *C.jj_batch
	slots []int // cell slot -> table column
	cap   int   // rows b's cells hold
	want  int   // rows to read into the next batch
	arena int   // bytes b.arena holds
	err   error // met after the rows of the current batch: returned next
}

// newCursor allocates the batch of a scan of et reading the table columns
// used (all when nil).
func newCursor(et *extTable, c vtab.Cursor, used []bool) *extCursor {
	ec := &extCursor{cur: c}
	b := (*C.jj_batch)(C.calloc(1, C.size_t(unsafe.Sizeof(C.jj_batch{}))))
	ncol := len(et.tcol)
	slot := unsafe.Slice((*C.int)(C.malloc(C.size_t(max(ncol, 1))*C.size_t(unsafe.Sizeof(C.int(0))))), max(ncol, 1))
	for d, ti := range et.tcol {
		slot[d] = -1
		if used == nil || used[ti] {
			slot[d] = C.int(len(ec.slots))
			ec.slots = append(ec.slots, ti)
		}
	}
	ec.cap = min(maxBatchRows, max(1, maxBatchCells/max(len(ec.slots), 1)))
	ec.want = min(firstBatch, ec.cap)
	b.ncol, b.ncell, b.slot = C.int(ncol), C.int(len(ec.slots)), &slot[0]
	b.cells = (*C.jj_cell)(C.malloc(C.size_t(max(ec.cap*len(ec.slots), 1)) * C.size_t(unsafe.Sizeof(C.jj_cell{}))))
	b.rowids = (*C.sqlite3_int64)(C.malloc(C.size_t(ec.cap) * 8))
	ec.arena = 4 << 10
	b.arena = (*C.char)(C.malloc(C.size_t(ec.arena)))
	ec.b = b
	return ec
}

// free releases the batch.
func (ec *extCursor) free() {
	if b := ec.b; b != nil {
		C.free(unsafe.Pointer(b.slot))
		C.free(unsafe.Pointer(b.cells))
		C.free(unsafe.Pointer(b.rowids))
		C.free(unsafe.Pointer(b.arena))
		C.free(unsafe.Pointer(b))
		ec.b = nil
	}
}

// fill reads the next batch of rows. It returns an error only when no row
// comes before it: an error met after some rows is returned by the next
// fill, so the rows read before a fault still reach SQLite. eof is true
// when the batch has no rows.
func (ec *extCursor) fill() (eof bool, err error) {
	b := ec.b
	b.nrows, b.row = 0, 0
	if ec.err != nil {
		err, ec.err = ec.err, nil
		b.last = 1
		return true, err
	}
	if b.last != 0 {
		return true, nil
	}
	ncell := len(ec.slots)
	cells := unsafe.Slice(b.cells, max(ec.cap*ncell, 1))
	rowids := unsafe.Slice(b.rowids, ec.cap)
	used, n := 0, 0
	for n < ec.want && used < arenaSoftLimit {
		ok, err := ec.cur.Next()
		if err != nil {
			ec.err = err
			break
		}
		if !ok {
			b.last = 1
			break
		}
		rowids[n] = C.sqlite3_int64(ec.cur.Rowid())
		row := cells[n*ncell : n*ncell+ncell]
		for s, col := range ec.slots {
			used = ec.put(&row[s], ec.cur.Column(col), used)
		}
		n++
	}
	b.nrows = C.int(n)
	ec.want = min(ec.want*2, ec.cap)
	if n == 0 {
		if ec.err != nil {
			err, ec.err = ec.err, nil
			b.last = 1
		}
		return true, err
	}
	return false, nil
}

// put writes v into cell x, its bytes at arena offset used; it returns the
// arena bytes used after it.
func (ec *extCursor) put(x *C.jj_cell, v schema.Value, used int) int {
	switch v.Kind {
	case schema.Int, schema.Bool:
		x._type, x.v, x.n = C.JJ_INT, C.sqlite3_int64(v.I), 0
	case schema.Real:
		x._type, x.v, x.n = C.JJ_REAL, C.sqlite3_int64(math.Float64bits(v.F)), 0
	case schema.Text:
		x._type = C.JJ_TEXT
		used = ec.bytes(x, unsafe.StringData(v.S), len(v.S), used)
	case schema.Blob:
		x._type = C.JJ_BLOB
		used = ec.bytes(x, unsafe.SliceData(v.B), len(v.B), used)
	default:
		x._type, x.v, x.n = C.JJ_NULL, 0, 0
	}
	return used
}

// bytes copies n bytes at p into the arena at offset used, growing it as
// needed (cells hold offsets, so the arena may move), and points x at them.
func (ec *extCursor) bytes(x *C.jj_cell, p *byte, n, used int) int {
	if n > math.MaxInt32 {
		// SQLite cannot hold it either (SQLITE_MAX_LENGTH is at most 2^31-1).
		x._type, x.v, x.n = C.JJ_NULL, 0, 0
		return used
	}
	if used+n > ec.arena {
		size := max(2*ec.arena, used+n)
		a := C.realloc(unsafe.Pointer(ec.b.arena), C.size_t(size))
		if a == nil {
			panic("sqlitec: out of memory for a row batch")
		}
		ec.b.arena, ec.arena = (*C.char)(a), size
	}
	if n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(ec.b.arena), used)), n), unsafe.Slice(p, n))
	}
	x.v, x.n = C.sqlite3_int64(used), C.int(n)
	return used + n
}

//export goFilter
func goFilter(table, old C.uintptr_t, idxStr *C.char, argc C.int, argv **C.sqlite3_value, batch **C.jj_batch, eof *C.int, cerr **C.char) (cur C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			*cerr = internalError(r)
			cur = 0
		}
	}()
	*eof = 1
	*batch = nil
	if old != 0 {
		goClose(old)
	}
	et := cgo.Handle(table).Value().(*extTable)
	if et.reads != nil {
		et.reads.Reset(et.t.Name())
	}
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
	ec := newCursor(et, c, used)
	h := cgo.NewHandle(ec)
	*batch = ec.b
	done, err := ec.fill()
	if err != nil {
		*cerr = C.CString(err.Error())
	}
	if !done {
		*eof = 0
	}
	return C.uintptr_t(h)
}

// refineFrom is the first declared column colUsed does not tell apart.
const refineFrom = 63

//export goRefine
func goRefine(table C.uintptr_t, mask *C.uchar, nbytes C.int) {
	defer func() { _ = recover() }() // the mask stays a superset
	et := cgo.Handle(table).Value().(*extTable)
	read := et.reads.Columns(et.t.Name())
	if read == nil {
		return
	}
	bits := unsafe.Slice((*byte)(unsafe.Pointer(mask)), int(nbytes))
	for d := refineFrom; d < len(et.tcol) && d/8 < len(bits); d++ {
		if ti := et.tcol[d]; ti < len(read) && read[ti] {
			bits[d/8] |= 1 << (d % 8)
		} else {
			bits[d/8] &^= 1 << (d % 8)
		}
	}
}

//export goFill
func goFill(cur C.uintptr_t, eof *C.int) (cerr *C.char) {
	defer func() {
		if r := recover(); r != nil {
			cerr = internalError(r)
			*eof = 1
		}
	}()
	done, err := cgo.Handle(cur).Value().(*extCursor).fill()
	*eof = 0
	if done {
		*eof = 1
	}
	if err != nil {
		return C.CString(err.Error())
	}
	return nil
}

//export goClose
func goClose(cur C.uintptr_t) {
	h := cgo.Handle(cur)
	c := h.Value().(*extCursor)
	h.Delete()
	c.cur.Close()
	c.free()
}

//export goCall
func goCall(fn C.uintptr_t, ctx *C.sqlite3_context, arg *C.sqlite3_value) {
	f := cgo.Handle(fn).Value().(Func)
	defer func() {
		if r := recover(); r != nil {
			resultError(ctx, fmt.Sprintf("jjsql: internal error in %s(): %v", f.Name, r))
		}
	}()
	setResult(ctx, f.Fn(funcValue(arg)))
}

// cell returns the value of a batch cell as xColumn hands it to SQLite (the
// tests read batches back with it), and the row's rowid.
func (ec *extCursor) cell(row, slot int) (schema.Value, int64) {
	b := ec.b
	ncell := len(ec.slots)
	x := unsafe.Slice(b.cells, max(ec.cap*ncell, 1))[row*ncell+slot]
	rowid := int64(unsafe.Slice(b.rowids, ec.cap)[row])
	switch x._type {
	case C.JJ_INT:
		return schema.IntV(int64(x.v)), rowid
	case C.JJ_REAL:
		return schema.RealV(math.Float64frombits(uint64(x.v))), rowid
	case C.JJ_TEXT:
		return schema.TextV(C.GoStringN((*C.char)(unsafe.Add(unsafe.Pointer(b.arena), int(x.v))), x.n)), rowid
	case C.JJ_BLOB:
		return schema.BlobV(C.GoBytes(unsafe.Add(unsafe.Pointer(b.arena), int(x.v)), x.n)), rowid
	}
	return schema.NullV(), rowid
}

// batchInfo returns the batch's rows, whether it is the last, and its
// declared column -> slot map.
func (ec *extCursor) batchInfo() (rows int, last bool, slots []int) {
	b := ec.b
	for _, s := range unsafe.Slice(b.slot, max(int(b.ncol), 1))[:b.ncol] {
		slots = append(slots, int(s))
	}
	return int(b.nrows), b.last != 0, slots
}
