package export

import (
	"strings"

	"github.com/jjsql/jjsql/vtab"
)

// Plain reports whether a SQLite query is plain enough to run unchanged in
// DuckDB, and returns the DuckDB form. Plain means
//
//	SELECT * | column [[AS] name], ... FROM table(args) [[AS] alias] [LIMIT n] [;]
//
// where table takes a path (flows, packets), args are literals (the path,
// then options in their positional order), and every column is one of the
// table's visible columns. Such a query has one meaning in both engines: the
// same rows, in the scan's order, with the same column names, so the export
// runs where cells are cheapest to move (DuckDB's table functions feed its
// Parquet writer directly, with no SQLite row in between). Anything else
// (WHERE, expressions, joins, functions, hidden columns, ORDER BY) runs in
// SQLite, whose semantics the query was written for.
func Plain(query string, env *vtab.Env) (string, bool) {
	toks, ok := tokenize(query)
	if !ok {
		return "", false
	}
	p := &parser{toks: toks}
	if !p.keyword("select") {
		return "", false
	}
	type col struct{ name, as string }
	var cols []col
	star := p.punct("*")
	for !star {
		name, ok := p.ident()
		if !ok {
			return "", false
		}
		c := col{name: name, as: name}
		if p.keyword("as") {
			if c.as, ok = p.ident(); !ok {
				return "", false
			}
		} else if t := p.peek(); t.kind == tIdent && !isKeyword(t.text) {
			c.as, _ = p.ident()
		}
		cols = append(cols, c)
		if !p.punct(",") {
			break
		}
	}
	if !p.keyword("from") {
		return "", false
	}
	tname, ok := p.ident()
	if !ok || !p.punct("(") {
		return "", false
	}
	var table vtab.Table
	for _, t := range vtab.Tables(env) {
		if strings.EqualFold(t.Name(), tname) {
			table = t
		}
	}
	if table == nil {
		return "", false
	}
	argName := map[int]string{}
	visible := map[string]string{}
	for _, c := range table.Columns() {
		if c.Kind == vtab.KindArg {
			argName[c.Arg] = c.Name
		} else if !c.Hidden {
			visible[strings.ToLower(c.Name)] = c.Name
		}
	}
	if argName[0] != "path" {
		return "", false
	}
	var args []string
	for {
		t := p.next()
		if t.kind != tString && t.kind != tNumber {
			return "", false
		}
		if len(args) == 0 && t.kind != tString {
			return "", false
		}
		args = append(args, t.text)
		if p.punct(")") {
			break
		}
		if !p.punct(",") {
			return "", false
		}
	}
	if len(args) > len(argName) {
		return "", false
	}
	if p.keyword("as") {
		if _, ok := p.ident(); !ok {
			return "", false
		}
	} else if t := p.peek(); t.kind == tIdent && !isKeyword(t.text) {
		p.ident()
	}
	limit := ""
	if p.keyword("limit") {
		t := p.next()
		if t.kind != tNumber || strings.ContainsAny(t.text, ".eE-+") {
			return "", false
		}
		limit = t.text
	}
	p.punct(";")
	if p.peek().kind != tEOF {
		return "", false
	}

	var b strings.Builder
	b.WriteString("SELECT ")
	if star {
		b.WriteString("*")
	}
	for i, c := range cols {
		real, ok := visible[strings.ToLower(c.name)]
		if !ok {
			return "", false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(real) + " AS " + quoteIdent(c.as))
	}
	b.WriteString(" FROM " + quoteIdent(table.Name()) + "(" + args[0])
	for i, a := range args[1:] {
		name, ok := argName[i+1]
		if !ok {
			return "", false
		}
		b.WriteString(", " + quoteIdent(name) + " := " + a)
	}
	b.WriteString(")")
	if limit != "" {
		b.WriteString(" LIMIT " + limit)
	}
	return b.String(), true
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuoted // a "quoted" identifier; text is its name
	tString // text is the literal as written, quotes included
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits the few token kinds a plain query has; anything else
// (comments, operators, [brackets], parameters) makes it not plain.
func tokenize(s string) ([]token, bool) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, false
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if c == '"' {
				toks = append(toks, token{tQuoted, b.String()})
			} else {
				toks = append(toks, token{tString, s[i : j+1]})
			}
			i = j + 1
		case c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+':
			j := i
			if c == '-' || c == '+' {
				j++
			}
			digits := 0
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
				digits++
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				j++
				if j < len(s) && (s[j] == '-' || s[j] == '+') {
					j++
				}
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			if digits == 0 || strings.Count(s[i:j], ".") > 1 {
				return nil, false
			}
			toks = append(toks, token{tNumber, s[i:j]})
			i = j
		case c == '(' || c == ')' || c == ',' || c == '*' || c == ';':
			toks = append(toks, token{tPunct, s[i : i+1]})
			i++
		default:
			return nil, false
		}
	}
	return toks, true
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF}
}

func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	if t := p.peek(); t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

// ident returns the next identifier, bare (not a keyword) or quoted.
func (p *parser) ident() (string, bool) {
	t := p.peek()
	if t.kind == tQuoted || t.kind == tIdent && !isKeyword(t.text) {
		p.i++
		return t.text, true
	}
	return "", false
}

func isKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "select", "from", "as", "limit", "where", "order", "group", "by", "having", "join", "on",
		"using", "union", "distinct", "all", "offset", "natural", "left", "inner", "cross", "window",
		"except", "intersect", "values", "with", "not", "null", "and", "or", "case", "cast":
		return true
	}
	return false
}
