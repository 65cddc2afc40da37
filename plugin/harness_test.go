//go:build !wasm

package main

// The plugin's tests run the real iotauthz.wasm inside host/ (Envoy's rules, the envoy-1.33
// profile, a virtual clock, two worker VMs) against an in-process authorizer. TestMain builds the
// module once per run.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

var (
	wasmBytes []byte
	testKey   *rsa.PrivateKey
	otherKey  *rsa.PrivateKey
	testPEM   string
)

func TestMain(m *testing.M) {
	var err error
	if wasmBytes, err = wasmbuild.Build("."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testKey = mustKey()
	otherKey = mustKey()
	der, _ := x509.MarshalPKIXPublicKey(&testKey.PublicKey)
	testPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	os.Exit(m.Run())
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// sign returns the base64 RSA-SHA256 PKCS#1 v1.5 signature of token.
func sign(k *rsa.PrivateKey, token string) string {
	h := sha256.Sum256([]byte(token))
	s, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(s)
}

// baseConfig is the plugin configuration the tests start from (DESIGN contract 1).
func baseConfig() map[string]any {
	return map[string]any{
		"region":                "us-east-1",
		"accountId":             "123456789012",
		"dataEndpoints":         []any{"iot.example.com"},
		"defaultAuthorizerName": "tokens",
		"authorizers": []any{map[string]any{
			"authorizerName":         "tokens",
			"authorizerFunction":     map[string]any{"cluster": "authorizer", "authority": "authorizer.internal", "path": "/authorize", "timeoutMillis": 5000},
			"tokenKeyName":           "x-device-token",
			"tokenSigningPublicKeys": map[string]any{"key1": testPEM},
			"status":                 "ACTIVE",
			"enableCachingForHttp":   true,
		}, map[string]any{
			"authorizerName":     "open",
			"authorizerFunction": map[string]any{"cluster": "authorizer", "path": "/authorize"},
			"tokenKeyName":       "x-device-token",
			"signingDisabled":    true,
		}, map[string]any{
			"authorizerName":         "off",
			"authorizerFunction":     map[string]any{"cluster": "authorizer", "path": "/authorize"},
			"tokenKeyName":           "x-device-token",
			"tokenSigningPublicKeys": map[string]any{"key1": testPEM},
			"status":                 "INACTIVE",
		}},
		"cache":   map[string]any{"scope": "connection", "maxEntries": 1000, "staleIfErrorSeconds": 0},
		"mqtt":    map[string]any{"denyAction": "disconnect", "maxPacketBytes": 131072, "stripCredentialsFromUsername": true},
		"logging": map[string]any{"level": "debug"},
	}
}

// authorizerFirst returns the first authorizer entry of a base configuration, to tweak.
func authorizerFirst(c map[string]any) map[string]any {
	return c["authorizers"].([]any)[0].(map[string]any)
}

// fakeAuthorizer is the authorizer service: it records every event and answers with answer.
type fakeAuthorizer struct {
	mu     sync.Mutex
	events [][]byte
	hits   atomic.Int64
	answer func(event map[string]any) (status int, body string)
	gate   chan struct{} // when non-nil, each call waits for it to be closed
}

func (a *fakeAuthorizer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.hits.Add(1)
	a.mu.Lock()
	a.events = append(a.events, body)
	answer, gate := a.answer, a.gate
	a.mu.Unlock()
	if gate != nil {
		<-gate
	}
	var ev map[string]any
	_ = json.Unmarshal(body, &ev)
	status, out := 200, allowAll("device1")
	if answer != nil {
		status, out = answer(ev)
	}
	if status == -1 {
		panic(http.ErrAbortHandler) // a reset
	}
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (a *fakeAuthorizer) lastEvent() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		return nil
	}
	return a.events[len(a.events)-1]
}

func (a *fakeAuthorizer) setAnswer(f func(map[string]any) (int, string)) {
	a.mu.Lock()
	a.answer = f
	a.mu.Unlock()
}

// response builds an authorizer answer.
func response(principal string, refresh, disconnect int, docs ...string) string {
	return fmt.Sprintf(`{"isAuthenticated":true,"principalId":%q,"refreshAfterInSeconds":%d,"disconnectAfterInSeconds":%d,"policyDocuments":[%s]}`,
		principal, refresh, disconnect, strings.Join(docs, ","))
}

const arn = "arn:aws:iot:us-east-1:123456789012:"

func allowAll(principal string) string {
	return response(principal, 600, 3600, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`)
}

// devicePolicy allows device/<id>/* publish and subscribe, denies secret/*.
func devicePolicy(principal string) string {
	return response(principal, 600, 3600, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"`+arn+`client/${iot:ClientId}"},
		{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"`+arn+`topic/device/*"},
		{"Effect":"Allow","Action":"iot:Subscribe","Resource":"`+arn+`topicfilter/device/*"},
		{"Effect":"Deny","Action":"iot:*","Resource":"`+arn+`topic/device/secret"}]}`)
}

// env is one plugin under test.
type env struct {
	t     *testing.T
	p     *host.Plugin
	clock *host.VirtualClock
	auth  *fakeAuthorizer
	cfg   []byte
}

type envOption func(*host.Config)

func workers(n int) envOption { return func(c *host.Config) { c.Workers = n } }

func newEnv(t testing.TB, mutate func(map[string]any), opts ...envOption) *env {
	t.Helper()
	return newEnvRaw(t, configJSON(t, mutate), opts...)
}

// configJSON is the test configuration (baseConfig) changed by mutate, as JSON.
func configJSON(t testing.TB, mutate func(map[string]any)) []byte {
	t.Helper()
	c := baseConfig()
	if mutate != nil {
		mutate(c)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func newEnvRaw(t testing.TB, raw []byte, opts ...envOption) *env {
	t.Helper()
	auth := &fakeAuthorizer{}
	clock := host.NewVirtualClock(time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC))
	hc := host.Config{
		Module:       wasmBytes,
		VMID:         "iotauthz",
		RootID:       "iotauthz",
		PluginName:   "iotauthz",
		PluginConfig: raw,
		Workers:      2,
		Clock:        clock,
		Clusters:     map[string]host.Cluster{"authorizer": {Handler: auth}},
		LogLevel:     host.LogTrace,
	}
	for _, o := range opts {
		o(&hc)
	}
	p, err := host.New(context.Background(), hc)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	tt, _ := t.(*testing.T)
	e := &env{t: tt, p: p, clock: clock, auth: auth, cfg: raw}
	t.Cleanup(func() { p.Close() })
	return e
}

func (e *env) settle() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.p.Settle(ctx); err != nil {
		e.t.Fatalf("settle: %v\n%s", err, e.logs())
	}
}

func (e *env) logs() string {
	var b strings.Builder
	for _, l := range e.p.Logs() {
		fmt.Fprintf(&b, "[vm %d %s] %s\n", l.Worker, l.Level, l.Message)
	}
	return b.String()
}

// decisions returns the decision log lines (JSON), parsed.
func (e *env) decisions() []map[string]any {
	var out []map[string]any
	for _, l := range e.p.Logs() {
		if !strings.HasPrefix(l.Message, `{"timestamp"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l.Message), &m); err != nil {
			e.t.Fatalf("decision line is not JSON: %v: %s", err, l.Message)
		}
		out = append(out, m)
	}
	return out
}

// lastFailure returns the last decision line with status Failure.
func (e *env) lastFailure() map[string]any {
	d := e.decisions()
	for i := len(d) - 1; i >= 0; i-- {
		if d[i]["status"] == "Failure" {
			return d[i]
		}
	}
	return nil
}

// metric reads a plugin metric after one tick: the plugin adds its locally counted hot-path
// counters (allowed decisions, cache hits) to the metrics on the tick.
func (e *env) metric(name string) int64 {
	e.clock.Advance(time.Second)
	e.settle()
	v, _ := e.p.Metric("wasmcustom." + name)
	return v
}

// httpProps are the connection facts of an HTTPS request.
func httpProps(conn uint64) host.Properties {
	return host.Properties{SNI: "iot.example.com", SourceAddress: "203.0.113.7:52311", DestinationAddress: "10.0.0.1:443", ConnectionID: conn}
}

// openHeaders is an HTTPS publish for the signing-disabled authorizer: token only.
func openHeaders(topic, token string) host.Headers {
	return host.Headers{
		{":method", "POST"},
		{":path", "/topics/" + topic + "?qos=1"},
		{":authority", "iot.example.com"},
		{":scheme", "https"},
		{"content-type", "application/json"},
		{"x-device-token", token},
	}
}

// publishHeaders is a POST /topics/{topic} with a signed token in headers.
func publishHeaders(topic, token, sig string, extra ...string) host.Headers {
	h := append(openHeaders(topic, token), [2]string{"x-amz-customauthorizer-signature", sig})
	for i := 0; i+1 < len(extra); i += 2 {
		h = append(h, [2]string{extra[i], extra[i+1]})
	}
	return h
}

var traceBody = regexp.MustCompile(`^\{"message":"Forbidden","traceId":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}$`)
