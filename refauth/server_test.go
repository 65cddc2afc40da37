package refauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testRules = `{
  "rules": [
    {"name": "refresh-deny", "match": {"token": "flip", "fromHit": 2}, "isAuthenticated": false, "principalId": "flipped"},
    {"name": "flip", "match": {"token": "flip"}, "isAuthenticated": true, "principalId": "flip"},
    {"name": "devices", "match": {"tokenPrefix": "allow-"}, "isAuthenticated": true,
     "principalId": "{{tokenSuffix}}", "refreshAfterInSeconds": 600,
     "policyDocuments": [
       {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/{{clientId}}"}]},
       "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/{{clientId}}/x\"}]}"
     ],
     "context": {"tenant": "acme", "who": "{{username}}@{{serverName}}"}},
    {"name": "userpass", "match": {"username": "alice", "password": "s3cret", "protocol": "mqtt", "signatureVerified": false},
     "isAuthenticated": true, "principalId": "alice"},
    {"name": "http-only", "match": {"protocol": "http", "header": {"X-Tenant": "blue"}, "serverName": "IOT.example.com"},
     "isAuthenticated": true, "principalId": "blue"},
    {"name": "client", "match": {"clientIdPrefix": "sensor-"}, "isAuthenticated": true, "principalId": "sensor"},
    {"name": "status", "match": {"token": "status"}, "isAuthenticated": true, "fault": {"status": 503}},
    {"name": "garbage", "match": {"token": "garbage"}, "fault": {"body": "{not json"}},
    {"name": "slow", "match": {"token": "slow"}, "isAuthenticated": true, "fault": {"delayMillis": 150}},
    {"name": "reset", "match": {"token": "reset"}, "fault": {"close": true}},
    {"name": "badrange", "match": {"token": "badrange"}, "isAuthenticated": true, "principalId": "bad-id", "refreshAfterInSeconds": 10}
  ],
  "default": {"isAuthenticated": false, "principalId": "nobody", "disconnectAfterInSeconds": 300}
}`

func post(t *testing.T, url, body string) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func TestServer_Rules(t *testing.T) {
	s := New(MustParse(testRules))
	var lines []string
	s.Log = func(l string) { lines = append(lines, l) }
	ts := httptest.NewServer(s)
	defer ts.Close()

	mqtt := `{"token":"allow-dev7","signatureVerified":true,"protocols":["tls","mqtt"],
	  "protocolData":{"tls":{"serverName":"iot.example.com"},"mqtt":{"username":"bob?x-device-token=allow-dev7","clientId":"dev\"7"}},
	  "connectionMetadata":{"id":"c1"}}`
	code, m, raw := post(t, ts.URL+"/authorize", mqtt)
	if code != 200 {
		t.Fatalf("status %d %s", code, raw)
	}
	if m["isAuthenticated"] != true || m["principalId"] != "dev7" || m["refreshAfterInSeconds"] != 600.0 || m["disconnectAfterInSeconds"] != 86400.0 {
		t.Fatalf("answer %s", raw)
	}
	docs := m["policyDocuments"].([]any)
	obj, _ := json.Marshal(docs[0])
	if !strings.Contains(string(obj), `client/dev\"7"`) {
		t.Errorf("object template not substituted and escaped: %s", obj)
	}
	str := docs[1].(string)
	var inner map[string]any
	if err := json.Unmarshal([]byte(str), &inner); err != nil || !strings.Contains(str, `topic/dev\"7/x`) {
		t.Errorf("string document broken by the template (%v): %s", err, str)
	}
	ctx := m["context"].(map[string]any)
	if ctx["tenant"] != "acme" || ctx["who"] != "bob@iot.example.com" {
		t.Errorf("context %v", ctx)
	}

	for _, tc := range []struct {
		name, event, principal string
		auth                   bool
	}{
		{"username base and password", `{"token":"","signatureVerified":false,"protocols":["tls","mqtt"],"protocolData":{"mqtt":{"username":"alice?a=b","password":"czNjcmV0"}}}`, "alice", true},
		{"wrong password", `{"token":"","signatureVerified":false,"protocols":["tls","mqtt"],"protocolData":{"mqtt":{"username":"alice","password":"eA=="}}}`, "nobody", false},
		{"signature verified excluded", `{"token":"","signatureVerified":true,"protocols":["tls","mqtt"],"protocolData":{"mqtt":{"username":"alice","password":"czNjcmV0"}}}`, "nobody", false},
		{"header case-insensitive and sni", `{"token":"t","protocols":["tls","http"],"protocolData":{"tls":{"serverName":"iot.example.com"},"http":{"headers":{"x-tenant":"blue"},"queryString":"?a=1"}}}`, "blue", true},
		{"header wrong value", `{"token":"t","protocols":["tls","http"],"protocolData":{"tls":{"serverName":"iot.example.com"},"http":{"headers":{"x-tenant":"red"}}}}`, "nobody", false},
		{"client prefix", `{"token":"t","protocols":["tls","mqtt"],"protocolData":{"mqtt":{"clientId":"sensor-1"}}}`, "sensor", true},
		{"default", `{"token":"who"}`, "nobody", false},
		{"invalid values sent as is", `{"token":"badrange"}`, "bad-id", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m, raw := post(t, ts.URL, tc.event)
			if code != 200 || m["principalId"] != tc.principal || m["isAuthenticated"] != tc.auth {
				t.Fatalf("status %d answer %s; want principal %s auth %v", code, raw, tc.principal, tc.auth)
			}
		})
	}
	if _, m, raw := post(t, ts.URL, `{"token":"badrange"}`); m["refreshAfterInSeconds"] != 10.0 {
		t.Errorf("refresh not sent as written: %s", raw)
	}
	if _, m, _ := post(t, ts.URL, `{"token":"who"}`); m["disconnectAfterInSeconds"] != 300.0 || len(m["policyDocuments"].([]any)) != 0 {
		t.Errorf("default answer %v", m)
	}

	// fromHit: the second call for the token (a refresh) gets the other answer.
	if _, m, _ := post(t, ts.URL, `{"token":"flip"}`); m["isAuthenticated"] != true {
		t.Fatalf("first flip call: %v", m)
	}
	if _, m, _ := post(t, ts.URL, `{"token":"flip"}`); m["isAuthenticated"] != false || m["principalId"] != "flipped" {
		t.Fatalf("second flip call: %v", m)
	}
	if got := s.HitsFor("flip"); got != 2 {
		t.Errorf("HitsFor(flip) = %d", got)
	}
	if s.Hits() != 13 || len(s.Events()) != 13 || s.Events()[0].ConnectionMetadata.ID != "c1" {
		t.Errorf("Hits %d, events %d", s.Hits(), len(s.Events()))
	}
	if len(lines) != 13 || !strings.Contains(lines[0], "rule devices") {
		t.Errorf("log lines %d: %q", len(lines), lines)
	}
	s.Reset()
	if s.Hits() != 0 || s.HitsFor("flip") != 0 || len(s.Events()) != 0 {
		t.Error("Reset left counters")
	}
	s.SetRules(nil)
	if _, m, _ := post(t, ts.URL, `{"token":"allow-x"}`); m["isAuthenticated"] != false || m["principalId"] != "anonymous" {
		t.Errorf("built-in default deny: %v", m)
	}
}

func TestServer_Faults(t *testing.T) {
	s := New(MustParse(testRules))
	ts := httptest.NewServer(s)
	defer ts.Close()

	code, m, _ := post(t, ts.URL, `{"token":"status"}`)
	if code != 503 || m["isAuthenticated"] != true {
		t.Errorf("status fault: %d %v", code, m)
	}
	code, _, raw := post(t, ts.URL, `{"token":"garbage"}`)
	if code != 200 || raw != "{not json" {
		t.Errorf("body fault: %d %q", code, raw)
	}
	start := time.Now()
	code, m, _ = post(t, ts.URL, `{"token":"slow"}`)
	if d := time.Since(start); code != 200 || m["isAuthenticated"] != true || d < 150*time.Millisecond {
		t.Errorf("delay fault: %d after %v", code, d)
	}
	if _, err := http.Post(ts.URL, "application/json", strings.NewReader(`{"token":"reset"}`)); err == nil {
		t.Error("close fault: the request got an answer")
	}
	// A caller that gives up ends the delay.
	c := &http.Client{Timeout: 30 * time.Millisecond}
	if _, err := c.Post(ts.URL, "application/json", strings.NewReader(`{"token":"slow"}`)); err == nil {
		t.Error("client timeout did not fire")
	}
}

func TestServer_BadRequests(t *testing.T) {
	s := New(nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, body := range []string{"", "[]", "{", `"x"`, `{"token":5}`} {
		if code, _, _ := post(t, ts.URL, body); code != 400 {
			t.Errorf("body %q: status %d, want 400", body, code)
		}
	}
	resp, err := http.Get(ts.URL + "/authorize")
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("GET: %v %v", err, resp.StatusCode)
	}
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", err, resp.StatusCode)
	}
	if s.Hits() != 6 {
		t.Errorf("Hits = %d, want 6 (healthz excluded)", s.Hits())
	}
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct{ rules, want string }{
		{`{"rules":[{"match":{"tokn":"x"}}]}`, `unknown field "tokn"`},
		{`{"rules":[{"match":{"protocol":"ws"}}]}`, `rules[0].match.protocol: "ws"`},
		{`{"rules":[{},{"match":{"token":"a","tokenPrefix":"b"}}]}`, `rules[1].match: token and tokenPrefix`},
		{`{"rules":[{"fault":{"status":42}}]}`, `rules[0].fault.status: 42`},
		{`{"rules":[{"fault":{"delayMillis":-1}}]}`, `rules[0].fault.delayMillis`},
		{`{"rules":[{"policyDocuments":[5]}]}`, `rules[0].policyDocuments[0]: must be an object or a string`},
		{`{"default":{"policyDocuments":[[]]}}`, `default.policyDocuments[0]`},
		{`{"rules":[]} {}`, `unexpected data`},
		{`{"rules":[{"context":{"a":1}}]}`, `cannot unmarshal number`},
	} {
		_, err := Parse([]byte(tc.rules))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v; want %q", tc.rules, err, tc.want)
		}
	}
}

func TestServer_EventsBounded(t *testing.T) {
	s := New(nil)
	for i := 0; i < maxEvents+5; i++ {
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{"token":"t`+strings.Repeat("x", i%3)+`"}`))
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := len(s.Events()); n != maxEvents {
		t.Fatalf("kept %d events", n)
	}
	if s.HitsFor("t") != (maxEvents+5+2)/3 {
		t.Errorf("HitsFor(t) = %d", s.HitsFor("t"))
	}
}

func TestServer_Admin(t *testing.T) {
	s := New(nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	// Off by default: /admin/ is an ordinary (counted, non-POST) request.
	if resp, _ := http.Get(ts.URL + "/admin/hits"); resp.StatusCode != 405 {
		t.Fatalf("admin reachable when off: %d", resp.StatusCode)
	}
	s.Admin = true
	s.Reset()
	put := func(body string) (int, string) {
		req, _ := http.NewRequest("PUT", ts.URL+"/admin/rules", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, msg := put(`{"rules":[{"match":{"protocol":"x"}}]}`); code != 400 || !strings.Contains(msg, "rules[0].match.protocol") {
		t.Fatalf("bad rules: %d %q", code, msg)
	}
	if code, _ := put(`{"rules":[{"match":{"token":"a"},"isAuthenticated":true,"principalId":"a"}]}`); code != 204 {
		t.Fatalf("PUT rules: %d", code)
	}
	if _, m, _ := post(t, ts.URL, `{"token":"a"}`); m["principalId"] != "a" {
		t.Fatalf("rules not applied: %v", m)
	}
	post(t, ts.URL, `{"token":"b"}`)
	get := func(path string) string {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	if got := get("/admin/hits"); got != `{"hits":2}` {
		t.Errorf("hits %s", got)
	}
	if got := get("/admin/hits?token=a"); got != `{"hits":1}` {
		t.Errorf("hits for a: %s", got)
	}
	if got := get("/admin/hits?token="); got != `{"hits":0}` {
		t.Errorf("hits for the empty token: %s", got)
	}
	if got := get("/admin/events"); !strings.Contains(got, `"token":"b"`) {
		t.Errorf("events %s", got)
	}
	if resp, _ := http.Post(ts.URL+"/admin/reset", "", nil); resp.StatusCode != 204 || s.Hits() != 0 {
		t.Errorf("reset: %d, hits %d", resp.StatusCode, s.Hits())
	}
	if got := get("/admin/events"); got != `[]` {
		t.Errorf("events after reset %s", got)
	}
}
