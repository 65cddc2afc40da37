package jsonv

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds. Invalid is the zero Value's: a member or element that is not there.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "array", "object"}

// String returns "null", "boolean", "number", "string", "array", "object" or "invalid".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// doc is one parsed text: the input and its values in document order, each container followed
// by its contents (an object's as key, value, key, value...).
type doc struct {
	s     string
	nodes []node
}

type node struct {
	start, end int32 // raw text s[start:end]
	next       int32 // index of the node after this value and its contents
	n          int32 // elements or members of a container
	kind       Kind
	esc        bool // a string with escapes: Str decodes
}

// Value is one JSON value of a parsed text. The zero Value is Invalid (see Exists).
type Value struct {
	d *doc
	i int32
}

// Member is one member of an object: its decoded key, the key's byte offset, and its value.
type Member struct {
	Key       string
	KeyOffset int
	Value     Value
}

// Kind returns the value's kind; Invalid for the zero Value.
func (v Value) Kind() Kind {
	if v.d == nil {
		return Invalid
	}
	return v.d.nodes[v.i].kind
}

// Exists reports whether v is a value (a JSON null included), not the zero Value.
func (v Value) Exists() bool { return v.d != nil }

// Offset returns the byte offset of the value's first character in the input.
func (v Value) Offset() int {
	if v.d == nil {
		return 0
	}
	return int(v.d.nodes[v.i].start)
}

// Raw returns the value's text exactly as in the input, quotes and escapes included:
//
//	{"a": [1, 2.50]} → Get("a").Raw() == "[1, 2.50]"
func (v Value) Raw() string {
	if v.d == nil {
		return ""
	}
	n := &v.d.nodes[v.i]
	return v.d.s[n.start:n.end]
}

// Str returns a string's decoded text ("" for other kinds). It allocates only when the string
// holds escapes.
//
//	"a\u00e9\n" → "aé" + newline
func (v Value) Str() string {
	if v.Kind() != String {
		return ""
	}
	return v.d.str(v.i)
}

// Bool reports whether v is the literal true.
func (v Value) Bool() bool {
	return v.Kind() == Bool && v.d.s[v.d.nodes[v.i].start] == 't'
}

// Int returns the value of a number that is a whole number in the int64 range. The value is
// read exactly from the literal, which may have a fraction or an exponent:
//
//	300, 300.0, 3e2, 3000e-1 → 300, true
//	300.5, 1e-3, 1e19, "300" → 0, false
func (v Value) Int() (int64, bool) {
	if v.Kind() != Number {
		return 0, false
	}
	n, integral, fits := integer(v.Raw())
	return n, integral && fits
}

// IsIntegral reports whether v is a number with no fractional part, however large: true for
// 3, 3.0, 1e300 and 1e400; false for 3.5 and 1e-1. With Int it tells a fraction ("must be an
// integer") from a whole number out of range.
func (v Value) IsIntegral() bool {
	if v.Kind() != Number {
		return false
	}
	_, integral, _ := integer(v.Raw())
	return integral
}

// Len returns the number of elements of an array or members of an object, else 0.
func (v Value) Len() int {
	if k := v.Kind(); k != Array && k != Object {
		return 0
	}
	return int(v.d.nodes[v.i].n)
}

// Get returns the value of the first member of an object named key; false if v is not an object
// or has no such member.
func (v Value) Get(key string) (Value, bool) {
	if v.Kind() != Object {
		return Value{}, false
	}
	d := v.d
	for i := v.i + 1; i < d.nodes[v.i].next; i = d.nodes[i+1].next {
		if d.keyIs(i, key) {
			return Value{d, i + 1}, true
		}
	}
	return Value{}, false
}

// Members returns an object's members in document order, duplicate keys included; nil for other
// kinds.
func (v Value) Members() []Member {
	if v.Kind() != Object {
		return nil
	}
	d := v.d
	out := make([]Member, 0, d.nodes[v.i].n)
	for i := v.i + 1; i < d.nodes[v.i].next; i = d.nodes[i+1].next {
		out = append(out, Member{Key: d.str(i), KeyOffset: int(d.nodes[i].start), Value: Value{d, i + 1}})
	}
	return out
}

// RangeMembers calls yield with an object's members in document order until it returns false;
// nothing for other kinds. It allocates nothing (but decoding an escaped key):
//
//	for m := range v.RangeMembers { ... }
func (v Value) RangeMembers(yield func(Member) bool) {
	if v.Kind() != Object {
		return
	}
	d := v.d
	for i := v.i + 1; i < d.nodes[v.i].next; i = d.nodes[i+1].next {
		if !yield(Member{Key: d.str(i), KeyOffset: int(d.nodes[i].start), Value: Value{d, i + 1}}) {
			return
		}
	}
}

// RangeElems calls yield with each element of an array and its index until it returns false;
// nothing for other kinds. It allocates nothing:
//
//	for i, e := range v.RangeElems { ... }
func (v Value) RangeElems(yield func(int, Value) bool) {
	if v.Kind() != Array {
		return
	}
	d := v.d
	k := 0
	for i := v.i + 1; i < d.nodes[v.i].next; i = d.nodes[i].next {
		if !yield(k, Value{d, i}) {
			return
		}
		k++
	}
}

// Elems returns an array's elements in order; nil for other kinds.
func (v Value) Elems() []Value {
	if v.Kind() != Array {
		return nil
	}
	d := v.d
	out := make([]Value, 0, d.nodes[v.i].n)
	for i := v.i + 1; i < d.nodes[v.i].next; i = d.nodes[i].next {
		out = append(out, Value{d, i})
	}
	return out
}

// str decodes the string node i.
func (d *doc) str(i int32) string {
	n := &d.nodes[i]
	raw := d.s[n.start+1 : n.end-1]
	if !n.esc {
		return raw
	}
	return unescape(raw)
}

// keyIs reports whether the string node i decodes to key, without allocating when it has no
// escapes.
func (d *doc) keyIs(i int32, key string) bool {
	n := &d.nodes[i]
	if !n.esc {
		return d.s[n.start+1:n.end-1] == key
	}
	return unescape(d.s[n.start+1:n.end-1]) == key
}

// unescape decodes the text between the quotes of a string that parsed. An unpaired surrogate
// escape becomes U+FFFD and leaves the escape after it to be decoded on its own, as
// encoding/json does.
func unescape(raw string) string {
	b := make([]byte, 0, len(raw))
	for {
		j := strings.IndexByte(raw, '\\')
		if j < 0 {
			return string(append(b, raw...))
		}
		b = append(b, raw[:j]...)
		e := raw[j+1]
		raw = raw[j+2:]
		switch e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, _ := hex4(raw, 0)
			raw = raw[4:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					r2, _ = hex4(raw, 2)
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					raw = raw[6:]
				}
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, e)
		}
	}
}

// integer reads a number literal that parsed: its value n when it is a whole number (integral)
// that fits in int64 (fits).
func integer(lit string) (n int64, integral, fits bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	// lit = int [. frac] [e exp]; value = digits(int frac) × 10^(exp - len(frac)).
	i := 0
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		i++
	}
	whole, frac := lit[:i], ""
	if i < len(lit) && lit[i] == '.' {
		j := i + 1
		for j < len(lit) && lit[j] >= '0' && lit[j] <= '9' {
			j++
		}
		frac, i = lit[i+1:j], j
	}
	exp := 0
	if i < len(lit) { // 'e' or 'E'
		i++
		expNeg := lit[i] == '-'
		if lit[i] == '-' || lit[i] == '+' {
			i++
		}
		for ; i < len(lit); i++ {
			if exp < 1e8 { // saturate: beyond this only the sign matters
				exp = exp*10 + int(lit[i]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	exp -= len(frac)
	// Drop trailing zeros (raising the exponent), then leading zeros.
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac, exp = frac[:len(frac)-1], exp+1
	}
	if frac == "" {
		for len(whole) > 0 && whole[len(whole)-1] == '0' {
			whole, exp = whole[:len(whole)-1], exp+1
		}
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		frac = strings.TrimLeft(frac, "0")
	}
	digits := len(whole) + len(frac)
	switch {
	case digits == 0:
		return 0, true, true
	case exp < 0:
		return 0, false, false
	case digits+exp > 19:
		return 0, true, false
	}
	var u uint64 // at most 19 digits: below 1e19 < 2^64
	for _, s := range [2]string{whole, frac} {
		for k := 0; k < len(s); k++ {
			u = u*10 + uint64(s[k]-'0')
		}
	}
	for ; exp > 0; exp-- {
		u *= 10
	}
	if neg {
		if u > 1<<63 {
			return 0, true, false
		}
		return int64(-u), true, true
	}
	if u > 1<<63-1 {
		return 0, true, false
	}
	return int64(u), true, true
}
