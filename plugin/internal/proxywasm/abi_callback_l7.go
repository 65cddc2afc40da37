package proxywasm

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_request_headers
//
//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID, numHeaders, endOfStream uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpRequestHeaders(int(numHeaders), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_request_body
//
//go:wasmexport proxy_on_request_body
func proxyOnRequestBody(contextID, bodySize, endOfStream uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpRequestBody(int(bodySize), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_request_trailers
//
//go:wasmexport proxy_on_request_trailers
func proxyOnRequestTrailers(contextID, numTrailers uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpRequestTrailers(int(numTrailers)))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_response_headers
//
//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(contextID, numHeaders, endOfStream uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpResponseHeaders(int(numHeaders), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_response_body
//
//go:wasmexport proxy_on_response_body
func proxyOnResponseBody(contextID, bodySize, endOfStream uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpResponseBody(int(bodySize), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_response_trailers
//
//go:wasmexport proxy_on_response_trailers
func proxyOnResponseTrailers(contextID, numTrailers uint32) uint32 {
	if h := httpContext(contextID); h != nil {
		return uint32(h.OnHttpResponseTrailers(int(numTrailers)))
	}
	return uint32(ActionContinue)
}

// The host always delivers the response to the root context that issued the call (Envoy
// issues every call on the root of the effective context). The binding leaves the effective
// context alone: the callback calls SetEffectiveContext for the stream it resumes.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_http_call_response
//
//go:wasmexport proxy_on_http_call_response
func proxyOnHttpCallResponse(rootContextID, token, numHeaders, bodySize, numTrailers uint32) {
	r := lookupRoot(rootContextID)
	if r == nil {
		return
	}
	cb := r.calls[token]
	if cb == nil {
		return
	}
	delete(r.calls, token)
	cb(int(numHeaders), int(bodySize), int(numTrailers))
}
