package authz_test

// The engine's own tests run natively on its in-memory ports (authztest); the plugin as a whole
// is tested as the real .wasm inside host/ (plugin/*_test.go).

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/authz/authztest"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

const testConfig = `{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["iot.example.com"],
"defaultAuthorizerName":"open","authorizers":[
 {"authorizerName":"open","authorizerFunction":{"cluster":"authorizer","path":"/authorize"},
  "tokenKeyName":"x-device-token","signingDisabled":true,"enableCachingForHttp":true},
 {"authorizerName":"off","authorizerFunction":{"cluster":"authorizer"},"tokenKeyName":"t","signingDisabled":true,"status":"INACTIVE"}],
"cache":{"scope":"connection","maxEntries":100,"staleIfErrorSeconds":60},
"mqtt":{"denyAction":"disconnect","stripCredentialsFromUsername":true},
"logging":{"level":"info"}}`

const arn = "arn:aws:iot:us-east-1:123456789012:"

const devicePolicy = `{"isAuthenticated":true,"principalId":"dev1","refreshAfterInSeconds":600,"disconnectAfterInSeconds":3600,
"policyDocuments":[{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/${iot:ClientId}"},
 {"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/device/*"}]}]}`

const t0 = int64(1_700_000_000) * 1e9

// newEngine is newEngineFrom(t, testConfig).
func newEngine(t *testing.T) (*authz.Engine, *authztest.Host) {
	t.Helper()
	return newEngineFrom(t, testConfig)
}

// newEngineFrom is an engine of the configuration config on a fresh in-memory host at t0.
func newEngineFrom(tb testing.TB, config string) (*authz.Engine, *authztest.Host) {
	tb.Helper()
	h := authztest.NewHost(t0)
	e, err := authz.New([]byte(config), h)
	if err != nil {
		tb.Fatal(err)
	}
	return e, h
}

func publish(topic, query string, extra ...[2]string) [][2]string {
	path := "/topics/" + topic
	if query != "" {
		path += "?" + query
	}
	return append([][2]string{{":method", "POST"}, {":path", path}, {":authority", "iot.example.com"}}, extra...)
}

var src = authz.Source{SNI: "iot.example.com", Conn: 7}

func TestNew_RejectsInvalidConfiguration(t *testing.T) {
	h := authztest.NewHost(t0)
	if _, err := authz.New([]byte(`{"region":"nowhere"}`), h); err == nil {
		t.Fatal("an invalid configuration was accepted")
	}
	if len(h.Logs) != 0 || h.Metrics != [authz.NumMetrics]int64{} {
		t.Fatal("New made host calls")
	}
}

// TestStream_PublishCachedAndStripped: a miss pauses for one call; the answer allows and resumes;
// the credentials are stripped; the same token on the same connection is a cache hit.
func TestStream_PublishCachedAndStripped(t *testing.T) {
	e, h := newEngine(t)
	var s authz.Stream
	sh := &authztest.Stream{}
	e.InitStream(&s, sh)
	hs := publish("device%2F1", "qos=1&x-amz-customauthorizer-name=open", [2]string{"x-device-token", "tok"})
	if a := s.RequestHeaders(hs, src); a != authz.Pause {
		t.Fatalf("miss: %v, want Pause", a)
	}
	calls := h.Pending()
	if len(calls) != 1 || !strings.Contains(string(calls[0].Body), `"token":"tok"`) ||
		!strings.Contains(string(calls[0].Body), `"protocols":["tls","http"]`) {
		t.Fatalf("calls %d, event %s", len(calls), calls[0].Body)
	}
	h.Respond("200", []byte(devicePolicy))
	if sh.Resumed != 1 || sh.ReplyStatus != 0 {
		t.Fatalf("resumed %d, reply %d; logs %v", sh.Resumed, sh.ReplyStatus, h.Logs)
	}
	if strings.Join(sh.Removed, ",") != "x-device-token" || sh.Path != "/topics/device%2F1?qos=1" {
		t.Fatalf("removed %v, path %q", sh.Removed, sh.Path)
	}
	if s.Done() {
		t.Fatal("a stream that waited for a call is reported reusable")
	}

	e.InitStream(&s, sh)
	if a := s.RequestHeaders(hs, src); a != authz.Continue || len(h.Pending()) != 0 {
		t.Fatalf("hit: %v, %d calls", a, len(h.Pending()))
	}
	if !s.Done() {
		t.Fatal("a stream answered from the cache is not reusable")
	}
	e.Tick()
	if h.Metrics[authz.MetricCacheHits] != 1 || h.Metrics[authz.MetricCalls] != 1 {
		t.Fatalf("metrics %v", h.Metrics)
	}
}

// TestStream_Denials: each check before a call denies with a 403 body and a log line, and no
// call is made.
func TestStream_Denials(t *testing.T) {
	tests := []struct {
		name   string
		hs     [][2]string
		src    authz.Source
		reason string
	}{
		{"wrong Host", [][2]string{{":method", "POST"}, {":path", "/topics/a"}, {":authority", "evil.example.com"}}, src, "DATA_ENDPOINT_MISMATCH"},
		{"wrong SNI", publish("a", ""), authz.Source{SNI: "evil.example.com"}, "DATA_ENDPOINT_MISMATCH"},
		{"inactive authorizer", publish("a", "x-amz-customauthorizer-name=off"), src, "AUTHORIZER_INACTIVE"},
		{"unknown authorizer", publish("a", "", [2]string{"x-amz-customauthorizer-name", "nope"}), src, "AUTHORIZER_NOT_FOUND"},
		{"bad topic escape", publish("a%2", ""), src, "UNSUPPORTED_REQUEST"},
		{"bad qos", publish("a", "qos=2"), src, "UNSUPPORTED_REQUEST"},
		{"other path", [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "iot.example.com"}}, src, "UNSUPPORTED_REQUEST"},
		{"token too long", publish("a", "", [2]string{"x-device-token", strings.Repeat("t", 6145)}), src, "TOKEN_TOO_LONG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, h := newEngine(t)
			var s authz.Stream
			sh := &authztest.Stream{}
			e.InitStream(&s, sh)
			if a := s.RequestHeaders(tc.hs, tc.src); a != authz.Pause || sh.ReplyStatus != 403 {
				t.Fatalf("%v, reply %d", a, sh.ReplyStatus)
			}
			if !strings.HasPrefix(string(sh.ReplyBody), `{"message":"Forbidden","traceId":"`) {
				t.Fatalf("body %s", sh.ReplyBody)
			}
			if len(h.Pending()) != 0 || len(h.LogsContaining(`"reason":"`+tc.reason+`"`)) != 1 {
				t.Fatalf("calls %d, logs %v", len(h.Pending()), h.Logs)
			}
		})
	}
}

// TestStream_SingleFlightAndStale: concurrent misses for one key make one call and resume
// together; a failed refresh of an expired decision serves it stale within staleIfErrorSeconds.
func TestStream_SingleFlightAndStale(t *testing.T) {
	e, h := newEngine(t)
	hs := publish("device/1", "", [2]string{"x-device-token", "tok"})
	var ss [3]authz.Stream
	var shs [3]authztest.Stream
	for i := range ss {
		e.InitStream(&ss[i], &shs[i])
		if a := ss[i].RequestHeaders(hs, src); a != authz.Pause {
			t.Fatalf("stream %d: %v", i, a)
		}
	}
	if len(h.Pending()) != 1 {
		t.Fatalf("%d calls for one key", len(h.Pending()))
	}
	h.Respond("200", []byte(devicePolicy))
	for i := range shs {
		if shs[i].Resumed != 1 {
			t.Fatalf("stream %d not resumed", i)
		}
	}
	h.Clock += 601e9 // past refreshAfterInSeconds
	var s authz.Stream
	sh := &authztest.Stream{}
	e.InitStream(&s, sh)
	if a := s.RequestHeaders(hs, src); a != authz.Pause {
		t.Fatalf("expired: %v", a)
	}
	h.Respond("503", nil)
	if sh.Resumed != 1 || h.Metrics[authz.MetricStaleServed] != 1 {
		t.Fatalf("stale not served: resumed %d, logs %v", sh.Resumed, h.Logs)
	}
	h.Clock += 61e9 // past staleIfErrorSeconds too
	e.InitStream(&s, sh)
	s.RequestHeaders(hs, src)
	h.Respond("503", nil)
	if sh.ReplyStatus != 403 || len(h.LogsContaining("AUTHORIZER_CALL_FAILED")) != 1 {
		t.Fatalf("reply %d, logs %v", sh.ReplyStatus, h.Logs)
	}
}

// TestStream_GoneBeforeAnswer: an answer for a stream the host no longer knows is dropped, and
// a good request still works after it.
func TestStream_GoneBeforeAnswer(t *testing.T) {
	e, h := newEngine(t)
	var s authz.Stream
	sh := &authztest.Stream{}
	sh.Gone = true
	e.InitStream(&s, sh)
	s.RequestHeaders(publish("device/1", "", [2]string{"x-device-token", "a"}), src)
	h.Respond("200", []byte(devicePolicy))
	if sh.Resumed != 0 || sh.ReplyStatus != 0 {
		t.Fatal("a gone stream was touched")
	}
	var s2 authz.Stream
	sh2 := &authztest.Stream{}
	e.InitStream(&s2, sh2)
	s2.RequestHeaders(publish("device/1", "", [2]string{"x-device-token", "b"}), src)
	h.Respond("200", []byte(devicePolicy))
	if sh2.Resumed != 1 {
		t.Fatalf("good request after: %v", h.Logs)
	}
}

func pkt(p mqtt.Packet) []byte { return p.Append(nil, 4) }

// TestConn_ConnectPublish: an MQTT CONNECT is held for the call, goes upstream without the
// credentials in its username, and publishes are decided per packet.
func TestConn_ConnectPublish(t *testing.T) {
	e, h := newEngine(t)
	tr := &authztest.Conn{KeepDelivered: true}
	c := e.OpenMQTT(tr, authz.Source{SNI: "iot.example.com", IP: "198.51.100.4", Port: 4000})
	connect := pkt(mqtt.Packet{Type: mqtt.Connect, ClientID: []byte("dev1"), Username: []byte("u?x-device-token=tok"), HasUsername: true, CleanStart: true})
	if a := tr.FromClient(c, connect); a != authz.Pause || len(h.Pending()) != 1 {
		t.Fatalf("CONNECT: %v, %d calls", a, len(h.Pending()))
	}
	if ev := string(h.Pending()[0].Body); !strings.Contains(ev, `"protocols":["tls","mqtt"]`) || !strings.Contains(ev, `"clientId":"dev1"`) {
		t.Fatalf("event %s", ev)
	}
	h.Respond("200", []byte(devicePolicy))
	// Keep-alive 0 becomes AWS's 1200 s (mqtt.limits.keepAliveMaxSeconds).
	want := pkt(mqtt.Packet{Type: mqtt.Connect, ClientID: []byte("dev1"), Username: []byte("u"), HasUsername: true, CleanStart: true, KeepAlive: 1200})
	if tr.Resumed != 1 || string(tr.ToBroker) != string(want) {
		t.Fatalf("broker got %x, want %x", tr.ToBroker, want)
	}
	tr.FromBroker(c, pkt(mqtt.Packet{Type: mqtt.Connack}))
	tr.ToBroker = nil
	ok := pkt(mqtt.Packet{Type: mqtt.Publish, Topic: []byte("device/1"), Payload: []byte("x")})
	if a := tr.FromClient(c, ok); a != authz.Continue || string(tr.ToBroker) != string(ok) {
		t.Fatalf("allowed publish: %v, broker got %x", a, tr.ToBroker)
	}
	tr.FromClient(c, pkt(mqtt.Packet{Type: mqtt.Publish, Topic: []byte("other")}))
	if !tr.Closed || h.Metrics[authz.MetricDeniedPublish] != 1 {
		t.Fatalf("denied publish: closed %v, metrics %v", tr.Closed, h.Metrics)
	}
	c.Closed("CONNECTION_LOST")
	if h.Metrics[authz.MetricMQTTConnections] != 0 || len(h.LogsContaining(`"eventType":"Disconnect"`)) != 1 {
		t.Fatalf("connections %d, logs %v", h.Metrics[authz.MetricMQTTConnections], h.Logs)
	}
}

// TestConn_RefusedSNIAndDeadline: a connection to another endpoint is logged and counted at once
// and its CONNECT is answered CONNACK not authorized (through the refusal CONNECT) without a
// Disconnect line or a connection counted; one that sends no CONNECT is closed on the tick after
// mqtt.connectTimeoutSeconds.
func TestConn_RefusedSNIAndDeadline(t *testing.T) {
	e, h := newEngine(t)
	tr := &authztest.Conn{KeepDelivered: true}
	c := e.OpenMQTT(tr, authz.Source{SNI: "evil.example.com"})
	if c == nil || tr.Closed || h.Metrics[authz.MetricDeniedConnect] != 1 || len(h.LogsContaining("DATA_ENDPOINT_MISMATCH")) != 1 {
		t.Fatalf("another endpoint: closed %v, metrics %v, logs %v", tr.Closed, h.Metrics, h.Logs)
	}
	connect := pkt(mqtt.Packet{Type: mqtt.Connect, ClientID: []byte("dev1"), Username: []byte("u?x-device-token=tok"), HasUsername: true, CleanStart: true})
	tr.FromClient(c, connect[:5])
	tr.FromClient(c, connect[5:])
	refusal := []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00}
	if string(tr.ToBroker) != string(refusal) || len(h.Pending()) != 0 {
		t.Fatalf("broker got % x (want the refusal CONNECT), %d authorizer calls", tr.ToBroker, len(h.Pending()))
	}
	tr.FromBroker(c, []byte{0x20, 0x02, 0x00, 0x02})
	if string(tr.ToClient) != "\x20\x02\x00\x05" || !tr.Closed {
		t.Fatalf("client got % x, closed %v", tr.ToClient, tr.Closed)
	}
	c.Closed("CONNECTION_LOST")
	if h.Metrics[authz.MetricMQTTConnections] != 0 || len(h.LogsContaining(`"eventType":"Disconnect"`)) != 0 {
		t.Fatalf("connections %d, logs %v", h.Metrics[authz.MetricMQTTConnections], h.Logs)
	}
	silent := &authztest.Conn{}
	e.OpenMQTT(silent, authz.Source{SNI: "evil.example.com"})
	h.Clock += 3600e9
	e.Tick()
	if !silent.Closed || len(h.LogsContaining(`"eventType":"Disconnect"`)) != 0 {
		t.Fatalf("another endpoint without a CONNECT: closed %v, logs %v", silent.Closed, h.Logs)
	}
	h.Clock -= 3600e9

	tr = &authztest.Conn{}
	c = e.OpenMQTT(tr, authz.Source{SNI: "iot.example.com"})
	tr.FromClient(c, []byte{0x10}) // a truncated CONNECT
	e.Tick()
	if tr.Closed {
		t.Fatal("closed before the deadline")
	}
	h.Clock += 3600e9
	e.Tick()
	if !tr.Closed || len(h.LogsContaining("connectTimeoutSeconds")) != 1 {
		t.Fatalf("not closed after the CONNECT deadline: %v", h.Logs)
	}
}
