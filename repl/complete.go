package repl

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// keywords are the SQL words offered by completion (SQLite's keywords that
// start or join clauses, not every reserved word).
var keywords = strings.Fields(`ABORT ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH BEGIN BETWEEN BY
CASE CAST COLLATE COMMIT CREATE CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
DEFAULT DELETE DESC DETACH DISTINCT DROP ELSE END ESCAPE EXCEPT EXISTS EXPLAIN
FALSE FILTER FIRST FOLLOWING FROM FULL GLOB GROUP GROUPS HAVING IF IN INDEX INNER
INSERT INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATERIALIZED NATURAL
NOT NOTNULL NULL NULLS OFFSET ON OR ORDER OUTER OVER PARTITION PRAGMA PRECEDING
PRIMARY QUERY PLAN RANGE RECURSIVE REGEXP REPLACE RETURNING RIGHT ROLLBACK ROW ROWS
SELECT SET TABLE TEMP TEMPORARY THEN TRUE UNBOUNDED UNION UPDATE USING VACUUM
VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`)

// sqlFunctions are SQLite's built-in functions offered by completion.
var sqlFunctions = strings.Fields(`abs avg char coalesce count date datetime format glob
group_concat hex ifnull iif instr json json_array json_each json_extract json_group_array
json_group_object json_object json_tree julianday length like lower ltrim max median min
nullif percentile printf quote random randomblob replace round rtrim sign string_agg
strftime substr substring sum time total trim typeof unhex unicode unixepoch upper
zeroblob cume_dist dense_rank first_value lag last_value lead nth_value ntile
percent_rank rank row_number log ln exp pow power sqrt floor ceil ceiling mod pi`)

// completer completes SQL words, table and column names, dot commands and
// their arguments, and file names inside quotes.
type completer struct {
	words   []string        // identifiers: tables, columns, functions (sorted, unique)
	tables  []string        // table functions
	groups  []string        // feature groups
	funcs   map[string]bool // scalar functions
	tabFunc map[string]bool // tables that take arguments
	cols    map[string]bool // column names
	dots    []string
}

// complete implements liner's WordCompleter: line is the input line, pos
// the cursor (in runes).
func (c *completer) complete(line string, pos int) (head string, completions []string, tail string) {
	r := []rune(line)
	if pos > len(r) {
		pos = len(r)
	}
	before, tail := string(r[:pos]), string(r[pos:])

	// Dot commands and their arguments.
	if strings.HasPrefix(strings.TrimLeft(before, " "), ".") {
		fields := strings.Fields(before)
		atNew := strings.HasSuffix(before, " ")
		if len(fields) == 1 && !atNew {
			i := strings.Index(before, ".")
			return before[:i], prefixed(c.dots, fields[0], false), tail
		}
		word := ""
		if !atNew {
			word = fields[len(fields)-1]
		}
		head = before[:len(before)-len(word)]
		nArg := len(fields) - 1 // which argument the word is
		if atNew {
			nArg++
		}
		switch cmd := fields[0]; {
		case nArg == 1 && cmd == ".mode":
			return head, prefixed(Modes, word, false), tail
		case nArg == 1 && (cmd == ".headers" || cmd == ".timer"):
			return head, prefixed([]string{"on", "off"}, word, false), tail
		case nArg == 1 && cmd == ".schema":
			return head, prefixed(c.tables, word, false), tail
		case nArg == 1 && cmd == ".features":
			return head, prefixed(c.groups, word, false), tail
		case nArg == 1 && (cmd == ".read" || cmd == ".output" || cmd == ".open" || cmd == ".export"):
			return head, files(word), tail
		}
		return before, nil, tail
	}

	// A file name inside a string literal: flows('testdata/sa<TAB>.
	if q := unclosedQuote(before); q >= 0 {
		word := before[q+1:]
		return before[:q+1], files(word), tail
	}

	i := len(before)
	for i > 0 {
		ch := before[i-1]
		if ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			i--
			continue
		}
		break
	}
	word := before[i:]
	if word == "" {
		return before, nil, tail
	}
	head = before[:i]
	upper := strings.ToUpper(word) == word && strings.ToLower(word) != word
	var out []string
	for _, k := range prefixed(keywords, word, true) {
		if !upper {
			k = strings.ToLower(k)
		}
		out = append(out, k)
	}
	callable := !strings.HasPrefix(tail, "(")
	for _, w := range prefixed(c.words, word, true) {
		if callable && (c.funcs[w] || c.tabFunc[w]) && !c.cols[w] {
			w += "("
		}
		out = append(out, w)
	}
	return head, unique(out), tail
}

// prefixed returns the words that start with prefix (ignoring case when
// fold is set).
func prefixed(words []string, prefix string, fold bool) []string {
	var out []string
	lp := strings.ToLower(prefix)
	for _, w := range words {
		if strings.HasPrefix(w, prefix) || fold && strings.HasPrefix(strings.ToLower(w), lp) {
			out = append(out, w)
		}
	}
	return out
}

func unique(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, w := range s {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// files completes a file name: the entries of its directory that start with
// its last element, directories ending in a slash.
func files(word string) []string {
	dir, base := filepath.Split(word)
	ents, err := os.ReadDir(orDot(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		out = append(out, dir+name)
	}
	sort.Strings(out)
	return out
}

func orDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// isIdent reports whether s is a plain SQL identifier (no quoting needed).
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}
