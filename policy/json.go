package policy

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON reader that keeps the byte offset of every value, so that policy
// errors can point at a line and column. It is used only by Parse; evaluation never touches JSON.
// It accepts exactly RFC 8259 JSON (no comments, no trailing commas) and refuses duplicate
// object keys, which IAM would otherwise resolve silently by keeping one of them.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	switch k {
	case jsonNull:
		return "null"
	case jsonBool:
		return "a boolean"
	case jsonNumber:
		return "a number"
	case jsonString:
		return "a string"
	case jsonArray:
		return "an array"
	default:
		return "an object"
	}
}

// jsonValue is one parsed JSON value. str holds the unescaped text of a string, the literal text of
// a number, or "true"/"false" for a boolean.
type jsonValue struct {
	kind    jsonKind
	off     int // byte offset of the value's first character
	str     string
	elems   []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key    string
	keyOff int
	val    *jsonValue
}

// maxJSONDepth bounds nesting; a policy needs 5 levels, so anything deeper is refused rather than
// risking deep recursion on hostile input.
const maxJSONDepth = 16

type jsonSyntaxError struct {
	off int
	msg string
}

type jsonReader struct {
	s   string
	pos int
	err *jsonSyntaxError

	// Allocation economy (compiling runs inside WebAssembly, where the allocator is slow):
	// nodes come from chunks, and members and elements gather on stacks and are copied once
	// into exactly sized slices when their object or array ends.
	chunk   []jsonValue
	members []jsonMember
	elems   []*jsonValue
}

func (r *jsonReader) node(v jsonValue) *jsonValue {
	if len(r.chunk) == 0 {
		// About one value per 24 bytes of policy text.
		r.chunk = make([]jsonValue, min(64, max(8, len(r.s)/24)))
	}
	n := &r.chunk[0]
	r.chunk = r.chunk[1:]
	*n = v
	return n
}

func parseJSON(s string) (*jsonValue, *jsonSyntaxError) {
	r := jsonReader{s: s}
	r.space()
	v := r.value(0)
	if r.err != nil {
		return nil, r.err
	}
	r.space()
	if r.pos < len(r.s) {
		return nil, &jsonSyntaxError{r.pos, "unexpected " + r.describe() + " after the end of the JSON value"}
	}
	return v, nil
}

func (r *jsonReader) fail(off int, msg string) {
	if r.err == nil {
		r.err = &jsonSyntaxError{off, msg}
	}
}

// describe names the character at r.pos for an error message.
func (r *jsonReader) describe() string {
	if r.pos >= len(r.s) {
		return "end of input"
	}
	c, _ := utf8.DecodeRuneInString(r.s[r.pos:])
	if c < 0x20 || c == utf8.RuneError {
		return "character " + strconv.QuoteRune(c)
	}
	return "character '" + string(c) + "'"
}

func (r *jsonReader) space() {
	for r.pos < len(r.s) {
		switch r.s[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) value(depth int) *jsonValue {
	if depth > maxJSONDepth {
		r.fail(r.pos, "JSON nested too deeply")
		return nil
	}
	if r.pos >= len(r.s) {
		r.fail(r.pos, "unexpected end of input, expected a JSON value")
		return nil
	}
	start := r.pos
	switch c := r.s[r.pos]; {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"':
		s, ok := r.string()
		if !ok {
			return nil
		}
		return r.node(jsonValue{kind: jsonString, off: start, str: s})
	case c == 't':
		return r.literal("true", jsonBool)
	case c == 'f':
		return r.literal("false", jsonBool)
	case c == 'n':
		return r.literal("null", jsonNull)
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	default:
		r.fail(r.pos, "unexpected "+r.describe()+", expected a JSON value")
		return nil
	}
}

func (r *jsonReader) literal(word string, kind jsonKind) *jsonValue {
	start := r.pos
	if len(r.s)-r.pos < len(word) || r.s[r.pos:r.pos+len(word)] != word {
		r.fail(r.pos, "invalid literal, expected "+word)
		return nil
	}
	r.pos += len(word)
	v := r.node(jsonValue{kind: kind, off: start})
	if kind == jsonBool {
		v.str = word
	}
	return v
}

func (r *jsonReader) number() *jsonValue {
	start := r.pos
	if r.s[r.pos] == '-' {
		r.pos++
	}
	digits := func() int {
		n := 0
		for r.pos < len(r.s) && r.s[r.pos] >= '0' && r.s[r.pos] <= '9' {
			r.pos++
			n++
		}
		return n
	}
	if r.pos < len(r.s) && r.s[r.pos] == '0' {
		r.pos++
	} else if digits() == 0 {
		r.fail(r.pos, "invalid number")
		return nil
	}
	if r.pos < len(r.s) && r.s[r.pos] == '.' {
		r.pos++
		if digits() == 0 {
			r.fail(r.pos, "invalid number: expected a digit after '.'")
			return nil
		}
	}
	if r.pos < len(r.s) && (r.s[r.pos] == 'e' || r.s[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.s) && (r.s[r.pos] == '+' || r.s[r.pos] == '-') {
			r.pos++
		}
		if digits() == 0 {
			r.fail(r.pos, "invalid number: expected a digit in the exponent")
			return nil
		}
	}
	return r.node(jsonValue{kind: jsonNumber, off: start, str: r.s[start:r.pos]})
}

// string reads a JSON string starting at the opening quote and returns its unescaped text.
func (r *jsonReader) string() (string, bool) {
	r.pos++ // opening quote
	start := r.pos
	// Fast path: no escapes.
	ascii := true
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		if c == '"' {
			s := r.s[start:r.pos]
			r.pos++
			if !ascii && !utf8.ValidString(s) {
				r.fail(start, "string is not valid UTF-8")
				return "", false
			}
			return s, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		r.pos++
	}
	buf := []byte(r.s[start:r.pos])
	for {
		if r.pos >= len(r.s) {
			r.fail(start-1, "unterminated string")
			return "", false
		}
		c := r.s[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !utf8.Valid(buf) {
				r.fail(start, "string is not valid UTF-8")
				return "", false
			}
			return string(buf), true
		case c < 0x20:
			r.fail(r.pos, "control character "+strconv.QuoteRune(rune(c))+" in string; escape it")
			return "", false
		case c != '\\':
			buf = append(buf, c)
			r.pos++
			continue
		}
		if r.pos+1 >= len(r.s) {
			r.fail(start-1, "unterminated string")
			return "", false
		}
		e := r.s[r.pos+1]
		r.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			c1, ok := r.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(c1) {
				c2 := rune(-1)
				if r.pos+1 < len(r.s) && r.s[r.pos] == '\\' && r.s[r.pos+1] == 'u' {
					r.pos += 2
					if c2, ok = r.hex4(); !ok {
						return "", false
					}
				}
				c1 = utf16.DecodeRune(c1, c2)
				if c1 == utf8.RuneError {
					r.fail(r.pos-6, "invalid UTF-16 surrogate pair in \\u escape")
					return "", false
				}
			}
			buf = utf8.AppendRune(buf, c1)
		default:
			r.fail(r.pos-2, "invalid escape '\\"+string(rune(e))+"' in string")
			return "", false
		}
	}
}

func (r *jsonReader) hex4() (rune, bool) {
	if len(r.s)-r.pos < 4 {
		r.fail(r.pos-2, "invalid \\u escape: expected 4 hex digits")
		return 0, false
	}
	var v rune
	for i := 0; i < 4; i++ {
		c := r.s[r.pos+i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			r.fail(r.pos-2, "invalid \\u escape: expected 4 hex digits")
			return 0, false
		}
	}
	r.pos += 4
	return v, true
}

func (r *jsonReader) object(depth int) *jsonValue {
	v := r.node(jsonValue{kind: jsonObject, off: r.pos})
	r.pos++ // '{'
	r.space()
	if r.pos < len(r.s) && r.s[r.pos] == '}' {
		r.pos++
		return v
	}
	base := len(r.members)
	defer func() { r.members = r.members[:base] }()
	for {
		r.space()
		if r.pos >= len(r.s) || r.s[r.pos] != '"' {
			r.fail(r.pos, "unexpected "+r.describe()+", expected a quoted object key")
			return nil
		}
		keyOff := r.pos
		key, ok := r.string()
		if !ok {
			return nil
		}
		for _, m := range r.members[base:] {
			if m.key == key {
				r.fail(keyOff, "duplicate key "+strconv.Quote(key))
				return nil
			}
		}
		r.space()
		if r.pos >= len(r.s) || r.s[r.pos] != ':' {
			r.fail(r.pos, "unexpected "+r.describe()+", expected ':' after object key")
			return nil
		}
		r.pos++
		r.space()
		val := r.value(depth + 1)
		if val == nil {
			return nil
		}
		r.members = append(r.members, jsonMember{key: key, keyOff: keyOff, val: val})
		r.space()
		if r.pos >= len(r.s) {
			r.fail(r.pos, "unexpected end of input, expected ',' or '}'")
			return nil
		}
		switch r.s[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			v.members = append([]jsonMember(nil), r.members[base:]...)
			return v
		default:
			r.fail(r.pos, "unexpected "+r.describe()+", expected ',' or '}'")
			return nil
		}
	}
}

func (r *jsonReader) array(depth int) *jsonValue {
	v := r.node(jsonValue{kind: jsonArray, off: r.pos})
	r.pos++ // '['
	r.space()
	if r.pos < len(r.s) && r.s[r.pos] == ']' {
		r.pos++
		return v
	}
	base := len(r.elems)
	defer func() { r.elems = r.elems[:base] }()
	for {
		r.space()
		e := r.value(depth + 1)
		if e == nil {
			return nil
		}
		r.elems = append(r.elems, e)
		r.space()
		if r.pos >= len(r.s) {
			r.fail(r.pos, "unexpected end of input, expected ',' or ']'")
			return nil
		}
		switch r.s[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			v.elems = append([]*jsonValue(nil), r.elems[base:]...)
			return v
		default:
			r.fail(r.pos, "unexpected "+r.describe()+", expected ',' or ']'")
			return nil
		}
	}
}

// lineCol converts a byte offset into 1-based line and column numbers (columns count characters).
func lineCol(s string, off int) (line, col int) {
	if off > len(s) {
		off = len(s)
	}
	line, col = 1, 1
	for _, c := range s[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// significantChars counts the characters of a JSON text outside insignificant whitespace, the
// measure MaxDocumentChars applies to.
func significantChars(s string) int {
	n := 0
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0xC0 == 0x80 {
			continue // a UTF-8 continuation byte: part of a character already counted
		}
		switch {
		case inStr:
			n++
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			n++
			if c == '"' {
				inStr = true
			}
		}
	}
	return n
}
