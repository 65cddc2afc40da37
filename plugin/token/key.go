package token

import (
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
)

// Key size limits. AWS documents 2048 bits as the minimum; the maximum bounds the work one
// verify can cost and the stack scratch it uses.
const (
	MinBits = 2048
	MaxBits = 16384

	maxLimbs = MaxBits/32 + limbBlock
)

// PublicKey is an RSA public key prepared for fast PKCS#1 v1.5 SHA-256 verification.
// It is immutable and safe for concurrent use.
type PublicKey struct {
	// Name is the key's name in the authorizer's tokenSigningPublicKeys map.
	Name string

	n     []uint32 // modulus, little-endian 32-bit limbs, zero-padded to a multiple of limbBlock
	e     uint32   // public exponent, odd, ≥ 3
	bits  int      // modulus bit length
	k     int      // modulus length in bytes (signature length)
	n0inv uint32   // -n⁻¹ mod 2³²
	rr    []uint32 // R² mod n, R = 2^(32·len(n))
	em    []uint32 // expected encoded message, hash limbs (the low 8) left zero
}

// Bits returns the modulus size in bits, for example 2048.
func (k *PublicKey) Bits() int { return k.bits }

// ParsePublicKeyPEM parses one RSA public key in PEM form: "-----BEGIN PUBLIC KEY-----"
// (SubjectPublicKeyInfo, what `openssl rsa -pubout` writes and AWS's examples use) or
// "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1 RSAPublicKey). name is kept as PublicKey.Name.
//
// It refuses anything else with an error that says why: no PEM block, a certificate or a
// private key, a non-RSA key (EC, Ed25519, RSA-PSS), malformed DER, a modulus under 2048 or over
// 16384 bits, an even modulus, an exponent that is even, below 3 or above 2³¹-1, or text after
// the key.
func ParsePublicKeyPEM(name, pemText string) (*PublicKey, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		if strings.Contains(pemText, "-----BEGIN") {
			return nil, errors.New("malformed PEM block")
		}
		return nil, errors.New("no PEM block found (expected -----BEGIN PUBLIC KEY-----)")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("unexpected text after the PEM block (give exactly one key)")
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("PEM headers are not supported (encrypted PEM?)")
	}
	var n, e []byte
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		n, e, err = parseSPKI(block.Bytes)
	case "RSA PUBLIC KEY":
		n, e, err = parsePKCS1(block.Bytes)
	case "CERTIFICATE":
		return nil, errors.New("PEM block is a CERTIFICATE; give the public key (openssl x509 -pubkey -noout)")
	case "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("PEM block is a private key (" + block.Type + "); give the public key only")
	default:
		return nil, errors.New("unsupported PEM block type " + strconv.Quote(block.Type) + " (want PUBLIC KEY or RSA PUBLIC KEY)")
	}
	if err != nil {
		return nil, err
	}
	return newPublicKey(name, n, e)
}

// newPublicKey builds a key from big-endian modulus and exponent bytes (no leading zeros).
func newPublicKey(name string, nb, eb []byte) (*PublicKey, error) {
	if len(nb) == 0 {
		return nil, errors.New("RSA modulus is zero")
	}
	bits := (len(nb)-1)*8 + bitLen8(nb[0])
	if bits < MinBits {
		return nil, errors.New("RSA key is " + strconv.Itoa(bits) + " bits, at least " + strconv.Itoa(MinBits) + " required")
	}
	if bits > MaxBits {
		return nil, errors.New("RSA key is " + strconv.Itoa(bits) + " bits, at most " + strconv.Itoa(MaxBits) + " supported")
	}
	if nb[len(nb)-1]&1 == 0 {
		return nil, errors.New("RSA modulus is even")
	}
	if len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("RSA public exponent out of range (want 3 ≤ e ≤ 2^31-1)")
	}
	var e uint32
	for _, c := range eb {
		e = e<<8 | uint32(c)
	}
	if e < 3 || e > 1<<31-1 {
		return nil, errors.New("RSA public exponent " + strconv.FormatUint(uint64(e), 10) + " out of range (want 3 ≤ e ≤ 2^31-1)")
	}
	if e&1 == 0 {
		return nil, errors.New("RSA public exponent " + strconv.FormatUint(uint64(e), 10) + " is even")
	}
	k := &PublicKey{Name: name, e: e, bits: bits, k: len(nb)}
	s := (len(nb) + 3) / 4
	s = (s + limbBlock - 1) / limbBlock * limbBlock // zero limbs on top keep Montgomery valid
	k.n = bytesToLimbs(make([]uint32, s), nb)
	k.n0inv = negInv32(k.n[0])
	k.rr = rSquared(k.n)
	k.em = expectedEM(k.k, len(k.n))
	return k, nil
}

func bitLen8(b byte) int {
	n := 0
	for b != 0 {
		n++
		b >>= 1
	}
	return n
}

// DER tags used by the reader.
const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagNull      = 0x05
	tagOID       = 0x06
	tagSequence  = 0x30
)

// OIDs (DER content bytes) recognised to give clear errors.
var (
	oidRSAEncryption = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01} // 1.2.840.113549.1.1.1
	oidRSAPSS        = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a} // 1.2.840.113549.1.1.10
	oidECPublicKey   = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}             // 1.2.840.10045.2.1
	oidEd25519       = []byte{0x2b, 0x65, 0x70}                                     // 1.3.101.112
	oidEd448         = []byte{0x2b, 0x65, 0x71}                                     // 1.3.101.113
	oidDSA           = []byte{0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01}             // 1.2.840.10040.4.1
)

// readTLV reads one DER element with the expected tag and returns its content and what follows.
// Only definite lengths in minimal form are accepted.
func readTLV(b []byte, tag byte, what string) (content, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, errors.New("malformed DER: truncated " + what)
	}
	if b[0] != tag {
		return nil, nil, errors.New("malformed DER: expected " + what)
	}
	l := int(b[1])
	b = b[2:]
	if l >= 0x80 {
		nl := l & 0x7f
		if nl == 0 || nl > 3 || nl > len(b) {
			return nil, nil, errors.New("malformed DER: bad length of " + what)
		}
		l = 0
		for i := 0; i < nl; i++ {
			l = l<<8 | int(b[i])
		}
		if b[0] == 0 || l < 0x80 {
			return nil, nil, errors.New("malformed DER: non-minimal length of " + what)
		}
		b = b[nl:]
	}
	if l > len(b) {
		return nil, nil, errors.New("malformed DER: truncated " + what)
	}
	return b[:l], b[l:], nil
}

// readUint reads a non-negative DER INTEGER and returns its magnitude without leading zeros.
func readUint(b []byte, what string) (v, rest []byte, err error) {
	v, rest, err = readTLV(b, tagInteger, what)
	if err != nil {
		return nil, nil, err
	}
	if len(v) == 0 {
		return nil, nil, errors.New("malformed DER: empty " + what)
	}
	if v[0]&0x80 != 0 {
		return nil, nil, errors.New("RSA " + what + " is negative")
	}
	if len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0 {
		return nil, nil, errors.New("malformed DER: non-minimal " + what)
	}
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	return v, rest, nil
}

// readOuter reads the SEQUENCE named what that must make up the whole of der, and returns its
// contents.
func readOuter(der []byte, what string) ([]byte, error) {
	seq, rest, err := readTLV(der, tagSequence, what+" SEQUENCE")
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("malformed DER: trailing data after " + what)
	}
	return seq, nil
}

// parsePKCS1 reads RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
func parsePKCS1(der []byte) (n, e []byte, err error) {
	seq, err := readOuter(der, "RSAPublicKey")
	if err != nil {
		return nil, nil, err
	}
	n, seq, err = readUint(seq, "modulus")
	if err != nil {
		return nil, nil, err
	}
	e, seq, err = readUint(seq, "public exponent")
	if err != nil {
		return nil, nil, err
	}
	if len(seq) != 0 {
		return nil, nil, errors.New("malformed DER: trailing data in RSAPublicKey")
	}
	return n, e, nil
}

// parseSPKI reads SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING } with
// AlgorithmIdentifier ::= SEQUENCE { rsaEncryption OID, NULL } and the BIT STRING holding the
// PKCS#1 RSAPublicKey.
func parseSPKI(der []byte) (n, e []byte, err error) {
	spki, err := readOuter(der, "SubjectPublicKeyInfo")
	if err != nil {
		return nil, nil, err
	}
	alg, spki, err := readTLV(spki, tagSequence, "AlgorithmIdentifier SEQUENCE")
	if err != nil {
		return nil, nil, err
	}
	oid, params, err := readTLV(alg, tagOID, "algorithm OID")
	if err != nil {
		return nil, nil, err
	}
	switch string(oid) {
	case string(oidRSAEncryption):
	case string(oidECPublicKey):
		return nil, nil, errors.New("key is an EC key; only RSA keys are supported")
	case string(oidEd25519), string(oidEd448):
		return nil, nil, errors.New("key is an EdDSA key; only RSA keys are supported")
	case string(oidRSAPSS):
		return nil, nil, errors.New("key is an RSA-PSS key; only rsaEncryption (PKCS#1 v1.5) keys are supported")
	case string(oidDSA):
		return nil, nil, errors.New("key is a DSA key; only RSA keys are supported")
	default:
		return nil, nil, errors.New("key algorithm is not rsaEncryption; only RSA keys are supported")
	}
	// Parameters must be NULL; absent parameters are tolerated as some encoders omit them.
	if len(params) != 0 {
		null, after, err := readTLV(params, tagNull, "NULL parameters")
		if err != nil {
			return nil, nil, err
		}
		if len(null) != 0 || len(after) != 0 {
			return nil, nil, errors.New("malformed DER: rsaEncryption parameters must be NULL")
		}
	}
	bits, spki, err := readTLV(spki, tagBitString, "subjectPublicKey BIT STRING")
	if err != nil {
		return nil, nil, err
	}
	if len(spki) != 0 {
		return nil, nil, errors.New("malformed DER: trailing data in SubjectPublicKeyInfo")
	}
	if len(bits) == 0 || bits[0] != 0 {
		return nil, nil, errors.New("malformed DER: subjectPublicKey BIT STRING has unused bits")
	}
	return parsePKCS1(bits[1:])
}
