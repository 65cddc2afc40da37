package credentials

import (
	"strings"

	"github.com/iotauthz/iotauthz/internal/ascii"
)

// Presented is what a device presented to a custom authorizer: the authorizer it named, its
// token and the token's signature, each with whether it was there at all (an empty value is
// still "there"). The engine takes it whatever the transport (HTTPS, MQTT over WebSocket, MQTT
// over TLS).
type Presented struct {
	Name, Token, Signature          string
	HasName, HasToken, HasSignature bool

	// Where they were found, so that they can be stripped before the request goes upstream:
	// NameHeader, SignatureHeader and TokenHeader are set when the value came from a request
	// header; InQuery when any of them came from the request's query.
	NameHeader, SignatureHeader, TokenHeader bool
	InQuery                                  bool
}

// Sources are the places a device may put its credentials, in AWS's order of precedence: the
// request headers, then the request's query string (HTTPS publish, the WebSocket upgrade), then
// the query of the MQTT CONNECT username (MQTT over TLS or WebSocket). A place that does not
// apply is left zero.
//
//	headers  x-amz-customauthorizer-name: A      x-amz-customauthorizer-signature: S    TOKENKEY: T
//	query    ?x-amz-customauthorizer-name=A&x-amz-customauthorizer-signature=S&TOKENKEY=T
//	username anything?x-amz-customauthorizer-name=A&x-amz-customauthorizer-signature=S&TOKENKEY=T
type Sources struct {
	// Headers are the request headers, names in lower case (as Envoy hands them).
	Headers [][2]string
	// Query is the request's raw query string, without its '?'.
	Query string
	// Username is the MQTT CONNECT username, its "?…" query included.
	Username string
	// Extra names up to two more query parameters that Extract reads in the same pass over the
	// query (the HTTPS publish's qos and retain); Param returns them.
	Extra [2]string

	pk     Picked // the query as Extract read it
	picked bool
}

// Extract returns the authorizer name and the signature the device presented; the token, whose
// key depends on the authorizer, comes from Token once the authorizer is known.
//
//	Sources{Query: "x-amz-customauthorizer-name=A", Username: "d?x-amz-customauthorizer-name=B"}
//	  → Name "A" (the request query wins over the username)
func (s *Sources) Extract() Presented {
	var p Presented
	h := header2(s.Headers, NameKey, SignatureKey)
	p.Name, p.HasName, p.NameHeader = h[0].v, h[0].ok, h[0].ok
	p.Signature, p.HasSignature, p.SignatureHeader = h[1].v, h[1].ok, h[1].ok
	if s.Query != "" {
		// InQuery counts a key the header already gave too: the query is stripped of it.
		s.pk, s.picked = Pick(s.Query, NameKey, SignatureKey, s.Extra[0], s.Extra[1]), true
		p.InQuery = s.pk.Has(0) || s.pk.Has(1)
		if !p.HasName {
			p.Name, p.HasName = s.pk.Get(0)
		}
		if !p.HasSignature {
			p.Signature, p.HasSignature = s.pk.Get(1)
		}
	}
	if s.Username != "" && (!p.HasName || !p.HasSignature) {
		if _, q, ok := SplitUsername(s.Username); ok {
			if !p.HasName {
				p.Name, p.HasName = q.Get(NameKey)
			}
			if !p.HasSignature {
				p.Signature, p.HasSignature = q.Get(SignatureKey)
			}
		}
	}
	return p
}

// Token fills p's token: the value under key (an authorizer's tokenKeyName) in the same order
// of precedence. The header name is compared without regard to ASCII case.
func (s *Sources) Token(p *Presented, key string) {
	if key == "" {
		return
	}
	p.Token, p.HasToken = headerFold(s.Headers, key)
	p.TokenHeader = p.HasToken
	if s.Query != "" {
		if v, ok := s.queryGet(key); ok {
			p.InQuery = true // stripped even when the header gave the token
			if !p.HasToken {
				p.Token, p.HasToken = v, true
			}
		}
	}
	if !p.HasToken && s.Username != "" {
		if _, q, ok := SplitUsername(s.Username); ok {
			p.Token, p.HasToken = q.Get(key)
		}
	}
}

// Param returns the i-th Extra query parameter, as Query.Get would; Extract must have run.
func (s *Sources) Param(i int) (string, bool) {
	if !s.picked {
		return "", false
	}
	return s.pk.Get(2 + i)
}

// queryGet is Query.Get on s.Query, through what Extract picked when it can: only a query
// holding a parameter other than the picked ones can hold another key.
func (s *Sources) queryGet(key string) (string, bool) {
	if s.picked {
		for i, k := range [MaxPicked]string{NameKey, SignatureKey, s.Extra[0], s.Extra[1]} {
			if k == key {
				return s.pk.Get(i)
			}
		}
		if !s.pk.Others {
			return "", false
		}
	}
	return ParseQuery(s.Query).Get(key)
}

// AnyToken reports whether a header or a query parameter named one of keys (tokenKeyNames) is
// in s: a WebSocket upgrade without any credentials leaves them to the MQTT CONNECT.
func (s *Sources) AnyToken(keys []string) bool {
	var p Presented
	for _, k := range keys {
		if s.Token(&p, k); p.HasToken {
			return true
		}
	}
	return false
}

// Header returns the value of the first header called name; names compare exactly (Envoy hands
// a filter its header names in lower case).
func Header(hs [][2]string, name string) (string, bool) {
	for _, kv := range hs {
		if kv[0] == name {
			return kv[1], true
		}
	}
	return "", false
}

// headerFold is Header with name compared ASCII case-insensitively (a tokenKeyName may hold
// capitals; the header names are lower case).
func headerFold(hs [][2]string, name string) (string, bool) {
	for _, kv := range hs {
		if ascii.EqualFold(kv[0], name) {
			return kv[1], true
		}
	}
	return "", false
}

type found struct {
	v  string
	ok bool
}

// header2 is Header for two names in one pass.
func header2(hs [][2]string, a, b string) (r [2]found) {
	for _, kv := range hs {
		switch k := kv[0]; {
		case !r[0].ok && k == a:
			r[0] = found{kv[1], true}
		case !r[1].ok && k == b:
			r[1] = found{kv[1], true}
		}
	}
	return r
}

// MaxPicked is how many parameters Pick reads in one pass.
const MaxPicked = 4

// Picked is what Pick found: the raw (still escaped) value of the first parameter of each key,
// and whether any other parameter is present.
type Picked struct {
	raw    [MaxPicked]string
	has    [MaxPicked]bool
	Others bool
}

// Pick reads the parameters keys (at most MaxPicked; an empty key matches nothing) of a raw
// query string in one pass, as Query.Get reads each (first value wins, keys percent-decoded,
// empty keys ignored).
//
//	Pick("qos=1&x%2Damz=2&z=3", "qos", "x-amz") → Get(0) "1", Get(1) "2", Others true
func Pick(raw string, keys ...string) (p Picked) {
	for raw != "" {
		var k, v string
		k, v, raw = NextPair(raw)
		if k == "" {
			continue // ignored, as Query ignores it
		}
		which := -1
		plain := strings.IndexByte(k, '%') < 0
		for i, key := range keys[:min(len(keys), MaxPicked)] {
			if key != "" && (plain && k == key || !plain && unescapedIs(k, key)) {
				which = i
				break
			}
		}
		if which < 0 {
			p.Others = true
		} else if !p.has[which] {
			p.raw[which], p.has[which] = v, true
		}
	}
	return p
}

// Get returns the decoded value of the i-th key, as Query.Get would.
func (p *Picked) Get(i int) (string, bool) {
	if !p.has[i] {
		return "", false
	}
	return Unescape(p.raw[i]), true
}

// Has reports whether the i-th key is present.
func (p *Picked) Has(i int) bool { return p.has[i] }

// StripQuery removes the pairs whose decoded key is one of keys (empty keys never match) from a
// raw query string; the other pairs are kept verbatim and in order. raw is returned as is when
// nothing matches.
//
//	StripQuery("qos=1&tok=T&x=2", "tok") → "qos=1&x=2"
func StripQuery(raw string, keys ...string) string {
	var out []byte
	changed := false
	for part := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if k != "" && isKey(k, keys) {
			changed = true
			continue
		}
		if len(out) > 0 {
			out = append(out, '&')
		}
		out = append(out, part...)
	}
	if !changed {
		return raw
	}
	return string(out)
}

// UnescapePath percent-decodes a URL path segment strictly: "%XX" with two hex digits becomes
// that byte, '+' stays '+', and any other '%' is an error (false).
//
//	UnescapePath("a%2Fb+c") → "a/b+c", true
//	UnescapePath("a%2")     → "", false
func UnescapePath(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return string(b), true
}
