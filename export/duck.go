package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	duck "github.com/duckdb/duckdb-go/v2"

	vduck "github.com/jjsql/jjsql/vtab/duckdb"
)

// outAlias is the name a target DuckDB database file is attached under.
const outAlias = "__jjsql_out"

// rowsFunction is the table function that streams a SQLite result into
// DuckDB (for COPY ... TO Parquet).
const rowsFunction = "__jjsql_rows"

// typedRows reads a SQLite result and yields its rows converted to the
// columns' types. The first rows are read ahead (at most Options.Lookahead)
// to type the expression columns.
type typedRows struct {
	ctx  context.Context
	rows *sql.Rows
	cols []column
	buf  [][]any
	vals []any
	ptrs []any
	out  []any
	n    int // rows returned
}

func newTypedRows(ctx context.Context, rows *sql.Rows, opts Options) (*typedRows, error) {
	cols, err := sqliteColumns(rows, registry(opts.env()))
	if err != nil {
		return nil, err
	}
	dedupe(cols)
	r := &typedRows{ctx: ctx, rows: rows, cols: cols, vals: make([]any, len(cols)), ptrs: make([]any, len(cols)),
		out: make([]any, len(cols))}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	limit := opts.Lookahead
	if limit <= 0 {
		limit = 1000
	}
	ty := newTyper(len(cols))
	for !ty.done(cols) && len(r.buf) < limit && rows.Next() {
		if err := rows.Scan(r.ptrs...); err != nil {
			return nil, err
		}
		row := append([]any(nil), r.vals...)
		ty.add(cols, row)
		r.buf = append(r.buf, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ty.finish(cols, len(r.buf))
	return r, nil
}

// dedupe renames repeated column names (a, a -> a, a_1), which a table
// cannot have.
func dedupe(cols []column) {
	seen := map[string]bool{}
	for i := range cols {
		name := cols[i].name
		for n := 1; seen[strings.ToLower(name)]; n++ {
			name = cols[i].name + "_" + strconv.Itoa(n)
		}
		seen[strings.ToLower(name)] = true
		cols[i].name = name
	}
}

// next returns the next row's converted values (valid until the next call),
// or nil at the end.
func (r *typedRows) next() ([]any, error) {
	var raw []any
	if len(r.buf) > 0 {
		raw = r.buf[0]
		r.buf[0] = nil
		r.buf = r.buf[1:]
	} else {
		if r.n%256 == 0 {
			if err := r.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !r.rows.Next() {
			return nil, r.rows.Err()
		}
		if err := r.rows.Scan(r.ptrs...); err != nil {
			return nil, err
		}
		raw = r.vals
	}
	r.n++
	for i, v := range raw {
		c, err := convert(&r.cols[i], v)
		if err != nil {
			return nil, fmt.Errorf("%w (row %d)", err, r.n)
		}
		r.out[i] = c
	}
	return r.out, nil
}

// rowSource is the table function source over typedRows.
type rowSource struct {
	r     *typedRows
	infos []duck.ColumnInfo
	err   error // the first error, reported as the export's
	done  bool
}

func (s *rowSource) ColumnInfos() []duck.ColumnInfo     { return s.infos }
func (s *rowSource) Cardinality() *duck.CardinalityInfo { return nil }
func (s *rowSource) Init()                              {}

func (s *rowSource) FillChunk(chunk duck.DataChunk) error {
	n := 0
	for capacity := duck.GetDataChunkCapacity(); n < capacity && !s.done; {
		vals, err := s.r.next()
		if err != nil {
			s.err, s.done = err, true
			return err
		}
		if vals == nil {
			s.done = true
			break
		}
		for j, v := range vals {
			if err := duck.SetChunkValue(chunk, j, n, v); err != nil {
				s.err, s.done = fmt.Errorf("export: column %s: %w", s.r.cols[j].name, err), true
				return s.err
			}
		}
		n++
	}
	return chunk.SetSize(n)
}

func typeInfos(cols []column) ([]duck.ColumnInfo, error) {
	infos := make([]duck.ColumnInfo, len(cols))
	for i, c := range cols {
		ti, err := vduck.TypeInfo(c.typ)
		if err != nil {
			return nil, err
		}
		infos[i] = duck.ColumnInfo{Name: c.name, T: ti}
	}
	return infos, nil
}

// scratch opens an in-memory DuckDB database with one connection.
func scratch(ctx context.Context) (*sql.DB, *sql.Conn, error) {
	c, err := duck.NewConnector("", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("export: duckdb: %w", err)
	}
	db := sql.OpenDB(c)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("export: duckdb: %w", err)
	}
	return db, conn, nil
}

// parquetFromRows streams a SQLite result into DuckDB's Parquet writer
// through a table function.
func parquetFromRows(ctx context.Context, open func(context.Context) (*sql.Rows, error), path string, opts Options) error {
	tmp, err := tempName(path, true)
	if err != nil {
		return err
	}
	err = func() error {
		db, conn, err := scratch(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		defer conn.Close()
		rows, err := open(ctx)
		if err != nil {
			return err
		}
		defer rows.Close()
		tr, err := newTypedRows(ctx, rows, opts)
		if err != nil {
			return err
		}
		infos, err := typeInfos(tr.cols)
		if err != nil {
			return err
		}
		src := &rowSource{r: tr, infos: infos}
		err = duck.RegisterTableUDF(conn, rowsFunction, duck.ChunkTableFunction{
			BindArguments: func(map[string]any, ...any) (duck.ChunkTableSource, error) { return src, nil },
		})
		if err != nil {
			return fmt.Errorf("export: duckdb: %w", err)
		}
		_, err = conn.ExecContext(ctx, "COPY (SELECT * FROM "+rowsFunction+"()) TO "+quoteString(tmp)+" "+parquetOptions)
		if src.err != nil {
			return src.err
		}
		return err
	}()
	if err != nil {
		removeTemp(tmp)
		return ctxErr(ctx, err)
	}
	return commit(tmp, path)
}

// parquetOptions are the COPY options of a Parquet file. DuckDB's writer
// holds a whole row group in memory: 16,384 rows of every column instead of
// its default 122,880 keeps that bounded (a few tens of MB for 400 columns)
// at the cost of a slightly larger file.
const parquetOptions = "(FORMAT parquet, ROW_GROUP_SIZE 16384)"

// parquetFromDuckDB has DuckDB write the query's result as Parquet.
func parquetFromDuckDB(ctx context.Context, db *sql.DB, query, path string) error {
	tmp, err := tempName(path, true)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "COPY ("+trimStatement(query)+") TO "+quoteString(tmp)+" "+parquetOptions)
	if err != nil {
		removeTemp(tmp)
		return ctxErr(ctx, err)
	}
	return commit(tmp, path)
}

// trimStatement drops the trailing semicolons of one statement, so it can
// be a subquery.
func trimStatement(q string) string {
	return strings.TrimRight(strings.TrimSpace(q), "; \t\r\n")
}

// target is a database file an export adds a table to: the file itself
// when it exists (the table is created in one transaction), else a
// temporary file renamed into place at the end.
type target struct {
	path, file string
	fresh      bool
}

func newTarget(path string) (*target, error) {
	if err := checkDir(path); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Mode().IsRegular():
		return &target{path: path, file: path}, nil
	case err == nil:
		return nil, fmt.Errorf("export: cannot write %s: not a regular file", path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("export: cannot write %s: %w", path, unwrapPath(err))
	}
	tmp, err := tempName(path, false)
	if err != nil {
		return nil, err
	}
	return &target{path: path, file: tmp, fresh: true}, nil
}

// finish renames a fresh file into place on success and removes it on
// failure.
func (t *target) finish(err error) error {
	if !t.fresh {
		return err
	}
	if err != nil {
		removeTemp(t.file)
		return err
	}
	return commit(t.file, t.path)
}

// attachOut attaches the target file to a DuckDB connection and starts the
// transaction that creates the table; it drops an existing table of that
// name when opts.Replace, and fails otherwise.
func attachOut(ctx context.Context, conn *sql.Conn, t *target, table string, opts Options) (func(error) error, error) {
	if _, err := conn.ExecContext(ctx, "ATTACH "+quoteString(t.file)+" AS "+outAlias); err != nil {
		return nil, fmt.Errorf("export: %s: %w", t.path, err)
	}
	detach := func() { conn.ExecContext(context.Background(), "DETACH "+outAlias) }
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		detach()
		return nil, err
	}
	end := func(err error) error {
		if err != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
			detach()
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
			detach()
			return err
		}
		detach()
		return nil
	}
	var kind string
	err := conn.QueryRowContext(ctx, `SELECT table_type FROM information_schema.tables
		WHERE table_catalog = ? AND table_schema = 'main' AND lower(table_name) = lower(?)`, outAlias, table).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return end, nil
	case err != nil:
		return nil, end(err)
	case !opts.Replace:
		return nil, end(fmt.Errorf("export: %s already has a table %s (replace it with --replace, or name another with --table)", t.path, table))
	}
	drop := "DROP TABLE "
	if strings.Contains(kind, "VIEW") {
		drop = "DROP VIEW "
	}
	if _, err := conn.ExecContext(ctx, drop+outAlias+".main."+quoteIdent(table)); err != nil {
		return nil, end(err)
	}
	return end, nil
}

// duckTableFromRows writes a SQLite result to a table of a DuckDB file with
// duckdb-go's Appender.
func duckTableFromRows(ctx context.Context, open func(context.Context) (*sql.Rows, error), path string, opts Options) error {
	t, err := newTarget(path)
	if err != nil {
		return err
	}
	table := tableName(path, opts)
	err = func() error {
		db, conn, err := scratch(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		defer conn.Close()
		end, err := attachOut(ctx, conn, t, table, opts)
		if err != nil {
			return err
		}
		return end(appendRows(ctx, conn, open, table, opts))
	}()
	return t.finish(ctxErr(ctx, err))
}

func appendRows(ctx context.Context, conn *sql.Conn, open func(context.Context) (*sql.Rows, error), table string, opts Options) error {
	rows, err := open(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	tr, err := newTypedRows(ctx, rows, opts)
	if err != nil {
		return err
	}
	var defs []string
	for _, c := range tr.cols {
		defs = append(defs, quoteIdent(c.name)+" "+vduck.TypeName(c.typ))
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE "+outAlias+".main."+quoteIdent(table)+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return conn.Raw(func(dc any) error {
		app, err := duck.NewAppender(dc.(driver.Conn), outAlias, "main", table)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		args := make([]driver.Value, len(tr.cols))
		for {
			vals, err := tr.next()
			if err != nil {
				app.Close()
				return err
			}
			if vals == nil {
				break
			}
			for i, v := range vals {
				args[i] = v
			}
			if err := app.AppendRow(args...); err != nil {
				app.Close()
				return fmt.Errorf("export: %w", err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	})
}

// duckTableFromDuckDB has DuckDB create the table from the query.
func duckTableFromDuckDB(ctx context.Context, db *sql.DB, query, path string, opts Options) error {
	t, err := newTarget(path)
	if err != nil {
		return err
	}
	table := tableName(path, opts)
	err = func() error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		end, err := attachOut(ctx, conn, t, table, opts)
		if err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "CREATE TABLE "+outAlias+".main."+quoteIdent(table)+" AS "+trimStatement(query))
		return end(err)
	}()
	return t.finish(ctxErr(ctx, err))
}

// viaDuckDB runs a plain query (see Plain) in a DuckDB database of its own
// with jjsql's table functions.
func viaDuckDB(ctx context.Context, query, path string, kind Kind, opts Options) error {
	db, err := vduck.Open(ctx, opts.env(), "")
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.Used != nil {
		opts.Used("duckdb")
	}
	if kind == Parquet {
		return parquetFromDuckDB(ctx, db, query, path)
	}
	return duckTableFromDuckDB(ctx, db, query, path, opts)
}
