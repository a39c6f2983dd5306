package repl

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/jjsql/jjsql/output"
)

// Modes lists the output modes of .mode.
var Modes = []string{"table", "line", "csv", "tsv", "json", "jsonl", "markdown"}

// minColumn is the narrowest a table column is cut to before a result that
// is too wide for the terminal is shown in line mode instead.
const minColumn = 8

// fileCellMax is the longest cell of a table written to a file (as jjsql's
// table format does).
const fileCellMax = 60

// newWriter returns the result writer of mode on w. width is the terminal's
// width when w is a terminal, else 0. note receives one-line remarks (a
// table shown in line mode).
func newWriter(mode string, headers bool, w io.Writer, width int, note func(string)) (output.Writer, error) {
	switch mode {
	case "table":
		return &tableWriter{w: w, width: width, headers: headers, note: note}, nil
	case "line":
		return &lineWriter{w: w}, nil
	case "csv":
		return &delimWriter{w: w, comma: ',', headers: headers}, nil
	case "tsv":
		return &delimWriter{w: w, comma: '\t', headers: headers}, nil
	case "json", "jsonl", "markdown":
		return output.New(mode, w)
	}
	return nil, fmt.Errorf("repl: unknown mode %q (want one of %s)", mode, strings.Join(Modes, ", "))
}

// delimWriter writes csv or tsv, with or without the header row.
type delimWriter struct {
	w       io.Writer
	comma   rune
	headers bool
	cw      *csv.Writer
	rec     []string
}

func (d *delimWriter) Begin(cols []string) error {
	d.cw = csv.NewWriter(d.w)
	d.cw.Comma = d.comma
	if d.headers {
		return d.cw.Write(cols)
	}
	return nil
}

func (d *delimWriter) Row(vals []any) error {
	d.rec = d.rec[:0]
	for _, v := range vals {
		d.rec = append(d.rec, output.Text(v))
	}
	return d.cw.Write(d.rec)
}

func (d *delimWriter) End() error {
	d.cw.Flush()
	return d.cw.Error()
}

// lineWriter shows each row as "column = value" lines, a blank line between
// rows (sqlite3's line mode): the view of results too wide for a table.
type lineWriter struct {
	w     io.Writer
	cols  []string
	width int
	n     int
}

func (l *lineWriter) Begin(cols []string) error {
	l.cols = cols
	l.width = 0
	for _, c := range cols {
		l.width = max(l.width, text.StringWidthWithoutEscSequences(c))
	}
	return nil
}

func (l *lineWriter) Row(vals []any) error {
	var b strings.Builder
	if l.n > 0 {
		b.WriteByte('\n')
	}
	l.n++
	for i, v := range vals {
		b.WriteString(strings.Repeat(" ", l.width-text.StringWidthWithoutEscSequences(l.cols[i])))
		b.WriteString(l.cols[i])
		b.WriteString(" = ")
		b.WriteString(output.Text(v))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(l.w, b.String())
	return err
}

func (l *lineWriter) End() error { return nil }

// tableWriter renders a go-pretty table in the style of jjsql's table
// format, holding the rows until End. On a terminal (width > 0) it cuts the
// widest columns until the table fits; when even columns of minColumn do
// not fit, it shows the rows in line mode.
type tableWriter struct {
	w       io.Writer
	width   int
	headers bool
	note    func(string)
	cols    []string
	rows    [][]any
	cells   [][]string
	numeric []bool
}

func (t *tableWriter) Begin(cols []string) error {
	t.cols = cols
	t.numeric = make([]bool, len(cols))
	return nil
}

func (t *tableWriter) Row(vals []any) error {
	cells := make([]string, len(vals))
	for i, v := range vals {
		s := output.Text(v)
		if t.width == 0 {
			s = cut(s, fileCellMax)
		}
		cells[i] = s
		switch v.(type) {
		case int64, float64:
			t.numeric[i] = true
		}
	}
	t.cells = append(t.cells, cells)
	if t.width > 0 {
		t.rows = append(t.rows, append([]any(nil), vals...))
	}
	return nil
}

func (t *tableWriter) End() error {
	cols := t.cols
	if t.width > 0 {
		limit, ok := fitWidth(t.widths(), t.width)
		if !ok {
			if t.note != nil {
				t.note(fmt.Sprintf("%d columns do not fit in %d terminal columns: shown in line mode", len(t.cols), t.width))
			}
			lw := &lineWriter{w: t.w}
			lw.Begin(t.cols)
			for _, r := range t.rows {
				if err := lw.Row(r); err != nil {
					return err
				}
			}
			return nil
		}
		cols = make([]string, len(t.cols))
		for i, c := range t.cols {
			cols[i] = cut(c, limit)
		}
		for _, r := range t.cells {
			for i := range r {
				r[i] = cut(r[i], limit)
			}
		}
	}
	tw := table.NewWriter()
	tw.SetOutputMirror(t.w)
	style := table.StyleLight
	style.Format.Header = text.FormatDefault // column names as they are
	tw.SetStyle(style)
	if t.headers {
		h := make(table.Row, len(cols))
		for i, c := range cols {
			h[i] = c
		}
		tw.AppendHeader(h)
	}
	for _, r := range t.cells {
		row := make(table.Row, len(r))
		for i, c := range r {
			row[i] = c
		}
		tw.AppendRow(row)
	}
	var cfg []table.ColumnConfig
	for i, num := range t.numeric {
		if num {
			cfg = append(cfg, table.ColumnConfig{Number: i + 1, Align: text.AlignRight})
		}
	}
	tw.SetColumnConfigs(cfg)
	tw.Render()
	return nil
}

// widths returns the display width of each column (header and cells).
func (t *tableWriter) widths() []int {
	w := make([]int, len(t.cols))
	for i, c := range t.cols {
		if t.headers {
			w[i] = text.StringWidthWithoutEscSequences(c)
		}
	}
	for _, r := range t.cells {
		for i, c := range r {
			w[i] = max(w[i], cellWidth(c))
		}
	}
	return w
}

// cellWidth is the width of the widest line of a cell.
func cellWidth(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		n = max(n, text.StringWidthWithoutEscSequences(line))
	}
	return n
}

// fitWidth returns the widest column width limit at which a table of
// columns this wide fits in total terminal columns (a light-style table
// takes 3 columns of border and padding per column, plus 1), and false
// when even columns of minColumn do not fit.
func fitWidth(widths []int, total int) (int, bool) {
	room := total - 3*len(widths) - 1
	need := func(limit int) int {
		n := 0
		for _, w := range widths {
			n += min(w, limit)
		}
		return n
	}
	widest := 0
	for _, w := range widths {
		widest = max(widest, w)
	}
	if need(widest) <= room {
		return widest, true
	}
	if need(minColumn) > room {
		return 0, false
	}
	lo, hi := minColumn, widest // need(lo) fits, need(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if need(mid) <= room {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, true
}

// cut shortens s to at most n display columns, ending in "…" when cut.
// Multi-line cells are cut line by line.
func cut(s string, n int) string {
	if strings.IndexByte(s, '\n') >= 0 {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = cut(l, n)
		}
		return strings.Join(lines, "\n")
	}
	if text.StringWidthWithoutEscSequences(s) <= n {
		return s
	}
	w := 0
	for i, r := range s {
		rw := text.RuneWidth(r)
		if w+rw > n-1 {
			return s[:i] + "…"
		}
		w += rw
	}
	return s
}
