// Package output writes query results in jjsql's text formats. The
// machine-readable formats (csv, tsv, json, jsonl) are a contract that tools
// parse: one header row of column names (csv, tsv); integers as integers;
// floats in shortest round-trip form with inf/-inf/nan; NULL as an empty field
// (csv, tsv) or null (json, where non-finite floats are null as well); blobs as
// lowercase hex. Later issues add file and stream writers behind the same
// Writer interface.
package output

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/jjsql/jjsql/schema"
)

// Writer receives one result set.
type Writer interface {
	// Begin starts a result with the given column names.
	Begin(cols []string) error
	// Row writes one row. Values are int64, float64, string, []byte, bool or nil.
	Row(vals []any) error
	// End finishes the result set and flushes.
	End() error
}

// Formats lists the accepted format names.
var Formats = []string{"table", "csv", "tsv", "json", "jsonl", "markdown"}

// New returns a writer of the named format on w.
func New(format string, w io.Writer) (Writer, error) {
	switch format {
	case "csv":
		return &delimWriter{w: w, comma: ','}, nil
	case "tsv":
		return &delimWriter{w: w, comma: '\t'}, nil
	case "json":
		return &jsonWriter{w: bufio.NewWriter(w), array: true}, nil
	case "jsonl":
		return &jsonWriter{w: bufio.NewWriter(w)}, nil
	case "table", "markdown":
		return &prettyWriter{w: w, markdown: format == "markdown"}, nil
	}
	return nil, fmt.Errorf("output: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// Text formats one value for the text formats.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return schema.FormatFloat(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case string:
		return x
	case []byte:
		return hex.EncodeToString(x)
	}
	return fmt.Sprint(v)
}

type delimWriter struct {
	w     io.Writer
	comma rune
	cw    *csv.Writer
	rec   []string
}

func (d *delimWriter) Begin(cols []string) error {
	d.cw = csv.NewWriter(d.w)
	d.cw.Comma = d.comma
	return d.cw.Write(cols)
}

func (d *delimWriter) Row(vals []any) error {
	d.rec = d.rec[:0]
	for _, v := range vals {
		d.rec = append(d.rec, Text(v))
	}
	return d.cw.Write(d.rec)
}

func (d *delimWriter) End() error {
	d.cw.Flush()
	return d.cw.Error()
}

type jsonWriter struct {
	w     *bufio.Writer
	array bool
	cols  []string
	keys  [][]byte
	n     int
}

func (j *jsonWriter) Begin(cols []string) error {
	j.cols = cols
	j.keys = j.keys[:0]
	for _, c := range cols {
		k, _ := json.Marshal(c)
		j.keys = append(j.keys, k)
	}
	j.n = 0
	if j.array {
		_, err := j.w.WriteString("[")
		return err
	}
	return nil
}

func (j *jsonWriter) Row(vals []any) error {
	if j.array {
		if j.n > 0 {
			j.w.WriteString(",\n")
		} else {
			j.w.WriteString("\n")
		}
	}
	j.n++
	j.w.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.Write(j.keys[i])
		j.w.WriteByte(':')
		j.w.WriteString(jsonValue(v))
	}
	j.w.WriteByte('}')
	if !j.array {
		j.w.WriteByte('\n')
	}
	return nil
}

func jsonValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "null"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64, int, bool:
		return Text(v)
	case []byte:
		return `"` + hex.EncodeToString(x) + `"`
	case string:
		b, _ := json.Marshal(x)
		return string(b)
	}
	b, _ := json.Marshal(fmt.Sprint(v))
	return string(b)
}

func (j *jsonWriter) End() error {
	if j.array {
		if j.n > 0 {
			j.w.WriteString("\n")
		}
		j.w.WriteString("]\n")
	}
	return j.w.Flush()
}

// prettyWriter renders a table with go-pretty. It holds the rows until End.
type prettyWriter struct {
	w        io.Writer
	markdown bool
	t        table.Writer
	numeric  []bool
}

func (p *prettyWriter) Begin(cols []string) error {
	p.t = table.NewWriter()
	p.t.SetOutputMirror(p.w)
	h := make(table.Row, len(cols))
	for i, c := range cols {
		h[i] = c
	}
	p.t.AppendHeader(h)
	p.numeric = make([]bool, len(cols))
	style := table.StyleLight
	style.Format.Header = text.FormatDefault // keep column names as they are
	p.t.SetStyle(style)
	return nil
}

func (p *prettyWriter) Row(vals []any) error {
	r := make(table.Row, len(vals))
	for i, v := range vals {
		s := Text(v)
		if !p.markdown && len(s) > 60 {
			s = s[:57] + "..."
		}
		r[i] = s
		switch v.(type) {
		case int64, float64:
			p.numeric[i] = true
		}
	}
	p.t.AppendRow(r)
	return nil
}

func (p *prettyWriter) End() error {
	if p.t == nil {
		return nil
	}
	var cfg []table.ColumnConfig
	for i, num := range p.numeric {
		if num {
			cfg = append(cfg, table.ColumnConfig{Number: i + 1, Align: text.AlignRight})
		}
	}
	p.t.SetColumnConfigs(cfg)
	if p.markdown {
		p.t.RenderMarkdown()
	} else {
		p.t.Render()
	}
	return nil
}

// WriteResult writes a whole query result to w in format: nothing for a
// statement without columns, else header, rows and the writer's end.
// conv, when set, maps each value first (see Copy).
func WriteResult(w io.Writer, format string, rows *sql.Rows, conv func(any) any) error {
	ow, err := New(format, w)
	if err != nil {
		return err
	}
	_, hasCols, err := Copy(ow, rows, conv)
	if !hasCols {
		return err
	}
	if err != nil {
		ow.End()
		return err
	}
	return ow.End()
}

// Copy writes the rows of rows to w (Begin, then one Row each; the caller
// ends w). conv, when set, maps each value before it is written. It
// returns the rows written and whether the result has columns at all: a
// statement without columns (CREATE, INSERT) writes nothing.
func Copy(w Writer, rows *sql.Rows, conv func(any) any) (n int, hasCols bool, err error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, false, err
	}
	if len(cols) == 0 {
		for rows.Next() {
		}
		return 0, false, rows.Err()
	}
	if err := w.Begin(cols); err != nil {
		return 0, true, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, true, err
		}
		if conv != nil {
			for i, v := range vals {
				vals[i] = conv(v)
			}
		}
		if err := w.Row(vals); err != nil {
			return n, true, err
		}
		n++
	}
	return n, true, rows.Err()
}
