//go:build !wasm

package proxywasm_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/proxytest"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/testdata/dual"
)

// The dual plugin (testdata/dual) runs once natively on proxytest and once as real wasm on
// host/; both runs must give the same outcome, so the emulator and the binding agree with
// the Envoy-faithful host.

type outcome struct {
	upstreamAuth string // x-auth as it reached the upstream
	upstreamBody string
	calloutBody  string // what the plugin sent to the authorizer
	clientStatus string
	passthrough  string // x-passthrough on the client response
	denied       string // x-denied on a local response
	requests     int64  // dual_requests counter
	shared       string // shared data "last"
	configLog    bool
	l4Upstream   string
	l4Paused     bool // the first, incomplete line was held
	l4Closed     string
	l4AfterClose string // upstream bytes after "quit"
}

const dualConfig = `{"k":1}`

var dualRequest = [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "gw.example"}}

func runNative(t *testing.T, scenario string) outcome {
	e := proxytest.New(proxytest.Options{VMContext: &dual.VM{}, PluginConfig: []byte(dualConfig)})
	defer e.Close()
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	var o outcome
	s := e.NewHTTPStream(map[string]string{"source.address": "10.1.2.3:4567"})
	s.RequestHeaders(dualRequest, false)
	s.RequestBody([]byte("ab"), false)
	s.RequestBody([]byte("c"), true)
	calls := e.PendingCalls()
	if len(calls) != 1 {
		t.Fatalf("calls %v", calls)
	}
	o.calloutBody = string(calls[0].Body)
	switch scenario {
	case "allow":
		e.Respond(calls[0].ID, [][2]string{{":status", "200"}}, []byte("principal-1"))
		s.ResponseHeaders([][2]string{{":status", "204"}}, true)
	case "deny":
		e.Respond(calls[0].ID, [][2]string{{":status", "401"}}, nil)
	case "reset":
		e.RespondReset(calls[0].ID)
	}
	o.upstreamAuth = s.Upstream().Header("x-auth")
	o.upstreamBody = string(s.Upstream().Body)
	o.clientStatus = s.Client().Header(":status")
	o.passthrough = s.Client().Header("x-passthrough")
	o.denied = s.Client().Header("x-denied")
	o.requests, _ = e.Metric("dual_requests")
	v, _, _ := e.SharedData("last")
	o.shared = string(v)
	for _, l := range e.LogsAt(proxywasm.LogLevelInfo) {
		o.configLog = o.configLog || l == "dual: config "+dualConfig
	}
	c := e.NewConnection(nil)
	o.l4Paused = c.DownstreamData([]byte("hel"), false) == proxywasm.ActionPause
	c.DownstreamData([]byte("lo\n"), false)
	o.l4Upstream = string(c.Upstream())
	c.DownstreamData([]byte("quit\n"), false)
	o.l4Closed, o.l4AfterClose = c.Closed(), string(c.Upstream())
	return o
}

func buildDual(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	out := filepath.Join(t.TempDir(), "dual.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./testdata/dual/cmd")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func runWasm(t *testing.T, bin []byte, scenario string) outcome {
	ctx := context.Background()
	var callout string
	authz := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		callout = string(b)
		switch scenario {
		case "deny":
			w.WriteHeader(401)
		case "reset":
			panic(http.ErrAbortHandler)
		default:
			w.Write([]byte("principal-1"))
		}
	})
	p, err := host.New(ctx, host.Config{
		Module:       bin,
		PluginConfig: []byte(dualConfig),
		Clock:        host.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Clusters:     map[string]host.Cluster{"authz": {Handler: authz}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	vm := p.Worker(0)
	var o outcome
	s := vm.NewHTTPStream(host.Properties{SourceAddress: "10.1.2.3:4567"})
	s.RequestHeaders(host.Headers(dualRequest), false)
	s.RequestBody([]byte("ab"), false)
	s.RequestBody([]byte("c"), true)
	if err := p.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	o.calloutBody = callout
	if scenario == "allow" {
		s.ResponseHeaders(host.Headers{{":status", "204"}}, true)
	}
	o.upstreamAuth, _ = s.Upstream().Headers.Get("x-auth")
	o.upstreamBody = string(s.Upstream().Body)
	c := s.Client()
	o.clientStatus, _ = c.Headers.Get(":status")
	o.passthrough, _ = c.Headers.Get("x-passthrough")
	o.denied, _ = c.Headers.Get("x-denied")
	o.requests, _ = p.Metric("wasmcustom.dual_requests")
	v, _, _ := p.SharedData().Get("last")
	o.shared = string(v)
	for _, l := range p.LogMessages(host.LogInfo) {
		o.configLog = o.configLog || l == "dual: config "+dualConfig
	}
	conn := vm.NewConnection(host.Properties{})
	o.l4Paused = conn.DownstreamData([]byte("hel"), false) != host.Continue
	conn.DownstreamData([]byte("lo\n"), false)
	o.l4Upstream = string(conn.State().ToUpstream)
	conn.DownstreamData([]byte("quit\n"), false)
	o.l4Closed, o.l4AfterClose = conn.State().CloseDetails, string(conn.State().ToUpstream)
	return o
}

func TestDual_NativeAndWasmAgree(t *testing.T) {
	common := outcome{calloutBody: "gw.example 10.1.2.3:4567", passthrough: "1", requests: 1,
		shared: "gw.example", configLog: true, l4Upstream: "HELLO\n", l4Paused: true,
		l4Closed: "wasm_downstream_close", l4AfterClose: "HELLO\nQUIT\n"}
	want := map[string]outcome{}
	o := common
	o.upstreamAuth, o.upstreamBody, o.clientStatus = "principal-1", "ABC!", "204"
	want["allow"] = o
	o = common
	o.clientStatus, o.denied = "403", "401"
	want["deny"] = o
	o = common
	o.clientStatus, o.denied = "403", "reset:11:reset"
	want["reset"] = o
	scenarios := []string{"allow", "deny", "reset"}
	for _, sc := range scenarios {
		t.Run(sc+"/native", func(t *testing.T) {
			if got := runNative(t, sc); got != want[sc] {
				t.Fatalf("got  %+v\nwant %+v", got, want[sc])
			}
		})
	}
	bin := buildDual(t)
	for _, sc := range scenarios {
		t.Run(sc+"/wasm", func(t *testing.T) {
			if got := runWasm(t, bin, sc); got != want[sc] {
				t.Fatalf("got  %+v\nwant %+v", got, want[sc])
			}
		})
	}
}

// TestPassthrough_ThroughHost runs the example plugin as real wasm on host/.
func TestPassthrough_ThroughHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	out := filepath.Join(t.TempDir(), "passthrough.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/passthrough")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, _ := os.ReadFile(out)
	ctx := context.Background()
	p, err := host.New(ctx, host.Config{Module: bin, PluginConfig: []byte("{}"), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.Worker(1).NewHTTPStream(host.Properties{})
	if st := s.RequestHeaders(host.Headers(dualRequest), true); st != host.Continue {
		t.Fatalf("request headers: %v", st)
	}
	s.ResponseHeaders(host.Headers{{":status", "200"}}, true)
	if v, _ := s.Client().Headers.Get("x-passthrough"); v != "1" {
		t.Fatalf("client headers %v", s.Client().Headers)
	}
	logs := strings.Join(p.LogMessages(host.LogInfo), "\n")
	if !strings.Contains(logs, "passthrough: configured, 2 bytes of configuration") {
		t.Fatalf("logs %q", logs)
	}
	c := p.Worker(0).NewConnection(host.Properties{})
	c.DownstreamData([]byte("x"), false)
	if got := string(c.State().ToUpstream); got != "x" {
		t.Fatalf("L4 upstream %q", got)
	}
}

// TestAllCalls_LinksOnHost instantiates the module that imports every host function of the
// binding on host/ in both Envoy profiles: every import resolves with the right type, and
// calling each one from a root context does not trap.
func TestAllCalls_LinksOnHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	out := filepath.Join(t.TempDir(), "allcalls.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./testdata/allcalls")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, _ := os.ReadFile(out)
	for _, prof := range []host.Profile{host.Envoy133, host.Envoy139} {
		p, err := host.New(context.Background(), host.Config{Module: bin, Profile: prof, PluginConfig: []byte("{}")})
		if err != nil {
			t.Fatalf("%s: %v", prof, err)
		}
		p.Close()
	}
}
