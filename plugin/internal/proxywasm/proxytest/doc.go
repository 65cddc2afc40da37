// Package proxytest runs a proxywasm plugin natively, in-process, against an emulator of
// Envoy's proxy-wasm host: the start sequence, HTTP streams (pause/continue with Envoy's
// buffering, trailers, local responses that pass the filter's response callbacks, resets),
// L4 connections (accumulation while paused, replace/prepend/append, close), http calls that
// the test answers or fails, shared data with CAS, metrics with Envoy's rules, properties,
// logs by level, a virtual clock with ticks, and the effective context.
//
// The emulator calls the binding's real exported callbacks and serves its real host calls
// (returned data goes through proxy_on_memory_allocate, as in Envoy), so everything but the
// wasm import layer is exercised. The end-to-end truth is still the .wasm on host/; this
// package is for fast unit tests and native benchmarks of the filter.
//
// Only one Emulator is active per process (the binding's state is global, as in a VM): New
// replaces the previous one, Reset drops everything. It is not safe for concurrent use.
package proxytest
