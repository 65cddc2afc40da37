package credentials

import (
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want [][2]string // pairs in order
	}{
		{name: "empty", raw: "", want: nil},
		{name: "simple", raw: "a=1&b=2", want: [][2]string{{"a", "1"}, {"b", "2"}}},
		{name: "plus stays plus", raw: "sig=ab+cd==", want: [][2]string{{"sig", "ab+cd=="}}},
		{name: "encoded plus slash equals", raw: "sig=ab%2Bc%2fd%3D%3d", want: [][2]string{{"sig", "ab+c/d=="}}},
		{name: "encoded key", raw: "x%2Damz=1", want: [][2]string{{"x-amz", "1"}}},
		{name: "malformed escapes kept", raw: "a=%zz%4&b=%&c=%%41", want: [][2]string{{"a", "%zz%4"}, {"b", "%"}, {"c", "%A"}}},
		{name: "no value", raw: "a&b=", want: [][2]string{{"a", ""}, {"b", ""}}},
		{name: "value with equals", raw: "a=b=c", want: [][2]string{{"a", "b=c"}}},
		{name: "empty keys ignored", raw: "=x&&a=1&=&%=", want: [][2]string{{"a", "1"}, {"%", ""}}},
		{name: "duplicates kept in order", raw: "a=1&a=2", want: [][2]string{{"a", "1"}, {"a", "2"}}},
		{name: "space encodings", raw: "a=%20x+y", want: [][2]string{{"a", " x+y"}}},
		{name: "utf8", raw: "t=%C3%A9", want: [][2]string{{"t", "é"}}},
		{name: "trailing amp", raw: "a=1&", want: [][2]string{{"a", "1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := ParseQuery(tc.raw)
			got := pairs(q)
			if len(got) != len(tc.want) {
				t.Fatalf("%d pairs, want %d (%q)", len(got), len(tc.want), q.raw)
			}
			for i, p := range tc.want {
				if k, v := got[i][0], got[i][1]; k != p[0] || v != p[1] {
					t.Fatalf("pair %d = %q=%q, want %q=%q", i, k, v, p[0], p[1])
				}
			}
		})
	}
}

// pairs lists q's pairs in order, decoded, empty keys skipped: the view of Query that Get
// searches, read through NextPair as a filter scanning the query does.
func pairs(q Query) [][2]string {
	var out [][2]string
	for raw := q.raw; raw != ""; {
		var k, v string
		k, v, raw = NextPair(raw)
		if k != "" {
			out = append(out, [2]string{Unescape(k), Unescape(v)})
		}
	}
	return out
}

func TestQuery_Get(t *testing.T) {
	q := ParseQuery("a=1&b=&a=2&c")
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"a", "1", true}, // first wins
		{"b", "", true},
		{"c", "", true},
		{"d", "", false},
		{"A", "", false}, // keys are case-sensitive
	} {
		if v, ok := q.Get(tc.key); v != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.want, tc.ok)
		}
	}
	if _, ok := (Query{}).Get("a"); ok {
		t.Error("zero Query has a key")
	}
	enc := ParseQuery("x%2Damz=1&x-amz=2&x%2=3&qos=1")
	if v, ok := enc.Get("x-amz"); !ok || v != "1" {
		t.Errorf("Get of an encoded key = %q, %v; want the first, encoded pair", v, ok)
	}
	if v, ok := enc.Get("x%2"); !ok || v != "3" {
		t.Errorf("Get of a key with a malformed escape = %q, %v", v, ok)
	}
	// The HTTPS publish path reads a handful of keys per request: no allocation unless a
	// returned value holds an escape.
	if n := testing.AllocsPerRun(100, func() {
		q := ParseQuery("qos=1&retain=false")
		_, _ = q.Get("qos")
		_, _ = q.Get("x-amz-customauthorizer-name")
	}); n != 0 {
		t.Errorf("Get: %v allocs", n)
	}
}

func TestSplitUsername(t *testing.T) {
	tests := []struct {
		name, username, prefix string
		has                    bool
		pairs                  map[string]string
	}{
		{name: "plain", username: "device", prefix: "device"},
		{name: "empty", username: "", prefix: ""},
		{name: "aws form", username: "?x-amz-customauthorizer-name=A&x-amz-customauthorizer-signature=ab%2Bc%3D%3D&tok=T", has: true,
			pairs: map[string]string{NameKey: "A", SignatureKey: "ab+c==", "tok": "T"}},
		{name: "prefix and sdk keys", username: "user?SDK=JavaV2&Version=1.2&x-amz-customauthorizer-name=A", prefix: "user", has: true,
			pairs: map[string]string{"SDK": "JavaV2", "Version": "1.2", NameKey: "A"}},
		{name: "unencoded signature", username: "u?x-amz-customauthorizer-signature=a+b/c==", prefix: "u", has: true,
			pairs: map[string]string{SignatureKey: "a+b/c=="}},
		{name: "second question mark is data", username: "u?a=b?c", prefix: "u", has: true, pairs: map[string]string{"a": "b?c"}},
		{name: "trailing question mark", username: "u?", prefix: "u", has: true, pairs: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix, q, has := SplitUsername(tc.username)
			if prefix != tc.prefix || has != tc.has || len(pairs(q)) != len(tc.pairs) {
				t.Fatalf("= %q, %d pairs, %v", prefix, len(pairs(q)), has)
			}
			for k, want := range tc.pairs {
				if v, ok := q.Get(k); !ok || v != want {
					t.Errorf("Get(%q) = %q, %v; want %q", k, v, ok, want)
				}
			}
		})
	}
}

func TestStripUsername(t *testing.T) {
	keys := []string{NameKey, SignatureKey, "tok"}
	tests := []struct{ name, in, want string }{
		{"no query", "device", "device"},
		{"nothing to strip", "dev?SDK=Go&&x=1", "dev?SDK=Go&&x=1"},
		{"all credentials", "dev?x-amz-customauthorizer-name=A&x-amz-customauthorizer-signature=S&tok=T", "dev"},
		{"empty prefix", "?tok=T", ""},
		{"keeps the rest verbatim", "dev?x-amz-customauthorizer-name=A&SDK=Java%20V2&tok=T&Version=1", "dev?SDK=Java%20V2&Version=1"},
		{"encoded key", "dev?x-amz-customauthorizer-%6Eame=A&a=1", "dev?a=1"},
		{"duplicate credentials", "dev?tok=1&tok=2&a", "dev?a"},
		{"key without value", "dev?tok&a=1", "dev?a=1"},
		{"empty segments dropped", "dev?&tok=T&&a=1&", "dev?a=1"},
		{"similar key kept", "dev?token=T&tok=1", "dev?token=T"},
		{"trailing question mark", "dev?", "dev?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripUsername(tc.in, keys...); got != tc.want {
				t.Fatalf("StripUsername(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHostOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"iot.example.com", "iot.example.com"},
		{"IoT.Example.COM:443", "iot.example.com"},
		{"iot.example.com.", "iot.example.com"},
		{"iot.example.com.:443", "iot.example.com"},
		{"[::1]:8443", "::1"},
		{"[2001:DB8::1]", "2001:db8::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"10.0.0.1:80", "10.0.0.1"},
		{"", ""},
		{":443", ""},
		{"[::1", "[::1"},
	}
	for _, tc := range tests {
		if got := HostOnly(tc.in); got != tc.want {
			t.Errorf("HostOnly(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// HostPart is the same host as written: its case kept, a piece of the input.
		if got := HostPart(tc.in); !strings.EqualFold(got, tc.want) || !strings.Contains(tc.in, got) {
			t.Errorf("HostPart(%q) = %q, want %q in its own case", tc.in, got, tc.want)
		}
	}
}

func TestUnescape_NoAllocWithoutEscape(t *testing.T) {
	s := strings.Repeat("abc+/=", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Unescape(s) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = HostOnly("iot.example.com:443") }); n != 0 {
		t.Fatalf("HostOnly: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = HostPart("IoT.Example.com:443") }); n != 0 {
		t.Fatalf("HostPart: %v allocs", n)
	}
}

// FuzzParseQuery: never panics; Get finds the first value of every key; a pair list without
// '%' or '&' in keys and values round-trips.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "x-amz-customauthorizer-signature=ab%2Bc%3D%3D&tok=T", "%zz=%&=&&", "a=b=c&a=d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := ParseQuery(raw)
		ref := refPairs(raw)
		got := pairs(q)
		if len(got) != len(ref) {
			t.Fatalf("%d pairs, reference %d", len(got), len(ref))
		}
		for i, p := range ref {
			if k, v := got[i][0], got[i][1]; k != p[0] || v != p[1] {
				t.Fatalf("pair %d = %q=%q, reference %q=%q", i, k, v, p[0], p[1])
			}
		}
		seen := map[string]bool{}
		for _, p := range got {
			k, v := p[0], p[1]
			if k == "" {
				t.Fatal("empty key kept")
			}
			if !seen[k] {
				seen[k] = true
				if got, ok := q.Get(k); !ok || got != v {
					t.Fatalf("Get(%q) = %q, %v; want first value %q", k, got, ok, v)
				}
			}
		}
		if !strings.Contains(raw, "%") && len(got) > 0 {
			// Without escapes the pairs are substrings of raw.
			k, v := got[0][0], got[0][1]
			if !strings.Contains(raw, k) || !strings.Contains(raw, v) {
				t.Fatalf("pair %q=%q not from %q", k, v, raw)
			}
		}
		_ = StripUsername("p?"+raw, "a", "tok")
		_, _, _ = SplitUsername(raw)
		_ = HostOnly(raw)
	})
}

// refPairs is an eager reading of the query, written the obvious way: split on '&', then on the
// first '=', decode both, drop empty keys.
func refPairs(raw string) [][2]string {
	var out [][2]string
	for _, seg := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(seg, "=")
		if k = Unescape(k); k != "" {
			out = append(out, [2]string{k, Unescape(v)})
		}
	}
	return out
}

func BenchmarkParseQuery(b *testing.B) {
	raw := "qos=1&x-amz-customauthorizer-name=tokens&x-amz-customauthorizer-signature=ab%2Bcd%3D%3D&x-device-token=eyJhbGciOi"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q := ParseQuery(raw)
		if _, ok := q.Get("x-device-token"); !ok {
			b.Fatal("missing")
		}
	}
}
