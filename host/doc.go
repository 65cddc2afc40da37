// Package host runs a proxy-wasm module (ABI v0.2.1, also 0.2.0 and 0.1.0)
// the way Envoy does, on wazero: for tests that exercise the real .wasm, and
// for Go gateways that embed a plugin.
//
// # What "the way Envoy does" covers
//
//   - Loading: the ABI marker export is required ("Missing or unknown
//     Proxy-Wasm ABI version"); every import must be one Envoy registers, or
//     the load fails with "Failed to load Wasm module due to a missing import:
//     <module>.<name>"; proxy_on_memory_allocate (or malloc) is required.
//   - WASI: Envoy's own stubs, not a real WASI. Profile Envoy133 (default;
//     Envoy 1.33–1.38) offers 18 functions and answers poll_oneoff with 52
//     (ENOSYS) without writing nevents; Envoy139 (Envoy ≥ 1.39) offers 45 and
//     answers poll_oneoff with nevents = 0. Both register under
//     wasi_snapshot_preview1 and wasi_unstable. fd 1 and 2 go to the log at
//     info and error level.
//   - Restricted phases: during _initialize (Go's init()) only proxy_log and
//     the profile's start-up WASI calls are allowed; inside
//     proxy_on_memory_allocate only proxy_log, fd_write and clock_time_get
//     (and poll_oneoff on Envoy139). Anything else traps the VM with a
//     "restricted_callback" error naming the function.
//   - Start: a configuration canary VM starts, creates its root context, runs
//     proxy_on_vm_start and proxy_on_configure and is discarded; then each of
//     Config.Workers VMs does the same with its own root context. A false
//     answer or a trap makes New fail.
//   - Memory handed to the guest (buffers, header maps, properties, shared
//     data, status messages) is allocated by calling proxy_on_memory_allocate
//     while the guest is inside the host call; zero-length results are ptr 0,
//     size 0 with no allocation.
//   - Streams: HTTP streams (headers, body chunks, trailers, both directions)
//     with Envoy's flow control — a headers Pause is StopAllIteration (later
//     body and trailers are held and reach the filter only when it
//     continues), a body Pause is StopIterationAndBuffer (the next body
//     callback sees the accumulated body); proxy_continue_stream,
//     proxy_close_stream and proxy_send_local_response act after the current
//     VM call returns; a local reply goes through the filter's response
//     callbacks before it reaches the client. L4 connections with downstream
//     data accumulating while paused, proxy_continue_stream(Downstream)
//     forwarding the retained bytes, close events and proxy_close_stream.
//   - proxy_http_call: clusters map to an in-process http.Handler or a real
//     http:// upstream. Unknown cluster or missing :method/:path/:authority
//     → BadArgument and no callback; timeout → a 504 "upstream request
//     timeout" response; connection refused → 503; reset → callback with no
//     headers and proxy_get_status 11 "reset". The callback always goes to
//     the root context.
//   - Shared data per vm_id across every plugin of the process, with Envoy's
//     CAS rules; metrics named "wasmcustom.<name>" with Envoy's counter,
//     gauge and histogram rules; properties (see Properties) walked by
//     their NUL-separated segments, a segment may hold a "."
//     (Properties.Extra is keyed by PropertyPath); logs kept by level.
//   - Shared queues per (vm_id, name) across the process, with
//     proxy_on_queue_ready posted to the last registrant's root context.
//   - Plugins sharing a VM (Plugin.Join): one instance per worker for every
//     plugin with the same vm_id, VM configuration and code, each plugin with
//     its own root context (ids 1, 2, …), sharing the module's globals.
//   - proxy_on_log reads the final request headers and the response headers
//     and trailers (read-only), as in Envoy's access-log phase.
//   - A local reply to a gRPC request (content-type application/grpc…) is
//     Envoy's trailers-only gRPC response.
//   - L4 closes by their side: Connection.Close is the client hanging up
//     (Remote), Connection.CloseLocal the proxy closing the client's
//     connection itself, as tcp_proxy does after the upstream ends (Local);
//     a close by the plugin is Local too.
//   - Routes and clusters (Config.Routes, Config.Clusters): route_name,
//     route_metadata, cluster_name, cluster_metadata, upstream.address and
//     upstream.port with Envoy's encodings (metadata as a serialized
//     envoy.config.core.v3.Metadata; a path into it is NotFound here).
//   - Stats as Envoy's admin shows them: Plugin.WritePrometheus
//     (/stats/prometheus: the wasmcustom namespace stripped, names
//     sanitized, Envoy's default histogram buckets) and Plugin.WriteStats
//     (/stats text, counters and gauges only); Plugin.AdminHandler serves
//     them with /ready for an admin listener.
//   - Foreign functions (proxy_call_foreign_function) as Envoy registers
//     them, with its encodings: compress and uncompress (zlib; uncompress
//     refuses more than 64 MiB of output, where Envoy has no bound),
//     verify_signature and sign (RSA PKCS #1 v1.5, ECDSA), clear_route_cache
//     (Ok: no route cache), set_envoy_filter_state (NotFound: no filter-state
//     object factory, as Envoy answers an unknown key), declare_property
//     (read-only properties; type, schema and life span are not kept).
//
// Not provided: gRPC calls answer Unimplemented (12); env.envoy_resolve_dns
// answers Unimplemented; the foreign functions expr_* answer NotFound, as in
// an Envoy build without the CEL parser.
//
// # Threads
//
// A VM is single-threaded like an Envoy worker: every call into an instance
// (stream callbacks, ticks, HTTP-call responses) runs one at a time, on the
// goroutine that asked for it or queued behind the running one. All exported
// methods are safe for concurrent use. VM.Settle and Plugin.Settle wait
// until nothing is running, queued or waiting for an HTTP-call response.
// Sinks and Config.LogSink are called while the VM is busy: they must not
// call back into the same VM synchronously, and VirtualClock.Advance must not
// be called from them.
//
// # Time
//
// Config.Clock drives proxy_get_current_time_nanoseconds, WASI
// clock_time_get, tick timers and HTTP-call timeouts. Tests use a
// VirtualClock and Advance it; gateways use RealClock.
//
// # Gateways
//
// A gateway creates one Plugin, spreads connections over Plugin.Worker(i),
// and opens a VM.NewHTTPStreamSink or VM.NewConnectionSink per stream or
// connection: the sink receives what the filter lets through to the upstream
// and to the client, and resets and closes, as they happen.
//
// See https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
// See https://github.com/proxy-wasm/proxy-wasm-cpp-host
package host
