package wasmbuild

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	const pkg = "github.com/iotauthz/iotauthz/plugin/internal/proxywasm/examples/passthrough"
	m := ModuleOrSkip(t, pkg)
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

// Under -short ModuleOrSkip skips before building: a package that does not exist is not built.
func TestModuleOrSkip_short(t *testing.T) {
	old := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("test.short", old)
	var skipped, returned bool
	t.Run("short", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		ModuleOrSkip(t, "github.com/iotauthz/iotauthz/internal/wasmbuild/nosuchpackage")
		returned = true
	})
	if !skipped || returned {
		t.Errorf("under -short: skipped %v, returned %v", skipped, returned)
	}
}
