package token

import (
	"encoding/binary"

	"github.com/iotauthz/iotauthz/internal/sha256"
)

// sha256DigestInfo is the DER prefix of DigestInfo{ sha256, NULL } (RFC 8017 §9.2 note 1).
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// hashLimbs is the number of 32-bit limbs the SHA-256 hash fills at the low end of the EM.
const hashLimbs = sha256.Size / 4

// Verify reports whether sig is a valid RSASSA-PKCS1-v1_5 signature with SHA-256 of msg under k.
//
// The signature must be exactly the modulus length and, as an integer, less than the modulus
// (checked before any arithmetic: such a signature costs no exponentiation). The recovered
// encoded message must equal 0x00 0x01 FF…FF 0x00 DigestInfo(SHA-256) H(msg) byte for byte;
// nothing is parsed out of it. It does not allocate.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	var bx [maxLimbs]uint32
	x, ok := k.signatureInt(bx[:len(k.n)], sig)
	return ok && k.verifyInt(msg, x)
}

// signatureInt reads sig into x (len(k.n) limbs) and reports whether it can be a signature
// under k at all: exactly the modulus length, and less than the modulus.
func (k *PublicKey) signatureInt(x []uint32, sig []byte) ([]uint32, bool) {
	if len(sig) != k.k {
		return x, false
	}
	bytesToLimbs(x, sig)
	return x, less(x, k.n)
}

// verifyInt is Verify for a signature already read by signatureInt; x is overwritten.
func (k *PublicKey) verifyInt(msg []byte, x []uint32) bool {
	s := len(k.n)
	var by, bz [maxLimbs]uint32
	var bt [2*maxLimbs + 1]uint32
	y := by[:s]
	k.expMod(y, x, bz[:s], bt[:2*s+1])

	h := sha256.Sum256(msg)
	ok := uint32(0)
	for i := 0; i < hashLimbs; i++ {
		ok |= y[i] ^ binary.BigEndian.Uint32(h[sha256.Size-4*(i+1):])
	}
	for i := hashLimbs; i < s; i++ {
		ok |= y[i] ^ k.em[i]
	}
	return ok == 0
}

// expMod sets y = x^e mod n for x < n. x is overwritten; z (len(n)) and t (2·len(n)+1) are
// scratch.
func (k *PublicKey) expMod(y, x, z, t []uint32) {
	// y = x·R mod n (Montgomery form).
	montMul4(y, x, k.rr, k.n, k.n0inv, t)
	// Left-to-right square-and-multiply; z holds the accumulator, x is scratch.
	copy(z, y)
	e := k.e
	top := 31
	for e>>uint(top)&1 == 0 {
		top--
	}
	for i := top - 1; i >= 0; i-- {
		montSqr4(x, z, k.n, k.n0inv, t)
		if e>>uint(i)&1 == 1 {
			montMul4(z, x, y, k.n, k.n0inv, t)
		} else {
			x, z = z, x
		}
	}
	// Leave Montgomery form: reduce z·1, a Montgomery reduction of z alone.
	s := len(k.n)
	t = t[:2*s+1]
	copy(t, z)
	for i := s; i < len(t); i++ {
		t[i] = 0
	}
	redc4(y, t, k.n, k.n0inv)
}

// expectedEM returns EM = 0x00 0x01 FF…FF 0x00 DigestInfo ‖ H as s little-endian limbs for a
// k-byte modulus, with the hash bytes (the low hashLimbs limbs) left zero.
func expectedEM(k, s int) []uint32 {
	em := make([]byte, k)
	em[1] = 0x01
	ps := k - 3 - len(sha256DigestInfo) - sha256.Size
	for i := 0; i < ps; i++ {
		em[2+i] = 0xff
	}
	copy(em[3+ps:], sha256DigestInfo)
	return bytesToLimbs(make([]uint32, s), em)
}

// bytesToLimbs writes the big-endian integer b into dst as little-endian 32-bit limbs, zeroing
// the limbs above it. len(dst) must be at least (len(b)+3)/4.
func bytesToLimbs(dst []uint32, b []byte) []uint32 {
	for i := range dst {
		dst[i] = 0
	}
	for i := 0; i < len(b); i++ {
		pos := len(b) - 1 - i // byte significance
		dst[pos/4] |= uint32(b[i]) << (8 * uint(pos%4))
	}
	return dst
}

// less reports whether x < n (same length).
func less(x, n []uint32) bool {
	for i := len(n) - 1; i >= 0; i-- {
		if x[i] != n[i] {
			return x[i] < n[i]
		}
	}
	return false
}

// subInto sets z = x - y and returns the borrow.
func subInto(z, x, y []uint32) uint32 {
	var borrow uint64
	y = y[:len(x)]
	z = z[:len(x)]
	for i, xi := range x {
		d := uint64(xi) - uint64(y[i]) - borrow
		z[i] = uint32(d)
		borrow = (d >> 32) & 1
	}
	return uint32(borrow)
}

// negInv32 returns -n0⁻¹ mod 2³² for odd n0 (Newton iteration, each step doubles the bits).
func negInv32(n0 uint32) uint32 {
	x := n0 // n0·n0 ≡ 1 mod 8
	for i := 0; i < 4; i++ {
		x *= 2 - n0*x
	}
	return -x
}

// rSquared returns R² mod n for R = 2^(32·len(n)), by doubling 1 modulo n 64·len(n) times.
// It runs once per key at configuration time.
func rSquared(n []uint32) []uint32 {
	s := len(n)
	x := make([]uint32, s)
	tmp := make([]uint32, s)
	x[0] = 1
	for i := 0; i < 64*s; i++ {
		var carry uint32
		for j := range x {
			v := x[j]
			x[j] = v<<1 | carry
			carry = v >> 31
		}
		// 2x < 2n: subtract n once when 2x ≥ n.
		if borrow := subInto(tmp, x, n); carry == 1 || borrow == 0 {
			x, tmp = tmp, x
		}
	}
	return x
}

// limbBlock is the unrolling factor of the Montgomery loops (mont.go); moduli are padded with
// zero limbs to a multiple of it. Go's WebAssembly back end dispatches every loop iteration
// through a br_table, so straight-line blocks of eight columns run much faster there than a
// one-column loop.
const limbBlock = 8
