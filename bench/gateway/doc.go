// Package gatewaybench measures the embedded gateway (host/gateway, `iotauthz gateway`) against
// direct TLS to the same mosquitto, in one run: the figures of goals G1–G3 in BENCHMARKS.md.
//
//	go test -run '^$' -bench . -count 6 ./bench/gateway -args -gateway.wasm dist/iotauthz.wasm
//
// The package holds benchmarks only (its _test.go files): a minimal MQTT 3.1.1 client that
// pipelines QoS 1 PUBLISHes and checks every PUBACK, one mosquitto with a plain listener (the
// gateway's upstream) and a TLS listener (the direct path) sharing the gateway's certificate,
// the reference authorizer (package refauth), and the gateway in process (throughput, connect
// latency) or as a child process (`iotauthz gateway`, for its RSS). docs/performance.md says what
// each benchmark measures and what bounds it.
package gatewaybench
