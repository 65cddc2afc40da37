package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/iotauthz/iotauthz/internal/wasmoci"
)

const ociHelp = `
usage: iotauthz oci push FILE REGISTRY/REPO:TAG
       iotauthz oci layout FILE DIR

Packages the plugin (dist/iotauthz.wasm) as the OCI image Istio's WasmPlugin and Envoy Gateway's
EnvoyExtensionPolicy pull: the "compat" variant of the Wasm OCI image spec, an OCI image manifest
with one tar+gzip layer holding plugin.wasm, the module byte for byte. The same module always
gives the same image digest.

  push    pushes the image to a registry, with the credentials of docker login (the Docker
          configuration, DOCKER_CONFIG), and prints the digest to pin:
            sha256:<hex>
          In a WasmPlugin: url: oci://REGISTRY/REPO:TAG and sha256: <hex> (without "sha256:").
  layout  writes the image into the OCI image layout DIR (created if missing; "make oci" writes
          dist/oci) and prints its digest; any OCI tool can copy it to a registry from there.

A FILE that is not a WebAssembly module, or over 64 MiB, is refused (exit 1); a bad reference or
a failed push exits 1 with the reason.

Example:

  make build && iotauthz oci push dist/iotauthz.wasm ghcr.io/example/iotauthz:v1.0.0
`

func init() {
	register("oci", "package iotauthz.wasm as an OCI image for Istio and Envoy Gateway (push, layout)", runOCI)
}

func runOCI(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("oci", ociHelp, stdout, stderr)
	pos, code := parseFlags(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if len(pos) != 3 || (pos[0] != "push" && pos[0] != "layout") {
		fmt.Fprintln(stderr, "iotauthz oci: want 'push FILE REGISTRY/REPO:TAG' or 'layout FILE DIR' (see --help)")
		return 2
	}
	module, err := os.ReadFile(pos[1])
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz oci: %v\n", err)
		return 1
	}
	img, err := wasmoci.Image(module)
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz oci: %s: %v\n", pos[1], err)
		return 1
	}
	var digest fmt.Stringer
	if pos[0] == "push" {
		digest, err = wasmoci.Push(context.Background(), pos[2], img)
	} else {
		digest, err = wasmoci.WriteLayout(pos[2], img)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz oci: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, digest)
	return 0
}
