package host

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// The foreign functions Envoy registers, by name, as
// source/extensions/common/wasm/foreign.cc defines them: the same argument
// and result encodings (raw bytes for compress/uncompress, the protobuf
// messages of source/extensions/common/wasm/ext/*.proto for the others).
//
// Served here: compress, uncompress, verify_signature, sign,
// clear_route_cache (the host has no route cache: Ok, as Envoy answers),
// set_envoy_filter_state (the host has no filter-state object factory, so
// every key answers NotFound, as Envoy answers a key it has no factory for),
// declare_property (read-only is kept; the type, schema and life span are
// not: values are the raw bytes set). Not registered, so NotFound as in an
// Envoy build without them: expr_create, expr_evaluate, expr_delete (the
// expr_* functions exist only in Envoy builds with the CEL parser).
var foreignFunctions = map[string]func(vm *VM, args []byte) ([]byte, abi.Status){
	"compress":               foreignCompress,
	"uncompress":             foreignUncompress,
	"verify_signature":       foreignVerifySignature,
	"sign":                   foreignSign,
	"clear_route_cache":      func(*VM, []byte) ([]byte, abi.Status) { return nil, abi.StatusOK },
	"set_envoy_filter_state": foreignSetEnvoyFilterState,
	"declare_property":       foreignDeclareProperty,
}

// maxUncompressed bounds what uncompress produces. Envoy has no bound; a
// guest cannot receive more than its 32-bit memory anyway, and a host that
// embeds untrusted modules should not allocate gigabytes for one call.
const maxUncompressed = 64 << 20

// foreignCompress is zlib's compress(): a zlib stream (RFC 1950) at the
// default level. The bytes may differ from C zlib's; any zlib reader,
// Envoy's uncompress included, reads them back.
func foreignCompress(_ *VM, args []byte) ([]byte, abi.Status) {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	if _, err := w.Write(args); err != nil {
		return nil, abi.StatusSerializationFailure
	}
	if err := w.Close(); err != nil {
		return nil, abi.StatusSerializationFailure
	}
	return b.Bytes(), abi.StatusOK
}

// foreignUncompress is zlib's uncompress(): a whole zlib stream, else
// SerializationFailure (a truncated, corrupt or empty input). Bytes after the
// stream's end are ignored, as uncompress() ignores them.
func foreignUncompress(_ *VM, args []byte) ([]byte, abi.Status) {
	r, err := zlib.NewReader(bytes.NewReader(args))
	if err != nil {
		return nil, abi.StatusSerializationFailure
	}
	out, err := io.ReadAll(io.LimitReader(r, maxUncompressed+1))
	if err != nil || len(out) > maxUncompressed {
		return nil, abi.StatusSerializationFailure
	}
	return out, abi.StatusOK
}

// pbFields reads a protobuf message into its length-delimited fields by
// number (the last occurrence wins, as in protobuf). Fields of another wire
// type are skipped, as protobuf keeps them as unknown fields. strings names
// the fields declared "string": invalid UTF-8 there fails the parse, as
// proto3's ParseFromString does.
func pbFields(b []byte, strings ...protowire.Number) (map[protowire.Number][]byte, bool) {
	m := map[protowire.Number][]byte{}
	ok := pbEach(b, func(num protowire.Number, typ protowire.Type, v []byte) {
		if typ == protowire.BytesType {
			m[num], _ = protowire.ConsumeBytes(v)
		}
	})
	if !ok {
		return nil, false
	}
	for _, f := range strings {
		if !utf8.Valid(m[f]) {
			return nil, false
		}
	}
	return m, true
}

// hashFor is Envoy's getHashFunction (source/common/crypto/utility_impl.cc):
// the name, case-insensitive.
func hashFor(name string) (crypto.Hash, bool) {
	switch strings.ToLower(name) {
	case "sha1":
		return crypto.SHA1, true
	case "sha224":
		return crypto.SHA224, true
	case "sha256":
		return crypto.SHA256, true
	case "sha384":
		return crypto.SHA384, true
	case "sha512":
		return crypto.SHA512, true
	}
	return 0, false
}

// keyDER returns the DER of the key given either as DER or as PEM (not both,
// not neither: Envoy answers BadArgument).
func keyDER(der, pemText []byte) ([]byte, bool) {
	switch {
	case len(der) > 0 && len(pemText) > 0, len(der) == 0 && len(pemText) == 0:
		return nil, false
	case len(der) > 0:
		return der, true
	}
	blk, _ := pem.Decode(pemText)
	if blk == nil {
		return nil, false
	}
	return blk.Bytes, true
}

// foreignVerifySignature is Envoy's verify_signature: VerifySignatureArguments
// (hash_function 1, public_key 2 (DER SubjectPublicKeyInfo), signature 3,
// text 4, public_key_pem 5) in, VerifySignatureResult (result 1, error 2)
// out, with Envoy's messages (UtilityImpl::verifySignature). RSA keys verify
// PKCS #1 v1.5 signatures and EC keys ASN.1 ECDSA signatures, as BoringSSL's
// EVP_DigestVerify does with default parameters. A message that does not
// parse, or a key missing, given twice or unreadable, is BadArgument.
func foreignVerifySignature(_ *VM, args []byte) ([]byte, abi.Status) {
	m, der, ok := keyArgs(args, 5)
	if !ok {
		return nil, abi.StatusBadArgument
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, abi.StatusBadArgument
	}
	h, sum, ok := digest(m[1], m[4])
	if !ok {
		return verifyResult(string(m[1]) + " is not supported."), abi.StatusOK
	}
	var verr error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		verr = rsa.VerifyPKCS1v15(k, h, sum, m[3])
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, sum, m[3]) {
			verr = errors.New("bad signature")
		}
	default:
		return verifyResult("Failed to initialize digest verify."), abi.StatusOK
	}
	if verr != nil {
		return verifyResult("Failed to verify digest. Error code: 0"), abi.StatusOK
	}
	return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1), abi.StatusOK
}

// verifyResult is a VerifySignatureResult with result false and error msg
// (proto3 leaves the false bool out).
func verifyResult(msg string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), msg)
}

// foreignSign is Envoy's sign: SignArguments (hash_function 1, private_key 2
// (DER PKCS #8), text 3, private_key_pem 4) in, SignResult (result 1,
// signature 2, error 3) out. RSA keys sign PKCS #1 v1.5 (deterministic), EC
// keys ASN.1 ECDSA. A message that does not parse, or a key missing, given
// twice or unreadable, is BadArgument.
func foreignSign(_ *VM, args []byte) ([]byte, abi.Status) {
	m, der, ok := keyArgs(args, 4)
	if !ok {
		return nil, abi.StatusBadArgument
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil && len(m[4]) > 0 {
		// PEM may also hold a PKCS #1 RSA or SEC 1 EC key.
		if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			key, err = x509.ParseECPrivateKey(der)
		}
	}
	if err != nil {
		return nil, abi.StatusBadArgument
	}
	h, sum, ok := digest(m[1], m[3])
	if !ok {
		return signFailure(string(m[1]) + " is not supported."), abi.StatusOK
	}
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(nil, k, h, sum)
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, sum)
	default: // Ed25519 cannot be used with a digest: EVP_DigestSignInit fails

		return signFailure("Invalid private key: key data is corrupted or malformed."), abi.StatusOK
	}
	if err != nil {
		return signFailure("Failed to sign data."), abi.StatusOK
	}
	out := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	return protowire.AppendBytes(protowire.AppendTag(out, 2, protowire.BytesType), sig), abi.StatusOK
}

// keyArgs parses the SignArguments or VerifySignatureArguments message args
// (hash_function 1 and the key's PEM field pemField are strings) and returns
// its fields and the key's DER, from key 2 or from PEM field pemField;
// ok is false when the message does not parse or the key is missing, given
// twice or unreadable.
func keyArgs(args []byte, pemField protowire.Number) (m map[protowire.Number][]byte, der []byte, ok bool) {
	if m, ok = pbFields(args, 1, pemField); !ok {
		return nil, nil, false
	}
	if der, ok = keyDER(m[2], m[pemField]); !ok {
		return nil, nil, false
	}
	return m, der, true
}

// digest hashes text with the hash function named name (hashFor); ok is
// false when the name is not supported.
func digest(name, text []byte) (h crypto.Hash, sum []byte, ok bool) {
	if h, ok = hashFor(string(name)); !ok {
		return 0, nil, false
	}
	d := h.New()
	d.Write(text)
	return h, d.Sum(nil), true
}

func signFailure(msg string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, 3, protowire.BytesType), msg)
}

// foreignSetEnvoyFilterState is Envoy's set_envoy_filter_state:
// SetEnvoyFilterStateArguments (path 1, value 2) in, no result. Envoy looks
// the path up among its registered filter-state object factories
// (Context::setEnvoyFilterState) and answers NotFound for a path without
// one; the host has none. A message that does not parse is BadArgument.
func foreignSetEnvoyFilterState(_ *VM, args []byte) ([]byte, abi.Status) {
	if _, ok := pbFields(args, 1, 2); !ok {
		return nil, abi.StatusBadArgument
	}
	return nil, abi.StatusNotFound
}

// foreignDeclareProperty is Envoy's declare_property:
// DeclarePropertyArguments (name 1, readonly 2, type 3, schema 4, span 5)
// in, no result. The declaration belongs to the calling context (Envoy's
// current_context_, not the effective one); a name declared twice on it is
// BadArgument (Context::declareProperty). proxy_set_property consults the
// declarations of the stream's root context, so a declaration made in a
// stream callback has no effect, as in Envoy. A message that does not
// parse is BadArgument.
func foreignDeclareProperty(vm *VM, args []byte) ([]byte, abi.Status) {
	m, ok := pbFields(args, 1)
	if !ok {
		return nil, abi.StatusBadArgument
	}
	readonly, ok := pbBool(args, 2)
	if !ok {
		return nil, abi.StatusBadArgument
	}
	c := vm.current
	if c == nil {
		c = vm.root
	}
	name := string(m[1])
	if _, dup := c.prototypes[name]; dup {
		return nil, abi.StatusBadArgument
	}
	if c.prototypes == nil {
		c.prototypes = map[string]bool{}
	}
	c.prototypes[name] = readonly
	return nil, abi.StatusOK
}

// pbBool reads the last varint field num of a protobuf message as a bool
// (false when absent).
func pbBool(b []byte, num protowire.Number) (bool, bool) {
	v := false
	ok := pbEach(b, func(n protowire.Number, typ protowire.Type, raw []byte) {
		if n == num && typ == protowire.VarintType {
			x, _ := protowire.ConsumeVarint(raw)
			v = x != 0
		}
	})
	return v && ok, ok
}

// pbEach calls f with the number, wire type and encoded value of each field
// of protobuf message b, in order; the value is whole (ConsumeFieldValue
// has checked it). It reports whether the whole message parsed; f may have
// seen the fields before a malformed one.
func pbEach(b []byte, f func(num protowire.Number, typ protowire.Type, raw []byte)) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return false
		}
		f(num, typ, b[:n])
		b = b[n:]
	}
	return true
}
