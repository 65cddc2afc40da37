package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/iotauthz/iotauthz/internal/rsakey"
	"github.com/iotauthz/iotauthz/refauth"
)

// testKeys writes a fresh key pair and returns the private key path, the public key path and a
// signer.
func testKeys(t *testing.T) (privPath, pubPath string, sign func(string) string) {
	t.Helper()
	privPEM, pubPEM, err := generateKeyPair(2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	privPath, pubPath = filepath.Join(dir, "private.pem"), filepath.Join(dir, "public.pem")
	os.WriteFile(privPath, privPEM, 0o600)
	os.WriteFile(pubPath, pubPEM, 0o644)
	key, err := rsakey.ParsePEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	return privPath, pubPath, func(tok string) string {
		s, err := rsakey.Sign(key, []byte(tok))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

const validPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/dev1"}]}`

func TestTestInvoke_ValidAnswer(t *testing.T) {
	_, pub, sign := testKeys(t)
	srv := refauth.New(refauth.MustParse(`{"rules":[{"match":{"token":"allow-dev1"},"isAuthenticated":true,
	  "principalId":"dev1","refreshAfterInSeconds":600,"disconnectAfterInSeconds":3600,
	  "policyDocuments":[` + validPolicy + `,` + strconvQuote(validPolicy) + `],"context":{"tenant":"a<b"}}]}`))
	ts := httptest.NewServer(srv)
	defer ts.Close()

	code, out, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL+"/authorize",
		"--token", "allow-dev1", "--signature", sign("allow-dev1"), "--public-key", pub,
		"--mqtt-username", "dev1?x-amz-customauthorizer-name=tokens", "--mqtt-password", "pw",
		"--mqtt-client-id", "dev1", "--server-name", "iot.example.com",
		"--http-header", "X-Extra: v1", "--query-string", "a=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// AWS's TestInvokeAuthorizer shape, in its order, documents as strings.
	keys := regexp.MustCompile(`(?m)^  "([a-zA-Z]+)":`).FindAllStringSubmatch(out, -1)
	var order []string
	for _, k := range keys {
		order = append(order, k[1])
	}
	if got := strings.Join(order, ","); got != "isAuthenticated,principalId,policyDocuments,refreshAfterInSeconds,disconnectAfterInSeconds,context" {
		t.Errorf("fields %s in\n%s", got, out)
	}
	var o testInvokeOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !o.IsAuthenticated || o.PrincipalID != "dev1" || o.RefreshAfterInSeconds != 600 || o.DisconnectAfterInSeconds != 3600 ||
		len(o.PolicyDocuments) != 2 || o.Context["tenant"] != "a<b" || !strings.Contains(out, `"tenant": "a<b"`) {
		t.Fatalf("output %s", out)
	}
	for i, d := range o.PolicyDocuments {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil || m["Version"] != "2012-10-17" {
			t.Errorf("policyDocuments[%d] is not the policy as a string: %q", i, d)
		}
	}

	// The event the authorizer received.
	evs := srv.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	mq := ev.ProtocolData.MQTT
	if ev.Token != "allow-dev1" || !ev.SignatureVerified || strings.Join(ev.Protocols, ",") != "tls,http,mqtt" ||
		mq == nil || mq.Username != "dev1?x-amz-customauthorizer-name=tokens" || mq.Password != "cHc=" || mq.ClientID != "dev1" ||
		ev.ProtocolData.TLS == nil || ev.ProtocolData.TLS.ServerName != "iot.example.com" ||
		ev.ProtocolData.HTTP == nil || ev.ProtocolData.HTTP.Headers["x-extra"] != "v1" || ev.ProtocolData.HTTP.QueryString != "?a=1" ||
		!regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ev.ConnectionMetadata.ID) {
		t.Errorf("event %+v mqtt %+v", ev, mq)
	}

	// With only HTTP or TLS flags it is an HTTPS publish; isAuthenticated false is still a valid
	// answer.
	code, out, errs = runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--token", "other", "--server-name", "iot.example.com", "--print-event")
	if code != 0 || !strings.Contains(out, `"isAuthenticated": false`) {
		t.Fatalf("deny answer: exit %d %s %s", code, out, errs)
	}
	if !strings.Contains(errs, `"protocols":["tls","http"],"protocolData":{"tls":{"serverName":"iot.example.com"},"http":{"headers":{}}}`) || strings.Contains(errs, `"mqtt"`) {
		t.Errorf("--print-event: %s", errs)
	}
	// No context flag at all: AWS's TestInvokeAuthorizer without contexts sends no protocolData
	// (https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-tutorial.html).
	code, _, errs = runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--token", "other", "--print-event")
	if code != 0 {
		t.Fatalf("no contexts: exit %d %s", code, errs)
	}
	if !regexp.MustCompile(`event: \{"token":"other","signatureVerified":false,"protocols":\[\],"connectionMetadata":\{"id":"[0-9a-f-]{36}"\}\}\n`).MatchString(errs) {
		t.Errorf("no contexts: --print-event: %s", errs)
	}
	// MQTT only.
	runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--mqtt-client-id", "")
	evs = srv.Events()
	if ev := evs[len(evs)-1]; strings.Join(ev.Protocols, ",") != "tls,mqtt" || ev.ProtocolData.HTTP != nil || ev.ProtocolData.MQTT == nil {
		t.Errorf("MQTT-only event %+v", ev)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestTestInvoke_InvalidAnswers checks that each invalid response field is reported by name.
func TestTestInvoke_InvalidAnswers(t *testing.T) {
	var mu sync.Mutex
	var status int
	var body string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer ts.Close()

	resp := func(fields map[string]string) string {
		base := map[string]string{
			"isAuthenticated":          "true",
			"principalId":              `"dev1"`,
			"refreshAfterInSeconds":    "300",
			"disconnectAfterInSeconds": "86400",
			"policyDocuments":          "[" + validPolicy + "]",
		}
		for k, v := range fields {
			if v == "" {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		var parts []string
		for k, v := range base {
			parts = append(parts, `"`+k+`":`+v)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	eleven := strings.TrimSuffix(strings.Repeat(validPolicy+",", 11), ",")
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/` + strings.Repeat("x", 2048) + `"}]}`
	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"isAuthenticated not a boolean", resp(map[string]string{"isAuthenticated": `"yes"`}), "isAuthenticated", 200},
		{"isAuthenticated missing", resp(map[string]string{"isAuthenticated": ""}), "isAuthenticated", 200},
		{"principalId with a dash", resp(map[string]string{"principalId": `"dev-1"`}), "principalId", 200},
		{"principalId too long", resp(map[string]string{"principalId": `"` + strings.Repeat("a", 129) + `"`}), "principalId", 200},
		{"principalId empty", resp(map[string]string{"principalId": `""`}), "principalId", 200},
		{"principalId missing", resp(map[string]string{"principalId": ""}), "principalId", 200},
		{"refresh too short", resp(map[string]string{"refreshAfterInSeconds": "10"}), "refreshAfterInSeconds", 200},
		{"refresh too long", resp(map[string]string{"refreshAfterInSeconds": "86401"}), "refreshAfterInSeconds", 200},
		{"refresh not a number", resp(map[string]string{"refreshAfterInSeconds": `"300"`}), "refreshAfterInSeconds", 200},
		{"disconnect too short", resp(map[string]string{"disconnectAfterInSeconds": "299"}), "disconnectAfterInSeconds", 200},
		{"disconnect too long", resp(map[string]string{"disconnectAfterInSeconds": "100000"}), "disconnectAfterInSeconds", 200},
		{"more than 10 documents", resp(map[string]string{"policyDocuments": "[" + eleven + "]"}), "policyDocuments", 200},
		{"document over 2048 characters", resp(map[string]string{"policyDocuments": "[" + long + "]"}), "policyDocuments", 200},
		{"document not an object", resp(map[string]string{"policyDocuments": "[5]"}), "policyDocuments", 200},
		{"documents not a list", resp(map[string]string{"policyDocuments": `{}`}), "policyDocuments", 200},
		{"document not a policy", resp(map[string]string{"policyDocuments": `[{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:Connect","Resource":"*"}]}]`}), "policyDocuments", 200},
		{"context value an object", resp(map[string]string{"context": `{"a":{}}`}), "context", 200},
		{"non-200", resp(nil), "the authorizer answered HTTP 503", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			status, body = tc.status, tc.body
			mu.Unlock()
			code, out, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--token", "t")
			if code != 1 || out != "" || !strings.HasPrefix(errs, "InvalidResponseException: "+tc.field) {
				t.Fatalf("exit %d stdout %q stderr %q; want 1 and InvalidResponseException: %s…\nbody %s", code, out, errs, tc.field, tc.body)
			}
		})
	}
	// Not JSON at all.
	mu.Lock()
	status, body = 200, "{not json"
	mu.Unlock()
	if code, _, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL); code != 1 || !strings.HasPrefix(errs, "InvalidResponseException: ") {
		t.Fatalf("invalid JSON: exit %d %q", code, errs)
	}
	// The valid base is accepted: the table above fails for its field only.
	mu.Lock()
	status, body = 200, resp(nil)
	mu.Unlock()
	if code, _, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL); code != 0 {
		t.Fatalf("valid base answer refused: %s", errs)
	}
	// --min-interval lowers the bound for answers meant for testOverrides.
	mu.Lock()
	body = resp(map[string]string{"refreshAfterInSeconds": "2", "disconnectAfterInSeconds": "5"})
	mu.Unlock()
	if code, _, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--min-interval", "2"); code != 0 {
		t.Fatalf("--min-interval 2: %s", errs)
	}
}

func TestTestInvoke_Errors(t *testing.T) {
	_, pub, sign := testKeys(t)
	srv := refauth.New(nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// A signature that does not verify never reaches the authorizer, as in the plugin.
	code, _, errs := runCLI(t, "test-invoke-authorizer", "--url", ts.URL, "--token", "a", "--signature", sign("b"), "--public-key", pub)
	if code != 1 || !strings.Contains(errs, "signature rejected") || srv.Hits() != 0 {
		t.Fatalf("bad signature: exit %d %q, hits %d", code, errs, srv.Hits())
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--token", "t"}, 2, "--url is required"},
		{[]string{"--url", ts.URL, "--signature", "abc"}, 2, "needs --public-key"},
		{[]string{"--url", ts.URL, "--public-key", pub}, 2, "without --signature"},
		{[]string{"--url", ts.URL, "--http-header", "novalue"}, 2, "want NAME:VALUE"},
		{[]string{"--url", ts.URL, "--signature", "x", "--public-key", "/nonexistent.pem"}, 1, "no such file"},
		{[]string{"--url", closed}, 1, "calling the authorizer"},
	} {
		code, _, errs := runCLI(t, append([]string{"test-invoke-authorizer"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q; want %d %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
