//go:build sqlite_vtable

// Package sqlite adapts jjsql's engine-neutral tables (package vtab) to
// mattn/go-sqlite3: eponymous virtual tables flows() and packets(), the
// profile views flows_core(), flows_extended() and flows_experimental(), and
// the features table on every connection (vtab.Tables). It holds no feature
// logic.
//
// Laziness: mattn does not pass SQLite's colUsed to BestIndex, so the adapter
// installs an authorizer on each connection. While a statement is prepared,
// SQLite reports every column it reads (SQLITE_READ, table and column name)
// before it calls BestIndex; BestIndex snapshots that set into IdxStr, which
// reaches Filter on every execution of the statement. The set is cleared when
// a scan starts, so each statement sees its own columns (a statement prepared
// but never run can only widen the next one's set, which is safe).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
)

// Hook is called on every new connection after the tables are registered
// (e.g. to register SQL functions).
type Hook func(conn *sqlite3.SQLiteConn) error

// NewDriver returns a mattn driver whose connections carry jjsql's tables.
func NewDriver(env *vtab.Env, hooks ...Hook) *sqlite3.SQLiteDriver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		auth := &authState{used: map[string][]bool{}}
		tables := vtab.Tables(env)
		auth.cols = map[string]map[string]int{}
		for _, t := range tables {
			idx := map[string]int{}
			for i, c := range t.Columns() {
				idx[strings.ToLower(c.Name)] = i
			}
			auth.cols[t.Name()] = idx
			if err := conn.CreateModule(t.Name(), &module{table: t, auth: auth}); err != nil {
				return fmt.Errorf("sqlite: register %s: %w", t.Name(), err)
			}
		}
		conn.RegisterAuthorizer(auth.authorize)
		for _, h := range hooks {
			if err := h(conn); err != nil {
				return err
			}
		}
		return nil
	}}
}

// Open returns a database/sql handle on an in-memory (or dsn) database whose
// connections carry jjsql's tables.
func Open(env *vtab.Env, dsn string, hooks ...Hook) *sql.DB {
	if dsn == "" {
		dsn = ":memory:"
	}
	return sql.OpenDB(&connector{d: NewDriver(env, hooks...), dsn: dsn})
}

type connector struct {
	d   *sqlite3.SQLiteDriver
	dsn string
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.d }

// authState collects, per table name, the columns the statement being
// prepared reads.
type authState struct {
	mu   sync.Mutex
	cols map[string]map[string]int // table -> column name -> index
	used map[string][]bool         // table -> columns read since the last scan started
}

func (a *authState) authorize(op int, arg1, arg2, _ string) int {
	if op != sqlite3.SQLITE_READ {
		return sqlite3.SQLITE_OK
	}
	table := strings.ToLower(arg1)
	idx, ok := a.cols[table]
	if !ok {
		return sqlite3.SQLITE_OK
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.used[table]
	if u == nil {
		u = make([]bool, len(idx))
		a.used[table] = u
	}
	if i, ok := idx[strings.ToLower(arg2)]; ok {
		u[i] = true
	}
	return sqlite3.SQLITE_OK
}

// snapshot returns the columns read so far for table, as a hex bitmap.
func (a *authState) snapshot(table string, n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	bits := make([]byte, (n+7)/8)
	for i, u := range a.used[table] {
		if u {
			bits[i/8] |= 1 << (i % 8)
		}
	}
	return hex.EncodeToString(bits)
}

// mark records that column i of table is read.
func (a *authState) mark(table string, i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.used[table]
	if u == nil {
		u = make([]bool, len(a.cols[table]))
		a.used[table] = u
	}
	if i >= 0 && i < len(u) {
		u[i] = true
	}
}

func (a *authState) reset(table string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.used[table])
}

type module struct {
	table vtab.Table
	auth  *authState
}

func (m *module) EponymousOnlyModule() {}

func (m *module) Create(c *sqlite3.SQLiteConn, args []string) (sqlite3.VTab, error) {
	return m.Connect(c, args)
}

func (m *module) Connect(c *sqlite3.SQLiteConn, _ []string) (sqlite3.VTab, error) {
	var b strings.Builder
	b.WriteString("CREATE TABLE x(")
	for i, col := range m.table.Columns() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(col.Name))
		if typ := col.Type.SQL(); typ != "" {
			b.WriteString(" ")
			b.WriteString(typ)
		}
		if col.Hidden {
			b.WriteString(" HIDDEN")
		}
	}
	b.WriteString(")")
	if err := c.DeclareVTab(b.String()); err != nil {
		return nil, fmt.Errorf("sqlite: declare %s: %w", m.table.Name(), err)
	}
	t := &table{m: m, cols: m.table.Columns()}
	for _, c := range t.cols {
		if c.Kind == vtab.KindArg {
			t.hasArgs = true
		}
	}
	return t, nil
}

func (m *module) DestroyModule() {}

type table struct {
	m       *module
	cols    []vtab.ColumnDef
	hasArgs bool // the table takes a path argument (all but features)
}

// BestIndex consumes equality constraints on argument columns only, and
// records their order and the columns the statement reads in IdxStr:
// "<arg>,<arg>,...|<hex bitmap of columns read>".
func (t *table) BestIndex(cst []sqlite3.InfoConstraint, ob []sqlite3.InfoOrderBy) (*sqlite3.IndexResult, error) {
	// A column under a constraint or in ORDER BY is read too. This also
	// catches columns the authorizer is not told about, such as the columns
	// of a USING join.
	name := t.m.table.Name()
	for _, c := range cst {
		t.m.auth.mark(name, c.Column)
	}
	for _, o := range ob {
		t.m.auth.mark(name, o.Column)
	}
	used := make([]bool, len(cst))
	var order []string
	have := map[int]bool{}
	hasPath := false
	for i, c := range cst {
		if !c.Usable || c.Op != sqlite3.OpEQ || c.Column < 0 || c.Column >= len(t.cols) {
			continue
		}
		col := t.cols[c.Column]
		if col.Kind != vtab.KindArg || have[col.Arg] {
			continue
		}
		have[col.Arg] = true
		used[i] = true
		order = append(order, strconv.Itoa(col.Arg))
		if col.Arg == 0 {
			hasPath = true
		}
	}
	cost := 1e6
	if !t.hasArgs {
		cost = 1
	} else if !hasPath {
		cost = 1e30 // a plan without the path cannot run; prefer any other
	}
	idx := strings.Join(order, ",") + "|" + t.m.auth.snapshot(t.m.table.Name(), len(t.cols))
	return &sqlite3.IndexResult{Used: used, IdxNum: 1, IdxStr: idx, EstimatedCost: cost, EstimatedRows: 1e5}, nil
}

func (t *table) Disconnect() error { return nil }
func (t *table) Destroy() error    { return nil }

func (t *table) Open() (sqlite3.VTabCursor, error) { return &cursor{t: t}, nil }

type cursor struct {
	t   *table
	cur vtab.Cursor
	eof bool
}

func (c *cursor) Filter(_ int, idxStr string, vals []any) error {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
	argPart, maskPart, _ := strings.Cut(idxStr, "|")
	nargs := len(vtab.ArgNames())
	args := make([]schema.Value, nargs)
	if argPart != "" {
		for i, s := range strings.Split(argPart, ",") {
			a, err := strconv.Atoi(s)
			if err != nil || a < 0 || a >= nargs || i >= len(vals) {
				return fmt.Errorf("%s: internal: bad index string %q", c.t.m.table.Name(), idxStr)
			}
			args[a] = vtab.ArgValue(vals[i])
		}
	}
	var used []bool
	if bits, err := hex.DecodeString(maskPart); err == nil && len(bits) > 0 {
		used = make([]bool, len(c.t.cols))
		for i := range used {
			if i/8 < len(bits) && bits[i/8]&(1<<(i%8)) != 0 {
				used[i] = true
			}
		}
	}
	c.t.m.auth.reset(c.t.m.table.Name())
	cur, err := c.t.m.table.Open(args, used)
	if err != nil {
		return err
	}
	c.cur = cur
	return c.Next()
}

func (c *cursor) Next() error {
	ok, err := c.cur.Next()
	if err != nil {
		return err
	}
	c.eof = !ok
	return nil
}

func (c *cursor) EOF() bool { return c.cur == nil || c.eof }

func (c *cursor) Column(ctx *sqlite3.SQLiteContext, i int) error {
	v := c.cur.Column(i)
	switch v.Kind {
	case schema.Int, schema.Bool:
		ctx.ResultInt64(v.I)
	case schema.Real:
		ctx.ResultDouble(v.F)
	case schema.Text:
		ctx.ResultText(v.S)
	case schema.Blob:
		if len(v.B) == 0 {
			// mattn hands SQLite a NULL pointer for an empty slice, which
			// SQLite stores as NULL: a zero-length blob keeps x''.
			ctx.ResultZeroblob(0)
		} else {
			ctx.ResultBlob(v.B)
		}
	default:
		ctx.ResultNull()
	}
	return nil
}

func (c *cursor) Rowid() (int64, error) { return c.cur.Rowid(), nil }

func (c *cursor) Close() error {
	if c.cur != nil {
		err := c.cur.Close()
		c.cur = nil
		return err
	}
	return nil
}
