// Package authz is the plugin's decision engine: everything iotauthz decides, with nothing of
// proxy-wasm in it. package main (the .wasm) is the glue that hands it Envoy's callbacks; a
// test or a native host drives it the same way through in-memory ports.
//
// # What it owns
//
//   - the validated configuration (config.Parse) and each authorizer's token verifier;
//   - the checks made before any call: data endpoint (Host, SNI), authorizer selection, token
//     limits and signature;
//   - the authorizer call: the event, one call per cache key at a time (single-flight),
//     response validation, policy compilation, the decision cache (per VM, bounded), the
//     compiled-policy cache, token-scope slots in shared data, staleIfErrorSeconds;
//   - enforcement: the HTTPS publish (Stream), the WebSocket upgrade (Stream, then Conn), MQTT
//     over TLS or WebSocket (Conn: the session glue, refresh and disconnect deadlines, the
//     CONNECT deadline, the Will revocation, the closing grace);
//   - the decision log (one JSON line per decision, CloudWatch's field names, a per-reason
//     failure budget) and the metrics (Metric).
//
// # Ports
//
// The engine reaches its host only through Host (one per engine: authorizer calls with a
// completion callback, the clock, shared data get and compare-and-set, logs, metrics),
// StreamHost (one per HTTP stream) and Transport (one per MQTT connection's bytes). When the
// engine acts outside a callback of the stream (an authorizer answer, the tick) it calls
// Transport.Enter first.
//
// # Threads
//
// An Engine and everything made from it is single-threaded, like the proxy-wasm VM it runs
// in: no method may be called concurrently, and the engine starts no goroutine and no timer
// (the host calls Tick).
package authz
