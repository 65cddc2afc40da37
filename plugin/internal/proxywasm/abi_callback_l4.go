package proxywasm

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_new_connection
//
//go:wasmexport proxy_on_new_connection
func proxyOnNewConnection(contextID uint32) uint32 {
	if c := tcpContext(contextID); c != nil {
		return uint32(c.OnNewConnection())
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_downstream_data
//
//go:wasmexport proxy_on_downstream_data
func proxyOnDownstreamData(contextID, dataSize, endOfStream uint32) uint32 {
	if c := tcpContext(contextID); c != nil {
		return uint32(c.OnDownstreamData(int(dataSize), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_downstream_connection_close
//
//go:wasmexport proxy_on_downstream_connection_close
func proxyOnDownstreamConnectionClose(contextID, peerType uint32) {
	if c := tcpContext(contextID); c != nil {
		c.OnDownstreamClose(PeerType(peerType))
	}
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_upstream_data
//
//go:wasmexport proxy_on_upstream_data
func proxyOnUpstreamData(contextID, dataSize, endOfStream uint32) uint32 {
	if c := tcpContext(contextID); c != nil {
		return uint32(c.OnUpstreamData(int(dataSize), endOfStream != 0))
	}
	return uint32(ActionContinue)
}

// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_on_upstream_connection_close
//
//go:wasmexport proxy_on_upstream_connection_close
func proxyOnUpstreamConnectionClose(contextID, peerType uint32) {
	if c := tcpContext(contextID); c != nil {
		c.OnUpstreamClose(PeerType(peerType))
	}
}
