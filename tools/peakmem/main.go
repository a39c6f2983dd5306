// Command peakmem runs a command and reports its wall time, CPU time, peak
// resident set (the kernel's maximum RSS) and peak anonymous memory
// (RssAnon of /proc/PID/status, sampled every 10 ms: memory that is not
// the page cache behind a mapped file). The command's standard streams
// are passed through; the report is one line of key=value pairs.
//
//	peakmem [-o REPORT] [-every 10ms] -- CMD [ARGS...]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "append the report to FILE instead of writing it to standard error")
	every := flag.Duration("every", 10*time.Millisecond, "sampling interval of /proc/PID/status")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: peakmem [-o REPORT] [-every 10ms] -- CMD [ARGS...]")
		os.Exit(2)
	}
	r, code, err := run(flag.Args(), *every)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peakmem:", err)
		os.Exit(1)
	}
	line := r.String()
	if *out == "" {
		fmt.Fprintln(os.Stderr, line)
	} else if err := appendLine(*out, line); err != nil {
		fmt.Fprintln(os.Stderr, "peakmem:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// report is what peakmem measures.
type report struct {
	wall, user, sys time.Duration
	maxRSS          int64 // KiB, from wait4
	peakAnon        int64 // KiB, largest RssAnon sample
	peakHWM         int64 // KiB, largest VmHWM sample
	samples         int
	exit            int
}

func (r report) String() string {
	return fmt.Sprintf("wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kib=%d peak_anon_kib=%d samples=%d exit=%d",
		r.wall.Seconds(), r.user.Seconds(), r.sys.Seconds(), max(r.maxRSS, r.peakHWM), r.peakAnon, r.samples, r.exit)
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// run starts args, samples its status file until it exits and returns the
// report and the command's exit code.
func run(args []string, every time.Duration) (report, int, error) {
	var r report
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(status); err == nil {
				anon, hwm := field(b, "RssAnon:"), field(b, "VmHWM:")
				r.peakAnon = max(r.peakAnon, anon)
				r.peakHWM = max(r.peakHWM, hwm)
				r.samples++
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	r.wall = time.Since(t0)
	close(stop)
	wg.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, 0, err
	}
	ps := cmd.ProcessState
	r.exit = ps.ExitCode()
	r.user, r.sys = ps.UserTime(), ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss // KiB on Linux
	}
	return r, max(r.exit, 0), nil
}

// field returns the value in kB of a "Name:   123 kB" line of a status file, 0 if absent.
func field(b []byte, name string) int64 {
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return 0
	}
	rest := b[i+len(name):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	f := bytes.Fields(rest)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return v
}
