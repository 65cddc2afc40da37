package host

import "github.com/iotauthz/iotauthz/host/internal/abi"

// HTTP calls: proxy_http_call. The call itself (clusters, timeouts, the
// callback on the root context) is in httpcall.go.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#http-calls

func httpCallFuncs() []hostFunc {
	return []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
		proxyFunc("proxy_http_call", proxyHTTPCall,
			"upstream_name_data", "upstream_name_size", "headers_data", "headers_size",
			"body_data", "body_size", "trailers_data", "trailers_size", "timeout_milliseconds", "return_call_id"),
	}
}

func proxyHTTPCall(vm *VM, s []uint64) abi.Status {
	up, g1 := vm.readStringArg(s, 0)
	args, g2 := vm.readArgs(s, 2, 4, 6)
	if !g1 || !g2 {
		return abi.StatusInvalidMemoryAccess
	}
	if !vm.writeU32(uint32(s[9]), 0) {
		return abi.StatusInvalidMemoryAccess
	}
	hp, _ := abi.ParsePairs(args[0])
	tp, _ := abi.ParsePairs(args[2])
	token, st := vm.httpCall(up, Headers(hp), append([]byte(nil), args[1]...), Headers(tp), int32(uint32(s[8])))
	vm.writeU32(uint32(s[9]), token)
	return st
}
