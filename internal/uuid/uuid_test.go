package uuid

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	state := uint32(1)
	fill := func(b []byte) {
		for i := range b {
			state = state*1664525 + 1013904223
			b[i] = byte(state >> 24)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		u := New(fill)
		if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("bad uuid %q", u)
		}
		if strings.ToLower(u) != u || seen[u] {
			t.Fatalf("uuid %q upper or repeated", u)
		}
		seen[u] = true
	}
	if got := New(func(b []byte) {
		for i := range b {
			b[i] = 0xff
		}
	}); got != "ffffffff-ffff-4fff-bfff-ffffffffffff" {
		t.Fatal(got)
	}
}
