//go:build sqlite_vtable

package sqlite

import (
	"database/sql"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// TestConnHandle: the sqlite3 handle of a mattn connection and the API
// routines of mattn's SQLite are found (the adapter depends on both).
func TestConnHandle(t *testing.T) {
	var got, again bool
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		h, err := connHandle(c)
		if err != nil || h == nil {
			t.Errorf("connHandle: %v, %v", h, err)
		}
		api, err := hostAPI()
		if err != nil || api == nil {
			t.Errorf("hostAPI: %v, %v", api, err)
		}
		api2, _ := hostAPI()
		again = api2 == api
		got = true
		return nil
	}}
	sql.Register("jjsql-handle-test", d)
	db, err := sql.Open("jjsql-handle-test", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if !got || !again {
		t.Errorf("hook ran %v, the same routines twice %v", got, again)
	}
}
