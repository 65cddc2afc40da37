package proxywasm

// The exported marker tells the host which ABI the module speaks; it is never called.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_abi_version_0_2_1
//
//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion0_2_1() {}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_context_create
//
//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(contextID, parentContextID uint32) {
	createContext(contextID, parentContextID)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_vm_start
//
//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(rootContextID, vmConfigurationSize uint32) uint32 {
	lookupRoot(rootContextID)
	vm := state.vm
	if vm == nil {
		return 1
	}
	return b2u(vm.OnVMStart(int(vmConfigurationSize)))
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_configure
//
//go:wasmexport proxy_on_configure
func proxyOnConfigure(rootContextID, pluginConfigurationSize uint32) uint32 {
	r := lookupRoot(rootContextID)
	if r == nil {
		return 0
	}
	return b2u(r.ctx.OnPluginStart(int(pluginConfigurationSize)))
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_done
//
//go:wasmexport proxy_on_done
func proxyOnDone(contextID uint32) uint32 {
	if s := lookupStream(contextID); s != nil {
		finishStream(s)
		return 1
	}
	if r := lookupRoot(contextID); r != nil {
		return b2u(r.ctx.OnPluginDone())
	}
	return 1
}

// proxy_on_log is not exported: the binding has no typed log callback (the filter writes its
// decision lines itself), and Envoy, like host/, skips a callback the module does not export.
// Exporting an empty one would cost every stream a call into the VM.

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_delete
//
//go:wasmexport proxy_on_delete
func proxyOnDelete(contextID uint32) {
	deleteContext(contextID)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_tick
//
//go:wasmexport proxy_on_tick
func proxyOnTick(rootContextID uint32) {
	if r := lookupRoot(rootContextID); r != nil {
		r.ctx.OnTick()
	}
}
