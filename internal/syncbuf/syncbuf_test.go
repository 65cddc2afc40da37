package syncbuf

import (
	"strings"
	"testing"
)

func TestBuffer_Concurrent(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	for range 8 { // eight writers that also read
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				if n, err := b.Write([]byte("ab")); n != 2 || err != nil {
					t.Errorf("Write: %d %v", n, err)
				}
				_ = b.String()
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := b.String(); got != strings.Repeat("ab", 800) {
		t.Fatalf("%d bytes, want 1600 of \"ab\"", len(got))
	}
}

func TestBuffer_Max(t *testing.T) {
	b := Buffer{Max: 4}
	for _, w := range []string{"abc", "de", "fg"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q): %d %v", w, n, err)
		}
	}
	// "abc" (0 kept before it), "de" (3, not more than 4: kept, now 5), "fg" (5 > 4: dropped).
	if got := b.String(); got != "abcde" {
		t.Fatalf("%q, want \"abcde\"", got)
	}
}
