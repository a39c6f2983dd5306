//go:build sqlite_vtable

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/jjsql/jjsql/vtab"
)

// TestMain lets the REPL tests run this test binary as jjsql: with
// JJSQL_TEST_MAIN=1 it is jjsql, its arguments jjsql's.
func TestMain(m *testing.M) {
	if os.Getenv("JJSQL_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const (
	termCols = 120
	termRows = 40
	prompt   = "jjsql> "
)

// session is jjsql running on a pseudo-terminal, its screen modelled.
type session struct {
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	scr  *screen
	done chan struct{} // closed when the terminal's output ends
	err  error         // of cmd.Wait
}

// repoRoot is where the sessions run, so queries name testdata/sample.pcap.
func repoRoot(t *testing.T) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// startREPL runs jjsql with args on a new terminal, with history kept in
// hist.
func startREPL(t *testing.T, hist string, args ...string) *session {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "JJSQL_TEST_MAIN=1", "JJSQL_HISTORY="+hist, "TERM=xterm", "LANG=C.UTF-8")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: termRows, Cols: termCols})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{cmd: cmd, pty: f, scr: newScreen(termCols, termRows), done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.scr.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				close(s.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	return s
}

// text returns the whole session as shown.
func (s *session) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scr.text()
}

func (s *session) cursorLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scr.cursorLine()
}

// waitFor waits until cond holds for the screen, failing the test after
// timeout.
func (s *session) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, s.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send types keys.
func (s *session) send(t *testing.T, keys string) {
	t.Helper()
	if _, err := s.pty.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// do types keys and waits until the screen shows want once more than it
// did before; it returns the whole session's text.
func (s *session) do(t *testing.T, keys, want string) string {
	t.Helper()
	before := strings.Count(s.text(), want)
	s.send(t, keys)
	s.waitFor(t, want, 30*time.Second, func() bool { return strings.Count(s.text(), want) > before })
	return s.text()
}

// atPrompt waits for an empty prompt on the cursor line.
func (s *session) atPrompt(t *testing.T) {
	t.Helper()
	s.waitFor(t, "the prompt", 30*time.Second, func() bool { return s.cursorLine() == strings.TrimSpace(prompt) })
}

// wait waits for jjsql to end and returns its exit error.
func (s *session) wait(t *testing.T) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- s.cmd.Wait() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("jjsql did not exit; screen:\n%s", s.text())
		return nil
	}
}

// after returns the text after the last occurrence of marker.
func after(text, marker string) string {
	if i := strings.LastIndex(text, marker); i >= 0 {
		return text[i+len(marker):]
	}
	return ""
}

func wantLines(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("missing line %q in:\n%s", w, got)
		}
	}
}

// TestREPLTerminal drives jjsql's shell as a person would, on a real
// pseudo-terminal: a statement over three lines, the table it shows, csv
// mode, completion of a column name, .features, Ctrl-C during a long query
// and on a half-typed line, Ctrl-D; then a second session that recalls the
// first session's statement with the up arrow.
func TestREPLTerminal(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history")
	s := startREPL(t, hist) // no query on a terminal: the shell
	s.atPrompt(t)
	if !strings.Contains(s.text(), `Enter ".help" for the commands.`) {
		t.Errorf("no banner:\n%s", s.text())
	}

	t.Run("multi-line statement", func(t *testing.T) {
		s.do(t, "SELECT dst_port, count(*) AS flows\r", "   ...>")
		s.do(t, "FROM flows('testdata/sample.pcap')\r", "   ...>")
		out := s.do(t, "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;\r", "└")
		s.atPrompt(t)
		wantLines(t, after(out, "LIMIT 3;\n"),
			"┌──────────┬───────┐",
			"│ dst_port │ flows │",
			"├──────────┼───────┤",
			"│       80 │     9 │",
			"│       53 │     5 │",
			"│        0 │     3 │",
			"└──────────┴───────┘",
		)
	})

	t.Run("csv mode", func(t *testing.T) {
		s.do(t, ".mode csv\r", prompt)
		s.atPrompt(t)
		out := s.do(t, "SELECT protocol, count(*) FROM flows('testdata/sample.pcap') GROUP BY 1;\r", "58,1")
		s.atPrompt(t)
		wantLines(t, after(out, "GROUP BY 1;\n"), "protocol,count(*)", "1,2", "6,23", "17,12", "58,1")
	})

	t.Run("tab completes a column name", func(t *testing.T) {
		s.send(t, "SELECT tls_sn")
		s.waitFor(t, "typed text", 5*time.Second, func() bool { return strings.HasSuffix(s.cursorLine(), "tls_sn") })
		s.send(t, "\t")
		s.waitFor(t, "completion", 5*time.Second, func() bool { return strings.HasSuffix(s.cursorLine(), "SELECT tls_sni") })
		out := s.do(t, " FROM flows('testdata/sample.pcap') WHERE tls_sni <> '' LIMIT 1;\r", "example.test")
		s.atPrompt(t)
		wantLines(t, after(out, "LIMIT 1;\n"), "tls_sni", "example.test")

		// Two tabs on an ambiguous prefix list the choices.
		s.send(t, "SELECT tls_ci\t\t")
		s.waitFor(t, "the choices", 5*time.Second, func() bool {
			txt := s.text()
			return strings.Contains(txt, "tls_cipher_count") && strings.Contains(txt, "tls_cipher_suite")
		})
		s.send(t, "\x03") // Ctrl-C clears the line
		s.atPrompt(t)
	})

	t.Run(".features tls", func(t *testing.T) {
		s.do(t, ".mode table\r", prompt)
		s.atPrompt(t)
		out := s.do(t, ".features tls\r", "│ ja4_r")
		s.atPrompt(t)
		out = after(out, ".features tls\n")
		for _, w := range []string{"│ name ", "│ dtype ", "│ tls_sni ", "│ ja3 ", "│ ja3s ", "│ tls_cipher_count "} {
			if !strings.Contains(out, w) {
				t.Errorf(".features tls: no %q in\n%s", w, out)
			}
		}
	})

	t.Run("Ctrl-C stops a long query", func(t *testing.T) {
		// A triple cross join of the sample's 396 packets: 62 million rows,
		// the inner tables rescanned for each outer row.
		q := "SELECT count(*) FROM packets('testdata/sample.pcap') a, packets('testdata/sample.pcap') b, packets('testdata/sample.pcap') c;\r"
		s.send(t, q)
		s.waitFor(t, "the query to start", 5*time.Second, func() bool { return strings.Contains(s.text(), "c;\n") && s.cursorLine() == "" })
		time.Sleep(700 * time.Millisecond)
		if strings.Contains(after(s.text(), "c;\n"), "count") {
			t.Fatalf("the query ended before Ctrl-C:\n%s", s.text())
		}
		start := time.Now()
		s.do(t, "\x03", "Error: interrupted")
		s.atPrompt(t)
		t.Logf("Ctrl-C to the prompt: %v", time.Since(start))
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("the query stopped %v after Ctrl-C", el)
		}
		// The connection still works.
		out := s.do(t, "SELECT 6 * 7 AS answer;\r", "│     42 │")
		s.atPrompt(t)
		wantLines(t, after(out, "answer;\n"), "│ answer │", "│     42 │")
	})

	t.Run("Ctrl-C clears a half-typed line", func(t *testing.T) {
		s.send(t, "SELECT nothing_")
		s.waitFor(t, "typed text", 5*time.Second, func() bool { return strings.HasSuffix(s.cursorLine(), "nothing_") })
		s.do(t, "\x03", "^C")
		s.atPrompt(t)
		out := s.do(t, ".mode\r", "mode: table")
		s.atPrompt(t)
		if strings.Contains(after(out, "^C"), "nothing_") || strings.Contains(out, "no such column") {
			t.Errorf("the line was not cleared:\n%s", out)
		}
	})

	t.Run("Ctrl-D exits with status 0", func(t *testing.T) {
		s.send(t, "\x04")
		if err := s.wait(t); err != nil {
			t.Fatalf("exit: %v\n%s", err, s.text())
		}
	})

	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	histLines := strings.Split(strings.TrimSpace(string(b)), "\n")
	joined := "SELECT dst_port, count(*) AS flows FROM flows('testdata/sample.pcap') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;"
	if len(histLines) == 0 || histLines[0] != joined {
		t.Errorf("history file:\n%s\nwant first %q", b, joined)
	}
	if last := histLines[len(histLines)-1]; last != ".mode" {
		t.Errorf("last history entry = %q, want .mode", last)
	}

	t.Run("second session recalls history", func(t *testing.T) {
		s2 := startREPL(t, hist, "repl")
		s2.atPrompt(t)
		s2.send(t, "\x1b[A") // up: the last entry
		s2.waitFor(t, "the last entry", 5*time.Second, func() bool { return s2.cursorLine() == prompt+".mode" })
		s2.send(t, "\x15") // Ctrl-U: clear
		s2.waitFor(t, "an empty line", 5*time.Second, func() bool { return s2.cursorLine() == strings.TrimSpace(prompt) })
		s2.send(t, "SELECT dst\x1b[A") // up with a prefix: the last entry that starts so
		s2.waitFor(t, "the recalled statement", 5*time.Second, func() bool {
			txt := s2.text()
			i := strings.LastIndex(txt, prompt)
			return i >= 0 && strings.HasPrefix(txt[i:], prompt+joined[:60])
		})
		out := s2.do(t, "\r", "└")
		s2.atPrompt(t)
		wantLines(t, after(out, "LIMIT 3;\n"), "│ dst_port │ flows │", "│       80 │     9 │")
		s2.do(t, ".quit\r", ".quit")
		if err := s2.wait(t); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})
}

// TestREPLWideResults checks that results wider than the terminal stay
// readable: long cells are cut to fit, and a result with more columns than
// fit is shown in line mode.
func TestREPLWideResults(t *testing.T) {
	s := startREPL(t, filepath.Join(t.TempDir(), "history"), "repl")
	s.atPrompt(t)
	out := s.do(t, "SELECT src_ip, ja4, ja4_r, tls_cipher_count FROM flows('testdata/sample.pcap') WHERE tls_detected AND protocol = 6 ORDER BY flow_uid LIMIT 1;\r", "└")
	s.atPrompt(t)
	out = after(out, "LIMIT 1;\n")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, prompt) {
			break
		}
		if w := len([]rune(l)); w > termCols {
			t.Errorf("line of %d columns on a %d-column terminal: %s", w, termCols, l)
		}
	}
	if !strings.Contains(out, "t13d0312h2_1301,1302,1303_0005,000a,") || !strings.Contains(out, "… │") {
		t.Errorf("ja4_r not cut to fit:\n%s", out)
	}
	out = s.do(t, "SELECT * FROM flows('testdata/sample.pcap') WHERE tls_detected AND protocol = 6 ORDER BY flow_uid LIMIT 1;\r", "flow_uid = ")
	s.atPrompt(t)
	out = after(out, "LIMIT 1;\n")
	visible := 0
	for _, c := range vtab.NewFlowsTable(vtab.NewEnv()).Columns() {
		if !c.Hidden {
			visible++
		}
	}
	wantLines(t, out, fmt.Sprintf("(%d columns do not fit in %d terminal columns: shown in line mode)", visible, termCols))
	for _, w := range []string{"tls_sni = example.test", "ja4 = t13d0312h2_55b375c5d22e_4a12575e92d6", "src_ip = 192.168.1.10"} {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("line mode: no %q", w)
		}
	}
	s.send(t, "\x04")
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
}

// TestREPLScript runs the shell on standard input that is not a terminal
// (no prompts, no history): .open and a join with the attached file,
// .read, .export, .headers, .schema with its hidden argument columns.
func TestREPLScript(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join(repoRoot(t), "testdata", "sample.pcap")
	setup := filepath.Join(dir, "setup.sql")
	os.WriteFile(setup, []byte("CREATE TABLE labels.hosts(ip TEXT PRIMARY KEY, name TEXT);\n"+
		"INSERT INTO labels.hosts VALUES\n  ('203.0.113.10', 'web'),\n  ('198.51.100.50', 'dns');\n"), 0o644)
	input := strings.Join([]string{
		".open " + filepath.Join(dir, "labels.db"),
		".read " + setup,
		".mode csv",
		"SELECT h.name, count(*) AS flows",
		"  FROM flows('" + sample + "') f JOIN labels.hosts h ON h.ip = f.dst_ip",
		"  GROUP BY 1 ORDER BY 1;",
		".export " + filepath.Join(dir, "out.jsonl"),
		".export " + filepath.Join(dir, "ports.tsv") + " SELECT DISTINCT dst_port FROM flows('" + sample + "') WHERE protocol = 17 ORDER BY 1 LIMIT 3",
		".export " + filepath.Join(dir, "x.xlsx"),
		".export " + filepath.Join(dir, "flows.parquet") + " SELECT flow_uid, likely_tor, total_packets FROM flows('" + sample + "')",
		".headers off",
		"SELECT count(*) FROM packets('" + sample + "');",
		".schema packets",
	}, "\n")
	cmd := exec.Command(os.Args[0], "repl")
	cmd.Env = append(os.Environ(), "JJSQL_TEST_MAIN=1", "JJSQL_HISTORY="+filepath.Join(dir, "history"))
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit = %v, want status 1 (the .xlsx export failed)", err)
	}
	out := stdout.String()
	wantLines(t, out,
		"attached "+filepath.Join(dir, "labels.db")+" as labels (a new, empty database): its tables are labels.TABLE",
		"name,flows", "dns,1", "web,6",
		"wrote 2 rows to "+filepath.Join(dir, "out.jsonl"),
		"wrote 3 rows to "+filepath.Join(dir, "ports.tsv"),
		"wrote "+filepath.Join(dir, "flows.parquet"),
		"504",
		"CREATE TABLE packets(  -- table function: packets(path, flow_timeout, terminate_on_fin_rst, max_concurrent_flows, flow_eviction_strategy, sampling_rate, sampling_seed, anonymize_ips, anonymization_salt, burst_threshold_ms, entropy_sample_bytes, connection_use_ports, max_sequence_length, max_packet_records)",
		"  src_ip TEXT,",
		"  payload BLOB,",
		"  path TEXT HIDDEN,  -- argument 1: capture file, glob or directory",
		"  flow_timeout REAL HIDDEN,  -- argument 2: idle timeout in seconds",
		"  max_sequence_length INTEGER HIDDEN,  -- argument 13: packets in the per-packet sequence columns",
		"  max_packet_records INTEGER HIDDEN  -- argument 14: per-packet records one flow keeps (0 = no cap); statistics over packets beyond it are not exact (docs/MEMORY.md)",
		");",
	)
	if strings.Contains(out, "count(*)\n") {
		t.Errorf(".headers off: header printed:\n%s", out)
	}
	wantLines(t, stderr.String(), "Error: "+filepath.Join(dir, "x.xlsx")+": unknown extension .xlsx (want one of .csv, .json, .jsonl, .markdown, .md, .ndjson, .tsv, .txt)")
	for file, want := range map[string]string{
		"out.jsonl": "{\"name\":\"dns\",\"flows\":1}\n{\"name\":\"web\",\"flows\":6}\n",
		"ports.tsv": "dst_port\n53\n123\n514\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", file, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "history")); !os.IsNotExist(err) {
		t.Errorf("a script wrote history (%v)", err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "flows.parquet labels.db out.jsonl ports.tsv setup.sql" {
		t.Errorf("files: %s", got)
	}
	// .export to Parquet went through the export package: DuckDB reads it
	// back with the registry's types.
	check := exec.Command(os.Args[0], "--engine", "duckdb", "--format", "csv",
		"SELECT count(*), sum(total_packets), any_value(typeof(likely_tor)) FROM read_parquet('"+filepath.Join(dir, "flows.parquet")+"')")
	check.Env = append(os.Environ(), "JJSQL_TEST_MAIN=1")
	got, err := check.Output()
	if err != nil || !strings.HasSuffix(string(got), "\n38,504,BOOLEAN\n") {
		t.Errorf("flows.parquet read back: %q (%v), want 38 flows, 504 packets, likely_tor BOOLEAN", got, err)
	}
}

// repeatCapture writes the sample capture copies times over, each copy an
// hour after the previous one, into dir.
func repeatCapture(t *testing.T, dir string, copies int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "sample.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatal("sample.pcap: want a little-endian microsecond pcap")
	}
	out := append([]byte(nil), b[:24]...)
	for i := 0; i < copies; i++ {
		for off := 24; off+16 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[off+8:]))
			rec := append([]byte(nil), b[off:off+16+n]...)
			binary.LittleEndian.PutUint32(rec, binary.LittleEndian.Uint32(rec)+uint32(i*3600))
			out = append(out, rec...)
			off += 16 + n
		}
	}
	path := filepath.Join(dir, "big.pcap")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestREPLProgress scans a large capture: after half a second the progress
// line shows on the terminal (standard error), Ctrl-C stops the scan, and
// the line is gone when the error shows.
func TestREPLProgress(t *testing.T) {
	dir := t.TempDir()
	big := repeatCapture(t, dir, 300)
	fi, err := os.Stat(big)
	if err != nil {
		t.Fatal(err)
	}
	s := startREPL(t, filepath.Join(dir, "history"))
	s.atPrompt(t)
	s.do(t, ".output /dev/null\r", prompt)
	s.atPrompt(t)
	s.send(t, "SELECT * FROM flows('"+big+"');\r")
	total := fmt.Sprintf(" of %.1f MiB (", float64(fi.Size())/(1<<20))
	var line string
	s.waitFor(t, "the progress line", 60*time.Second, func() bool {
		line = s.cursorLine()
		return strings.HasPrefix(line, "scanning: ") && strings.Contains(line, total)
	})
	if !strings.Contains(line, " packets, ") || !strings.HasSuffix(line, " packets/s (Ctrl-C stops)") {
		t.Errorf("progress line %q", line)
	}
	s.do(t, "\x03", "Error: interrupted")
	s.atPrompt(t)
	txt := s.text()
	if i := strings.LastIndex(txt, "Error: interrupted"); strings.Contains(txt[i:], "scanning") {
		t.Errorf("the progress line stayed:\n%s", txt)
	}
	if strings.Contains(after(txt, big+"');\n"), "scanning:") {
		t.Errorf("the progress line was not cleared:\n%s", txt)
	}
	s.send(t, "\x04")
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
}
