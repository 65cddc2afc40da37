package host_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// Load a plugin, send a request through its HTTP filter and read what the
// client got: here the test guest answers with a local reply.
func Example() {
	ctx := context.Background()
	p, err := host.New(ctx, host.Config{
		Module:  mustGuest("conformance"), // e.g. os.ReadFile("dist/iotauthz.wasm")
		Workers: 2,
		Clock:   host.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	s := p.Worker(0).NewHTTPStream(host.Properties{SourceAddress: "192.0.2.10:50000", SNI: "api.example"})
	st := s.RequestHeaders(host.Headers{
		{":method", "GET"}, {":path", "/"}, {":authority", "api.example"}, {"x-action", "local"},
	}, true)
	c := s.Client()
	fmt.Println(st, c.Status, string(c.Body), c.LocalReply.Details)
	fmt.Println("upstream saw headers:", s.Upstream().HeadersSent)
	// Output:
	// StopAllIterationAndWatermark 403 nope denied_by_test
	// upstream saw headers: false
}

// A plugin calls a cluster with proxy_http_call; the cluster here is an
// in-process http.Handler. Settle waits for the response to be delivered.
func Example_httpCall() {
	authz := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "allow")
	})
	p, err := host.New(context.Background(), host.Config{
		Module:   mustGuest("conformance"),
		Clusters: map[string]host.Cluster{"authz": {Handler: authz}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(host.Headers{
		{":method", "GET"}, {":path", "/"}, {":authority", "api.example"},
		{"x-action", "http-call"}, {"x-cluster", "authz"}, {"x-path", "/check"}, {"x-timeout", "5000"},
		{"x-on-response", "continue"},
	}, true)
	_ = p.Settle(context.Background())
	auth, _ := s.Upstream().Headers.Get("x-auth")
	fmt.Println("x-auth:", auth)
	// Output:
	// x-auth: 0/5
}

// An L4 connection: the test guest holds downstream bytes until it has ten,
// then frames them.
func Example_connection() {
	p, err := host.New(context.Background(), host.Config{Module: mustGuest("conformance")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	c := p.Worker(0).NewConnection(host.Properties{Extra: map[string][]byte{"l4_mode": []byte("accumulate")}})
	fmt.Println(c.DownstreamData([]byte("hello"), false))
	fmt.Println(c.DownstreamData([]byte("world"), false))
	c.Close()
	st := c.State()
	fmt.Printf("%s done=%v\n", st.ToUpstream, st.Done)
	// Output:
	// StopIteration
	// Continue
	// [helloworld] done=true
}

// Ticks follow a VirtualClock: Advance fires them, in order, before it
// returns.
func ExampleVirtualClock() {
	clock := host.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p, err := host.New(context.Background(), host.Config{
		Module: mustGuest("conformance"), Clock: clock, PluginConfig: []byte("tick=250"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	clock.Advance(time.Second)
	n, _ := p.Metric("wasmcustom.ticks")
	fmt.Println("ticks:", n)
	// Output:
	// ticks: 4
}
