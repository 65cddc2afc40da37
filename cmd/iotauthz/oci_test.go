package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

func TestOCI(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	wasm := filepath.Join(dir, "iotauthz.wasm")
	os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00\x00\x01"), 0o644)
	notWasm := filepath.Join(dir, "x.txt")
	os.WriteFile(notWasm, []byte("hello"), 0o644)
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/iotauthz:test"

	code, pushed, errs := runCLI(t, "oci", "push", wasm, ref)
	if code != 0 || !strings.HasPrefix(pushed, "sha256:") || len(strings.TrimSpace(pushed)) != 71 {
		t.Fatalf("push: exit %d %q %q", code, pushed, errs)
	}
	code, laid, errs := runCLI(t, "oci", "layout", wasm, filepath.Join(dir, "oci"))
	if code != 0 || laid != pushed {
		t.Fatalf("layout: exit %d %q %q; the pushed digest was %q", code, laid, errs, pushed)
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"oci"}, 2, "want 'push FILE"},
		{[]string{"oci", "pull", wasm, ref}, 2, "want 'push FILE"},
		{[]string{"oci", "push", filepath.Join(dir, "missing.wasm"), ref}, 1, "no such file"},
		{[]string{"oci", "push", notWasm, ref}, 1, "not a WebAssembly binary module"},
		{[]string{"oci", "push", wasm, "Bad Ref"}, 1, "iotauthz oci: wasmoci:"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
}
