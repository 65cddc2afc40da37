package mqtt

import (
	"math/rand"
	"testing"
	"unicode/utf8"
)

func naiveValidString(s []byte) bool {
	for _, c := range s {
		if c == 0 {
			return false
		}
	}
	return utf8.Valid(s)
}

func naiveValidTopicName(s []byte) bool {
	for _, c := range s {
		if c == '+' || c == '#' {
			return false
		}
	}
	return naiveValidString(s)
}

// TestValidString_Reference: the 8-bytes-at-a-time checks agree with the byte-wise definition.
func TestValidString_Reference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []byte{'a', 'b', '/', '+', '#', 0, 0x7f, 0x80, 0xc3, 0xa9, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80}
	for i := 0; i < 200000; i++ {
		s := make([]byte, r.Intn(40))
		for j := range s {
			if r.Intn(8) == 0 {
				s[j] = alphabet[r.Intn(len(alphabet))]
			} else {
				s[j] = 'a' + byte(r.Intn(26))
			}
		}
		if validString(s) != naiveValidString(s) || validTopicName(s) != naiveValidTopicName(s) {
			t.Fatalf("%q: validString %v validTopicName %v", s, validString(s), validTopicName(s))
		}
	}
}
