package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/jjsql/jjsql/schema"
)

type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite3.SQLiteDriver{}).Open(c.dsn)
}
func (c sqliteConnector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// sqliteTable writes a result (of SQLite, or of DuckDB when duckRows) to a
// table of a SQLite database file, in one transaction. Column types are
// declared from the registry (bool features BOOLEAN) or the result's types;
// an expression column of a SQLite result is declared with no type and keeps
// each value's own.
func sqliteTable(ctx context.Context, open func(context.Context) (*sql.Rows, error), path string, opts Options, duckRows bool) error {
	t, err := newTarget(path)
	if err != nil {
		return err
	}
	err = func() error {
		db := sql.OpenDB(sqliteConnector{dsn: "file:" + escapeURI(t.file) + "?_txlock=immediate"})
		defer db.Close()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("export: %s: %w", t.path, err)
		}
		if err := fillSQLite(ctx, tx, open, t, opts, duckRows); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("export: %s: %w", t.path, err)
		}
		return nil
	}()
	return t.finish(ctxErr(ctx, err))
}

// escapeURI escapes the characters a file: URI gives a meaning to.
func escapeURI(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

func fillSQLite(ctx context.Context, tx *sql.Tx, open func(context.Context) (*sql.Rows, error), t *target, opts Options, duckRows bool) error {
	table := tableName(t.path, opts)
	var kind string
	err := tx.QueryRowContext(ctx, "SELECT type FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE", table).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("export: %s: %w", t.path, err)
	case !opts.Replace:
		return fmt.Errorf("export: %s already has a table %s (replace it with --replace, or name another with --table)", t.path, table)
	default:
		if _, err := tx.ExecContext(ctx, "DROP "+strings.ToUpper(kind)+" "+quoteIdent(table)); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	rows, err := open(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cols []column
	if duckRows {
		cols, err = duckColumns(rows)
	} else {
		cols, err = sqliteColumns(rows, registry(opts.env()))
	}
	if err != nil {
		return err
	}
	dedupe(cols)
	defs := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = strings.TrimSpace(quoteIdent(c.name) + " " + sqliteType(c.typ))
		marks[i] = "?"
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE "+quoteIdent(table)+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO "+quoteIdent(table)+" VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer stmt.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for n := 0; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			v = Normalize(v)
			if b, ok := v.(bool); ok {
				v = int64(0)
				if b {
					v = int64(1)
				}
			} else if cols[i].typ == schema.Bool {
				if x, ok := v.(int64); !ok || (x != 0 && x != 1) {
					return fmt.Errorf("export: column %s is BOOLEAN (%s), but row %d holds %s; CAST the column in the query",
						cols[i].name, cols[i].from, n+1, describe(v))
				}
			}
			vals[i] = v
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return rows.Err()
}
