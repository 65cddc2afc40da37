package policy

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds documents to Parse: it must never panic, errors must carry a message, and a
// document that parses must compile and evaluate consistently.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases(f) {
		for _, d := range c.docs() {
			f.Add(d)
		}
	}
	vars := &Vars{ClientID: "dev1", HasClientID: true, SourceIP: "10.0.0.1", Context: map[string]string{"tenant": "acme"},
		ConnectAttributes: []string{"PersistentConnect", "LastWill"}, HasConnectAttributes: true,
		LastWillTopic: "arn:aws:iot:us-east-1:123456789012:topic/will/dev1", HasLastWillTopic: true,
		DomainName: "iot.example.com", HasDomainName: true}
	requests := [][2]string{
		{ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/dev1/x"},
		{ActionSubscribe, "arn:aws:iot:us-east-1:123456789012:topicfilter/dev1/#"},
		{ActionConnect, "arn:aws:iot:us-east-1:123456789012:client/dev1"},
		{"iot:Other", "*"},
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := Parse(doc)
		if err != nil {
			if d != nil {
				t.Fatal("Parse returned a document and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		s, err := Compile(d)
		if err != nil {
			t.Fatalf("a parsed document does not compile: %v", err)
		}
		for _, r := range requests {
			got := s.Evaluate(r[0], r[1], vars)
			res, m := s.Explain(r[0], r[1], vars)
			if got != res || (got == ImplicitDeny) != (len(m) == 0) {
				t.Fatalf("Evaluate %s, Explain %s with %d matches", got, res, len(m))
			}
		}
	})
}

// refToken is one element of a pattern for the reference matcher: a character (the bytes of one
// UTF-8 rune, or one invalid byte), '*' or '?'.
type refToken struct {
	star, quest bool
	char        string
}

// refChars splits s into characters the way the matcher counts them.
func refChars(s string) []string {
	var out []string
	for len(s) > 0 {
		_, w := utf8.DecodeRuneInString(s)
		out = append(out, s[:w])
		s = s[w:]
	}
	return out
}

// refParse reads a pattern the plain way. ok is false when a variable does not resolve;
// skip is true for syntax the reference does not model (defaults).
func refParse(p string, wild bool, clientID string, ctx map[string]string) (toks []refToken, ok, skip bool) {
	literal := func(s string) {
		for _, c := range refChars(s) {
			toks = append(toks, refToken{char: c})
		}
	}
	ok = true
	for len(p) > 0 {
		if len(p) >= 4 && p[0] == '$' && p[1] == '(' && p[3] == ')' && strings.ContainsRune("*?$", rune(p[2])) {
			literal(p[2:3])
			p = p[4:]
			continue
		}
		if strings.HasPrefix(p, "${") {
			end := strings.IndexByte(p, '}')
			body := p[2:end]
			p = p[end+1:]
			switch {
			case body == "*" || body == "?" || body == "$":
				literal(body)
			case strings.Contains(body, ","):
				return nil, false, true
			case strings.EqualFold(body, "iot:ClientId"):
				literal(clientID)
			case len(body) > 8 && strings.EqualFold(body[:8], "context:"):
				v, found := ctx[body[8:]]
				if !found {
					ok = false
				}
				literal(v)
			default:
				ok = false
			}
			continue
		}
		c := refChars(p)[0]
		p = p[len(c):]
		switch {
		case wild && c == "*":
			toks = append(toks, refToken{star: true})
		case wild && c == "?":
			toks = append(toks, refToken{quest: true})
		default:
			toks = append(toks, refToken{char: c})
		}
	}
	return toks, ok, false
}

// refMatch is the textbook dynamic-programming wildcard matcher.
func refMatch(toks []refToken, s []string, fold bool) bool {
	// m[i][j]: toks[i:] matches s[j:].
	m := make([][]bool, len(toks)+1)
	for i := range m {
		m[i] = make([]bool, len(s)+1)
	}
	m[len(toks)][len(s)] = true
	for i := len(toks) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			t := toks[i]
			switch {
			case t.star:
				m[i][j] = m[i+1][j] || (j < len(s) && m[i][j+1])
			case j == len(s):
				m[i][j] = false
			case t.quest:
				m[i][j] = m[i+1][j+1]
			default:
				eq := t.char == s[j]
				if fold && !eq {
					// The standard library's simple case folding, independent of foldEqual.
					eq = strings.EqualFold(t.char, s[j])
				}
				m[i][j] = eq && m[i+1][j+1]
			}
		}
	}
	return m[0][0]
}

// FuzzMatch checks the compiled matcher against refMatch on random patterns and inputs.
func FuzzMatch(f *testing.F) {
	seeds := []string{"*", "a*", "a?c", "*/x/*/y", "a${*}", "q${?}", "${$}{x}", "$(*)*$(?)", "$($)(*)", "${iot:ClientId}/*",
		"${context:k}*${iot:ClientId}", "caf?", "**a", "?*?", "a/+/#", "ÉTÉ*", "${context:none}"}
	for _, c := range loadCases(f) {
		if c.Request != nil {
			seeds = append(seeds, c.Request.Resource)
		}
	}
	for i, s := range seeds {
		f.Add(s, s+"x", "dev1", i%2 == 0, i%3 == 0)
		f.Add(s, "abc/x/y", "*", i%2 == 1, false)
	}
	f.Fuzz(func(t *testing.T, pat, s, clientID string, wild, fold bool) {
		// Policy strings come from JSON and are valid UTF-8; MQTT client ids must be too. The
		// matcher compares literals byte for byte, so on invalid UTF-8 in the pattern it can
		// match part of a character, which the character-based reference would not.
		if len(pat) > 64 || len(s) > 128 || !utf8.ValidString(pat) || !utf8.ValidString(clientID) {
			return
		}
		ctx := map[string]string{"k": "v*", "": "empty"}
		p, msg, _ := parsePattern(pat, patternOptions{wild: wild, vars: true, fold: fold})
		if msg != "" {
			return
		}
		toks, ok, skip := refParse(pat, wild, clientID, ctx)
		if skip {
			return
		}
		got := p.match(s, &Vars{ClientID: clientID, HasClientID: true, Context: ctx})
		want := unresolved
		if ok {
			want = boolResult(refMatch(toks, refChars(s), fold))
		}
		if got != want {
			t.Fatalf("pattern %q (wild %v, fold %v) on %q with client id %q: got %v, reference %v", pat, wild, fold, s, clientID, got, want)
		}
	})
}

// FuzzParseIP checks the hand-written address parser against net/netip.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:0:0:0:1", "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "1::2::3", ":1", "1:", "12345::", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '%') { // zones: netip accepts them, policies do not
			return
		}
		got, _, ok := parseIP(s)
		want, err := netip.ParseAddr(s)
		if ok != (err == nil) {
			t.Fatalf("parseIP(%q) ok=%v, netip err=%v", s, ok, err)
		}
		if ok && got != want.As16() {
			t.Fatalf("parseIP(%q) = %v, netip %v", s, got, want.As16())
		}
	})
}

// FuzzStringOps checks the word-at-a-time string functions used on wasm against the standard
// library.
func FuzzStringOps(f *testing.F) {
	f.Add("devices/dev1/telemetry", "/admin/")
	f.Add("arn:aws:iot:us-east-1:123456789012:topic/x", "arn:aws:iot:us-east-1:123456789012:topic/")
	f.Add("aaaaaaaaaaaaaaaaab", "ab")
	f.Add("\x80\x80\x80\x80\x80\x80\x80\x80\x81", "\x81")
	f.Add("0123456789abcdef", "")
	f.Fuzz(func(t *testing.T, s, sub string) {
		if got, want := hasPrefixWords(s, sub), strings.HasPrefix(s, sub); got != want {
			t.Fatalf("hasPrefixWords(%q, %q) = %v", s, sub, got)
		}
		if got, want := indexWords(s, sub), strings.Index(s, sub); got != want {
			t.Fatalf("indexWords(%q, %q) = %d, want %d", s, sub, got, want)
		}
	})
}
