package repl

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jjsql/jjsql/vtab"
)

func TestSplitComplete(t *testing.T) {
	for _, tc := range []struct {
		in    string
		stmts []string
		rest  string
	}{
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1;\nSELECT 2; SELECT", []string{"SELECT 1", "SELECT 2"}, " SELECT"},
		{"SELECT ';'", nil, "SELECT ';'"},
		{"SELECT 'a;\nb'", nil, "SELECT 'a;\nb'"},
		{"SELECT 'it''s;';", []string{"SELECT 'it''s;'"}, ""},
		{`SELECT "a;b" FROM [x;y];`, []string{`SELECT "a;b" FROM [x;y]`}, ""},
		{"SELECT 1 -- no; end\n", nil, "SELECT 1 -- no; end\n"},
		{"SELECT 1 -- no; end\n;", []string{"SELECT 1 -- no; end"}, ""},
		{"SELECT /* ; */ 1;", []string{"SELECT /* ; */ 1"}, ""},
		{"SELECT 1; -- done", []string{"SELECT 1"}, ""},
		{"/* open comment ;", nil, "/* open comment ;"},
		{";;  ;", nil, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			stmts, rest := SplitComplete(tc.in)
			if !reflect.DeepEqual(stmts, tc.stmts) || rest != tc.rest {
				t.Errorf("SplitComplete(%q) = %q, %q; want %q, %q", tc.in, stmts, rest, tc.stmts, tc.rest)
			}
		})
	}
}

func TestHistoryItems(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"SELECT a,\n  b\nFROM t;", []string{"SELECT a, b FROM t;"}},
		{"SELECT a -- the key\nFROM t;", []string{"SELECT a -- the key", "FROM t;"}},
		{"  SELECT 1;  ", []string{"SELECT 1;"}},
	} {
		if got := historyItems(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("historyItems(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestComplete(t *testing.T) {
	c := newCompleter(vtab.Tables(vtab.NewEnv()))
	for _, tc := range []struct {
		line       string
		head, tail string
		want       []string // all of these among the completions
		not        []string // none of these
	}{
		{"SELECT tls_sn", "SELECT ", "", []string{"tls_sni"}, []string{"tls_sni("}},
		{"select ja3", "select ", "", []string{"ja3", "ja3s", "ja3_hash", "ja3s_hash"}, nil},
		{"SEL", "", "", []string{"SELECT"}, []string{"select"}},
		{"sel", "", "", []string{"select"}, nil},
		{"SELECT * FROM flo", "SELECT * FROM ", "", []string{"flows(", "flow_uid"}, nil},
		{"SELECT entr", "SELECT ", "", []string{"entropy("}, nil},
		{"SELECT payload_l", "SELECT ", "", []string{"payload_len"}, nil},
		{".mo", "", "", []string{".mode"}, nil},
		{".mode j", ".mode ", "", []string{"json", "jsonl"}, []string{"csv"}},
		{".features t", ".features ", "", []string{"tls", "timing"}, []string{"dns"}},
		{".schema ", ".schema ", "", []string{"flows", "packets"}, nil},
		{".headers o", ".headers ", "", []string{"on", "off"}, nil},
		{"SELECT * FROM flows('../testdata/sam", "SELECT * FROM flows('", "", []string{"../testdata/sample.pcap", "../testdata/sample.pcapng"}, nil},
		{".read ../testd", ".read ", "", []string{"../testdata/"}, nil},
	} {
		t.Run(tc.line, func(t *testing.T) {
			head, got, tail := c.complete(tc.line, len([]rune(tc.line)))
			if head != tc.head || tail != tc.tail {
				t.Errorf("head, tail = %q, %q; want %q, %q", head, tail, tc.head, tc.tail)
			}
			has := map[string]bool{}
			for _, g := range got {
				has[g] = true
			}
			for _, w := range tc.want {
				if !has[w] {
					t.Errorf("no %q among %q", w, got)
				}
			}
			for _, w := range tc.not {
				if has[w] {
					t.Errorf("%q among %q", w, got)
				}
			}
		})
	}
	// The cursor in the middle of the line: the tail is kept.
	head, got, tail := c.complete("SELECT tls_sn FROM x", len("SELECT tls_sn"))
	if head != "SELECT " || tail != " FROM x" || len(got) != 1 || got[0] != "tls_sni" {
		t.Errorf("mid-line: %q %q %q", head, got, tail)
	}
}

func TestFitWidth(t *testing.T) {
	for _, tc := range []struct {
		widths []int
		total  int
		limit  int
		ok     bool
	}{
		{[]int{10, 20}, 80, 20, true},                       // fits as is
		{[]int{10, 100}, 80, 63, true},                      // 80 - 2*3 - 1 = 73 columns of text: 10 + 63
		{[]int{50, 50, 50}, 80, 23, true},                   // 70 of text: three of 23
		{[]int{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, 80, 0, false}, // 49 of text: not 10 columns of 8
		{[]int{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, 111, 8, true}, // 80 of text: 10 columns of 8
		{make([]int, 30), 80, 0, false},                     // the borders alone are too wide
	} {
		limit, ok := fitWidth(tc.widths, tc.total)
		if ok != tc.ok || ok && limit != tc.limit {
			t.Errorf("fitWidth(%v, %d) = %d, %v; want %d, %v", tc.widths, tc.total, limit, ok, tc.limit, tc.ok)
		}
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"example.test", 20, "example.test"},
		{"example.test", 12, "example.test"},
		{"example.test", 8, "example…"},
		{"ab\ncdefgh", 4, "ab\ncde…"},
		{"日本語テキスト", 7, "日本語…"},
	} {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var b strings.Builder
	w, _ := newWriter("line", true, &b, 0, nil)
	w.Begin([]string{"src_ip", "ja3", "duration"})
	w.Row([]any{"10.0.0.1", "abc", 1.5})
	w.Row([]any{"10.0.0.2", nil, int64(2)})
	w.End()
	want := "  src_ip = 10.0.0.1\n     ja3 = abc\nduration = 1.5\n\n  src_ip = 10.0.0.2\n     ja3 = \nduration = 2\n"
	if b.String() != want {
		t.Errorf("line mode:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTableWriter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		width   int
		headers bool
		want    string
		note    string
	}{
		{"fits in 80", 80, true, "" +
			"┌───────┬────────────────────────────┬───────┐\n" +
			"│ proto │ sni                        │ n     │\n" +
			"├───────┼────────────────────────────┼───────┤\n" +
			"│ tcp   │ a-rather-long-name.example │    20 │\n" +
			"│ udp   │                            │ 14000 │\n" +
			"└───────┴────────────────────────────┴───────┘\n", ""},
		{"cut to 40", 40, true, "" +
			"┌───────┬──────────────────────┬───────┐\n" +
			"│ proto │ sni                  │ n     │\n" +
			"├───────┼──────────────────────┼───────┤\n" +
			"│ tcp   │ a-rather-long-name.… │    20 │\n" +
			"│ udp   │                      │ 14000 │\n" +
			"└───────┴──────────────────────┴───────┘\n", ""},
		{"cut to 30", 30, true, "" +
			"┌───────┬────────────┬───────┐\n" +
			"│ proto │ sni        │ n     │\n" +
			"├───────┼────────────┼───────┤\n" +
			"│ tcp   │ a-rather-… │    20 │\n" +
			"│ udp   │            │ 14000 │\n" +
			"└───────┴────────────┴───────┘\n", ""},
		{"25 is too narrow: line mode", 25, true, "" +
			"proto = tcp\n  sni = a-rather-long-name.example\n    n = 20\n\n" +
			"proto = udp\n  sni = \n    n = 14000\n",
			"3 columns do not fit in 25 terminal columns: shown in line mode"},
		{"a file, no headers", 0, false, "" +
			"┌─────┬────────────────────────────┬───────┐\n" +
			"│ tcp │ a-rather-long-name.example │    20 │\n" +
			"│ udp │                            │ 14000 │\n" +
			"└─────┴────────────────────────────┴───────┘\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			var note string
			w, _ := newWriter("table", tc.headers, &b, tc.width, func(s string) { note = s })
			w.Begin([]string{"proto", "sni", "n"})
			w.Row([]any{"tcp", "a-rather-long-name.example", int64(20)})
			w.Row([]any{"udp", nil, int64(14000)})
			w.End()
			if b.String() != tc.want || note != tc.note {
				t.Errorf("got\n%s(note %q)\nwant\n%s(note %q)", b.String(), note, tc.want, tc.note)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		bytes, total, packets uint64
		el                    time.Duration
		want                  string
	}{
		{150 << 20, 600 << 20, 2_500_000, 2 * time.Second, "scanning: 150.0 MiB of 600.0 MiB (25%), 2.5M packets, 1.2M packets/s (Ctrl-C stops)"},
		{5000, 0, 40, time.Second, "scanning: 4.9 KiB, 40 packets, 40 packets/s (Ctrl-C stops)"},
		{3 << 30, 1 << 30, 50_000, 10 * time.Second, "scanning: 3.0 GiB, 50k packets, 5000 packets/s (Ctrl-C stops)"}, // gzip: past the total
	} {
		if got := progressLine(tc.bytes, tc.total, tc.packets, tc.el); got != tc.want {
			t.Errorf("progressLine = %q, want %q", got, tc.want)
		}
	}
}

func TestProgressUpdate(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, show: true}
	if !p.update(1, 2, 3) || b.Len() != 0 {
		t.Fatalf("outside a query: drew %q", b.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.begin(ctx)
	if !p.update(1, 2, 3) || b.Len() != 0 {
		t.Fatalf("before progressDelay: drew %q", b.String())
	}
	p.start = time.Now().Add(-time.Second)
	if !p.update(1<<20, 4<<20, 1000) || !strings.HasPrefix(b.String(), "\r\x1b[Kscanning: 1.0 MiB of 4.0 MiB (25%), 1000 packets") {
		t.Fatalf("drew %q", b.String())
	}
	b.Reset()
	p.quiet() // the result began on the terminal
	if b.String() != "\r\x1b[K" {
		t.Errorf("quiet wrote %q, want the line cleared", b.String())
	}
	b.Reset()
	if !p.update(2<<20, 4<<20, 2000) || b.Len() != 0 {
		t.Errorf("after quiet: drew %q", b.String())
	}
	cancel()
	if p.update(3<<20, 4<<20, 3000) {
		t.Errorf("a cancelled query's scan goes on")
	}
	p.end()
	if !p.update(1, 2, 3) {
		t.Errorf("after the query: stopped a scan")
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{".open labels.db", []string{".open", "labels.db"}},
		{".open 'my labels.db' lab", []string{".open", "my labels.db", "lab"}},
		{`.output "it''s.csv"`, []string{".output", "it''s.csv"}},
		{`.output 'it''s.csv'`, []string{".output", "it's.csv"}},
		{"  .tables  ", []string{".tables"}},
	} {
		got, err := splitArgs(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitArgs(".open 'x"); err == nil {
		t.Errorf("unclosed quote: no error")
	}
	for in, want := range map[string]string{
		"labels.db": "labels", "/tmp/my-labels.v2.sqlite": "my_labels_v2", "2024.db": "db_2024", ".db": "db_",
	} {
		if got := schemaName(in); got != want {
			t.Errorf("schemaName(%q) = %q, want %q", in, got, want)
		}
	}
}
