package repl

import "strings"

// SplitComplete cuts the complete statements off the front of text: those
// ended by a semicolon outside quotes, bracketed or backquoted identifiers
// and comments. rest is what follows the last of them, "" when it holds only
// white space and comments. (A CREATE TRIGGER body, whose statements end in
// semicolons too, is not recognised.)
func SplitComplete(text string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\'', '"', '`':
			j := closeQuote(text, i, c)
			if j < 0 {
				return stmts, trimRest(text[start:])
			}
			i = j
		case '[':
			j := strings.IndexByte(text[i:], ']')
			if j < 0 {
				return stmts, trimRest(text[start:])
			}
			i += j
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				j := strings.IndexByte(text[i:], '\n')
				if j < 0 {
					return stmts, trimRest(text[start:])
				}
				i += j
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				j := strings.Index(text[i+2:], "*/")
				if j < 0 {
					return stmts, text[start:] // an open comment needs more lines
				}
				i += j + 3
			}
		case ';':
			if s := strings.TrimSpace(text[start:i]); s != "" && !onlyComments(s) {
				stmts = append(stmts, s)
			}
			start = i + 1
		}
	}
	return stmts, trimRest(text[start:])
}

// closeQuote returns the index of the quote that closes the one at i (a
// doubled quote is an escaped one), or -1.
func closeQuote(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j
		}
	}
	return -1
}

func trimRest(s string) string {
	if t := strings.TrimSpace(s); t == "" || onlyComments(t) {
		return ""
	}
	return s
}

// onlyComments reports whether s (trimmed) holds comments and nothing else.
func onlyComments(s string) bool {
	for {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return true
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return true
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return true
			}
			s = s[i+4:]
		default:
			return false
		}
	}
}

// unclosedQuote returns the index of the quote character that opens a
// string literal still open at the end of s, or -1.
func unclosedQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			j := closeQuote(s, i, c)
			if j < 0 {
				return i
			}
			i = j
		}
	}
	return -1
}
