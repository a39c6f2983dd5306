// Package repl is jjsql's interactive shell: line editing and history
// (github.com/peterh/liner), statements over several lines ended by ";",
// completion of SQL words, tables, feature columns and file names, dot
// commands in the style of the sqlite3 shell, results rendered to fit the
// terminal, Ctrl-C to stop a running query, and scan progress on standard
// error.
//
// The shell runs on any database/sql handle whose connections carry jjsql's
// tables (vtab.Tables); it keeps one connection for the session, so
// attachments and temporary tables last until it ends.
package repl

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"github.com/jjsql/jjsql/extractors"
	"github.com/jjsql/jjsql/functions"
	"github.com/jjsql/jjsql/output"
	"github.com/jjsql/jjsql/vtab"
)

// Config is what a shell runs on.
type Config struct {
	// DB has jjsql's tables on every connection; Env is the environment of
	// those tables (the shell sets its Warn and Progress).
	DB  *sql.DB
	Env *vtab.Env
	// Mode is the first output mode ("" for table); Output, when set, is a
	// file the results go to (as after .output FILE).
	Mode   string
	Output string
	// Quiet drops warnings.
	Quiet   bool
	Version string
	// HistoryFile is where the input history is kept; "" means
	// HistoryFile().
	HistoryFile string
	// Export, when set, writes the result of query to path for the file
	// kinds the output package does not know (.parquet, .duckdb, .db:
	// jjsql passes the export package here, so the shell itself does not
	// link DuckDB).
	Export func(ctx context.Context, query, path string) error
	// ExportExts are the extensions Export writes (".parquet", ...).
	ExportExts []string
}

// HistoryFile returns where the history is kept: $JJSQL_HISTORY, else
// jjsql/history in the user's configuration directory, else ~/.jjsql_history.
func HistoryFile() string {
	if p := os.Getenv("JJSQL_HISTORY"); p != "" {
		return p
	}
	if d, err := os.UserConfigDir(); err == nil {
		return d + string(os.PathSeparator) + "jjsql" + string(os.PathSeparator) + "history"
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h + string(os.PathSeparator) + ".jjsql_history"
	}
	return ""
}

// errInterrupted is the error of a query stopped by Ctrl-C.
var errInterrupted = errors.New("interrupted")

type shell struct {
	cfg         Config
	conn        *sql.Conn
	ln          *liner.State
	stdout      *os.File
	stderr      *os.File
	interactive bool // standard input and output are a terminal
	outFile     *os.File
	outName     string
	mode        string
	headers     bool
	timer       bool
	last        string // the last statement that returned rows
	tables      []vtab.Table
	comp        *completer
	histPath    string
	histWarned  bool
	prog        *progress
	depth       int // .read nesting
	failed      bool

	mu     sync.Mutex
	cancel context.CancelFunc // of the running query
	warned map[string]bool
}

// Run runs the shell on the process's standard input and output until
// end of input (Ctrl-D) or .quit, and returns the exit status.
func Run(cfg Config) int {
	s := &shell{
		cfg: cfg, stdout: os.Stdout, stderr: os.Stderr,
		mode: cfg.Mode, headers: true, warned: map[string]bool{},
		interactive: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())),
	}
	if s.mode == "" {
		s.mode = "table"
	}
	if _, err := newWriter(s.mode, true, io.Discard, 0, nil); err != nil {
		fmt.Fprintln(s.stderr, "jjsql:", err)
		return 2
	}
	conn, err := cfg.DB.Conn(context.Background())
	if err != nil {
		fmt.Fprintln(s.stderr, "jjsql:", err)
		return 1
	}
	defer conn.Close()
	s.conn = conn
	s.prog = &progress{w: s.stderr, show: term.IsTerminal(int(s.stderr.Fd()))}
	if cfg.Env != nil {
		cfg.Env.Progress = s.prog.update
		cfg.Env.Warn = s.warn
		s.tables = vtab.Tables(cfg.Env)
	}
	s.comp = newCompleter(s.tables)
	if cfg.Output != "" {
		if !s.dot(".output " + quoteArg(cfg.Output)) {
			return 1
		}
	}
	defer s.closeOutput()

	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt)
	defer signal.Stop(sigc)
	go func() {
		for range sigc {
			s.mu.Lock()
			cancel := s.cancel
			s.mu.Unlock()
			if cancel != nil {
				cancel()
			} else if !s.interactive {
				os.Exit(130)
			}
		}
	}()

	s.histPath = cfg.HistoryFile
	if s.histPath == "" {
		s.histPath = HistoryFile()
	}
	if !s.interactive {
		return s.script(os.Stdin)
	}
	s.ln = liner.NewLiner()
	defer s.ln.Close()
	s.ln.SetCtrlCAborts(true)
	s.ln.SetMultiLineMode(true)
	s.ln.SetTabCompletionStyle(liner.TabPrints)
	s.ln.SetWordCompleter(s.comp.complete)
	if f, err := os.Open(s.histPath); err == nil {
		s.ln.ReadHistory(f)
		f.Close()
	}
	v := cfg.Version
	if v != "" {
		v = " " + v
	}
	fmt.Fprintf(s.stdout, "jjsql%s: SQL over packet captures. Enter \".help\" for the commands.\n"+
		"End statements with \";\". Ctrl-C stops a query, Ctrl-D leaves.\n", v)

	var pending string
	for {
		prompt := "jjsql> "
		if pending != "" {
			prompt = "   ...> "
		}
		line, err := s.ln.Prompt(prompt)
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			pending = "" // Ctrl-C drops the statement being typed
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(s.stdout)
			return 0
		case err != nil:
			fmt.Fprintln(s.stderr, "jjsql:", err)
			return 1
		}
		if exit, code := s.feed(line, &pending, true); exit {
			return code
		}
	}
}

// script runs commands and statements read from r (standard input that is
// not a terminal): no prompts, no history. The status is 1 when a command
// or statement failed.
func (s *shell) script(r io.Reader) int {
	br := bufio.NewReader(r)
	var pending string
	for {
		line, err := br.ReadString('\n')
		if line != "" || err == nil {
			if exit, code := s.feed(strings.TrimRight(line, "\r\n"), &pending, false); exit {
				return code
			}
		}
		if err != nil {
			if err != io.EOF {
				s.errorf("%v", err)
			}
			break
		}
	}
	if strings.TrimSpace(pending) != "" {
		s.runSQL(pending)
	}
	if s.failed {
		return 1
	}
	return 0
}

// feed takes one line of input: a dot command at the start of a statement,
// or SQL added to pending, whose complete statements it runs. It reports
// whether the shell should end, and with which status.
func (s *shell) feed(line string, pending *string, history bool) (bool, int) {
	if *pending == "" && strings.HasPrefix(strings.TrimSpace(line), ".") {
		cmd := strings.TrimSpace(line)
		if history {
			s.addHistory(cmd)
		}
		if code, ok := s.exitRequest(cmd); ok {
			return true, code
		}
		if !s.dot(cmd) {
			s.failed = true
		}
		return false, 0
	}
	if *pending == "" {
		if strings.TrimSpace(line) == "" {
			return false, 0
		}
		*pending = line
	} else {
		*pending += "\n" + line
	}
	stmts, rest := SplitComplete(*pending)
	if len(stmts) == 0 {
		return false, 0
	}
	if history {
		done := *pending
		if rest != "" {
			done = done[:len(done)-len(rest)]
		}
		for _, h := range historyItems(done) {
			s.addHistory(h)
		}
	}
	*pending = rest
	for _, st := range stmts {
		if err := s.runSQL(st); errors.Is(err, errInterrupted) {
			break
		}
	}
	return false, 0
}

// historyItems turns the lines of complete statements into history
// entries: one entry with the lines joined, unless a line comment would
// swallow the lines after it, then one entry per line.
func historyItems(text string) []string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for _, l := range lines {
		if strings.Contains(l, "--") {
			var out []string
			for _, l := range lines {
				if strings.TrimSpace(l) != "" {
					out = append(out, l)
				}
			}
			return out
		}
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return []string{strings.Join(lines, " ")}
}

func (s *shell) addHistory(item string) {
	s.ln.AppendHistory(item)
	if s.histPath == "" {
		return
	}
	if err := writeHistory(s.ln, s.histPath); err != nil && !s.histWarned {
		s.histWarned = true
		fmt.Fprintln(s.stderr, "warning: history not saved:", err)
	}
}

// writeHistory writes the history to path through a temporary file.
func writeHistory(ln *liner.State, path string) error {
	if i := strings.LastIndexByte(path, os.PathSeparator); i > 0 {
		if err := os.MkdirAll(path[:i], 0o700); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := ln.WriteHistory(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// errorf prints an error of the shell's input.
func (s *shell) errorf(format string, a ...any) {
	s.failed = true
	msg := fmt.Sprintf(format, a...)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	fmt.Fprintln(s.stderr, "Error:", msg)
}

func (s *shell) warn(msg string) {
	if s.cfg.Quiet {
		return
	}
	s.mu.Lock()
	seen := s.warned[msg]
	s.warned[msg] = true
	s.mu.Unlock()
	if seen {
		return
	}
	s.prog.clear()
	fmt.Fprintln(s.stderr, "warning:", msg)
}

// guard runs f with a context that Ctrl-C cancels, with scan progress, and
// returns errInterrupted when it was cancelled.
func (s *shell) guard(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.warned = map[string]bool{}
	s.mu.Unlock()
	s.prog.begin(ctx)
	err := f(ctx)
	s.prog.end()
	s.mu.Lock()
	s.cancel = nil
	s.mu.Unlock()
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// query runs q and writes its rows to w (Begin and Row; the caller ends
// w). It returns the rows written and whether the statement returns
// columns at all.
func (s *shell) query(ctx context.Context, w output.Writer, q string, args ...any) (int, bool, error) {
	rows, err := s.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	return output.Copy(w, rows, nil)
}

// termWriter is the shell's standard output: the first write of a result
// clears the progress line and keeps it off for the rest of the query.
type termWriter struct{ s *shell }

func (t termWriter) Write(p []byte) (int, error) {
	t.s.prog.quiet()
	return t.s.stdout.Write(p)
}

// dest returns where results go and the terminal's width (0 when the
// results do not go to a terminal).
func (s *shell) dest() (io.Writer, int) {
	if s.outFile != nil {
		return s.outFile, 0
	}
	width := 0
	if term.IsTerminal(int(s.stdout.Fd())) {
		if w, _, err := term.GetSize(int(s.stdout.Fd())); err == nil && w > 0 {
			width = w
		}
	}
	return termWriter{s}, width
}

// runSQL runs one statement and shows its result in the current mode.
func (s *shell) runSQL(stmt string) error {
	start := time.Now()
	n := 0
	hasCols := false
	err := s.guard(func(ctx context.Context) error {
		d, width := s.dest()
		bw := bufio.NewWriterSize(d, 1<<16)
		w, err := newWriter(s.mode, s.headers, bw, width, s.note)
		if err != nil {
			return err
		}
		n, hasCols, err = s.query(ctx, w, stmt)
		if err == nil && hasCols {
			err = w.End()
		}
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		return err
	})
	if err == nil && hasCols {
		s.last = stmt
	}
	if s.timer {
		fmt.Fprintf(s.stdout, "Run Time: real %.3f s, %s\n", time.Since(start).Seconds(), plural(n, "row"))
	}
	if err != nil {
		s.errorf("%v", cleanErr(err))
	}
	return err
}

// note prints a remark about a result on standard error.
func (s *shell) note(msg string) { fmt.Fprintf(s.stderr, "(%s)\n", msg) }

// cleanErr drops the package prefixes of the engine's errors.
func cleanErr(err error) string {
	msg := err.Error()
	if errors.Is(err, context.Canceled) || errors.Is(err, vtab.ErrInterrupted) || msg == "interrupted" {
		return "interrupted"
	}
	return msg
}

// newCompleter collects the names completion offers.
func newCompleter(tables []vtab.Table) *completer {
	c := &completer{funcs: map[string]bool{}, tabFunc: map[string]bool{}, cols: map[string]bool{}}
	for _, t := range tables {
		c.tables = append(c.tables, t.Name())
		c.words = append(c.words, t.Name())
		for _, col := range t.Columns() {
			if col.Kind == vtab.KindArg {
				c.tabFunc[t.Name()] = true
			}
			c.words = append(c.words, col.Name)
			c.cols[col.Name] = true
		}
	}
	for _, col := range extractors.Columns() {
		c.words = append(c.words, col.Name)
		c.cols[col.Name] = true
	}
	for _, g := range extractors.Groups() {
		c.groups = append(c.groups, g.ID)
	}
	for _, f := range functions.All() {
		c.words = append(c.words, f.Name)
		c.funcs[f.Name] = true
	}
	for _, f := range sqlFunctions {
		c.words = append(c.words, f)
		c.funcs[f] = true
	}
	for _, d := range dotCommands {
		c.dots = append(c.dots, d.name)
	}
	sort.Strings(c.tables)
	sort.Strings(c.words)
	c.words = unique(c.words)
	return c
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
