//go:build sqlite_vtable

// Package sqlite registers jjsql's scalar functions on a mattn/go-sqlite3
// connection.
package sqlite

import (
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/jjsql/jjsql/functions"
	"github.com/jjsql/jjsql/schema"
)

// Register adds every function of package functions to conn.
func Register(conn *sqlite3.SQLiteConn) error {
	for _, f := range functions.All() {
		fn := f.Fn
		impl := func(arg any) any { return fn(toValue(arg)).Any() }
		if err := conn.RegisterFunc(f.Name, impl, true); err != nil {
			return fmt.Errorf("functions: register %s: %w", f.Name, err)
		}
	}
	return nil
}

func toValue(v any) schema.Value {
	switch x := v.(type) {
	case int64:
		return schema.IntV(x)
	case float64:
		return schema.RealV(x)
	case string:
		return schema.TextV(x)
	case []byte:
		if x == nil {
			// mattn passes SQL NULL (and SQLite an empty blob) as a nil slice.
			return schema.NullV()
		}
		return schema.BlobV(x)
	}
	return schema.NullV()
}
