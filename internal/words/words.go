// Package words compares and hashes byte strings eight bytes at a time.
//
// Inside a .wasm, Go compares strings and byte slices byte by byte (runtime.memeqbody has no
// wide loads on GOARCH=wasm) and its string hash falls back to software 128-bit multiplies. The
// filter compares long cache keys (a token and its RSA signature) and hashes every MQTT topic it
// memoizes, and the policy engine tests ARN prefixes, so they use these instead.
package words

import "unsafe"

// Equal reports whether a and b hold the same bytes.
func Equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return equal(unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b)), len(a))
}

// EqualString reports whether a == b.
func EqualString(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	return equal(unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b)), len(a))
}

// HasPrefixString is strings.HasPrefix.
func HasPrefixString(s, prefix string) bool {
	return len(s) >= len(prefix) && equal(unsafe.Pointer(unsafe.StringData(s)), unsafe.Pointer(unsafe.StringData(prefix)), len(prefix))
}

func equal(pa, pb unsafe.Pointer, n int) bool {
	if pa == pb || n == 0 {
		return true
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		if *(*uint64)(unsafe.Add(pa, i)) != *(*uint64)(unsafe.Add(pb, i)) {
			return false
		}
	}
	for ; i < n; i++ {
		if *(*byte)(unsafe.Add(pa, i)) != *(*byte)(unsafe.Add(pb, i)) {
			return false
		}
	}
	return true
}

// Hash hashes b with seed: per 8-byte word, xor, multiply and xor-shift (each step a bijection of
// the state, so inputs that differ in one word never collide; inputs that differ in several
// collide only for seeds an attacker cannot know), then a final mix. The words are read in the
// machine's byte order: a hash is only ever compared within one process.
func Hash(seed uint64, b []byte) uint64 {
	return hash(seed, unsafe.Pointer(unsafe.SliceData(b)), len(b))
}

// HashString is Hash of a string.
func HashString(seed uint64, s string) uint64 {
	return hash(seed, unsafe.Pointer(unsafe.StringData(s)), len(s))
}

func hash(seed uint64, p unsafe.Pointer, n int) uint64 {
	const k1, k2 = 0xbf58476d1ce4e5b9, 0x94d049bb133111eb
	h := seed ^ uint64(n)*0x9e3779b97f4a7c15
	i := 0
	for ; i+8 <= n; i += 8 {
		h ^= *(*uint64)(unsafe.Add(p, i))
		h *= k1
		h ^= h >> 31
	}
	var t uint64
	for sh := 0; i < n; i, sh = i+1, sh+8 {
		t |= uint64(*(*byte)(unsafe.Add(p, i))) << sh
	}
	h ^= t
	h *= k2
	h ^= h >> 29
	h *= k1
	return h ^ h>>32
}
