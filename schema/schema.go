// Package schema holds the facts about every column jjsql can produce: names,
// value types, units, profiles and one-line definitions. It is a leaf package
// (standard library only); the feature catalogue in features_gen.go is
// generated from JoyfulJay's feature list by tools/genschema.
package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

//go:generate go run ../tools/genschema -spec ../../shared/spec/features.tsv -docs definitions.tsv -defaults defaults.tsv -out features_gen.go

// Type is the value type of a column.
type Type uint8

const (
	Null Type = iota // no value (only in columns jjsql adds)
	Int              // 64-bit signed integer
	Real             // float64
	Text             // UTF-8 text
	Bool             // boolean, stored as INTEGER 0/1 in SQL
	Blob             // raw bytes
)

// SQL returns the SQLite declared type for t.
func (t Type) SQL() string {
	switch t {
	case Int, Bool:
		return "INTEGER"
	case Real:
		return "REAL"
	case Text:
		return "TEXT"
	case Blob:
		return "BLOB"
	}
	return ""
}

// String returns the dtype name used in JoyfulJay's feature list.
func (t Type) String() string {
	switch t {
	case Int:
		return "int64"
	case Real:
		return "float64"
	case Text:
		return "string"
	case Bool:
		return "bool"
	case Blob:
		return "blob"
	}
	return "null"
}

// Profile is JoyfulJay's feature tier.
type Profile uint8

const (
	NoProfile    Profile = iota
	Core                 // JJ-CORE
	Extended             // JJ-EXTENDED
	Experimental         // JJ-EXPERIMENTAL
)

func (p Profile) String() string {
	switch p {
	case Core:
		return "JJ-CORE"
	case Extended:
		return "JJ-EXTENDED"
	case Experimental:
		return "JJ-EXPERIMENTAL"
	}
	return ""
}

// Profiles lists JoyfulJay's profiles in order.
var Profiles = []Profile{Core, Extended, Experimental}

// ParseProfile reads a profile name: core, extended, experimental (any
// case, with or without the JJ- prefix), or all (or "") for NoProfile, which
// selects every column.
func ParseProfile(s string) (Profile, error) {
	switch n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "jj-"); n {
	case "core":
		return Core, nil
	case "extended":
		return Extended, nil
	case "experimental":
		return Experimental, nil
	case "all", "":
		return NoProfile, nil
	}
	return NoProfile, fmt.Errorf("schema: unknown profile %q (core, extended, experimental or all)", s)
}

// Feature describes one column.
type Feature struct {
	Name    string // column name, exactly JoyfulJay's
	Group   string // feature group id
	Type    Type
	Unit    string // "" when unitless
	Profile Profile
	// Default is what the column holds when its input is absent (no
	// packet of that kind, no handshake, fewer than two packets): JoyfulJay's
	// value, 0 / 0.0 / false / the empty string or a sentinel such as -1. The catalogue
	// sets it for every feature; a NULL Default stands for the zero value of
	// Type (see DefaultValue).
	Default Value
	Doc     string // one line, our own words
}

// DefaultValue returns f.Default, or the zero value of f.Type (0, 0.0,
// false, ”) when f.Default is NULL, as for the columns jjsql adds without
// declaring a default.
func (f Feature) DefaultValue() Value {
	if f.Default.Kind != Null || f.Type == Null {
		return f.Default
	}
	return Zero(f.Type)
}

// Zero returns the zero value of t: 0, 0.0, false, ” or an empty blob;
// NULL for Null.
func Zero(t Type) Value {
	switch t {
	case Int:
		return IntV(0)
	case Real:
		return RealV(0)
	case Text:
		return TextV("")
	case Bool:
		return BoolV(false)
	case Blob:
		return BlobV([]byte{})
	}
	return NullV()
}

// Value is one cell. The zero Value is SQL NULL.
type Value struct {
	Kind Type
	I    int64
	F    float64
	S    string
	B    []byte
}

// IntV returns an integer value.
func IntV(i int64) Value { return Value{Kind: Int, I: i} }

// RealV returns a float value.
func RealV(f float64) Value { return Value{Kind: Real, F: f} }

// TextV returns a text value.
func TextV(s string) Value { return Value{Kind: Text, S: s} }

// BoolV returns a boolean value (INTEGER 0/1 in SQL).
func BoolV(b bool) Value {
	if b {
		return Value{Kind: Bool, I: 1}
	}
	return Value{Kind: Bool}
}

// BlobV returns a blob value. The slice is not copied.
func BlobV(b []byte) Value { return Value{Kind: Blob, B: b} }

// NullV returns SQL NULL.
func NullV() Value { return Value{} }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.Kind == Null }

// Equal reports whether v and w have the same kind and value (NaN equals
// NaN, so that a default compares equal to itself).
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case Int, Bool:
		return v.I == w.I
	case Real:
		return v.F == w.F || (math.IsNaN(v.F) && math.IsNaN(w.F))
	case Text:
		return v.S == w.S
	case Blob:
		return string(v.B) == string(w.B)
	}
	return true
}

// Any returns v as a plain Go value: int64, float64, string, []byte or nil.
func (v Value) Any() any {
	switch v.Kind {
	case Int, Bool:
		return v.I
	case Real:
		return v.F
	case Text:
		return v.S
	case Blob:
		return v.B
	}
	return nil
}

// String formats v the way the machine-readable outputs do: integers as
// integers, floats in shortest round-trip form, NULL as "".
func (v Value) String() string {
	switch v.Kind {
	case Int, Bool:
		return strconv.FormatInt(v.I, 10)
	case Real:
		return FormatFloat(v.F)
	case Text:
		return v.S
	case Blob:
		return string(v.B)
	}
	return ""
}

// FormatFloat formats f in shortest round-trip form, with inf, -inf and nan
// for the non-finite values.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Lookup returns the catalogue entry for a column name.
func Lookup(name string) (Feature, bool) {
	i, ok := byName[name]
	if !ok {
		return Feature{}, false
	}
	return Catalog[i], true
}

// GroupFeatures returns the catalogue entries of one group, in catalogue order.
func GroupFeatures(group string) []Feature {
	var out []Feature
	for _, f := range Catalog {
		if f.Group == group {
			out = append(out, f)
		}
	}
	return out
}

// GroupOrder returns the position of a group in JoyfulJay's column order, or
// -1 for a group not in the catalogue.
func GroupOrder(group string) int {
	for i, g := range Groups {
		if g == group {
			return i
		}
	}
	return -1
}

var byName = func() map[string]int {
	m := make(map[string]int, len(Catalog))
	for i, f := range Catalog {
		if _, dup := m[f.Name]; dup {
			panic(fmt.Sprintf("schema: duplicate feature %q", f.Name))
		}
		m[f.Name] = i
	}
	return m
}()
