package token

import (
	"math/big"
	mrand "math/rand"
	"strconv"
	"strings"
	"testing"
)

// verifierFor returns a Verifier for the first n test keys and their private keys.
func verifierFor(t *testing.T, n, cacheEntries int) *Verifier {
	t.Helper()
	var keys []*PublicKey
	for i, priv := range rsaKeys(t)[:n] {
		k, err := ParsePublicKeyPEM("key"+strconv.Itoa(i+1), spkiPEM(t, &priv.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return NewVerifier(keys, cacheEntries)
}

// forgery returns a signature well formed for every 2048-bit key and valid for none: 256 bytes
// whose first is 0x01, so below any 2048-bit modulus (whose top bit is set) and so worth a real
// verify. A signature by another key would not do: it is below the other key's modulus only by
// chance, and a test expecting a verify would then see none.
func forgery(seed string) string {
	b := make([]byte, 256)
	b[0] = 0x01
	for i := 1; i < len(b); i++ {
		b[i] = byte(i) ^ seed[i%len(seed)]
	}
	return b64(b)
}

// verify calls v.Verify and checks the answer and the RSA exponentiations it ran.
func verify(t *testing.T, v *Verifier, tok, sig string, wantOK bool, wantReason string, wantRSA int) {
	t.Helper()
	before := v.rsa
	ok, reason := v.Verify(tok, sig)
	if ok != wantOK || reason != wantReason {
		t.Fatalf("Verify(%.20q, %.12q…) = %v, %q; want %v, %q", tok, sig, ok, reason, wantOK, wantReason)
	}
	if got := v.rsa - before; got != wantRSA {
		t.Fatalf("Verify(%.20q, %.12q…) ran %d RSA verifies, want %d", tok, sig, got, wantRSA)
	}
}

// A forged pair sent again is refused with the same reason and no second verify; a valid
// signature for the same token is still accepted after it, and the forgery still refused.
func TestVerifier_RepeatedForgery(t *testing.T) {
	privs := rsaKeys(t)
	for _, entries := range []int{0, 64} { // with and without the verified-pair cache
		t.Run("verified cache "+strconv.Itoa(entries), func(t *testing.T) {
			v := verifierFor(t, 2, entries)
			const why = "signature does not verify with any of 2 keys"
			tok := "device-42"
			forged := forgery(tok) // well formed for both keys, wrong
			valid := b64(sign(t, privs[0], []byte(tok)))
			verify(t, v, tok, forged, false, why, 2)
			verify(t, v, tok, forged, false, why, 0)
			verify(t, v, tok, forged, false, why, 0)
			rsaValid := 1
			verify(t, v, tok, valid, true, "key1", rsaValid)
			if entries > 0 {
				rsaValid = 0 // remembered as verified
			}
			verify(t, v, tok, valid, true, "key1", rsaValid)
			verify(t, v, tok, forged, false, why, 0)
			// The same signature text for another token is another pair: it pays its verify.
			verify(t, v, "device-43", forged, false, why, 2)
			verify(t, v, "device-43", forged, false, why, 0)
		})
	}
}

// What cannot verify costs no exponentiation: a signature that decodes to another length than
// the modulus, or to an integer not below it.
func TestVerifier_CheapRejections(t *testing.T) {
	priv := rsaKeys(t)[0]
	v := verifierFor(t, 1, 16)
	const why = `signature does not verify with key "key1"`
	tok := "device-42"
	k := len(priv.N.Bytes())
	verify(t, v, tok, b64(make([]byte, k-1)), false, why, 0)
	verify(t, v, tok, b64(make([]byte, k+1)), false, why, 0)
	verify(t, v, tok, b64([]byte(strings.Repeat("\xff", k))), false, why, 0)
	verify(t, v, tok, b64(priv.N.FillBytes(make([]byte, k))), false, why, 0) // = n
	nMinus1 := new(big.Int).Sub(priv.N, big.NewInt(1))
	verify(t, v, tok, b64(nMinus1.FillBytes(make([]byte, k))), false, why, 1) // n-1 < n: a real verify
	verify(t, v, tok, b64(nMinus1.FillBytes(make([]byte, k))), false, why, 0) // remembered
}

// A flood of distinct forgeries keeps the failed-pair cache at its fixed size, each well-formed
// one pays its verify (that is the price of a forgery never seen before), and the oldest
// entries are forgotten: sent again, they pay a verify again and are still refused.
func TestVerifier_ForgeryFloodBounded(t *testing.T) {
	v := verifierFor(t, 1, 16)
	const why = `signature does not verify with key "key1"`
	priv := rsaKeys(t)[0]
	k := len(priv.N.Bytes())
	r := mrand.New(mrand.NewSource(7))
	longTok := strings.Repeat("t", MaxTokenBytes)
	well := func(i int) string { // a random integer below n, so a real verify
		x := new(big.Int).Rand(r, priv.N)
		return b64(x.FillBytes(make([]byte, k)))
	}
	first := well(0)
	verify(t, v, longTok, first, false, why, 1)
	slots, ring := &v.failed.slots[0], &v.failed.ring[0]
	const flood = 300 // 300 entries of 6492 bytes: the 64 KiB ring is lapped many times
	for i := 0; i < flood; i++ {
		verify(t, v, longTok[:MaxTokenBytes-i], well(i), false, why, 1)
	}
	if len(v.failed.slots) != rejectedSlots || len(v.failed.ring) != rejectedArena ||
		&v.failed.slots[0] != slots || &v.failed.ring[0] != ring {
		t.Fatalf("the failed-pair cache grew or moved: %d slots, %d ring bytes", len(v.failed.slots), len(v.failed.ring))
	}
	if cap(v.scr) > 16<<10 {
		t.Fatalf("scratch grew to %d bytes", cap(v.scr))
	}
	// The first forgery's bytes were overwritten: it pays again, and is refused again.
	verify(t, v, longTok, first, false, why, 1)
	verify(t, v, longTok, first, false, why, 0)
	// A valid signature for the flooded token still verifies.
	verify(t, v, longTok, b64(sign(t, priv, []byte(longTok))), true, "key1", 1)

	// Malformed distinct forgeries (2560 base64 characters, 1920 bytes) cost no verify at all.
	for i := 0; i < flood; i++ {
		verify(t, v, longTok[:MaxTokenBytes-i], strings.Repeat("A", MaxSignatureChars-4)+"AAA"+string(rune('A'+i%26)), false, why, 0)
	}
	if len(v.failed.ring) != rejectedArena {
		t.Fatal("ring grew")
	}
}

// Two pairs in the same slot: the newer replaces the older; neither is mistaken for the other,
// even when their stored hashes are forced equal; and a valid pair in the slot of a
// remembered forgery is accepted.
func TestVerifier_RejectedSlotCollision(t *testing.T) {
	privs := rsaKeys(t)
	v := verifierFor(t, 1, 0) // no verified-pair cache: every valid pair pays its verify
	const why = `signature does not verify with key "key1"`
	forged := forgery("x")
	a := "device-a"
	hash := func(tok, sig string) uint64 { return entryHash(v.entry(tok, sig)) }
	sumA := hash(a, forged)
	// Find a token whose pair with the same signature lands in A's slot.
	b := ""
	for i := 0; i < 1<<20 && b == ""; i++ {
		c := "device-b" + strconv.Itoa(i)
		if rejectedIndex(hash(c, forged)) == rejectedIndex(sumA) {
			b = c
		}
	}
	if b == "" {
		t.Fatal("no colliding token found")
	}
	verify(t, v, a, forged, false, why, 1)
	verify(t, v, a, forged, false, why, 0)
	verify(t, v, b, forged, false, why, 1) // same slot, other bytes: a miss
	verify(t, v, a, forged, false, why, 1) // B replaced A
	verify(t, v, a, forged, false, why, 0)

	// Force B's hash into A's slot: the bytes still differ, so B is not taken for A.
	slot := &v.failed.slots[rejectedIndex(sumA)]
	slot.sum = hash(b, forged)
	verify(t, v, b, forged, false, why, 1)

	// A valid pair whose slot holds a forgery (its hash forced to match) is accepted.
	var valid, validTok string
	for i := 0; i < 1<<20 && valid == ""; i++ {
		c := "device-v" + strconv.Itoa(i)
		sig := b64(sign(t, privs[0], []byte(c)))
		if rejectedIndex(hash(c, sig)) == rejectedIndex(sumA) {
			valid, validTok = sig, c
		}
		if i > 4096 {
			t.Fatal("no valid pair in the slot after 4096 signatures")
		}
	}
	verify(t, v, a, forged, false, why, 1) // A back in the slot
	slot.sum = hash(validTok, valid)
	verify(t, v, validTok, valid, true, "key1", 1)
	verify(t, v, validTok, valid, true, "key1", 1)
}

// The ring never answers for bytes that were not added as one entry: random entries of random
// sizes, many sharing slots and hashes, checked against a model of what was added.
func TestRejected_RingModel(t *testing.T) {
	var r rejected
	rng := mrand.New(mrand.NewSource(11))
	added := map[string]bool{}
	var last string
	var lastSum uint64
	sumOf := func(key string) uint64 { // 4 slots in use, hashes shared by many keys
		return uint64(len(key)%4)<<48 | uint64(len(key)%3)
	}
	for i := 0; i < 20000; i++ {
		n := 1 + rng.Intn(9000)
		if rng.Intn(4) == 0 {
			n = 1 + rng.Intn(16)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + rng.Intn(3))
		}
		key := string(b)
		if rng.Intn(3) == 0 { // look up something, added or not
			if r.has(sumOf(key), b) && !added[key] {
				t.Fatalf("step %d: the ring answered for %d bytes never added", i, n)
			}
			continue
		}
		r.add(sumOf(key), b)
		added[key], last, lastSum = true, key, sumOf(key)
		if !r.has(lastSum, []byte(last)) {
			t.Fatalf("step %d: the entry just added (%d bytes) is not found", i, n)
		}
		if r.head-r.slots[rejectedIndex(lastSum)].start > rejectedArena {
			t.Fatal("the newest entry is already overwritten")
		}
	}
	if len(r.ring) != rejectedArena || len(r.slots) != rejectedSlots {
		t.Fatalf("ring %d bytes, %d slots", len(r.ring), len(r.slots))
	}
	// An entry larger than the ring is not remembered (none can be: 4+6144+2560 < 64 KiB).
	big := make([]byte, rejectedArena+1)
	r.add(sumOf("x"), big)
	if r.has(sumOf("x"), big) {
		t.Fatal("an entry larger than the ring was remembered")
	}
}

// An entry whose bytes the ring has overwritten is forgotten, even when the new bytes are
// exactly the ones looked up and the slot's hash agrees: only bytes written as one entry
// of that slot count.
func TestRejected_OverwrittenEntryForgotten(t *testing.T) {
	var r rejected
	var slotA, slotB uint64 = 0, 1 << 48 // two slots
	x := []byte(strings.Repeat("x", 100))
	k := []byte(strings.Repeat("k", 100))
	r.add(slotA, x) // at ring offset 0
	if !r.has(slotA, x) || r.has(slotA, k) {
		t.Fatal("x not found, or k found for it")
	}
	r.add(slotB, make([]byte, rejectedArena-100)) // fills the ring to its end
	r.add(slotB, k)                               // laps it: k's bytes now sit where x's were
	if r.has(slotA, k) {
		t.Fatal("bytes of another entry, written over x's, were taken for a remembered failure")
	}
	if r.has(slotA, x) {
		t.Fatal("x was overwritten but is still remembered")
	}
	if !r.has(slotB, k) {
		t.Fatal("k not found")
	}
}
