// Command verifyguest is the WebAssembly guest of the token package's wasm benchmarks. It is
// built by the benchmark itself, in a temporary directory:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o verify.wasm ./testdata/verifyguest
//
// The host mounts a directory holding key.pem, msg and sig at /v and calls setup once, then
// verify or verifyStdlib with an iteration count; each returns how many verifications succeeded.
package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"

	"github.com/iotauthz/iotauthz/plugin/token"
)

var (
	key      *token.PublicKey
	stdKey   *rsa.PublicKey
	msg, sig []byte
)

//go:wasmexport setup
func setup() int32 {
	keyPEM, err := os.ReadFile("/v/key.pem")
	if err != nil {
		return 1
	}
	if msg, err = os.ReadFile("/v/msg"); err != nil {
		return 2
	}
	if sig, err = os.ReadFile("/v/sig"); err != nil {
		return 3
	}
	if key, err = token.ParsePublicKeyPEM("bench", string(keyPEM)); err != nil {
		return 4
	}
	block, _ := pem.Decode(keyPEM)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return 5
	}
	stdKey = pub.(*rsa.PublicKey)
	return 0
}

//go:wasmexport verify
func verify(n int32) int32 {
	ok := int32(0)
	for i := int32(0); i < n; i++ {
		if key.Verify(msg, sig) {
			ok++
		}
	}
	return ok
}

//go:wasmexport verifyStdlib
func verifyStdlib(n int32) int32 {
	ok := int32(0)
	for i := int32(0); i < n; i++ {
		h := sha256.Sum256(msg)
		if rsa.VerifyPKCS1v15(stdKey, crypto.SHA256, h[:], sig) == nil {
			ok++
		}
	}
	return ok
}

func main() {}
