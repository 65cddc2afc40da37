package host_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

func TestSharedData_CAS(t *testing.T) {
	p, _ := newPlugin(t, host.Config{Workers: 2})
	vm0, vm1 := p.Worker(0), p.Worker(1)
	set := func(vm *host.VM, k, v string, cas uint32) string {
		return localBody(t, vm, reqHeaders("shared-set", "x-key", k, "x-value", v, "x-cas", strconv.FormatUint(uint64(cas), 10)))
	}
	get := func(vm *host.VM, k string) string {
		return localBody(t, vm, reqHeaders("shared-get", "x-key", k))
	}
	if got := get(vm0, "k"); got != "st=1 val= cas=0" {
		t.Fatalf("missing key: %s", got)
	}
	if got := set(vm0, "k", "v1", 12345); got != "st=0" {
		t.Fatalf("setting a missing key with any cas: %s", got)
	}
	_, cas, _ := p.SharedData().Get("k")
	if got := get(vm1, "k"); got != "st=0 val=v1 cas="+strconv.Itoa(int(cas)) {
		t.Fatalf("other worker reads %s", got)
	}
	if got := set(vm1, "k", "v2", cas+1); got != "st=8" {
		t.Fatalf("stale cas: %s", got)
	}
	if got := set(vm1, "k", "v2", cas); got != "st=0" {
		t.Fatalf("right cas: %s", got)
	}
	if got := set(vm0, "k", "v3", 0); got != "st=0" {
		t.Fatalf("cas 0 is unconditional: %s", got)
	}
	v, cas2, _ := p.SharedData().Get("k")
	if string(v) != "v3" || cas2 == cas || cas2 == 0 {
		t.Fatalf("value %q cas %d (was %d)", v, cas2, cas)
	}
	if err := p.SharedData().Set("k", []byte("x"), cas); err != host.ErrCasMismatch {
		t.Fatalf("Set with stale cas: %v", err)
	}
	// Another plugin with the same vm_id shares the store; another vm_id does not.
	same, _ := newPlugin(t, host.Config{VMID: pluginVMID(t, p)})
	if keys := same.SharedData().Keys(); len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("same vm_id sees %v", keys)
	}
	other, _ := newPlugin(t, host.Config{})
	if keys := other.SharedData().Keys(); len(keys) != 0 {
		t.Fatalf("other vm_id sees %v", keys)
	}
}

func pluginVMID(t *testing.T, p *host.Plugin) string {
	b := localBody(t, p.Worker(0), reqHeaders("props", "x-props", "plugin_vm_id"))
	return strings.TrimSuffix(strings.TrimPrefix(b, "plugin_vm_id=0:"), "\n")
}

// TestSharedData_Hammer runs N VMs incrementing one key with CAS loops from
// many goroutines; run it with -race.
func TestSharedData_Hammer(t *testing.T) {
	const workers, goroutines, perG = 4, 8, 40
	if testing.Short() {
		t.Skip("short")
	}
	p, _ := newPlugin(t, host.Config{Workers: workers})
	// The guest refuses a missing key rather than create it blindly: two
	// VMs that both read NotFound would both write "1" (a set on a missing
	// key succeeds whatever its cas, as in proxy-wasm-cpp-host's
	// src/shared_data.cc), losing an update about once per 100-200 runs.
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders("shared-incr"), true)
	if c := s.Client(); c.LocalReply == nil || c.Status != 500 || string(c.Body) != "hammer: get st=1" {
		t.Fatalf("unseeded key: %+v", c)
	}
	s.Close()
	if _, _, ok := p.SharedData().Get("hammer"); ok {
		t.Fatal("the guest wrote a missing key")
	}
	if err := p.SharedData().Set("hammer", []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, goroutines*perG)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				s := p.Worker((g + i) % workers).NewHTTPStream(host.Properties{})
				s.RequestHeaders(reqHeaders("shared-incr"), true)
				if c := s.Client(); c.LocalReply != nil {
					errs <- string(c.Body)
				}
				s.Close()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("increment failed: %s", e)
	}
	v, _, ok := p.SharedData().Get("hammer")
	if !ok || string(v) != strconv.Itoa(goroutines*perG) {
		t.Fatalf("hammer = %q, want %d", v, goroutines*perG)
	}
}

func TestMetrics(t *testing.T) {
	p, _ := newPlugin(t, host.Config{Workers: 2})
	got := localBody(t, p.Worker(0), reqHeaders("metric"))
	want := "c.id=8 c.def=0 c.inc5=0 c.inc0=2 c.incneg=2 c.rec3=0 c.get=0 c.val=8 c2.id=12 " +
		"g.id=5 g.dec=0 g.rec=0 g.dec3=0 g.get=0 g.val=4 h.id=6 h.rec=0 h.inc=2 h.get=2 " +
		"bad.def=2 unknown.get=1 unknown.inc=1 unknown.rec=1"
	if got != want {
		t.Fatalf("metric rules\n got %s\nwant %s", got, want)
	}
	// c1 defined twice is one stat: 5 + 3 + 1.
	if v, ok := p.Metric("wasmcustom.c1"); !ok || v != 9 {
		t.Fatalf("wasmcustom.c1 = %d, %v", v, ok)
	}
	if v, _ := p.Metric("wasmcustom.g1"); v != 4 {
		t.Fatalf("wasmcustom.g1 = %d", v)
	}
	if h, ok := p.Histogram("wasmcustom.h1"); !ok || len(h) != 1 || h[0] != 10 {
		t.Fatalf("wasmcustom.h1 = %v", h)
	}
	// Another worker shares the stats (same name, same stat).
	localBody(t, p.Worker(1), reqHeaders("metric"))
	if v, _ := p.Metric("wasmcustom.c1"); v != 18 {
		t.Fatalf("after worker 1: c1 = %d", v)
	}
	m := p.Metrics()
	if _, ok := m["wasmcustom.ticks"]; !ok || len(m) != 3 {
		t.Fatalf("Metrics() = %v", m)
	}
}

func TestProperties_HTTP(t *testing.T) {
	p, _ := newPlugin(t, host.Config{PluginName: "iot", RootID: "root-a", VMID: "vm-props"})
	s := p.Worker(0).NewHTTPStream(host.Properties{
		SNI: "device.example", SourceAddress: "10.1.2.3:4567", DestinationAddress: "[::1]:443",
		ConnectionID: 77, Extra: map[string][]byte{host.PropertyPath("connection", "tls_version"): []byte("TLSv1.3")},
	})
	paths := "connection.requested_server_name,source.address,source.port,destination.address,destination.port," +
		"connection.id,connection_id,plugin_name,plugin_root_id,plugin_vm_id,request.path,request.url_path,request.query," +
		"request.method,request.host,request.scheme,request.protocol,request.headers.x-props,connection.tls_version," +
		"request.referer,request.useragent,request.id,request.path.extra," +
		"request.nope,nope,response.code,connection.id.extra"
	s.RequestHeaders(reqHeaders("props", "x-props", paths, "referer", "https://r.example/",
		"user-agent", "ua/1", "x-request-id", "rid-1"), true)
	wantLines(t, "properties", string(s.Client().Body),
		"connection.requested_server_name=0:device.example",
		"source.address=0:10.1.2.3:4567",
		"source.port=0:0xd711000000000000",
		"destination.address=0:[::1]:443",
		"destination.port=0:0xbb01000000000000",
		"connection.id=0:0x4d00000000000000",
		"connection_id=0:0x4d00000000000000",
		"plugin_name=0:iot",
		"plugin_root_id=0:root-a",
		"plugin_vm_id=0:vm-props",
		"request.path=0:/p?q=1",
		"request.url_path=0:/p",
		"request.query=0:q=1",
		"request.method=0:GET",
		"request.host=0:example.com",
		"request.scheme=0:https",
		"request.protocol=0:HTTP/1.1",
		"request.headers.x-props=0:"+paths,
		"connection.tls_version=0:TLSv1.3",
		"request.referer=0:https://r.example/",
		"request.useragent=0:ua/1",
		"request.id=0:rid-1",
		"request.path.extra=1:",
		"request.nope=1:",
		"nope=1:",
		"response.code=1:",
		"connection.id.extra=1:",
		"",
	)
}

func TestProperties_Set(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("setprop", "x-key", "authz_decision", "x-value", "allow"), true)
	if b := string(s.Client().Body); b != "set=0 get=0 val=allow" {
		t.Fatalf("%s", b)
	}
	if v, ok := s.FilterState("authz_decision"); !ok || string(v) != "allow" {
		t.Fatalf("filter state %q %v", v, ok)
	}
}

func TestLogs(t *testing.T) {
	var mu sync.Mutex
	var sunk []host.LogEntry
	p, _ := newPlugin(t, host.Config{LogLevel: host.LogInfo, LogSink: func(e host.LogEntry) {
		mu.Lock()
		sunk = append(sunk, e)
		mu.Unlock()
	}})
	p.ResetLogs()
	got := localBody(t, p.Worker(0), reqHeaders("log"))
	if got != "level=2 bad=2" {
		t.Fatalf("%s", got)
	}
	for l := host.LogTrace; l <= host.LogCritical; l++ {
		msgs := p.LogMessages(l)
		has := false
		for _, m := range msgs {
			if m == "level "+itoa(int(l)) {
				has = true
			}
		}
		if has != (l >= host.LogInfo) {
			t.Fatalf("level %v kept=%v; messages %v", l, has, msgs)
		}
	}
	// println writes to fd 2: error level, trailing newline removed.
	if e := p.LogMessages(host.LogError); len(e) != 2 || e[1] != "to stdout via fd_write?" {
		t.Fatalf("error logs %q", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sunk) == 0 || sunk[len(sunk)-1].Worker != 0 {
		t.Fatalf("sink got %v", sunk)
	}
}

func TestWASI_Profiles(t *testing.T) {
	for _, tc := range []struct {
		profile host.Profile
		want    string
	}{
		// 1.33: ENOSYS and nevents untouched; 1.39: success, nevents 0.
		{host.Envoy133, "poll=52 nevents=77 write1=0 nw=13 write9=8"},
		{host.Envoy139, "poll=0 nevents=0 write1=0 nw=13 write9=8"},
	} {
		p, _ := newPlugin(t, host.Config{Profile: tc.profile})
		if got := localBody(t, p.Worker(0), reqHeaders("wasi")); got != tc.want {
			t.Fatalf("%s: %s, want %s", tc.profile, got, tc.want)
		}
		if m := p.LogMessages(host.LogInfo); m[len(m)-1] != "via fd_write" {
			t.Fatalf("fd 1 should log at info: %q", m)
		}
	}
}

func TestTime_VirtualClock(t *testing.T) {
	p, clock := newPlugin(t, host.Config{})
	clock.Advance(1500 * time.Millisecond)
	want := testStart.Add(1500 * time.Millisecond).UnixNano()
	got := localBody(t, p.Worker(0), reqHeaders("time"))
	if got != "now="+strconv.FormatInt(want, 10)+" go="+strconv.FormatInt(want, 10) {
		t.Fatalf("%s, want %d for both proxy_get_current_time_nanoseconds and clock_time_get", got, want)
	}
}

func TestTick_VirtualClock(t *testing.T) {
	p, clock := newPlugin(t, host.Config{Workers: 2, PluginConfig: []byte("tick=100")})
	clock.Advance(time.Second)
	if v, _ := p.Metric("wasmcustom.ticks"); v != 20 {
		t.Fatalf("ticks = %d, want 10 per worker", v)
	}
	var nows []string
	for _, m := range logsContaining(p, "tick root=1") {
		if strings.Contains(m, " n=3 ") {
			nows = append(nows, m[strings.Index(m, "now="):])
		}
	}
	want := "now=" + strconv.FormatInt(testStart.Add(300*time.Millisecond).UnixNano(), 10)
	if len(nows) != 2 || nows[0] != want || nows[1] != want {
		t.Fatalf("third tick times %v, want %s", nows, want)
	}
	// The canary's timer died with the canary.
	for _, e := range p.Logs() {
		if e.Worker == -1 && strings.HasPrefix(e.Message, "tick") {
			t.Fatalf("canary ticked: %v", e)
		}
	}
	// A stream can set the period (the root's timer), 0 disables it.
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders("tick", "x-period", "0"), true)
	clock.Advance(time.Second)
	if v, _ := p.Metric("wasmcustom.ticks"); v != 30 {
		t.Fatalf("ticks after disabling worker 0 = %d, want 30", v)
	}
}

func TestTick_StopFromTick(t *testing.T) {
	p, clock := newPlugin(t, host.Config{PluginConfig: []byte("tick=10;tickstop")})
	clock.Advance(time.Second)
	if v, _ := p.Metric("wasmcustom.ticks"); v != 3 {
		t.Fatalf("ticks = %d", v)
	}
	if clock.Pending() != 0 {
		t.Fatalf("timers still armed: %d", clock.Pending())
	}
}

func TestMalloc_Restricted(t *testing.T) {
	for _, prof := range []host.Profile{host.Envoy133, host.Envoy139} {
		p, _ := newPlugin(t, host.Config{Profile: prof})
		vm := p.Worker(0)
		s := vm.NewHTTPStream(host.Properties{})
		s.RequestHeaders(reqHeaders("malloc-allowed"), true)
		if !s.Upstream().HeadersSent || !hasLog(p, "inside malloc") {
			t.Fatalf("%s: proxy_log and clock_time_get are allowed inside malloc", prof)
		}
		s = vm.NewHTTPStream(host.Properties{})
		s.RequestHeaders(reqHeaders("malloc-restricted"), true)
		err := vm.Err()
		if err == nil || !strings.Contains(err.Error(), "restricted_callback: env.proxy_get_property is not allowed during proxy_on_memory_allocate") {
			t.Fatalf("%s: VM error %v", prof, err)
		}
		// Fail closed, as Envoy: 503 wasm_fail_stream, now and for later streams.
		for i := 0; i < 2; i++ {
			c := s.Client()
			if c.LocalReply == nil || c.Status != 503 || c.Details != "wasm_fail_stream" {
				t.Fatalf("%s: client %+v", prof, c)
			}
			s = vm.NewHTTPStream(host.Properties{})
			s.RequestHeaders(reqHeaders(""), true)
		}
	}
}

func TestFailOpen(t *testing.T) {
	p, _ := newPlugin(t, host.Config{FailOpen: true})
	vm := p.Worker(0)
	vm.NewHTTPStream(host.Properties{}).RequestHeaders(reqHeaders("malloc-restricted"), true)
	s := vm.NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders(""), true)
	if u := s.Upstream(); !u.HeadersSent || !u.End {
		t.Fatalf("fail open: %+v", u)
	}
}

func TestMisc_Statuses(t *testing.T) {
	p, _ := newPlugin(t, host.Config{VMConfig: []byte("vmc")})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders("misc"), true)
	if err := p.Worker(0).Err(); err != nil {
		t.Fatal(err)
	}
	got := string(s.Client().Body)
	want := "foreign=1 queue=0 grpc=12 done=1 callbody=1 buf9=2 plugincfg=1 vmcfg=0:vmc"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := localBody(t, p.Worker(0), reqHeaders("effective")); got != "bad=2 root=0 onroot=2 back=0" {
		t.Fatalf("effective: %s", got)
	}
}

func TestSettle_Cancelled(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"slow": {Handler: httpBlock(block)}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("slow", "x-timeout", "0"), true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Settle(ctx); err == nil {
		t.Fatal("Settle returned with a call in flight")
	}
}

// A VM that fails while an HTTP call is pending drops the call: Settle
// returns.
func TestSettle_AfterTrapWithPendingCall(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"slow": {Handler: httpBlock(block)}}})
	vm := p.Worker(0)
	vm.NewHTTPStream(host.Properties{}).RequestHeaders(callHeaders("slow", "x-timeout", "0"), true)
	vm.NewHTTPStream(host.Properties{}).RequestHeaders(reqHeaders("malloc-restricted"), true)
	if vm.Err() == nil {
		t.Fatal("VM should have failed")
	}
	settle(t, p)
}

func TestRealClock_TicksAndTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p, _ := newPlugin(t, host.Config{Clock: host.RealClock(), PluginConfig: []byte("tick=10"),
		Clusters: map[string]host.Cluster{"slow": {Handler: httpBlock(block)}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("slow", "x-timeout", "30"), true)
	settle(t, p) // returns once the real 30 ms timeout has answered
	if b := string(s.Client().Body); !strings.Contains(b, "headers=:status:504,") {
		t.Fatalf("timeout: %s", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := p.Metric("wasmcustom.ticks"); n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("real ticks did not fire")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
