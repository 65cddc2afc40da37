//go:build !wasm

package main

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// AWS IoT Core's message broker limits (mqtt.limits, AWS's numbers by default), through the real
// .wasm over TLS and WebSocket. Sources:
// https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits (client id 128
// bytes, topic 256 bytes, 7 slashes, 128 KB payload, keep-alive 30–1200 s).

// limitRefused checks that the CONNECT of version v on p was refused for a limit: the broker got the
// refusal CONNECT and nothing of the client; answered as a compliant broker answers it, the client
// gets CONNACK "Client Identifier not valid" (0x85 in MQTT 5, return code 0x02 in 3.1.1) and the
// connection closes. The failure line has the reason.
func limitRefused(t *testing.T, e *env, p pipe, v byte, reason string) {
	t.Helper()
	limitRefusedWith(t, e, p, v, reason, map[byte]byte{4: 0x02, 5: 0x85}[v])
}

// limitRefusedWith is limitRefused with the CONNACK code the client must get.
func limitRefusedWith(t *testing.T, e *env, p pipe, v byte, reason string, code byte) {
	t.Helper()
	if !bytes.Equal(p.toBroker(), refusalConnect) || p.closed() || len(p.toClient()) != 0 {
		t.Fatalf("broker got % .40x, client % x, closed %v\n%s", p.toBroker(), p.toClient(), p.closed(), e.logs())
	}
	p.broker(brokerIDRejected)
	e.settle()
	e.clock.Advance(time.Second) // a WebSocket is reset on the tick after the CONNACK
	e.settle()
	want := pkt(v, mqtt.Packet{Type: mqtt.Connack, ReasonCode: code})
	if !bytes.Equal(p.toClient(), want) || !p.closed() {
		t.Fatalf("client got % x (want % x), closed %v\n%s", p.toClient(), want, p.closed(), e.logs())
	}
	f := lastDecision(e, "Connect")
	if f == nil || f["status"] != "Failure" || f["reason"] != reason || !strings.Contains(fmt.Sprint(f["details"]), "mqtt.limits.") {
		t.Fatalf("Connect line %v, want reason %s\n%s", f, reason, e.logs())
	}
	if d := lastDecision(e, "Disconnect"); d == nil || d["reason"] != reason || d["disconnectReason"] != "CLIENT_ERROR" {
		t.Fatalf("Disconnect line %v", d)
	}
}

// goodClientAfter connects a good client on another connection of the same plugin and publishes.
func goodClientAfter(t *testing.T, e *env, tr carrier, v byte) {
	t.Helper()
	e.auth.setAnswer(respond(200, mqttPolicy()))
	p := tr.open(e, 0)
	connect(t, e, p, v, "c1")
	in := publishPkt(v, "device/c1/after", 0, false, 0, "ok")
	before := len(p.toBroker())
	p.client(in)
	if !bytes.Equal(p.toBroker()[before:], in) || p.closed() {
		t.Fatalf("the good client's publish did not pass\n%s", e.logs())
	}
}

// TestLimits_ClientID: a client id of exactly 128 bytes connects; 129 bytes, or 65535, is refused
// with CONNACK 0x85 / 0x02 without calling the authorizer, logged LIMIT_EXCEEDED and counted as a
// denied connect; with emptyClientId "refuse" an empty id is refused the same way (CLIENT_ID_EMPTY),
// while by default it goes on (the broker assigns one). A good client works afterwards.
func TestLimits_ClientID(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			t.Run(fmt.Sprintf("%s/v%d", tr.name, v), func(t *testing.T) {
				e := newEnv(t, nil)
				e.auth.setAnswer(respond(200, mqttPolicy()))
				connect(t, e, tr.open(e, 0), v, strings.Repeat("a", 128))

				for _, id := range []string{strings.Repeat("a", 129), strings.Repeat("h", 65535)} {
					hits := e.auth.hits.Load()
					denied := e.metric("iotauthz.mqtt.denied.connect")
					p := tr.open(e, 1)
					p.client(connectPkt(v, id, credUsername("tok")))
					e.settle()
					limitRefused(t, e, p, v, "LIMIT_EXCEEDED")
					if e.auth.hits.Load() != hits {
						t.Fatal("the authorizer was called for a client id over the limit")
					}
					if got := e.metric("iotauthz.mqtt.denied.connect"); got != denied+1 {
						t.Fatalf("denied.connect %d, want %d", got, denied+1)
					}
					if l := lastDecision(e, "Connect"); len(fmt.Sprint(l["clientId"])) > 300 {
						t.Fatalf("a %d-byte client id is logged whole", len(id))
					}
				}
				goodClientAfter(t, e, tr, v)
			})
		}
	}
}

// TestLimits_EmptyClientID: by default an empty client id goes to the authorizer and on to the
// broker (AWS assigns one; the broker does, and tells an MQTT 5 client); "refuse" refuses it.
func TestLimits_EmptyClientID(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			t.Run(fmt.Sprintf("%s/v%d", tr.name, v), func(t *testing.T) {
				e := newEnv(t, nil)
				e.auth.setAnswer(respond(200, allowAll("d1")))
				p := tr.open(e, 0)
				p.client(connectPkt(v, "", credUsername("tok")))
				e.settle()
				if want := upstreamConnect(v, "", "dev?SDK=Go&Version=1"); !bytes.Equal(p.toBroker(), want) {
					t.Fatalf("default: broker got % x, want % x\n%s", p.toBroker(), want, e.logs())
				}

				e = newEnv(t, func(c map[string]any) {
					c["mqtt"].(map[string]any)["limits"] = map[string]any{"emptyClientId": "refuse"}
				})
				p = tr.open(e, 0)
				p.client(connectPkt(v, "", credUsername("tok")))
				e.settle()
				limitRefused(t, e, p, v, "CLIENT_ID_EMPTY")
				if e.auth.hits.Load() != 0 {
					t.Fatal("the authorizer was called")
				}
				goodClientAfter(t, e, tr, v)
			})
		}
	}
}

// TestLimits_KeepAlive: the broker gets the keep-alive clamped to 30–1200 s (0 becomes 1200), as
// AWS clamps it; an MQTT 5 client is told in the CONNACK's Server Keep Alive, a 3.1.1 client's
// CONNACK is the broker's.
func TestLimits_KeepAlive(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, c := range []struct{ asked, sent uint16 }{{5, 30}, {29, 30}, {30, 30}, {1200, 1200}, {1201, 1200}, {0, 1200}} {
				t.Run(fmt.Sprintf("%s/v%d/%d", tr.name, v, c.asked), func(t *testing.T) {
					e := newEnv(t, nil)
					e.auth.setAnswer(respond(200, mqttPolicy()))
					p := tr.open(e, 0)
					conn := mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true,
						KeepAlive: c.asked, ClientID: []byte("c1"), HasUsername: true, Username: []byte(credUsername("tok")),
						HasPassword: true, Password: []byte("pw")}
					p.client(pkt(v, conn))
					e.settle()
					up := mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true,
						KeepAlive: c.sent, ClientID: []byte("c1"), HasUsername: true, Username: []byte("dev?SDK=Go&Version=1")}
					if want := pkt(v, up); !bytes.Equal(p.toBroker(), want) {
						t.Fatalf("broker got % x, want % x\n%s", p.toBroker(), want, e.logs())
					}
					p.broker(connackPkt(v))
					want := connackPkt(v)
					if v == 5 && c.asked != c.sent {
						want = pkt(v, mqtt.Packet{Type: mqtt.Connack,
							Properties: mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropServerKeepAlive, Int: uint32(c.sent)})})
					}
					if !bytes.Equal(p.toClient(), want) {
						t.Fatalf("client got % x, want % x", p.toClient(), want)
					}
				})
			}
		}
	}
}

// TestLimits_TopicAndPayload: at each limit a PUBLISH and a SUBSCRIBE pass; one over is denied as
// a policy denial is under denyAction "auto" (AWS: 3.1.1 disconnect; MQTT 5 PUBACK 0x90 "Topic
// Name invalid" or 0x97 "Quota exceeded", SUBACK 0x8F "Topic Filter invalid"), logged with
// LIMIT_EXCEEDED or PAYLOAD_LIMIT_EXCEEDED and counted. The payload case raises mqtt.maxPacketBytes
// above the payload limit so that the payload limit, not the packet bound, decides.
func TestLimits_TopicAndPayload(t *testing.T) {
	base := "device/c1/"
	atSlashes := base + "a/b/c/d/e/f"     // 7 slashes
	overSlashes := base + "a/b/c/d/e/f/g" // 8
	atBytes := base + strings.Repeat("x", 256-len(base))
	overBytes := atBytes + "x"
	const payloadLimit = 1000
	mutate := func(c map[string]any) {
		m := c["mqtt"].(map[string]any)
		m["denyAction"] = "auto"
		m["limits"] = map[string]any{"payloadMaxBytes": payloadLimit}
	}
	over := []struct {
		name, topic, payload string
		code                 byte
		reason               string
	}{
		{"slashes", overSlashes, "p", 0x90, "LIMIT_EXCEEDED"},
		{"bytes", overBytes, "p", 0x90, "LIMIT_EXCEEDED"},
		{"1000 slashes", base + strings.Repeat("/", 1000), "p", 0x90, "LIMIT_EXCEEDED"},
		{"payload", base + "p", strings.Repeat("p", payloadLimit+1), 0x97, "PAYLOAD_LIMIT_EXCEEDED"},
	}
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, o := range over {
				t.Run(fmt.Sprintf("%s/v%d/%s", tr.name, v, o.name), func(t *testing.T) {
					e := newEnv(t, mutate)
					e.auth.setAnswer(respond(200, mqttPolicy()))
					p := tr.open(e, 0)
					connect(t, e, p, v, "c1")
					for i, ok := range [][]byte{
						publishPkt(v, atSlashes, 1, false, 1, "p"),
						publishPkt(v, atBytes, 1, false, 2, "p"),
						publishPkt(v, base+"p", 1, false, 3, strings.Repeat("p", payloadLimit)),
						subscribePkt(v, 4, atSlashes, atBytes),
					} {
						before := len(p.toBroker())
						p.client(ok)
						if !bytes.Equal(p.toBroker()[before:], ok) {
							t.Fatalf("packet %d at the limits did not pass\n%s", i, e.logs())
						}
					}
					denied := e.metric("iotauthz.decisions.denied")
					before, beforeClient := len(p.toBroker()), len(p.toClient())
					p.client(publishPkt(v, o.topic, 1, false, 9, o.payload))
					e.settle()
					f := lastDecision(e, "Publish-In")
					if f == nil || f["status"] != "Failure" || f["reason"] != o.reason || !strings.Contains(fmt.Sprint(f["details"]), "mqtt.limits.") {
						t.Fatalf("failure line %v\n%s", f, e.logs())
					}
					if got := e.metric("iotauthz.decisions.denied"); got != denied+1 {
						t.Fatalf("denied %d, want %d", got, denied+1)
					}
					if v == 4 {
						if !p.closed() || len(p.toBroker()) != before {
							t.Fatalf("3.1.1: closed %v, broker got % .40x", p.closed(), p.toBroker()[before:])
						}
						if d := lastDecision(e, "Disconnect"); d == nil || d["reason"] != o.reason || d["disconnectReason"] != "CLIENT_ERROR" {
							t.Fatalf("Disconnect line %v", d)
						}
						goodClientAfter(t, e, tr, v)
						return
					}
					// MQTT 5: the PUBLISH became a PINGREQ whose PINGRESP is the PUBACK with the code.
					if p.closed() || !bytes.Equal(p.toBroker()[before:], pingreq) {
						t.Fatalf("5: closed %v, broker got % .40x", p.closed(), p.toBroker()[before:])
					}
					p.broker(pingresp)
					if got := p.toClient()[beforeClient:]; !bytes.Equal(got, pubackPkt(v, 9, o.code)) {
						t.Fatalf("5: client got % x, want PUBACK %#x", got, o.code)
					}
					if o.reason == "LIMIT_EXCEEDED" {
						// The same topic as a filter, next to a good one: SUBACK 0x8F for it only.
						before, beforeClient = len(p.toBroker()), len(p.toClient())
						p.client(subscribePkt(v, 10, base+"ok", o.topic))
						if !bytes.Equal(p.toBroker()[before:], subscribePkt(v, 10, base+"ok")) {
							t.Fatalf("SUBSCRIBE upstream % x", p.toBroker()[before:])
						}
						p.broker(subackPkt(v, 10, 1))
						if got := p.toClient()[beforeClient:]; !bytes.Equal(got, subackPkt(v, 10, 1, 0x8f)) {
							t.Fatalf("SUBACK % x", got)
						}
						if f := lastDecision(e, "Subscribe"); f["reason"] != "LIMIT_EXCEEDED" {
							t.Fatalf("Subscribe line %v", f)
						}
					}
					in := publishPkt(v, base+"still", 0, false, 0, "ok")
					before = len(p.toBroker())
					p.client(in)
					if !bytes.Equal(p.toBroker()[before:], in) {
						t.Fatal("the connection no longer works after a rejected publish")
					}
				})
			}
		}
	}
}

// TestLimits_Hostile: hostile CONNECTs and packets (a huge client id split in pieces, a topic of
// 1000 slashes, a truncated packet then the close, a second CONNECT) end their own connection
// only; a good client works after each.
func TestLimits_Hostile(t *testing.T) {
	huge := connectPkt(5, strings.Repeat("z", 60000), credUsername("tok"))
	cases := []struct {
		name string
		run  func(e *env, p pipe)
	}{
		{"huge client id in pieces", func(e *env, p pipe) {
			for i := 0; i < len(huge); i += 7000 {
				p.client(huge[i:min(i+7000, len(huge))])
			}
		}},
		{"1000 slashes", func(e *env, p pipe) {
			connect(e.t, e, p, 4, "c9")
			p.client(publishPkt(4, strings.Repeat("/", 1000), 0, false, 0, "x"))
		}},
		{"truncated", func(e *env, p pipe) {
			connect(e.t, e, p, 5, "c9")
			in := publishPkt(5, "device/c9/"+strings.Repeat("/", 100), 1, false, 1, "x")
			p.client(in[:len(in)/2])
		}},
		{"repeated CONNECT", func(e *env, p pipe) {
			connect(e.t, e, p, 4, "c9")
			p.client(connectPkt(4, strings.Repeat("r", 200), credUsername("tok")))
		}},
	}
	for _, tr := range transports {
		for _, c := range cases {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				e := newEnv(t, nil)
				e.auth.setAnswer(respond(200, allowAll("d9")))
				p := tr.open(e, 1)
				c.run(e, p)
				e.settle()
				goodClientAfter(t, e, tr, 5)
			})
		}
	}
}

// TestLimits_HTTPS: an HTTPS publish's topic follows the same limits (400 Bad Request, logged
// LIMIT_EXCEEDED, the authorizer not called); at the limits it passes.
func TestLimits_HTTPS(t *testing.T) {
	const tok = "device-token-1"
	good := sign(testKey, tok)
	e := newEnv(t, nil)
	e.auth.setAnswer(respond(200, devicePolicy("d1")))
	atSlashes := "device/a/b/c/d/e/f/g"
	atBytes := "device/" + strings.Repeat("x", 249)
	for i, c := range []struct {
		topic string
		want  int
	}{
		{atSlashes, 0}, {atBytes, 0}, {atSlashes + "/h", 400}, {atBytes + "x", 400}, {"device" + strings.Repeat("/", 1000), 400},
	} {
		h := replace(publishHeaders("x", tok, good), ":path", "/topics/"+url.PathEscape(c.topic))
		hits := e.auth.hits.Load()
		s := e.p.Worker(0).NewHTTPStream(httpProps(uint64(100 + i)))
		s.RequestHeaders(h, true)
		e.settle()
		r := s.Client().LocalReply
		if c.want == 0 {
			if r != nil || !s.Upstream().HeadersSent {
				t.Fatalf("%.40q: refused %+v\n%s", c.topic, r, e.logs())
			}
			continue
		}
		if r == nil || r.Status != 400 || s.Upstream().HeadersSent || e.auth.hits.Load() != hits {
			t.Fatalf("%.40q: reply %+v, authorizer hits %d→%d\n%s", c.topic, r, hits, e.auth.hits.Load(), e.logs())
		}
		if f := e.lastFailure(); f == nil || f["reason"] != "LIMIT_EXCEEDED" || !strings.Contains(fmt.Sprint(f["details"]), "mqtt.limits.topic") {
			t.Fatalf("failure line %v", f)
		}
	}
}

// TestLimits_Will: a Will message's topic and payload follow the PUBLISH limits (the broker
// publishes it for the device): over them the CONNECT is refused, CONNACK 0x90 or 0x97 in MQTT 5
// and 5 in 3.1.1, without an authorizer call; a good client works afterwards.
func TestLimits_Will(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, c := range []struct {
				name, topic, payload string
				code5                byte
				reason               string
			}{
				{"topic slashes", "device/c1/a/b/c/d/e/f/g", "bye", 0x90, "LIMIT_EXCEEDED"},
				// A Will payload has at most 65535 bytes (a binary field): a smaller limit is set.
				{"payload", "device/c1/will", strings.Repeat("w", 1001), 0x97, "PAYLOAD_LIMIT_EXCEEDED"},
			} {
				t.Run(fmt.Sprintf("%s/v%d/%s", tr.name, v, c.name), func(t *testing.T) {
					e := newEnv(t, func(m map[string]any) {
						m["mqtt"].(map[string]any)["limits"] = map[string]any{"payloadMaxBytes": 1000}
					})
					p := tr.open(e, 1)
					p.client(pkt(v, mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true,
						KeepAlive: 60, ClientID: []byte("c1"), HasUsername: true, Username: []byte(credUsername("tok")),
						Will: true, WillTopic: []byte(c.topic), WillPayload: []byte(c.payload)}))
					e.settle()
					code := byte(5)
					if v == 5 {
						code = c.code5
					}
					limitRefusedWith(t, e, p, v, c.reason, code)
					if e.auth.hits.Load() != 0 {
						t.Fatal("the authorizer was called")
					}
					if f := lastDecision(e, "Connect"); f["topicName"] != c.topic || !strings.HasPrefix(fmt.Sprint(f["details"]), "Will message: ") {
						t.Fatalf("Connect line %v", f)
					}
					goodClientAfter(t, e, tr, v)
				})
			}
		}
	}
}

// TestLimits_WSUpgradeCredentials: a WebSocket authorized at its upgrade (credentials in the
// request) still has its CONNECT checked against the limits: a client id of 129 bytes gets CONNACK
// 0x85 / 0x02, one of 128 bytes goes to the broker.
func TestLimits_WSUpgradeCredentials(t *testing.T) {
	tok := "tok-ws"
	h := host.Headers{{":method", "GET"}, {":path", "/mqtt"}, {":authority", "iot.example.com"},
		{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"x-device-token", tok},
		{"x-amz-customauthorizer-signature", sign(testKey, tok)}}
	for _, v := range []byte{4, 5} {
		for _, n := range []int{128, 129} {
			e := newEnv(t, nil)
			e.auth.setAnswer(respond(200, mqttPolicy()))
			s := e.p.Worker(0).NewHTTPStream(httpProps(3))
			s.RequestHeaders(h, false)
			e.settle()
			s.ResponseHeaders(host.Headers{{":status", "101"}}, false)
			p := &wsPipe{t: t, s: s}
			in := connectPkt(v, strings.Repeat("w", n), "")
			p.client(in)
			e.settle()
			if n == 128 {
				if !bytes.Equal(p.toBroker(), in) || p.closed() {
					t.Fatalf("v%d: 128 bytes: broker got % .40x, closed %v\n%s", v, p.toBroker(), p.closed(), e.logs())
				}
				continue
			}
			limitRefused(t, e, p, v, "LIMIT_EXCEEDED")
		}
	}
}

// TestLimits_HTTPSBody: a payloadMaxBytes under AWS's 128 KiB bounds the HTTPS publish body too:
// declared or counted, one byte over is answered 413 with the limit in the details.
func TestLimits_HTTPSBody(t *testing.T) {
	const tok = "device-token-1"
	e := newEnv(t, func(c map[string]any) {
		c["mqtt"].(map[string]any)["limits"] = map[string]any{"payloadMaxBytes": 1000}
	})
	e.auth.setAnswer(respond(200, devicePolicy("d1")))
	for i, c := range []struct {
		length string
		body   int
		want   int
	}{{"1000", 1000, 0}, {"1001", 0, 413}, {"", 1000, 0}, {"", 1001, 413}} {
		h := publishHeaders("device/1", tok, sign(testKey, tok))
		if c.length != "" {
			h = append(h, [2]string{"content-length", c.length})
		}
		s := e.p.Worker(0).NewHTTPStream(httpProps(uint64(200 + i)))
		s.RequestHeaders(h, false)
		e.settle()
		if c.body > 0 && s.Client().LocalReply == nil {
			s.RequestBody(bytes.Repeat([]byte("b"), c.body), true)
		}
		e.settle()
		r := s.Client().LocalReply
		if c.want == 0 {
			if r != nil || len(s.Upstream().Body) != c.body {
				t.Fatalf("case %d: refused %+v, upstream got %d bytes\n%s", i, r, len(s.Upstream().Body), e.logs())
			}
			continue
		}
		if r == nil || r.Status != 413 {
			t.Fatalf("case %d: %+v\n%s", i, r, e.logs())
		}
		if f := e.lastFailure(); f == nil || f["reason"] != "PAYLOAD_TOO_LARGE" || !strings.Contains(fmt.Sprint(f["details"]), "limit of 1000 bytes") {
			t.Fatalf("case %d: %v", i, f)
		}
	}
}
