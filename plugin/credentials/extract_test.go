package credentials

import (
	"strings"
	"testing"
)

// FuzzPick: the one-pass reading of a query agrees with Query (first value wins, escapes
// decoded, empty keys ignored) for the keys it reads, and reports Others exactly when another
// parameter is present.
func FuzzPick(f *testing.F) {
	for _, s := range []string{
		"", "qos=1", "qos=1&retain=true", "qos=0&qos=1", "x-amz-customauthorizer-name=a&tok=T",
		"x-amz-customauthorizer-signature=ab%2Bc%3D&x%2Damz-customauthorizer-name=n", "%71os=2", "=x&&qos", "a=1&qos=1",
	} {
		f.Add(s)
	}
	keys := []string{"qos", "retain", NameKey, SignatureKey}
	f.Fuzz(func(t *testing.T, raw string) {
		pk := Pick(raw, keys...)
		q := ParseQuery(raw)
		for i, name := range keys {
			got, gok := pk.Get(i)
			want, wok := q.Get(name)
			if got != want || gok != wok || pk.Has(i) != wok {
				t.Fatalf("%s: Pick %q, %v; Query.Get %q, %v", name, got, gok, want, wok)
			}
		}
		others := false
		for _, p := range pairs(q) {
			k := p[0]
			known := false
			for _, name := range keys {
				known = known || k == name
			}
			others = others || !known
		}
		if pk.Others != others {
			t.Fatalf("Others = %v, want %v", pk.Others, others)
		}
	})
}

func TestSources_Extract(t *testing.T) {
	const tok = "x-device-token"
	tests := []struct {
		name    string
		src     Sources
		tokKey  string
		want    Presented
		noToken bool
	}{
		{
			name: "headers",
			src:  Sources{Headers: [][2]string{{":path", "/topics/t"}, {NameKey, "A"}, {SignatureKey, "S"}, {tok, "T"}}},
			want: Presented{Name: "A", Signature: "S", Token: "T", HasName: true, HasSignature: true, HasToken: true,
				NameHeader: true, SignatureHeader: true, TokenHeader: true},
		},
		{
			name: "query, escapes decoded, plus kept",
			src:  Sources{Query: "x%2Damz-customauthorizer-name=A&x-amz-customauthorizer-signature=ab+c%3D&x-device-token=T%20"},
			want: Presented{Name: "A", Signature: "ab+c=", Token: "T ", HasName: true, HasSignature: true, HasToken: true, InQuery: true},
		},
		{
			name: "header wins over query, the query still marked for stripping",
			src:  Sources{Headers: [][2]string{{NameKey, "H"}, {tok, "TH"}}, Query: "x-amz-customauthorizer-name=Q&x-device-token=TQ"},
			want: Presented{Name: "H", Token: "TH", HasName: true, HasToken: true, NameHeader: true, TokenHeader: true, InQuery: true},
		},
		{
			name: "query wins over username",
			src:  Sources{Query: "x-amz-customauthorizer-name=Q", Username: "dev?x-amz-customauthorizer-name=U&x-amz-customauthorizer-signature=S&x-device-token=T"},
			want: Presented{Name: "Q", Signature: "S", Token: "T", HasName: true, HasSignature: true, HasToken: true, InQuery: true},
		},
		{
			name: "username only (MQTT over TLS), extra keys tolerated",
			src:  Sources{Username: "dev?SDK=Go&x-amz-customauthorizer-name=U&x-device-token=T&Version=1"},
			want: Presented{Name: "U", Token: "T", HasName: true, HasToken: true},
		},
		{
			name: "first of repeated keys",
			src:  Sources{Headers: [][2]string{{NameKey, "1"}, {NameKey, "2"}}, Query: "x-device-token=a&x-device-token=b"},
			want: Presented{Name: "1", Token: "a", HasName: true, HasToken: true, NameHeader: true, InQuery: true},
		},
		{
			name: "empty values are present",
			src:  Sources{Query: "x-amz-customauthorizer-name=&x-device-token"},
			want: Presented{HasName: true, HasToken: true, InQuery: true},
		},
		{
			name:   "token key compared without case in headers, exactly in queries",
			src:    Sources{Headers: [][2]string{{"x-device-token", "T"}}},
			tokKey: "X-Device-Token",
			want:   Presented{Token: "T", HasToken: true, TokenHeader: true},
		},
		{
			name:    "nothing",
			src:     Sources{Username: "plain", Query: "qos=1"},
			want:    Presented{},
			noToken: true,
		},
		{
			name: "truncated escapes kept literally",
			src:  Sources{Username: "d?x-amz-customauthorizer-signature=%2&x-device-token=%"},
			want: Presented{Signature: "%2", Token: "%", HasSignature: true, HasToken: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.tokKey
			if key == "" {
				key = tok
			}
			got := tc.src.Extract()
			tc.src.Token(&got, key)
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			if any := tc.src.AnyToken([]string{"other", key}); any == tc.noToken {
				t.Fatalf("AnyToken = %v", any)
			}
		})
	}
}

// TestSources_Hostile: oversized, repeated and malformed inputs never panic and still give the
// first well-formed value; a good request after them is read as usual.
func TestSources_Hostile(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	for _, s := range []Sources{
		{Query: strings.Repeat("&", 1<<16)},
		{Query: strings.Repeat("x-device-token=1&", 1<<14)},
		{Username: "?" + big},
		{Username: "?=%=%%=&&=" + big},
		{Headers: make([][2]string, 1<<12)},
	} {
		p := s.Extract()
		s.Token(&p, "x-device-token")
		_ = s.AnyToken([]string{"x-device-token"})
	}
	s := Sources{Query: "x-device-token=ok"}
	p := s.Extract()
	if s.Token(&p, "x-device-token"); p.Token != "ok" {
		t.Fatalf("token %q after hostile inputs", p.Token)
	}
}

func TestStripQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"qos=1&tok=T&x=2", "qos=1&x=2"},
		{"tok=T", ""},
		{"x%2Damz-customauthorizer-name=A&qos=1", "qos=1"},
		{"qos=1", "qos=1"},
		{"a&&tok=1", "a&"},   // empty segments before a stripped one are kept, as they were
		{"=tok&tok", "=tok"}, // an empty key never matches
		{"%zz=1&tok=2", "%zz=1"},
	}
	for _, tc := range tests {
		if got := StripQuery(tc.raw, NameKey, "tok", ""); got != tc.want {
			t.Errorf("StripQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestUnescapePath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a%2Fb+c", "a/b+c", true},
		{"plain", "plain", true},
		{"%41%62", "Ab", true},
		{"a%2", "", false},
		{"a%", "", false},
		{"%zz", "", false},
		{"%%41", "", false},
	}
	for _, tc := range tests {
		if got, ok := UnescapePath(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("UnescapePath(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHeader(t *testing.T) {
	hs := [][2]string{{":status", "200"}, {"a", "1"}, {"a", "2"}}
	if v, ok := Header(hs, "a"); v != "1" || !ok {
		t.Fatalf("Header a = %q, %v", v, ok)
	}
	if _, ok := Header(hs, "A"); ok {
		t.Fatal("Header compares names exactly")
	}
	if _, ok := Header(nil, "a"); ok {
		t.Fatal("found in no headers")
	}
}

// FuzzSources_Query: what Extract, Param and Token read from a query agrees with Query.Get,
// whether the key is one Extract picked or not.
func FuzzSources_Query(f *testing.F) {
	for _, s := range []string{"", "qos=1", "qos=1&tok=T", "retain=%74rue&x-amz-customauthorizer-name=A", "tok=1&tok=2&qos", "%74ok=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := ParseQuery(raw)
		for _, key := range []string{"tok", "qos", NameKey, "retain"} {
			s := Sources{Query: raw, Extra: [2]string{"qos", "retain"}}
			p := s.Extract()
			if v, ok := q.Get(NameKey); p.Name != v || p.HasName != ok {
				t.Fatalf("name %q, %v; Query.Get %q, %v", p.Name, p.HasName, v, ok)
			}
			for i, extra := range s.Extra {
				got, gok := s.Param(i)
				if want, wok := q.Get(extra); got != want || gok != wok {
					t.Fatalf("Param(%s) %q, %v; Query.Get %q, %v", extra, got, gok, want, wok)
				}
			}
			s.Token(&p, key)
			if want, wok := q.Get(key); p.Token != want || p.HasToken != wok {
				t.Fatalf("Token(%s) %q, %v; Query.Get %q, %v", key, p.Token, p.HasToken, want, wok)
			}
		}
	})
}
