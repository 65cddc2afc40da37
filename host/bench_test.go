package host_test

import (
	"flag"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

var loadTest = flag.Bool("host.load", false, "run the 1M-callback load test")

// BenchmarkHostHTTPRoundTrip is one headers-only request through a
// pass-through filter: context create, request headers, response headers,
// log, done, delete (six calls into the guest).
func BenchmarkHostHTTPRoundTrip(b *testing.B) {
	p, _ := newPlugin(b, host.Config{Module: guest(b, "passthrough"), LogLevel: host.LogInfo})
	vm := p.Worker(0)
	req := host.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}}
	resp := host.Headers{{":status", "200"}}
	props := host.Properties{ConnectionID: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := vm.NewHTTPStream(props)
		s.RequestHeaders(req, true)
		s.ResponseHeaders(resp, true)
	}
}

// BenchmarkHostHTTPRoundTripParallel drives 2 workers from parallel
// goroutines (a gateway's shape).
func BenchmarkHostHTTPRoundTripParallel(b *testing.B) {
	p, _ := newPlugin(b, host.Config{Module: guest(b, "passthrough"), LogLevel: host.LogInfo, Workers: 2})
	req := host.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "example.com"}}
	resp := host.Headers{{":status", "200"}}
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(atomicAdd(&n))
		vm := p.Worker(i % 2)
		for pb.Next() {
			s := vm.NewHTTPStream(host.Properties{ConnectionID: 1})
			s.RequestHeaders(req, true)
			s.ResponseHeaders(resp, true)
		}
	})
}

// BenchmarkHostAllocHeavyStream is one stream through the conformance guest
// doing allocation-heavy work in on_request_headers.
func BenchmarkHostAllocHeavyStream(b *testing.B) {
	p, _ := newPlugin(b, host.Config{LogLevel: host.LogInfo})
	vm := p.Worker(0)
	req := reqHeaders("alloc")
	resp := host.Headers{{":status", "200"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := vm.NewHTTPStream(host.Properties{ConnectionID: 1})
		s.RequestHeaders(req, true)
		s.ResponseHeaders(resp, true)
	}
}

// TestLoad_MillionCallbacks pushes 1,000,002 guest callbacks (six per
// stream, allocation-heavy request headers) through the envoy-1.33 profile
// and checks that nothing traps and linear memory stops growing.
// Run with: go test ./host -run Load -v -args -host.load
func TestLoad_MillionCallbacks(t *testing.T) {
	if !*loadTest {
		t.Skip("enable with -host.load")
	}
	p, _ := newPlugin(t, host.Config{LogLevel: host.LogInfo, Profile: host.Envoy133})
	vm := p.Worker(0)
	req := reqHeaders("alloc")
	resp := host.Headers{{":status", "200"}}
	const streams = 166667 // × 6 callbacks
	var sizes []uint32
	for i := 0; i < streams; i++ {
		s := vm.NewHTTPStream(host.Properties{ConnectionID: 1})
		s.RequestHeaders(req, true)
		s.ResponseHeaders(resp, true)
		if i%(streams/10) == 0 || i == streams-1 {
			if err := vm.Err(); err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			sizes = append(sizes, vm.MemorySize())
		}
		if i == 0 {
			if v, _ := s.Upstream().Headers.Get("x-alloc"); v == "" {
				t.Fatal("the guest did not run the allocating action")
			}
		}
	}
	t.Logf("linear memory (bytes) at each 10%%: %v", sizes)
	if err := vm.Err(); err != nil {
		t.Fatal(err)
	}
	warm := sizes[1]
	if last := sizes[len(sizes)-1]; last > warm+warm/4 {
		t.Fatalf("linear memory grew from %d (after 10%%) to %d", warm, last)
	}
}
