package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A pattern is a compiled policy string: a Resource, an Action or a condition value. It is a list
// of tokens; policy variables stay tokens and are resolved at evaluation time, and their values are
// always matched literally (a client id "*" is not a wildcard).

type tokKind uint8

const (
	tokLit   tokKind = iota // literal text
	tokStar                 // '*': any run of characters, '/' and ':' included
	tokQuest                // '?': exactly one character
	tokVar                  // a policy variable, matched literally once resolved
)

type token struct {
	kind tokKind
	vi   uint8 // index into pattern.vars for tokVar
	lit  string
}

type fastKind uint8

const (
	fastGeneral fastKind = iota
	fastAny              // "*"
	fastEqual            // one literal
	fastPrefix           // literal then "*"
	fastSeq              // literals and variables, maybe a final "*": no backtracking needed
	fastStars            // single literals or variables separated by "*": leftmost search, no backtracking
)

// maxVarsPerString bounds the policy variables in one string so evaluation can resolve them into a
// fixed-size array on the stack.
const maxVarsPerString = 8

type pattern struct {
	// Initial backing for toks and vars, saving allocations for short patterns.
	tokBuf [3]token
	varBuf [1]varRef

	src  string
	toks []token
	vars []varRef
	fast fastKind
	fold bool // compare characters ignoring case (actions, ...IgnoreCase operators)
}

// patternOptions say how to read a policy string.
type patternOptions struct {
	wild bool // '*' and '?' are wildcards (Resource, Action, ...Like operators)
	vars bool // "${...}" is a policy variable or an escape (Version 2012-10-17)
	fold bool
}

// parsePattern compiles src. On error it returns a message and the byte offset in src.
func parsePattern(src string, o patternOptions) (*pattern, string, int) {
	p := &pattern{src: src, fold: o.fold}
	p.toks, p.vars = p.tokBuf[:0], p.varBuf[:0]
	// addLit appends literal text, joining it to a literal just before (which only happens
	// around escapes such as ${*}, so the concatenation is rare).
	addLit := func(s string) {
		if s == "" {
			return
		}
		if n := len(p.toks); n > 0 && p.toks[n-1].kind == tokLit {
			p.toks[n-1].lit += s
			return
		}
		p.toks = append(p.toks, token{kind: tokLit, lit: s})
	}
	run := 0 // start of the current run of plain characters, kept as a substring of src
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case o.wild && c == '*':
			addLit(src[run:i])
			// Consecutive stars are one star.
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tokStar {
				p.toks = append(p.toks, token{kind: tokStar})
			}
			i++
			run = i
		case o.wild && c == '?':
			addLit(src[run:i])
			p.toks = append(p.toks, token{kind: tokQuest})
			i++
			run = i
		case o.vars && c == '$' && i+3 < len(src) && src[i+1] == '(' && src[i+3] == ')' &&
			(src[i+2] == '*' || src[i+2] == '?' || src[i+2] == '$'):
			// AWS IoT's documentation spells the escapes $(*), $(?) and $($); IAM's ${*},
			// ${?} and ${$}. Both are read as the literal character.
			addLit(src[run:i])
			addLit(src[i+2 : i+3])
			i += 4
			run = i
		case o.vars && c == '$' && i+1 < len(src) && src[i+1] == '{':
			end := strings.IndexByte(src[i+2:], '}')
			if end < 0 {
				return nil, "\"${\" is not closed by \"}\"; write ${$} for a literal '$'", i
			}
			addLit(src[run:i])
			body := src[i+2 : i+2+end]
			switch body {
			case "*", "?", "$":
				addLit(body)
			default:
				ref, msg := parseVariable(body)
				if msg != "" {
					return nil, msg, i
				}
				if len(p.vars) == maxVarsPerString {
					return nil, "more than 8 policy variables in one string", i
				}
				p.toks = append(p.toks, token{kind: tokVar, vi: uint8(len(p.vars))})
				p.vars = append(p.vars, ref)
			}
			i += end + 3
			run = i
		default:
			i++
		}
	}
	addLit(src[run:])
	if !o.fold {
		switch {
		case len(p.toks) == 1 && p.toks[0].kind == tokStar:
			p.fast = fastAny
		case len(p.toks) == 0:
			p.fast = fastEqual
		case len(p.toks) == 1 && p.toks[0].kind == tokLit:
			p.fast = fastEqual
		case len(p.toks) == 2 && p.toks[0].kind == tokLit && p.toks[1].kind == tokStar:
			p.fast = fastPrefix
		default:
			p.fast = fastSeq
			for i, t := range p.toks {
				if t.kind == tokQuest || t.kind == tokStar && i != len(p.toks)-1 {
					p.fast = fastGeneral
				}
			}
			if p.fast == fastGeneral {
				p.fast = fastStars
				for i, t := range p.toks {
					if t.kind == tokQuest || t.kind != tokStar && i > 0 && p.toks[i-1].kind != tokStar {
						p.fast = fastGeneral
					}
				}
			}
		}
	} else if len(p.toks) == 1 && p.toks[0].kind == tokStar {
		p.fast = fastAny
	}
	return p, "", 0
}

// matchResult is the outcome of matching one pattern: a variable that does not resolve is neither
// a match nor a mismatch, so that negated elements can refuse to apply.
type matchResult uint8

const (
	noMatch matchResult = iota
	matched
	unresolved
)

// match matches s against the pattern with the variables of v. Statements and conditions test
// the fastAny and fastPrefix shapes in place (calls are expensive inside WebAssembly) and call
// matchSlow for the others.
func (p *pattern) match(s string, v *Vars) matchResult {
	switch p.fast {
	case fastAny:
		return matched
	case fastPrefix:
		return boolResult(hasPrefix(s, p.toks[0].lit))
	}
	return p.matchSlow(s, v)
}

func (p *pattern) matchSlow(s string, v *Vars) matchResult {
	if p.fast == fastEqual {
		if len(p.toks) == 0 {
			return boolResult(s == "")
		}
		lit := p.toks[0].lit
		return boolResult(len(s) == len(lit) && hasPrefix(s, lit))
	}
	var vals [maxVarsPerString]string
	for i := range p.vars {
		val, ok := p.vars[i].resolve(v)
		if !ok {
			return unresolved
		}
		vals[i] = val
	}
	if p.fast == fastStars {
		// With '*' as the only wildcard, the first literal must be a prefix, the last a suffix,
		// and taking the leftmost occurrence of each literal in between is never wrong.
		pos := 0
		for i := range p.toks {
			t := &p.toks[i]
			if t.kind == tokStar {
				continue
			}
			lit := t.lit
			if t.kind == tokVar {
				lit = vals[t.vi]
			}
			switch {
			case i == 0:
				if !hasPrefix(s, lit) {
					return noMatch
				}
				pos = len(lit)
			case i == len(p.toks)-1:
				return boolResult(len(s)-pos >= len(lit) && hasPrefix(s[len(s)-len(lit):], lit))
			default:
				j := index(s[pos:], lit)
				if j < 0 {
					return noMatch
				}
				pos += j + len(lit)
			}
		}
		return matched // ends with a star
	}
	if p.fast == fastSeq {
		// Each token in turn must match where the previous one ended.
		for i := range p.toks {
			t := &p.toks[i]
			lit := t.lit
			switch t.kind {
			case tokStar:
				return matched // the final star takes the rest
			case tokVar:
				lit = vals[t.vi]
			}
			if !hasPrefix(s, lit) {
				return noMatch
			}
			s = s[len(lit):]
		}
		return boolResult(len(s) == 0)
	}
	return boolResult(globMatch(p.toks, &vals, s, p.fold))
}

func boolResult(b bool) matchResult {
	if b {
		return matched
	}
	return noMatch
}

// globMatch is the classic linear wildcard matcher with a single backtrack point (the last star),
// which is exact for patterns made only of literals, '*' and '?'. It works on characters (UTF-8
// runes) so that '?' consumes one character.
func globMatch(toks []token, vals *[maxVarsPerString]string, s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tokStar:
				if ti == len(toks)-1 {
					return true // a final star takes the rest
				}
				starTi, starSi = ti+1, si
				ti++
				// Jump to the next place where the literal after the star occurs.
				if !fold {
					if j, ok := nextLiteral(toks, ti, vals, s, si); !ok {
						return false
					} else {
						starSi += j
						si = starSi
					}
				}
				continue
			case tokQuest:
				if si < len(s) {
					si += runeWidth(s[si:])
					ti++
					continue
				}
			default:
				lit := t.lit
				if t.kind == tokVar {
					lit = vals[t.vi]
				}
				if fold {
					if n, ok := foldPrefix(s[si:], lit); ok {
						si += n
						ti++
						continue
					}
				} else if hasPrefix(s[si:], lit) {
					si += len(lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		starSi += runeWidth(s[starSi:])
		if !fold {
			j, ok := nextLiteral(toks, starTi, vals, s, starSi)
			if !ok {
				return false
			}
			starSi += j
		}
		ti, si = starTi, starSi
	}
}

// nextLiteral returns how far after s[from:] the literal token toks[ti] next occurs, or 0 if
// toks[ti] is not a literal. ok is false when the literal does not occur at all: then no later
// position of the star can match, and neither can an earlier star.
func nextLiteral(toks []token, ti int, vals *[maxVarsPerString]string, s string, from int) (int, bool) {
	if ti >= len(toks) {
		return 0, true
	}
	var lit string
	switch t := &toks[ti]; t.kind {
	case tokLit:
		lit = t.lit
	case tokVar:
		lit = vals[t.vi]
	default:
		return 0, true
	}
	j := index(s[from:], lit)
	return j, j >= 0
}

func runeWidth(s string) int {
	if s[0] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s)
	return w
}

// foldPrefix reports whether s starts with lit under Unicode simple case folding, and how many
// bytes of s that prefix spans.
func foldPrefix(s, lit string) (int, bool) {
	si := 0
	for li := 0; li < len(lit); {
		if si >= len(s) {
			return 0, false
		}
		a, b := s[si], lit[li]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lower(a) != lower(b) {
				return 0, false
			}
			si++
			li++
			continue
		}
		ra, wa := utf8.DecodeRuneInString(s[si:])
		rb, wb := utf8.DecodeRuneInString(lit[li:])
		if !foldEqual(ra, rb) {
			return 0, false
		}
		si += wa
		li += wb
	}
	return si, true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
