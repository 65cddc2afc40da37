package token

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	mrand "math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/iotauthz/iotauthz/internal/require"
)

// Test keys are generated once per test binary; sizes include ones that are not a multiple of 32.
var (
	keysOnce sync.Once
	testKeys []*rsa.PrivateKey
)

func rsaKeys(t testing.TB) []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for _, bits := range []int{2048, 2048, 2048, 2056, 2088, 3072} {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys
}

func spkiPEM(t testing.TB, pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func pkcs1PEM(pub *rsa.PublicKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
}

func sign(t testing.TB, k *rsa.PrivateKey, msg []byte) []byte {
	h := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestParsePublicKeyPEM_Formats(t *testing.T) {
	for i, priv := range rsaKeys(t) {
		for _, text := range []string{spkiPEM(t, &priv.PublicKey), pkcs1PEM(&priv.PublicKey)} {
			k, err := ParsePublicKeyPEM("k", text)
			if err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
			if k.Bits() != priv.N.BitLen() {
				t.Fatalf("key %d: Bits() = %d, want %d", i, k.Bits(), priv.N.BitLen())
			}
			if k.Name != "k" || int(k.e) != priv.E || k.k != priv.Size() {
				t.Fatalf("key %d: parsed %q e=%d k=%d", i, k.Name, k.e, k.k)
			}
		}
	}
}

func TestPublicKey_VerifyMatchesStdlib(t *testing.T) {
	r := mrand.New(mrand.NewSource(1))
	for ki, priv := range rsaKeys(t) {
		k, err := ParsePublicKeyPEM("k", spkiPEM(t, &priv.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			msg := make([]byte, r.Intn(300))
			r.Read(msg)
			sig := sign(t, priv, msg)
			h := sha256.Sum256(msg)
			std := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, h[:], sig) == nil
			if got := k.Verify(msg, sig); got != std || !got {
				t.Fatalf("key %d msg %d: Verify = %v, stdlib %v", ki, i, got, std)
			}
			// Corruptions: every one must fail, as in the standard library.
			bad := [][]byte{
				flip(sig, r.Intn(len(sig))),
				sig[:len(sig)-1],
				append(append([]byte{}, sig...), 0),
				append([]byte{0}, sig[:len(sig)-1]...),
				new(big.Int).Add(new(big.Int).SetBytes(sig), priv.N).FillBytes(make([]byte, len(sig)+1))[1:], // sig+n truncated
				priv.N.FillBytes(make([]byte, len(sig))),                                                     // sig == n
				make([]byte, len(sig)),                                                                       // zero
				{},
			}
			for bi, b := range bad {
				std := len(b) == len(sig) && rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, h[:], b) == nil
				if got := k.Verify(msg, b); got != std || got {
					t.Fatalf("key %d msg %d bad %d: Verify = %v, stdlib %v", ki, i, bi, got, std)
				}
			}
			if k.Verify(append(msg, 'x'), sig) {
				t.Fatalf("key %d msg %d: verified a different message", ki, i)
			}
		}
	}
}

// sig ≥ n of the right length: the top bytes set to 0xff are above any modulus.
func TestPublicKey_VerifySigAboveModulus(t *testing.T) {
	priv := rsaKeys(t)[0]
	k, err := ParsePublicKeyPEM("k", pkcs1PEM(&priv.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	sig := sign(t, priv, []byte("tok"))
	// Add n: same residue, so only the range check rejects it (when it still fits).
	sn := new(big.Int).Add(new(big.Int).SetBytes(sig), priv.N)
	if sn.BitLen() <= 8*len(sig) {
		if k.Verify([]byte("tok"), sn.FillBytes(make([]byte, len(sig)))) {
			t.Fatal("verified sig+n")
		}
	}
	ff := []byte(strings.Repeat("\xff", len(sig)))
	if k.Verify([]byte("tok"), ff) {
		t.Fatal("verified all-ones signature")
	}
}

// Other padding mistakes: PKCS#1 v1.5 with SHA-1 and with no DigestInfo, and PSS, all fail.
func TestPublicKey_VerifyRejectsOtherEncodings(t *testing.T) {
	priv := rsaKeys(t)[1]
	k, err := ParsePublicKeyPEM("k", spkiPEM(t, &priv.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("token-value")
	h := sha256.Sum256(msg)
	raw, err := rsa.SignPKCS1v15(rand.Reader, priv, 0, h[:])
	if err != nil {
		t.Fatal(err)
	}
	pss, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, h[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range map[string][]byte{"raw": raw, "pss": pss} {
		if k.Verify(msg, sig) {
			t.Errorf("%s signature verified", name)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 1 << uint(i%8)
	return c
}

// expMod against math/big on random odd moduli and random exponents.
func TestPublicKey_ExpModMatchesBig(t *testing.T) {
	r := mrand.New(mrand.NewSource(2))
	for i := 0; i < 60; i++ {
		bits := MinBits + r.Intn(2200)
		nb := make([]byte, (bits+7)/8)
		r.Read(nb)
		nb[0] |= 0x80 >> uint((8-bits%8)%8)
		nb[0] &= 0xff >> uint((8-bits%8)%8)
		nb[len(nb)-1] |= 1
		e := uint32(r.Int31()) | 1
		if e < 3 {
			e = 3
		}
		if i%3 == 0 {
			e = 65537
		}
		eb := big.NewInt(int64(e)).Bytes()
		k, err := newPublicKey("r", nb, eb)
		if err != nil {
			t.Fatal(err)
		}
		N := new(big.Int).SetBytes(nb)
		xb := make([]byte, len(nb))
		r.Read(xb)
		X := new(big.Int).Mod(new(big.Int).SetBytes(xb), N)
		s := len(k.n)
		x := bytesToLimbs(make([]uint32, s), X.Bytes())
		y := make([]uint32, s)
		k.expMod(y, x, make([]uint32, s), make([]uint32, 2*s+1))
		want := new(big.Int).Exp(X, big.NewInt(int64(e)), N)
		if got := limbsToBig(y); got.Cmp(want) != 0 {
			t.Fatalf("case %d (%d bits, e=%d): got %x want %x", i, bits, e, got, want)
		}
		if rr := limbsToBig(k.rr); rr.Cmp(new(big.Int).Mod(new(big.Int).Lsh(big.NewInt(1), uint(64*s)), N)) != 0 {
			t.Fatalf("case %d: R² mod n wrong", i)
		}
	}
}

func limbsToBig(x []uint32) *big.Int {
	z := new(big.Int)
	for i := len(x) - 1; i >= 0; i-- {
		z.Lsh(z, 32)
		z.Or(z, big.NewInt(int64(x[i])))
	}
	return z
}

func TestNegInv32(t *testing.T) {
	r := mrand.New(mrand.NewSource(3))
	for i := 0; i < 1000; i++ {
		n := r.Uint32() | 1
		if n*negInv32(n) != 0xffffffff {
			t.Fatalf("negInv32(%d) wrong", n)
		}
	}
}

func TestDecodeSignature(t *testing.T) {
	long := strings.Repeat("A", MaxSignatureChars+4)
	tests := []struct {
		name, in, err string
		want          []byte
	}{
		{name: "ok", in: "AAEC", want: []byte{0, 1, 2}},
		{name: "padding1", in: "AAE=", want: []byte{0, 1}},
		{name: "padding2", in: "AA==", want: []byte{0}},
		{name: "plus slash", in: "+/+/", want: []byte{0xfb, 0xff, 0xbf}},
		{name: "max", in: strings.Repeat("A", MaxSignatureChars), want: make([]byte, MaxSignatureChars/4*3)},
		{name: "empty", in: "", err: "signature is empty"},
		{name: "too long", in: long, err: "signature is 2564 characters, at most 2560 allowed"},
		{name: "no padding", in: "AAE", err: "signature is not valid base64: length 3 is not a multiple of 4"},
		{name: "url alphabet", in: "AA-_", err: "signature is not valid base64: character '-' at offset 2"},
		{name: "space", in: "AA E", err: "signature is not valid base64: character ' ' at offset 2"},
		{name: "newline", in: "AA\nE", err: "signature is not valid base64: character '\\n' at offset 2"},
		{name: "data after pad", in: "A=AA", err: "signature is not valid base64: data after '=' padding at offset 2"},
		{name: "three pads", in: "A===", err: "signature is not valid base64: too much '=' padding"},
		{name: "percent", in: "AA%2", err: "signature is not valid base64: character '%' at offset 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSignature(tc.in)
			if require.Err(t, err, tc.err) && string(got) != string(tc.want) {
				t.Fatalf("got %x want %x", got, tc.want)
			}
		})
	}
}

func TestVerifier_Verify(t *testing.T) {
	privs := rsaKeys(t)
	k1, _ := ParsePublicKeyPEM("key1", spkiPEM(t, &privs[0].PublicKey))
	k2, _ := ParsePublicKeyPEM("key2", spkiPEM(t, &privs[1].PublicKey))
	v := NewVerifier([]*PublicKey{k1, k2}, 100)
	if len(v.slots) != 64 {
		t.Fatalf("cache slots = %d, want 64", len(v.slots))
	}
	tok := "device-42"
	sig1 := base64.StdEncoding.EncodeToString(sign(t, privs[0], []byte(tok)))
	sig2 := base64.StdEncoding.EncodeToString(sign(t, privs[1], []byte(tok)))
	other := base64.StdEncoding.EncodeToString(sign(t, privs[2], []byte(tok)))

	check := func(token, sig string, wantOK bool, wantReason string) {
		t.Helper()
		ok, reason := v.Verify(token, sig)
		if ok != wantOK || reason != wantReason {
			t.Fatalf("Verify(%q, %.10q…) = %v, %q; want %v, %q", token, sig, ok, reason, wantOK, wantReason)
		}
	}
	check(tok, sig1, true, "key1")
	check(tok, sig2, true, "key2")
	check(tok, sig2, true, "key2") // cached
	check(tok, other, false, "signature does not verify with any of 2 keys")
	check(tok, other, false, "signature does not verify with any of 2 keys") // a failure remembered: the same answer
	check("device-43", sig1, false, "signature does not verify with any of 2 keys")
	check(tok, "", false, "signature missing")
	check(strings.Repeat("t", MaxTokenBytes+1), sig1, false, "token is 6145 bytes, at most 6144 allowed")
	check(tok, "***", false, "signature is not valid base64: length 3 is not a multiple of 4")

	// Only successes are remembered: every occupied slot holds a pair that verified.
	good := map[[32]byte]bool{v.digest(tok, sig1): true, v.digest(tok, sig2): true}
	for _, s := range v.slots {
		if s.key != 0 && !good[s.sum] {
			t.Fatalf("cache holds a pair that did not verify")
		}
	}

	single := NewVerifier([]*PublicKey{k1}, 0)
	if ok, reason := single.Verify(tok, sig2); ok || reason != `signature does not verify with key "key1"` {
		t.Fatalf("single: %v %q", ok, reason)
	}
	if ok, reason := single.Verify(tok, sig1); !ok || reason != "key1" {
		t.Fatalf("single: %v %q", ok, reason)
	}
	none := NewVerifier(nil, 8)
	if ok, reason := none.Verify(tok, sig1); ok || reason != "no signing keys configured" {
		t.Fatalf("none: %v %q", ok, reason)
	}
}

// A cache hit must not vouch for a different (token, signature) pair landing in the same slot.
func TestVerifier_CacheCollision(t *testing.T) {
	priv := rsaKeys(t)[0]
	k, _ := ParsePublicKeyPEM("k", spkiPEM(t, &priv.PublicKey))
	v := NewVerifier([]*PublicKey{k}, 1) // one slot: every pair collides
	good := base64.StdEncoding.EncodeToString(sign(t, priv, []byte("a")))
	if ok, _ := v.Verify("a", good); !ok {
		t.Fatal("good signature rejected")
	}
	if ok, _ := v.Verify("b", good); ok {
		t.Fatal("collision accepted another token")
	}
	if ok, _ := v.Verify("a", good); !ok {
		t.Fatal("good signature rejected after collision")
	}
	// Many distinct tokens keep the table at its fixed size.
	for i := 0; i < 50; i++ {
		tok := strings.Repeat("t", i+1)
		if ok, _ := v.Verify(tok, base64.StdEncoding.EncodeToString(sign(t, priv, []byte(tok)))); !ok {
			t.Fatal(i)
		}
	}
	if len(v.slots) != 1 {
		t.Fatal("cache grew")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// The Montgomery products agree with each other and with math/big.
func TestMontgomeryVariants(t *testing.T) {
	r := mrand.New(mrand.NewSource(4))
	for i := 0; i < 50; i++ {
		nb := make([]byte, 256+r.Intn(200))
		r.Read(nb)
		nb[0] |= 0x80
		nb[len(nb)-1] |= 1
		k, err := newPublicKey("r", nb, []byte{1, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		s := len(k.n)
		N := new(big.Int).SetBytes(nb)
		rnd := func() ([]uint32, *big.Int) {
			b := make([]byte, len(nb))
			r.Read(b)
			X := new(big.Int).Mod(new(big.Int).SetBytes(b), N)
			if i%10 == 0 {
				X.Sub(N, big.NewInt(1)) // the largest input
			}
			return bytesToLimbs(make([]uint32, s), X.Bytes()), X
		}
		x, X := rnd()
		y, Y := rnd()
		Rinv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), uint(32*s)), N)
		want := new(big.Int).Mul(X, Y)
		want.Mul(want, Rinv).Mod(want, N)
		wantSq := new(big.Int).Mul(X, X)
		wantSq.Mul(wantSq, Rinv).Mod(wantSq, N)
		z := make([]uint32, s)
		tt := make([]uint32, 2*s+1)
		montMul4(z, x, y, k.n, k.n0inv, tt)
		if limbsToBig(z).Cmp(want) != 0 {
			t.Fatalf("case %d: montMul4 wrong", i)
		}
		montMul4(z, x, x, k.n, k.n0inv, tt)
		if limbsToBig(z).Cmp(wantSq) != 0 {
			t.Fatalf("case %d: montMul4 square wrong", i)
		}
		montSqr4(z, x, k.n, k.n0inv, tt)
		if limbsToBig(z).Cmp(wantSq) != 0 {
			t.Fatalf("case %d: montSqr4 wrong", i)
		}
	}
}

func benchMont(b *testing.B, f func(z, x, y, n []uint32, n0inv uint32, t []uint32)) {
	k, _ := ParsePublicKeyPEM("k", spkiPEM(b, &rsaKeys(b)[0].PublicKey))
	s := len(k.n)
	x := append([]uint32{}, k.rr...)
	z := make([]uint32, s)
	tt := make([]uint32, 2*s+1)
	for i := 0; i < b.N; i++ {
		f(z, x, x, k.n, k.n0inv, tt)
	}
}

func BenchmarkMontMul4(b *testing.B) { benchMont(b, montMul4) }
func BenchmarkMontSqr4(b *testing.B) {
	benchMont(b, func(z, x, _, n []uint32, n0inv uint32, t []uint32) { montSqr4(z, x, n, n0inv, t) })
}
