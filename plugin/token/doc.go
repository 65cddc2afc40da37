// Package token checks AWS IoT custom-authorizer token signatures: RSA with SHA-256 and PKCS#1
// v1.5 padding over the raw token bytes, the signature sent as standard base64.
//
// It parses RSA public keys from PEM ("PUBLIC KEY", SubjectPublicKeyInfo, and "RSA PUBLIC KEY",
// PKCS#1) without crypto/x509, whose imports the Envoy wasm host does not provide, and verifies
// with its own modular exponentiation on 32-bit limbs with Montgomery multiplication: inside
// WebAssembly a 32×32→64 multiply is one native instruction while math/big's and crypto/rsa's
// 64×64→128 multiplies are emulated (see BenchmarkRSAVerifyWasm and BenchmarkRSAVerifyStdlibWasm).
//
// Use ParsePublicKeyPEM once at configuration time, then NewVerifier with the authorizer's keys;
// Verifier.Verify decodes the base64 signature, tries every key and remembers verified
// (token, signature) pairs in a bounded cache, and failed ones in another (rejected.go), so
// that a forged pair sent again costs a SHA-256 and a byte comparison, not an RSA verify.
//
// # Notes
//
//   - PublicKey is immutable after parsing and safe for concurrent use.
//   - Verifier is not safe for concurrent use (a proxy-wasm VM is single-threaded); guard it with a
//     lock to share it between goroutines.
//   - PublicKey.Verify does not allocate (its scratch lives on the stack); Verifier.Verify
//     allocates only the decoded signature and a copy of the token, and only when it runs a
//     verify; the failed-pair cache (about 70 KiB) on the first failure.
//   - A signature that decodes to other than the modulus length, or to an integer not below the
//     modulus, is refused before any arithmetic. A well-formed forgery never seen before costs a
//     full verify per key: nothing cheaper can tell it from a valid signature.
//   - Keys above 16384 bits are refused; the work of one verify is bounded by that size.
//
// See https://www.rfc-editor.org/rfc/rfc8017#section-8.2.2
package token
