// Package functions holds jjsql's scalar SQL functions as plain Go functions
// over values, with no SQL engine import; functions/sqlite registers them on
// a mattn/go-sqlite3 connection. A function never fails a query on bad
// input: a blob that does not parse gives NULL.
package functions

import (
	"math"

	"github.com/jjsql/jjsql/schema"
)

// Func is one scalar SQL function of one argument.
type Func struct {
	Name string
	Doc  string
	Fn   func(arg schema.Value) schema.Value
}

// All returns every function, in a fixed order.
func All() []Func {
	fs := []Func{
		{"entropy", "Shannon entropy of a blob or text in bits per byte (0.0 to 8.0); NULL for NULL or an empty blob", entropyFunc},
	}
	fs = append(fs, tlsFuncs()...)
	return append(fs, sshFuncs()...)
}

// bytesOf returns the bytes of a blob or text argument.
func bytesOf(v schema.Value) ([]byte, bool) {
	switch v.Kind {
	case schema.Blob:
		return v.B, true
	case schema.Text:
		return []byte(v.S), true
	}
	return nil, false
}

func entropyFunc(v schema.Value) schema.Value {
	b, ok := bytesOf(v)
	if !ok {
		return schema.NullV()
	}
	return schema.RealV(Entropy(b))
}

// Entropy returns the Shannon entropy of b over byte values, in bits per
// byte: 0 for an empty or constant input, 8 for a uniform one.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
