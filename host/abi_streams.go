package host

import (
	"strings"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// Common HTTP and TCP stream operations (proxy_continue_stream,
// proxy_close_stream, proxy_get_status) and the HTTP streams' host function
// (proxy_send_local_response). The ABI 0.1.0 names are in abi_envoy.go.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#common-http-and-tcp-stream-operations
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#http-streams

func streamFuncs(abiVersion string) []hostFunc {
	fs := []hostFunc{
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_status
		proxyFunc("proxy_get_status", proxyGetStatus,
			"return_status_code", "return_status_message_data", "return_status_message_size"),
		// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_send_local_response
		proxyFunc("proxy_send_local_response", proxySendLocalResponse,
			"status_code", "status_code_details_data", "status_code_details_size",
			"body_data", "body_size", "headers_data", "headers_size", "grpc_status"),
	}
	if abiVersion != "0.1.0" {
		fs = append(fs,
			// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_continue_stream
			proxyFunc("proxy_continue_stream", proxyContinueStream, "stream_type"),
			// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_close_stream
			proxyFunc("proxy_close_stream", proxyCloseStream, "stream_type"),
		)
	}
	return fs
}

// proxyGetStatus reports the status of the last HTTP-call response on the
// root context (11 "reset" after a reset, else 0).
func proxyGetStatus(vm *VM, s []uint64) abi.Status {
	root := vm.activeRoot()
	if !vm.writeU32(uint32(s[0]), root.status) {
		return abi.StatusInvalidMemoryAccess
	}
	return vm.copyOut([]byte(root.statusMsg), uint32(s[1]), uint32(s[2]))
}

func proxyContinueStream(vm *VM, s []uint64) abi.Status { return vm.continueStream(uint32(s[0])) }

func proxyCloseStream(vm *VM, s []uint64) abi.Status { return vm.closeStream(uint32(s[0])) }

// proxySendLocalResponse is Envoy's deferred sendLocalReply; it also forces
// the current callback's answer to stop iteration (stopNext).
func proxySendLocalResponse(vm *VM, s []uint64) abi.Status {
	details, g1 := vm.readString(uint32(s[1]), uint32(s[2]))
	body, g2 := vm.read(uint32(s[3]), uint32(s[4]))
	hdrs, g3 := vm.read(uint32(s[5]), uint32(s[6]))
	if !g1 || !g2 || !g3 {
		return abi.StatusInvalidMemoryAccess
	}
	pairs, _ := abi.ParsePairs(hdrs)
	if st := vm.active().stream; st != nil {
		// The body copy is the reply's own: the stream hands it on without copying it again.
		vm.deferred = append(vm.deferred, deferredAction{stream: st, reply: LocalReply{
			Status:     int(uint32(s[0])),
			Body:       append([]byte(nil), body...),
			Headers:    normalizeOwned(Headers(pairs)),
			Details:    replaceSpaces(details),
			GRPCStatus: int32(uint32(s[7])),
		}})
	}
	vm.stopNext = true
	return abi.StatusOK
}

func replaceSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return '_'
		}
		return r
	}, s)
}

// continueStream is proxy_continue_stream: the resumption is deferred until
// the current VM call returns; Envoy then forgets the request maps.
func (vm *VM) continueStream(t uint32) abi.Status {
	c := vm.active()
	switch t {
	case abi.StreamHTTPRequest, abi.StreamHTTPResponse:
		if st := c.stream; st != nil {
			d := st.dir(t == abi.StreamHTTPResponse)
			vm.defer_(func() { st.resume(d) })
			st.req.headersAvail, st.req.bodyAvail, st.req.trailersAvail = false, false, false
		}
		return abi.StatusOK
	case abi.StreamDownstream:
		if cn := c.conn; cn != nil {
			vm.defer_(cn.continueReading)
		}
		return abi.StatusOK
	case abi.StreamUpstream:
		return abi.StatusUnimplemented
	}
	return abi.StatusBadArgument
}

// closeStream is proxy_close_stream, deferred like Envoy's.
func (vm *VM) closeStream(t uint32) abi.Status {
	c := vm.active()
	switch t {
	case abi.StreamHTTPRequest, abi.StreamHTTPResponse:
		if st := c.stream; st != nil {
			vm.defer_(func() { st.resetStream("wasm_close_stream") })
		}
		return abi.StatusOK
	case abi.StreamDownstream:
		if cn := c.conn; cn != nil {
			vm.defer_(func() { cn.closeLocal("wasm_downstream_close") })
		}
		return abi.StatusOK
	case abi.StreamUpstream:
		if cn := c.conn; cn != nil {
			vm.defer_(func() { cn.closeLocal("wasm_upstream_close") })
		}
		return abi.StatusOK
	}
	return abi.StatusBadArgument
}
