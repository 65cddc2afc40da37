package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"
)

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestParsePublicKeyPEM_Errors(t *testing.T) {
	priv := rsaKeys(t)[0]
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pkcs1 := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	withE := func(e int) string {
		return pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: priv.N, E: e}))
	}
	evenN := new(big.Int).Add(priv.N, big.NewInt(1))
	huge := new(big.Int).Lsh(big.NewInt(1), MaxBits) // MaxBits+1 bits
	huge.Or(huge, big.NewInt(1))

	tests := []struct{ name, pem, err string }{
		{"empty", "", "no PEM block found (expected -----BEGIN PUBLIC KEY-----)"},
		{"garbage", "hello", "no PEM block found (expected -----BEGIN PUBLIC KEY-----)"},
		{"broken armor", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "malformed PEM block"},
		{"two keys", pemOf("PUBLIC KEY", spki) + pemOf("PUBLIC KEY", spki), "unexpected text after the PEM block (give exactly one key)"},
		{"certificate", pemOf("CERTIFICATE", spki), "PEM block is a CERTIFICATE; give the public key (openssl x509 -pubkey -noout)"},
		{"private", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(priv)), "PEM block is a private key (RSA PRIVATE KEY); give the public key only"},
		{"other type", pemOf("FOO", spki), `unsupported PEM block type "FOO" (want PUBLIC KEY or RSA PUBLIC KEY)`},
		{"ec", pemOf("PUBLIC KEY", ecDER), "key is an EC key; only RSA keys are supported"},
		{"ed25519", pemOf("PUBLIC KEY", edDER), "key is an EdDSA key; only RSA keys are supported"},
		{"1024 bits", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&small.PublicKey)), "RSA key is 1024 bits, at least 2048 required"},
		{"too big", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: huge, E: 65537})), "RSA key is 16385 bits, at most 16384 supported"},
		{"even n", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: evenN, E: 65537})), "RSA modulus is even"},
		{"e=1", withE(1), "RSA public exponent 1 out of range (want 3 ≤ e ≤ 2^31-1)"},
		{"e even", withE(65536), "RSA public exponent 65536 is even"},
		{"e huge", withE(1 << 32), "RSA public exponent out of range (want 3 ≤ e ≤ 2^31-1)"},
		{"e negative", withE(-3), "RSA public exponent is negative"},
		{"spki as pkcs1", pemOf("RSA PUBLIC KEY", spki), "malformed DER: expected modulus"},
		{"pkcs1 as spki", pemOf("PUBLIC KEY", pkcs1), "malformed DER: expected AlgorithmIdentifier SEQUENCE"},
		{"truncated", pemOf("PUBLIC KEY", spki[:len(spki)-10]), "malformed DER: truncated SubjectPublicKeyInfo SEQUENCE"},
		{"trailing", pemOf("PUBLIC KEY", append(append([]byte{}, spki...), 0)), "malformed DER: trailing data after SubjectPublicKeyInfo"},
		{"encrypted", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: spki})), "PEM headers are not supported (encrypted PEM?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePublicKeyPEM("k", tc.pem)
			if err == nil || err.Error() != tc.err {
				t.Fatalf("err = %v, want %q (key %v)", err, tc.err, k)
			}
		})
	}
	// Surrounding whitespace and a missing parameters NULL are fine.
	if _, err := ParsePublicKeyPEM("k", "\n  "+pemOf("PUBLIC KEY", spki)+"\n\n"); err != nil {
		t.Fatal(err)
	}
	noNull := stripNull(t, spki)
	if _, err := ParsePublicKeyPEM("k", pemOf("PUBLIC KEY", noNull)); err != nil {
		t.Fatalf("SPKI without NULL parameters: %v", err)
	}
}

// stripNull re-encodes an SPKI without the AlgorithmIdentifier NULL parameters.
func stripNull(t *testing.T, spki []byte) []byte {
	t.Helper()
	body, _, err := readTLV(spki, tagSequence, "spki")
	if err != nil {
		t.Fatal(err)
	}
	_, bitString, err := readTLV(body, tagSequence, "alg")
	if err != nil {
		t.Fatal(err)
	}
	alg := append([]byte{tagSequence, byte(len(oidRSAEncryption) + 2), tagOID, byte(len(oidRSAEncryption))}, oidRSAEncryption...)
	inner := append(alg, bitString...)
	return append([]byte{tagSequence, 0x82, byte(len(inner) >> 8), byte(len(inner))}, inner...)
}

// FuzzParsePublicKeyPEM: never panics, and what parses verifies without panicking.
func FuzzParsePublicKeyPEM(f *testing.F) {
	priv := rsaKeys(f)[0]
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	f.Add(spki)
	f.Add(x509.MarshalPKCS1PublicKey(&priv.PublicKey))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		for _, typ := range []string{"PUBLIC KEY", "RSA PUBLIC KEY"} {
			k, err := ParsePublicKeyPEM("f", pemOf(typ, der))
			if err == nil {
				k.Verify(der, make([]byte, k.k))
			}
		}
	})
}
