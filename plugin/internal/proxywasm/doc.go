// Package proxywasm is the plugin's proxy-wasm ABI v0.2.1 binding for standard Go
// (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared), written from the spec because the
// proxy-wasm Go SDK builds only with TinyGo.
//
// # Using it
//
// The filter registers a VMContext from init() and never calls anything else there (Envoy
// lets only proxy_log through while _initialize runs):
//
//	func init() { proxywasm.SetVMContext(&vm{}) }
//	func main() {}
//
// The VMContext makes one PluginContext per root context (proxy_on_context_create with
// parent 0). OnPluginStart reads GetPluginConfiguration, defines metrics and arms the tick.
// Stream contexts are created lazily: the first L4 callback of a context
// (proxy_on_new_connection, proxy_on_downstream_data, proxy_on_upstream_data) asks the
// PluginContext for a TcpContext, the first HTTP callback for an HttpContext, so one .wasm
// serves both as an HTTP filter and as a network filter. A nil context answers Continue.
// proxy_on_done, or else proxy_on_delete, calls OnHttpStreamDone / OnStreamDone once; no typed
// callback reaches the context after that, so a plugin may reuse it.
//
// Host calls (GetHttpRequestHeader, DispatchHttpCall, ...) act on the context of the
// callback being run, or on the one chosen with SetEffectiveContext. DispatchHttpCall's
// callback runs on the root context inside proxy_on_http_call_response; the binding does
// not change the effective context, so the callback calls SetEffectiveContext(streamID)
// before it touches a stream (continue, local response, headers). Envoy defers continue,
// close and local responses until the current callback returns, and forgets a stream's
// headers once they are passed on: change them before continuing.
//
// # Memory ownership
//
// Memory the guest passes to the host (keys, values, bodies, serialized maps) stays owned by
// the guest; the host copies it during the call. Data the host returns is written into memory
// it obtains from proxy_on_memory_allocate: a Go []byte that the binding keeps reachable in
// a pending list until the host call returns, then hands to the caller (strings returned by
// getters alias it, so GetHttpRequestHeader allocates only the returned string). Anything
// else still pending is dropped at that point, so nothing accumulates however many calls are
// made. Returned []byte values belong to the caller.
//
// # Restrictions
//
// Like the VM, the binding is single-threaded and not safe for concurrent use; it keeps its
// state in package variables. Inside the plugin: no goroutines, no timers, no time.Sleep
// (Envoy 1.33–1.38 answer poll_oneoff with ENOSYS and the Go runtime throws), nothing that
// imports fd_read, path_open or path_filestat_get (net/http, os.Open, crypto/rand). Host
// calls other than logging are refused by Envoy inside init() and inside
// proxy_on_memory_allocate. Define metrics and set the tick period from OnVMStart or
// OnPluginStart.
//
// # Native builds
//
// Without the wasm build tag the API builds natively but has no host: every host call fails
// with InternalFailure (abi_hostcalls_native.go). That is enough for the filter's package
// main to build and vet natively and for this package's dispatch tests; the filter runs only
// as the real .wasm (in host/ or Envoy), and its decisions run natively as package authz on
// in-memory ports. The //go:wasmimport declarations live in abi_hostcalls_wasm.go only.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
package proxywasm
