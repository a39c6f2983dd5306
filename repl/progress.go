package repl

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// progressDelay is how long a query runs before its progress shows.
const progressDelay = 500 * time.Millisecond

// progress is the scan progress line on standard error, and the check that
// stops a scan whose query was cancelled (vtab.Env.Progress).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	show    bool // standard error is a terminal
	ctx     context.Context
	start   time.Time
	drawn   bool
	stopped bool // the result started on the terminal: no more progress lines
}

// begin starts reporting for a query running under ctx.
func (p *progress) begin(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctx, p.start, p.drawn, p.stopped = ctx, time.Now(), false, false
}

// end clears the line and stops reporting.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.ctx = nil
}

// quiet clears the line and keeps it off until the next query: called when
// the result begins on the same terminal.
func (p *progress) quiet() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.stopped = true
}

// clear removes the line (before a warning, say); it comes back at the
// next update.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// update is vtab.Env.Progress: it draws the line and reports whether the
// scan goes on.
func (p *progress) update(bytes, total, packets uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		return true // a scan outside a query of the shell
	}
	if p.ctx.Err() != nil {
		return false
	}
	el := time.Since(p.start)
	if !p.show || p.stopped || el < progressDelay {
		return true
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s\r", progressLine(bytes, total, packets, el))
	p.drawn = true
	return true
}

// progressLine formats one progress report.
func progressLine(bytes, total, packets uint64, el time.Duration) string {
	s := "scanning: " + size(bytes)
	if total > 0 && bytes <= total {
		s += fmt.Sprintf(" of %s (%d%%)", size(total), bytes*100/total)
	}
	s += fmt.Sprintf(", %s packets", count(float64(packets)))
	if sec := el.Seconds(); sec > 0 {
		s += fmt.Sprintf(", %s packets/s", count(float64(packets)/sec))
	}
	return s + " (Ctrl-C stops)"
}

func size(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

func count(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
