package host_test

import (
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

func TestHTTPStream_PassThrough(t *testing.T) {
	p, s := newStream(t)
	if st := s.RequestHeaders(reqHeaders("pass"), true); st != host.Continue {
		t.Fatalf("request headers: %v", st)
	}
	u := s.Upstream()
	if !u.HeadersSent || !u.End || len(u.Headers) != 5 {
		t.Fatalf("upstream %+v", u)
	}
	if st := s.ResponseHeaders(host.Headers{{":status", "200"}, {"content-type", "text/plain"}}, false); st != host.Continue {
		t.Fatal(st)
	}
	s.ResponseBody([]byte("hello"), true)
	c := s.Client()
	if c.Status != 200 || string(c.Body) != "hello" || !c.End || c.Reset {
		t.Fatalf("client %+v", c)
	}
	if v, _ := c.Headers.Get("x-wasm"); v != "on" {
		t.Fatalf("on_response_headers did not run: %v", c.Headers)
	}
	// The request map is gone once request headers continued (Envoy drops it): BadArgument.
	if v, _ := c.Headers.Get("x-req-map"); v != "2" {
		t.Fatalf("request map during response = %q, want 2 (BadArgument)", v)
	}
	if !s.Done() {
		t.Fatal("stream not finished after response end")
	}
	// Lifecycle: create, headers, ..., log, done, delete.
	id := itoa(int(s.ContextID()))
	var seq []string
	for _, m := range logsContaining(p, "ctx="+id) {
		seq = append(seq, strings.Fields(m)[0])
	}
	want := "create request_headers response_headers response_body log done delete"
	if strings.Join(seq, " ") != want {
		t.Fatalf("lifecycle %v, want %s", seq, want)
	}
}

func TestHTTPStream_HeaderMaps(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("headers", "x-rep", "old", "x-rep", "old2", "x-rem", "gone", "x-keep", "k"), true)
	u := s.Upstream()
	got := u.Headers
	want := host.Headers{
		{":method", "GET"}, {":path", "/p?q=1"}, {":authority", "example.com"}, {":scheme", "https"}, {":pseudo", "p"},
		{"x-action", "headers"}, {"x-keep", "k"},
		{"x-added", "a1"}, {"x-added", "a2"}, {"x-rep", "new"},
		{"x-info", "n=9 size=" + itoa(byteSize(reqHeaders("headers", "x-rep", "old", "x-rep", "old2", "x-rem", "gone", "x-keep", "k"))) + " sizest=0 missing=1"},
		{"x-maps", "bad=2 resp=2 call=2 empty=0/0"},
		{"x-callmut", "2"},
	}
	if len(got) != len(want) {
		t.Fatalf("upstream headers\n got %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("header %d: got %v want %v\nall %v", i, got[i], want[i], got)
		}
	}
}

func byteSize(h host.Headers) int {
	n := 0
	for _, p := range h {
		n += len(p[0]) + len(p[1])
	}
	return n
}

func TestHTTPStream_LocalReply(t *testing.T) {
	_, s := newStream(t)
	if st := s.RequestHeaders(reqHeaders("local"), false); st != host.StopAllIteration {
		t.Fatalf("callback result forced to stop; got %v", st)
	}
	s.RequestBody([]byte("ignored"), true)
	c := s.Client()
	lr := c.LocalReply
	if lr == nil || lr.Status != 403 || string(lr.Body) != "nope" || lr.Details != "denied_by_test" || lr.GRPCStatus != -1 {
		t.Fatalf("local reply %+v", lr)
	}
	// Envoy's order: the plugin's headers, then content-length and content-type
	// (Utility::prepareLocalReply), then what the response callback adds.
	want := host.Headers{{":status", "403"}, {"x-extra", "1"}, {"content-length", "4"}, {"content-type", "text/plain"}, {"x-wasm", "on"}, {"x-req-map", "0"}}
	if len(c.Headers) != len(want) {
		t.Fatalf("client headers %v", c.Headers)
	}
	for i := range want {
		if c.Headers[i] != want[i] {
			t.Fatalf("client headers %v, want %v", c.Headers, want)
		}
	}
	if string(c.Body) != "nope" || !c.End || c.Status != 403 {
		t.Fatalf("client %+v", c)
	}
	if u := s.Upstream(); u.HeadersSent || len(u.Body) != 0 {
		t.Fatalf("upstream got %+v", u)
	}
	if !s.Done() {
		t.Fatal("not finished")
	}
}

func TestHTTPStream_PauseHeadersContinueOnTick(t *testing.T) {
	p, clock := newPlugin(t, host.Config{PluginConfig: []byte("tick=100")})
	vm := p.Worker(0)
	s := vm.NewHTTPStream(host.Properties{})
	if st := s.RequestHeaders(reqHeaders("pause-tick"), false); st != host.StopAllIteration {
		t.Fatalf("headers: %v", st)
	}
	if st := s.RequestBody([]byte("abc"), false); st != host.StopAllIteration {
		t.Fatalf("body while stopped: %v", st)
	}
	s.RequestBody([]byte("def"), true)
	if u := s.Upstream(); u.HeadersSent || len(u.Body) > 0 {
		t.Fatalf("upstream before continue: %+v", u)
	}
	if n := len(logsContaining(p, "request_body")); n != 0 {
		t.Fatalf("body reached the filter while headers were stopped (%d)", n)
	}
	clock.Advance(100 * time.Millisecond)
	u := s.Upstream()
	if v, _ := u.Headers.Get("x-continued-by"); v != "tick" || !u.HeadersSent {
		t.Fatalf("headers not mutated before continue: %+v", u)
	}
	if string(u.Body) != "abcdef" || !u.End {
		t.Fatalf("upstream body %q end %v", u.Body, u.End)
	}
	// Envoy resumes at this filter: the held body arrives as one chunk.
	bodies := logsContaining(p, "request_body")
	if len(bodies) != 1 || !strings.Contains(bodies[0], "len=6 eos=1") {
		t.Fatalf("body callbacks %v", bodies)
	}
}

func TestHTTPStream_BodyBuffering(t *testing.T) {
	p, s := newStream(t)
	s.RequestHeaders(reqHeaders("pass", "x-body", "pause-until-end"), false)
	if st := s.RequestBody([]byte("hello "), false); st != host.StopIterationAndBuffer {
		t.Fatalf("first chunk %v", st)
	}
	if st := s.RequestBody([]byte("wor"), false); st != host.StopIterationAndBuffer {
		t.Fatalf("second chunk %v", st)
	}
	if st := s.RequestBody([]byte("ld"), true); st != host.Continue {
		t.Fatalf("last chunk %v", st)
	}
	u := s.Upstream()
	if string(u.Body) != "REPLACED:hello world" || !u.End {
		t.Fatalf("upstream body %q", u.Body)
	}
	var lens []string
	for _, m := range logsContaining(p, "request_body") {
		lens = append(lens, strings.Fields(m)[2])
	}
	if strings.Join(lens, ",") != "len=6,len=9,len=11" {
		t.Fatalf("accumulated sizes %v", lens)
	}
	if hasLog(p, "buffer status mismatch") {
		t.Fatal("proxy_get_buffer_status disagrees with the callback size")
	}
}

func TestHTTPStream_BufferEdit(t *testing.T) {
	p, s := newStream(t)
	s.RequestHeaders(reqHeaders("pass", "x-body", "edit"), false)
	s.RequestBody([]byte("abcdef"), true)
	if u := s.Upstream(); string(u.Body) != "<<cdef>>" {
		t.Fatalf("upstream body %q", u.Body)
	}
	if !hasLog(p, "edit sub=bcd r=0,0,2") {
		t.Fatalf("logs %v", logsContaining(p, "edit"))
	}
}

func TestHTTPStream_Trailers(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("pass", "x-body", "pause-once"), false)
	if st := s.RequestBody([]byte("abc"), false); st != host.StopIterationAndBuffer {
		t.Fatal(st)
	}
	if st := s.RequestTrailers(host.Headers{{"grpc-x", "1"}}); st != host.Continue {
		t.Fatal(st)
	}
	u := s.Upstream()
	if string(u.Body) != "abc" || !u.End || len(u.Trailers) != 2 {
		t.Fatalf("upstream %+v", u)
	}
	if v, _ := u.Trailers.Get("x-trailer-added"); v != "1" {
		t.Fatalf("trailers %v", u.Trailers)
	}
}

func TestHTTPStream_CloseStream(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("close"), true)
	c := s.Client()
	if !c.Reset || c.Details != "wasm_close_stream" || !s.Done() {
		t.Fatalf("client %+v", c)
	}
}

func TestHTTPStream_ContinueInsideCallback(t *testing.T) {
	_, s := newStream(t)
	// The guest mutates, continues (deferred), and answers Pause: the
	// continuation runs after the call returns.
	s.RequestHeaders(reqHeaders("continue-now"), true)
	u := s.Upstream()
	if v, _ := u.Headers.Get("x-mutated"); v != "before-continue" || !u.End {
		t.Fatalf("upstream %+v", u)
	}
}

func TestHTTPStream_ResponseBuffering(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("resp-buffer"), true)
	s.ResponseHeaders(host.Headers{{":status", "200"}}, false)
	if st := s.ResponseBody([]byte("ab"), false); st != host.StopIterationAndBuffer {
		t.Fatal(st)
	}
	if c := s.Client(); len(c.Body) != 0 {
		t.Fatalf("client got %q while buffering", c.Body)
	}
	s.ResponseBody([]byte("cd"), true)
	if c := s.Client(); string(c.Body) != "abcd" || !c.End {
		t.Fatalf("client %+v", c)
	}
}

func TestHTTPStream_WebSocket(t *testing.T) {
	_, s := newStream(t)
	s.RequestHeaders(reqHeaders("pass", "upgrade", "websocket", "connection", "Upgrade"), false)
	s.ResponseHeaders(host.Headers{{":status", "101"}, {"upgrade", "websocket"}}, false)
	frame := []byte{0x82, 0x83, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2, 'c' ^ 3}
	s.RequestBody(frame[:4], false)
	s.RequestBody(frame[4:], false)
	s.ResponseBody([]byte{0x82, 0x01, 'z'}, false)
	u, c := s.Upstream(), s.Client()
	if string(u.Body) != string(frame) || u.End || c.Status != 101 || string(c.Body) != "\x82\x01z" || c.End {
		t.Fatalf("upstream %+v client %+v", u, c)
	}
	s.Close()
	if c := s.Client(); !c.Reset || !s.Done() {
		t.Fatalf("close: %+v", c)
	}
}

type recSink struct{ events []string }

func (r *recSink) OnUpstreamHeaders(h host.Headers, eos bool) {
	r.events = append(r.events, "up-headers "+itoa(len(h))+" "+bs(eos))
}
func (r *recSink) OnUpstreamData(b []byte, eos bool) {
	r.events = append(r.events, "up-data "+string(b)+" "+bs(eos))
}
func (r *recSink) OnUpstreamTrailers(h host.Headers) { r.events = append(r.events, "up-trailers") }
func (r *recSink) OnClientHeaders(h host.Headers, eos bool) {
	v, _ := h.Get(":status")
	r.events = append(r.events, "client-headers "+v+" "+bs(eos))
}
func (r *recSink) OnClientData(b []byte, eos bool) {
	r.events = append(r.events, "client-data "+string(b)+" "+bs(eos))
}
func (r *recSink) OnClientTrailers(h host.Headers) { r.events = append(r.events, "client-trailers") }
func (r *recSink) OnLocalReply(l host.LocalReply) {
	r.events = append(r.events, "local-reply "+itoa(l.Status))
}
func (r *recSink) OnReset(d string) { r.events = append(r.events, "reset "+d) }

func bs(b bool) string {
	if b {
		return "eos"
	}
	return "-"
}

func TestHTTPStream_Sink(t *testing.T) {
	p, _ := newPlugin(t, host.Config{})
	sink := &recSink{}
	s := p.Worker(0).NewHTTPStreamSink(host.Properties{}, sink)
	s.RequestHeaders(reqHeaders("pass"), false)
	s.RequestBody([]byte("q"), true)
	s.ResponseHeaders(host.Headers{{":status", "204"}}, true)
	s2 := p.Worker(0).NewHTTPStreamSink(host.Properties{}, sink)
	s2.RequestHeaders(reqHeaders("local"), true)
	want := "up-headers 5 -|up-data q eos|client-headers 204 eos|local-reply 403|client-headers 403 -|client-data nope eos"
	if got := strings.Join(sink.events, "|"); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	if len(s.Upstream().Body) != 0 {
		t.Fatal("with a sink bodies are not recorded")
	}
}

func TestHTTPStream_AddTrailersAtEndOfBody(t *testing.T) {
	p, s := newStream(t)
	s.RequestHeaders(reqHeaders("pass", "x-body", "add-trailers"), false)
	s.RequestBody([]byte("ab"), false)
	s.RequestBody([]byte("cd"), true)
	u := s.Upstream()
	if string(u.Body) != "abcd" || !u.End {
		t.Fatalf("upstream %+v", u)
	}
	if v, _ := u.Trailers.Get("x-added-trailer"); v != "yes" || len(u.Trailers) != 1 {
		t.Fatalf("trailers %v", u.Trailers)
	}
	if !hasLog(p, "add trailer eos=0 st=2") || !hasLog(p, "add trailer eos=1 st=0") {
		t.Fatalf("logs %v", logsContaining(p, "add trailer"))
	}
}

func TestHTTPStream_BufferLimit(t *testing.T) {
	p, _ := newPlugin(t, host.Config{BufferLimit: 8})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders("pass", "x-body", "pause-until-end"), false)
	s.RequestBody([]byte("12345"), false)
	s.RequestBody([]byte("6789"), false)
	c := s.Client()
	if c.Status != 413 || string(c.Body) != "Payload Too Large" || c.Details != "request_payload_too_large" {
		t.Fatalf("client %+v", c)
	}
	if u := s.Upstream(); len(u.Body) != 0 || u.End {
		t.Fatalf("upstream %+v", u)
	}
	// A response buffered past the limit after its headers went out: reset.
	s = p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(reqHeaders("resp-buffer"), true)
	s.ResponseHeaders(host.Headers{{":status", "200"}}, false)
	s.ResponseBody([]byte("12345"), false)
	s.ResponseBody([]byte("6789"), false)
	if c := s.Client(); !c.Reset || c.Details != "response_payload_too_large" {
		t.Fatalf("client %+v", c)
	}
}
