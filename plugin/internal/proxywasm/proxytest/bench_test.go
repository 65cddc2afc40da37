//go:build !wasm

package proxytest

import (
	"testing"

	pw "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// The emulator's own cost per stream, connection and host call, so that a filter benchmark
// can tell how much of its time is the emulator.

func BenchmarkHTTPStream_HeadersOnly(b *testing.B) {
	h := &hooks{respHeaders: func(uint32, int, bool) pw.Action {
		pw.AddHttpResponseHeader("x-passthrough", "1")
		return pw.ActionContinue
	}}
	e := start(b, h, Options{DiscardLogs: true})
	req := [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}
	resp := [][2]string{{":status", "200"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := e.NewHTTPStream(nil)
		s.RequestHeaders(req, true)
		s.ResponseHeaders(resp, true)
	}
}

func BenchmarkGetHttpRequestHeader(b *testing.B) {
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			pw.GetHttpRequestHeader("x-key")
		}
		return pw.ActionContinue
	}}
	e := start(b, h, Options{})
	e.NewHTTPStream(nil).RequestHeaders([][2]string{{":path", "/"}, {"x-key", "value"}}, true)
}

func BenchmarkConnection_Data(b *testing.B) {
	h := &hooks{downData: func(_ uint32, n int, _ bool) pw.Action {
		pw.GetDownstreamData(0, n)
		return pw.ActionContinue
	}}
	e := start(b, h, Options{})
	c := e.NewConnection(nil)
	msg := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.DownstreamData(msg, false)
		c.down.out = c.down.out[:0]
	}
}
