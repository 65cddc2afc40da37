package host_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

type seenRequest struct {
	method, path, host, from, body, cl string
}

func callHeaders(cluster string, extra ...string) host.Headers {
	h := reqHeaders("http-call", append([]string{"x-cluster", cluster, "x-path", "/authorize"}, extra...)...)
	if _, ok := h.Get("x-timeout"); !ok {
		h = append(h, [2]string{"x-timeout", "1000"})
	}
	return h
}

func TestHTTPCall_Handler(t *testing.T) {
	var mu sync.Mutex
	var seen seenRequest
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = seenRequest{r.Method, r.URL.Path, r.Host, r.Header.Get("x-from"), string(b), strconv.FormatInt(r.ContentLength, 10)}
		mu.Unlock()
		w.Header().Set("Trailer", "X-Sig")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, "allow")
		w.Header().Set("X-Sig", "s1")
	})
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"authz": {Handler: h}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	if st := s.RequestHeaders(callHeaders("authz", "x-call-body", "{\"t\":1}"), true); st != host.StopAllIteration {
		t.Fatalf("headers: %v", st)
	}
	settle(t, p)
	body := string(s.Client().Body)
	want := "cb ctx=1 root=1 token=4 nh=3 nb=5 nt=1 status=0: bodyst=0 body=allow headers=:status:200,content-length:5,content-type:application/json, trailers=x-sig:s1,"
	if body != want {
		t.Fatalf("callback summary\n got %s\nwant %s", body, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != (seenRequest{"POST", "/authorize", "authz.example", "wasm", "{\"t\":1}", "7"}) {
		t.Fatalf("upstream saw %+v", seen)
	}
}

func TestHTTPCall_UnknownCluster(t *testing.T) {
	p, s := newStream(t)
	s.RequestHeaders(callHeaders("nope"), true)
	settle(t, p)
	if b := string(s.Client().Body); b != "call-st=2" {
		t.Fatalf("body %q", b)
	}
	if hasLog(p, "cb ctx=") {
		t.Fatal("a callback followed a refused call")
	}
}

func TestHTTPCall_RequiredHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"authz": {Handler: h}}})
	for _, omit := range []string{":authority", ":path", ":method"} {
		s := p.Worker(0).NewHTTPStream(host.Properties{})
		s.RequestHeaders(callHeaders("authz", "x-omit", omit), true)
		if b := string(s.Client().Body); b != "call-st=2" {
			t.Fatalf("without %s: %q", omit, b)
		}
	}
}

func TestHTTPCall_Timeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	p, clock := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"slow": {Handler: h}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("slow", "x-timeout", "500"), true)
	clock.Advance(499 * time.Millisecond)
	if c := s.Client(); c.LocalReply != nil {
		t.Fatalf("answered before the timeout: %+v", c)
	}
	clock.Advance(time.Millisecond)
	settle(t, p)
	want := "cb ctx=1 root=1 token=4 nh=3 nb=24 nt=0 status=0: bodyst=0 body=upstream request timeout headers=:status:504,content-length:24,content-type:text/plain, trailers="
	if b := string(s.Client().Body); b != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestHTTPCall_Reset(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"authz": {Handler: h}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("authz"), true)
	settle(t, p)
	// No response: buffer 4 does not exist (NotFound), maps 6 and 7 are empty.
	want := "cb ctx=1 root=1 token=4 nh=0 nb=0 nt=0 status=11:reset bodyst=1 body= headers= trailers="
	if b := string(s.Client().Body); b != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestHTTPCall_RealURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "authz.example" || r.URL.Path != "/authorize" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Date", "x")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	p, _ := newPlugin(t, host.Config{Clock: host.RealClock(), Clusters: map[string]host.Cluster{
		"real": {URL: srv.URL}, "dead": {URL: dead},
	}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("real"), true)
	settle(t, p)
	if b := string(s.Client().Body); !strings.Contains(b, "nb=2") || !strings.Contains(b, "body=ok headers=:status:200,content-length:2,content-type:text/plain,date:x,") {
		t.Fatalf("real: %s", b)
	}
	s = p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("dead"), true)
	settle(t, p)
	if b := string(s.Client().Body); !strings.Contains(b, "headers=:status:503,") || !strings.Contains(b, "body=upstream connect error") {
		t.Fatalf("dead: %s", b)
	}
}

func TestHTTPCall_ContinueFromCallback(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "12345") })
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"authz": {Handler: h}}, Workers: 2})
	vm := p.Worker(1)
	s := vm.NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("authz", "x-on-response", "continue"), false)
	s.RequestBody([]byte("payload"), true)
	settle(t, p)
	u := s.Upstream()
	if v, _ := u.Headers.Get("x-auth"); v != "0/5" || string(u.Body) != "payload" || !u.End {
		t.Fatalf("upstream %+v", u)
	}
	// The callback went to the root context, not the stream's.
	if !hasLog(p, "cb ctx=1 root=1 token=4") {
		t.Fatalf("logs %v", logsContaining(p, "cb "))
	}
}

func TestHTTPCall_CloseFromCallback(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	p, _ := newPlugin(t, host.Config{Clusters: map[string]host.Cluster{"authz": {Handler: h}}})
	s := p.Worker(0).NewHTTPStream(host.Properties{})
	s.RequestHeaders(callHeaders("authz", "x-on-response", "close"), true)
	settle(t, p)
	if c := s.Client(); !c.Reset || c.Details != "wasm_close_stream" {
		t.Fatalf("client %+v", c)
	}
}

func httpBlock(c chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-c:
		case <-r.Context().Done():
		}
	})
}
