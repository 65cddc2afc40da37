package rsakey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

func TestParsePEM(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, b []byte, h map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: h, Bytes: b})
	}
	for _, tc := range []struct {
		name string
		in   []byte
		err  string // "" for key
	}{
		{"PKCS#8", block("PRIVATE KEY", pkcs8, nil), ""},
		{"PKCS#1", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), nil), ""},
		{"after another block", append(block("CERTIFICATE", []byte{1}, nil), block("PRIVATE KEY", pkcs8, nil)...), ""},
		{"EC", block("PRIVATE KEY", ec8, nil), "key is *ecdsa.PrivateKey, not RSA"},
		{"encrypted PKCS#1", block("RSA PRIVATE KEY", []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED"}), "encrypted PEM keys are not supported"},
		{"encrypted PKCS#8", block("ENCRYPTED PRIVATE KEY", []byte{1}, nil), "encrypted PEM keys are not supported"},
		{"no PEM", []byte("not a key"), "no PEM private key found"},
		{"public key only", block("PUBLIC KEY", []byte{1}, nil), "no PEM private key found"},
		{"truncated DER", block("PRIVATE KEY", pkcs8[:40], nil), "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePEM(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(key) {
				t.Fatalf("key %v, err %v", got != nil, err)
			}
		})
	}
}

func TestSign(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(key, []byte("allow-dev1"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatalf("not standard base64: %v", err)
	}
	sum := sha256.Sum256([]byte("allow-dev1"))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], raw); err != nil {
		t.Fatalf("does not verify: %v", err)
	}
	if again, _ := Sign(key, []byte("allow-dev1")); again != sig {
		t.Fatal("PKCS#1 v1.5 signatures are deterministic")
	}
}
