package ascii

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// refLower lowers the ASCII letters of s by the unicode tables, byte by byte (bytes of 0x80 and
// above are never letters here, whatever UTF-8 they form).
func refLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x80 && unicode.IsUpper(rune(c)) {
			b[i] = byte(unicode.ToLower(rune(c)))
		}
	}
	return string(b)
}

func TestEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string([]byte{'x', byte(c), 'Y'})
		want := refLower(s)
		if got := Lower(s); got != want {
			t.Fatalf("Lower(%q) = %q, want %q", s, got, want)
		}
		if !EqualLower(s, want) || !EqualLower([]byte(s), want) {
			t.Fatalf("EqualLower(%q, %q) = false", s, want)
		}
		for d := 0; d < 256; d++ {
			u := string([]byte{'X', byte(d), 'y'})
			same := refLower(u) == want
			if got := EqualFold(s, u); got != same {
				t.Fatalf("EqualFold(%q, %q) = %v, want %v", s, u, got, same)
			}
			if got := EqualLower(s, u); got != (u == want) {
				t.Fatalf("EqualLower(%q, %q) = %v, want %v", s, u, got, u == want)
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	lowered := "iot.example.com"
	mixed := []byte("IoT.Example.COM")
	n := testing.AllocsPerRun(100, func() {
		if Lower(lowered) != lowered || !EqualLower(mixed, lowered) || !EqualLower(lowered, lowered) ||
			!EqualFold(lowered, "IOT.EXAMPLE.COM") {
			panic("mismatch")
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
	if s := "Mixed"; Lower(s) == s {
		t.Fatal("Lower kept an upper-case letter")
	}
}

// FuzzFold: Lower, EqualLower and EqualFold agree with the unicode tables on any bytes. The
// seeds (run by every go test) hold the empty string, each side longer than the other, and an
// upper-case letter in EqualLower's lower (which matches nothing).
func FuzzFold(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"", "a"}, {"a", ""}, {"abc", "ABCD"}, {"ABCD", "abc"},
		{"IoT.Example.COM", "iot.example.com"}, {"iot.example.com", "iot.example.co"}, {"iot.example.co", "iot.example.com"},
		{"IoT.Example.COM:443", "iot.example.com:443"}, {"$AWS/Rules/", "$aws/rules/"}, {"$AWS/rules/x", "$aws/rules/"},
		{"a", "A"}, {"A", "A"}, {"\xff\xc3\x89", "\xff\xc3\xa9"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		la, lb := refLower(a), refLower(b)
		if got := Lower(a); got != la {
			t.Fatalf("Lower(%q) = %q, want %q", a, got, la)
		}
		if got, want := EqualFold(a, b), la == lb; got != want {
			t.Fatalf("EqualFold(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got, want := EqualLower(a, b), la == b; got != want {
			t.Fatalf("EqualLower(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got, want := EqualLower([]byte(a), b), la == b; got != want {
			t.Fatalf("EqualLower([]byte(%q), %q) = %v, want %v", a, b, got, want)
		}
		if strings.EqualFold(a, b) != EqualFold(a, b) && isASCII(a) && isASCII(b) {
			t.Fatalf("EqualFold(%q, %q) differs from strings.EqualFold on ASCII", a, b)
		}
	})
}

func isASCII(s string) bool {
	return !bytes.ContainsFunc([]byte(s), func(r rune) bool { return r >= 0x80 })
}
