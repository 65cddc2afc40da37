package jsonv

import (
	"strconv"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit when Options.MaxDepth is 0: deep enough for any policy
// document inside an authorizer response, shallow enough that hostile input cannot recurse far.
const DefaultMaxDepth = 64

// maxInput bounds the input so offsets fit in the int32 fields of a node.
const maxInput = 1<<31 - 1

// Options adjust the rules of Parse. The zero Options are the strict defaults.
type Options struct {
	// MaxDepth is the most arrays and objects that may be open at once; 0 means DefaultMaxDepth.
	MaxDepth int
	// RejectDuplicateKeys makes a key that repeats an earlier key of the same object an error
	// (offset of the repeated key). Without it duplicates are kept and callers decide.
	RejectDuplicateKeys bool
	// AllowInvalidUTF8 accepts strings that are not valid UTF-8: their bytes are kept as they
	// are, and a \u escape of an unpaired UTF-16 surrogate decodes to U+FFFD.
	AllowInvalidUTF8 bool
}

// SyntaxError is a Parse error: Msg says what is wrong at byte Offset of the input.
type SyntaxError struct {
	Offset int
	Msg    string // e.g. "unexpected character '}', expected a quoted object key"
}

func (e *SyntaxError) Error() string {
	return "jsonv: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Parse parses b, one JSON text, with the default Options. b is copied; the result does not
// alias it.
func Parse(b []byte) (Value, error) { return Options{}.ParseString(string(b)) }

// ParseString is Parse for a string, without a copy.
func ParseString(s string) (Value, error) { return Options{}.ParseString(s) }

// Parse parses b with the options o. b is copied; the result does not alias it.
func (o Options) Parse(b []byte) (Value, error) { return o.ParseString(string(b)) }

// ParseString parses s with the options o, without a copy.
func (o Options) ParseString(s string) (Value, error) {
	if len(s) > maxInput {
		return Value{}, &SyntaxError{0, "input larger than 2 GiB"}
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	// About one value per 8 bytes of typical JSON; large inputs grow the slice as they go.
	p := parser{s: s, o: o, nodes: make([]node, 0, min(len(s)/8+4, 4096))}
	p.space()
	p.value(0)
	if p.err == nil {
		p.space()
		if p.pos < len(s) {
			p.fail(p.pos, "unexpected "+p.describe()+" after the end of the JSON value")
		}
	}
	if p.err != nil {
		return Value{}, p.err
	}
	return Value{d: &doc{s: s, nodes: p.nodes}}, nil
}

type parser struct {
	s     string
	pos   int
	o     Options
	nodes []node
	err   *SyntaxError
}

func (p *parser) fail(off int, msg string) {
	if p.err == nil {
		p.err = &SyntaxError{off, msg}
	}
}

// describe names the character at p.pos for an error message.
func (p *parser) describe() string {
	if p.pos >= len(p.s) {
		return "end of input"
	}
	c, n := utf8.DecodeRuneInString(p.s[p.pos:])
	if c == utf8.RuneError && n == 1 {
		return "byte 0x" + strconv.FormatUint(uint64(p.s[p.pos]), 16) + " (not UTF-8)"
	}
	if c < 0x20 {
		return "character " + strconv.QuoteRune(c)
	}
	return "character '" + string(c) + "'"
}

func (p *parser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// leaf appends a node without contents that started at start and ends at p.pos.
func (p *parser) leaf(k Kind, start int, esc bool) {
	p.nodes = append(p.nodes, node{kind: k, esc: esc, start: int32(start), end: int32(p.pos), next: int32(len(p.nodes) + 1)})
}

// value reads one value; depth is the number of arrays and objects around it.
func (p *parser) value(depth int) {
	if p.pos >= len(p.s) {
		p.fail(p.pos, "unexpected end of input, expected a JSON value")
		return
	}
	start := p.pos
	switch c := p.s[p.pos]; {
	case c == '{' || c == '[':
		if depth >= p.o.MaxDepth {
			p.fail(p.pos, "JSON nested too deeply")
			return
		}
		p.container(depth)
	case c == '"':
		if esc, ok := p.str(); ok {
			p.leaf(String, start, esc)
		}
	case c == 't':
		p.literal("true", Bool)
	case c == 'f':
		p.literal("false", Bool)
	case c == 'n':
		p.literal("null", Null)
	case c == '-' || (c >= '0' && c <= '9'):
		p.number()
	default:
		p.fail(p.pos, "unexpected "+p.describe()+", expected a JSON value")
	}
}

func (p *parser) literal(word string, k Kind) {
	if len(p.s)-p.pos < len(word) || p.s[p.pos:p.pos+len(word)] != word {
		p.fail(p.pos, "invalid literal, expected "+word)
		return
	}
	p.pos += len(word)
	p.leaf(k, p.pos-len(word), false)
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func (p *parser) number() {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.s) && p.s[p.pos] == '0' {
		p.pos++
	} else if p.digits() == 0 {
		p.fail(p.pos, "invalid number")
		return
	}
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			p.fail(p.pos, "invalid number: expected a digit after '.'")
			return
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			p.fail(p.pos, "invalid number: expected a digit in the exponent")
			return
		}
	}
	p.leaf(Number, start, false)
}

// str checks the string starting at the opening quote at p.pos and moves past its closing
// quote. esc reports whether it holds escapes (so Str must decode it).
func (p *parser) str() (esc, ok bool) {
	start := p.pos
	p.pos++
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return esc, true
		case c == '\\':
			esc = true
			if !p.escape(start) {
				return false, false
			}
		case c < 0x20:
			p.fail(p.pos, "control character "+strconv.QuoteRune(rune(c))+" in string; escape it")
			return false, false
		case c < utf8.RuneSelf || p.o.AllowInvalidUTF8:
			p.pos++
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.pos:])
			if r == utf8.RuneError && n == 1 {
				p.fail(p.pos, "string is not valid UTF-8")
				return false, false
			}
			p.pos += n
		}
	}
	p.fail(start, "unterminated string")
	return false, false
}

// escape checks the escape sequence at p.pos (a backslash) of the string opened at start.
func (p *parser) escape(start int) bool {
	at := p.pos
	if at+1 >= len(p.s) {
		p.fail(start, "unterminated string")
		return false
	}
	switch e := p.s[at+1]; e {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.pos += 2
		return true
	case 'u':
	default:
		p.fail(at, "invalid escape "+quoteEscape(p.s[at:])+" in string")
		return false
	}
	r, ok := hex4(p.s, at+2)
	if !ok {
		p.fail(at, "invalid \\u escape: expected 4 hex digits")
		return false
	}
	p.pos += 6
	if r < 0xd800 || r >= 0xe000 || p.o.AllowInvalidUTF8 {
		return true // not a surrogate, or one that Str turns into U+FFFD
	}
	if r < 0xdc00 && p.pos+1 < len(p.s) && p.s[p.pos] == '\\' && p.s[p.pos+1] == 'u' {
		r2, ok := hex4(p.s, p.pos+2)
		if !ok {
			p.fail(p.pos, "invalid \\u escape: expected 4 hex digits")
			return false
		}
		if r2 >= 0xdc00 && r2 < 0xe000 {
			p.pos += 6
			return true
		}
	}
	p.fail(at, "invalid UTF-16 surrogate pair in \\u escape")
	return false
}

// quoteEscape names the escape at the start of s ("\\x") in an error message.
func quoteEscape(s string) string {
	r, n := utf8.DecodeRuneInString(s[1:])
	if r == utf8.RuneError && n == 1 {
		return "'\\' followed by byte 0x" + strconv.FormatUint(uint64(s[1]), 16)
	}
	if r < 0x20 {
		return "'\\' followed by " + strconv.QuoteRune(r)
	}
	return "'\\" + string(r) + "'"
}

// hex4 decodes the 4 hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var v rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// dupIndexFrom is the member count from which duplicate keys are looked up in a map rather
// than by comparing with every earlier key.
const dupIndexFrom = 16

// container reads an array or an object.
func (p *parser) container(depth int) {
	obj := p.s[p.pos] == '{'
	k, closing, expect := Array, byte(']'), "expected ',' or ']'"
	if obj {
		k, closing, expect = Object, '}', "expected ',' or '}'"
	}
	idx := len(p.nodes)
	p.nodes = append(p.nodes, node{kind: k, start: int32(p.pos)})
	p.pos++
	p.space()
	n := 0
	var keys map[string]struct{}
	if p.pos < len(p.s) && p.s[p.pos] == closing {
		p.pos++
	} else {
		for {
			p.space()
			if obj && !p.key(idx, n, &keys) {
				return
			}
			p.value(depth + 1)
			if p.err != nil {
				return
			}
			n++
			p.space()
			if p.pos >= len(p.s) {
				p.fail(p.pos, "unexpected end of input, "+expect)
				return
			}
			if c := p.s[p.pos]; c == closing {
				p.pos++
				break
			} else if c != ',' {
				p.fail(p.pos, "unexpected "+p.describe()+", "+expect)
				return
			}
			p.pos++
		}
	}
	nd := &p.nodes[idx]
	nd.end, nd.next, nd.n = int32(p.pos), int32(len(p.nodes)), int32(n)
}

// key reads an object key, its colon and the space after it; obj is the object's node index and
// n the number of members read so far (keys indexes them once there are many).
func (p *parser) key(obj, n int, keys *map[string]struct{}) bool {
	if p.pos >= len(p.s) || p.s[p.pos] != '"' {
		p.fail(p.pos, "unexpected "+p.describe()+", expected a quoted object key")
		return false
	}
	start := p.pos
	esc, ok := p.str()
	if !ok {
		return false
	}
	p.leaf(String, start, esc)
	if p.o.RejectDuplicateKeys {
		d := doc{s: p.s, nodes: p.nodes}
		ki := int32(len(p.nodes) - 1)
		key := d.str(ki)
		dup := false
		if *keys != nil {
			_, dup = (*keys)[key]
		} else {
			for i := int32(obj + 1); i < ki; i = d.nodes[i+1].next {
				if d.str(i) == key {
					dup = true
					break
				}
			}
		}
		if dup {
			p.fail(start, "duplicate key "+strconv.Quote(key))
			return false
		}
		if n+1 == dupIndexFrom {
			*keys = make(map[string]struct{}, 2*dupIndexFrom)
			for i := int32(obj + 1); i < ki; i = d.nodes[i+1].next {
				(*keys)[d.str(i)] = struct{}{}
			}
		}
		if *keys != nil {
			(*keys)[key] = struct{}{}
		}
	}
	p.space()
	if p.pos >= len(p.s) || p.s[p.pos] != ':' {
		p.fail(p.pos, "unexpected "+p.describe()+", expected ':' after object key")
		return false
	}
	p.pos++
	p.space()
	return true
}
