package credentials

import (
	"strings"

	"github.com/iotauthz/iotauthz/internal/ascii"
)

// The AWS keys, used both as HTTP header names and as query parameter names.
const (
	NameKey      = "x-amz-customauthorizer-name"
	SignatureKey = "x-amz-customauthorizer-signature"
)

// Query is a query string read lazily: its key/value pairs in order, percent-decoded on access,
// duplicates kept (Get returns the first). Nothing is allocated until a value holding an escape
// is returned: a request's query is read a handful of times and usually holds a pair or two.
// The zero Query is empty.
type Query struct {
	raw string
}

// ParseQuery reads raw (without the leading '?'): pairs separated by '&', key and value by the
// first '='. A pair without '=' has an empty value; pairs with an empty key are ignored.
//
//	ParseQuery("a=1&b=x%2By&b=2&=z&c") → a:"1", b:"x+y" (first wins), c:""
//	ParseQuery("s=ab+c%3D%zz")        → s:"ab+c=%zz"
func ParseQuery(raw string) Query { return Query{raw: raw} }

// NextPair cuts the first pair off a query string: its key and value, still escaped, and what
// follows the '&'. Query reads through it; a filter scanning for a few keys in one pass may too.
func NextPair(raw string) (k, v, rest string) {
	seg, rest := cutPair(raw)
	k = seg
	if i := strings.IndexByte(seg, '='); i >= 0 {
		k, v = seg[:i], seg[i+1:]
	}
	return k, v, rest
}

// cutPair cuts the first '&'-separated segment off a query string: the segment and what follows
// the '&' ("" when there is none).
func cutPair(raw string) (seg, rest string) {
	seg, rest, _ = strings.Cut(raw, "&")
	return seg, rest
}

// Get returns the value of the first pair named key and whether there was one.
func (q Query) Get(key string) (string, bool) {
	for raw := q.raw; raw != ""; {
		var k, v string
		k, v, raw = NextPair(raw)
		if k != "" && unescapedIs(k, key) {
			return Unescape(v), true
		}
	}
	return "", false
}

// unescapedIs reports whether Unescape(enc) == want, without allocating.
func unescapedIs(enc, want string) bool {
	if strings.IndexByte(enc, '%') < 0 {
		return enc == want
	}
	j := 0
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c == '%' && i+2 < len(enc) && isHex(enc[i+1]) && isHex(enc[i+2]) {
			c = unhex(enc[i+1])<<4 | unhex(enc[i+2])
			i += 2
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

// Unescape percent-decodes s. "%XX" with two hex digits becomes that byte; anything else,
// '+' and malformed escapes included, is kept literally. s is returned as is when it holds no
// escape.
func Unescape(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// SplitUsername splits an MQTT CONNECT username at its first '?': the free-form prefix and the
// parsed query that carries the credentials. Extra keys (the AWS SDKs add SDK=…&Version=…) are
// kept and ignored by the caller.
//
//	SplitUsername("dev?x-amz-customauthorizer-name=A&tok=T") → "dev", {name: A, tok: T}, true
//	SplitUsername("plain")                                  → "plain", {}, false
func SplitUsername(username string) (prefix string, q Query, hasQuery bool) {
	i := strings.IndexByte(username, '?')
	if i < 0 {
		return username, Query{}, false
	}
	return username[:i], ParseQuery(username[i+1:]), true
}

// StripUsername removes the pairs whose (decoded) key is one of keys from the query part of an
// MQTT username, typically NameKey, SignatureKey and the authorizer's tokenKeyName, so the broker
// never sees the credentials. The other pairs are kept verbatim and in order (empty segments are
// dropped); the '?' goes too when nothing remains. A username without '?' or without any of keys
// is returned unchanged.
//
//	StripUsername("dev?x-amz-customauthorizer-name=A&SDK=Go&tok=T", NameKey, "tok") → "dev?SDK=Go"
//	StripUsername("dev?tok=T", "tok")                                             → "dev"
func StripUsername(username string, keys ...string) string {
	i := strings.IndexByte(username, '?')
	if i < 0 {
		return username
	}
	prefix, raw := username[:i], username[i+1:]
	removed := false
	for rest := raw; rest != ""; {
		var seg string
		seg, rest = cutPair(rest)
		if isKey(seg, keys) {
			removed = true
			break
		}
	}
	if !removed {
		return username
	}
	var b strings.Builder
	b.Grow(len(username))
	b.WriteString(prefix)
	n := 0
	for rest := raw; rest != ""; {
		var seg string
		seg, rest = cutPair(rest)
		if seg == "" || isKey(seg, keys) {
			continue
		}
		if n == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(seg)
		n++
	}
	return b.String()
}

// isKey reports whether the pair seg ("k=v" or "k") has a decoded key among keys.
func isKey(seg string, keys []string) bool {
	k := seg
	if i := strings.IndexByte(seg, '='); i >= 0 {
		k = seg[:i]
	}
	k = Unescape(k)
	for _, want := range keys {
		if k == want {
			return true
		}
	}
	return false
}

// HostOnly returns the host of a Host header or SNI value: lowercased, without the port, without
// the brackets of an IPv6 literal and without one trailing dot.
//
//	HostOnly("IoT.Example.com:443") → "iot.example.com"
//	HostOnly("[::1]:8443")          → "::1"
//	HostOnly("::1")                 → "::1" (a bare IPv6 address has no port)
func HostOnly(hostport string) string {
	return ascii.Lower(HostPart(hostport))
}

// HostPart is HostOnly without the lowering: the host of "host:port", "[v6]:port" or "host.", as
// written. It never allocates.
func HostPart(hostport string) string {
	h := hostport
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[1:i]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}
