package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/host/gateway/lambda"
	"github.com/iotauthz/iotauthz/internal/lambdatest"
)

// lambdaARN is the authorizer function, as DescribeAuthorizer would print it.
const lambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:iot-custom-authorizer"

// lambdaPluginConfig is the demo's configuration (demostack.Config) with authorizer "tokens"
// given by authorizerFunctionArn, and decisions shared by token (so concurrent first requests
// make one invocation).
func lambdaPluginConfig(publicPEM []byte) []byte {
	cfg := demostack.Config(publicPEM, "disconnect", "info")
	a := cfg["authorizers"].([]map[string]any)[0]
	a["authorizerFunctionArn"] = lambdaARN
	a["authorizerFunction"] = map[string]any{"timeoutMillis": 4000}
	cfg["cache"] = map[string]any{"scope": "token"}
	b, _ := json.Marshal(cfg)
	return b
}

// decisionLines collects the plugin's decision log lines.
type decisionLines struct {
	mu    sync.Mutex
	lines []map[string]any
	raw   []string
}

func (d *decisionLines) sink(e host.LogEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.raw = append(d.raw, e.Level.String()+" "+e.Message)
	var m map[string]any
	if json.Unmarshal([]byte(e.Message), &m) == nil && m["eventType"] != nil {
		d.lines = append(d.lines, m)
	}
}

// find returns the decision lines of eventType for clientID.
func (d *decisionLines) find(eventType, clientID string) []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []map[string]any
	for _, m := range d.lines {
		if m["eventType"] == eventType && m["clientId"] == clientID {
			out = append(out, m)
		}
	}
	return out
}

func (d *decisionLines) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.raw, "\n")
}

// TestLambda: the tutorial's sample authorizer, a Go Lambda handler run by AWS's Runtime
// Interface Emulator, decides for devices of the embedded gateway, which invokes it through the
// AWS SDK: its answer allows a device and denies another; a function that panics denies with the
// reason in the decision log, and the function still answers after.
func TestLambda(t *testing.T) {
	emb := startEmbedded(t) // mosquitto, the certificates, the token-signing key
	emu := lambdatest.Start(t, lambdatest.ARN(t, lambdaARN), "123456789012")
	lambdatest.Isolate(t)

	var dl decisionLines
	var gwLog strings.Builder
	var gwMu sync.Mutex
	logf := func(f string, a ...any) {
		gwMu.Lock()
		defer gwMu.Unlock()
		gwLog.WriteString(strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(f, a...), "\n", " ")) + "\n")
	}
	pc := lambdaPluginConfig(emb.publicPEM)
	handlers, err := lambda.Clusters(context.Background(), pc, lambda.Options{
		Endpoint:    emu.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "e2e-secret", ""),
		Logf:        logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emb.received)
	t.Cleanup(hs.Close)
	addr := serveGateway(t, "lambda", gateway.Config{
		Module:       pluginWasm(t),
		PluginConfig: pc,
		Workers:      1,
		Handlers:     handlers,
		TLS:          pki.ServerTLS(),
		Broker:       "tcp://" + emb.broker,
		HTTPUpstream: hs.URL,
		LogLevel:     host.LogInfo,
		LogSink:      dl.sink,
		Logf:         logf,
	})

	e := emb.env
	e.addr = addr
	e.pool = pki.Pool
	e.logs = func() string {
		gwMu.Lock()
		defer gwMu.Unlock()
		return "---- plugin ----\n" + dl.String() + "\n---- gateway ----\n" + gwLog.String() + "---- emulator ----\n" + emu.Logs()
	}
	s := &sc{T: t, e: &e, id: "lambda"}

	// Allowed by the function's answer: connect, subscribe, publish, receive.
	allowTok := s.token("allow")
	c := s.mustDial(connOpts{clientID: "allowed-" + s.id}, allowTok)
	s.mustSubscribe(c, s.topic("#"))
	s.mustPublish(c, s.topic("t"), 1, "hello")
	s.receive(c, s.topic("t")+" hello")
	if got := dl.find("Connect", "allowed-"+s.id); len(got) != 1 || got[0]["status"] != "Success" || got[0]["principalId"] != "TEST123" {
		s.fatalf("Connect decision for the allowed device: %v", got)
	}

	// Denied by the function's answer (an explicit Deny policy): the CONNECT is refused.
	if _, err := s.dial(connOpts{clientID: "denied-" + s.id, username: s.username(s.token("deny"))}); err == nil {
		s.fatalf("a device the function denies connected")
	}
	if got := dl.find("Connect", "denied-"+s.id); len(got) != 1 || got[0]["status"] != "Failure" || got[0]["reason"] != "AUTHORIZATION_FAILURE" {
		s.fatalf("Connect decision for the denied device: %v", got)
	}

	// The function panics: denied, the reason in the decision log; the gateway logs the error.
	if _, err := s.dial(connOpts{clientID: "panic-" + s.id, username: s.username(s.token("panic"))}); err == nil {
		s.fatalf("connected while the function panics")
	}
	got := dl.find("Connect", "panic-"+s.id)
	if len(got) != 1 || got[0]["status"] != "Failure" || got[0]["reason"] != "AUTHORIZER_CALL_FAILED" ||
		!strings.Contains(fmt.Sprintf("%v", got[0]["details"]), "502") {
		s.fatalf("Connect decision while the function panics: %v", got)
	}
	gwMu.Lock()
	panicLogged := strings.Contains(gwLog.String(), "invocation failed, HTTP 502")
	gwMu.Unlock()
	if !panicLogged {
		s.fatalf("the gateway did not log the failed invocation")
	}

	// A payload that is not AWS's response shape: denied as an invalid response.
	if _, err := s.dial(connOpts{clientID: "shape-" + s.id, username: s.username(s.token("shape"))}); err == nil {
		s.fatalf("connected on an answer that is not AWS's response shape")
	}
	if got := dl.find("Connect", "shape-"+s.id); len(got) != 1 || got[0]["reason"] != "AUTHORIZER_INVALID_RESPONSE" {
		s.fatalf("Connect decision on a malformed answer: %v", got)
	}

	// After the panic the function answers again; HTTPS publishes are allowed by it too, and
	// concurrent first requests for one token make one invocation (single flight, token scope).
	before := len(emu.Invocations())
	httpTok := s.token("allow-http")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = s.httpsPublish(s.topic("http"), httpTok, "22.5", nil)
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			s.fatalf("HTTPS publish %d allowed by the function: %d", i, code)
		}
	}
	calls := emu.Invocations()
	n := 0
	for _, c := range calls[before:] {
		if strings.Contains(string(c.Event), `"token":"`+httpTok+`"`) {
			n++
		}
	}
	if n != 1 {
		s.fatalf("%d invocations for 8 concurrent publishes with one token, want 1", n)
	}
	for _, c := range calls {
		if c.Problem != "" {
			s.fatalf("a request that is not the Invoke call for %s: %s", lambdaARN, c.Problem)
		}
	}
}
