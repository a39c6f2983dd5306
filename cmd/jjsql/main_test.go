//go:build sqlite_vtable

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func jj(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestFormats(t *testing.T) {
	q := "SELECT 443 AS port, 0.1 AS f, 2.0 AS whole, 1e400 AS pinf, -1e400 AS ninf, NULL AS n, 'a,\"b\"' AS s, x'00ff' AS b"
	for _, tc := range []struct {
		format, want string
	}{
		{"csv", "port,f,whole,pinf,ninf,n,s,b\n443,0.1,2,inf,-inf,,\"a,\"\"b\"\"\",00ff\n"},
		{"tsv", "port\tf\twhole\tpinf\tninf\tn\ts\tb\n443\t0.1\t2\tinf\t-inf\t\t\"a,\"\"b\"\"\"\t00ff\n"},
		{"jsonl", `{"port":443,"f":0.1,"whole":2,"pinf":null,"ninf":null,"n":null,"s":"a,\"b\"","b":"00ff"}` + "\n"},
		{"json", "[\n" + `{"port":443,"f":0.1,"whole":2,"pinf":null,"ninf":null,"n":null,"s":"a,\"b\"","b":"00ff"}` + "\n]\n"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out, errs, code := jj(t, "--format", tc.format, q)
			if code != 0 || out != tc.want {
				t.Errorf("--format %s: code %d, stderr %q\n got %q\nwant %q", tc.format, code, errs, out, tc.want)
			}
		})
	}
	out, _, code := jj(t, "--format", "markdown", "SELECT 1 AS a, 'x' AS b")
	if code != 0 || !strings.Contains(out, "| a | b |") {
		t.Errorf("markdown: code %d, out %q", code, out)
	}
}

func TestExitStatus(t *testing.T) {
	if _, errs, code := jj(t, "SELEC 1"); code == 0 || !strings.Contains(errs, "syntax error") || strings.Count(errs, "\n") != 1 {
		t.Errorf("bad SQL: code %d, stderr %q; want non-zero and one line", code, errs)
	}
	if _, errs, code := jj(t, "SELECT count(*) FROM flows('/nonexistent/x.pcap')"); code == 0 || !strings.Contains(errs, "x.pcap") {
		t.Errorf("missing file: code %d, stderr %q", code, errs)
	}
	if out, _, code := jj(t, "--version"); code != 0 || !strings.HasPrefix(out, "jjsql ") {
		t.Errorf("--version: code %d, out %q", code, out)
	}
	if _, _, code := jj(t, "--format", "xml", "SELECT 1"); code == 0 {
		t.Error("unknown format accepted")
	}
}

func TestStatementsAndFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "q.sql")
	os.WriteFile(f, []byte("CREATE TEMP VIEW v AS SELECT 7 AS x; -- comment; with semicolon\nSELECT x FROM v;"), 0o644)
	out, errs, code := jj(t, "--format", "csv", "-f", f)
	if code != 0 || out != "x\n7\n" {
		t.Errorf("-f: code %d, out %q, stderr %q", code, out, errs)
	}
}

func TestSplitStatements(t *testing.T) {
	got := SplitStatements("SELECT ';'; SELECT \"a;b\" -- x;y\n; /* ; */ SELECT [c;d];;")
	want := []string{"SELECT ';'", "SELECT \"a;b\" -- x;y", "/* ; */ SELECT [c;d]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SplitStatements = %q, want %q", got, want)
	}
}

func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("JJ_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing under CI: %v", err)
		}
		t.Skipf("corpus not available: %v", err)
	}
	return p
}

func TestFlowQueryCSV(t *testing.T) {
	p := corpusFile(t, "gopacket/test_ethernet.pcap")
	out, errs, code := jj(t, "--format", "csv", "SELECT src_ip, src_port, dst_ip, dst_port, protocol, total_packets, bytes_fwd, bytes_bwd, iat_mean FROM flows('"+p+"')")
	want := "src_ip,src_port,dst_ip,dst_port,protocol,total_packets,bytes_fwd,bytes_bwd,iat_mean\n10.1.1.2,44644,10.1.1.1,80,6,10,340,646,0.000697877671983507\n"
	if code != 0 || out != want {
		t.Errorf("code %d stderr %q\n got %q\nwant %q", code, errs, out, want)
	}
}

func sampleFile(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample.pcap")
}

// TestTruncatedCapture: a capture cut inside a record still returns the
// flows read before the cut, with a warning naming the file and offset, and
// exit status 0.
func TestTruncatedCapture(t *testing.T) {
	data, err := os.ReadFile(sampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)/2+7], 0o644)
	out, errs, code := jj(t, "--format", "csv", "SELECT count(*) AS n, sum(total_packets) AS p FROM flows('"+cut+"')")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(errs, "cut.pcap") || !strings.Contains(errs, "truncated record at offset") {
		t.Errorf("stderr %q, want a truncation warning naming the file and offset", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.HasPrefix(lines[1], "0,") {
		t.Errorf("output %q, want the flows before the cut", out)
	}
	// Zero-length and non-capture files are errors naming the file.
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	if _, errs, code := jj(t, "SELECT count(*) FROM flows('"+empty+"')"); code == 0 || !strings.Contains(errs, "empty.pcap") {
		t.Errorf("empty file: exit %d, stderr %q", code, errs)
	}
}

// TestDirectoryAndGlob: a directory or glob reads every capture; one bad
// file among good ones is skipped with a warning.
func TestDirectoryAndGlob(t *testing.T) {
	data, err := os.ReadFile(sampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "b.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "c.pcap"), []byte("not a capture at all"), 0o644)
	one, _, _ := jj(t, "--format", "csv", "SELECT count(*) FROM flows('"+filepath.Join(dir, "a.pcap")+"')")
	n1 := strings.TrimSpace(strings.Split(one, "\n")[1])
	for _, arg := range []string{dir, filepath.Join(dir, "*.pcap")} {
		out, errs, code := jj(t, "--format", "csv", "SELECT count(*), count(DISTINCT flow_uid) FROM flows('"+arg+"')")
		if code != 0 || !strings.Contains(errs, "c.pcap") {
			t.Errorf("%s: exit %d, stderr %q; want success and a warning about c.pcap", arg, code, errs)
		}
		var a, b int
		fmt.Sscanf(strings.Split(out, "\n")[1], "%d,%d", &a, &b)
		var n int
		fmt.Sscanf(n1, "%d", &n)
		if a != 2*n || b != 2*n {
			t.Errorf("%s: %d flows (%d distinct uids), want %d", arg, a, b, 2*n)
		}
	}
}

func TestFunctions(t *testing.T) {
	out, errs, code := jj(t, "--format", "csv", "SELECT entropy(x'00ff00ff'), entropy('aaaa'), entropy(NULL)")
	if code != 0 || out != "entropy(x'00ff00ff'),entropy('aaaa'),entropy(NULL)\n1,0,\n" {
		t.Errorf("code %d, stderr %q, out %q", code, errs, out)
	}
	out, _, code = jj(t, "--format", "csv", "SELECT count(*) FROM packets('"+sampleFile(t)+"') WHERE entropy(payload) > 7")
	if code != 0 || out == "count(*)\n0\n" {
		t.Errorf("entropy over packets.payload: code %d, out %q; want some high-entropy (TLS) payloads", code, out)
	}
}

// TestTLSFunctions: ja3() over packets.payload gives the same fingerprints
// as the flows' ja3 column on the sample (whose ClientHellos fit one segment).
func TestTLSFunctions(t *testing.T) {
	p := sampleFile(t)
	a, errs, code := jj(t, "--format", "csv", "SELECT DISTINCT ja3(payload) AS j FROM packets('"+p+"') WHERE ja3(payload) IS NOT NULL ORDER BY 1")
	b, _, _ := jj(t, "--format", "csv", "SELECT DISTINCT ja3 AS j FROM flows('"+p+"') WHERE ja3 <> '' ORDER BY 1")
	if code != 0 || a != b || strings.Count(a, "\n") < 3 {
		t.Errorf("ja3(payload): code %d stderr %q\n got %q\nwant %q", code, errs, a, b)
	}
	out, _, _ := jj(t, "--format", "csv", "SELECT ja3(x'00'), ja4('not tls'), tls_sni(NULL), ja3s(x'160303')")
	if out != "ja3(x'00'),ja4('not tls'),tls_sni(NULL),ja3s(x'160303')\n,,,\n" {
		t.Errorf("bad blobs: %q, want NULLs", out)
	}
	out, _, _ = jj(t, "--format", "csv", "SELECT DISTINCT tls_sni(payload) FROM packets('"+p+"') WHERE tls_sni(payload) <> ''")
	if out != "tls_sni(payload)\nexample.test\ncloudflare-dns.com\n" {
		t.Errorf("tls_sni(payload) = %q", out)
	}
}

// TestHASSHFunctions: hassh() over packets.payload agrees with the flows'
// ssh_hassh on the sample's SSH session (KEXINIT in one segment).
func TestHASSHFunctions(t *testing.T) {
	p := sampleFile(t)
	a, errs, code := jj(t, "--format", "csv", "SELECT DISTINCT hassh(payload) FROM packets('"+p+"') WHERE src_port = 50500 AND hassh(payload) IS NOT NULL")
	b, _, _ := jj(t, "--format", "csv", "SELECT DISTINCT ssh_hassh FROM flows('"+p+"') WHERE ssh_hassh <> ''")
	if code != 0 || strings.Count(a, "\n") != 2 || strings.Split(a, "\n")[1] != strings.Split(b, "\n")[1] {
		t.Errorf("hassh(payload): code %d stderr %q got %q, flows give %q", code, errs, a, b)
	}
	c, _, _ := jj(t, "--format", "csv", "SELECT DISTINCT hassh_server(payload) FROM packets('"+p+"') WHERE src_port = 22 AND hassh_server(payload) IS NOT NULL")
	d, _, _ := jj(t, "--format", "csv", "SELECT DISTINCT ssh_hassh_server FROM flows('"+p+"') WHERE ssh_hassh_server <> ''")
	if strings.Count(c, "\n") != 2 || strings.Split(c, "\n")[1] != strings.Split(d, "\n")[1] {
		t.Errorf("hassh_server(payload) = %q, flows give %q", c, d)
	}
}
