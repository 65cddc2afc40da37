//go:build wasm

package policy

import "unsafe"

// On WebAssembly the runtime compares strings one byte per loop iteration (internal/bytealg has
// no vector code for wasm), which makes prefix tests on long ARNs the main cost of Evaluate.
// These versions compare 8 bytes per load; strings are immutable and every load stays inside
// the strings' bounds. See BenchmarkEvaluate run under wazero.

// hasPrefix is strings.HasPrefix.
func hasPrefix(s, prefix string) bool {
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

// index is strings.Index.
func index(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	c := sub[0]
	for i := 0; i+n <= len(s); i++ {
		if s[i] == c && equalN(s[i:], sub, n) {
			return i
		}
	}
	return -1
}
