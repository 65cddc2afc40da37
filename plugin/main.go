// Command plugin is iotauthz, the proxy-wasm filter, built with
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags="-s -w" -buildmode=c-shared -o dist/iotauthz.wasm ./plugin
//
// The same module runs as an Envoy HTTP filter (HTTPS publish, MQTT over WebSocket) and as a
// network filter (MQTT over TLS). package main is only the proxy-wasm glue around the engine
// (package authz, which decides and knows nothing of proxy-wasm):
//
//	root.go        plugin context: starts the engine, and is its host (authz.Host: calls, clock, shared data, logs, metrics)
//	httpfilter.go  HTTP stream callbacks, handed to an authz.Stream; the stream's host side
//	tcpfilter.go   network filter callbacks (MQTT over TLS), handed to an authz.Conn
//	transport.go   the MQTT bytes: network filter buffers, or the upgraded stream's bodies
//	properties.go  connection facts from Envoy's properties (address, SNI, connection id)
//
// docs/architecture.md draws the whole data path.
package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// main never runs in a c-shared wasip1 module; registration happens in init.
func main() {}

func init() {
	proxywasm.SetVMContext(&vmContext{})
}
