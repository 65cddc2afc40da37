//go:build !wasm

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func respond(status int, body string) func(map[string]any) (int, string) {
	return func(map[string]any) (int, string) { return status, body }
}

// TestHTTP_DenyPaths drives every way an HTTPS publish is refused through the real .wasm: the
// exact status and body, the logged reason, and how often the authorizer was called.
func TestHTTP_DenyPaths(t *testing.T) {
	const tok = "device-token-1"
	good := sign(testKey, tok)
	long := strings.Repeat("t", 6145)
	cases := []struct {
		name    string
		mutate  func(map[string]any)
		headers host.Headers
		props   *host.Properties
		answer  func(map[string]any) (int, string)
		reason  string
		details string // substring of the logged details
		hits    int64
	}{
		{name: "host not a data endpoint", headers: replace(publishHeaders("device/1", tok, good), ":authority", "evil.example.com"),
			reason: "DATA_ENDPOINT_MISMATCH", details: `Host "evil.example.com"`},
		{name: "sni not a data endpoint", headers: publishHeaders("device/1", tok, good),
			props: &host.Properties{SNI: "other.example.com", SourceAddress: "203.0.113.7:1"}, reason: "DATA_ENDPOINT_MISMATCH", details: `SNI "other.example.com"`},
		{name: "unknown authorizer", headers: publishHeaders("device/1", tok, good, "x-amz-customauthorizer-name", "nope"),
			reason: "AUTHORIZER_NOT_FOUND", details: `"nope"`},
		{name: "no default authorizer", mutate: func(c map[string]any) { delete(c, "defaultAuthorizerName") },
			headers: publishHeaders("device/1", tok, good), reason: "AUTHORIZER_NOT_FOUND"},
		{name: "inactive authorizer", headers: publishHeaders("device/1", tok, good, "x-amz-customauthorizer-name", "off"),
			reason: "AUTHORIZER_INACTIVE"},
		{name: "token missing", headers: remove(publishHeaders("device/1", tok, good), "x-device-token"), reason: "TOKEN_MISSING"},
		{name: "token too long", headers: publishHeaders("device/1", long, sign(testKey, long)), reason: "TOKEN_TOO_LONG", details: "6145 bytes"},
		{name: "signature missing", headers: remove(publishHeaders("device/1", tok, good), "x-amz-customauthorizer-signature"), reason: "SIGNATURE_MISSING"},
		{name: "signature by another key", headers: publishHeaders("device/1", tok, sign(otherKey, tok)), reason: "SIGNATURE_INVALID"},
		{name: "signature for another token", headers: publishHeaders("device/1", tok, sign(testKey, "other")), reason: "SIGNATURE_INVALID"},
		{name: "signature not base64", headers: publishHeaders("device/1", tok, "!!!not-base64!!!"), reason: "SIGNATURE_INVALID"},
		{name: "signature too long", headers: publishHeaders("device/1", tok, strings.Repeat("A", 2564)), reason: "SIGNATURE_INVALID"},
		{name: "GET on topics", headers: replace(publishHeaders("device/1", tok, good), ":method", "GET"), reason: "UNSUPPORTED_REQUEST"},
		{name: "other path", headers: replace(publishHeaders("device/1", tok, good), ":path", "/things/x"), reason: "UNSUPPORTED_REQUEST"},
		{name: "qos 2", headers: replace(publishHeaders("device/1", tok, good), ":path", "/topics/device%2F1?qos=2"), reason: "UNSUPPORTED_REQUEST", details: "qos"},
		{name: "retain not a bool", headers: replace(publishHeaders("device/1", tok, good), ":path", "/topics/device%2F1?retain=yes"), reason: "UNSUPPORTED_REQUEST", details: "retain"},
		{name: "bad topic escape", headers: replace(publishHeaders("device/1", tok, good), ":path", "/topics/a%zz"), reason: "UNSUPPORTED_REQUEST"},
		{name: "unknown cluster", mutate: func(c map[string]any) {
			authorizerFirst(c)["authorizerFunction"].(map[string]any)["cluster"] = "nowhere"
		}, headers: publishHeaders("device/1", tok, good), reason: "AUTHORIZER_CALL_FAILED", details: `"nowhere"`},
		{name: "authorizer 500", headers: publishHeaders("device/1", tok, good), answer: respond(500, "boom"),
			reason: "AUTHORIZER_CALL_FAILED", details: "HTTP 500", hits: 1},
		{name: "authorizer reset", headers: publishHeaders("device/1", tok, good), answer: respond(-1, ""),
			reason: "AUTHORIZER_CALL_FAILED", details: "status 11", hits: 1},
		{name: "invalid JSON", headers: publishHeaders("device/1", tok, good), answer: respond(200, "{not json"),
			reason: "AUTHORIZER_INVALID_RESPONSE", hits: 1},
		{name: "not authenticated", headers: publishHeaders("device/1", tok, good), answer: respond(200, `{"isAuthenticated":false}`),
			reason: "NOT_AUTHENTICATED", hits: 1},
		{name: "principalId with a dash", headers: publishHeaders("device/1", tok, good), answer: respond(200, strings.Replace(allowAll("x"), `"x"`, `"dev-1"`, 1)),
			reason: "AUTHORIZER_INVALID_RESPONSE", details: "principalId", hits: 1},
		{name: "refresh below 300", headers: publishHeaders("device/1", tok, good),
			answer: respond(200, response("d1", 299, 3600, `{"Version":"2012-10-17","Statement":[]}`)),
			reason: "AUTHORIZER_INVALID_RESPONSE", details: "refreshAfterInSeconds", hits: 1},
		{name: "disconnect above 86400", headers: publishHeaders("device/1", tok, good),
			answer: respond(200, response("d1", 300, 86401, `{"Version":"2012-10-17","Statement":[]}`)),
			reason: "AUTHORIZER_INVALID_RESPONSE", details: "disconnectAfterInSeconds", hits: 1},
		{name: "eleven policy documents", headers: publishHeaders("device/1", tok, good),
			answer: respond(200, response("d1", 300, 3600, strings.Repeat(`{"Version":"2012-10-17","Statement":[]},`, 10)+`{"Version":"2012-10-17","Statement":[]}`)),
			reason: "AUTHORIZER_INVALID_RESPONSE", details: "policyDocuments", hits: 1},
		{name: "invalid policy", headers: publishHeaders("device/1", tok, good),
			answer: respond(200, response("d1", 300, 3600, `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:Publish","Resource":"*"}]}`)),
			reason: "AUTHORIZER_INVALID_RESPONSE", details: "Effect", hits: 1},
		{name: "implicit deny", headers: publishHeaders("elsewhere/1", tok, good), answer: respond(200, devicePolicy("d1")),
			reason: "AUTHORIZATION_FAILURE", details: "iot:Publish on " + arn + "topic/elsewhere/1: IMPLICIT_DENY", hits: 1},
		{name: "explicit deny", headers: replace(publishHeaders("x", tok, good), ":path", "/topics/device%2Fsecret"), answer: respond(200, devicePolicy("d1")),
			reason: "AUTHORIZATION_FAILURE", details: "topic/device/secret: EXPLICIT_DENY", hits: 1},
		{name: "retain without RetainPublish", headers: replace(publishHeaders("x", tok, good), ":path", "/topics/device%2F1?retain=true"), answer: respond(200, devicePolicy("d1")),
			reason: "AUTHORIZATION_FAILURE", details: "iot:RetainPublish", hits: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.mutate)
			if tc.answer != nil {
				e.auth.setAnswer(tc.answer)
			}
			props := httpProps(1)
			if tc.props != nil {
				props = *tc.props
			}
			s := e.p.Worker(0).NewHTTPStream(props)
			s.RequestHeaders(tc.headers, false)
			e.settle()
			c := s.Client()
			if c.LocalReply == nil || c.LocalReply.Status != 403 {
				t.Fatalf("want a local 403, got %+v\n%s", c, e.logs())
			}
			if !traceBody.Match(c.LocalReply.Body) {
				t.Errorf("403 body = %s", c.LocalReply.Body)
			}
			if up := s.Upstream(); up.HeadersSent {
				t.Errorf("the request reached the upstream: %+v", up)
			}
			f := e.lastFailure()
			if f == nil {
				t.Fatalf("no failure line\n%s", e.logs())
			}
			if f["reason"] != tc.reason {
				t.Errorf("reason = %v, want %s (details %v)", f["reason"], tc.reason, f["details"])
			}
			if d, _ := f["details"].(string); !strings.Contains(d, tc.details) {
				t.Errorf("details = %q, want it to contain %q", d, tc.details)
			}
			if !strings.Contains(string(c.LocalReply.Body), f["traceId"].(string)) {
				t.Errorf("traceId %v of the log is not the one in the body %s", f["traceId"], c.LocalReply.Body)
			}
			if got := e.auth.hits.Load(); got != tc.hits {
				t.Errorf("authorizer hits = %d, want %d", got, tc.hits)
			}
			if e.metric("iotauthz.decisions.denied") != 1 {
				t.Errorf("decisions.denied = %d", e.metric("iotauthz.decisions.denied"))
			}
		})
	}
}

// TestHTTP_Timeout: an authorizer that does not answer within timeoutMillis denies (Envoy's 504).
func TestHTTP_Timeout(t *testing.T) {
	e := newEnv(t, nil)
	gate := make(chan struct{})
	e.auth.gate = gate
	defer close(gate)
	s := e.p.Worker(0).NewHTTPStream(httpProps(1))
	if st := s.RequestHeaders(publishHeaders("device/1", "tok", sign(testKey, "tok")), false); st != host.StopAllIteration {
		t.Fatalf("headers status = %v, want the stream paused", st)
	}
	e.clock.Advance(5 * time.Second)
	waitFor(t, e, func() bool { return s.Client().LocalReply != nil })
	if st := s.Client().LocalReply.Status; st != 403 {
		t.Fatalf("status %d", st)
	}
	f := e.lastFailure()
	if f["reason"] != "AUTHORIZER_CALL_FAILED" || !strings.Contains(f["details"].(string), "timed out after 5000 ms") {
		t.Fatalf("failure line %v", f)
	}
}

func waitFor(t *testing.T, e *env, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 10s\n%s", e.logs())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestHTTP_AllowedPublish: the request goes upstream without the credentials, in headers and in
// the query.
func TestHTTP_AllowedPublish(t *testing.T) {
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, devicePolicy("d1")))
	tok := "tok+/=1"
	sig := sign(testKey, tok)
	h := host.Headers{
		{":method", "POST"},
		{":path", "/topics/device%2F1?qos=1&x-amz-customauthorizer-signature=" + url.QueryEscape(sig) + "&x-device-token=" + url.QueryEscape(tok) + "&retain=false"},
		{":authority", "IOT.example.com:443"},
		{"x-amz-customauthorizer-name", "tokens"},
		{"user-agent", "test"},
	}
	s := e.p.Worker(1).NewHTTPStream(httpProps(7))
	s.RequestHeaders(h, false)
	e.settle()
	up := s.Upstream()
	if !up.HeadersSent || s.Client().LocalReply != nil {
		t.Fatalf("not forwarded: %+v %+v\n%s", up, s.Client(), e.logs())
	}
	if p, _ := up.Headers.Get(":path"); p != "/topics/device%2F1?qos=1&retain=false" {
		t.Errorf(":path upstream = %q", p)
	}
	if _, ok := up.Headers.Get("x-amz-customauthorizer-name"); ok {
		t.Errorf("credential header reached the upstream")
	}
	if ua, _ := up.Headers.Get("user-agent"); ua != "test" {
		t.Errorf("other headers must stay: %v", up.Headers)
	}
	if e.metric("iotauthz.decisions.allowed") != 1 || e.auth.hits.Load() != 1 {
		t.Errorf("allowed %d hits %d", e.metric("iotauthz.decisions.allowed"), e.auth.hits.Load())
	}
}

// TestHTTP_CacheOnConnection: enableCachingForHttp reuses the decision on the same downstream
// connection until refreshAfterInSeconds, and only there (AWS's behaviour).
func TestHTTP_CacheOnConnection(t *testing.T) {
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, devicePolicy("d1"))) // refresh 600 s
	tok := "tok-cache"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	send := func(conn uint64) *host.HTTPStream {
		s := e.p.Worker(0).NewHTTPStream(httpProps(conn))
		s.RequestHeaders(h, true)
		e.settle()
		if !s.Upstream().HeadersSent {
			t.Fatalf("denied\n%s", e.logs())
		}
		return s
	}
	send(1)
	send(1)
	if n := e.auth.hits.Load(); n != 1 {
		t.Fatalf("same connection: %d calls, want 1", n)
	}
	send(2)
	if n := e.auth.hits.Load(); n != 2 {
		t.Fatalf("new connection: %d calls, want 2", n)
	}
	e.clock.Advance(601 * time.Second)
	send(1)
	if n := e.auth.hits.Load(); n != 3 {
		t.Fatalf("after refreshAfterInSeconds: %d calls, want 3", n)
	}
	if e.metric("iotauthz.cache.hits") != 1 {
		t.Errorf("cache hits %d", e.metric("iotauthz.cache.hits"))
	}
}

// TestHTTP_NoCachingWithoutFlag: without enableCachingForHttp every request calls (AWS default).
func TestHTTP_NoCachingWithoutFlag(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { authorizerFirst(c)["enableCachingForHttp"] = false })
	tok := "t"
	for i := 0; i < 3; i++ {
		s := e.p.Worker(0).NewHTTPStream(httpProps(1))
		s.RequestHeaders(publishHeaders("device/1", tok, sign(testKey, tok)), true)
		e.settle()
	}
	if n := e.auth.hits.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

// TestHTTP_SingleFlight: 100 concurrent requests for one token on one connection make one call;
// all resume on the answer.
func TestHTTP_SingleFlight(t *testing.T) {
	e := newEnv(t, nil)
	gate := make(chan struct{})
	e.auth.gate = gate
	tok := "tok-sf"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	streams := make([]*host.HTTPStream, 100)
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			streams[i] = e.p.Worker(0).NewHTTPStream(httpProps(9))
			streams[i].RequestHeaders(h, true)
		}(i)
	}
	wg.Wait()
	close(gate)
	e.settle()
	if n := e.auth.hits.Load(); n != 1 {
		t.Fatalf("%d authorizer calls, want 1", n)
	}
	for i, s := range streams {
		if !s.Upstream().HeadersSent {
			t.Fatalf("stream %d not resumed\n%s", i, e.logs())
		}
	}
}

// TestHTTP_SingleFlightDenied: when the one call fails, every waiting stream is denied.
func TestHTTP_SingleFlightDenied(t *testing.T) {
	e := newEnv(t, nil)
	gate := make(chan struct{})
	e.auth.gate = gate
	e.auth.setAnswer(respond(503, "down"))
	tok := "tok-sf"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	var streams []*host.HTTPStream
	for i := 0; i < 10; i++ {
		s := e.p.Worker(1).NewHTTPStream(httpProps(9))
		s.RequestHeaders(h, true)
		streams = append(streams, s)
	}
	close(gate)
	e.settle()
	for i, s := range streams {
		if r := s.Client().LocalReply; r == nil || r.Status != 403 {
			t.Fatalf("stream %d: %+v", i, s.Client())
		}
	}
	if n := e.auth.hits.Load(); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// TestHTTP_TokenScopeAcrossVMs: with cache.scope "token", a second worker VM reuses the answer
// the first one stored in shared data: one call in all.
func TestHTTP_TokenScopeAcrossVMs(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { c["cache"].(map[string]any)["scope"] = "token" }, workers(3))
	tok := "tok-shared"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	for w := 0; w < 3; w++ {
		s := e.p.Worker(w).NewHTTPStream(httpProps(uint64(100 + w)))
		s.RequestHeaders(h, true)
		e.settle()
		if !s.Upstream().HeadersSent {
			t.Fatalf("worker %d denied\n%s", w, e.logs())
		}
	}
	if n := e.auth.hits.Load(); n != 1 {
		t.Fatalf("%d calls across 3 VMs, want 1", n)
	}
	if e.metric("iotauthz.cache.shared_hits") != 2 {
		t.Errorf("shared hits = %d, want 2", e.metric("iotauthz.cache.shared_hits"))
	}
}

// TestHTTP_StaleIfError: an expired decision stands in for a failed refresh for
// staleIfErrorSeconds, then no longer.
func TestHTTP_StaleIfError(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { c["cache"].(map[string]any)["staleIfErrorSeconds"] = 60 })
	e.auth.setAnswer(respond(200, devicePolicy("d1")))
	tok := "tok-stale"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	send := func() *host.HTTPStream {
		s := e.p.Worker(0).NewHTTPStream(httpProps(5))
		s.RequestHeaders(h, true)
		e.settle()
		return s
	}
	send()
	e.auth.setAnswer(respond(500, "down"))
	e.clock.Advance(630 * time.Second) // 30 s past the refresh
	if s := send(); !s.Upstream().HeadersSent {
		t.Fatalf("stale decision not served\n%s", e.logs())
	}
	if e.metric("iotauthz.cache.stale_served") != 1 {
		t.Errorf("stale_served = %d", e.metric("iotauthz.cache.stale_served"))
	}
	e.clock.Advance(31 * time.Second) // 61 s past
	if s := send(); s.Client().LocalReply == nil {
		t.Fatalf("stale decision served past staleIfErrorSeconds")
	}
}

// TestHTTP_BoundedCache: 100 k distinct tokens keep each VM's cache at maxEntries and its
// linear memory bounded.
func TestHTTP_BoundedCache(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	e := newEnv(t, func(c map[string]any) {
		c["cache"].(map[string]any)["scope"] = "token"
		c["cache"].(map[string]any)["maxEntries"] = 500
		authorizerFirst(c)["signingDisabled"] = true
		delete(authorizerFirst(c), "tokenSigningPublicKeys")
	}, workers(1))
	vm := e.p.Worker(0)
	before := vm.MemorySize()
	var streams []*host.HTTPStream
	for i := 0; i < 100000; i++ {
		tok := "tok-" + strconv.Itoa(i)
		s := vm.NewHTTPStream(httpProps(uint64(i)))
		s.RequestHeaders(host.Headers{{":method", "POST"}, {":path", "/topics/device%2F1"}, {":authority", "iot.example.com"}, {"x-device-token", tok}}, true)
		streams = append(streams, s)
		if len(streams) == 500 {
			e.settle()
			for _, s := range streams {
				if !s.Upstream().HeadersSent {
					t.Fatalf("request %d denied\n%s", i, e.logs())
				}
				s.Close()
			}
			streams = streams[:0]
		}
	}
	e.settle()
	if n := e.auth.hits.Load(); n != 100000 {
		t.Fatalf("%d calls, want 100000", n)
	}
	after := vm.MemorySize()
	t.Logf("linear memory: %d MiB before, %d MiB after 100 k tokens", before>>20, after>>20)
	if after > 64<<20 {
		t.Fatalf("linear memory grew to %d MiB", after>>20)
	}
}

// TestEvent_Golden compares the event the authorizer receives with testdata/events/*.json.
func TestEvent_Golden(t *testing.T) {
	tok := "golden-token"
	sig := sign(testKey, tok)
	cases := []struct {
		name    string
		headers host.Headers
	}{
		{"header_token", publishHeaders("device/1", tok, sig)},
		{"query_token", host.Headers{{":method", "POST"}, {":path", "/topics/device%2F1?qos=0&x-device-token=" + tok + "&x-amz-customauthorizer-signature=" + url.QueryEscape(sig)}, {":authority", "iot.example.com"}}},
		{"unsigned", host.Headers{{":method", "POST"}, {":path", "/topics/device%2F1"}, {":authority", "iot.example.com"}, {"x-amz-customauthorizer-name", "open"}, {"x-device-token", "anything"}}},
		{"wss_upgrade", host.Headers{{":method", "GET"}, {":path", "/mqtt?x-device-token=" + tok}, {":authority", "iot.example.com"}, {"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-protocol", "mqtt"}, {"x-amz-customauthorizer-signature", sig}}},
	}
	uuid := regexp.MustCompile(`"id":"[0-9a-f-]{36}"`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s := e.p.Worker(0).NewHTTPStream(httpProps(1))
			s.RequestHeaders(tc.headers, true)
			e.settle()
			ev := e.auth.lastEvent()
			if ev == nil {
				t.Fatalf("no call\n%s", e.logs())
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, uuid.ReplaceAll(ev, []byte(`"id":"<uuid>"`)), "", "  "); err != nil {
				t.Fatalf("event is not JSON: %v: %s", err, ev)
			}
			pretty.WriteByte('\n')
			got := strings.ReplaceAll(pretty.String(), sig, "<signature>")
			got = strings.ReplaceAll(got, url.QueryEscape(sig), "<signature>")
			path := filepath.Join("testdata", "events", tc.name+".json")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(got), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("event differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

func replace(h host.Headers, k, v string) host.Headers {
	out := h.Clone()
	for i := range out {
		if out[i][0] == k {
			out[i][1] = v
		}
	}
	return out
}

func remove(h host.Headers, k string) host.Headers {
	var out host.Headers
	for _, kv := range h {
		if kv[0] != k {
			out = append(out, kv)
		}
	}
	return out
}

// TestHTTP_CacheNeedsTheSameSignature: a cached decision is keyed by the token and its signature,
// so the same token with a forged signature is still refused without a call.
func TestHTTP_CacheNeedsTheSameSignature(t *testing.T) {
	for _, scope := range []string{"connection", "token"} {
		t.Run(scope, func(t *testing.T) {
			e := newEnv(t, func(c map[string]any) { c["cache"].(map[string]any)["scope"] = scope })
			tok := "tok-forge"
			s := e.p.Worker(0).NewHTTPStream(httpProps(4))
			s.RequestHeaders(publishHeaders("device/1", tok, sign(testKey, tok)), true)
			e.settle()
			if !s.Upstream().HeadersSent {
				t.Fatalf("first request denied\n%s", e.logs())
			}
			s = e.p.Worker(0).NewHTTPStream(httpProps(4))
			s.RequestHeaders(publishHeaders("device/1", tok, sign(otherKey, tok)), true)
			e.settle()
			if r := s.Client().LocalReply; r == nil || r.Status != 403 {
				t.Fatalf("forged signature passed on a cached token: %+v", s.Client())
			}
			if f := e.lastFailure(); f["reason"] != "SIGNATURE_INVALID" {
				t.Fatalf("%v", f)
			}
			if e.auth.hits.Load() != 1 {
				t.Fatalf("hits %d", e.auth.hits.Load())
			}
		})
	}
}

// TestHTTP_SourceIPCondition: a policy that reads aws:SourceIp gets the client's address, on a
// call and on a cache hit alike.
func TestHTTP_SourceIPCondition(t *testing.T) {
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, response("d1", 600, 3600, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`)))
	tok := "tok-ip"
	h := publishHeaders("device/1", tok, sign(testKey, tok))
	for i, tc := range []struct {
		addr string
		ok   bool
	}{{"203.0.113.7:1000", true}, {"203.0.113.7:1000", true}, {"198.51.100.1:1000", false}} {
		s := e.p.Worker(0).NewHTTPStream(host.Properties{SNI: "iot.example.com", SourceAddress: tc.addr, ConnectionID: 1})
		s.RequestHeaders(h, true)
		e.settle()
		if s.Upstream().HeadersSent != tc.ok {
			t.Fatalf("request %d from %s: forwarded=%v, want %v\n%s", i, tc.addr, s.Upstream().HeadersSent, tc.ok, e.logs())
		}
	}
	if e.auth.hits.Load() != 1 {
		t.Fatalf("hits %d: the later requests must use the connection's cached decision", e.auth.hits.Load())
	}
}

// TestHTTP_SNIPerConnection: the SNI is remembered per downstream connection (one property read
// per connection, not per request), so each connection keeps its own verdict, including a later
// connection whose id lands on the same memo slot.
func TestHTTP_SNIPerConnection(t *testing.T) {
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, devicePolicy("device1")))
	const tok = "sni-token"
	h := publishHeaders("device/device1/telemetry", tok, sign(testKey, tok))
	vm := e.p.Worker(0)
	send := func(conn uint64, sni string) bool {
		t.Helper()
		s := vm.NewHTTPStream(host.Properties{SNI: sni, SourceAddress: "203.0.113.7:1", ConnectionID: conn})
		s.RequestHeaders(h, true)
		e.settle()
		defer s.Close()
		return s.Upstream().HeadersSent
	}
	steps := []struct {
		conn    uint64
		sni     string
		allowed bool
	}{
		{1, "iot.example.com", true},
		{1, "iot.example.com", true},
		{2, "other.example.com", false},
		{1, "iot.example.com", true},
		{65, "other.example.com", false}, // same slot as connection 1 (64 slots)
		{1, "iot.example.com", true},
		{129, "IOT.Example.COM", true},
		{2, "other.example.com", false},
	}
	for i, st := range steps {
		if got := send(st.conn, st.sni); got != st.allowed {
			t.Fatalf("step %d (connection %d, SNI %s): forwarded %v, want %v\n%s", i, st.conn, st.sni, got, st.allowed, e.logs())
		}
	}
}
