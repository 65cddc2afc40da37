package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// What Envoy registers beside the spec: its own envoy_resolve_dns, the
// Emscripten helpers, and the ABI 0.1.0 names of calls 0.2.x renamed.
//
// See https://github.com/envoyproxy/envoy/blob/main/source/extensions/common/wasm/wasm.cc
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc

func envoyFuncs(abiVersion string) []hostFunc {
	fs := []hostFunc{
		// Envoy's extension: not provided, Unimplemented.
		proxyFunc("envoy_resolve_dns", unimplemented, "dns_address_data", "dns_address_size", "return_token"),
		{name: "pthread_equal", params: u32s(2), results: u32s(1), paramNames: []string{"left", "right"},
			fn: pthreadEqual},
		{name: "emscripten_notify_memory_growth", params: u32s(1), paramNames: []string{"memory_index"},
			allowStart: true, fn: func(*VM, []uint64) {}},
	}
	if abiVersion == "0.1.0" {
		fs = append(fs,
			// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.1.0
			proxyFunc("proxy_continue_request", proxyContinueRequest),
			proxyFunc("proxy_continue_response", proxyContinueResponse),
			proxyFunc("proxy_clear_route_cache", func(*VM, []uint64) abi.Status { return abi.StatusOK }),
			proxyFunc("proxy_get_configuration", proxyGetConfiguration, "return_data", "return_size"),
		)
	}
	return fs
}

func pthreadEqual(_ *VM, s []uint64) {
	if uint32(s[0]) == uint32(s[1]) {
		s[0] = 1
	} else {
		s[0] = 0
	}
}

func proxyContinueRequest(vm *VM, _ []uint64) abi.Status {
	return vm.continueStream(abi.StreamHTTPRequest)
}

func proxyContinueResponse(vm *VM, _ []uint64) abi.Status {
	return vm.continueStream(abi.StreamHTTPResponse)
}

// proxyGetConfiguration (ABI 0.1.0) returns the plugin configuration inside
// proxy_on_configure and the VM configuration elsewhere.
func proxyGetConfiguration(vm *VM, s []uint64) abi.Status {
	cfg := vm.p.cfg.VMConfig
	if vm.configuring != nil {
		cfg = vm.configuring.cfg.PluginConfig
	}
	return vm.copyOut(cfg, uint32(s[0]), uint32(s[1]))
}
