//go:build !wasm && unix

package main

import (
	"testing"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/authz/authztest"
)

// limitsOff turns every mqtt.limits check off (keep-alive clamp included), for the comparison.
func limitsOff(c map[string]any) {
	benchQuiet(c)
	c["mqtt"].(map[string]any)["limits"] = map[string]any{"clientIdMaxBytes": 0, "topicMaxBytes": 0,
		"topicMaxSlashes": 0, "payloadMaxBytes": 0, "keepAliveMinSeconds": 0, "keepAliveMaxSeconds": 0}
}

// BenchmarkLimitsHTTPCachedNative: the cached HTTPS publish (BenchmarkHTTPPublishCachedNative's
// sequence) with AWS's limits (the default) and with mqtt.limits off; run both with -count in
// one go test to compare them.
func BenchmarkLimitsHTTPCachedNative(b *testing.B) {
	for _, c := range []struct {
		name   string
		mutate func(map[string]any)
	}{{"aws", benchQuiet}, {"off", limitsOff}} {
		b.Run(c.name, func(b *testing.B) {
			e, h := nativeEngine(b, c.mutate)
			src := nativeSource(1)
			tok := "bench-token-1"
			hs := [][2]string(publishHeaders(benchTopic, tok, sign(testKey, tok)))
			var s authz.Stream
			sh := &authztest.Stream{IP: "203.0.113.7", Port: 52311}
			e.InitStream(&s, sh)
			if a := s.RequestHeaders(hs, src); a != authz.Pause {
				b.Fatalf("first request: %v", a)
			}
			nativeAnswer(b, h, []byte(devicePolicy("device1")))
			s.Done()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				e.InitStream(&s, sh)
				if a := s.RequestHeaders(hs, src); a != authz.Continue {
					b.Fatalf("op %d: %v, want a cache hit", i, a)
				}
				s.Done()
			}
			b.StopTimer()
			reportCPU(b, c0, 1, "")
		})
	}
}

// BenchmarkLimitsMQTTPublishNative: BenchmarkMQTTPublishAuthorizeNative's 100 PUBLISH packets
// per callback with AWS's limits and with mqtt.limits off.
func BenchmarkLimitsMQTTPublishNative(b *testing.B) {
	for _, c := range []struct {
		name   string
		mutate func(map[string]any)
	}{{"aws", benchQuiet}, {"off", limitsOff}} {
		b.Run(c.name, func(b *testing.B) {
			e, h := nativeEngine(b, c.mutate)
			batch := publishBatch(4)
			cn, t := nativeMQTTConnect(b, e, h, connectPkt(4, benchClientID, credUsername("tok-"+benchClientID)))
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if a := t.FromClient(cn, batch); a != authz.Continue {
					b.Fatalf("op %d: %v", i, a)
				}
			}
			b.StopTimer()
			reportCPU(b, c0, mqttBatch, "cpu-ns/packet")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mqttBatch, "ns/packet")
		})
	}
}
