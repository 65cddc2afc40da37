package jsonv

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":              `""`,
		"plain":         `"plain"`,
		"q\"b\\":        `"q\"b\\"`,
		"\x00\x7f":      "\"\\u0000\x7f\"",
		"\xe2\x82":      `"\ufffd\ufffd"`,
		"é€😀":           `"é€😀"`,
		"\xed\xa0\x80x": `"\ufffd\ufffd\ufffdx"`, // surrogate half encoded in UTF-8 is invalid
		"a\n\r\tb":      `"a\n\r\tb"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
		if got, body := string(AppendEscaped(nil, in)), want[1:len(want)-1]; got != body {
			t.Errorf("AppendEscaped(%q) = %s, want %s", in, got, body)
		}
	}
	if got := string(AppendString([]byte("x:"), "y")); got != `x:"y"` {
		t.Errorf("AppendString appends: %s", got)
	}
}

// FuzzAppendString: encoding/json and, for valid UTF-8, Parse read every output back.
func FuzzAppendString(f *testing.F) {
	f.Add("a\"\\\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, out, err)
		}
		if back != string([]rune(s)) && back != s {
			// encoding/json and we both replace invalid UTF-8 byte by byte.
			t.Fatalf("%q → %q", s, back)
		}
		if !utf8.ValidString(s) {
			return
		}
		v, err := Parse(out)
		if err != nil {
			t.Fatalf("%q → %s: %v", s, out, err)
		}
		if got := v.Str(); v.Kind() != String || got != s {
			t.Fatalf("%q → %s → %q", s, out, got)
		}
	})
}
