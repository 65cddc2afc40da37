//go:build !wasm

package proxytest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	pw "github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

func start(t testing.TB, h *hooks, opts Options) *Emulator {
	t.Helper()
	opts.VMContext = &hookVM{h: h}
	e := New(opts)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmulator_Start(t *testing.T) {
	var vmCfg, plugCfg []byte
	var outside error
	h := &hooks{
		vmStart: func(n int) bool {
			vmCfg, _ = pw.GetVMConfiguration()
			return n == 2
		},
		start: func(n int) bool {
			plugCfg, _ = pw.GetPluginConfiguration()
			pw.LogInfo("configured")
			return n == 4
		},
		reqHeaders: func(uint32, int, bool) pw.Action {
			_, outside = pw.GetPluginConfiguration()
			return pw.ActionContinue
		},
	}
	e := start(t, h, Options{VMConfig: []byte("vm"), PluginConfig: []byte("conf")})
	if string(vmCfg) != "vm" || string(plugCfg) != "conf" {
		t.Fatalf("configs: %q %q", vmCfg, plugCfg)
	}
	if got := e.LogsAt(pw.LogLevelInfo); !reflect.DeepEqual(got, []string{"configured"}) {
		t.Fatalf("logs %q", got)
	}
	e.NewHTTPStream(nil).RequestHeaders(nil, true)
	if outside != pw.ErrNotFound {
		t.Fatalf("plugin configuration outside configure: %v", outside)
	}

	bad := New(Options{VMContext: &hookVM{h: h}, VMConfig: []byte("vm"), PluginConfig: []byte("x")})
	if err := bad.Start(); err == nil || !strings.Contains(err.Error(), "configure") {
		t.Fatalf("Start with a rejected configuration: %v", err)
	}
	bad.Close()
}

func TestHTTPStream_Headers(t *testing.T) {
	var got string
	var gotErr error
	h := &hooks{
		reqHeaders: func(_ uint32, n int, eos bool) pw.Action {
			got, _ = pw.GetHttpRequestHeader(":authority")
			_, gotErr = pw.GetHttpRequestHeader("missing")
			must(t, pw.ReplaceHttpRequestHeader("x-a", "2"))
			must(t, pw.AddHttpRequestHeader("X-New", "n"))
			must(t, pw.RemoveHttpRequestHeader("x-drop"))
			return pw.ActionContinue
		},
		respHeaders: func(uint32, int, bool) pw.Action {
			must(t, pw.AddHttpResponseHeader("x-passthrough", "1"))
			all, err := pw.GetHttpResponseHeaders()
			must(t, err)
			must(t, pw.SetHttpResponseHeaders(append(all, [2]string{"x-set", "s"})))
			return pw.ActionContinue
		},
	}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	req := [][2]string{{":authority", "Example.com"}, {"X-A", "1"}, {"x-a", "1b"}, {"x-drop", "d"}}
	if a := s.RequestHeaders(req, true); a != pw.ActionContinue {
		t.Fatalf("action %d", a)
	}
	if got != "Example.com" || gotErr != pw.ErrNotFound {
		t.Fatalf("header get: %q, %v", got, gotErr)
	}
	want := [][2]string{{":authority", "Example.com"}, {"x-a", "2"}, {"x-new", "n"}}
	if up := s.Upstream(); !up.HeadersSent || !up.EndStream || !reflect.DeepEqual(up.Headers, want) {
		t.Fatalf("upstream %+v", up)
	}
	s.ResponseHeaders([][2]string{{":status", "200"}}, true)
	if c := s.Client(); c.Header("x-passthrough") != "1" || c.Header("x-set") != "s" || !c.EndStream {
		t.Fatalf("client %+v", c)
	}
}

// Pausing the headers holds the body without callbacks (Envoy's StopAllIteration); the
// continue, issued from an http call response, delivers it with the accumulated size.
func TestHTTPStream_PauseHeadersThenContinueFromCallout(t *testing.T) {
	var bodySizes []int
	var bodyEOS []bool
	var status uint32
	var calloutBody string
	var stream uint32
	h := &hooks{
		reqHeaders: func(id uint32, n int, eos bool) pw.Action {
			stream = id
			_, err := pw.DispatchHttpCall("authz", [][2]string{{":method", "GET"}, {":path", "/"}},
				nil, nil, 100, nil)
			if err != pw.ErrBadArgument {
				t.Errorf("call without :authority: %v", err)
			}
			if _, err := pw.DispatchHttpCall("nope", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}, nil, nil, 0, nil); err != pw.ErrBadArgument {
				t.Errorf("unknown cluster: %v", err)
			}
			_, err = pw.DispatchHttpCall("authz",
				[][2]string{{":method", "POST"}, {":path", "/auth"}, {":authority", "authz"}},
				[]byte(`{"token":"t"}`), nil, 5000, func(nh, bs, nt int) {
					st, _, _ := pw.GetStatus()
					status = st
					b, _ := pw.GetHttpCallResponseBody(0, bs)
					calloutBody = string(b)
					if err := pw.ContinueHttpRequest(); err != pw.ErrBadArgument {
						t.Errorf("continue on the root context: %v", err)
					}
					must(t, pw.SetEffectiveContext(stream))
					must(t, pw.ReplaceHttpRequestHeader("x-principal", "p"))
					must(t, pw.ContinueHttpRequest())
				})
			must(t, err)
			return pw.ActionPause
		},
		reqBody: func(_ uint32, n int, eos bool) pw.Action {
			bodySizes = append(bodySizes, n)
			bodyEOS = append(bodyEOS, eos)
			return pw.ActionContinue
		},
	}
	e := start(t, h, Options{Clusters: []string{"authz"}})
	s := e.NewHTTPStream(nil)
	if a := s.RequestHeaders([][2]string{{":path", "/topics/a"}}, false); a != pw.ActionPause {
		t.Fatalf("headers action %d", a)
	}
	s.RequestBody([]byte("abc"), false)
	s.RequestBody([]byte("de"), true)
	if len(bodySizes) != 0 || s.Upstream().HeadersSent {
		t.Fatalf("body delivered while headers paused: %v", bodySizes)
	}
	calls := e.PendingCalls()
	if len(calls) != 1 || calls[0].Cluster != "authz" || calls[0].Header(":path") != "/auth" ||
		string(calls[0].Body) != `{"token":"t"}` || calls[0].Timeout != 5*time.Second {
		t.Fatalf("calls %+v", calls)
	}
	must(t, e.Respond(calls[0].ID, [][2]string{{":status", "200"}}, []byte("ok")))
	if status != 0 || calloutBody != "ok" {
		t.Fatalf("callout status %d body %q", status, calloutBody)
	}
	if !reflect.DeepEqual(bodySizes, []int{5}) || !reflect.DeepEqual(bodyEOS, []bool{true}) {
		t.Fatalf("body callbacks %v %v", bodySizes, bodyEOS)
	}
	up := s.Upstream()
	if up.Header("x-principal") != "p" || string(up.Body) != "abcde" || !up.EndStream {
		t.Fatalf("upstream %+v", up)
	}
	if len(e.PendingCalls()) != 0 {
		t.Fatal("call still pending")
	}
}

func TestHTTPStream_BodyPauseAccumulates(t *testing.T) {
	var sizes []int
	h := &hooks{
		reqBody: func(_ uint32, n int, eos bool) pw.Action {
			sizes = append(sizes, n)
			if !eos {
				return pw.ActionPause
			}
			b, err := pw.GetHttpRequestBody(0, n)
			must(t, err)
			must(t, pw.ReplaceHttpRequestBody([]byte(strings.ToUpper(string(b)))))
			must(t, pw.PrependHttpRequestBody([]byte("<")))
			must(t, pw.AppendHttpRequestBody([]byte(">")))
			part, _ := pw.GetHttpRequestBody(1, 2)
			if string(part) != "AB" {
				t.Errorf("partial read %q", part)
			}
			return pw.ActionContinue
		},
		respBody: func(_ uint32, n int, eos bool) pw.Action {
			b, _ := pw.GetHttpResponseBody(0, n)
			must(t, pw.ReplaceHttpResponseBody(append(b, '!')))
			return pw.ActionContinue
		},
	}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	s.RequestHeaders([][2]string{{":path", "/"}}, false)
	if a := s.RequestBody([]byte("abc"), false); a != pw.ActionPause {
		t.Fatalf("action %d", a)
	}
	s.RequestBody([]byte("def"), false)
	s.RequestBody([]byte("ghi"), true)
	if !reflect.DeepEqual(sizes, []int{3, 6, 9}) {
		t.Fatalf("sizes %v", sizes)
	}
	if up := s.Upstream(); string(up.Body) != "<ABCDEFGHI>" || !up.EndStream {
		t.Fatalf("upstream %q", up.Body)
	}
	s.ResponseHeaders([][2]string{{":status", "200"}}, false)
	s.ResponseBody([]byte("x"), false)
	s.ResponseBody([]byte("y"), true)
	if c := s.Client(); string(c.Body) != "x!y!" || !c.EndStream {
		t.Fatalf("client %q", c.Body)
	}
}

func TestHTTPStream_Trailers(t *testing.T) {
	var trailer string
	h := &hooks{
		reqBody: func(uint32, int, bool) pw.Action { return pw.ActionPause },
		reqTrailers: func(_ uint32, n int) pw.Action {
			trailer, _ = pw.GetHttpRequestTrailer("grpc-status")
			must(t, pw.AddHttpRequestTrailer("x-t", "1"))
			return pw.ActionContinue
		},
	}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	s.RequestHeaders([][2]string{{":path", "/"}}, false)
	s.RequestBody([]byte("body"), false)
	s.RequestTrailers([][2]string{{"grpc-status", "0"}})
	up := s.Upstream()
	if trailer != "0" || string(up.Body) != "body" || up.Header("x-t") != "" ||
		len(up.Trailers) != 2 || !up.EndStream {
		t.Fatalf("trailer %q upstream %+v", trailer, up)
	}
}

func TestHTTPStream_LocalResponse(t *testing.T) {
	done := 0
	var respStatus string
	h := &hooks{
		reqHeaders: func(uint32, int, bool) pw.Action {
			must(t, pw.SendHttpResponse(403, [][2]string{{"X-Reason", "policy"}}, []byte("denied"), -1))
			return pw.ActionContinue // ignored: Envoy stops the stream
		},
		respHeaders: func(uint32, int, bool) pw.Action {
			respStatus, _ = pw.GetHttpResponseHeader(":status")
			must(t, pw.AddHttpResponseHeader("x-passthrough", "1"))
			return pw.ActionContinue
		},
		httpDone: func(uint32) { done++ },
	}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	if a := s.RequestHeaders([][2]string{{":path", "/"}}, false); a != pw.ActionPause {
		t.Fatalf("action %d", a)
	}
	lr := s.LocalResponse()
	if lr == nil || lr.Status != 403 || string(lr.Body) != "denied" ||
		lr.Header("x-reason") != "policy" || lr.GRPCStatus != nil {
		t.Fatalf("local response %+v", lr)
	}
	if s.Upstream().HeadersSent {
		t.Fatal("request reached upstream")
	}
	c := s.Client()
	if respStatus != "403" || c.Header(":status") != "403" || c.Header("content-length") != "6" ||
		c.Header("x-passthrough") != "1" || string(c.Body) != "denied" || !c.EndStream {
		t.Fatalf("client %+v", c)
	}
	if !s.Finished() || done != 1 || s.WasReset() {
		t.Fatalf("finished %v done %d reset %v", s.Finished(), done, s.WasReset())
	}
	if s.RequestBody([]byte("late"), true) != pw.ActionPause || s.ResponseHeaders(nil, true) != pw.ActionPause {
		t.Fatal("data accepted after the local response")
	}
	s.Close()
	if done != 1 {
		t.Fatalf("done %d times", done)
	}
}

// Headers are readable only until they are passed on, as in Envoy.
func TestHTTPStream_HeadersGoneAfterContinue(t *testing.T) {
	var inBody error
	h := &hooks{reqBody: func(uint32, int, bool) pw.Action {
		_, inBody = pw.GetHttpRequestHeader(":path")
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	s.RequestHeaders([][2]string{{":path", "/"}}, false)
	s.RequestBody([]byte("x"), true)
	if inBody != pw.ErrNotFound {
		t.Fatalf("request headers in the body callback: %v", inBody)
	}
}

func TestHTTPStream_Reset(t *testing.T) {
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		must(t, pw.ResetHttpStream())
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	s := e.NewHTTPStream(nil)
	s.RequestHeaders(nil, true)
	if !s.WasReset() || s.Upstream().HeadersSent {
		t.Fatal("stream not reset")
	}
}

func TestHttpCall_FailureModes(t *testing.T) {
	type result struct {
		nh, bs  int
		code    uint32
		msg     string
		headers [][2]string
		err     error
	}
	var results []result
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		for i := 0; i < 3; i++ {
			_, err := pw.DispatchHttpCall("c", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}},
				nil, [][2]string{{"t", "1"}}, 0, func(nh, bs, nt int) {
					code, msg, _ := pw.GetStatus()
					hs, err := pw.GetHttpCallResponseHeaders()
					results = append(results, result{nh, bs, code, msg, hs, err})
				})
			must(t, err)
		}
		return pw.ActionPause
	}}
	e := start(t, h, Options{})
	e.NewHTTPStream(nil).RequestHeaders(nil, true)
	calls := e.PendingCalls()
	if len(calls) != 3 || calls[0].Trailers[0] != [2]string{"t", "1"} {
		t.Fatalf("calls %+v", calls)
	}
	must(t, e.RespondReset(calls[0].ID))
	must(t, e.RespondTimeout(calls[1].ID))
	must(t, e.RespondWithTrailers(calls[2].ID, [][2]string{{":status", "200"}}, nil, [][2]string{{"x", "y"}}))
	if err := e.Respond(calls[2].ID, nil, nil); err == nil {
		t.Fatal("answering twice should fail")
	}
	r := results[0]
	if r.nh != 0 || r.bs != 0 || r.code != pw.StatusBrokenConnection || r.msg != "reset" || r.err != pw.ErrNotFound {
		t.Fatalf("reset: %+v", r)
	}
	r = results[1]
	if r.code != 0 || Header(r.headers, ":status") != "504" || r.bs != len("upstream request timeout") {
		t.Fatalf("timeout: %+v", r)
	}
	if results[2].nh != 1 {
		t.Fatalf("trailers response: %+v", results[2])
	}
}

func TestConnection_PauseAccumulateContinue(t *testing.T) {
	var sizes []int
	var seen string
	var downClose []pw.PeerType
	var upClose []pw.PeerType
	done := 0
	h := &hooks{
		start: func(int) bool { return pw.SetTickPeriodMilliSeconds(1000) == nil },
		downData: func(_ uint32, n int, eos bool) pw.Action {
			sizes = append(sizes, n)
			b, _ := pw.GetDownstreamData(0, n)
			seen = string(b)
			if n < 7 {
				return pw.ActionPause
			}
			must(t, pw.ReplaceDownstreamData([]byte("HEAD")))
			must(t, pw.PrependDownstreamData([]byte("[")))
			must(t, pw.AppendDownstreamData([]byte("]")))
			return pw.ActionContinue
		},
		upData: func(_ uint32, n int, eos bool) pw.Action {
			b, _ := pw.GetUpstreamData(0, n)
			must(t, pw.ReplaceUpstreamData(append([]byte("<"), b...)))
			return pw.ActionContinue
		},
		downClose: func(_ uint32, p pw.PeerType) { downClose = append(downClose, p) },
		upClose:   func(_ uint32, p pw.PeerType) { upClose = append(upClose, p) },
		tcpDone:   func(uint32) { done++ },
	}
	e := start(t, h, Options{})
	c := e.NewConnection(map[string]string{"source.address": "10.0.0.1:5555"})
	if c.NewConnectionAction() != pw.ActionContinue {
		t.Fatal("new connection")
	}
	if a := c.DownstreamData([]byte("abc"), false); a != pw.ActionPause {
		t.Fatalf("action %d", a)
	}
	c.DownstreamData([]byte("defg"), false)
	if !reflect.DeepEqual(sizes, []int{3, 7}) || seen != "abcdefg" {
		t.Fatalf("sizes %v seen %q", sizes, seen)
	}
	if string(c.Upstream()) != "[HEAD]" {
		t.Fatalf("upstream %q", c.Upstream())
	}
	c.UpstreamData([]byte("srv"), true)
	if string(c.Client()) != "<srv" || !reflect.DeepEqual(upClose, []pw.PeerType{pw.PeerTypeUnknown}) {
		t.Fatalf("client %q upClose %v", c.Client(), upClose)
	}
	c.Close(pw.PeerTypeRemote)
	if !reflect.DeepEqual(downClose, []pw.PeerType{pw.PeerTypeRemote}) || done != 1 || !c.Finished() {
		t.Fatalf("close %v done %d", downClose, done)
	}
	if c.DownstreamData([]byte("x"), false) != pw.ActionPause {
		t.Fatal("data after close")
	}
}

// A paused connection resumed later (here from a tick) passes its buffered bytes on without
// another callback; a close from the plugin flushes, then ends the context.
func TestConnection_ContinueFromTickAndClose(t *testing.T) {
	var paused uint32
	var calls int
	var downClose []pw.PeerType
	h := &hooks{
		start: func(int) bool { return pw.SetTickPeriodMilliSeconds(100) == nil },
		tick: func() {
			if paused != 0 {
				must(t, pw.SetEffectiveContext(paused))
				must(t, pw.ContinueTcpStream())
				paused = 0
			}
		},
		downData: func(id uint32, n int, eos bool) pw.Action {
			calls++
			if calls == 1 {
				paused = id
				return pw.ActionPause
			}
			b, _ := pw.GetDownstreamData(0, n)
			if string(b) == "bye" {
				if err := pw.ContinueTcpStream(); err != nil {
					t.Error(err)
				}
				must(t, pw.CloseDownstream())
			}
			return pw.ActionContinue
		},
		upData: func(uint32, int, bool) pw.Action {
			if err := pw.CloseUpstream(); err != nil {
				t.Error(err)
			}
			return pw.ActionContinue
		},
		downClose: func(_ uint32, p pw.PeerType) { downClose = append(downClose, p) },
	}
	e := start(t, h, Options{})
	c := e.NewConnection(nil)
	c.DownstreamData([]byte("hello"), false)
	e.Advance(50 * time.Millisecond)
	if len(c.Upstream()) != 0 {
		t.Fatal("continued too early")
	}
	e.Advance(60 * time.Millisecond)
	if string(c.Upstream()) != "hello" || calls != 1 {
		t.Fatalf("upstream %q after %d callbacks", c.Upstream(), calls)
	}
	c.DownstreamData([]byte("bye"), false)
	if c.Closed() != "wasm_downstream_close" || !c.Finished() ||
		!reflect.DeepEqual(downClose, []pw.PeerType{pw.PeerTypeLocal}) {
		t.Fatalf("closed %q finished %v close %v", c.Closed(), c.Finished(), downClose)
	}
	if string(c.Upstream()) != "hellobye" { // Continue passes the data, then the close runs
		t.Fatalf("upstream after close: %q", c.Upstream())
	}

	c2 := e.NewConnection(nil)
	c2.UpstreamData([]byte("x"), false)
	if c2.Closed() != "wasm_upstream_close" || string(c2.Client()) != "x" {
		t.Fatalf("upstream close: %q %q", c2.Closed(), c2.Client())
	}
}

func TestConnection_UpstreamContinueUnimplemented(t *testing.T) {
	var err error
	h := &hooks{upData: func(uint32, int, bool) pw.Action {
		err = pw.SetEffectiveContext(1) // the root: continue_stream needs a connection
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	c := e.NewConnection(nil)
	c.UpstreamData([]byte("x"), false)
	if err != nil || string(c.Client()) != "x" {
		t.Fatalf("upstream data should pass: %v %q", err, c.Client())
	}
	// HTTP maps and bodies do not exist on a connection.
	e.cur = &c.ctxState
	if _, err := pw.GetHttpRequestHeader("a"); err != pw.ErrNotFound {
		t.Fatalf("request header on a connection: %v", err)
	}
	if err := pw.AddHttpResponseHeader("a", "b"); err != pw.ErrNotFound {
		t.Fatalf("response header on a connection: %v", err)
	}
	if _, err := pw.GetHttpRequestBody(0, 1); err != pw.ErrNotFound {
		t.Fatalf("request body on a connection: %v", err)
	}
	if _, err := pw.GetDownstreamData(0, 1); err != nil {
		t.Fatalf("downstream data: %v", err)
	}
	// proxy_continue_stream(Upstream) is Unimplemented in Envoy; the binding never sends it.
	e.cur = &c.ctxState
	if st := (*host)(e).ContinueStream(uint32(pw.StreamTypeUpstream)); st != pw.StatusUnimplemented {
		t.Fatalf("status %d", st)
	}
	e.cur = &e.root
}

func TestSharedData_CAS(t *testing.T) {
	h := &hooks{start: func(int) bool {
		if _, _, err := pw.GetSharedData("k"); err != pw.ErrNotFound {
			t.Errorf("missing key: %v", err)
		}
		must(t, pw.SetSharedData("k", []byte("v1"), 12345)) // missing key: any cas writes
		v, cas, err := pw.GetSharedData("k")
		if err != nil || string(v) != "v1" || cas == 0 {
			t.Errorf("get: %q %d %v", v, cas, err)
		}
		must(t, pw.SetSharedData("k", []byte("v2"), cas))
		if err := pw.SetSharedData("k", []byte("v3"), cas); err != pw.ErrCasMismatch {
			t.Errorf("stale cas: %v", err)
		}
		must(t, pw.SetSharedData("k", []byte("v4"), 0))
		return true
	}}
	e := start(t, h, Options{})
	v, _, _ := e.SharedData("k")
	if string(v) != "v4" {
		t.Fatalf("value %q", v)
	}
	e.SetSharedData("other", []byte("x"))
	if v, cas, ok := e.SharedData("other"); !ok || string(v) != "x" || cas == 0 {
		t.Fatal("SetSharedData")
	}
}

func TestMetrics(t *testing.T) {
	h := &hooks{start: func(int) bool {
		c, err := pw.DefineCounterMetric("requests")
		must(t, err)
		c.Increment(2)
		c.Increment(0) // BadArgument in Envoy: no effect
		c2, _ := pw.DefineCounterMetric("requests")
		c2.Increment(1)
		if v, err := c.Value(); v != 3 || err != nil {
			t.Errorf("counter %d %v", v, err)
		}
		g, _ := pw.DefineGaugeMetric("open")
		g.Set(10)
		g.Add(-3)
		if v, _ := g.Value(); v != 7 {
			t.Errorf("gauge %d", v)
		}
		hi, _ := pw.DefineHistogramMetric("latency")
		hi.Record(5)
		hi.Record(7)
		if _, err := pw.MetricCounter(hi).Value(); err != pw.ErrBadArgument {
			t.Errorf("histogram get: %v", err)
		}
		if _, err := pw.MetricCounter(999).Value(); err != pw.ErrNotFound {
			t.Errorf("unknown id: %v", err)
		}
		return true
	}}
	e := start(t, h, Options{})
	if v, ok := e.Metric("wasmcustom.requests"); !ok || v != 3 {
		t.Fatalf("requests %d %v", v, ok)
	}
	if v, _ := e.Metric("open"); v != 7 {
		t.Fatalf("open %d", v)
	}
	if got := e.Histogram("latency"); !reflect.DeepEqual(got, []uint64{5, 7}) {
		t.Fatalf("latency %v", got)
	}
	if _, ok := e.Metric("latency"); ok {
		t.Fatal("histogram as metric")
	}
}

func TestProperties(t *testing.T) {
	var sni, name, set string
	var port, connID uint64
	var missing error
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		sni, _ = pw.GetPropertyString([]string{"connection", "requested_server_name"})
		name, _ = pw.GetPropertyString([]string{"plugin_name"})
		port, _ = pw.GetPropertyUint64([]string{"source", "port"})
		_, missing = pw.GetProperty([]string{"nope"})
		must(t, pw.SetProperty([]string{"x"}, []byte("y")))
		set, _ = pw.GetPropertyString([]string{"x"})
		connID, _ = pw.GetPropertyUint64([]string{"connection", "id"})
		return pw.ActionContinue
	}}
	e := start(t, h, Options{Properties: map[string]string{"plugin_name": "iotauthz"}})
	props := map[string]string{"connection.requested_server_name": "a.example", "source.port": Uint64Property(5555)}
	s := e.NewHTTPStream(props)
	s.RequestHeaders(nil, true)
	if connID != uint64(s.ID()) {
		t.Fatalf("connection.id %d, stream %d", connID, s.ID())
	}
	if sni != "a.example" || name != "iotauthz" || port != 5555 || missing != pw.ErrNotFound || set != "y" {
		t.Fatalf("sni %q name %q port %d missing %v set %q", sni, name, port, missing, set)
	}
	if _, found := props["x"]; found {
		t.Fatal("SetProperty wrote into the caller's map")
	}
}

func TestLogsTimeTicks(t *testing.T) {
	var level pw.LogLevel
	var now int64
	ticks := 0
	h := &hooks{
		start: func(int) bool {
			level, _ = pw.GetLogLevel()
			pw.LogDebug("dropped")
			pw.LogWarn("kept")
			pw.Log(pw.LogLevelError, []byte("bytes"))
			now = pw.GetCurrentTimeNanoseconds()
			return pw.SetTickPeriodMilliSeconds(1000) == nil
		},
		tick: func() { ticks++ },
	}
	e := start(t, h, Options{LogLevel: pw.LogLevelInfo})
	if level != pw.LogLevelInfo || now != e.Now() {
		t.Fatalf("level %v now %d", level, now)
	}
	want := []LogEntry{{pw.LogLevelWarn, "kept"}, {pw.LogLevelError, "bytes"}}
	if !reflect.DeepEqual(e.Logs(), want) || e.Logs()[0].String() != "warn: kept" {
		t.Fatalf("logs %v", e.Logs())
	}
	e.ClearLogs()
	if len(e.Logs()) != 0 {
		t.Fatal("ClearLogs")
	}
	e.Advance(2500 * time.Millisecond)
	if ticks != 2 || e.Now() != now+int64(2500*time.Millisecond) {
		t.Fatalf("ticks %d", ticks)
	}
	if !e.Tick() || ticks != 3 || e.TickPeriod() != time.Second {
		t.Fatal("Tick")
	}
	e.SetNow(42)
	if e.Now() != 42 {
		t.Fatal("SetNow")
	}
	fixed := New(Options{Now: func() int64 { return 7 }})
	defer fixed.Close()
	if fixed.Now() != 7 {
		t.Fatal("Options.Now")
	}
}

func TestEffectiveContext_Unknown(t *testing.T) {
	var err error
	h := &hooks{start: func(int) bool { err = pw.SetEffectiveContext(999); return true }}
	start(t, h, Options{})
	if err != pw.ErrBadArgument {
		t.Fatalf("err %v", err)
	}
}

// TestAllocation_MillionGets reads a header a million times through the emulator, which
// allocates guest memory for each value as Envoy does, and checks nothing stays live.
func TestAllocation_MillionGets(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	var bad int
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		for i := 0; i < n; i++ {
			v, err := pw.GetHttpRequestHeader("x-key")
			if err != nil || v != "value" || LiveAllocations() != 0 {
				bad++
			}
			if _, err := pw.GetHttpRequestHeader("absent"); err != pw.ErrNotFound {
				bad++
			}
		}
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	e.NewHTTPStream(nil).RequestHeaders([][2]string{{"x-key", "value"}}, true)
	if bad != 0 || LiveAllocations() != 0 {
		t.Fatalf("%d bad reads, %d live allocations", bad, LiveAllocations())
	}
}

func TestAllocation_HeaderGetAllocatesOnlyTheString(t *testing.T) {
	var allocs float64
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		allocs = testing.AllocsPerRun(1000, func() { _, _ = pw.GetHttpRequestHeader("x-key") })
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	e.NewHTTPStream(nil).RequestHeaders([][2]string{{"x-key", "value"}}, true)
	if allocs != 1 {
		t.Fatalf("GetHttpRequestHeader: %v allocations per call, want 1", allocs)
	}
}

func TestReset_DropsBindingState(t *testing.T) {
	var got error
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		_, got = pw.DispatchHttpCall("c", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}}, nil, nil, 0,
			func(int, int, int) { t.Error("callback after Reset") })
		return pw.ActionPause
	}}
	e := start(t, h, Options{})
	e.NewHTTPStream(nil).RequestHeaders(nil, true)
	must(t, got)
	calls := e.PendingCalls()
	Reset()
	e2 := start(t, h, Options{})
	e2.calls[calls[0].ID] = calls[0]
	must(t, e2.Respond(calls[0].ID, nil, nil)) // the old root's callbacks are gone
}

// The caller's header slice is never changed by the filter (copy on write).
func TestHTTPStream_CallerHeadersUntouched(t *testing.T) {
	h := &hooks{reqHeaders: func(uint32, int, bool) pw.Action {
		must(t, pw.ReplaceHttpRequestHeader("x-a", "changed"))
		must(t, pw.AddHttpRequestHeader("x-b", "added"))
		return pw.ActionContinue
	}}
	e := start(t, h, Options{})
	req := make([][2]string, 1, 8)
	req[0] = [2]string{"x-a", "orig"}
	s := e.NewHTTPStream(nil)
	s.RequestHeaders(req, true)
	if req[0][1] != "orig" || req[:2][1] != [2]string{} {
		t.Fatalf("caller's slice changed: %q", req[:2])
	}
	if up := s.Upstream(); up.Header("x-a") != "changed" || up.Header("x-b") != "added" {
		t.Fatalf("upstream %q", up.Headers)
	}
}
