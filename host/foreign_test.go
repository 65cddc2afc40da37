package host_test

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/iotauthz/iotauthz/host"
)

// foreignCall runs the conformance guest's proxy_call_foreign_function and
// returns its status, the result size and the result.
func foreignCall(t *testing.T, p *host.Plugin, fn string, arg []byte, extra ...string) (status, size string, out []byte) {
	t.Helper()
	h := append([]string{"x-fn", fn, "x-arg", hex.EncodeToString(arg)}, extra...)
	body := localBody(t, p.Worker(0), reqHeaders("foreign", h...))
	var ptr, o string
	for _, f := range strings.Fields(body) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "st":
			status = v
		case "size":
			size = v
		case "ptr":
			ptr = v
		case "out":
			o = v
		}
	}
	if (size == "0") != (ptr == "false") {
		t.Fatalf("%s: size %s with pointer set %s", fn, size, ptr)
	}
	out, err := hex.DecodeString(o)
	if err != nil {
		t.Fatalf("%s: %q", fn, body)
	}
	return status, size, out
}

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// The foreign functions Envoy registers in
// source/extensions/common/wasm/foreign.cc, called as a module calls them,
// with the same encodings; call_foreign_function's status and result
// pointers as in proxy-wasm-cpp-host's src/exports.cc.
func TestForeignFunctions(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	rsaPriv, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	text := []byte("hello")
	sum := sha256.Sum256(text)
	rsaSig, _ := rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, sum[:])
	ecSig, _ := ecdsa.SignASN1(rand.Reader, ecKey, sum[:])

	verifyArgs := func(hash string, der, pemKey, sig, txt []byte) []byte {
		b := pbBytes(nil, 1, []byte(hash))
		if der != nil {
			b = pbBytes(b, 2, der)
		}
		b = pbBytes(pbBytes(b, 3, sig), 4, txt)
		if pemKey != nil {
			b = pbBytes(b, 5, pemKey)
		}
		return b
	}
	signArgs := func(hash string, der, pemKey, txt []byte) []byte {
		b := pbBytes(nil, 1, []byte(hash))
		if der != nil {
			b = pbBytes(b, 2, der)
		}
		b = pbBytes(b, 3, txt)
		if pemKey != nil {
			b = pbBytes(b, 4, pemKey)
		}
		return b
	}
	verified := []byte{0x08, 0x01}
	failed := func(msg string) []byte { return pbBytes(nil, 2, []byte(msg)) }

	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile})
		call := func(fn string, arg []byte, extra ...string) (string, string, []byte) {
			return foreignCall(t, p, fn, arg, extra...)
		}

		// compress: a zlib stream any zlib reader reads back.
		in := bytes.Repeat([]byte("hello wasm "), 50)
		st, _, out := call("compress", in)
		if st != "0" || len(out) < 2 || out[0] != 0x78 {
			t.Fatalf("compress: st=%s out=%x", st, out)
		}
		r, err := zlib.NewReader(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(r); !bytes.Equal(got, in) {
			t.Fatalf("compress round trip: %q", got)
		}
		// uncompress reads ours and C zlib's (zlib.compress(b"hello")).
		if st, _, got := call("uncompress", out); st != "0" || !bytes.Equal(got, in) {
			t.Fatalf("uncompress: st=%s %q", st, got)
		}
		czlib, _ := hex.DecodeString("789ccb48cdc9c90700062c0215")
		if st, _, got := call("uncompress", czlib); st != "0" || string(got) != "hello" {
			t.Fatalf("uncompress of C zlib's stream: st=%s %q", st, got)
		}
		// Bytes after the stream's end are ignored, as uncompress() does.
		if st, _, got := call("uncompress", append(append([]byte(nil), czlib...), "junk"...)); st != "0" || string(got) != "hello" {
			t.Fatalf("uncompress with trailing bytes: st=%s %q", st, got)
		}
		// Hostile inputs: SerializationFailure (3), no result.
		for name, bad := range map[string][]byte{
			"empty": nil, "truncated": czlib[:len(czlib)-5], "header only": czlib[:2],
			"corrupt": append([]byte{0x78, 0x9c, 0xff}, czlib[3:]...), "not zlib": []byte("hello"),
		} {
			if st, size, _ := call("uncompress", bad); st != "3" || size != "0" {
				t.Fatalf("uncompress %s: st=%s size=%s", name, st, size)
			}
		}
		// A stream that inflates past the host's bound (64 MiB) is refused.
		var bomb bytes.Buffer
		w, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
		w.Write(make([]byte, 64<<20+1))
		w.Close()
		if st, size, _ := call("uncompress", bomb.Bytes()); st != "3" || size != "0" {
			t.Fatalf("uncompress past the bound: st=%s size=%s", st, size)
		}
		// Null result pointers: the status only.
		if st, size, _ := call("compress", in, "x-nullres", "1"); st != "0" || size != "0" {
			t.Fatalf("compress with null results: st=%s size=%s", st, size)
		}

		// verify_signature: VerifySignatureArguments in, VerifySignatureResult out.
		rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})
		for name, tc := range map[string]struct {
			arg  []byte
			st   string
			want []byte
		}{
			"rsa":             {verifyArgs("sha256", rsaPub, nil, rsaSig, text), "0", verified},
			"rsa pem":         {verifyArgs("sha256", nil, rsaPEM, rsaSig, text), "0", verified},
			"ec":              {verifyArgs("SHA256", ecPub, nil, ecSig, text), "0", verified},
			"other text":      {verifyArgs("sha256", rsaPub, nil, rsaSig, []byte("baddata")), "0", failed("Failed to verify digest. Error code: 0")},
			"short signature": {verifyArgs("sha256", ecPub, nil, []byte{0, 0, 0}, text), "0", failed("Failed to verify digest. Error code: 0")},
			"other hash":      {verifyArgs("sha512", rsaPub, nil, rsaSig, text), "0", failed("Failed to verify digest. Error code: 0")},
			"unknown hash":    {verifyArgs("md5", rsaPub, nil, rsaSig, text), "0", failed("md5 is not supported.")},
			"both keys":       {verifyArgs("sha256", rsaPub, rsaPEM, rsaSig, text), "2", nil},
			"no key":          {verifyArgs("sha256", nil, nil, rsaSig, text), "2", nil},
			"garbage key":     {verifyArgs("sha256", []byte("not a key"), nil, rsaSig, text), "2", nil},
			"truncated args":  {verifyArgs("sha256", rsaPub, nil, rsaSig, text)[:40], "2", nil},
			"bad utf-8 hash":  {verifyArgs("sha\xff", rsaPub, nil, rsaSig, text), "2", nil},
		} {
			st, _, out := call("verify_signature", tc.arg)
			if st != tc.st || !bytes.Equal(out, tc.want) {
				t.Fatalf("verify_signature %s: st=%s out=%x, want st=%s out=%x", name, st, out, tc.st, tc.want)
			}
		}

		// sign: SignArguments in, SignResult out; RSA PKCS #1 v1.5 is deterministic.
		st, _, out = call("sign", signArgs("sha256", rsaPriv, nil, text))
		if want := pbBytes([]byte{0x08, 0x01}, 2, rsaSig); st != "0" || !bytes.Equal(out, want) {
			t.Fatalf("sign rsa: st=%s out=%x", st, out)
		}
		pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
		st, _, out = call("sign", signArgs("sha256", nil, pkcs1PEM, text))
		if want := pbBytes([]byte{0x08, 0x01}, 2, rsaSig); st != "0" || !bytes.Equal(out, want) {
			t.Fatalf("sign rsa pem: st=%s out=%x", st, out)
		}
		st, _, out = call("sign", signArgs("sha256", ecPriv, nil, text))
		if st != "0" || len(out) < 4 || out[0] != 0x08 || out[1] != 0x01 || out[2] != 0x12 {
			t.Fatalf("sign ec: st=%s out=%x", st, out)
		}
		if sig, n := protowire.ConsumeBytes(out[3:]); n < 0 || !ecdsa.VerifyASN1(&ecKey.PublicKey, sum[:], sig) {
			t.Fatalf("sign ec: the signature does not verify: %x", out)
		}
		// What sign produced, verify_signature accepts.
		if st, _, got := call("verify_signature", verifyArgs("sha256", ecPub, nil, out[3+1:], text)); st != "0" || !bytes.Equal(got, verified) {
			t.Fatalf("verify of sign's output: st=%s %x", st, got)
		}
		if st, _, out := call("sign", signArgs("md5", rsaPriv, nil, text)); st != "0" || !bytes.Equal(out, pbBytes(nil, 3, []byte("md5 is not supported."))) {
			t.Fatalf("sign unknown hash: st=%s %x", st, out)
		}
		for name, arg := range map[string][]byte{
			"no key": signArgs("sha256", nil, nil, text), "both keys": signArgs("sha256", rsaPriv, pkcs1PEM, text),
			"public key": signArgs("sha256", rsaPub, nil, text), "truncated": signArgs("sha256", rsaPriv, nil, text)[:30],
		} {
			if st, size, _ := call("sign", arg); st != "2" || size != "0" {
				t.Fatalf("sign %s: st=%s size=%s", name, st, size)
			}
		}

		// No route cache, no filter-state object factory.
		if st, size, _ := call("clear_route_cache", nil); st != "0" || size != "0" {
			t.Fatalf("clear_route_cache: st=%s size=%s", st, size)
		}
		fs := pbBytes(pbBytes(nil, 1, []byte("envoy.tcp_proxy.cluster")), 2, []byte("c1"))
		if st, _, _ := call("set_envoy_filter_state", fs); st != "1" {
			t.Fatalf("set_envoy_filter_state: st=%s", st)
		}
		if st, _, _ := call("set_envoy_filter_state", fs[:5]); st != "2" {
			t.Fatalf("set_envoy_filter_state truncated: st=%s", st)
		}
		// Not registered: as an Envoy build without them, and any other name.
		for _, fn := range []string{"expr_create", "expr_evaluate", "expr_delete", "nope", ""} {
			if st, size, _ := call(fn, []byte("x")); st != "1" || size != "0" {
				t.Fatalf("%q: st=%s size=%s", fn, st, size)
			}
		}
		// A good call still works after all of the above.
		if st, _, got := call("uncompress", czlib); st != "0" || string(got) != "hello" {
			t.Fatalf("uncompress after hostile calls: st=%s %q", st, got)
		}
	})
}

// declare_property: a property the root context declared read-only is
// written once per stream (Context::setProperty consults the root context's
// prototypes; CelState::setValue refuses a second write), a second
// declaration of the name is BadArgument (Context::declareProperty), and a
// declaration from a stream context does not reach proxy_set_property.
func TestForeignFunctions_DeclareProperty(t *testing.T) {
	eachEnvoy(t, func(t *testing.T, profile host.Profile) {
		p, _ := newPlugin(t, host.Config{Profile: profile, PluginConfig: []byte("declare=ro_a;")})
		if !hasLog(p, "declare name=ro_a st=0 again=2") {
			t.Fatalf("declare logs: %v", logsContaining(p, "declare "))
		}
		set := func(key string) string {
			return localBody(t, p.Worker(0), reqHeaders("setprop-twice", "x-key", key))
		}
		if got := set("ro_a"); got != "first=0 second=2 get=0 val=one" {
			t.Fatalf("read-only: %s", got)
		}
		// Each stream has its own filter state: the first write works again.
		if got := set("ro_a"); got != "first=0 second=2 get=0 val=one" {
			t.Fatalf("read-only, next stream: %s", got)
		}
		if got := set("free"); got != "first=0 second=0 get=0 val=two" {
			t.Fatalf("undeclared: %s", got)
		}
		// Declared from a stream: Ok, but the root's prototypes are unchanged.
		arg := append(append([]byte{0x0a, 4}, "free"...), 0x10, 0x01)
		if st, size, _ := foreignCall(t, p, "declare_property", arg); st != "0" || size != "0" {
			t.Fatalf("declare from a stream: st=%s size=%s", st, size)
		}
		if got := set("free"); got != "first=0 second=0 get=0 val=two" {
			t.Fatalf("after a stream's declaration: %s", got)
		}
		// Hostile arguments.
		for name, bad := range map[string][]byte{
			"truncated": {0x0a, 9, 'a'}, "bad varint": {0x10, 0xff}, "bad utf-8": {0x0a, 1, 0xff},
		} {
			if st, _, _ := foreignCall(t, p, "declare_property", bad); st != "2" {
				t.Fatalf("%s: st=%s", name, st)
			}
		}
	})
}
