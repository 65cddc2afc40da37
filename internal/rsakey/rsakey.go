// Package rsakey reads the RSA private key that signs custom-authorizer tokens and signs with it,
// as `iotauthz sign` and openssl do. The plugin never signs; the command line and the tests do.
package rsakey

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePEM reads the first PEM block of b holding an RSA private key: PKCS#8 "PRIVATE KEY" (what
// `iotauthz keygen` writes) or PKCS#1 "RSA PRIVATE KEY". Encrypted keys are refused.
func ParsePEM(b []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("key is %T, not RSA", k)
			}
			return rk, nil
		case "RSA PRIVATE KEY":
			if block.Headers["Proc-Type"] != "" {
				return nil, errors.New("encrypted PEM keys are not supported")
			}
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted PEM keys are not supported")
		}
	}
}

// Sign returns base64(RSASSA-PKCS1-v1_5(SHA-256(token))): the x-amz-customauthorizer-signature
// value. PKCS#1 v1.5 is deterministic, so this equals `openssl dgst -sha256 -sign KEY | base64 -w0`.
func Sign(key *rsa.PrivateKey, token []byte) (string, error) {
	sum := sha256.Sum256(token)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
