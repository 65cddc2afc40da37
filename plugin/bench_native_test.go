//go:build !wasm && unix

package main

// Native baselines: the same filter code compiled natively and driven through proxytest, the
// in-process emulator of Envoy's proxy-wasm ABI, with exactly the sequences of bench_test.go.
// The ratio wasm/native is the cost of running the filter as a .wasm in host/ (wazero plus the
// ABI crossing). proxytest allows one emulator at a time and is not safe for concurrent use:
// each benchmark installs its own and drops it (proxytest.Reset) when it ends.

import (
	"encoding/json"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/proxytest"
)

// nativeEmu starts the plugin (registered by init in main.go) on a fresh emulator with the
// test configuration changed by mutate; logs are discarded.
func nativeEmu(b *testing.B, mutate func(map[string]any)) *proxytest.Emulator {
	b.Helper()
	c := baseConfig()
	if mutate != nil {
		mutate(c)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	proxytest.Reset()
	emu := proxytest.New(proxytest.Options{
		PluginConfig: raw,
		LogLevel:     proxywasm.LogLevelWarn,
		DiscardLogs:  true,
		Clusters:     []string{"authorizer"},
	})
	if err := emu.Start(); err != nil {
		b.Fatalf("native plugin start: %v", err)
	}
	b.Cleanup(func() {
		emu.Close()
		proxytest.Reset()
	})
	return emu
}

// nativeHTTPProps are httpProps(conn) as proxytest properties.
func nativeHTTPProps(conn uint64) map[string]string {
	return map[string]string{
		"connection.requested_server_name": "iot.example.com",
		"source.address":                   "203.0.113.7:52311",
		"destination.address":              "10.0.0.1:443",
		"connection.id":                    proxytest.Uint64Property(conn),
	}
}

// nativeAnswer answers the single pending authorizer call with body.
func nativeAnswer(b *testing.B, emu *proxytest.Emulator, body []byte) {
	b.Helper()
	calls := emu.PendingCalls()
	if len(calls) != 1 {
		b.Fatalf("%d pending authorizer calls, want 1", len(calls))
	}
	if err := emu.Respond(calls[0].ID, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, body); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHTTPPublishCachedNative is BenchmarkHTTPPublishCached run natively on proxytest: the
// same configuration, headers and per-op sequence (new stream on connection 1, request headers
// with end of stream answered from the cache, stream closed).
func BenchmarkHTTPPublishCachedNative(b *testing.B) {
	emu := nativeEmu(b, benchQuiet)
	props := nativeHTTPProps(1)
	tok := "bench-token-1"
	h := [][2]string(publishHeaders(benchTopic, tok, sign(testKey, tok)))

	warm := emu.NewHTTPStream(props)
	if a := warm.RequestHeaders(h, true); a != proxywasm.ActionPause {
		b.Fatalf("first request: %v, want a pause for the authorizer", a)
	}
	nativeAnswer(b, emu, []byte(devicePolicy("device1")))
	if !warm.Upstream().HeadersSent {
		b.Fatalf("warm-up publish not forwarded: %v", emu.Logs())
	}
	warm.Close()

	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		s := emu.NewHTTPStream(props)
		if a := s.RequestHeaders(h, true); a != proxywasm.ActionContinue {
			b.Fatalf("op %d: %v, want Continue (a cache hit)", i, a)
		}
		s.Close()
	}
	b.StopTimer()
	reportCPU(b, c0, 1, "")
	if n := len(emu.PendingCalls()); n != 0 {
		b.Fatalf("%d authorizer calls during the loop", n)
	}
}

// BenchmarkColdAuthorizationNative is BenchmarkColdAuthorization run natively: a new signed
// token per op (RSA verify, event, call, response validation, compile, decision); the
// authorizer's answer is handed straight to the filter, so no authorizer time is included.
func BenchmarkColdAuthorizationNative(b *testing.B) {
	emu := nativeEmu(b, benchQuiet)
	props := nativeHTTPProps(1)
	body := []byte(devicePolicy("device1"))
	toks, sigs := signedTokens(b.N + 1)
	hs := make([][][2]string, b.N+1)
	for i := range hs {
		hs[i] = publishHeaders(benchTopic, toks[i], sigs[i])
	}
	op := func(i int) {
		s := emu.NewHTTPStream(props)
		if a := s.RequestHeaders(hs[i], true); a != proxywasm.ActionPause {
			b.Fatalf("op %d: %v, want a pause for the authorizer", i, a)
		}
		nativeAnswer(b, emu, body)
		if !s.Upstream().HeadersSent {
			b.Fatalf("op %d: publish not forwarded", i)
		}
		s.Close()
	}
	op(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		op(i)
	}
	b.StopTimer()
	reportCPU(b, c0, 1, "")
}

// nativeMQTTConnect opens an MQTT over TLS connection on the emulator and authorizes it the way
// BenchmarkMQTTPublishAuthorize does.
func nativeMQTTConnect(b *testing.B, emu *proxytest.Emulator, connect []byte) *proxytest.Connection {
	b.Helper()
	c := emu.NewConnection(map[string]string{
		"connection.requested_server_name": "iot.example.com",
		"source.address":                   "198.51.100.4:40000",
	})
	c.DownstreamData(connect, false)
	if len(emu.PendingCalls()) == 1 {
		nativeAnswer(b, emu, []byte(mqttPolicy()))
	}
	if want := strippedConnect(4); c.Closed() != "" || string(c.Upstream()) != string(want) {
		b.Fatalf("MQTT CONNECT not authorized: closed %q, broker got %x, want %x", c.Closed(), c.Upstream(), want)
	}
	c.UpstreamData(connackPkt(4), false)
	return c
}

// BenchmarkMQTTPublishAuthorizeNative is BenchmarkMQTTPublishAuthorize run natively: the same
// 100 PUBLISH packets in one downstream callback of an authorized connection. proxytest keeps
// every byte that reaches the broker, so every 1000 ops the connection is replaced (timer
// stopped) to keep memory flat.
func BenchmarkMQTTPublishAuthorizeNative(b *testing.B) {
	emu := nativeEmu(b, benchQuiet)
	batch := publishBatch(4)
	connect := connectPkt(4, benchClientID, credUsername("tok-"+benchClientID))
	c := nativeMQTTConnect(b, emu, connect)
	up0, ops := len(c.Upstream()), 0
	check := func() {
		if got, want := len(c.Upstream())-up0, ops*len(batch); got != want || c.Closed() != "" {
			b.Fatalf("%d bytes reached the broker, want %d (closed %q)", got, want, c.Closed())
		}
	}

	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if ops == 1000 {
			b.StopTimer()
			x0 := cpuTime()
			check()
			c.Close(proxywasm.PeerTypeRemote)
			c = nativeMQTTConnect(b, emu, connect)
			up0, ops = len(c.Upstream()), 0
			c0 += cpuTime() - x0 // the reconnect is not measured
			b.StartTimer()
		}
		if a := c.DownstreamData(batch, false); a != proxywasm.ActionContinue {
			b.Fatalf("op %d: %v, want Continue", i, a)
		}
		ops++
	}
	b.StopTimer()
	reportCPU(b, c0, mqttBatch, "cpu-ns/packet")
	check()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mqttBatch, "ns/packet")
}
