package wasmbuild

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	const pkg = "github.com/iotauthz/iotauthz/plugin/internal/proxywasm/examples/passthrough"
	m := Module(t, pkg)
	if !bytes.HasPrefix(m, []byte("\x00asm")) {
		t.Fatalf("not a wasm module: % x", m[:min(8, len(m))])
	}
	// Once per package: the second call returns the same module without building.
	if again, err := Build(pkg); err != nil || &again[0] != &m[0] {
		t.Errorf("second Build: %v, built again: %v", err, err == nil && &again[0] != &m[0])
	}
	if _, ok := Compile(t, m).ExportedFunctions()["proxy_on_memory_allocate"]; !ok {
		t.Error("the compiled module does not export proxy_on_memory_allocate")
	}
	if b, err := os.ReadFile(File(t, pkg)); err != nil || !bytes.Equal(b, m) {
		t.Errorf("File: %v, same bytes: %v", err, bytes.Equal(b, m))
	}
	if _, err := Build("github.com/iotauthz/iotauthz/internal/wasmbuild/nosuchpackage"); err == nil || !strings.Contains(err.Error(), "building github.com/iotauthz/iotauthz/internal/wasmbuild/nosuchpackage") {
		t.Errorf("a package that does not exist: %v", err)
	}
}
