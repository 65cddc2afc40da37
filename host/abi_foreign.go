package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Foreign function interface: proxy_call_foreign_function, with the foreign
// functions of foreign.go.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#foreign-function-interface-ffi

func foreignFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_call_foreign_function
		proxyFunc("proxy_call_foreign_function", proxyCallForeignFunction,
			"function_name_data", "function_name_size", "parameters_data", "parameters_size",
			"return_results_data", "return_results_size"),
	}
}

// proxyCallForeignFunction follows proxy-wasm-cpp-host's
// call_foreign_function (src/exports.cc): the name and the arguments must be
// readable, an unknown name is NotFound, and otherwise the function's status
// is the answer, after the result pointer and size are written (0 and 0 when
// the function produced no result). A null results pointer (or size pointer)
// is not written.
func proxyCallForeignFunction(vm *VM, s []uint64) abi.Status {
	name, g1 := vm.readStringArg(s, 0)
	args, g2 := vm.read(uint32(s[2]), uint32(s[3]))
	if !g1 || !g2 {
		return abi.StatusInvalidMemoryAccess
	}
	f := foreignFunctions[name]
	if f == nil {
		return abi.StatusNotFound
	}
	out, st := f(vm, append([]byte(nil), args...))
	resPtr, sizePtr := uint32(s[4]), uint32(s[5])
	var addr uint32
	if len(out) > 0 && resPtr != 0 {
		p, ok := vm.allocate(uint32(len(out)))
		if !ok || !vm.mem.Write(p, out) {
			return abi.StatusInvalidMemoryAccess
		}
		addr = p
	}
	if resPtr != 0 && !vm.writeU32(resPtr, addr) {
		return abi.StatusInvalidMemoryAccess
	}
	if sizePtr != 0 && !vm.writeU32(sizePtr, uint32(len(out))) {
		return abi.StatusInvalidMemoryAccess
	}
	return st
}
