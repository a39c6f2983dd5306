// Package duckdb adapts jjsql's engine-neutral tables (package vtab) to
// DuckDB through duckdb-go: every table of vtab.Tables becomes a DuckDB table
// function. A table that takes arguments gets its path as the one positional
// parameter and its options as named parameters:
//
//	SELECT count(*) FROM flows('x.pcap', flow_timeout := 30, terminate_on_fin_rst := false)
//
// Column types come from the table definitions (the feature registry):
// BOOLEAN for bool features, BIGINT, DOUBLE, VARCHAR and BLOB. Hidden columns
// (the arguments and the second names of features) are not columns in DuckDB:
// DuckDB has no hidden columns, and SELECT * must list what SQLite's lists.
// The optional columns (raw sequences, SPLT, temporal connection columns)
// follow the Env's options, and each option is also a BOOLEAN named
// parameter: flows('x.pcap', include_splt := true).
//
// Laziness: DuckDB pushes the projection down. On its first chunk a scan asks
// which columns DuckDB reads and passes exactly those to vtab.Table.Open as
// used, so count(*) or a one-column query computes no feature group it does
// not need, as in SQLite.
//
// Every scan is one sequential pass over the capture (flow assembly is
// sequential), so the table functions are DuckDB's sequential chunk table
// functions; DuckDB parallelises the work above the scan (aggregates,
// Parquet encoding).
//
// This package links DuckDB (about 70 MB): only the packages that need DuckDB
// import it.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// Open opens a DuckDB database (dsn "" or ":memory:" for an in-memory one)
// with jjsql's tables on every connection: each table of vtab.Tables(env) is
// the table function InternalPrefix+name, called through a temporary table
// macro of its name that every new connection creates. env is read once,
// here. The caller closes the *sql.DB.
func Open(ctx context.Context, env *vtab.Env, dsn string) (*sql.DB, error) {
	var macros []string
	var ready atomic.Bool
	c, err := duck.NewConnector(dsn, func(ex driver.ExecerContext) error {
		if !ready.Load() {
			return nil // the first connection: Open creates them below
		}
		return execAll(func(q string) error { _, err := ex.ExecContext(context.Background(), q, nil); return err }, macros)
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %s: %w", dsn, err)
	}
	db := sql.OpenDB(c)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	defer conn.Close()
	if macros, err = registerFunctions(conn, env); err == nil {
		err = execAll(func(q string) error { _, err := conn.ExecContext(ctx, q); return err }, macros)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	ready.Store(true)
	return db, nil
}

func execAll(exec func(string) error, qs []string) error {
	for _, q := range qs {
		if err := exec(q); err != nil {
			return fmt.Errorf("duckdb: %w", err)
		}
	}
	return nil
}

// InternalPrefix starts the names of the table functions behind the macros.
// duckdb-go 2.10506 aborts the process when a table function receives a
// NULL argument, so the functions are called only through the macros, which
// replace NULL and missing arguments by the Env's defaults.
const InternalPrefix = "__jjsql_"

// registerFunctions registers every table of vtab.Tables(env) as the table
// function InternalPrefix+name and returns the statements that create the
// macros (and, for a table without arguments, a view) of its name.
func registerFunctions(conn *sql.Conn, env *vtab.Env) ([]string, error) {
	if env == nil {
		env = vtab.NewEnv()
	}
	env = serialized(env)
	return registerTables(conn, env, vtab.Tables(env))
}

func registerTables(conn *sql.Conn, env *vtab.Env, tables []vtab.Table) ([]string, error) {
	var macros []string
	for _, t := range tables {
		fn, f, err := newFunction(env, t)
		if err != nil {
			return nil, err
		}
		if err := duck.RegisterTableUDF(conn, InternalPrefix+t.Name(), f); err != nil {
			return nil, fmt.Errorf("duckdb: register %s: %w", t.Name(), err)
		}
		macros = append(macros, fn.macros()...)
	}
	return macros, nil
}

// serialized returns a copy of env whose callbacks never run concurrently:
// DuckDB runs scans on its own threads, and two scans of one query may run at
// once.
func serialized(env *vtab.Env) *vtab.Env {
	e := *env
	if w := env.Warn; w != nil {
		var mu sync.Mutex
		e.Warn = func(msg string) { mu.Lock(); defer mu.Unlock(); w(msg) }
	}
	if f := env.OnScanEnd; f != nil {
		var mu sync.Mutex
		e.OnScanEnd = func(s vtab.ScanStats) { mu.Lock(); defer mu.Unlock(); f(s) }
	}
	return &e
}

// TypeName returns the DuckDB type of a column of type t.
func TypeName(t schema.Type) string {
	switch t {
	case schema.Bool:
		return "BOOLEAN"
	case schema.Int:
		return "BIGINT"
	case schema.Real:
		return "DOUBLE"
	case schema.Blob:
		return "BLOB"
	}
	return "VARCHAR" // text, and columns of no fixed type
}

// TypeInfo returns the DuckDB type info of a column of type t (the type
// TypeName names).
func TypeInfo(t schema.Type) (duck.TypeInfo, error) {
	var dt duck.Type
	switch t {
	case schema.Bool:
		dt = duck.TYPE_BOOLEAN
	case schema.Int:
		dt = duck.TYPE_BIGINT
	case schema.Real:
		dt = duck.TYPE_DOUBLE
	case schema.Blob:
		dt = duck.TYPE_BLOB
	default:
		dt = duck.TYPE_VARCHAR
	}
	return duck.NewTypeInfo(dt)
}

// function is one table's DuckDB binding.
type function struct {
	env   *vtab.Env
	t     vtab.Table
	name  string
	nargs int           // argument columns of the table
	path  int           // argument index of the positional parameter, or -1
	named []string      // named parameters that are arguments, by argument index
	types []schema.Type // per argument index
	opts  []string      // named parameters that switch optional columns on
}

func newFunction(env *vtab.Env, t vtab.Table) (*function, duck.ChunkTableFunction, error) {
	fn := &function{env: env, t: t, name: t.Name(), path: -1}
	cfg := duck.TableFunctionConfig{NamedArguments: map[string]duck.TypeInfo{}}
	for _, c := range t.Columns() {
		if c.Kind == vtab.KindArg {
			fn.nargs = max(fn.nargs, c.Arg+1)
		}
	}
	fn.named = make([]string, fn.nargs)
	fn.types = make([]schema.Type, fn.nargs)
	for _, c := range t.Columns() {
		if c.Kind != vtab.KindArg {
			continue
		}
		ti, err := TypeInfo(c.Type)
		if err != nil {
			return nil, duck.ChunkTableFunction{}, fmt.Errorf("duckdb: %s.%s: %w", t.Name(), c.Name, err)
		}
		fn.types[c.Arg] = c.Type
		if c.Arg == 0 {
			fn.path = 0
			cfg.Arguments = append(cfg.Arguments, ti)
			continue
		}
		fn.named[c.Arg] = c.Name
		cfg.NamedArguments[c.Name] = ti
	}
	if fn.nargs > 0 {
		// The column options of Env (include_splt, ...) as named
		// parameters; they change the columns, so the table is rebuilt
		// for a bind that sets one.
		bi, err := duck.NewTypeInfo(duck.TYPE_BOOLEAN)
		if err != nil {
			return nil, duck.ChunkTableFunction{}, err
		}
		for opt := range env.Options {
			if _, clash := cfg.NamedArguments[opt]; !clash {
				fn.opts = append(fn.opts, opt)
				cfg.NamedArguments[opt] = bi
			}
		}
		sort.Strings(fn.opts)
		vi, err := duck.NewTypeInfo(duck.TYPE_VARCHAR)
		if err != nil {
			return nil, duck.ChunkTableFunction{}, err
		}
		cfg.NamedArguments[givenParam] = vi
	}
	return fn, duck.ChunkTableFunction{Config: cfg, BindArgumentsContext: fn.bind}, nil
}

// macros returns the statements that give the table its name: a table
// macro whose parameters default to NULL, and NULL stands for the Env's
// default (as a NULL argument does in SQLite). A table without arguments is
// also a view, so that FROM features works as in SQLite.
func (fn *function) macros() []string {
	internal := quoteIdent(InternalPrefix + fn.name)
	if fn.nargs == 0 {
		return []string{
			fmt.Sprintf("CREATE OR REPLACE TEMP MACRO %s() AS TABLE SELECT * FROM %s()", quoteIdent(fn.name), internal),
			fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s()", quoteIdent(fn.name), internal),
		}
	}
	// Each parameter reaches the function as a non-NULL placeholder when
	// it is NULL, and givenParam lists the ones that were not.
	var params, call, given []string
	for i := 0; i < fn.nargs; i++ {
		typ := TypeName(fn.types[i])
		if i == fn.path {
			params = append([]string{"path"}, params...)
			call = append([]string{fmt.Sprintf("coalesce(CAST(path AS %s), '')", typ)}, call...)
			continue
		}
		name := quoteIdent(fn.named[i])
		params = append(params, name+" := NULL")
		call = append(call, fmt.Sprintf("%s := coalesce(CAST(%s AS %s), %s)", name, name, typ, placeholder(fn.types[i])))
		given = append(given, fmt.Sprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", name, quoteString(fn.named[i])))
	}
	for _, o := range fn.opts {
		name := quoteIdent(o)
		params = append(params, name+" := NULL")
		call = append(call, fmt.Sprintf("%s := coalesce(CAST(%s AS BOOLEAN), false)", name, name))
		given = append(given, fmt.Sprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", name, quoteString(o)))
	}
	list := "''"
	if len(given) > 0 {
		list = "concat_ws(',', " + strings.Join(given, ", ") + ")"
	}
	call = append(call, givenParam+" := "+list)
	return []string{fmt.Sprintf("CREATE OR REPLACE TEMP MACRO %s(%s) AS TABLE SELECT * FROM %s(%s)",
		quoteIdent(fn.name), strings.Join(params, ", "), internal, strings.Join(call, ", "))}
}

// givenParam is the internal named parameter that lists the parameters a
// query gave (comma-separated); the others take the Env's defaults.
const givenParam = "__given"

// placeholder is a non-NULL value of a column type.
func placeholder(t schema.Type) string {
	switch t {
	case schema.Bool:
		return "false"
	case schema.Int:
		return "CAST(0 AS BIGINT)"
	case schema.Real:
		return "CAST(0 AS DOUBLE)"
	case schema.Blob:
		return "''::BLOB"
	}
	return "''"
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// table returns the table to scan: the registered one, or one built over a
// copy of Env whose column options the named parameters changed.
func (fn *function) table(named map[string]any, given map[string]bool) (vtab.Table, error) {
	var opts map[string]bool
	for _, o := range fn.opts {
		v, ok := named[o].(bool)
		if !ok || !given[o] || v == fn.env.Options[o] {
			continue
		}
		if opts == nil {
			opts = make(map[string]bool, len(fn.env.Options))
			for k, b := range fn.env.Options {
				opts[k] = b
			}
		}
		opts[o] = v
	}
	if opts == nil {
		return fn.t, nil
	}
	e := *fn.env
	e.Options = opts
	for _, t := range vtab.Tables(&e) {
		if t.Name() == fn.name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s: table not found", fn.name)
}

func (fn *function) bind(ctx context.Context, named map[string]any, args ...any) (duck.ChunkTableSource, error) {
	given := map[string]bool{}
	if g, ok := named[givenParam].(string); ok {
		for _, n := range strings.Split(g, ",") {
			given[n] = true
		}
	}
	t, err := fn.table(named, given)
	if err != nil {
		return nil, err
	}
	s := &source{ctx: ctx, t: t, args: make([]schema.Value, fn.nargs)}
	if fn.path >= 0 && len(args) > 0 {
		s.args[fn.path] = vtab.ArgValue(args[0])
	}
	for i, name := range fn.named {
		if name != "" && given[name] {
			s.args[i] = vtab.ArgValue(named[name])
		}
	}
	for i, c := range t.Columns() {
		if c.Hidden {
			continue
		}
		ti, err := TypeInfo(c.Type)
		if err != nil {
			return nil, err
		}
		s.cols = append(s.cols, i)
		s.types = append(s.types, c.Type)
		s.infos = append(s.infos, duck.ColumnInfo{Name: c.Name, T: ti})
	}
	s.ncols = len(t.Columns())
	return s, nil
}

// source is one scan: a vtab cursor opened on the first chunk, when DuckDB's
// projection is known.
type source struct {
	ctx   context.Context
	t     vtab.Table
	args  []schema.Value
	cols  []int         // DuckDB column -> table column
	types []schema.Type // per DuckDB column
	infos []duck.ColumnInfo
	ncols int // table columns

	proj []int // projected DuckDB columns
	h    *holder
	done bool
}

// holder owns the cursor, so that a scan DuckDB abandons (LIMIT) closes its
// capture when the source is collected.
type holder struct {
	mu  sync.Mutex
	cur vtab.Cursor
}

func (h *holder) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		return nil
	}
	err := h.cur.Close()
	h.cur = nil
	return err
}

func (s *source) ColumnInfos() []duck.ColumnInfo     { return s.infos }
func (s *source) Cardinality() *duck.CardinalityInfo { return nil }
func (s *source) Init()                              {}

// open learns the projection from the chunk (a column DuckDB does not read
// has no vector) and opens the cursor with exactly those columns used.
func (s *source) open(chunk duck.DataChunk) error {
	used := make([]bool, s.ncols)
	for j := range s.cols {
		if _, err := chunk.GetVector(j); err == nil {
			s.proj = append(s.proj, j)
			used[s.cols[j]] = true
		}
	}
	cur, err := s.t.Open(s.args, used)
	if err != nil {
		return err
	}
	s.h = &holder{cur: cur}
	runtime.AddCleanup(s, func(h *holder) { h.close() }, s.h)
	return nil
}

// FillChunk implements duck.ChunkTableSource.
func (s *source) FillChunk(chunk duck.DataChunk) error {
	if s.done {
		return chunk.SetSize(0)
	}
	if s.h == nil {
		if err := s.open(chunk); err != nil {
			s.done = true
			return err
		}
	}
	cur := s.h.cur
	capacity := duck.GetDataChunkCapacity()
	n := 0
	for n < capacity {
		if n%64 == 0 && s.ctx != nil {
			if err := s.ctx.Err(); err != nil {
				s.done = true
				s.h.close()
				return fmt.Errorf("%s: %w", s.t.Name(), err)
			}
		}
		ok, err := cur.Next()
		if err != nil {
			s.done = true
			s.h.close()
			return err
		}
		if !ok {
			s.done = true
			break
		}
		for _, j := range s.proj {
			if err := put(chunk, j, n, s.types[j], cur.Column(s.cols[j])); err != nil {
				s.done = true
				s.h.close()
				return fmt.Errorf("%s: column %s: %w", s.t.Name(), s.infos[j].Name, err)
			}
		}
		n++
	}
	if s.done {
		if err := s.h.close(); err != nil {
			return err
		}
	}
	return chunk.SetSize(n)
}

// put writes v into a column of DuckDB type t.
func put(chunk duck.DataChunk, col, row int, t schema.Type, v schema.Value) error {
	if v.Kind == schema.Null {
		return duck.SetChunkValue[any](chunk, col, row, nil)
	}
	switch t {
	case schema.Bool:
		switch v.Kind {
		case schema.Bool, schema.Int:
			return duck.SetChunkValue(chunk, col, row, v.I != 0)
		case schema.Real:
			return duck.SetChunkValue(chunk, col, row, v.F != 0)
		}
	case schema.Int:
		switch v.Kind {
		case schema.Bool, schema.Int:
			return duck.SetChunkValue(chunk, col, row, v.I)
		case schema.Real:
			return duck.SetChunkValue(chunk, col, row, int64(v.F))
		}
	case schema.Real:
		switch v.Kind {
		case schema.Real:
			return duck.SetChunkValue(chunk, col, row, v.F)
		case schema.Bool, schema.Int:
			return duck.SetChunkValue(chunk, col, row, float64(v.I))
		}
	case schema.Blob:
		switch v.Kind {
		case schema.Blob:
			if v.B == nil {
				return duck.SetChunkValue(chunk, col, row, []byte{})
			}
			return duck.SetChunkValue(chunk, col, row, v.B)
		case schema.Text:
			return duck.SetChunkValue(chunk, col, row, []byte(v.S))
		}
	default:
		if v.Kind == schema.Text {
			return duck.SetChunkValue(chunk, col, row, v.S)
		}
		return duck.SetChunkValue(chunk, col, row, v.String())
	}
	return fmt.Errorf("a %s value in a %s column", v.Kind, TypeName(t))
}
