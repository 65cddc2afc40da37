package host_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

func TestNew_MissingImport(t *testing.T) {
	mod := guest(t, "missingimport")
	_, err := host.New(context.Background(), host.Config{Module: mod})
	want := "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.path_filestat_get"
	if err == nil || err.Error() != want {
		t.Fatalf("envoy-1.33: err = %v, want %q", err, want)
	}
	p, _ := newPlugin(t, host.Config{Module: mod, Profile: host.Envoy139})
	if !hasLog(p, "path_filestat_get=58") {
		t.Fatalf("envoy-1.39: path_filestat_get should answer 58 (ENOTSUP); logs %v", p.Logs())
	}
}

func TestNew_MissingABIMarker(t *testing.T) {
	mod := patch(guest(t, "conformance"), "proxy_abi_version_0_2_1", "proxy_abi_version_9_9_9")
	_, err := host.New(context.Background(), host.Config{Module: mod})
	if err == nil || err.Error() != "Missing or unknown Proxy-Wasm ABI version" {
		t.Fatalf("err = %v", err)
	}
}

func TestNew_MissingAllocator(t *testing.T) {
	mod := patch(guest(t, "conformance"), "proxy_on_memory_allocate", "proxy_on_memory_allocatX")
	_, err := host.New(context.Background(), host.Config{Module: mod})
	if err == nil || !strings.Contains(err.Error(), "proxy_on_memory_allocate") {
		t.Fatalf("err = %v", err)
	}
}

func TestNew_UnknownProfile(t *testing.T) {
	_, err := host.New(context.Background(), host.Config{Module: guest(t, "conformance"), Profile: "envoy-9"})
	if err == nil {
		t.Fatal("want an error")
	}
}

func TestNew_RestrictedInit(t *testing.T) {
	for _, tc := range []struct {
		name, init, fn string
	}{
		{"get_property", "get_property", "env.proxy_get_property"},
		{"define_metric", "define_metric", "env.proxy_define_metric"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, prof := range []host.Profile{host.Envoy133, host.Envoy139} {
				_, err := host.New(context.Background(), host.Config{
					Module: guest(t, "conformance"), Profile: prof, Env: map[string]string{"GUEST_INIT": tc.init},
				})
				if err == nil || !strings.Contains(err.Error(), "restricted_callback") || !strings.Contains(err.Error(), tc.fn) {
					t.Fatalf("%s: err = %v, want restricted_callback naming %s", prof, err, tc.fn)
				}
			}
		})
	}
	t.Run("proxy_log allowed", func(t *testing.T) {
		p, _ := newPlugin(t, host.Config{Env: map[string]string{"GUEST_INIT": "log"}})
		if !hasLog(p, "init: hello from _initialize") {
			t.Fatalf("logs %v", p.Logs())
		}
	})
}

func TestNew_ConfigureFalse(t *testing.T) {
	var calls int
	_, err := host.New(context.Background(), host.Config{
		Module: guest(t, "conformance"), PluginConfig: []byte("configure=false"),
		LogSink: func(host.LogEntry) { calls++ },
	})
	if err == nil || !strings.Contains(err.Error(), "proxy_on_configure returned false") {
		t.Fatalf("err = %v", err)
	}
	if calls == 0 {
		t.Fatal("LogSink saw nothing")
	}
}

func TestNew_StartSequence(t *testing.T) {
	p, _ := newPlugin(t, host.Config{Workers: 3, VMConfig: []byte("vmcfg"), PluginConfig: []byte("cfg=1")})
	if p.Workers() != 3 || p.ABIVersion() != "0.2.1" || p.Profile() != host.Envoy133 {
		t.Fatalf("workers %d abi %s profile %s", p.Workers(), p.ABIVersion(), p.Profile())
	}
	var got []string
	for _, e := range p.Logs() {
		if strings.HasPrefix(e.Message, "vm_start") || strings.HasPrefix(e.Message, "configure") || strings.HasPrefix(e.Message, "create") {
			got = append(got, strings.Join([]string{itoa(e.Worker), e.Message}, " "))
		}
	}
	want := []string{}
	for _, w := range []int{-1, 0, 1, 2} {
		want = append(want,
			itoa(w)+" create ctx=1 parent=0",
			itoa(w)+" vm_start vm_config=vmcfg",
			itoa(w)+" configure root=1 config=cfg=1 st=0")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("start sequence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := 0; i < 3; i++ {
		if id := p.Worker(i).RootContextID(); id != 1 {
			t.Fatalf("worker %d root id %d", i, id)
		}
	}
}

func TestPlugin_Close(t *testing.T) {
	p, err := host.New(context.Background(), host.Config{Module: guest(t, "conformance"), VMID: uniqueVMID(t)})
	if err != nil {
		t.Fatal(err)
	}
	vm := p.Worker(0)
	p.Close()
	if !hasLog(p, "done ctx=1") || !hasLog(p, "delete ctx=1") {
		t.Fatalf("root context not finished: %v", p.Logs())
	}
	if err := vm.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := vm.NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders(""), true)
	if s.Upstream().HeadersSent {
		t.Fatal("closed VM forwarded a request")
	}
	if !errors.Is(host.ErrClosed, host.ErrClosed) {
		t.Fatal()
	}
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// An ABI 0.2.0 module gets no proxy_get_log_level: importing it fails the load.
func TestNew_ABI020HasNoGetLogLevel(t *testing.T) {
	mod := patch(guest(t, "conformance"), "proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0")
	_, err := host.New(context.Background(), host.Config{Module: mod})
	if err == nil || err.Error() != "Failed to load Wasm module due to a missing import: env.proxy_get_log_level" {
		t.Fatalf("err = %v", err)
	}
}
