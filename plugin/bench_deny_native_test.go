//go:build !wasm && unix

package main

// Native twins of the P1d deny benchmarks (bench_test.go): the engine alone, compiled natively on
// its in-memory ports, on the same warmed connection and with the same requests. Set beside
// HTTPPublishCachedNative they show the engine's own work for a refusal, without the binding, the
// ABI crossings and the host's local reply.

import "testing"

func BenchmarkHTTPDenyNoTokenNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, remove(benchAllowed(), "x-device-token"), true)
}

func BenchmarkHTTPDenyBadSignatureNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, publishHeaders(benchTopic, benchToken, benchForged()), true)
}

func BenchmarkHTTPDenyWrongHostNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, replace(benchAllowed(), ":authority", "evil.example.com"), true)
}

func BenchmarkHTTPDenyUnknownAuthorizerNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, publishHeaders(benchTopic, benchToken, benchSignature(), "x-amz-customauthorizer-name", "nope"), true)
}

func BenchmarkHTTPDenyPolicyNative(b *testing.B) {
	benchCachedHTTPNative(b, benchQuiet, replace(benchAllowed(), ":path", "/topics/device%2Fsecret?qos=1"), true)
}
