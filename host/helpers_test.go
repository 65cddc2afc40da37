package host_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// eachEnvoy runs f as one subtest per Envoy profile the host models, named
// after it.
func eachEnvoy(t *testing.T, f func(t *testing.T, profile host.Profile)) {
	t.Helper()
	for _, profile := range []host.Profile{host.Envoy133, host.Envoy139} {
		t.Run(string(profile), func(t *testing.T) { f(t, profile) })
	}
}

// wantLines fails t unless got is lines joined by "\n" (end them with "" for
// a final newline); what names the text in the failure.
func wantLines(t *testing.T, what, got string, lines ...string) {
	t.Helper()
	if want := strings.Join(lines, "\n"); got != want {
		t.Fatalf("%s\n got %s\nwant %s", what, got, want)
	}
}

// guest is the test guest testdata/guests/name, built once per run (wasmbuild) as the plugin is.
func guest(t testing.TB, name string) []byte {
	t.Helper()
	return wasmbuild.Module(t, "./testdata/guests/"+name)
}

// mustGuest is guest for examples.
func mustGuest(name string) []byte {
	b, err := wasmbuild.Build("./testdata/guests/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var vmSeq struct {
	sync.Mutex
	n int
}

// uniqueVMID keeps tests from sharing a shared-data store by accident.
func uniqueVMID(t testing.TB) string {
	vmSeq.Lock()
	defer vmSeq.Unlock()
	vmSeq.n++
	return fmt.Sprintf("%s-%d", t.Name(), vmSeq.n)
}

// newPlugin loads the conformance guest with a virtual clock unless cfg says
// otherwise.
// newStream is a plugin of the conformance guest with the default config
// and an HTTP stream on its first worker.
func newStream(t testing.TB) (*host.Plugin, *host.HTTPStream) {
	t.Helper()
	p, _ := newPlugin(t, host.Config{})
	return p, p.Worker(0).NewHTTPStream(host.Properties{})
}

func newPlugin(t testing.TB, cfg host.Config) (*host.Plugin, *host.VirtualClock) {
	t.Helper()

	if cfg.Module == nil {
		cfg.Module = guest(t, "conformance")
	}
	var clock *host.VirtualClock
	if cfg.Clock == nil {
		clock = host.NewVirtualClock(testStart)
		cfg.Clock = clock
	}
	if cfg.VMID == "" {
		cfg.VMID = uniqueVMID(t)
	}
	p, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p, clock
}

func settle(t testing.TB, p *host.Plugin) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Settle(ctx); err != nil {
		t.Fatalf("Settle: %v", err)
	}
}

func reqHeaders(action string, extra ...string) host.Headers {
	h := host.Headers{{":method", "GET"}, {":path", "/p?q=1"}, {":authority", "example.com"}, {":scheme", "https"}}
	if action != "" {
		h = append(h, [2]string{"x-action", action})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h = append(h, [2]string{extra[i], extra[i+1]})
	}
	return h
}

// localBody runs one request with action and returns the local reply body.
func localBody(t testing.TB, vm *host.VM, h host.Headers) string {
	t.Helper()
	s := vm.NewHTTPStream(host.Properties{SourceAddress: "10.0.0.1:1234"})
	s.RequestHeaders(h, true)
	c := s.Client()
	if c.LocalReply == nil {
		t.Fatalf("no local reply; client=%+v", c)
	}
	return string(c.Body)
}

func hasLog(p *host.Plugin, substr string) bool {
	for _, e := range p.Logs() {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func logsContaining(p *host.Plugin, substr string) []string {
	var out []string
	for _, e := range p.Logs() {
		if strings.Contains(e.Message, substr) {
			out = append(out, e.Message)
		}
	}
	return out
}

func patch(b []byte, from, to string) []byte {
	if len(from) != len(to) {
		panic("patch: lengths differ")
	}
	return bytes.ReplaceAll(b, []byte(from), []byte(to))
}

var atomicMu sync.Mutex

func atomicAdd(n *int64) int64 {
	atomicMu.Lock()
	defer atomicMu.Unlock()
	*n++
	return *n
}
