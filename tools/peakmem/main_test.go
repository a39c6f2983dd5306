package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMain turns the test binary into a child process for TestRun when
// PEAKMEM_CHILD_MB is set: it touches that many MiB of anonymous memory,
// holds them for 300 ms and exits with PEAKMEM_CHILD_EXIT.
func TestMain(m *testing.M) {
	if mb := os.Getenv("PEAKMEM_CHILD_MB"); mb != "" {
		n, _ := strconv.Atoi(mb)
		b := make([]byte, n<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		time.Sleep(300 * time.Millisecond)
		code, _ := strconv.Atoi(os.Getenv("PEAKMEM_CHILD_EXIT"))
		if b[len(b)/2] != 1 {
			code = 99
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestField(t *testing.T) {
	status := []byte("Name:\tx\nVmHWM:\t   10240 kB\nVmRSS:\t    9000 kB\nRssAnon:\t    7168 kB\nRssFile:\t 1832 kB\n")
	for _, tc := range []struct {
		name string
		want int64
	}{
		{"VmHWM:", 10240},
		{"RssAnon:", 7168},
		{"RssFile:", 1832},
		{"RssShmem:", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := field(status, tc.name); got != tc.want {
				t.Errorf("field(%q) = %d, want %d", tc.name, got, tc.want)
			}
		})
	}
}

// TestRun runs a child that touches 64 MiB and exits with 3: the report has
// its exit code, a wall time of at least the child's 300 ms, and peak
// RssAnon and RSS of at least 64 MiB.
func TestRun(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	t.Setenv("PEAKMEM_CHILD_MB", "64")
	t.Setenv("PEAKMEM_CHILD_EXIT", "3")
	r, code, err := run([]string{os.Args[0]}, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || r.exit != 3 {
		t.Errorf("exit code %d (report %d), want 3", code, r.exit)
	}
	if r.wall < 300*time.Millisecond {
		t.Errorf("wall %v, want at least 300ms", r.wall)
	}
	if r.peakAnon < 64<<10 {
		t.Errorf("peak RssAnon %d KiB, want at least %d", r.peakAnon, 64<<10)
	}
	if r.maxRSS < 64<<10 {
		t.Errorf("peak RSS %d KiB, want at least %d", r.maxRSS, 64<<10)
	}
	if r.samples < 10 {
		t.Errorf("%d samples of /proc/PID/status in %v, want one every 10 ms", r.samples, r.wall)
	}
}
