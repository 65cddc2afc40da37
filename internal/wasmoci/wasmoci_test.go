package wasmoci_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/iotauthz/iotauthz/internal/wasmoci"
)

// module is a small valid WebAssembly module, or dist/iotauthz.wasm when it is built.
func module(t *testing.T) []byte {
	if b, err := os.ReadFile("../../dist/iotauthz.wasm"); err == nil {
		return b
	}
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{0}, 100)...)
}

// TestPush_RoundTrip pushes to go-containerregistry's in-process registry, pulls the image back
// and checks it is what Istio's and Envoy Gateway's pullers accept, holding the module exactly.
func TestPush_RoundTrip(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from this machine
	wasm := module(t)
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/iotauthz:v1"

	img, err := wasmoci.Image(wasm)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := wasmoci.Push(context.Background(), ref, img)
	if err != nil {
		t.Fatal(err)
	}
	// The same module built and pushed again: the same digest.
	img2, _ := wasmoci.Image(append([]byte(nil), wasm...))
	d2, err := wasmoci.Push(context.Background(), ref, img2)
	if err != nil || d2 != d1 {
		t.Fatalf("second push: %v, digest %v != %v", err, d2, d1)
	}
	// A different module: another digest.
	other, _ := wasmoci.Image(append(append([]byte(nil), wasm...), 0))
	if d3, _ := other.Digest(); d3 == d1 {
		t.Fatal("two modules, one digest")
	}

	r, _ := name.ParseReference(ref)
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != d1 || desc.MediaType != types.OCIManifestSchema1 {
		t.Fatalf("pulled %s %s, pushed %s", desc.Digest, desc.MediaType, d1)
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != "application/vnd.oci.image.config.v1+json" ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" ||
		m.Annotations[wasmoci.VariantAnnotation] != "compat" {
		t.Fatalf("manifest %s", desc.Manifest)
	}
	pulled, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	got, err := wasmoci.Module(pulled)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wasm) {
		t.Fatalf("the layer's plugin.wasm (%d bytes) is not the module (%d bytes)", len(got), len(wasm))
	}
	cfg, err := pulled.ConfigFile()
	if err != nil || cfg.OS != "wasip1" || cfg.Architecture != "wasm" {
		t.Fatalf("config %+v %v", cfg, err)
	}
}

func TestWriteLayout(t *testing.T) {
	wasm := module(t)
	dir := filepath.Join(t.TempDir(), "oci")
	img, err := wasmoci.Image(wasm)
	if err != nil {
		t.Fatal(err)
	}
	d, err := wasmoci.WriteLayout(dir, img)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.Image(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := wasmoci.Module(back); err != nil || !bytes.Equal(got, wasm) {
		t.Fatalf("module from the layout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Fatal(err)
	}
}

func TestImage_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		err  string
	}{
		{"empty", nil, "not a WebAssembly binary module"},
		{"truncated header", []byte("\x00asm\x01"), "not a WebAssembly binary module"},
		{"ELF", []byte("\x7fELF\x02\x01\x01\x00\x00"), "not a WebAssembly binary module"},
		{"oversized", append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, wasmoci.MaxModuleBytes)...), "at most"},
	} {
		if _, err := wasmoci.Image(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
	img, _ := wasmoci.Image(module(t))
	if _, err := wasmoci.Push(context.Background(), "UPPER CASE/bad ref", img); err == nil {
		t.Error("a bad reference was accepted")
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if _, err := wasmoci.Push(context.Background(), addr+"/iotauthz:v1", img); err == nil {
		t.Error("a push to a closed registry succeeded")
	}
}
