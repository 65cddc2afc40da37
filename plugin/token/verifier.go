package token

import (
	"encoding/base64"
	"errors"
	"strconv"

	"github.com/iotauthz/iotauthz/internal/sha256"
)

// Input limits, AWS's (TestInvokeAuthorizer's Token and TokenSignature shapes).
const (
	MaxSignatureChars = 2560 // longest base64 signature accepted
	MaxTokenBytes     = 6144 // longest token accepted
)

// DecodeSignature decodes a token signature sent as standard base64 with padding
// ("[A-Za-z0-9+/]+={0,2}", length a multiple of 4, at most 2560 characters). A signature taken
// from a query string must be percent-decoded first; '+' is a base64 digit, never a space.
//
//	DecodeSignature("AAEC") → []byte{0, 1, 2}
//	DecodeSignature("AAE")  → error "signature is not valid base64: length 3 is not a multiple of 4"
func DecodeSignature(b64 string) ([]byte, error) {
	if b64 == "" {
		return nil, errors.New("signature is empty")
	}
	if len(b64) > MaxSignatureChars {
		return nil, errors.New("signature is " + strconv.Itoa(len(b64)) + " characters, at most " + strconv.Itoa(MaxSignatureChars) + " allowed")
	}
	if len(b64)%4 != 0 {
		return nil, errors.New("signature is not valid base64: length " + strconv.Itoa(len(b64)) + " is not a multiple of 4")
	}
	pad := 0
	for i := 0; i < len(b64); i++ {
		c := b64[i]
		switch {
		case c == '=':
			pad++
		case pad > 0:
			return nil, errors.New("signature is not valid base64: data after '=' padding at offset " + strconv.Itoa(i))
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		default:
			return nil, errors.New("signature is not valid base64: character " + strconv.QuoteRune(rune(c)) + " at offset " + strconv.Itoa(i))
		}
	}
	if pad > 2 {
		return nil, errors.New("signature is not valid base64: too much '=' padding")
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(out, []byte(b64))
	if err != nil {
		return nil, errors.New("signature is not valid base64: " + err.Error())
	}
	return out[:n], nil
}

// Verifier checks token signatures against a set of keys. It remembers the (token, signature)
// pairs that verified, in a fixed-size table, so a device reconnecting with the same credentials
// costs one SHA-256 instead of an RSA verify; and, in a second fixed-size cache (rejected.go),
// the pairs that failed, so that a forged pair sent again is refused without a verify. A
// remembered failure can only refuse: a pair is looked up there only after the verified-pair
// cache missed, and only the exact bytes of a pair that failed match.
//
// A Verifier is not safe for concurrent use.
type Verifier struct {
	keys   []*PublicKey
	slots  []verified // direct-mapped by digest; len is a power of two or 0
	scr    []byte     // scratch for the digest input: len(token) ‖ token ‖ signature
	failed rejected   // pairs that failed to verify
	why    string     // the reason of a failed verify (it depends only on the keys)
	rsa    int        // RSA exponentiations run (for the tests: which paths pay a verify)
}

type verified struct {
	sum [sha256.Size]byte // SHA-256 of len(token) ‖ token ‖ signature; zero = empty
	key int32             // index of the key that verified, +1 (0 = empty)
}

// NewVerifier returns a Verifier for keys that remembers up to cacheEntries verified pairs
// (rounded down to a power of two; 0 disables that cache). Each entry costs 40 bytes. The cache
// of failed pairs has a fixed size (rejectedSlots, rejectedArena: about 70 KiB, allocated on the
// first failure).
func NewVerifier(keys []*PublicKey, cacheEntries int) *Verifier {
	v := &Verifier{keys: keys}
	if cacheEntries > 0 {
		size := 1
		for size*2 <= cacheEntries && size < 1<<24 {
			size *= 2
		}
		v.slots = make([]verified, size)
	}
	if len(keys) == 1 {
		v.why = "signature does not verify with key " + strconv.Quote(keys[0].Name)
	} else {
		v.why = "signature does not verify with any of " + strconv.Itoa(len(keys)) + " keys"
	}
	return v
}

// Keys returns the keys the Verifier tries, in order.
func (v *Verifier) Keys() []*PublicKey { return v.keys }

// Verify decodes signatureB64 (see DecodeSignature) and reports whether any key verifies it as a
// signature of the token bytes. On success reason is the name of the key that verified; on
// failure it says why, for the decision log:
//
//	"signature missing", "signature is not valid base64: …", "no signing keys configured",
//	"token is 7000 bytes, at most 6144 allowed", "signature does not verify with any of 2 keys"
//
// A signature that decodes to other than a key's modulus length, or to an integer not below its
// modulus, cannot verify with that key and costs no exponentiation. A pair that failed before
// and is still in the failed-pair cache is refused with the same reason without a verify; a
// well-formed signature not seen before costs one RSA verify per key.
func (v *Verifier) Verify(token, signatureB64 string) (ok bool, reason string) {
	if signatureB64 == "" {
		return false, "signature missing"
	}
	if len(token) > MaxTokenBytes {
		return false, "token is " + strconv.Itoa(len(token)) + " bytes, at most " + strconv.Itoa(MaxTokenBytes) + " allowed"
	}
	// A remembered failure first: it costs a cheap hash and a byte comparison, where the
	// verified-pair cache needs a SHA-256. The order cannot refuse a valid pair: only the exact
	// bytes of a pair that failed match, and a pair that failed fails again.
	entry := v.entry(token, signatureB64)
	h := entryHash(entry)
	if v.failed.has(h, entry) {
		return false, v.why
	}
	var sum [sha256.Size]byte
	var slot *verified
	if len(v.slots) > 0 {
		sum = sha256.Sum256(entry)
		slot = &v.slots[binaryIndex(sum, len(v.slots))]
		if slot.key != 0 && slot.sum == sum {
			return true, v.keys[slot.key-1].Name
		}
	}
	sig, err := DecodeSignature(signatureB64)
	if err != nil {
		return false, err.Error()
	}
	if len(v.keys) == 0 {
		return false, "no signing keys configured"
	}
	msg := []byte(token)
	for i, k := range v.keys {
		var bx [maxLimbs]uint32
		x, wellFormed := k.signatureInt(bx[:len(k.n)], sig)
		if !wellFormed {
			continue
		}
		v.rsa++
		if k.verifyInt(msg, x) {
			if slot != nil {
				slot.sum = sum
				slot.key = int32(i + 1)
			}
			return true, k.Name
		}
	}
	v.failed.add(h, entry)
	return false, v.why
}

// digest returns the SHA-256 of len(token) ‖ token ‖ sig, the verified-pair cache's key.
func (v *Verifier) digest(token, sig string) [sha256.Size]byte {
	return sha256.Sum256(v.entry(token, sig))
}

// entry returns len(token) ‖ token ‖ sig in v's scratch (valid until the next call).
func (v *Verifier) entry(token, sig string) []byte {
	b := v.scr[:0]
	l := uint32(len(token))
	b = append(b, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
	b = append(b, token...)
	b = append(b, sig...)
	if cap(b) <= 16<<10 {
		v.scr = b
	}
	return b
}

func binaryIndex(sum [sha256.Size]byte, size int) int {
	x := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	return int(x & uint32(size-1))
}
