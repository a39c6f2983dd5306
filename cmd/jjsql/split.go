//go:build sqlite_vtable

package main

import "strings"

// SplitStatements splits SQL text into statements at semicolons that are not
// inside quotes, identifiers in brackets or backticks, or comments. Empty
// statements are dropped.
func SplitStatements(sql string) []string {
	var out []string
	start := 0
	emit := func(end int) {
		if s := strings.TrimSpace(sql[start:end]); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; c {
		case '\'', '"', '`':
			i = skipQuoted(sql, i, c)
		case '[':
			if j := strings.IndexByte(sql[i:], ']'); j >= 0 {
				i += j
			} else {
				i = len(sql)
			}
		case '-':
			if i+1 < len(sql) && sql[i+1] == '-' {
				if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
					i += j
				} else {
					i = len(sql)
				}
			}
		case '/':
			if i+1 < len(sql) && sql[i+1] == '*' {
				if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
					i += j + 3
				} else {
					i = len(sql)
				}
			}
		case ';':
			emit(i)
			start = i + 1
		}
	}
	if start < len(sql) {
		emit(len(sql))
	}
	return out
}

// skipQuoted returns the index of the quote that closes the one at i (a
// doubled quote is an escaped quote), or the last index.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j
		}
	}
	return len(s) - 1
}

func onlyComments(s string) bool {
	for len(s) > 0 {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return true
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return true
			}
			s = s[i+2:]
		default:
			return s == ""
		}
	}
	return true
}
