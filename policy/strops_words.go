package policy

import (
	"math/bits"
	"unsafe"

	"github.com/iotauthz/iotauthz/internal/words"
)

// On WebAssembly the runtime compares strings one byte per loop iteration (internal/bytealg has
// no vector code for wasm), which makes prefix tests on long ARNs the main cost of Evaluate.
// These versions compare 8 bytes per load; strings are immutable and every load stays inside
// the strings' bounds. strops_wasm.go uses them on wasm; they are built everywhere so that the
// native tests and FuzzStringOps check them against the standard library.

// hasPrefixWords is strings.HasPrefix.
func hasPrefixWords(s, prefix string) bool { return words.HasPrefixString(s, prefix) }

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
			if j <= last && *(*byte)(unsafe.Add(ps, j)) == c && words.HasPrefixString(s[j:], sub) {
				return j
			}
		}
	}
	for ; i <= last; i++ {
		if *(*byte)(unsafe.Add(ps, i)) == c && words.HasPrefixString(s[i:], sub) {
			return i
		}
	}
	return -1
}
