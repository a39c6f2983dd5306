package repl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/vtab"
)

type dotCommand struct {
	name, args, help string
}

// dotCommands are the shell's commands, in the order .help lists them.
var dotCommands = []dotCommand{
	{".help", "", "show this list"},
	{".tables", "", "list jjsql's tables, and the tables of the database and of .open'ed files"},
	{".schema", "[TABLE]", "show a table's columns as CREATE TABLE (hidden argument columns marked)"},
	{".features", "[GROUP]", "list the feature groups, or the features of GROUP with type, units and meaning"},
	{".mode", "MODE", "output mode: " + strings.Join(Modes, ", ")},
	{".headers", "on|off", "column names in table, csv and tsv output"},
	{".timer", "on|off", "print the run time of each statement"},
	{".output", "[FILE]", "send results to FILE; without FILE back to the screen"},
	{".read", "FILE", "run the statements and commands in FILE"},
	{".open", "FILE [NAME]", "attach the SQLite database FILE as schema NAME (default: FILE's base name), to join with"},
	{".export", "FILE [SQL]", "write the result of SQL (default: rerun the last query) to FILE, in the format of its extension: " + "EXTS"},
	{".quit", "", "leave (also .exit [CODE], or Ctrl-D)"},
}

// exitRequest reports whether cmd is .quit or .exit, and the status.
func (s *shell) exitRequest(cmd string) (int, bool) {
	args, err := splitArgs(cmd)
	if err != nil || len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case ".quit", ".q":
		return 0, true
	case ".exit":
		if len(args) > 1 {
			if n, err := strconv.Atoi(args[1]); err == nil {
				return n, true
			}
		}
		return 0, true
	}
	return 0, false
}

// dot runs a dot command; it reports false when the command failed.
func (s *shell) dot(cmd string) bool {
	args, err := splitArgs(cmd)
	if err != nil {
		s.errorf("%v", err)
		return false
	}
	if len(args) == 0 {
		return true
	}
	name, args := args[0], args[1:]
	usage := func() bool {
		for _, d := range dotCommands {
			if d.name == name {
				s.errorf("usage: %s %s", d.name, d.args)
				return false
			}
		}
		s.errorf("unknown command %q: enter \".help\" for the commands", name)
		return false
	}
	switch name {
	case ".help":
		s.help()
	case ".tables":
		return s.listTables()
	case ".schema":
		if len(args) > 1 {
			return usage()
		}
		return s.schema(strings.Join(args, ""))
	case ".features":
		if len(args) > 1 {
			return usage()
		}
		return s.features(strings.Join(args, ""))
	case ".mode":
		switch len(args) {
		case 0:
			fmt.Fprintln(s.stdout, "mode:", s.mode)
		case 1:
			if _, err := newWriter(args[0], true, io.Discard, 0, nil); err != nil {
				s.errorf("unknown mode %q (want one of %s)", args[0], strings.Join(Modes, ", "))
				return false
			}
			s.mode = args[0]
		default:
			return usage()
		}
	case ".headers", ".timer":
		if len(args) != 1 {
			return usage()
		}
		on, ok := onOff(args[0])
		if !ok {
			return usage()
		}
		if name == ".headers" {
			s.headers = on
		} else {
			s.timer = on
		}
	case ".output":
		if len(args) > 1 {
			return usage()
		}
		s.closeOutput()
		if len(args) == 1 && args[0] != "stdout" {
			f, err := os.Create(args[0])
			if err != nil {
				s.errorf("%v", err)
				return false
			}
			s.outFile, s.outName = f, args[0]
		}
	case ".read":
		if len(args) != 1 {
			return usage()
		}
		return s.read(args[0])
	case ".open":
		if len(args) < 1 || len(args) > 2 {
			return usage()
		}
		return s.open(args)
	case ".export":
		file, rest, err := cutArg(strings.TrimSpace(strings.TrimPrefix(cmd, name)))
		if err != nil || file == "" {
			return usage()
		}
		return s.export(file, strings.TrimSuffix(strings.TrimSpace(rest), ";"))
	default:
		return usage()
	}
	return true
}

func onOff(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "on", "1", "yes", "true":
		return true, true
	case "off", "0", "no", "false":
		return false, true
	}
	return false, false
}

func (s *shell) help() {
	w := 0
	for _, d := range dotCommands {
		w = max(w, len(d.name)+1+len(d.args))
	}
	exts := output.FileExtensions()
	if s.cfg.Export != nil {
		exts = append(exts, s.cfg.ExportExts...)
	}
	for _, d := range dotCommands {
		help := strings.ReplaceAll(d.help, "EXTS", strings.Join(exts, " "))
		fmt.Fprintf(s.stdout, "%-*s  %s\n", w, strings.TrimSpace(d.name+" "+d.args), help)
	}
	fmt.Fprintln(s.stdout, "\nStatements end with \";\" and may span lines. Tab completes SQL words, tables, columns,")
	fmt.Fprintln(s.stdout, "functions, and file names inside quotes. Ctrl-C stops a running query or clears the line;")
	fmt.Fprintln(s.stdout, "Ctrl-D leaves. History is kept in "+s.histPath+".")
}

func (s *shell) closeOutput() {
	if s.outFile != nil {
		s.outFile.Close()
		s.outFile, s.outName = nil, ""
	}
}

// text returns where listings go.
func (s *shell) text() io.Writer {
	d, _ := s.dest()
	return d
}

// signature is the call form of a table: flows(path, flow_timeout, ...).
func signature(t vtab.Table) string {
	var args []string
	for _, c := range t.Columns() {
		if c.Kind == vtab.KindArg {
			for len(args) <= c.Arg {
				args = append(args, "")
			}
			args[c.Arg] = c.Name
		}
	}
	if len(args) == 0 {
		return t.Name()
	}
	return t.Name() + "(" + strings.Join(args, ", ") + ")"
}

func (s *shell) table(name string) vtab.Table {
	for _, t := range s.tables {
		if strings.EqualFold(t.Name(), name) {
			return t
		}
	}
	return nil
}

// databases returns the schema names of the connection (main, temp and the
// attached files).
func (s *shell) databases() ([]string, error) {
	rows, err := s.conn.QueryContext(context.Background(), "SELECT name FROM pragma_database_list ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// userObjects returns (schema-qualified name, sql) of the tables and views
// of every database, or of those named name.
func (s *shell) userObjects(name string) ([][2]string, error) {
	dbs, err := s.databases()
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, db := range dbs {
		q := fmt.Sprintf(`SELECT name, coalesce(sql, '') FROM %s.sqlite_schema
			WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%%' AND (? = '' OR name = ? COLLATE NOCASE)
			ORDER BY name`, quoteIdent(db))
		rows, err := s.conn.QueryContext(context.Background(), q, name, name)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var n, sqlText string
			if err := rows.Scan(&n, &sqlText); err != nil {
				rows.Close()
				return nil, err
			}
			if db != "main" {
				n = db + "." + n
			}
			out = append(out, [2]string{n, sqlText})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *shell) listTables() bool {
	w := s.text()
	var names []string
	for _, t := range s.tables {
		names = append(names, t.Name())
	}
	sort.Strings(names)
	fmt.Fprintln(w, "jjsql's tables (.schema NAME for the columns):")
	columns(w, names, s.width())
	objs, err := s.userObjects("")
	if err != nil {
		s.errorf("%v", err)
		return false
	}
	if len(objs) > 0 {
		names = names[:0]
		for _, o := range objs {
			names = append(names, o[0])
		}
		fmt.Fprintln(w, "tables and views:")
		columns(w, names, s.width())
	}
	return true
}

func (s *shell) width() int {
	_, w := s.dest()
	if w == 0 {
		return 80
	}
	return w
}

// columns prints names in columns across width, sorted down the columns.
func columns(w io.Writer, names []string, width int) {
	cw := 0
	for _, n := range names {
		cw = max(cw, len(n)+2)
	}
	ncol := max(1, (width-2)/max(cw, 1))
	nrow := (len(names) + ncol - 1) / ncol
	for r := 0; r < nrow; r++ {
		var b strings.Builder
		b.WriteString("  ")
		for c := 0; c < ncol; c++ {
			if i := c*nrow + r; i < len(names) {
				fmt.Fprintf(&b, "%-*s", cw, names[i])
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// schema prints the CREATE form of a table function or of the database's
// tables; without a name, a line per table function and every table's SQL.
func (s *shell) schema(name string) bool {
	w := s.text()
	if name != "" {
		if t := s.table(name); t != nil {
			fmt.Fprint(w, createTable(t))
			return true
		}
	} else {
		for _, t := range s.tables {
			name := signature(t)
			if i := strings.Index(name, ", "); i >= 0 {
				name = name[:i] + ", ...)"
			}
			fmt.Fprintf(w, "-- %s: %d columns (.schema %s)\n", name, visible(t), t.Name())
		}
	}
	objs, err := s.userObjects(name)
	if err != nil {
		s.errorf("%v", err)
		return false
	}
	if name != "" && len(objs) == 0 {
		s.errorf("no table %q: .tables lists them", name)
		return false
	}
	for _, o := range objs {
		fmt.Fprintf(w, "%s;\n", o[1])
	}
	return true
}

func visible(t vtab.Table) int {
	n := 0
	for _, c := range t.Columns() {
		if !c.Hidden {
			n++
		}
	}
	return n
}

// createTable lists a table function's columns as a CREATE TABLE statement:
// the HIDDEN columns (arguments, aliases, optional features) are marked and
// explained.
func createTable(t vtab.Table) string {
	var b strings.Builder
	if sig := signature(t); sig != t.Name() {
		fmt.Fprintf(&b, "CREATE TABLE %s(  -- table function: %s\n", t.Name(), sig)
	} else {
		fmt.Fprintf(&b, "CREATE TABLE %s(  -- a table of jjsql\n", t.Name())
	}
	cols := t.Columns()
	for i, c := range cols {
		def := "  " + quoteIdentIfNeeded(c.Name)
		if typ := c.Type.SQL(); typ != "" {
			def += " " + typ
		}
		if c.Hidden {
			def += " HIDDEN"
		}
		if i < len(cols)-1 {
			def += ","
		}
		var comment string
		switch {
		case c.Kind == vtab.KindArg:
			comment = fmt.Sprintf("argument %d: %s", c.Arg+1, c.Doc)
		case c.Kind == vtab.KindAlias:
			comment = c.Doc
		case c.Hidden:
			comment = "not in SELECT *, read when named: " + c.Doc
		}
		if comment != "" {
			def += "  -- " + comment
		}
		b.WriteString(def + "\n")
	}
	b.WriteString(");\n")
	return b.String()
}

// features lists the feature groups, or the features of one group: from
// the features table when jjsql has one, else from the registry.
func (s *shell) features(group string) bool {
	d, width := s.dest()
	bw := bufio.NewWriter(d)
	defer bw.Flush()
	w, _ := newWriter(s.mode, s.headers, bw, width, s.note)
	if group == "" {
		w.Begin([]string{"grp", "features"})
		for _, g := range extractors.Groups() {
			w.Row([]any{g.ID, int64(len(g.Features))})
		}
		return w.End() == nil
	}
	if extractors.Lookup(group) == nil {
		s.errorf("no feature group %q: .features lists them", group)
		return false
	}
	if s.table("features") != nil {
		err := s.guard(func(ctx context.Context) error {
			_, _, err := s.query(ctx, w, "SELECT name, dtype, units, description FROM features WHERE grp = ?", group)
			if err == nil {
				err = w.End()
			}
			return err
		})
		if err != nil {
			s.errorf("%v", cleanErr(err))
			return false
		}
		return true
	}
	w.Begin([]string{"name", "dtype", "units", "description"})
	for _, c := range extractors.Columns() {
		if c.Group.ID == group {
			w.Row([]any{c.Name, c.Type.String(), c.Unit, c.Doc})
		}
	}
	return w.End() == nil
}

// read runs the commands and statements of a file.
func (s *shell) read(path string) bool {
	if s.depth >= 16 {
		s.errorf(".read nested too deeply")
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		s.errorf("%v", err)
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	var pending string
	for _, line := range strings.Split(string(b), "\n") {
		if exit, _ := s.feed(strings.TrimSuffix(line, "\r"), &pending, false); exit {
			return true // .quit in a file ends the file
		}
	}
	if strings.TrimSpace(pending) != "" {
		s.runSQL(pending)
	}
	return true
}

// open attaches a SQLite database file.
func (s *shell) open(args []string) bool {
	path := args[0]
	name := ""
	if len(args) == 2 {
		name = args[1]
	} else {
		name = schemaName(path)
	}
	_, statErr := os.Stat(path)
	if _, err := s.conn.ExecContext(context.Background(), "ATTACH DATABASE ? AS "+quoteIdent(name), path); err != nil {
		s.errorf("%v", err)
		return false
	}
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM %s.sqlite_schema WHERE type IN ('table', 'view')", quoteIdent(name))
	if err := s.conn.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		s.conn.ExecContext(context.Background(), "DETACH DATABASE "+quoteIdent(name))
		s.errorf("%s: %v", path, err)
		return false
	}
	what := fmt.Sprintf("%d tables and views", n)
	if n == 1 {
		what = "1 table or view"
	}
	if os.IsNotExist(statErr) {
		what = "a new, empty database"
	}
	fmt.Fprintf(s.stdout, "attached %s as %s (%s): its tables are %s.TABLE\n", path, name, what, name)
	return true
}

// schemaName turns a file name into a schema name: its base name without
// extension, letters, digits and underscores only.
func schemaName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range base {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "db_" + n
	}
	return n
}

// export writes the result of q (or of the last query) to file.
func (s *shell) export(file, q string) bool {
	if q == "" {
		q = s.last
	}
	if q == "" {
		s.errorf("no query to export: run one first, or give it: .export FILE SELECT ...")
		return false
	}
	stmts, rest := SplitComplete(q + ";")
	if len(stmts) != 1 || rest != "" {
		s.errorf(".export takes one statement")
		return false
	}
	w, err := output.CreateFile(file)
	if err != nil && s.cfg.Export != nil && !output.KnownFileExtension(file) &&
		slices.Contains(s.cfg.ExportExts, strings.ToLower(filepath.Ext(file))) {
		err = s.guard(func(ctx context.Context) error { return s.cfg.Export(ctx, stmts[0], file) })
		if err != nil {
			s.errorf("%s (nothing written to %s)", cleanErr(err), file)
			return false
		}
		fmt.Fprintf(s.stdout, "wrote %s\n", file)
		return true
	}
	if err != nil {
		s.errorf("%s", strings.TrimPrefix(err.Error(), "output: "))
		return false
	}
	var n int
	err = s.guard(func(ctx context.Context) error {
		var hasCols bool
		var err error
		n, hasCols, err = s.query(ctx, w, stmts[0])
		if err == nil && !hasCols {
			err = fmt.Errorf("the statement returns no rows to export")
		}
		if err == nil {
			err = w.End()
		}
		return err
	})
	if err != nil {
		w.Abort()
		s.errorf("%s (nothing written to %s)", strings.TrimPrefix(cleanErr(err), "output: "), file)
		return false
	}
	fmt.Fprintf(s.stdout, "wrote %d rows to %s\n", n, file)
	return true
}

// splitArgs splits a command line into words; single or double quotes
// group words.
func splitArgs(line string) ([]string, error) {
	var out []string
	for strings.TrimSpace(line) != "" {
		arg, rest, err := cutArg(line)
		if err != nil {
			return nil, err
		}
		out = append(out, arg)
		line = rest
	}
	return out, nil
}

// cutArg cuts the first word off line.
func cutArg(line string) (arg, rest string, err error) {
	line = strings.TrimLeft(line, " \t")
	if line == "" {
		return "", "", nil
	}
	if q := line[0]; q == '\'' || q == '"' {
		j := closeQuote(line, 0, q)
		if j < 0 {
			return "", "", fmt.Errorf("unclosed %c in %s", q, line)
		}
		return strings.ReplaceAll(line[1:j], string([]byte{q, q}), string(q)), line[j+1:], nil
	}
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		return line[:i], line[i:], nil
	}
	return line, "", nil
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteIdentIfNeeded(s string) string {
	if isIdent(s) {
		return s
	}
	return quoteIdent(s)
}
