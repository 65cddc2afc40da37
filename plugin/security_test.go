//go:build !wasm

package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// willConnectPkt is a CONNECT with the test credentials and a Will on topic.
func willConnectPkt(version byte, clientID, topic string, retain, clean bool) []byte {
	p := mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: version, CleanStart: clean,
		KeepAlive: 60, ClientID: []byte(clientID), HasUsername: true, Username: []byte(credUsername("tok-" + clientID)),
		HasPassword: true, Password: []byte("pw"), Will: true, WillTopic: []byte(topic), WillPayload: []byte("gone"),
		WillQoS: 1, WillRetain: retain}
	if version == mqtt.V5 {
		p.WillProperties = mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropWillDelay, Int: 5})
	}
	return pkt(version, p)
}

// willPolicy allows iot:Connect and publishing under device/, retained publishing under
// device/kept/ only.
func willPolicy(extra ...string) string {
	st := []string{`{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}`,
		`{"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/device/*"}`,
		`{"Effect":"Allow","Action":"iot:RetainPublish","Resource":"` + arn + `topic/device/kept/*"}`}
	st = append(st, extra...)
	return response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[`+strings.Join(st, ",")+`]}`)
}

// TestMQTT_Will: a Will is authorized at CONNECT as a PUBLISH of its topic would be; a Will the
// policy does not allow refuses the CONNECT before it reaches the broker, and the Connect failure
// names the Will. Over TLS and WebSocket, MQTT 3.1.1 and 5.
func TestMQTT_Will(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, c := range []struct {
				topic  string
				retain bool
				allow  bool
			}{
				{"device/c1/status", false, true},
				{"device/kept/c1", true, true},
				{"some/secret/topic", false, false},
				{"device/c1/status", true, false}, // retained: needs iot:RetainPublish too
			} {
				name := tr.name + "/v" + string('0'+v) + "/" + c.topic
				if c.retain {
					name += "/retained"
				}
				t.Run(name, func(t *testing.T) {
					e := newEnv(t, nil)
					e.auth.setAnswer(respond(200, willPolicy()))
					p := tr.open(e, 0)
					p.client(willConnectPkt(v, "c1", c.topic, c.retain, true))
					e.settle()
					if c.allow {
						if p.closed() || len(p.toBroker()) == 0 {
							t.Fatalf("allowed Will refused\n%s", e.logs())
						}
						got, _, err := mqtt.ReadPacket(p.toBroker(), v, 0)
						if err != nil || !got.Will || string(got.WillTopic) != c.topic || got.HasPassword {
							t.Fatalf("CONNECT upstream %+v %v", got, err)
						}
						return
					}
					if !refused(t, e, p, v) {
						t.Fatalf("denied Will: closed %v, broker got %x\n%s", p.closed(), p.toBroker(), e.logs())
					}
					for _, d := range e.decisions() {
						if d["eventType"] == "Connect" && d["status"] == "Success" && d["topicName"] == nil {
							t.Fatalf("a CONNECT refused for its Will logged a Connect success: %v", d)
						}
					}
					f := e.lastFailure()
					if f == nil || f["eventType"] != "Connect" || f["reason"] != "AUTHORIZATION_FAILURE" || f["clientId"] != "c1" ||
						!strings.Contains(f["details"].(string), "Will message: iot:") || !strings.Contains(f["details"].(string), "topic/"+c.topic) {
						t.Fatalf("failure line %v", f)
					}
				})
			}
		}
	}
}

// TestMQTT_ConnectConditionKeys: iot:ConnectAttributes, iot:LastWillTopic and iot:DomainName
// resolve for iot:Connect, with AWS's examples.
func TestMQTT_ConnectConditionKeys(t *testing.T) {
	allowConnect := func(cond string) string {
		return response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":`+cond+`},
			{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`)
	}
	plain := connectPkt(4, "c1", credUsername("tok-c1"))
	persistent := pkt(4, mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 4, KeepAlive: 60,
		ClientID: []byte("c1"), HasUsername: true, Username: []byte(credUsername("tok-c1"))})
	will := willConnectPkt(4, "c1", "device/c1/lwt", false, true)
	for _, c := range []struct {
		name    string
		cond    string
		connect []byte
		allow   bool
	}{
		// AWS's "default features only" example: no connect attribute at all.
		{"no attributes, plain", `{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}`, plain, true},
		{"no attributes, persistent", `{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}`, persistent, false},
		{"no attributes, will", `{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}`, will, false},
		{"persistent allowed", `{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}`, persistent, true},
		{"persistent allowed, will not", `{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}`, will, false},
		{"will required", `{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}`, will, true},
		{"will required, plain", `{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}`, plain, false},
		{"will topic", `{"ArnEquals":{"iot:LastWillTopic":"` + arn + `topic/device/${iot:ClientId}/lwt"}}`, will, true},
		{"will topic other", `{"ArnEquals":{"iot:LastWillTopic":"` + arn + `topic/device/other/lwt"}}`, will, false},
		{"domain", `{"StringEquals":{"iot:DomainName":"iot.example.com"}}`, plain, true},
		{"domain other", `{"StringEquals":{"iot:DomainName":"other.example.com"}}`, plain, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.auth.setAnswer(respond(200, allowConnect(c.cond)))
			p := openTLS(e, 0)
			p.client(c.connect)
			e.settle()
			if c.allow == refused(t, e, p, 4) {
				t.Fatalf("allowed %v, closed %v\n%s", c.allow, p.closed(), e.logs())
			}
		})
	}
	// A Deny with ForAnyValue fires on the attribute it names.
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, response("dev1", 600, 3600, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":"*"},
		{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}]}`)))
	p := openTLS(e, 0)
	p.client(persistent)
	e.settle()
	if !refused(t, e, p, 4) {
		t.Fatalf("Deny on PersistentConnect did not fire\n%s", e.logs())
	}
}

// TestMQTT_ConnectDeadline: a connection that sends nothing, or half a CONNECT, is closed after
// mqtt.connectTimeoutSeconds; a WebSocket upgrade that never carries a CONNECT too. A good client
// on the same plugin still connects.
func TestMQTT_ConnectDeadline(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { c["mqtt"].(map[string]any)["connectTimeoutSeconds"] = 3 })
	e.auth.setAnswer(respond(200, mqttPolicy()))
	silent, half, ws := openTLS(e, 0), openTLS(e, 1), openWS(e, 0)
	half.client(connectPkt(4, "c2", credUsername("tok"))[:10])
	e.clock.Advance(2 * time.Second)
	e.settle()
	if silent.closed() || half.closed() || ws.closed() {
		t.Fatal("closed before the deadline")
	}
	e.clock.Advance(2 * time.Second)
	e.settle()
	for name, p := range map[string]pipe{"silent": silent, "half CONNECT": half, "websocket": ws} {
		if !p.closed() {
			t.Fatalf("%s: open after the CONNECT deadline\n%s", name, e.logs())
		}
		if len(p.toBroker()) != 0 {
			t.Fatalf("%s: broker got %x", name, p.toBroker())
		}
	}
	d := lastDecision(e, "Disconnect")
	if d == nil || !strings.Contains(d["details"].(string), "no complete CONNECT within 3 s") {
		t.Fatalf("disconnect line %v", d)
	}
	good := openTLS(e, 0)
	connect(t, e, good, 4, "c1")
	e.clock.Advance(10 * time.Second)
	e.settle()
	if good.closed() {
		t.Fatal("the deadline closed a connected client")
	}
}

// TestMQTT_WillRevokedByRefresh: when a refresh no longer allows the Will, the client's next bytes
// become a normal DISCONNECT (after which the broker discards the Will) and the connection closes.
func TestMQTT_WillRevokedByRefresh(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			t.Run(tr.name+"/v"+string('0'+v), func(t *testing.T) {
				e := newEnv(t, fastRefresh)
				pol := func(topic string) string {
					return response("dev1", 10, 1000, `{"Version":"2012-10-17","Statement":[
						{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
						{"Effect":"Allow","Action":"iot:Publish","Resource":"`+arn+`topic/`+topic+`"}]}`)
				}
				e.auth.setAnswer(respond(200, pol("lwt/c1")))
				p := tr.open(e, 0)
				p.client(willConnectPkt(v, "c1", "lwt/c1", false, true))
				e.settle()
				p.broker(connackPkt(v))
				if p.closed() {
					t.Fatalf("refused\n%s", e.logs())
				}
				e.auth.setAnswer(respond(200, pol("other")))
				e.clock.Advance(11 * time.Second)
				e.settle()
				if p.closed() {
					t.Fatal("closed at once: the broker would publish the Will")
				}
				b0 := len(p.toBroker())
				p.client([]byte{0xc0, 0x00}) // the keep-alive PINGREQ
				e.settle()
				disc := pkt(v, mqtt.Packet{Type: mqtt.Disconnect})
				if got := p.toBroker()[b0:]; !bytes.Equal(got, disc) || !p.closed() {
					t.Fatalf("after the revocation the broker got %x (closed %v), want %x\n%s", got, p.closed(), disc, e.logs())
				}
				d := lastDecision(e, "Disconnect")
				if d == nil || d["reason"] != "REFRESH_FAILED" || !strings.Contains(d["details"].(string), "Will") {
					t.Fatalf("disconnect line %v", d)
				}
			})
		}
	}
}

// TestMQTT_ProtocolErrorV5: an MQTT 5 client's protocol error is answered with a DISCONNECT and
// the specification's reason code, through the broker's PINGRESP; nothing after it reaches the
// broker.
func TestMQTT_ProtocolErrorV5(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e, p := openConnected(t, tr, 5)
			b0 := len(p.toBroker())
			bad := []byte{0x30, 0x12, 0x00, 0x0b, 'd', 'e', 'v', 'i', 'c', 'e', '/', 'c', '1', '/', 'a', 0x03, 0x23, 0x00, 0x00, 'x'}
			p.client(bad)
			p.client(publishPkt(5, "device/c1/a", 0, false, 0, "later"))
			if got := p.toBroker()[b0:]; !bytes.Equal(got, []byte{0xc0, 0x00}) || p.closed() {
				t.Fatalf("broker got %x (closed %v), want one PINGREQ\n%s", got, p.closed(), e.logs())
			}
			c0 := len(p.toClient())
			p.broker([]byte{0xd0, 0x00})
			e.clock.Advance(time.Second) // a WebSocket is reset on the tick after the last packet
			e.settle()
			want := pkt(5, mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: mqtt.ReasonTopicAliasInvalid})
			if got := p.toClient()[c0:]; !bytes.Equal(got, want) || !p.closed() {
				t.Fatalf("client got %x (closed %v), want %x\n%s", got, p.closed(), want, e.logs())
			}
		})
	}
}

// TestMQTT_ForwardPassword: the broker gets the password only when mqtt.forwardPassword is on.
func TestMQTT_ForwardPassword(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { c["mqtt"].(map[string]any)["forwardPassword"] = true })
	e.auth.setAnswer(respond(200, mqttPolicy()))
	p := openTLS(e, 0)
	p.client(connectPkt(4, "c1", credUsername("tok")))
	e.settle()
	if want := connectPkt(4, "c1", "dev?SDK=Go&Version=1"); !bytes.Equal(p.toBroker(), want) {
		t.Fatalf("broker got %x, want %x", p.toBroker(), want)
	}
}

// TestHTTP_PublishBodyLimit: an HTTPS publish body above AWS's 128 KiB is answered 413, whether
// content-length declares it or a chunked body grows past it; a body at the limit passes, and the
// next request on the same plugin still works.
func TestHTTP_PublishBodyLimit(t *testing.T) {
	tok := "tok-body"
	good := sign(testKey, tok)
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, devicePolicy("dev1")))
	big := bytes.Repeat([]byte("x"), 64*1024)
	for _, c := range []struct {
		name   string
		length string
		chunks int // 64 KiB chunks sent
		want   int // 0: passes
	}{
		{"declared too large", "131073", 0, 413},
		{"declared garbage", "12x", 0, 413},
		{"chunked too large", "", 3, 413},
		{"at the limit", "131072", 2, 0},
		{"chunked at the limit", "", 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := publishHeaders("device/1", tok, good)
			if c.length != "" {
				h = append(h, [2]string{"content-length", c.length})
			}
			s := e.p.Worker(0).NewHTTPStream(httpProps(9))
			s.RequestHeaders(h, false)
			e.settle()
			for i := 0; i < c.chunks && s.Client().LocalReply == nil; i++ {
				s.RequestBody(big, i == c.chunks-1)
			}
			e.settle()
			r := s.Client().LocalReply
			if c.want == 0 {
				if r != nil || len(s.Upstream().Body) != c.chunks*len(big) {
					t.Fatalf("refused or cut: %+v, upstream %d bytes\n%s", r, len(s.Upstream().Body), e.logs())
				}
				return
			}
			if r == nil || r.Status != c.want || !strings.Contains(string(r.Body), `"message":"Payload Too Large"`) {
				t.Fatalf("reply %+v\n%s", r, e.logs())
			}
			if f := e.lastFailure(); f == nil || f["reason"] != "PAYLOAD_TOO_LARGE" {
				t.Fatalf("failure line %v", f)
			}
		})
	}
}

// TestLogging_FailureBudget: past logging.failureLinesPerSecond failure lines of one reason in a
// second, lines are suppressed and one summary line says how many; another reason has its own
// budget; the metrics count every denial; the next second logs again.
func TestLogging_FailureBudget(t *testing.T) {
	e := newEnv(t, func(c map[string]any) { c["logging"] = map[string]any{"failureLinesPerSecond": 3} })
	forged := func(n int, headers func() [][2]string) {
		for i := 0; i < n; i++ {
			s := e.p.Worker(0).NewHTTPStream(httpProps(uint64(100 + i)))
			s.RequestHeaders(headers(), true)
		}
		e.settle()
	}
	badSig := func() [][2]string { return publishHeaders("device/1", "tok", "AAAA") }
	badHost := func() [][2]string {
		return replace(publishHeaders("device/1", "tok", sign(testKey, "tok")), ":authority", "evil.example.com")
	}
	count := func(reason string) (lines int, summary string) {
		for _, d := range e.decisions() {
			if d["reason"] != reason {
				continue
			}
			if strings.Contains(d["details"].(string), "suppressed") {
				summary = d["details"].(string)
				continue
			}
			lines++
		}
		return
	}
	forged(10, badSig)
	forged(2, badHost)
	if n, _ := count("SIGNATURE_INVALID"); n != 3 {
		t.Fatalf("%d SIGNATURE_INVALID lines in one second, want the budget of 3\n%s", n, e.logs())
	}
	if n, _ := count("DATA_ENDPOINT_MISMATCH"); n != 2 {
		t.Fatalf("another reason shares the budget: %d lines", n)
	}
	if got := e.metric("iotauthz.decisions.denied"); got != 12 {
		t.Fatalf("denied metric %d, want every denial counted", got)
	}
	// metric() advanced the clock one second: the tick wrote the summary.
	if _, sum := count("SIGNATURE_INVALID"); !strings.HasPrefix(sum, "7 more failure lines") {
		t.Fatalf("summary %q\n%s", sum, e.logs())
	}
	forged(1, badSig)
	if n, _ := count("SIGNATURE_INVALID"); n != 4 {
		t.Fatalf("the next second's failure was not logged: %d lines", n)
	}
}

// TestHTTP_LambdaFunctionError: Envoy's aws_lambda filter passes a failed function through as
// HTTP 200 with x-amz-function-error; even a body that looks like an allow must deny.
func TestHTTP_LambdaFunctionError(t *testing.T) {
	failing := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("x-amz-function-error", "Unhandled")
		w.WriteHeader(200)
		io.WriteString(w, allowAll("dev1"))
	})
	e := newEnv(t, nil, func(c *host.Config) { c.Clusters["authorizer"] = host.Cluster{Handler: failing} })
	tok := "tok-lambda"
	s := e.p.Worker(0).NewHTTPStream(httpProps(5))
	s.RequestHeaders(publishHeaders("device/1", tok, sign(testKey, tok)), true)
	e.settle()
	if r := s.Client().LocalReply; r == nil || r.Status != 403 {
		t.Fatalf("reply %+v\n%s", r, e.logs())
	}
	if f := e.lastFailure(); f == nil || f["reason"] != "AUTHORIZER_CALL_FAILED" || !strings.Contains(f["details"].(string), "Lambda function error (Unhandled)") {
		t.Fatalf("failure line %v", f)
	}
}
