package lambda_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iotauthz/iotauthz/host/gateway/lambda"
	"github.com/iotauthz/iotauthz/internal/lambdatest"
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
)

const account = "123456789012"

func newInvoker(t *testing.T, fn config.FunctionARN, endpoint string, logf func(string, ...any)) *lambda.Invoker {
	t.Helper()
	lambdatest.Isolate(t)
	iv, err := lambda.New(context.Background(), fn, lambda.Options{
		Endpoint:    endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Logf:        logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	return w
}

// TestInvoker_Emulator invokes the sample authorizer, a real aws-lambda-go handler, in the
// Runtime Interface Emulator through the SDK.
func TestInvoker_Emulator(t *testing.T) {
	fn := lambdatest.ARN(t, "arn:aws:lambda:us-east-1:"+account+":function:iot-authorizer:live")
	emu := lambdatest.Start(t, fn, account)
	var lg logs
	iv := newInvoker(t, fn, emu.URL, lg.logf)
	lim := authorizer.Limits{MinInterval: 300, MaxInterval: 86400}

	for _, tc := range []struct {
		token, effect string
	}{{"allow-dev1", "Allow"}, {"deny-dev2", "Deny"}} {
		w := post(iv, `{"token":"`+tc.token+`","signatureVerified":true,"protocols":["tls","mqtt"]}`)
		if w.Code != 200 {
			t.Fatalf("%s: status %d %s\n%s", tc.token, w.Code, w.Body, emu.Logs())
		}
		r, err := authorizer.ParseResponse(w.Body.Bytes(), lim)
		if err != nil {
			t.Fatalf("%s: the function's answer is not AWS's response shape: %v\n%s", tc.token, err, w.Body)
		}
		if !r.IsAuthenticated || r.PrincipalID != "TEST123" || len(r.PolicyDocuments) != 1 ||
			!bytes.Contains(r.PolicyDocuments[0], []byte(`"Effect":"`+tc.effect+`"`)) ||
			!bytes.Contains(r.PolicyDocuments[0], []byte("arn:aws:iot:us-east-1:"+account+":client/*")) {
			t.Fatalf("%s: %+v %s", tc.token, r, r.PolicyDocuments)
		}
	}

	// A payload that is not AWS's response shape passes through: the plugin refuses it.
	w := post(iv, `{"token":"shape"}`)
	if w.Code != 200 {
		t.Fatalf("shape: %d %s", w.Code, w.Body)
	}
	if _, err := authorizer.ParseResponse(w.Body.Bytes(), lim); err == nil {
		t.Fatalf("shape: %s parsed as a response", w.Body)
	}

	// A panic: the emulator answers 502 with the error object (Runtime.ExitError).
	w = post(iv, `{"token":"panic-now"}`)
	if w.Code != http.StatusBadGateway {
		t.Fatalf("panic: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(lg.String(), "invocation failed, HTTP 502") {
		t.Fatalf("no log line for the panic:\n%s", lg.String())
	}

	// The emulator restarts the function; the next call is answered.
	if w := post(iv, `{"token":"allow"}`); w.Code != 200 {
		t.Fatalf("after the panic: %d %s\n%s", w.Code, w.Body, emu.Logs())
	}

	calls := emu.Invocations()
	if len(calls) != 5 {
		t.Fatalf("%d invocations, want 5", len(calls))
	}
	for _, c := range calls {
		if c.Problem != "" {
			t.Fatalf("not the Invoke call expected: %s", c.Problem)
		}
	}
	if c := calls[0]; c.Function != fn.String() || !bytes.Contains(c.Event, []byte(`"token":"allow-dev1"`)) {
		t.Fatalf("first call: function %q, event %s", c.Function, c.Event)
	}
}

// lambdaAPI is a stand-in for Lambda's Invoke API answering as the API documents, for the
// answers the emulator cannot give (throttles, service errors, X-Amz-Function-Error).
func lambdaAPI(t *testing.T, h http.HandlerFunc) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestInvoker_Failures(t *testing.T) {
	fn := lambdatest.ARN(t, "arn:aws:lambda:eu-west-1:"+account+":function:authz")
	tests := []struct {
		name   string
		api    http.HandlerFunc
		status int
		header string
		logHas string
	}{
		{name: "unhandled function error", api: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.Header().Set("X-Amz-Executed-Version", "$LATEST")
			w.WriteHeader(200)
			io.WriteString(w, `{"errorMessage":"token expired","errorType":"errorString"}`)
		}, status: 502, header: "Unhandled", logHas: "function error (Unhandled), HTTP 502 to the plugin: errorString: token expired"},
		{name: "function error, odd payload", api: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			io.WriteString(w, `[1,2]`)
		}, status: 502, header: "Unhandled", logHas: "(5 bytes, not a Lambda error object)"},
		{name: "throttled", api: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`)
		}, status: 429, logHas: "throttled"},
		{name: "access denied", api: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
			w.WriteHeader(403)
			io.WriteString(w, `{"Message":"User is not authorized to perform: lambda:InvokeFunction"}`)
		}, status: 403, logHas: "lambda:InvokeFunction"},
		{name: "service error", api: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amzn-ErrorType", "ServiceException")
			w.WriteHeader(500)
			io.WriteString(w, `{"message":"internal"}`)
		}, status: 500, logHas: "HTTP 500"},
		{name: "oversized answer", api: func(w http.ResponseWriter, r *http.Request) {
			w.Write(bytes.Repeat([]byte(" "), lambda.MaxPayloadBytes+1))
		}, status: 502, logHas: "over 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var lg logs
			iv := newInvoker(t, fn, lambdaAPI(t, tc.api), lg.logf)
			w := post(iv, `{"token":"x"}`)
			if w.Code != tc.status || w.Header().Get("X-Amz-Function-Error") != tc.header {
				t.Fatalf("status %d, x-amz-function-error %q, body %.200s", w.Code, w.Header().Get("X-Amz-Function-Error"), w.Body)
			}
			if !strings.Contains(lg.String(), tc.logHas) || strings.Count(lg.String(), "\n") != 0 {
				t.Fatalf("log %q, want one line with %q", lg.String(), tc.logHas)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		var lg logs
		iv := newInvoker(t, fn, "http://"+addr, lg.logf)
		if w := post(iv, `{}`); w.Code != 502 {
			t.Fatalf("status %d", w.Code)
		}
	})

	t.Run("cancelled by the plugin's timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		var lg logs
		iv := newInvoker(t, fn, lambdaAPI(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}), lg.logf)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		w := httptest.NewRecorder()
		iv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`)).WithContext(ctx))
		if w.Code != 504 {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
	})
}

// TestInvoker_HostileRequests: what the plugin could send that is not an event is refused
// without an invocation, and a good request still works after.
func TestInvoker_HostileRequests(t *testing.T) {
	fn := lambdatest.ARN(t, "arn:aws:lambda:us-east-1:"+account+":function:authz")
	var mu sync.Mutex
	calls := 0
	var lg logs
	iv := newInvoker(t, fn, lambdaAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"isAuthenticated":false}`)
	}), lg.logf)

	w := httptest.NewRecorder()
	iv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 405 {
		t.Fatalf("GET: %d", w.Code)
	}
	if w := post(iv, strings.Repeat("x", lambda.MaxEventBytes+1)); w.Code != 413 {
		t.Fatalf("oversized: %d", w.Code)
	}
	w = httptest.NewRecorder()
	iv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(`{"tok`), errReader{})))
	if w.Code != 400 {
		t.Fatalf("truncated: %d", w.Code)
	}
	mu.Lock()
	if calls != 0 {
		t.Fatalf("%d invocations for refused requests", calls)
	}
	mu.Unlock()
	// Repeated, concurrent good requests.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w := post(iv, `{"token":"t"}`); w.Code != 200 || w.Body.String() != `{"isAuthenticated":false}` {
				t.Errorf("good request: %d %s", w.Code, w.Body)
			}
		}()
	}
	wg.Wait()
	if calls != 20 {
		t.Fatalf("%d invocations, want 20", calls)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestClusters(t *testing.T) {
	lambdatest.Isolate(t)
	cfg := `{"region":"us-east-1","accountId":"` + account + `","dataEndpoints":["iot.example.com"],
	  "authorizers":[
	    {"authorizerName":"l1","authorizerFunctionArn":"arn:aws:lambda:us-east-1:` + account + `:function:a","signingDisabled":true},
	    {"authorizerName":"l2","authorizerFunctionArn":"arn:aws:lambda:us-east-1:` + account + `:function:a","signingDisabled":true},
	    {"authorizerName":"l3","authorizerFunctionArn":"arn:aws:lambda:eu-west-1:` + account + `:function:b:7","signingDisabled":true},
	    {"authorizerName":"h","authorizerFunction":{"cluster":"http"},"signingDisabled":true}]}`
	m, err := lambda.Clusters(context.Background(), []byte(cfg), lambda.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 {
		t.Fatalf("%d clusters: %v", len(m), m)
	}
	iv, ok := m["arn:aws:lambda:eu-west-1:"+account+":function:b:7"].(*lambda.Invoker)
	if !ok || iv.Function().Qualifier != "7" || iv.Function().Region != "eu-west-1" {
		t.Fatalf("%v", m)
	}
	if _, err := lambda.Clusters(context.Background(), []byte(`{}`), lambda.Options{}); err == nil || !strings.Contains(err.Error(), "region: required") {
		t.Fatalf("bad configuration: %v", err)
	}
}
