package host

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// The env module: the proxy_* host functions of ABI v0.2.1 (and the
// ABI-specific ones of 0.2.0 and 0.1.0), with Envoy's semantics. Each part
// of the spec has its file, each host call its named function:
//
//	abi_lifecycle.go      Context lifecycle   proxy_done, proxy_set_effective_context
//	abi_logging.go        Logging             proxy_log, proxy_get_log_level
//	abi_time.go           Clocks, Timers      proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds
//	abi_buffers.go        Buffers             proxy_{get,set}_buffer_bytes, proxy_get_buffer_status
//	abi_http_fields.go    HTTP fields         proxy_*_header_map_*
//	abi_streams.go        Common HTTP and TCP stream operations, HTTP streams
//	                                          proxy_continue_stream, proxy_close_stream, proxy_get_status,
//	                                          proxy_send_local_response
//	abi_http_calls.go     HTTP calls          proxy_http_call
//	abi_grpc_calls.go     gRPC calls          proxy_grpc_*
//	abi_shared_data.go    Shared Key-Value Store
//	abi_shared_queues.go  Shared Queues
//	abi_metrics.go        Metrics
//	abi_properties.go     Properties          proxy_get_property, proxy_set_property
//	abi_foreign.go        Foreign functions   proxy_call_foreign_function
//	abi_envoy.go          what Envoy adds: envoy_resolve_dns, the Emscripten helpers, ABI 0.1.0 names
//
// The WASI modules are in wasi*.go.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostCall is a proxy_* host function: it reads its arguments from the
// stack and returns the proxy_status_t the guest receives.
type hostCall func(vm *VM, s []uint64) abi.Status

// proxyFunc registers fn under name with i32 parameters named params and
// an i32 status result.
func proxyFunc(name string, fn hostCall, params ...string) hostFunc {
	return hostFunc{
		name: name, params: u32s(len(params)), results: u32s(1), paramNames: params,
		fn: func(vm *VM, s []uint64) { s[0] = uint64(fn(vm, s)) },
	}
}

func u32s(n int) []api.ValueType {
	t := make([]api.ValueType, n)
	for i := range t {
		t[i] = i32
	}
	return t
}

// hostModules returns env, wasi_snapshot_preview1 and wasi_unstable as the
// plugin's ABI version and profile define them.
func (p *Plugin) hostModules() []*hostModule {
	env := &hostModule{name: "env"}
	for _, family := range [][]hostFunc{
		lifecycleFuncs(),
		loggingFuncs(p.abi),
		timeFuncs(),
		bufferFuncs(),
		httpFieldFuncs(),
		streamFuncs(p.abi),
		httpCallFuncs(),
		grpcCallFuncs(),
		sharedDataFuncs(),
		sharedQueueFuncs(),
		metricFuncs(),
		propertyFuncs(),
		foreignFuncs(),
		envoyFuncs(p.abi),
	} {
		env.funcs = append(env.funcs, family...)
	}
	return append([]*hostModule{env}, wasiModules(p.cfg.Profile)...)
}

// readArgs reads the (pointer, size) pairs at stack positions idx, idx+1 for
// each idx; ok is false if any lies outside the guest's memory. Zero-size
// arguments read as nil whatever their pointer.
func (vm *VM) readArgs(s []uint64, idx ...int) (out [][]byte, ok bool) {
	out = make([][]byte, len(idx))
	for i, j := range idx {
		b, good := vm.read(uint32(s[j]), uint32(s[j+1]))
		if !good {
			return nil, false
		}
		out[i] = b
	}
	return out, true
}

// typedArg reads the type at stack position 0, BadArgument above max, then
// the (pointer, size) pair at position i, InvalidMemoryAccess outside the
// guest's memory: the two checks, in Envoy's order, that open
// proxy_set_buffer_bytes, proxy_define_metric and the header-map calls.
func (vm *VM) typedArg(s []uint64, max uint32, i int) (t uint32, data []byte, st abi.Status) {
	t = uint32(s[0])
	if t > max {
		return t, nil, abi.StatusBadArgument
	}
	data, good := vm.read(uint32(s[i]), uint32(s[i+1]))
	if !good {
		return t, nil, abi.StatusInvalidMemoryAccess
	}
	return t, data, abi.StatusOK
}

// readStringArg reads the (pointer, size) pair at stack position i as a
// string.
func (vm *VM) readStringArg(s []uint64, i int) (string, bool) {
	return vm.readString(uint32(s[i]), uint32(s[i+1]))
}
