//go:build sqlite_vtable

package main

import (
	"strconv"
	"strings"
)

// screen is a small VT100 model: enough of the terminal to show what a
// person sees after jjsql's line editor and tables have drawn, cursor
// movement and erasing included. Lines that scroll off the top are kept
// (the test reads the whole session).
type screen struct {
	width, height int
	lines         [][]rune
	row, col      int // cursor, row counted from the first line ever
	esc           []byte
	inEsc         bool
}

func newScreen(width, height int) *screen {
	return &screen{width: width, height: height, lines: [][]rune{nil}}
}

// top is the row shown at the top of the terminal.
func (s *screen) top() int { return max(0, len(s.lines)-s.height) }

func (s *screen) ensureRow(r int) {
	for len(s.lines) <= r {
		s.lines = append(s.lines, nil)
	}
}

func (s *screen) put(r rune) {
	if s.col >= s.width { // deferred wrap
		s.row++
		s.col = 0
	}
	s.ensureRow(s.row)
	line := s.lines[s.row]
	for len(line) <= s.col {
		line = append(line, ' ')
	}
	line[s.col] = r
	s.lines[s.row] = line
	s.col++
}

// Write feeds terminal output.
func (s *screen) Write(p []byte) (int, error) {
	for _, r := range string(p) {
		if s.inEsc {
			s.escape(r)
			continue
		}
		switch r {
		case 0x1b:
			s.inEsc, s.esc = true, s.esc[:0]
		case '\r':
			s.col = 0
		case '\n':
			s.row++
			s.ensureRow(s.row)
		case '\b':
			if s.col > 0 {
				s.col--
			}
		case '\t':
			s.col = min(s.width-1, (s.col/8+1)*8)
		case '\a':
		default:
			if r >= ' ' {
				s.put(r)
			}
		}
	}
	return len(p), nil
}

// escape takes one rune of an escape sequence.
func (s *screen) escape(r rune) {
	if len(s.esc) == 0 && r != '[' {
		s.inEsc = false // a two-character sequence: ignored
		return
	}
	s.esc = append(s.esc, byte(r))
	if len(s.esc) == 1 || r < 0x40 || r > 0x7e {
		return // still reading parameters
	}
	s.inEsc = false
	params := string(s.esc[1 : len(s.esc)-1])
	if strings.HasPrefix(params, "?") {
		return // private modes
	}
	n := 1
	if params != "" {
		if v, err := strconv.Atoi(strings.Split(params, ";")[0]); err == nil {
			n = v
		}
	}
	switch r {
	case 'A':
		s.row = max(s.top(), s.row-max(n, 1))
	case 'B':
		s.row += max(n, 1)
		s.ensureRow(s.row)
	case 'C':
		s.col = min(s.width-1, s.col+max(n, 1))
	case 'D':
		s.col = max(0, s.col-max(n, 1))
	case 'G':
		s.col = max(0, n-1)
	case 'H':
		s.row, s.col = s.top(), 0
	case 'K':
		s.ensureRow(s.row)
		line := s.lines[s.row]
		switch params {
		case "", "0":
			if s.col < len(line) {
				s.lines[s.row] = line[:s.col]
			}
		case "2":
			s.lines[s.row] = nil
		}
	case 'J':
		s.ensureRow(s.row)
		if s.col < len(s.lines[s.row]) {
			s.lines[s.row] = s.lines[s.row][:s.col]
		}
		s.lines = s.lines[:s.row+1]
		if params == "2" {
			for i := s.top(); i < len(s.lines); i++ {
				s.lines[i] = nil
			}
		}
	}
}

// text returns every line of the session, trailing spaces dropped.
func (s *screen) text() string {
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(strings.TrimRight(string(l), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// cursorLine returns the line the cursor is on.
func (s *screen) cursorLine() string {
	s.ensureRow(s.row)
	return strings.TrimRight(string(s.lines[s.row]), " ")
}
