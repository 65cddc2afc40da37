// Command plugin is iotauthz, the proxy-wasm filter, built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o dist/iotauthz.wasm ./plugin
//
// The same module runs as an Envoy HTTP filter (HTTPS publish, MQTT over WebSocket) and as a
// network filter (MQTT over TLS). The data path reads top to bottom:
//
//	root.go        plugin context: configuration, metrics, the tick, the registry of live MQTT connections
//	httpfilter.go  HTTP stream: credentials, HTTPS publish enforcement, the WebSocket upgrade
//	tcpfilter.go   network filter: MQTT over TLS
//	mqttconn.go    one MQTT connection (TLS or WebSocket) glued to the session processor
//	checks.go      the checks made before any authorizer call (endpoint, authorizer, token, signature)
//	authcall.go    the authorizer call, single-flight, response validation, policy compile
//	cache.go       the decision cache (per VM, bounded) and the token-scope slots in shared data
//	enforce.go     policy decisions on ARNs (HTTP publish; the adapter the MQTT session uses)
//	decisionlog.go one JSON line per decision, CloudWatch field names
//	metrics.go     the wasmcustom.* metrics
package main

import "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"

// main never runs in a c-shared wasip1 module; registration happens in init.
func main() {}

func init() {
	proxywasm.SetVMContext(&vmContext{})
}
