//go:build !wasm && unix

package main

// Native baselines: the engine (package authz) compiled natively and driven through its
// in-memory ports (authz/authztest), with the same configuration, inputs and per-op sequence
// as bench_test.go. This is the honest native twin of the decision: everything the .wasm decides
// runs here too; what the ratio wasm/native adds is the binding (package main, the proxy-wasm
// ABI crossings) and the engine (wazero).

import (
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/authz/authztest"
)

// nativeEngine starts the engine on an in-memory host with the test configuration changed by
// mutate; logs are discarded.
func nativeEngine(b *testing.B, mutate func(map[string]any)) (*authz.Engine, *authztest.Host) {
	b.Helper()
	raw := configJSON(b, mutate)
	h := authztest.NewHost(time.Now().UnixNano())
	h.DiscardLogs = true
	e, err := authz.New(raw, h)
	if err != nil {
		b.Fatalf("native engine: %v", err)
	}
	e.Started()
	return e, h
}

// nativeSource is httpProps(conn) as the engine receives it.
func nativeSource(conn uint64) authz.Source {
	return authz.Source{SNI: "iot.example.com", Conn: conn}
}

// nativeAnswer answers the single pending authorizer call with body.
func nativeAnswer(b *testing.B, h *authztest.Host, body []byte) {
	b.Helper()
	if n := len(h.Pending()); n != 1 {
		b.Fatalf("%d pending authorizer calls, want 1", n)
	}
	h.Respond("200", body)
}

// BenchmarkHTTPPublishCachedNative is BenchmarkHTTPPublishCached run natively: the same
// configuration, headers and per-op sequence (new stream on connection 1, request headers
// answered from the cache, stream done).
func BenchmarkHTTPPublishCachedNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, benchAllowed(), false)
}

// benchCachedHTTPNative is benchCachedHTTP's native twin, the harness of the native P1 and P1d
// baselines: on the engine configured by mutate it warms connection 1's decision cache with the
// allowed request (forwarded once the authorizer has answered), then times hs on new streams of
// the same connection. Each op must end in Continue (a cache hit), or when deny in a paused
// stream refused with a local 403; after the loop the authorizer must not have been called.
func benchCachedHTTPNative(b *testing.B, mutate func(map[string]any), hs [][2]string, deny bool) {
	e, h := nativeEngine(b, mutate)
	src := nativeSource(1)
	want, what, status := authz.Continue, "Continue (a cache hit)", 0
	if deny {
		want, what, status = authz.Pause, "a refusal", 403
	}

	var s authz.Stream
	sh := &authztest.Stream{IP: "203.0.113.7", Port: 52311}
	e.InitStream(&s, sh)
	if a := s.RequestHeaders(benchAllowed(), src); a != authz.Pause {
		b.Fatalf("first request: %v, want a pause for the authorizer", a)
	}
	nativeAnswer(b, h, []byte(devicePolicy("device1")))
	if sh.Resumed != 1 {
		b.Fatalf("warm-up publish not forwarded: %v", h.Logs)
	}
	s.Done()

	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		e.InitStream(&s, sh)
		if a := s.RequestHeaders(hs, src); a != want {
			b.Fatalf("op %d: %v, want %s", i, a, what)
		}
		s.Done()
	}
	b.StopTimer()
	reportCPU(b, c0, 1, "")
	if n := len(h.Pending()); n != 0 {
		b.Fatalf("%d authorizer calls during the loop", n)
	}
	if sh.ReplyStatus != status {
		b.Fatalf("local reply status %d, want %d", sh.ReplyStatus, status)
	}
}

// BenchmarkColdAuthorizationNative is BenchmarkColdAuthorization run natively: a new signed
// token per op (RSA verify, event, call, response validation, compile, decision); the
// authorizer's answer is handed straight to the engine, so no authorizer time is included.
func BenchmarkColdAuthorizationNative(b *testing.B) {
	e, h := nativeEngine(b, benchQuiet)
	src := nativeSource(1)
	body := []byte(devicePolicy("device1"))
	toks, sigs := signedTokens(b.N + 1)
	hs := make([][][2]string, b.N+1)
	for i := range hs {
		hs[i] = publishHeaders(benchTopic, toks[i], sigs[i])
	}
	op := func(i int) {
		s := new(authz.Stream)
		sh := &authztest.Stream{IP: "203.0.113.7", Port: 52311}
		e.InitStream(s, sh)
		if a := s.RequestHeaders(hs[i], src); a != authz.Pause {
			b.Fatalf("op %d: %v, want a pause for the authorizer", i, a)
		}
		nativeAnswer(b, h, body)
		if sh.Resumed != 1 {
			b.Fatalf("op %d: publish not forwarded", i)
		}
		s.Done()
	}
	op(b.N)
	measureOps(b, op)
}

// nativeMQTTConnect opens an MQTT over TLS connection on the engine and authorizes it the way
// BenchmarkMQTTPublishAuthorize does.
func nativeMQTTConnect(b *testing.B, e *authz.Engine, h *authztest.Host, connect []byte) (*authz.Conn, *authztest.Conn) {
	b.Helper()
	t := &authztest.Conn{KeepDelivered: true}
	c := e.OpenMQTT(t, authz.Source{SNI: "iot.example.com", IP: "198.51.100.4", Port: 40000})
	if c == nil {
		b.Fatal("connection refused")
	}
	t.FromClient(c, connect)
	if len(h.Pending()) == 1 {
		nativeAnswer(b, h, []byte(mqttPolicy()))
	}
	if want := strippedConnect(4); t.Closed || string(t.ToBroker) != string(want) {
		b.Fatalf("MQTT CONNECT not authorized: closed %v, broker got %x, want %x", t.Closed, t.ToBroker, want)
	}
	t.FromBroker(c, connackPkt(4))
	t.KeepDelivered = false
	return c, t
}

// BenchmarkMQTTPublishAuthorizeNative is BenchmarkMQTTPublishAuthorize run natively: the same
// 100 PUBLISH packets in one downstream callback of an authorized connection.
func BenchmarkMQTTPublishAuthorizeNative(b *testing.B) {
	benchMQTTPublishNative(b, benchQuiet)
}

// benchMQTTPublishNative is the harness of BenchmarkMQTTPublishAuthorizeNative on the engine
// configured by mutate: ns/op is per callback of mqttBatch packets, "ns/packet" per packet; after
// the loop every byte must have reached the broker.
func benchMQTTPublishNative(b *testing.B, mutate func(map[string]any)) {
	e, h := nativeEngine(b, mutate)
	batch := publishBatch(4)
	connect := connectPkt(4, benchClientID, credUsername("tok-"+benchClientID))
	c, t := nativeMQTTConnect(b, e, h, connect)
	up0 := t.BrokerBytes

	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if a := t.FromClient(c, batch); a != authz.Continue {
			b.Fatalf("op %d: %v, want Continue", i, a)
		}
	}
	b.StopTimer()
	reportCPU(b, c0, mqttBatch, "cpu-ns/packet")
	if got, want := t.BrokerBytes-up0, b.N*len(batch); got != want || t.Closed {
		b.Fatalf("%d bytes reached the broker, want %d (closed %v)", got, want, t.Closed)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mqttBatch, "ns/packet")
}
