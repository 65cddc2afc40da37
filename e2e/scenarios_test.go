package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
)

// rules is the reference authorizer's rules file for every scenario. Tokens are KIND-ID; ID
// names the scenario and its topic tree devices/ID/. Intervals are at least 2 s, the compose
// stack's testOverrides.minIntervalSeconds.
const rules = `{
  "rules": [
    {"name": "refresh-denied", "match": {"tokenPrefix": "refresh-", "fromHit": 2}, "isAuthenticated": false, "principalId": "refreshdenied"},
    {"name": "refresh", "match": {"tokenPrefix": "refresh-"}, "isAuthenticated": true, "principalId": "refresh",
     "refreshAfterInSeconds": 2, "disconnectAfterInSeconds": 86400, "policyDocuments": [POLICY]},
    {"name": "keep", "match": {"tokenPrefix": "keep-"}, "isAuthenticated": true, "principalId": "keep",
     "refreshAfterInSeconds": 2, "disconnectAfterInSeconds": 86400, "policyDocuments": [POLICY]},
    {"name": "ttl", "match": {"tokenPrefix": "ttl-"}, "isAuthenticated": true, "principalId": "ttl",
     "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 3, "policyDocuments": [POLICY]},
    {"name": "slow", "match": {"tokenPrefix": "slow-"}, "isAuthenticated": true, "principalId": "slow",
     "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 86400, "policyDocuments": [POLICY], "fault": {"delayMillis": 1000}},
    {"name": "down", "match": {"tokenPrefix": "down-"}, "fault": {"close": true}},
    {"name": "error", "match": {"tokenPrefix": "error-"}, "fault": {"status": 500}},
    {"name": "devices", "match": {"tokenPrefix": "allow-"}, "isAuthenticated": true, "principalId": "device",
     "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 86400, "policyDocuments": [POLICY]}
  ],
  "default": {"isAuthenticated": false, "principalId": "denied"}
}`

// policy: connect as any client; publish, subscribe and receive under devices/ID/, except publish
// on devices/ID/denied and receive under devices/ID/noreceive/.
const policy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/*"},
  {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/*"},
  {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/devices/{{tokenSuffix}}/*"},
  {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/denied"},
  {"Effect": "Deny", "Action": "iot:Receive", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/noreceive/*"}
]}`

func setRules(t *testing.T, e *env) {
	t.Helper()
	body := strings.ReplaceAll(rules, "POLICY", policy)
	req, _ := http.NewRequest(http.MethodPut, e.authorizer+"/admin/rules", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("setting the authorizer's rules: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("setting the authorizer's rules: %s", resp.Status)
	}
}

// TestEmbedded runs every scenario against the embedded gateway (host/gateway) on loopback.
func TestEmbedded(t *testing.T) {
	e := startEmbedded(t)
	runScenarios(t, &e.env)
	t.Run("AuthorizerUnreachable", func(t *testing.T) {
		t.Parallel()
		s := &sc{T: t, e: &e.env, id: "unreachable"}
		tok := s.token("allow")
		u := strings.Replace(s.username(tok), "name=tokens", "name=unreachable", 1)
		if _, err := s.dial(connOpts{clientID: "c-" + s.id, username: u}); err == nil {
			s.fatalf("connected although the authorizer's cluster refuses connections")
		}
	})
}

// TestCompose runs the scenarios against the docker compose stack (-e2e.target=compose).
func TestCompose(t *testing.T) {
	if *flagTarget != "compose" {
		t.Skip("runs with -args -e2e.target=compose in the docker compose stack (make e2e-compose)")
	}
	checkMosquitto(t, false)
	runScenarios(t, composeEnv(t))
}

func runScenarios(t *testing.T, e *env) {
	setRules(t, e)
	for _, tc := range scenarios {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(&sc{T: t, e: e, id: strings.ToLower(tc.name)})
		})
	}
}

var scenarios = []struct {
	name string
	run  func(s *sc)
}{
	{"AllowedMosquitto", allowedMosquitto},
	{"AllowedPahoTLS", allowedPahoTLS},
	{"AllowedPahoWSS", allowedPahoWSS},
	{"DeniedPublishDisconnect", deniedPublishDisconnect},
	{"DeniedPublishReject", deniedPublishReject},
	{"DeniedSubscribeDisconnect", deniedSubscribeDisconnect},
	{"DeniedSubscribeReject", deniedSubscribeReject},
	{"DeniedSubscribeMosquitto", deniedSubscribeMosquitto},
	{"ReceiveDenied", receiveDenied},
	{"BadSignature", badSignature},
	{"WrongSNI", wrongSNI},
	{"NoALPN", noALPN},
	{"RefreshDenied", refreshDenied},
	{"RefreshAllowed", refreshAllowed},
	{"DisconnectAfter", disconnectAfter},
	{"AuthorizerDown", authorizerDown},
	{"HTTPSPublish", httpsPublish},
	{"PipelinedPublish", pipelinedPublish},
}

// allowedMosquitto: mosquitto_sub receives what mosquitto_pub publishes, both through the gateway
// over TLS with ALPN mqtt, as README's quick start shows.
func allowedMosquitto(s *sc) {
	tok := s.token("allow")
	sub := s.mosquittoSub(s.e.addr, "sub-"+s.id, s.username(tok), "-q", "1", "-C", "1", "-W", "30", "-t", s.topic("#"))
	// mosquitto_sub's output is block-buffered on a pipe, so its SUBACK cannot be watched: publish
	// until it receives (it exits after one message), each publish a separate mosquitto_pub run.
	deadline := time.Now().Add(20 * time.Second)
	for done := false; !done; {
		if out, err := s.mosquittoPub(s.e.addr, "pub-"+s.id, s.username(tok), "-q", "1", "-t", s.topic("temp"), "-m", "21.5"); err != nil {
			s.fatalf("mosquitto_pub: %v\n%s", err, out)
		}
		select {
		case err := <-sub.done:
			if err != nil {
				s.fatalf("mosquitto_sub: %v\n%s", err, sub.out)
			}
			done = true
		case <-time.After(500 * time.Millisecond):
			if time.Now().After(deadline) {
				s.fatalf("mosquitto_sub received nothing within 20s:\n%s", sub.out)
			}
		}
	}
	if l := sub.lines(); len(l) != 1 || l[0] != s.topic("temp")+" 21.5" {
		s.fatalf("mosquitto_sub printed %q", l)
	}
}

func allowedPahoTLS(s *sc) {
	tok := s.token("allow")
	sub := s.mustDial(connOpts{clientID: "sub-" + s.id}, tok)
	s.mustSubscribe(sub, s.topic("#"))
	pub := s.mustDial(connOpts{clientID: "pub-" + s.id}, tok)
	for q := byte(0); q <= 1; q++ {
		s.mustPublish(pub, s.topic("a"), q, "qos"+string('0'+q))
		s.receive(sub, s.topic("a")+" qos"+string('0'+q))
	}
	if s.hits(tok) != 2 {
		s.fatalf("authorizer calls for %s: %d, want 2 (one per connection)", tok, s.hits(tok))
	}
}

// allowedPahoWSS: MQTT over WebSocket (GET /mqtt upgrade), credentials in the CONNECT username;
// a WSS subscriber receives from a TLS publisher and the other way round.
func allowedPahoWSS(s *sc) {
	tok := s.token("allow")
	wsSub := s.mustDial(connOpts{clientID: "wsub-" + s.id, wss: true}, tok)
	s.mustSubscribe(wsSub, s.topic("ws/#"))
	tlsSub := s.mustDial(connOpts{clientID: "tsub-" + s.id}, tok)
	s.mustSubscribe(tlsSub, s.topic("tls/#"))
	wsPub := s.mustDial(connOpts{clientID: "wpub-" + s.id, wss: true}, tok)
	tlsPub := s.mustDial(connOpts{clientID: "tpub-" + s.id}, tok)
	s.mustPublish(tlsPub, s.topic("ws/x"), 1, "to-ws")
	s.receive(wsSub, s.topic("ws/x")+" to-ws")
	s.mustPublish(wsPub, s.topic("tls/x"), 1, "from-ws")
	s.receive(tlsSub, s.topic("tls/x")+" from-ws")

	// Credentials in the upgrade request's headers (plain CONNECT username): the upgrade is
	// authorized, the CONNECT is checked against that policy.
	hdrTok := s.token("allow") + "h"
	h := http.Header{}
	h.Set("x-amz-customauthorizer-name", authorizer)
	h.Set("x-amz-customauthorizer-signature", s.sign(hdrTok))
	h.Set(tokenKey, hdrTok)
	hc, err := s.dial(connOpts{clientID: "hdr-" + s.id, wss: true, username: "plain", headers: h})
	if err != nil {
		s.fatalf("WSS with credentials in headers: %v", err)
	}
	s.mustSubscribe(hc, "devices/"+s.id+"h/#")
	s.mustPublish(hc, "devices/"+s.id+"h/x", 1, "hdr")
	s.receive(hc, "devices/"+s.id+"h/x hdr")
	_, _ = s.subscribe(hc, "devices/someoneelse/#")
	s.closed(hc, 10*time.Second, "a denied SUBSCRIBE over WSS (denyAction disconnect)")
	if s.hits(hdrTok) != 1 {
		s.fatalf("authorizer calls for the upgrade's token: %d, want 1", s.hits(hdrTok))
	}
}

// deniedPublishDisconnect: AWS's MQTT 3.1.1 behaviour: a denied PUBLISH closes the connection and
// never reaches the broker.
func deniedPublishDisconnect(s *sc) {
	tok := s.token("allow")
	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, tok)
	_ = s.publish(c, s.topic("denied"), 1, "nope")
	s.closed(c, 10*time.Second, "a denied PUBLISH with denyAction disconnect")
	other := s.mustDial(connOpts{clientID: "o-" + s.id}, tok)
	s.mustPublish(other, s.topic("after"), 1, "sentinel")
	s.receive(watch, s.topic("after")+" sentinel")
}

// deniedPublishReject: the denied PUBLISH is dropped (and acknowledged); the connection goes on.
func deniedPublishReject(s *sc) {
	tok := s.token("allow")
	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))
	c := s.mustDial(connOpts{addr: s.e.rejectAddr, clientID: "c-" + s.id}, tok)
	s.deniedThenSentinel(c, watch, c, s.topic("denied"), s.topic("denied"), s.topic("after"))
}

// deniedThenSentinel publishes from src to denied1 (QoS 1) and denied0 (QoS 0), which the plugin
// must stop, then a sentinel to ok (QoS 1): dst's next message is the sentinel, and c, the
// plugin's connection, is still open.
func (s *sc) deniedThenSentinel(src, dst, c *mqttClient, denied1, denied0, ok string) {
	s.Helper()
	s.mustPublish(src, denied1, 1, "denied")
	s.mustPublish(src, denied0, 0, "denied0")
	s.mustPublish(src, ok, 1, "sentinel")
	s.receive(dst, ok+" sentinel")
	s.open(c)
}

func deniedSubscribeDisconnect(s *sc) {
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, s.token("allow"))
	_, _ = s.subscribe(c, "devices/someoneelse/#")
	s.closed(c, 10*time.Second, "a denied SUBSCRIBE with denyAction disconnect")
}

// deniedSubscribeReject: SUBACK 0x80 for the denied filter; the connection and the allowed
// subscriptions go on.
func deniedSubscribeReject(s *sc) {
	tok := s.token("allow")
	c := s.mustDial(connOpts{addr: s.e.rejectAddr, clientID: "c-" + s.id}, tok)
	code, err := s.subscribe(c, "devices/someoneelse/#")
	if err != nil || code != 0x80 {
		s.fatalf("SUBACK for a denied filter: %#x, %v; want 0x80", code, err)
	}
	s.mustSubscribe(c, s.topic("#"))
	pub := s.mustDial(connOpts{addr: s.e.rejectAddr, clientID: "p-" + s.id}, tok)
	s.mustPublish(pub, s.topic("x"), 1, "still-subscribed")
	s.receive(c, s.topic("x")+" still-subscribed")
	s.open(c)
}

// deniedSubscribeMosquitto: what mosquitto_sub prints for a refused subscription (denyAction
// reject), as README shows.
func deniedSubscribeMosquitto(s *sc) {
	sub := s.mosquittoSub(s.e.rejectAddr, "c-"+s.id, s.username(s.token("allow")), "-t", "devices/someoneelse/#")
	select {
	case <-sub.done:
	case <-time.After(15 * time.Second):
		s.fatalf("mosquitto_sub still running after a refused subscription:\n%s", sub.out)
	}
	if !strings.Contains(sub.out.String(), "All subscription requests were denied") {
		s.fatalf("mosquitto_sub output:\n%s", sub.out)
	}
}

// receiveDenied: a message the client may not receive is never delivered (it is published from
// the broker side, then a sentinel it may receive proves the stream goes on).
func receiveDenied(s *sc) {
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, s.token("allow"))
	s.mustSubscribe(c, s.topic("#"))
	src := s.direct("src-" + s.id)
	s.deniedThenSentinel(src, c, c, s.topic("noreceive/x"), s.topic("noreceive/y"), s.topic("ok"))
}

// badSignature: refused before any authorizer call.
func badSignature(s *sc) {
	tok := s.token("allow")
	u := gatewaytest.Username("device", authorizer, tokenKey, tok, s.sign("another-token"))
	s.refusedUncalled(tok, connOpts{clientID: "c-" + s.id, username: u}, "with a signature of another token")
}

// wrongSNI: a server name that is not a data endpoint is refused (the plugin's endpoint check in
// the embedded gateway; Envoy's filter chain match in compose), with no authorizer call.
func wrongSNI(s *sc) {
	tok := s.token("allow")
	s.refusedUncalled(tok, connOpts{clientID: "c-" + s.id, username: s.username(tok),
		tls: &tls.Config{ServerName: "wrong.example.test", InsecureSkipVerify: true, NextProtos: []string{"mqtt"}}},
		"with SNI wrong.example.test")
}

// noALPN: without ALPN "mqtt" the connection is HTTPS; an MQTT client gets no MQTT service.
func noALPN(s *sc) {
	tok := s.token("allow")
	s.refusedUncalled(tok, connOpts{clientID: "c-" + s.id, username: s.username(tok),
		tls: &tls.Config{RootCAs: s.e.pool, ServerName: hostOf(s.e.addr)}}, "without ALPN mqtt")
}

// refusedUncalled dials with o and wants the connection refused before any authorizer call for
// tok; what says how the connection differs ("with SNI x").
func (s *sc) refusedUncalled(tok string, o connOpts, what string) {
	if _, err := s.dial(o); err == nil {
		s.fatalf("connected %s", what)
	}
	if n := s.hits(tok); n != 0 {
		s.fatalf("%d authorizer calls %s, want 0", n, what)
	}
}

// refreshDenied: the authorizer allows, then denies on the refresh after 2 s: the connection is
// closed.
func refreshDenied(s *sc) {
	tok := s.token("refresh")
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, tok)
	s.closed(c, 15*time.Second, "a refresh the authorizer denied")
	if n := s.hits(tok); n < 2 {
		s.fatalf("%d authorizer calls, want the connect and at least one refresh", n)
	}
}

// refreshAllowed: refreshes every 2 s keep the connection and its policy.
func refreshAllowed(s *sc) {
	tok := s.token("keep")
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, tok)
	s.mustSubscribe(c, s.topic("#"))
	s.eventually(15*time.Second, func() bool { return s.hits(tok) >= 3 }, "authorizer calls for %s: %d, want ≥ 3 (two refreshes)", tok, s.hits(tok))
	s.open(c)
	s.mustPublish(c, s.topic("x"), 1, "after-refresh")
	s.receive(c, s.topic("x")+" after-refresh")
}

// disconnectAfter: disconnectAfterInSeconds 3 closes the connection (CUSTOMAUTH_TTL_EXPIRATION).
func disconnectAfter(s *sc) {
	start := time.Now()
	c := s.mustDial(connOpts{clientID: "c-" + s.id, keepAlive: 60 * time.Second}, s.token("ttl"))
	s.closed(c, 15*time.Second, "disconnectAfterInSeconds 3")
	if d := time.Since(start); d < 2500*time.Millisecond {
		s.fatalf("closed after %v, before disconnectAfterInSeconds (3 s)", d)
	}
}

// authorizerDown: an authorizer that resets the connection or answers 500 denies (fail closed).
func authorizerDown(s *sc) {
	for _, kind := range []string{"down", "error"} {
		tok := s.token(kind)
		if _, err := s.dial(connOpts{clientID: kind + "-" + s.id, username: s.username(tok)}); err == nil {
			s.fatalf("connected while the authorizer fails (%s)", kind)
		}
		if code, _ := s.httpsPublish(s.topic("x"), tok, "x", nil); code != http.StatusForbidden {
			s.fatalf("HTTPS publish while the authorizer fails (%s): %d, want 403", kind, code)
		}
		if s.hits(tok) == 0 {
			s.fatalf("the authorizer was not called for %s", tok)
		}
	}
}

// httpsPublish: POST /topics/{topic} with the credentials in headers: 200 and the broker has it;
// a denied topic: 403 {"message":"Forbidden","traceId":...} and nothing reaches the broker.
func httpsPublish(s *sc) {
	tok := s.token("allow")
	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))
	code, body := s.httpsPublish(s.topic("denied"), tok, "nope", nil)
	if code != http.StatusForbidden || !strings.Contains(body, `"message":"Forbidden"`) || !strings.Contains(body, `"traceId":"`) {
		s.fatalf("denied HTTPS publish: %d %s", code, body)
	}
	code, body = s.httpsPublish(s.topic("http"), tok, "22.5", nil)
	if code != http.StatusOK {
		s.fatalf("allowed HTTPS publish: %d %s", code, body)
	}
	s.receive(watch, s.topic("http")+" 22.5")
	// A bad signature: 403 without an authorizer call.
	bad := tok + "b"
	if code, _ := s.httpsPublish(s.topic("http"), bad, "x", map[string]string{"x-amz-customauthorizer-signature": s.sign("another-token")}); code != http.StatusForbidden {
		s.fatalf("HTTPS publish with a bad signature: %d, want 403", code)
	}
	if n := s.hits(bad); n != 0 {
		s.fatalf("%d authorizer calls for a bad signature, want 0", n)
	}
}

func hostOf(addr string) string {
	h, _, _ := strings.Cut(addr, ":")
	return h
}

// TestRemoteFlags_AgainstEmbedded keeps the compose mode exact where Docker cannot run: it
// builds the environment from the flags the compose tester passes (CA file, signing key file,
// authorizer admin URL, broker), pointed at the embedded stack, and runs two scenarios through it.
// (Its name avoids "Compose": the tester selects the compose tests with -run Compose.)
func TestRemoteFlags_AgainstEmbedded(t *testing.T) {
	e := startEmbedded(t)
	der, err := x509.MarshalPKCS8PrivateKey(e.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "token-signing-private.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	saved := []*string{flagAddr, flagRejectAddr, flagCA, flagSigningKey, flagAuthorizer, flagBroker}
	old := make([]string, len(saved))
	for i, p := range saved {
		old[i] = *p
	}
	defer func() {
		for i, p := range saved {
			*p = old[i]
		}
	}()
	*flagAddr, *flagRejectAddr, *flagCA, *flagSigningKey, *flagAuthorizer, *flagBroker =
		e.addr, e.rejectAddr, e.caFile, keyFile, e.authorizer, e.broker
	ce := composeEnv(t)
	ce.logs = e.logs
	setRules(t, ce)
	allowedPahoTLS(&sc{T: t, e: ce, id: "composeflags"})
	deniedSubscribeReject(&sc{T: t, e: ce, id: "composeflagsreject"})
}

// pipelinedPublish: a device that writes CONNECT and PUBLISH together, without waiting for the
// CONNACK (common on constrained devices), gets both answered and the message reaches the broker
// once the authorizer allows the connection, without having to send anything more.
func pipelinedPublish(s *sc) {
	watch := s.direct("watch-" + s.id)
	s.mustSubscribe(watch, s.topic("#"))
	tok := s.token("allow")
	c, err := tls.Dial("tcp", s.e.addr, &tls.Config{RootCAs: s.e.pool, ServerName: hostOf(s.e.addr), NextProtos: []string{"mqtt"}})
	if err != nil {
		s.fatalf("dial: %v", err)
	}
	defer c.Close()
	msg := append(connectPacket("c-"+s.id, s.username(tok)), publishQoS1(s.topic("pipelined"), 9, "together")...)
	if _, err := c.Write(msg); err != nil {
		s.fatalf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, want := range []byte{0x20, 0x40} {
		typ, body, err := readMQTT(br)
		if err != nil || typ != want {
			s.fatalf("waiting for packet type %#x: got %#x %x, %v (a PUBLISH sent with the CONNECT is held until the client sends more?)", want, typ, body, err)
		}
	}
	s.receive(watch, s.topic("pipelined")+" together")
}
