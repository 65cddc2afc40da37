// Package wasmoci packages iotauthz.wasm as an OCI image that Istio's WasmPlugin and Envoy
// Gateway's EnvoyExtensionPolicy pull (url: oci://REGISTRY/REPO:TAG, pinned by sha256).
//
// The image is the "compat" variant of the Wasm OCI image specification (solo-io/wasm
// spec-compat.md), the variant both pullers try first: an OCI image manifest
// (application/vnd.oci.image.manifest.v1+json) with one layer, a gzipped tar
// (application/vnd.oci.image.layer.v1.tar+gzip) holding a single file, plugin.wasm, which is the
// module byte for byte. The manifest carries the annotation module.wasm.image/variant=compat and
// the image config says os "wasip1", architecture "wasm". Everything is built without
// timestamps, owners or names that vary, so the same module always gives the same digest: the
// digest printed after a push is the one to pin (WasmPlugin's sha256, without "sha256:").
package wasmoci

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FileName is the name the compat variant requires for the module inside the layer.
const FileName = "plugin.wasm"

// VariantAnnotation marks the manifest as the compat variant.
const VariantAnnotation = "module.wasm.image/variant"

// MaxModuleBytes bounds the module accepted (iotauthz.wasm is about 4 MiB).
const MaxModuleBytes = 64 << 20

var wasmMagic = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// Image builds the image of module, which must be a WebAssembly binary module (version 1).
func Image(module []byte) (v1.Image, error) {
	switch {
	case len(module) > MaxModuleBytes:
		return nil, fmt.Errorf("wasmoci: module is %d bytes, at most %d", len(module), MaxModuleBytes)
	case len(module) < len(wasmMagic) || !bytes.Equal(module[:len(wasmMagic)], wasmMagic):
		return nil, errors.New("wasmoci: not a WebAssembly binary module (no \\0asm version 1 header)")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: FileName, Mode: 0o644, Size: int64(len(module)), Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	tw.Write(module)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	tarBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("wasmoci: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, fmt.Errorf("wasmoci: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("wasmoci: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "wasip1", "wasm"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, fmt.Errorf("wasmoci: %w", err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img = mutate.Annotations(img, map[string]string{
		VariantAnnotation:                "compat",
		"org.opencontainers.image.title": "iotauthz.wasm",
	}).(v1.Image)
	return img, nil
}

// WriteLayout writes img as an OCI image layout in dir (created if needed; an index.json there
// already gets img appended) and returns its digest.
func WriteLayout(dir string, img v1.Image) (v1.Hash, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return v1.Hash{}, fmt.Errorf("wasmoci: %w", err)
		}
	}
	if err := p.AppendImage(img); err != nil {
		return v1.Hash{}, fmt.Errorf("wasmoci: %w", err)
	}
	return img.Digest()
}

// Push pushes img to ref ("registry.example.com/iotauthz:v1") and returns the digest to pin.
// Credentials come from the Docker configuration (docker login) unless opts say otherwise.
func Push(ctx context.Context, ref string, img v1.Image, opts ...remote.Option) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("wasmoci: %w", err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	if err := remote.Write(r, img, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("wasmoci: pushing %s: %w", r, err)
	}
	return img.Digest()
}

// Module extracts the module from an image the way the compat pullers do: the last layer must
// be an OCI or Docker tar+gzip layer holding plugin.wasm. It is what the tests check an image
// against, and what "iotauthz oci" reports when reading an image back.
func Module(img v1.Image) ([]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, errors.New("wasmoci: the image has no layer")
	}
	l := layers[len(layers)-1]
	mt, err := l.MediaType()
	if err != nil {
		return nil, err
	}
	if mt != types.OCILayer && mt != types.DockerLayer {
		return nil, fmt.Errorf("wasmoci: last layer is %s, not a tar+gzip layer", mt)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("wasmoci: no %s in the layer", FileName)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == FileName {
			if h.Size > MaxModuleBytes {
				return nil, fmt.Errorf("wasmoci: %s is %d bytes", FileName, h.Size)
			}
			return io.ReadAll(io.LimitReader(tr, MaxModuleBytes))
		}
	}
}
