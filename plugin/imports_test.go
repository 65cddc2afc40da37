//go:build !wasm

package main

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// envoy133WASI are the WASI functions Envoy 1.33 to 1.38 offer (proxy-wasm-cpp-host after PR
// #427); Envoy refuses a module importing anything else.
var envoy133WASI = strings.Fields(`fd_write fd_read fd_seek fd_close fd_fdstat_get environ_get
	environ_sizes_get args_get args_sizes_get clock_time_get random_get proc_exit path_open
	fd_prestat_get fd_prestat_dir_name fd_fdstat_set_flags sched_yield poll_oneoff`)

// TestWasm_EnvoyImports: iotauthz.wasm imports only what Envoy 1.33 offers (the 18 WASI functions
// and env.proxy_* of ABI 0.2.1), and exports the ABI marker, the allocator and _initialize.
func TestWasm_EnvoyImports(t *testing.T) {
	m := wasmbuild.Compile(t, wasmBytes)
	wasi := map[string]bool{}
	for _, f := range envoy133WASI {
		wasi[f] = true
	}
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch {
		case mod == "wasi_snapshot_preview1" && wasi[name]:
		case mod == "env" && strings.HasPrefix(name, "proxy_"):
		default:
			t.Errorf("import %s.%s is not offered by Envoy 1.33", mod, name)
		}
	}
	exports := m.ExportedFunctions()
	for _, want := range []string{"proxy_abi_version_0_2_1", "proxy_on_memory_allocate", "_initialize",
		"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_downstream_data",
		"proxy_on_http_call_response", "proxy_on_tick"} {
		if _, ok := exports[want]; !ok {
			t.Errorf("export %s missing", want)
		}
	}
	if len(wasmBytes) > 4<<20 {
		t.Errorf("iotauthz.wasm is %d bytes, over the 4 MiB goal (P5)", len(wasmBytes))
	}
}
