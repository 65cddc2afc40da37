// Package envoy holds the Envoy configurations that run iotauthz.wasm; it has no code. Its test
// loads every *.yaml here into Envoy's bootstrap proto (go-control-plane), runs the proto
// validation on it and on every typed extension inside, checks the cross references (clusters,
// data endpoints, the .wasm path) and parses each embedded plugin configuration with the plugin's
// own parser. The Istio WasmPlugin example gets the same plugin configuration check.
//
//   - envoy.yaml: the reference configuration, one listener on 443 (MQTT/TLS with ALPN "mqtt",
//     HTTPS and WSS), the authorizer cluster, stats.
//   - envoy-compose.yaml: the same shape for the docker compose stack in e2e/ (compose service
//     names, test-only short intervals, a second data endpoint whose denyAction is "reject").
//   - istio-wasmplugin.yaml: the plugin in Istio, through two WasmPlugin resources.
package envoy
