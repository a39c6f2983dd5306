//go:build sqlite_vtable

// Package sqlite puts jjsql's engine-neutral tables (package vtab) on
// mattn/go-sqlite3 connections: eponymous virtual tables flows() and
// packets(), the profile views flows_core(), flows_extended() and
// flows_experimental(), and the features table (vtab.Tables). It holds no
// feature logic.
//
// The virtual-table module is vtab/sqlitec's, the one the loadable extension
// uses, registered on each connection's sqlite3 handle with the extension API
// routines of the SQLite mattn links (host.go). Going around mattn's own
// virtual-table API gives the module SQLite's colUsed (which columns a
// statement reads, so a scan computes only those) and lets rows reach SQLite
// in batches of C memory rather than through one call into Go per cell.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/jjsql/jjsql/vtab"
	"github.com/jjsql/jjsql/vtab/sqlitec"
)

// Hook is called on every new connection after the tables are registered
// (e.g. to register SQL functions).
type Hook func(conn *sqlite3.SQLiteConn) error

// NewDriver returns a mattn driver whose connections carry jjsql's tables.
func NewDriver(env *vtab.Env, hooks ...Hook) *sqlite3.SQLiteDriver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		db, err := connHandle(conn)
		if err != nil {
			return err
		}
		api, err := hostAPI()
		if err != nil {
			return err
		}
		tables := vtab.Tables(env)
		auth := &authState{cols: map[string]map[string]int{}, used: map[string][]bool{}}
		for _, t := range tables {
			idx := map[string]int{}
			for i, c := range t.Columns() {
				idx[strings.ToLower(c.Name)] = i
			}
			auth.cols[t.Name()] = idx
		}
		if err := sqlitec.Register(db, api, env, auth); err != nil {
			return err
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

// Columns returns a copy of the columns of table read since its last scan
// started (sqlitec.Reads).
func (a *authState) Columns(table string) []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.cols[table])
	out := make([]bool, n)
	copy(out, a.used[table])
	return out
}

// Reset forgets the columns of table (sqlitec.Reads).
func (a *authState) Reset(table string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.used[table])
}
