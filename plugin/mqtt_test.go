//go:build !wasm

package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/mqtt/mqtttest"
	"github.com/iotauthz/iotauthz/plugin/websocket"
)

// ---- MQTT packets, built with the project's codec ----

func pkt(version byte, p mqtt.Packet) []byte { return p.Append(nil, version) }

func connectPkt(version byte, clientID, username string) []byte {
	name := "MQTT"
	return pkt(version, mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte(name), ProtocolLevel: version,
		CleanStart: true, KeepAlive: 60, ClientID: []byte(clientID),
		HasUsername: username != "", Username: []byte(username), HasPassword: username != "", Password: []byte("pw")})
}

// upstreamConnect is the CONNECT as the broker receives it: the user name stripped of the
// credentials (given here already stripped) and no password (mqtt.forwardPassword is off).
func upstreamConnect(version byte, clientID, username string) []byte {
	return pkt(version, mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: version,
		CleanStart: true, KeepAlive: 60, ClientID: []byte(clientID), HasUsername: username != "", Username: []byte(username)})
}

func connackPkt(version byte) []byte { return pkt(version, mqtt.Packet{Type: mqtt.Connack}) }

func publishPkt(version byte, topic string, qos byte, retain bool, id uint16, payload string) []byte {
	return pkt(version, mqtt.Packet{Type: mqtt.Publish, Topic: []byte(topic), QoS: qos, Retain: retain, PacketID: id, Payload: []byte(payload)})
}

// subscribePkt and subackPkt: see mqtttest.
var subscribePkt, subackPkt = mqtttest.Subscribe, mqtttest.Suback

func pubackPkt(version byte, id uint16, code byte) []byte {
	return pkt(version, mqtt.Packet{Type: mqtt.Puback, PacketID: id, ReasonCode: code})
}

var (
	pingreq  = []byte{0xc0, 0x00}
	pingresp = []byte{0xd0, 0x00}
)

// username carries the credentials the AWS way; the signature is percent-encoded.
func credUsername(token string) string {
	return "dev?x-amz-customauthorizer-name=tokens&x-amz-customauthorizer-signature=" +
		url.QueryEscape(sign(testKey, token)) + "&x-device-token=" + url.QueryEscape(token) + "&SDK=Go&Version=1"
}

// ---- one MQTT connection through the plugin, over TLS (network filter) or WebSocket ----

type pipe interface {
	client(b []byte) host.FilterStatus
	broker(b []byte)
	toBroker() []byte // MQTT bytes that reached the broker (WebSocket frames decoded)
	toClient() []byte
	closed() bool
}

type tlsPipe struct{ c *host.Connection }

func (p *tlsPipe) client(b []byte) host.FilterStatus { return p.c.DownstreamData(b, false) }
func (p *tlsPipe) broker(b []byte)                   { p.c.UpstreamData(b, false) }
func (p *tlsPipe) toBroker() []byte                  { return p.c.State().ToUpstream }
func (p *tlsPipe) toClient() []byte                  { return p.c.State().ToClient }
func (p *tlsPipe) closed() bool                      { return p.c.State().Closed }

type wsPipe struct {
	t *testing.T
	s *host.HTTPStream
}

func (p *wsPipe) client(b []byte) host.FilterStatus {
	f := websocket.Frame{Fin: true, Opcode: websocket.OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Payload: b}
	return p.s.RequestBody(websocket.AppendFrame(nil, &f), false)
}

func (p *wsPipe) broker(b []byte) {
	f := websocket.Frame{Fin: true, Opcode: websocket.OpBinary, Payload: b}
	p.s.ResponseBody(websocket.AppendFrame(nil, &f), false)
}

func (p *wsPipe) toBroker() []byte { return unframe(p.t, p.s.Upstream().Body) }
func (p *wsPipe) toClient() []byte { return unframe(p.t, p.s.Client().Body) }
func (p *wsPipe) closed() bool     { return p.s.Client().Reset }

// unframe concatenates the payloads of the data frames in b.
func unframe(t *testing.T, b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		f, n, err := websocket.ReadFrame(b, 1<<20)
		if err != nil || n == 0 {
			t.Fatalf("bad websocket stream (%v, n=%d): %x", err, n, b)
		}
		if f.Opcode == websocket.OpBinary || f.Opcode == websocket.OpContinuation {
			payload := append([]byte(nil), f.Payload...)
			if f.Masked {
				for i := range payload {
					payload[i] ^= f.MaskKey[i%4]
				}
			}
			out = append(out, payload...)
		}
		b = b[n:]
	}
	return out
}

func openTLS(e *env, worker int) pipe {
	c := e.p.Worker(worker).NewConnection(host.Properties{SNI: "iot.example.com", SourceAddress: "198.51.100.4:40000"})
	return &tlsPipe{c: c}
}

func openWS(e *env, worker int) pipe {
	s := e.p.Worker(worker).NewHTTPStream(httpProps(77))
	s.RequestHeaders(host.Headers{{":method", "GET"}, {":path", "/mqtt"}, {":authority", "iot.example.com"},
		{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-protocol", "mqtt"},
		{"sec-websocket-extensions", "permessage-deflate; client_max_window_bits"}}, false)
	if !s.Upstream().HeadersSent {
		e.t.Fatalf("upgrade without credentials must go on to the CONNECT\n%s", e.logs())
	}
	if _, ok := s.Upstream().Headers.Get("sec-websocket-extensions"); ok {
		e.t.Fatalf("an extension offer reached the broker: frames could be compressed")
	}
	s.ResponseHeaders(host.Headers{{":status", "101"}, {"upgrade", "websocket"}, {"connection", "Upgrade"}}, false)
	return &wsPipe{t: e.t, s: s}
}

// connect sends CONNECT, waits for the authorizer, and answers CONNACK.
func connect(t *testing.T, e *env, p pipe, version byte, clientID string) {
	t.Helper()
	before := len(p.toBroker())
	p.client(connectPkt(version, clientID, credUsername("tok-"+clientID)))
	e.settle()
	if p.closed() {
		t.Fatalf("CONNECT refused\n%s", e.logs())
	}
	want := upstreamConnect(version, clientID, "dev?SDK=Go&Version=1")
	if got := p.toBroker()[before:]; !bytes.Equal(got, want) {
		t.Fatalf("CONNECT upstream:\n got %x\nwant %x (credentials stripped)\n%s", got, want, e.logs())
	}
	p.broker(connackPkt(version))
	if !bytes.HasSuffix(p.toClient(), connackPkt(version)) {
		t.Fatalf("CONNACK did not reach the client")
	}
}

// openConnected is a new environment whose authorizer answers mqttPolicy, and an MQTT
// connection over tr on which client "c1" has connected with the given protocol version.
func openConnected(t *testing.T, tr carrier, version byte) (*env, pipe) {
	t.Helper()
	return openConnectedWith(t, tr, version, nil, mqttPolicy())
}

// openConnectedWith is openConnected on the configuration changed by mutate (with opts), whose
// authorizer answers 200 with body.
func openConnectedWith(t *testing.T, tr carrier, version byte, mutate func(map[string]any), body string, opts ...envOption) (*env, pipe) {
	t.Helper()
	e := newEnv(t, mutate, opts...)
	e.auth.setAnswer(respond(200, body))
	p := tr.open(e, 0)
	connect(t, e, p, version, "c1")
	return e, p
}

type carrier struct {
	name string
	open func(*env, int) pipe
}

var transports = []carrier{{"tls", openTLS}, {"wss", openWS}}

// TestMQTT_Matrix: transport × MQTT version × action × allowed/denied × denyAction, through the
// real .wasm: the exact MQTT bytes that reach the broker and the client, and the log line.
func TestMQTT_Matrix(t *testing.T) {
	type step struct {
		name string
		// run sends the packets; it returns the bytes expected at the broker and the client after
		// the connect, and whether the connection must be closed.
		run func(p pipe, v byte) (broker, client []byte, closed bool)
		// event and status of the last decision line
		event, status, topic string
	}
	const ok, deny = "device/c1/a", "other/x"
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, action := range []string{"disconnect", "reject"} {
				reject := action == "reject"
				notAuth := byte(0x80)
				if v == 5 {
					notAuth = 0x87
				}
				steps := []step{
					{"publish qos1 allowed", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(publishPkt(v, ok, 1, false, 1, "hi"))
						return publishPkt(v, ok, 1, false, 1, "hi"), nil, false
					}, "Publish-In", "Success", ok},
					{"publish qos0 denied", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(publishPkt(v, deny, 0, false, 0, "no"))
						return nil, nil, !reject
					}, "Publish-In", "Failure", deny},
					{"publish qos1 denied", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(publishPkt(v, deny, 1, false, 7, "no"))
						if !reject {
							return nil, nil, true
						}
						// the publish becomes a PINGREQ; its PINGRESP becomes the PUBACK
						p.broker(pingresp)
						code := byte(0)
						if v == 5 {
							code = 0x87
						}
						return pingreq, pubackPkt(v, 7, code), false
					}, "Publish-In", "Failure", deny},
					{"retain without RetainPublish", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(publishPkt(v, "device/c1/r", 0, true, 0, "no"))
						return nil, nil, !reject
					}, "Publish-In", "Failure", "device/c1/r"},
					{"subscribe allowed", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(subscribePkt(v, 3, "device/c1/#"))
						p.broker(subackPkt(v, 3, 1))
						return subscribePkt(v, 3, "device/c1/#"), subackPkt(v, 3, 1), false
					}, "Subscribe", "Success", "device/c1/#"},
					{"subscribe partly denied", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(subscribePkt(v, 4, "device/c1/#", "other/#"))
						if !reject {
							return nil, nil, true
						}
						p.broker(subackPkt(v, 4, 1))
						return subscribePkt(v, 4, "device/c1/#"), subackPkt(v, 4, 1, notAuth), false
					}, "Subscribe", "Failure", "other/#"},
					{"subscribe denied", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.client(subscribePkt(v, 5, "other/#"))
						if !reject {
							return nil, nil, true
						}
						p.broker(pingresp)
						return pingreq, subackPkt(v, 5, notAuth), false
					}, "Subscribe", "Failure", "other/#"},
					{"receive allowed", func(p pipe, v byte) ([]byte, []byte, bool) {
						p.broker(publishPkt(v, "device/c1/in", 0, false, 0, "x"))
						return nil, publishPkt(v, "device/c1/in", 0, false, 0, "x"), false
					}, "Publish-Out", "Success", "device/c1/in"},
					{"receive denied qos1", func(p pipe, v byte) ([]byte, []byte, bool) {
						// never delivered, whatever the denyAction: the client gets a PUBREL of
						// the same id, and its PUBCOMP becomes the broker's PUBACK
						p.broker(publishPkt(v, "device/c1/hidden", 1, false, 9, "x"))
						p.client(pkt(v, mqtt.Packet{Type: mqtt.Pubcomp, PacketID: 9}))
						return pubackPkt(v, 9, 0), pkt(v, mqtt.Packet{Type: mqtt.Pubrel, PacketID: 9}), false
					}, "Publish-Out", "Failure", "device/c1/hidden"},
				}
				for _, st := range steps {
					name := fmt.Sprintf("%s/v%d/%s/%s", tr.name, v, action, st.name)
					t.Run(name, func(t *testing.T) {
						e := newEnv(t, func(c map[string]any) { c["mqtt"].(map[string]any)["denyAction"] = action })
						e.auth.setAnswer(respond(200, mqttPolicy()))
						p := tr.open(e, 0)
						connect(t, e, p, v, "c1")
						b0, c0 := len(p.toBroker()), len(p.toClient())
						wantB, wantC, wantClosed := st.run(p, v)
						e.settle()
						if p.closed() != wantClosed {
							t.Fatalf("closed = %v, want %v\n%s", p.closed(), wantClosed, e.logs())
						}
						if got := p.toBroker()[b0:]; !bytes.Equal(got, wantB) {
							t.Errorf("to broker:\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(wantB))
						}
						if got := p.toClient()[c0:]; !bytes.Equal(got, wantC) {
							t.Errorf("to client:\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(wantC))
						}
						line := lastDecision(e, st.event)
						if line == nil || line["status"] != st.status || line["topicName"] != st.topic || line["clientId"] != "c1" {
							t.Errorf("decision line = %v, want %s %s %s\n%s", line, st.event, st.status, st.topic, e.logs())
						}
						if st.status == "Failure" && line != nil && line["reason"] != "AUTHORIZATION_FAILURE" {
							t.Errorf("reason %v", line["reason"])
						}
						if wantClosed {
							d := lastDecision(e, "Disconnect")
							if d == nil || d["disconnectReason"] != "FORBIDDEN_ACCESS" {
								t.Errorf("disconnect line = %v", d)
							}
						}
					})
				}
			}
		}
	}
}

// mqttPolicy: client c1 may connect, publish and receive on device/c1/* (not retained), subscribe
// to device/c1/*; it may subscribe to but not receive device/c1/hidden.
func mqttPolicy() string {
	return response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"`+arn+`client/${iot:ClientId}"},
		{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"`+arn+`topic/device/${iot:ClientId}/*"},
		{"Effect":"Allow","Action":"iot:Subscribe","Resource":"`+arn+`topicfilter/device/${iot:ClientId}/*"},
		{"Effect":"Deny","Action":"iot:Receive","Resource":"`+arn+`topic/device/c1/hidden"}]}`)
}

func lastDecision(e *env, event string) map[string]any {
	d := e.decisions()
	for i := len(d) - 1; i >= 0; i-- {
		if d[i]["eventType"] == event {
			return d[i]
		}
	}
	return nil
}

// TestMQTT_ConnectDenied: every way a CONNECT is refused answers CONNACK "not authorized" (through
// the refusal CONNECT, see refused) and closes; nothing of the client reaches the broker.
func TestMQTT_ConnectDenied(t *testing.T) {
	cases := []struct {
		name     string
		clientID string
		username string
		answer   func(map[string]any) (int, string)
		reason   string
		hits     int64
	}{
		{"bad signature", "c1", "u?x-amz-customauthorizer-signature=" + url.QueryEscape(sign(otherKey, "t")) + "&x-device-token=t", nil, "SIGNATURE_INVALID", 0},
		{"no credentials", "c1", "", nil, "TOKEN_MISSING", 0},
		{"unknown authorizer", "c1", "u?x-amz-customauthorizer-name=zzz&x-device-token=t", nil, "AUTHORIZER_NOT_FOUND", 0},
		{"not authenticated", "c1", credUsername("t"), respond(200, `{"isAuthenticated":false}`), "NOT_AUTHENTICATED", 1},
		{"authorizer down", "c1", credUsername("t"), respond(503, "no"), "AUTHORIZER_CALL_FAILED", 1},
		{"iot:Connect denied", "intruder", credUsername("t"), respond(200, response("d1", 600, 3600,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"`+arn+`client/c1"}]}`)), "AUTHORIZATION_FAILURE", 1},
	}
	for _, tr := range transports {
		for _, tc := range cases {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, nil)
				if tc.answer != nil {
					e.auth.setAnswer(tc.answer)
				}
				p := tr.open(e, 1)
				p.client(connectPkt(4, tc.clientID, tc.username))
				e.settle()
				f := e.lastFailure()
				if !refused(t, e, p, 4) {
					t.Fatalf("connection left open\n%s", e.logs())
				}
				if f == nil || f["reason"] != tc.reason || f["eventType"] != "Connect" {
					t.Fatalf("failure line %v, want reason %s\n%s", f, tc.reason, e.logs())
				}
				if e.auth.hits.Load() != tc.hits {
					t.Fatalf("hits %d want %d", e.auth.hits.Load(), tc.hits)
				}
			})
		}
	}
}

// TestMQTT_WrongSNI: a TLS connection whose SNI is not a data endpoint is refused at once (logged,
// no authorizer call); its CONNECT is answered CONNACK not authorized, as every refused CONNECT.
func TestMQTT_WrongSNI(t *testing.T) {
	for _, v := range []byte{4, 5} {
		e := newEnv(t, nil)
		p := &tlsPipe{e.p.Worker(0).NewConnection(host.Properties{SNI: "", SourceAddress: "198.51.100.4:1"})}
		if f := e.lastFailure(); f == nil || f["reason"] != "DATA_ENDPOINT_MISMATCH" {
			t.Fatalf("%v", f)
		}
		p.client(connectPkt(v, "c1", credUsername("t")))
		e.settle()
		if !refused(t, e, p, v) || e.auth.hits.Load() != 0 {
			t.Fatalf("v%d: not refused, or the authorizer was called (%d)", v, e.auth.hits.Load())
		}
	}
}

// TestMQTT_Event: the event of an MQTT over TLS CONNECT (username, base64 password, client id,
// SNI) is the AWS shape.
func TestMQTT_Event(t *testing.T) {
	e := newEnv(t, nil)
	p := openTLS(e, 0)
	p.client(connectPkt(4, "c1", credUsername("tok-c1")))
	e.settle()
	ev := string(e.auth.lastEvent())
	for _, want := range []string{`"token":"tok-c1"`, `"signatureVerified":true`, `"protocols":["tls","mqtt"]`,
		`"tls":{"serverName":"iot.example.com"}`, `"password":"cHc="`, `"clientId":"c1"`, `"username":"dev?x-amz-customauthorizer-name=tokens&`} {
		if !strings.Contains(ev, want) {
			t.Errorf("event lacks %s: %s", want, ev)
		}
	}
	if strings.Contains(ev, `"http"`) {
		t.Errorf("MQTT over TLS event must not carry http: %s", ev)
	}
}

// TestMQTT_SplitPoints: the same client stream cut at every byte gives the same bytes at the
// broker and the same decisions as in one piece.
func TestMQTT_SplitPoints(t *testing.T) {
	stream := bytes.Join([][]byte{
		publishPkt(4, "device/c1/a", 1, false, 1, "one"),
		publishPkt(4, "other/x", 0, false, 0, "dropped"),
		subscribePkt(4, 2, "device/c1/#", "other/#"),
		publishPkt(4, "device/c1/b", 0, false, 0, "two"),
		pingreq,
	}, nil)
	reject := func(c map[string]any) { c["mqtt"].(map[string]any)["denyAction"] = "reject" }
	run := func(cut int) ([]byte, int) {
		e, p := openConnectedWith(t, transports[0], 4, reject, mqttPolicy(), workers(1))
		b0 := len(p.toBroker())
		if cut > 0 {
			p.client(stream[:cut])
		}
		p.client(stream[cut:])
		e.settle()
		return append([]byte(nil), p.toBroker()[b0:]...), len(e.decisions())
	}
	want, wantN := run(0)
	for cut := 1; cut < len(stream); cut += 3 {
		got, n := run(cut)
		if !bytes.Equal(got, want) || n != wantN {
			t.Fatalf("cut at %d: broker got %x (%d decisions), want %x (%d)", cut, got, n, want, wantN)
		}
	}
}

// TestMQTT_RefreshAndDisconnect: on the virtual clock, a refresh with a changed policy applies to
// the next packet; a failed refresh closes; disconnectAfterInSeconds closes with
// CUSTOMAUTH_TTL_EXPIRATION.
func TestMQTT_RefreshAndDisconnect(t *testing.T) {
	policy := func(topic string, refresh, disconnect int) string {
		return response("dev1", refresh, disconnect, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
			{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/`+topic+`"}]}`)
	}
	t.Run("refresh changes the policy", func(t *testing.T) {
		e, p := openConnectedWith(t, transports[0], 4, fastRefresh, policy("a", 10, 100))
		p.client(publishPkt(4, "a", 0, false, 0, "1"))
		e.auth.setAnswer(respond(200, policy("b", 10, 100)))
		e.clock.Advance(11 * time.Second)
		e.settle()
		if e.auth.hits.Load() != 2 {
			t.Fatalf("no refresh call: %d\n%s", e.auth.hits.Load(), e.logs())
		}
		b0 := len(p.toBroker())
		p.client(publishPkt(4, "b", 0, false, 0, "2"))
		if !bytes.Equal(p.toBroker()[b0:], publishPkt(4, "b", 0, false, 0, "2")) {
			t.Fatalf("publish allowed by the refreshed policy did not pass\n%s", e.logs())
		}
		p.client(publishPkt(4, "a", 0, false, 0, "3"))
		if !p.closed() {
			t.Fatalf("publish denied by the refreshed policy passed")
		}
	})
	t.Run("refresh failure closes", func(t *testing.T) {
		e, p := openConnectedWith(t, transports[0], 5, fastRefresh, policy("a", 10, 100))
		e.auth.setAnswer(respond(500, "down"))
		e.clock.Advance(11 * time.Second)
		e.settle()
		if !p.closed() {
			t.Fatalf("connection open after a failed refresh\n%s", e.logs())
		}
		d := lastDecision(e, "Disconnect")
		if d == nil || d["disconnectReason"] != "AUTH_ERROR" || d["reason"] != "REFRESH_FAILED" {
			t.Fatalf("disconnect line %v", d)
		}
	})
	t.Run("disconnect after", func(t *testing.T) {
		e, p := openConnectedWith(t, transports[0], 4, fastRefresh, policy("a", 50, 20))
		e.clock.Advance(19 * time.Second)
		e.settle()
		if p.closed() {
			t.Fatalf("closed too early")
		}
		e.clock.Advance(2 * time.Second)
		e.settle()
		if !p.closed() {
			t.Fatalf("open after disconnectAfterInSeconds\n%s", e.logs())
		}
		d := lastDecision(e, "Disconnect")
		if d == nil || d["disconnectReason"] != "CUSTOMAUTH_TTL_EXPIRATION" {
			t.Fatalf("disconnect line %v", d)
		}
	})
}

// TestWS_UpgradeWithCredentials: credentials on the upgrade authenticate before the 101; a
// denial is a 403 before any upgrade; the CONNECT is then checked against iot:Connect.
func TestWS_UpgradeWithCredentials(t *testing.T) {
	tok := "tok-ws"
	h := host.Headers{{":method", "GET"}, {":path", "/mqtt"}, {":authority", "iot.example.com"},
		{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"x-device-token", tok},
		{"x-amz-customauthorizer-signature", sign(testKey, tok)}}
	t.Run("denied", func(t *testing.T) {
		e := newEnv(t, nil)
		e.auth.setAnswer(respond(200, `{"isAuthenticated":false}`))
		s := e.p.Worker(0).NewHTTPStream(httpProps(3))
		s.RequestHeaders(h, false)
		e.settle()
		if r := s.Client().LocalReply; r == nil || r.Status != 403 {
			t.Fatalf("want 403, got %+v", s.Client())
		}
	})
	t.Run("allowed", func(t *testing.T) {
		e := newEnv(t, nil)
		e.auth.setAnswer(respond(200, mqttPolicy()))
		s := e.p.Worker(0).NewHTTPStream(httpProps(3))
		s.RequestHeaders(h, false)
		e.settle()
		if !s.Upstream().HeadersSent {
			t.Fatalf("upgrade not forwarded\n%s", e.logs())
		}
		if _, ok := s.Upstream().Headers.Get("x-device-token"); ok {
			t.Fatalf("token header forwarded")
		}
		s.ResponseHeaders(host.Headers{{":status", "101"}}, false)
		p := &wsPipe{t: t, s: s}
		p.client(connectPkt(4, "c1", ""))
		if !bytes.Equal(p.toBroker(), connectPkt(4, "c1", "")) {
			t.Fatalf("CONNECT not forwarded at once: %x\n%s", p.toBroker(), e.logs())
		}
		p.client(connectPkt(4, "c2", "")) // a second CONNECT is a protocol error
		if !p.closed() {
			t.Fatalf("second CONNECT accepted")
		}
		if e.auth.hits.Load() != 1 {
			t.Fatalf("hits %d", e.auth.hits.Load())
		}
	})
}

// TestMQTT_AllowedBeforeDeniedStillForwarded: under denyAction disconnect, the allowed packets
// that precede a denied one in the same chunk still reach the broker before the close.
func TestMQTT_AllowedBeforeDeniedStillForwarded(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e, p := openConnected(t, tr, 4)
			b0 := len(p.toBroker())
			ok := publishPkt(4, "device/c1/a", 0, false, 0, "first")
			p.client(append(append([]byte(nil), ok...), publishPkt(4, "other/x", 0, false, 0, "denied")...))
			e.settle()
			if !p.closed() {
				t.Fatalf("open after a denied publish")
			}
			if got := p.toBroker()[b0:]; !bytes.Equal(got, ok) {
				t.Fatalf("broker got %x, want the allowed publish %x", got, ok)
			}
		})
	}
}

// TestMQTT_Pipelined: a PUBLISH written together with the CONNECT reaches the broker with it when
// allowed; a denied one closes the connection and nothing reaches the broker.
func TestMQTT_Pipelined(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newEnv(t, func(c map[string]any) { c["mqtt"].(map[string]any)["denyAction"] = "reject" })
			e.auth.setAnswer(respond(200, mqttPolicy()))
			ok := publishPkt(4, "device/c1/a", 1, false, 1, "x")
			p := tr.open(e, 0)
			p.client(append(connectPkt(4, "c1", credUsername("tok")), ok...))
			e.settle()
			want := append(upstreamConnect(4, "c1", "dev?SDK=Go&Version=1"), ok...)
			if !bytes.Equal(p.toBroker(), want) || p.closed() {
				t.Fatalf("broker got %x (closed %v), want %x\n%s", p.toBroker(), p.closed(), want, e.logs())
			}
			p2 := tr.open(e, 1)
			p2.client(append(connectPkt(4, "c1", credUsername("tok")), publishPkt(4, "other/x", 1, false, 1, "x")...))
			e.settle()
			if !p2.closed() || len(p2.toBroker()) != 0 {
				t.Fatalf("denied pipelined publish: closed %v, broker got %x", p2.closed(), p2.toBroker())
			}
		})
	}
}

// TestLogging_DebugClientIDs: at level "error" only failures are written, except for the client
// ids in logging.debugClientIds, whose every line is written at info (AWS's resource-specific
// logging).
func TestLogging_DebugClientIDs(t *testing.T) {
	e := newEnv(t, func(c map[string]any) {
		c["logging"] = map[string]any{"level": "error", "debugClientIds": []any{"c1"}}
		c["mqtt"].(map[string]any)["denyAction"] = "reject"
	})
	e.auth.setAnswer(respond(200, mqttPolicy()))
	watched, other := openTLS(e, 0), openTLS(e, 1)
	connect(t, e, watched, 4, "c1")
	connect(t, e, other, 4, "c2")
	watched.client(publishPkt(4, "device/c1/a", 0, false, 0, "x"))
	other.client(publishPkt(4, "device/c2/a", 0, false, 0, "x"))
	other.client(publishPkt(4, "elsewhere", 0, false, 0, "x"))
	e.settle()
	seen := map[string]bool{}
	for _, d := range e.decisions() {
		seen[fmt.Sprint(d["clientId"], " ", d["eventType"], " ", d["status"])] = true
	}
	for _, want := range []string{"c1 Connect Success", "c1 Publish-In Success", "c2 Publish-In Failure"} {
		if !seen[want] {
			t.Errorf("missing line %q in %v", want, seen)
		}
	}
	for _, unwanted := range []string{"c2 Connect Success", "c2 Publish-In Success"} {
		if seen[unwanted] {
			t.Errorf("line %q written at level error", unwanted)
		}
	}
}
