package export

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/schema"
	"github.com/jjsql/jjsql/vtab"
	vduck "github.com/jjsql/jjsql/vtab/duckdb"
)

// column is one result column with the type it is written as. typ is
// schema.Null for a column whose type is not known (yet).
type column struct {
	name string
	typ  schema.Type
	from string // where the type came from, for messages
}

// sqliteType returns the declared type of a column in a SQLite file ("" for
// a column of no fixed type, which keeps each value's own type).
func sqliteType(t schema.Type) string {
	switch t {
	case schema.Bool:
		return "BOOLEAN"
	case schema.Int:
		return "INTEGER"
	case schema.Real:
		return "REAL"
	case schema.Text:
		return "TEXT"
	case schema.Blob:
		return "BLOB"
	}
	return ""
}

// registry maps a column name of jjsql's tables to its type; a name two
// tables give different types is left out.
func registry(env *vtab.Env) map[string]schema.Type {
	m := map[string]schema.Type{}
	clash := map[string]bool{}
	for _, t := range vtab.Tables(env) {
		for _, c := range t.Columns() {
			k := strings.ToLower(c.Name)
			if old, ok := m[k]; ok && old != c.Type {
				clash[k] = true
			}
			m[k] = c.Type
		}
	}
	for k := range clash {
		delete(m, k)
	}
	return m
}

// sqliteColumns types the columns of a SQLite result. A column that reads a
// table column directly has a declared type: a column of jjsql's tables takes
// the registry's type (so the INTEGER 0/1 bool features become BOOLEAN), any
// other the type its declaration names. An expression column has no declared
// type: its type is Null here and comes from its values.
func sqliteColumns(rows *sql.Rows, reg map[string]schema.Type) ([]column, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(cts))
	for i, ct := range cts {
		decl := strings.ToUpper(ct.DatabaseTypeName())
		cols[i] = column{name: ct.Name()}
		if decl == "" {
			continue
		}
		if t, ok := reg[strings.ToLower(ct.Name())]; ok && t != schema.Null && t.SQL() == decl {
			cols[i].typ, cols[i].from = t, "feature registry"
			continue
		}
		cols[i].typ, cols[i].from = affinity(decl), "declared "+decl
	}
	return cols, nil
}

// affinity maps a declared SQLite type to a column type, following SQLite's
// affinity rules; DATE and TIME types and NUMERIC are typed by their values.
func affinity(decl string) schema.Type {
	switch {
	case strings.Contains(decl, "BOOL"):
		return schema.Bool
	case strings.Contains(decl, "INT"):
		return schema.Int
	case strings.Contains(decl, "CHAR"), strings.Contains(decl, "CLOB"), strings.Contains(decl, "TEXT"):
		return schema.Text
	case strings.Contains(decl, "BLOB"):
		return schema.Blob
	case strings.Contains(decl, "REAL"), strings.Contains(decl, "FLOA"), strings.Contains(decl, "DOUB"):
		return schema.Real
	}
	return schema.Null
}

// duckColumns types the columns of a DuckDB result by DuckDB's types.
func duckColumns(rows *sql.Rows) ([]column, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(cts))
	for i, ct := range cts {
		t := strings.ToUpper(ct.DatabaseTypeName())
		cols[i] = column{name: ct.Name(), from: "DuckDB " + t}
		switch {
		case t == "BOOLEAN":
			cols[i].typ = schema.Bool
		case strings.HasSuffix(t, "INT") && t != "HUGEINT" && t != "UHUGEINT" && t != "UBIGINT",
			t == "INTEGER":
			cols[i].typ = schema.Int
		case t == "DOUBLE" || t == "FLOAT" || strings.HasPrefix(t, "DECIMAL"):
			cols[i].typ = schema.Real
		case t == "VARCHAR":
			cols[i].typ = schema.Text
		case t == "BLOB":
			cols[i].typ = schema.Blob
		}
	}
	return cols, nil
}

// kindOf returns the type of a value as the SQLite driver returns it.
func kindOf(v any) schema.Type {
	switch v.(type) {
	case bool:
		return schema.Bool
	case int64:
		return schema.Int
	case float64:
		return schema.Real
	case string, time.Time:
		return schema.Text
	case []byte:
		return schema.Blob
	}
	return schema.Null
}

// typer types the columns of no declared type from the values of the first
// rows.
type typer struct {
	seen []uint8 // per column: bit per schema.Type seen
}

func newTyper(n int) *typer { return &typer{seen: make([]uint8, n)} }

func (ty *typer) add(cols []column, vals []any) {
	for i, v := range vals {
		if cols[i].typ == schema.Null && v != nil {
			ty.seen[i] |= 1 << kindOf(v)
		}
	}
}

// done reports whether every untyped column has had a value.
func (ty *typer) done(cols []column) bool {
	for i, c := range cols {
		if c.typ == schema.Null && ty.seen[i] == 0 {
			return false
		}
	}
	return true
}

// finish types the untyped columns: integers BIGINT, floats (or a mix of
// integers and floats) DOUBLE, text VARCHAR, blobs BLOB; a column with no
// value yet or with a mix of other kinds is VARCHAR, and its values are
// written in their text form.
func (ty *typer) finish(cols []column, rows int) {
	for i := range cols {
		if cols[i].typ != schema.Null {
			continue
		}
		s := ty.seen[i]
		bit := func(t schema.Type) uint8 { return 1 << t }
		switch {
		case s == bit(schema.Int):
			cols[i].typ = schema.Int
		case s == bit(schema.Bool):
			cols[i].typ = schema.Bool
		case s == bit(schema.Real), s == bit(schema.Real)|bit(schema.Int):
			cols[i].typ = schema.Real
		case s == bit(schema.Blob):
			cols[i].typ = schema.Blob
		default:
			cols[i].typ = schema.Text
		}
		cols[i].from = fmt.Sprintf("values of the first %d rows", rows)
	}
}

// convert returns v as a Go value of the column's type for DuckDB: bool,
// int64, float64, string or []byte (nil for NULL). A value that does not fit
// (text in a BIGINT column, 1.5 in a BIGINT column typed from integers) is an
// error that names the column.
func convert(c *column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.typ {
	case schema.Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		}
	case schema.Int:
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
		}
	case schema.Real:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case schema.Blob:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	default:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case time.Time:
			return x.Format(time.RFC3339Nano), nil
		default:
			return output.Text(x), nil
		}
	}
	return nil, fmt.Errorf("export: column %s is %s (%s), but a row holds %s; CAST the column in the query",
		c.name, vduck.TypeName(c.typ), c.from, describe(v))
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "the text " + strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("a %d-byte blob", len(x))
	case float64:
		return "the REAL " + schema.FormatFloat(x)
	case int64:
		return "the INTEGER " + strconv.FormatInt(x, 10)
	}
	return fmt.Sprintf("the value %v", v)
}

// Normalize turns a value read from DuckDB or SQLite into one the text
// writers and the SQLite driver take: nil, bool, int64, float64, string or
// []byte. Integers beyond int64 and DECIMALs become their text or float
// form; lists, structs and maps become JSON.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return float64(x)
	case *big.Int:
		if x == nil {
			return nil
		}
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duck.Decimal:
		return x.Float64()
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	case []any, map[string]any, duck.Map:
		if b, err := json.Marshal(x); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}
