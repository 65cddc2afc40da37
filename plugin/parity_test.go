//go:build !wasm

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// AWS's pages that state the behaviours of the parity cases (parityMQTT, parityRefresh and
// parityShapes below, parityDomains in domains_parity_test.go, parityLimits in
// limits_parity_test.go).
const (
	srcMQTT          = "https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html"
	srcLambda        = "https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-lambda.html"
	srcCustomAuth    = "https://docs.aws.amazon.com/iot/latest/developerguide/config-custom-auth.html"
	srcPolicyVars    = "https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-variables.html"
	srcCloudWatch    = "https://docs.aws.amazon.com/iot/latest/developerguide/cwl-format.html"
	srcContext       = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html"
	srcConditions    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
	srcDescribe      = "https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeAuthorizer.html"
	srcTutorial      = "https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-tutorial.html"
	srcTestAuthorize = "https://docs.aws.amazon.com/iot/latest/apireference/API_TestAuthorization.html"

	// Domain configurations.
	srcDomains        = "https://docs.aws.amazon.com/iot/latest/developerguide/iot-custom-endpoints-configurable-aws.html"
	srcDescribeDomain = "https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeDomainConfiguration.html"
	srcCreateDomain   = "https://docs.aws.amazon.com/iot/latest/apireference/API_CreateDomainConfiguration.html"
	srcBasicVars      = "https://docs.aws.amazon.com/iot/latest/developerguide/basic-policy-variables.html"

	// AWS IoT's MQTT limits.
	srcQuotas    = "https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits"
	srcPayload   = "https://docs.aws.amazon.com/iot/latest/developerguide/topicdata.html"
	srcAssignID  = "https://aws.github.io/aws-iot-device-sdk-python-v2/awsiot/mqtt5_client_builder.html"
	srcSDKLimits = "https://aws.github.io/aws-iot-device-sdk-js-v2/node/enums/mqtt5.ClientExtendedValidationAndFlowControl.html"
)

// parityCase is one behaviour of AWS IoT Core that issue 12 names, the AWS source that states
// it, and a check of iotauthz doing the same, through the real .wasm in host/ (or the iotauthz
// command for the CLI's statements).
type parityCase struct {
	statement string // what AWS IoT Core does
	source    string // where AWS says so
	check     func(t *testing.T, r *parityRun)
}

// TestAWSParity: one case per AWS statement of issue 12, with its source: MQTT, refresh and log
// shapes (below), the domain configurations (domains, allowAuthorizerOverride, iot:DomainName;
// domains_parity_test.go) and AWS IoT's MQTT limits (client id, topic, payload, keep-alive, empty
// client id; limits_parity_test.go). Statements that need a real broker and client are in
// e2e/parity_test.go (the receive stall, measured), and those with no AWS counterpart (the
// gateway's --cluster check) in their own packages.
func TestAWSParity(t *testing.T) {
	r := &parityRun{dir: t.TempDir()}
	cases := slices.Concat(parityMQTT(), parityRefresh(), parityShapes(), parityDomains(), parityLimits())
	seen := map[string]bool{}
	for _, c := range cases {
		if !strings.HasPrefix(c.source, "https://") || seen[c.statement] {
			t.Errorf("%q: every statement is named once and cites its source (%q)", c.statement, c.source)
		}
		seen[c.statement] = true
		t.Run(c.statement, func(t *testing.T) { c.check(t, r) })
	}
}

// parityRun is what the cases share: the iotauthz command, built at its first use.
type parityRun struct {
	dir string
	cli string
	err error
}

// command returns the path of the iotauthz command, built once for the run.
func (r *parityRun) command(t *testing.T) string {
	t.Helper()
	if r.cli == "" && r.err == nil {
		out := filepath.Join(r.dir, "iotauthz")
		if b, err := exec.Command("go", "build", "-o", out, "../cmd/iotauthz").CombinedOutput(); err != nil {
			r.err = err
			t.Fatalf("building iotauthz: %v\n%s", err, b)
		}
		r.cli = out
	}
	if r.err != nil {
		t.Fatalf("iotauthz did not build: %v", r.err)
	}
	return r.cli
}

// run runs the iotauthz command and returns its exit code, stdout and stderr.
func (r *parityRun) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(r.command(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("iotauthz %s: %v", args[0], err)
	}
	return code, stdout.String(), stderr.String()
}

// ---- MQTT behaviour ----

func parityMQTT() []parityCase {
	// auto is the default configuration's denyAction: AWS's behaviour per protocol version.
	auto := func(c map[string]any) { delete(c["mqtt"].(map[string]any), "denyAction") }
	refusedConnect := func(v byte) func(*testing.T, *parityRun) {
		return func(t *testing.T, _ *parityRun) {
			for _, tr := range transports {
				e := newEnv(t, auto)
				e.auth.setAnswer(respond(200, `{"isAuthenticated":false}`))
				p := tr.open(e, 0)
				p.client(connectPkt(v, "c1", credUsername("t")))
				e.settle()
				if !refused(t, e, p, v) { // the exact CONNACK, then the close
					t.Fatalf("%s: CONNECT not refused\n%s", tr.name, e.logs())
				}
			}
		}
	}
	return []parityCase{
		{"a refused CONNECT gets CONNACK return code 5 in MQTT 3.1.1", srcMQTT, refusedConnect(4)},
		{"a refused CONNECT gets CONNACK reason 0x87 in MQTT 5", srcMQTT, refusedConnect(5)},
		{"MQTT 5: an unauthorized PUBLISH gets PUBACK 0x87 and the connection stays", srcMQTT, func(t *testing.T, _ *parityRun) {
			e, p := openConnectedWith(t, transports[0], 5, auto, mqttPolicy())
			b0, c0 := len(p.toBroker()), len(p.toClient())
			p.client(publishPkt(5, "other/x", 1, false, 7, "no"))
			p.broker(pingresp) // the answer to the PINGREQ that took the PUBLISH's place
			e.settle()
			if got := p.toBroker()[b0:]; !bytes.Equal(got, pingreq) {
				t.Errorf("the broker got % x, want only the PINGREQ", got)
			}
			if got := p.toClient()[c0:]; !bytes.Equal(got, pubackPkt(5, 7, 0x87)) || p.closed() {
				t.Fatalf("client got % x (closed %v), want PUBACK 0x87\n%s", got, p.closed(), e.logs())
			}
		}},
		{"MQTT 5: an unauthorized SUBSCRIBE filter gets SUBACK 0x87 and the connection stays", srcMQTT, func(t *testing.T, _ *parityRun) {
			e, p := openConnectedWith(t, transports[0], 5, auto, mqttPolicy())
			b0, c0 := len(p.toBroker()), len(p.toClient())
			p.client(subscribePkt(5, 4, "device/c1/#", "other/#"))
			p.broker(subackPkt(5, 4, 1))
			e.settle()
			if got := p.toBroker()[b0:]; !bytes.Equal(got, subscribePkt(5, 4, "device/c1/#")) {
				t.Errorf("the broker got % x, want the allowed filter only", got)
			}
			if got := p.toClient()[c0:]; !bytes.Equal(got, subackPkt(5, 4, 1, 0x87)) || p.closed() {
				t.Fatalf("client got % x (closed %v), want SUBACK 1, 0x87\n%s", got, p.closed(), e.logs())
			}
		}},
		{"MQTT 3.1.1: an unauthorized PUBLISH or SUBSCRIBE disconnects", srcMQTT, func(t *testing.T, _ *parityRun) {
			for name, send := range map[string][]byte{
				"publish":   publishPkt(4, "other/x", 1, false, 7, "no"),
				"subscribe": subscribePkt(4, 4, "other/#"),
			} {
				e, p := openConnectedWith(t, transports[0], 4, auto, mqttPolicy())
				b0 := len(p.toBroker())
				p.client(send)
				e.settle()
				if !p.closed() || len(p.toBroker()) != b0 {
					t.Fatalf("%s: closed %v, broker got % x\n%s", name, p.closed(), p.toBroker()[b0:], e.logs())
				}
				if d := lastDecision(e, "Disconnect"); d == nil || d["disconnectReason"] != "FORBIDDEN_ACCESS" {
					t.Fatalf("%s: disconnect line %v", name, d)
				}
			}
		}},
	}
}

// ---- refresh ----

// refreshPolicy lets the client connect and publish to t/<its id>, with ${iot:ClientId} in both
// resources; iot:Connect also needs the CONNECT's other inputs: its domain, its source address and
// its connect attributes.
func refreshPolicy(refresh int) string {
	return response("dev1", refresh, 3600, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"`+arn+`client/${iot:ClientId}","Condition":{
			"StringEquals":{"iot:DomainName":"iot.example.com"},"IpAddress":{"aws:SourceIp":["198.51.100.4/32","203.0.113.7/32"]},
			"Null":{"iot:ConnectAttributes":"false"}}},
		{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/t/${iot:ClientId}"}]}`)
}

// fastRefresh lets the authorizer's intervals (refreshAfterInSeconds, disconnectAfterInSeconds)
// be as short as 1 s instead of AWS's 300 (testOverrides), so that lifetimes are tested quickly.
func fastRefresh(c map[string]any) { c["testOverrides"] = map[string]any{"minIntervalSeconds": 1} }

// refreshed connects clientID (MQTT 3.1.1, over tr) with refreshPolicy, whose refresh comes
// after 10 s; the authorizer then answers next, and the refresh happens. It returns the
// connection after the refresh.
func refreshed(t *testing.T, tr carrier, clientID string, next func(map[string]any) (int, string)) (*env, pipe) {
	t.Helper()
	e := newEnv(t, fastRefresh)
	e.auth.setAnswer(respond(200, refreshPolicy(10)))
	p := tr.open(e, 0)
	connect(t, e, p, 4, clientID)
	e.auth.setAnswer(next)
	e.clock.Advance(11 * time.Second)
	e.settle()
	if e.auth.hits.Load() != 2 {
		t.Fatalf("%d authorizer calls, want the CONNECT's and the refresh's\n%s", e.auth.hits.Load(), e.logs())
	}
	return e, p
}

// refreshClosed checks that the refresh closed p with AWS's AUTH_ERROR and our reason, its
// details containing why.
func refreshClosed(t *testing.T, e *env, p pipe, why string) {
	t.Helper()
	if !p.closed() {
		t.Fatalf("connection open after the refresh\n%s", e.logs())
	}
	d := lastDecision(e, "Disconnect")
	if d == nil || d["disconnectReason"] != "AUTH_ERROR" || d["reason"] != "REFRESH_FAILED" || !strings.Contains(d["details"].(string), why) {
		t.Fatalf("disconnect line %v, want AUTH_ERROR, REFRESH_FAILED, %q", d, why)
	}
}

func parityRefresh() []parityCase {
	return []parityCase{
		{"a refresh calls the authorizer with the CONNECT's inputs and keeps its decision, an empty client id included", srcLambda, func(t *testing.T, _ *parityRun) {
			for _, c := range []struct {
				tr carrier
				id string
			}{{transports[0], ""}, {transports[1], ""}, {transports[0], "c1"}} {
				e, p := refreshed(t, c.tr, c.id, respond(200, refreshPolicy(10)))
				id := c.id
				e.auth.mu.Lock()
				first, again := e.auth.events[0], e.auth.events[1]
				e.auth.mu.Unlock()
				if !bytes.Equal(first, again) {
					t.Fatalf("id %q: the refresh's event differs from the CONNECT's:\n%s\n%s", id, first, again)
				}
				if l := lastDecision(e, "Connect"); l == nil || l["details"] != "policy refreshed" || l["logLevel"] != "DEBUG" {
					t.Fatalf("id %q: refresh line %v", id, l)
				}
				b0 := len(p.toBroker())
				p.client(publishPkt(4, "t/"+id, 0, false, 0, "after"))
				e.settle()
				if p.closed() || !bytes.Equal(p.toBroker()[b0:], publishPkt(4, "t/"+id, 0, false, 0, "after")) {
					t.Fatalf("id %q: the publish allowed at CONNECT is refused after the refresh\n%s", id, e.logs())
				}
			}
		}},
		{"an empty client id is ${iot:ClientId} = \"\" after a refresh, not an unresolved variable", srcPolicyVars, func(t *testing.T, _ *parityRun) {
			// A statement on exactly "client/" and "topic/t/" matches only an empty, resolved id.
			exact := response("dev1", 10, 3600, `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iot:Connect","Resource":"`+arn+`client/${iot:ClientId}"},
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/t/${iot:ClientId}"},
				{"Effect":"Deny","Action":"iot:Publish","Resource":"`+arn+`topic/t/x"}]}`)
			e, p := refreshed(t, transports[0], "", respond(200, exact))
			b0 := len(p.toBroker())
			p.client(publishPkt(4, "t/", 0, false, 0, "x"))
			e.settle()
			if p.closed() || len(p.toBroker()) == b0 {
				t.Fatalf("publish to t/ refused after the refresh\n%s", e.logs())
			}
			if l := lastDecision(e, "Publish-In"); l == nil || l["status"] != "Success" || l["topicName"] != "t/" {
				t.Fatalf("decision line %v", l)
			}
		}},
		{"a refresh whose policy no longer allows iot:Connect for the client closes the connection", srcLambda, func(t *testing.T, _ *parityRun) {
			noConnect := respond(200, response("dev1", 10, 3600, `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`))
			for _, tr := range transports {
				for _, id := range []string{"c1", ""} {
					e, p := refreshed(t, tr, id, noConnect)
					refreshClosed(t, e, p, "the refreshed policy denies iot:Connect on "+arn+"client/"+id+": IMPLICIT_DENY")
				}
			}
		}},
		{"a refresh the authorizer answers isAuthenticated false closes the connection", srcLambda, func(t *testing.T, _ *parityRun) {
			e, p := refreshed(t, transports[0], "c1", respond(200, `{"isAuthenticated":false}`))
			refreshClosed(t, e, p, "NOT_AUTHENTICATED")
		}},
		{"a refresh whose authorizer call fails (timeout) closes the connection", srcCustomAuth, func(t *testing.T, _ *parityRun) {
			e, p := openConnectedWith(t, transports[0], 5, fastRefresh, refreshPolicy(10))
			gate := make(chan struct{})
			defer close(gate)
			e.auth.mu.Lock()
			e.auth.gate = gate
			e.auth.mu.Unlock()
			e.clock.Advance(11 * time.Second)
			waitFor(t, e, func() bool { return e.auth.hits.Load() == 2 })
			if p.closed() {
				t.Fatalf("closed before the call timed out")
			}
			e.clock.Advance(5 * time.Second) // the authorizer's timeoutMillis
			waitFor(t, e, p.closed)
			refreshClosed(t, e, p, "AUTHORIZER_CALL_FAILED: authorizer call timed out after 5000 ms")
		}},
	}
}

// ---- AWS shapes and tools ----

// lastLine is the raw text of the last decision line of event.
func lastLine(e *env, event string) string {
	logs := e.p.Logs()
	for i := len(logs) - 1; i >= 0; i-- {
		if m := logs[i].Message; strings.HasPrefix(m, `{"timestamp"`) && strings.Contains(m, `"eventType":"`+event+`"`) {
			return m
		}
	}
	return ""
}

// exactLine checks a decision line byte for byte; want's TRACE stands for the line's traceId.
func exactLine(t *testing.T, e *env, event, want string) {
	t.Helper()
	got := lastLine(e, event)
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("no %s line (%v)\n%s", event, err, e.logs())
	}
	trace, _ := m["traceId"].(string)
	if want = strings.Replace(want, "TRACE", trace, 1); got != want {
		t.Fatalf("%s line:\n got %s\nwant %s", event, got, want)
	}
}

// stamp is the decision lines' timestamp now.
func stamp(e *env) string { return e.clock.Now().UTC().Format("2006-01-02 15:04:05.000") }

// contextAnswer carries a context with a number, a boolean, a string and a null.
const contextAnswer = `,"context":{"n":5,"b":true,"s":"x","z":null}}`

// withContext turns an authorizer answer (response) into one carrying contextAnswer.
func withContext(answer string) string { return strings.TrimSuffix(answer, "}") + contextAnswer }

// httpPublish sends an HTTPS publish of topic with a signed token on a new connection and
// reports whether it went upstream (else it must be a 403).
func httpPublish(t *testing.T, e *env, conn uint64, topic string) bool {
	t.Helper()
	s := e.p.Worker(0).NewHTTPStream(httpProps(conn))
	s.RequestHeaders(publishHeaders(topic, "tok", sign(testKey, "tok")), false)
	e.settle()
	if s.Upstream().HeadersSent {
		return true
	}
	if r := s.Client().LocalReply; r == nil || r.Status != 403 {
		t.Fatalf("%s: neither forwarded nor refused with 403: %+v\n%s", topic, r, e.logs())
	}
	return false
}

func parityShapes() []parityCase {
	return []parityCase{
		{"Publish-In lines carry retain (MQTT PUBLISH)", srcCloudWatch, func(t *testing.T, _ *parityRun) {
			e, p := openConnectedWith(t, transports[0], 4, nil, allowAll("dev1"))
			for retain, value := range map[bool]string{true: "True", false: "False"} {
				p.client(publishPkt(4, "device/c1/r", 1, retain, 3, "x"))
				e.settle()
				exactLine(t, e, "Publish-In", `{"timestamp":"`+stamp(e)+`","logLevel":"DEBUG","traceId":"TRACE","accountId":"123456789012",`+
					`"status":"Success","eventType":"Publish-In","protocol":"MQTT","clientId":"c1","principalId":"dev1",`+
					`"sourceIp":"198.51.100.4","sourcePort":40000,"topicName":"device/c1/r","authorizerName":"tokens","retain":"`+value+`"}`)
			}
			if l := lastLine(e, "Subscribe") + lastLine(e, "Connect"); strings.Contains(l, `"retain"`) {
				t.Fatalf("retain outside Publish-In: %s", l)
			}
		}},
		{"Publish-In lines carry retain (HTTPS publish)", srcCloudWatch, func(t *testing.T, _ *parityRun) {
			e := newEnv(t, nil)
			publishOnly := response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`)
			for i, tc := range []struct{ answer, query, value, status, tail string }{
				{allowAll("dev1"), "?qos=1&retain=true", "True", "Success", ""},
				{allowAll("dev1"), "?retain=false", "False", "Success", ""},
				{publishOnly, "?retain=true", "True", "Failure", `,"reason":"AUTHORIZATION_FAILURE","details":"iot:RetainPublish on ` + arn + `topic/device/1: IMPLICIT_DENY"`},
			} {
				e.auth.setAnswer(respond(200, tc.answer))
				s := e.p.Worker(0).NewHTTPStream(httpProps(uint64(10 + i)))
				h := publishHeaders("device/1", "tok", sign(testKey, "tok"))
				h[1][1] = "/topics/device/1" + tc.query
				s.RequestHeaders(h, false)
				e.settle()
				level := map[string]string{"Success": "DEBUG", "Failure": "ERROR"}[tc.status]
				exactLine(t, e, "Publish-In", `{"timestamp":"`+stamp(e)+`","logLevel":"`+level+`","traceId":"TRACE","accountId":"123456789012",`+
					`"status":"`+tc.status+`","eventType":"Publish-In","protocol":"HTTP","principalId":"dev1",`+
					`"sourceIp":"203.0.113.7","sourcePort":52311,"topicName":"device/1","authorizerName":"tokens"`+tc.tail+`,"retain":"`+tc.value+`"}`)
			}
		}},
		{"the authorizer's context takes numbers and booleans as their text, and null as absent", srcContext, func(t *testing.T, _ *parityRun) {
			e := newEnv(t, nil)
			e.auth.setAnswer(respond(200, withContext(response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iot:Publish","Resource":["`+arn+`topic/${context:n}/${context:b}/${context:s}","`+arn+`topic/z/${context:z}"]}]}`))))
			if !httpPublish(t, e, 1, "5/true/x") {
				t.Fatalf("${context:n}/${context:b}/${context:s} did not resolve to 5/true/x\n%s", e.logs())
			}
			if httpPublish(t, e, 2, "z/") || httpPublish(t, e, 3, "z/null") {
				t.Fatalf("${context:z} (null) resolved")
			}
		}},
		{"conditions take IAM's Numeric, Bool, Null and IfExists operators", srcConditions, func(t *testing.T, _ *parityRun) {
			e := newEnv(t, nil)
			e.auth.setAnswer(respond(200, withContext(response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/all","Condition":{
					"NumericLessThan":{"context:n":"10"},"Bool":{"context:b":"true"},"Null":{"context:z":"true"},
					"StringEqualsIfExists":{"context:missing":"y"}}},
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/big","Condition":{"NumericGreaterThan":{"context:n":"10"}}},
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/false","Condition":{"Bool":{"context:b":"false"}}},
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/present","Condition":{"Null":{"context:n":"true"}}}]}`))))
			if !httpPublish(t, e, 1, "all") {
				t.Fatalf("conditions that hold denied\n%s", e.logs())
			}
			for i, topic := range []string{"big", "false", "present"} {
				if httpPublish(t, e, uint64(2+i), topic) {
					t.Fatalf("%s: a condition that does not hold allowed", topic)
				}
			}
		}},
		{"describe-authorizer's output is accepted as is (authorizerArn, creationDate, lastModifiedDate)", srcDescribe, func(t *testing.T, _ *parityRun) {
			e := newEnv(t, func(c map[string]any) {
				a := authorizerFirst(c)
				a["authorizerArn"] = arn + "authorizer/tokens"
				a["creationDate"] = "2026-11-30T09:15:02.417000+00:00"
				a["lastModifiedDate"] = 1.764494102417e9
			})
			e.auth.setAnswer(respond(200, mqttPolicy()))
			connect(t, e, openTLS(e, 0), 4, "c1") // the plugin started with it and authorizes
		}},
		{"test-invoke-authorizer without protocol data sends no protocolData", srcTutorial, func(t *testing.T, r *parityRun) {
			var got []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				got, _ = io.ReadAll(req.Body)
				io.WriteString(w, allowAll("dev1"))
			}))
			defer srv.Close()
			code, out, errs := r.run(t, "test-invoke-authorizer", "--url", srv.URL, "--token", "tok")
			if code != 0 || !strings.Contains(out, `"isAuthenticated": true`) {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			var ev map[string]any
			if err := json.Unmarshal(got, &ev); err != nil {
				t.Fatalf("event %s: %v", got, err)
			}
			if _, ok := ev["protocolData"]; ok || ev["token"] != "tok" {
				t.Fatalf("event %s: want the token and no protocolData", got)
			}
		}},
		{"test-authorization prints TestAuthorization's authResults", srcTestAuthorize, func(t *testing.T, r *parityRun) {
			policy := filepath.Join(t.TempDir(), "device.json")
			if err := os.WriteFile(policy, []byte(`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/${iot:ClientId}/*"}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errs := r.run(t, "test-authorization", "--policy", policy, "--client-id", "c1",
				"--auth-infos", `[{"actionType":"PUBLISH","resources":["`+arn+`topic/c1/a"]},{"actionType":"PUBLISH","resources":["`+arn+`topic/c2/a"]}]`)
			var compact bytes.Buffer
			if code != 0 || json.Compact(&compact, []byte(out)) != nil {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			result := func(topic, allowed, implicit, decision string) string {
				return `{"authInfo":{"actionType":"PUBLISH","resources":["` + arn + `topic/` + topic + `"]},"allowed":{"policies":[` + allowed + `]},` +
					`"denied":{"implicitDeny":{"policies":[` + implicit + `]},"explicitDeny":{"policies":[]}},"authDecision":"` + decision + `","missingContextValues":[]}`
			}
			device := `{"policyName":"device","policyArn":"` + arn + `policy/device"}`
			if want := `{"authResults":[` + result("c1/a", device, "", "ALLOWED") + `,` + result("c2/a", "", device, "IMPLICIT_DENY") + `]}`; compact.String() != want {
				t.Fatalf("output\n got %s\nwant %s", compact.String(), want)
			}
		}},
	}
}
