//go:build sqlite_vtable

package sqlite

/*
// The few SQLite calls made here, declared as SQLite's documentation gives
// them; they resolve to the SQLite that mattn/go-sqlite3 compiles in.
typedef struct sqlite3 sqlite3;
int sqlite3_auto_extension(void (*)(void));
int sqlite3_cancel_auto_extension(void (*)(void));
int sqlite3_open(const char *, sqlite3 **);
int sqlite3_close(sqlite3 *);

static const void *jj_api;

// jj_capture is an extension entry point: SQLite hands it its API routines.
static int jj_capture(sqlite3 *db, char **err, const void *api) {
  (void)db;
  (void)err;
  jj_api = api;
  return 0;
}

// jj_host_api opens and closes an in-memory database with jj_capture as an
// automatic extension, and returns the routines it received.
static const void *jj_host_api(void) {
  sqlite3 *db = 0;
  if (sqlite3_auto_extension((void (*)(void))jj_capture) != 0) return 0;
  sqlite3_open(":memory:", &db);
  sqlite3_close(db);
  sqlite3_cancel_auto_extension((void (*)(void))jj_capture);
  return jj_api;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// hostAPI returns the sqlite3_api_routines of the SQLite mattn links: the
// table that SQLite hands an extension's entry point (the module of
// vtab/sqlitec calls SQLite only through it). Captured once.
var hostAPI = sync.OnceValues(func() (unsafe.Pointer, error) {
	api := unsafe.Pointer(C.jj_host_api())
	if api == nil {
		return nil, errors.New("sqlite: this SQLite hands no API routines to extensions (built without extension loading?)")
	}
	return api, nil
})

// connHandle returns the sqlite3* of a mattn connection. mattn does not
// export it; its SQLiteConn has held it in the field db since its first
// releases, and TestConnHandle checks that it still does.
func connHandle(c *sqlite3.SQLiteConn) (unsafe.Pointer, error) {
	v := reflect.ValueOf(c).Elem().FieldByName("db")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("sqlite: cannot find the sqlite3 handle of a mattn/go-sqlite3 connection (its SQLiteConn changed?)")
	}
	return v.UnsafePointer(), nil
}
