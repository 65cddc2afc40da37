package token

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// benchToken is a typical token: the signed bytes are the token value only.
var benchToken = []byte("eyJzdWIiOiJkZXZpY2UtNDIiLCJleHAiOjE3OTk5OTk5OTl9.device-42")

func BenchmarkRSAVerifyNative(b *testing.B) {
	priv := rsaKeys(b)[0]
	k, err := ParsePublicKeyPEM("k", spkiPEM(b, &priv.PublicKey))
	if err != nil {
		b.Fatal(err)
	}
	sig := sign(b, priv, benchToken)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if !k.Verify(benchToken, sig) {
			b.Fatal("verify failed")
		}
	}
	reportCPU(b, c0)
}

// BenchmarkRSAVerifyStdlibNative is the baseline: crypto/rsa, hashing included as above.
func BenchmarkRSAVerifyStdlibNative(b *testing.B) {
	priv := rsaKeys(b)[0]
	sig := sign(b, priv, benchToken)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		h := sha256.Sum256(benchToken)
		if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, h[:], sig) != nil {
			b.Fatal("verify failed")
		}
	}
	reportCPU(b, c0)
}

// reportCPU adds the CPU time per op since c0 as the "cpu-ns/op" metric.
func reportCPU(b *testing.B, c0 int64) {
	if c := cpuTime(); c > c0 {
		b.ReportMetric(float64(c-c0)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkVerifierCached(b *testing.B) {
	priv := rsaKeys(b)[0]
	k, _ := ParsePublicKeyPEM("k", spkiPEM(b, &priv.PublicKey))
	v := NewVerifier([]*PublicKey{k}, 1024)
	sig := b64(sign(b, priv, benchToken))
	tok := string(benchToken)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _ := v.Verify(tok, sig); !ok {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkParsePublicKeyPEM(b *testing.B) {
	text := spkiPEM(b, &rsaKeys(b)[0].PublicKey)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParsePublicKeyPEM("k", text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSAVerifyWasm runs PublicKey.Verify inside wazero (compiler), in a guest built from
// testdata/verifyguest; BenchmarkRSAVerifyStdlibWasm runs crypto/rsa in the same guest.
func BenchmarkRSAVerifyWasm(b *testing.B)       { benchWasm(b, "verify") }
func BenchmarkRSAVerifyStdlibWasm(b *testing.B) { benchWasm(b, "verifyStdlib") }

var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
)

func benchWasm(b *testing.B, export string) {
	guestOnce.Do(func() { guestDir, guestErr = buildGuest(b) })
	if guestErr != nil {
		b.Fatal(guestErr)
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	bin, err := os.ReadFile(filepath.Join(guestDir, "verify.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().
		WithStartFunctions("_initialize").
		WithFSConfig(wazero.NewFSConfig().WithReadOnlyDirMount(guestDir, "/v")))
	if err != nil {
		b.Fatal(err)
	}
	if res := call(b, mod, "setup"); res != 0 {
		b.Fatalf("guest setup failed: %d", res)
	}
	call(b, mod, export, 1) // warm up
	b.ResetTimer()
	c0 := cpuTime()
	if got := call(b, mod, export, uint64(b.N)); got != uint64(b.N) {
		b.Fatalf("%d of %d verifications succeeded in the guest", got, b.N)
	}
	reportCPU(b, c0)
}

func call(b *testing.B, mod api.Module, name string, args ...uint64) uint64 {
	res, err := mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		b.Fatal(err)
	}
	return uint64(uint32(res[0]))
}

// buildGuest writes the test vectors and builds the guest once into a temporary directory,
// removed by TestMain.
func buildGuest(b *testing.B) (string, error) {
	dir, err := os.MkdirTemp("", "verifyguest")
	if err != nil {
		return "", err
	}
	tempDirs = append(tempDirs, dir)
	priv := rsaKeys(b)[0]
	files := map[string][]byte{
		"key.pem": []byte(spkiPEM(b, &priv.PublicKey)),
		"msg":     benchToken,
		"sig":     sign(b, priv, benchToken),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "verify.wasm"), "./testdata/verifyguest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return dir, nil
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "building the guest: " + e.err.Error() + "\n" + e.out }

var tempDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
