// Package gateway is the embedded gateway: the thin adapter that puts real sockets in front of a
// plugin loaded by package host, the way an Envoy listener on port 443 would. Package host is the
// engine (VMs, streams, connections, HTTP calls, timers); this package only moves bytes between
// sockets and host's streams and connections.
//
// One TLS listener serves three protocols, chosen as Envoy's filter chains choose them:
//
//   - ALPN "mqtt": MQTT over TLS through the plugin's network filter (host.Connection). The TLS
//     SNI becomes connection.requested_server_name. What the plugin lets through goes to the
//     broker over TCP (dialled when the first bytes are allowed, so a refused CONNECT never
//     reaches it); the broker's bytes come back through the plugin; a close on either side, or
//     by the plugin, closes both.
//   - Anything else (no ALPN, "http/1.1", or a protocol the gateway does not speak): HTTP/1.1
//     through the plugin's HTTP filter (host.HTTPStream), keep-alive. A WebSocket upgrade goes to
//     the broker's WebSocket endpoint: the upgrade request the plugin lets through is sent there,
//     the 101 comes back through the plugin, and from then on the raw bytes flow as request and
//     response bodies, as in Envoy. Other requests go to the HTTP upstream. Local replies of the
//     plugin (403) are written to the client. A client that speaks MQTT without ALPN gets
//     HTTP/1.1 400 and a close.
//
// The plugin runs as envoy/envoy.yaml configures it in Envoy: its network filter (MQTT over TLS)
// and its HTTP filter (HTTPS, WSS) have equal plugin keys (same name, root_id, configuration,
// traffic direction and listener metadata), so each worker runs one module instance with one
// root context serving both. Config.Filters chooses otherwise: two root contexts in one instance
// (SharedVM, as Envoy for filters whose plugin keys differ) or VMs of their own (SeparateVMs).
// Connections are assigned to the workers round-robin; time is the real
// clock. The plugin's clusters (authorizerFunction.cluster) map to base URLs.
//
// ServeAdmin serves the part of Envoy's admin interface that scrapers and health checks use, on
// its own listener (iotauthz gateway --admin 127.0.0.1:9901): GET /stats/prometheus and /stats
// show the plugin's metrics as Envoy's admin shows them (package host renders Envoy's names and
// types), and GET /ready answers 200 LIVE while a listener is served, 503 INITIALIZING before
// and 503 DRAINING once Shutdown or Close began. envoy/grafana-dashboard.json reads these
// metrics from Envoy or from the gateway alike.
//
// Use it to run iotauthz.wasm without Envoy (iotauthz gateway, iotauthz demo, the end-to-end
// tests), or as the starting point of a Go gateway that embeds the plugin.
//
//	gw, err := gateway.New(ctx, gateway.Config{
//		Module: wasm, PluginConfig: cfg, Workers: 2,
//		Clusters: map[string]string{"authorizer": "http://127.0.0.1:9000"},
//		TLS:      &tls.Config{Certificates: []tls.Certificate{cert}},
//		Broker:   "tcp://127.0.0.1:1883", BrokerWS: "ws://127.0.0.1:8080/mqtt",
//		HTTPUpstream: "http://127.0.0.1:8081",
//	})
//	go gw.ListenAndServe(":8443")
//	go gw.ServeAdmin(adminListener) // optional: /stats/prometheus, /stats, /ready
//	...
//	gw.Shutdown(ctx) // stop accepting, finish what is in flight, close
//
// A Gateway is safe for concurrent use. Shutdown stops accepting and stops reading from clients;
// bytes already read go through the plugin (an authorizer call in flight included) to the broker
// or upstream, the answers come back, then every connection closes; it waits at most
// Config.ShutdownGrace. Close closes everything at once.
//
// # Notes
//
//   - HTTP/1.1 only (no HTTP/2 and no RFC 8441 WebSocket over HTTP/2); request trailers are not
//     forwarded.
//   - The socket writes happen on a goroutine of the connection fed by host's sinks, so a slow
//     client never blocks a VM; it runs only while there is something to write. An idle MQTT
//     connection holds two goroutines (the client's and the broker's readers) and a 2 KiB read
//     buffer for each socket; a read that fills it is followed by reads into a 32 KiB buffer
//     from a pool, given back when the burst ends.
//   - What one client may hold is bounded before the plugin sees it: the CONNECT deadline
//     (Config.ConnectTimeout, by default the plugin configuration's mqtt.connectTimeoutSeconds)
//     from the accept through the TLS handshake to the first MQTT packet or request head, and
//     from a WebSocket upgrade to its first MQTT packet; request heads of MaxRequestHeaderBytes
//     and MaxRequestHeaders (431); request bodies of MaxRequestBodyBytes (413), a chunked one
//     read whole before the plugin sees the request; Config.MaxConnections. Each refusal is a
//     decision line through Config.Logf.
//   - Serve survives temporary accept errors (EMFILE, ENFILE…): it retries after 5 ms,
//     doubling up to 1 s, as net/http does.
//
// Subpackage gatewaytest makes throwaway credentials (CA, server certificate, token-signing key)
// and an embedded MQTT broker for demos and tests; subpackage demostack runs the demo's whole
// stack (the plugin built from source, the reference authorizer, broker, gateway) and its
// traffic for tests.
package gateway
