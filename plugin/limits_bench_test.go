//go:build !wasm && unix

package main

import "testing"

// limitsOff turns every mqtt.limits check off (keep-alive clamp included), for the comparison.
func limitsOff(c map[string]any) {
	benchQuiet(c)
	c["mqtt"].(map[string]any)["limits"] = map[string]any{"clientIdMaxBytes": 0, "topicMaxBytes": 0,
		"topicMaxSlashes": 0, "payloadMaxBytes": 0, "keepAliveMinSeconds": 0, "keepAliveMaxSeconds": 0}
}

// benchLimits runs bench as two sub-benchmarks: "aws" with AWS's limits (the default) and "off"
// with mqtt.limits off; run both with -count in one go test to compare them.
func benchLimits(b *testing.B, bench func(b *testing.B, mutate func(map[string]any))) {
	b.Run("aws", func(b *testing.B) { bench(b, benchQuiet) })
	b.Run("off", func(b *testing.B) { bench(b, limitsOff) })
}

// BenchmarkLimitsHTTPCachedNative: the cached HTTPS publish (BenchmarkHTTPPublishCachedNative)
// with and without mqtt.limits.
func BenchmarkLimitsHTTPCachedNative(b *testing.B) {
	benchLimits(b, func(b *testing.B, mutate func(map[string]any)) {
		benchCachedHTTPNative(b, mutate, benchAllowed(), false)
	})
}

// BenchmarkLimitsMQTTPublishNative: BenchmarkMQTTPublishAuthorizeNative's 100 PUBLISH packets
// per callback with and without mqtt.limits.
func BenchmarkLimitsMQTTPublishNative(b *testing.B) {
	benchLimits(b, benchMQTTPublishNative)
}

// BenchmarkLimitsMQTTPublish: P2's 100 PUBLISH packets per callback through the .wasm in host/,
// with and without mqtt.limits: what AWS's limits, on by default, cost per packet in wasm.
func BenchmarkLimitsMQTTPublish(b *testing.B) {
	benchLimits(b, benchMQTTPublish)
}
