package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// Foreign function interface: proxy_call_foreign_function. No foreign
// function is registered yet: every name answers NotFound, as Envoy answers
// a name it does not know.
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

func proxyCallForeignFunction(*VM, []uint64) abi.Status { return abi.StatusNotFound }
