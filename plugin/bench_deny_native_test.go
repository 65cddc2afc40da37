//go:build !wasm && unix

package main

// Native twins of the P1d deny benchmarks (bench_test.go): the engine alone, compiled natively on
// its in-memory ports, on the same warmed connection and with the same requests. Set beside
// HTTPPublishCachedNative they show the engine's own work for a refusal, without the binding, the
// ABI crossings and the host's local reply.

import (
	"testing"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/authz/authztest"
)

func BenchmarkHTTPDenyNoTokenNative(b *testing.B) {
	benchDenyNative(b, remove(benchAllowed(), "x-device-token"))
}

func BenchmarkHTTPDenyBadSignatureNative(b *testing.B) {
	benchDenyNative(b, publishHeaders(benchTopic, benchToken, benchForged()))
}

func BenchmarkHTTPDenyWrongHostNative(b *testing.B) {
	benchDenyNative(b, replace(benchAllowed(), ":authority", "evil.example.com"))
}

func BenchmarkHTTPDenyUnknownAuthorizerNative(b *testing.B) {
	benchDenyNative(b, publishHeaders(benchTopic, benchToken, benchSignature(), "x-amz-customauthorizer-name", "nope"))
}

func BenchmarkHTTPDenyPolicyNative(b *testing.B) {
	benchDenyNative(b, replace(benchAllowed(), ":path", "/topics/device%2Fsecret?qos=1"))
}

// benchDenyNative warms connection 1's cache with the allowed request, then times hs, each op a
// new stream refused with a local 403 (the stream paused).
func benchDenyNative(b *testing.B, hs [][2]string) {
	e, h := nativeEngine(b, benchQuiet)
	src := nativeSource(1)
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
		if a := s.RequestHeaders(hs, src); a != authz.Pause {
			b.Fatalf("op %d: %v, want a refusal", i, a)
		}
		s.Done()
	}
	b.StopTimer()
	reportCPU(b, c0, 1, "")
	if sh.ReplyStatus != 403 {
		b.Fatalf("reply status %d, want 403", sh.ReplyStatus)
	}
}
