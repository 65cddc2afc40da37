package policy

import (
	"math/bits"
	"unsafe"
)

// On WebAssembly the runtime compares strings one byte per loop iteration (internal/bytealg has
// no vector code for wasm), which makes prefix tests on long ARNs the main cost of Evaluate.
// These versions compare 8 bytes per load; strings are immutable and every load stays inside
// the strings' bounds. strops_wasm.go uses them on wasm; they are built everywhere so that the
// native tests and FuzzStringOps check them against the standard library.

// hasPrefixWords is strings.HasPrefix.
func hasPrefixWords(s, prefix string) bool {
	return len(s) >= len(prefix) && equalN(s, prefix, len(prefix))
}

// equalN reports whether the first n bytes of a and b are equal; both are at least n long.
func equalN(a, b string, n int) bool {
	pa, pb := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
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

// indexWords is strings.Index. It looks for the first byte of sub eight positions at a time (the
// "has zero byte" bit trick on the XOR with that byte repeated), then compares candidates.
func indexWords(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	last := len(s) - n // last possible start
	if last < 0 {
		return -1
	}
	c := sub[0]
	ps := unsafe.Pointer(unsafe.StringData(s))
	rep := uint64(c) * 0x0101010101010101
	i := 0
	for ; i+8 <= last+1; i += 8 {
		x := *(*uint64)(unsafe.Add(ps, i)) ^ rep
		// Bit 7 of each byte that was equal to c is set; bytes above a true match may be false
		// positives, so every candidate is checked.
		for m := (x - 0x0101010101010101) &^ x & 0x8080808080808080; m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)/8
			if j <= last && *(*byte)(unsafe.Add(ps, j)) == c && equalN(s[j:], sub, n) {
				return j
			}
		}
	}
	for ; i <= last; i++ {
		if *(*byte)(unsafe.Add(ps, i)) == c && equalN(s[i:], sub, n) {
			return i
		}
	}
	return -1
}
