package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Context lifecycle: proxy_done, proxy_set_effective_context.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#context-lifecycle

func lifecycleFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_done
		proxyFunc("proxy_done", proxyDone),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_effective_context
		proxyFunc("proxy_set_effective_context", proxySetEffectiveContext, "context_id"),
	}
}

// proxyDone: Envoy accepts it from a root context (the plugin is done with
// its pending work) and answers NotFound elsewhere.
func proxyDone(vm *VM, _ []uint64) abi.Status {
	if vm.active().isRoot {
		return abi.StatusOK
	}
	return abi.StatusNotFound
}

// proxySetEffectiveContext makes later calls of the current callback act on
// another context of the VM; an unknown id is BadArgument.
func proxySetEffectiveContext(vm *VM, s []uint64) abi.Status {
	id := uint32(s[0])
	if _, found := vm.contexts[id]; !found {
		return abi.StatusBadArgument
	}
	vm.effective = id
	return abi.StatusOK
}
