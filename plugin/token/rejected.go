package token

import "encoding/binary"

// The failed-verify cache: a bounded memory of (token, signature) pairs that failed to verify,
// so that a forged pair sent again is refused without another RSA verify.
//
// It is safe to remember a failure: for a fixed key set (a Verifier's keys never change; a new
// configuration builds a new Verifier) RSA verification is deterministic, so the same token
// bytes and the same signature text fail again. An entry can only refuse, never allow: a
// valid pair is never in it, and Verify uses it only to answer false. Entries are matched on
// the exact bytes (token length, token, signature as sent). A cheap 64-bit hash of those bytes
// (not SHA-256: the bytes are compared anyway) picks the slot and skips most byte comparisons,
// so a hash collision, even one made on purpose, costs a verify, never a wrong answer.
//
// Memory is fixed whatever is sent: rejectedSlots slot headers and a ring of rejectedArena bytes
// holding the entries' bytes, both allocated on the first failure (a VM that never sees a
// forgery pays nothing). A new entry overwrites the oldest bytes of the ring and its slot's
// previous entry; an entry whose bytes were overwritten no longer matches. The longest entry
// (4 + MaxTokenBytes + MaxSignatureChars = 8708 bytes) fits the ring several times over.
//
// Why fixed sizes and not cache.maxEntries: the cache absorbs credentials sent again (a replay,
// a device retrying with a stale signature); distinct forgeries each cost a verify whatever it
// holds. 64 KiB holds about a hundred typical pairs (a 200-byte token and the 344 characters of
// an RSA-2048 signature), and a bound that does not grow with configuration keeps the VM's
// linear memory, which never shrinks, predictable under a flood.
const (
	rejectedSlots = 256      // slot headers; a power of two
	rejectedArena = 64 << 10 // bytes of the ring holding the entries' bytes
)

// rejected is the failed-verify cache of one Verifier.
type rejected struct {
	slots []rejectedSlot // len rejectedSlots once allocated
	ring  []byte         // len rejectedArena once allocated
	head  uint64         // bytes ever written to the ring (its absolute end)
}

// rejectedSlot locates one entry in the ring by absolute position (offset = start mod len).
type rejectedSlot struct {
	sum   uint64 // the entry's hash, a quick filter before the byte comparison
	start uint64 // absolute position of the entry's bytes; valid while head-start ≤ len(ring)
	n     uint32 // length of the entry's bytes; 0 = empty
}

// entryHash is a 64-bit multiply-xorshift hash of b, eight bytes per step: inside WebAssembly
// it costs a small fraction of SHA-256 over the same bytes.
func entryHash(b []byte) uint64 {
	const m = 0x9e3779b97f4a7c15
	h := uint64(len(b))*m ^ 0x2545f4914f6cdd1d
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * m
		h ^= h >> 29
		b = b[8:]
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * m
		h ^= h >> 29
	}
	return h ^ h>>32
}

// rejectedIndex picks the slot from the hash's high bits (the whole hash is the slot's filter).
func rejectedIndex(h uint64) int { return int(h>>48) & (rejectedSlots - 1) }

// has reports whether the pair whose entry bytes are key (see Verifier.entry), of hash h, failed
// before and is still remembered.
func (r *rejected) has(h uint64, key []byte) bool {
	if r.slots == nil {
		return false
	}
	s := &r.slots[rejectedIndex(h)]
	if s.n == 0 || s.n != uint32(len(key)) || s.sum != h || r.head-s.start > uint64(len(r.ring)) {
		return false
	}
	off := int(s.start % uint64(len(r.ring)))
	return string(r.ring[off:off+int(s.n)]) == string(key)
}

// add remembers the pair whose entry bytes are key; it replaces the slot's previous entry and
// overwrites the oldest bytes of the ring.
func (r *rejected) add(h uint64, key []byte) {
	if len(key) == 0 || len(key) > rejectedArena {
		return
	}
	if r.slots == nil {
		r.slots = make([]rejectedSlot, rejectedSlots)
		r.ring = make([]byte, rejectedArena)
	}
	size := uint64(len(r.ring))
	start := r.head
	if off := start % size; off+uint64(len(key)) > size {
		start += size - off // the entry does not fit before the end: start it at the beginning
	}
	copy(r.ring[start%size:], key)
	r.head = start + uint64(len(key))
	r.slots[rejectedIndex(h)] = rejectedSlot{sum: h, start: start, n: uint32(len(key))}
}
