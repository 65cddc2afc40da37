package token

import "crypto/sha256"

// The failed-verify cache: a bounded memory of (token, signature) pairs that failed to verify,
// so that a forged pair sent again is refused without another RSA verify.
//
// It is safe to remember a failure: for a fixed key set (a Verifier's keys never change; a new
// configuration builds a new Verifier) RSA verification is deterministic, so the same token
// bytes and the same signature text fail again. An entry can only refuse, never allow: Verify
// consults it after the verified-pair cache and only to answer false. Entries are matched on
// the exact bytes (token length, token, signature as sent); the digest only picks the slot and
// skips most byte comparisons, so a digest collision costs a verify, never a wrong answer.
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
	sum   uint64 // 8 bytes of the pair's digest, a quick filter before the byte comparison
	start uint64 // absolute position of the entry's bytes; valid while head-start ≤ len(ring)
	n     uint32 // length of the entry's bytes; 0 = empty
}

// rejectedIndex picks the slot from digest bytes other than those the verified-pair cache uses.
func rejectedIndex(sum [sha256.Size]byte) int {
	return int((uint32(sum[4])<<8 | uint32(sum[5])) & (rejectedSlots - 1))
}

func rejectedSum(sum [sha256.Size]byte) uint64 {
	var x uint64
	for _, b := range sum[8:16] {
		x = x<<8 | uint64(b)
	}
	return x
}

// has reports whether the pair whose entry bytes are key (see Verifier.entry) and digest sum
// failed before and is still remembered.
func (r *rejected) has(sum [sha256.Size]byte, key []byte) bool {
	if r.slots == nil {
		return false
	}
	s := &r.slots[rejectedIndex(sum)]
	if s.n == 0 || s.n != uint32(len(key)) || s.sum != rejectedSum(sum) || r.head-s.start > uint64(len(r.ring)) {
		return false
	}
	off := int(s.start % uint64(len(r.ring)))
	return string(r.ring[off:off+int(s.n)]) == string(key)
}

// add remembers the pair whose entry bytes are key; it replaces the slot's previous entry and
// overwrites the oldest bytes of the ring.
func (r *rejected) add(sum [sha256.Size]byte, key []byte) {
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
	r.slots[rejectedIndex(sum)] = rejectedSlot{sum: rejectedSum(sum), start: start, n: uint32(len(key))}
}
