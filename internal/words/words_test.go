package words

import (
	"bytes"
	"strings"
	"testing"
)

func TestEqual(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 30) // a signature-sized key
	for n := 0; n <= 40; n++ {
		a := long[:n]
		b := strings.Clone(a)
		if !EqualString(a, b) || !Equal([]byte(a), []byte(b)) {
			t.Fatalf("len %d: equal strings differ", n)
		}
		for i := 0; i < n; i++ { // a difference at every position, in the words and in the tail
			d := []byte(b)
			d[i] ^= 1
			if EqualString(a, string(d)) || Equal([]byte(a), d) {
				t.Fatalf("len %d: a difference at byte %d was missed", n, i)
			}
		}
		if EqualString(a, long[:n+1]) || Equal([]byte(a), []byte(long[:n+1])) {
			t.Fatalf("len %d: a longer string matched", n)
		}
	}
	if !Equal(nil, []byte{}) || !EqualString("", "") {
		t.Fatal("empty inputs differ")
	}
}

// FuzzEqual: Equal agrees with bytes.Equal, also on unaligned views of one buffer.
func FuzzEqual(f *testing.F) {
	f.Add([]byte("device/d1/telemetry"), []byte("device/d1/telemetrx"), 3)
	f.Fuzz(func(t *testing.T, a, b []byte, off int) {
		if Equal(a, b) != bytes.Equal(a, b) {
			t.Fatalf("Equal(%q, %q) = %v", a, b, !bytes.Equal(a, b))
		}
		if off < 0 || off > len(a) {
			return
		}
		c := append([]byte{}, a[off:]...)
		if !Equal(a[off:], c) {
			t.Fatalf("an unaligned view differs from its copy")
		}
	})
}

// TestHash: equal inputs hash equally under one seed; inputs that differ in one byte (anywhere:
// in a word or in the tail) or in length do not collide; another seed gives other hashes.
func TestHash(t *testing.T) {
	key := "h7\x00device-auth\x00" + strings.Repeat("tok", 20) + "\x00" + strings.Repeat("c2lnbmF0dXJl", 29)
	const seed = 0x1234
	h := HashString(seed, key)
	if HashString(seed, strings.Clone(key)) != h || Hash(seed, []byte(key)) != h {
		t.Fatal("equal inputs hash differently")
	}
	seen := map[uint64]int{h: -1}
	for i := 0; i < len(key); i++ {
		b := []byte(key)
		b[i] ^= 0x20
		v := Hash(seed, b)
		if j, dup := seen[v]; dup {
			t.Fatalf("a change at byte %d collides with the change at %d", i, j)
		}
		seen[v] = i
	}
	for n := 0; n < 20; n++ {
		if HashString(seed, key[:n]) == HashString(seed, key[:n+1]) {
			t.Fatalf("lengths %d and %d collide", n, n+1)
		}
	}
	if HashString(seed+1, key) == h {
		t.Fatal("the seed does not change the hash")
	}
}

func TestHasPrefixString(t *testing.T) {
	long := strings.Repeat("arn:aws:iot:us-east-1:123456789012:topic/", 3)
	for n := 0; n <= len(long); n++ {
		for _, s := range []string{long, long[:n], long[:n/2] + "X" + long[n/2+1:]} {
			if got, want := HasPrefixString(s, long[:n]), strings.HasPrefix(s, long[:n]); got != want {
				t.Fatalf("HasPrefixString(%q, %q) = %v", s, long[:n], got)
			}
		}
	}
}
