// Package wasmbuild builds Go packages into proxy-wasm modules for tests, as make build does
// (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared, -trimpath, -ldflags="-s -w"), each package once per test binary,
// so that no test runs a stale dist/iotauthz.wasm.
package wasmbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// Plugin is the plugin's package.
const Plugin = "github.com/iotauthz/iotauthz/plugin"

type build struct {
	once   sync.Once
	module []byte
	err    error
}

var builds sync.Map // package → *build

// Build returns the module of pkg (an import path, or a directory relative to the test's
// package), building it on the first call for pkg.
func Build(pkg string) ([]byte, error) {
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() { b.module, b.err = compile(pkg) })
	return b.module, b.err
}

// Module is Build for a test: a failed build fails it.
func Module(t testing.TB, pkg string) []byte {
	t.Helper()
	m, err := Build(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ModuleOrSkip is Module for a test that needs a module built: under go test -short it skips t
// instead, since building takes seconds.
func ModuleOrSkip(t testing.TB, pkg string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skipf("builds %s (a wasm module): not under -short", pkg)
	}
	return Module(t, pkg)
}

// File is Module written to a file in t's temporary directory, for tools that take a path.
func File(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".wasm")
	if err := os.WriteFile(out, Module(t, pkg), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Compile compiles module with wazero's interpreter, for tests that read its imports and exports;
// the runtime closes when t ends.
func Compile(t testing.TB, module []byte) wazero.CompiledModule {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(ctx) })
	m, err := rt.CompileModule(ctx, module)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compile(pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "wasmbuild")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "module.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building %s: %v\n%s", pkg, err, b)
	}
	return os.ReadFile(out)
}
