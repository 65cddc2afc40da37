//go:build !wasm

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// parityLimits: AWS IoT's MQTT limits with the default configuration (no mqtt.limits, no
// mqtt.maxPacketBytes, denyAction auto), over TLS and WebSocket.
func parityLimits() []parityCase {
	defaults := func(c map[string]any) {
		m := c["mqtt"].(map[string]any)
		delete(m, "denyAction")
		delete(m, "maxPacketBytes")
	}
	// publishes sends one PUBLISH QoS 1 on a connected MQTT 5 client and returns the client's
	// answer (nil when the PUBLISH went to the broker as it was).
	publishes := func(t *testing.T, e *env, p pipe, topic string, payload string) []byte {
		t.Helper()
		in := publishPkt(5, topic, 1, false, 3, payload)
		b0, c0 := len(p.toBroker()), len(p.toClient())
		p.client(in)
		e.settle()
		if got := p.toBroker()[b0:]; bytes.Equal(got, in) {
			return nil
		} else if !bytes.Equal(got, pingreq) {
			t.Fatalf("%.40q: the broker got % .40x", topic, got)
		}
		p.broker(pingresp)
		return p.toClient()[c0:]
	}
	topicCase := func(at, over string) func(*testing.T, *parityRun) {
		return func(t *testing.T, _ *parityRun) {
			for _, tr := range transports {
				e := newEnv(t, defaults)
				e.auth.setAnswer(respond(200, allowAll("d1")))
				p := tr.open(e, 0)
				connect(t, e, p, 5, "c1")
				if got := publishes(t, e, p, at, "p"); got != nil {
					t.Fatalf("%s: at the limit: % x", tr.name, got)
				}
				if got := publishes(t, e, p, over, "p"); !bytes.Equal(got, pubackPkt(5, 3, 0x90)) {
					t.Fatalf("%s: over the limit: % x, want PUBACK 0x90\n%s", tr.name, got, e.logs())
				}
				if f := lastDecision(e, "Publish-In"); f["reason"] != "LIMIT_EXCEEDED" {
					t.Fatalf("%s: %v", tr.name, f)
				}
			}
		}
	}
	seven := "device/c1/a/b/c/d/e/f"
	return []parityCase{
		{"a client id is at most 128 bytes: a longer one is refused with CONNACK 0x85 (MQTT 5) or 0x02 (3.1.1)", srcQuotas,
			func(t *testing.T, _ *parityRun) {
				for _, tr := range transports {
					for _, v := range []byte{4, 5} {
						e := newEnv(t, defaults)
						e.auth.setAnswer(respond(200, mqttPolicy()))
						connect(t, e, tr.open(e, 0), v, strings.Repeat("i", 128))
						p := tr.open(e, 1)
						p.client(connectPkt(v, strings.Repeat("i", 129), credUsername("t")))
						e.settle()
						limitRefused(t, e, p, v, "LIMIT_EXCEEDED")
					}
				}
			}},
		{"a topic is at most 256 bytes", srcQuotas, topicCase("device/c1/"+strings.Repeat("t", 246), "device/c1/"+strings.Repeat("t", 247))},
		{"a topic has at most 7 forward slashes", srcQuotas, topicCase(seven, seven+"/g")},
		{"a Basic Ingest topic's $aws/rules/<rule-name>/ prefix does not count toward the topic limits", srcSDKLimits,
			topicCase("$aws/rules/r/"+seven, "$aws/rules/r/"+seven+"/g")},
		{"a PUBLISH payload is at most 128 KB; a larger one is refused (PAYLOAD_LIMIT_EXCEEDED)", srcPayload,
			func(t *testing.T, _ *parityRun) {
				for _, tr := range transports {
					e := newEnv(t, defaults)
					e.auth.setAnswer(respond(200, mqttPolicy()))
					p := tr.open(e, 0)
					connect(t, e, p, 5, "c1")
					if got := publishes(t, e, p, "device/c1/big", strings.Repeat("p", 131072)); got != nil {
						t.Fatalf("%s: 128 KiB: % x", tr.name, got)
					}
					if got := publishes(t, e, p, "device/c1/big", strings.Repeat("p", 131073)); !bytes.Equal(got, pubackPkt(5, 3, 0x97)) {
						t.Fatalf("%s: 128 KiB + 1: % x, want PUBACK 0x97\n%s", tr.name, got, e.logs())
					}
					if f := lastDecision(e, "Publish-In"); f["reason"] != "PAYLOAD_LIMIT_EXCEEDED" {
						t.Fatalf("%s: %v", tr.name, f)
					}
				}
			}},
		{"a keep-alive under 30 s counts as 30 s, and 0 or over 1200 s as 1200 s; MQTT 5 is told in Server Keep Alive", srcQuotas,
			func(t *testing.T, _ *parityRun) {
				for _, c := range [][2]uint16{{10, 30}, {0, 1200}, {3600, 1200}} {
					for _, v := range []byte{4, 5} {
						e := newEnv(t, defaults)
						e.auth.setAnswer(respond(200, mqttPolicy()))
						p := openTLS(e, 0)
						in := mqtt.Packet{Type: mqtt.Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true,
							KeepAlive: c[0], ClientID: []byte("c1"), HasUsername: true, Username: []byte(credUsername("t"))}
						p.client(pkt(v, in))
						e.settle()
						fwd, _, err := mqtt.ReadPacket(p.toBroker(), v, 0)
						if err != nil || fwd.KeepAlive != c[1] {
							t.Fatalf("v%d keep-alive %d: the broker got %d (%v)", v, c[0], fwd.KeepAlive, err)
						}
						p.broker(connackPkt(v))
						ack, _, _ := mqtt.ReadPacket(p.toClient(), v, 0)
						ka, ok := ack.Properties.Get(mqtt.PropServerKeepAlive)
						if v == 5 && (!ok || ka.Int != uint32(c[1])) || v == 4 && !bytes.Equal(p.toClient(), connackPkt(4)) {
							t.Fatalf("v%d keep-alive %d: CONNACK % x", v, c[0], p.toClient())
						}
					}
				}
			}},
		{"MQTT 5: a CONNECT with an empty client id is accepted and the server assigns one in the CONNACK", srcAssignID,
			func(t *testing.T, _ *parityRun) {
				for _, tr := range transports {
					e := newEnv(t, defaults)
					e.auth.setAnswer(respond(200, allowAll("d1")))
					p := tr.open(e, 0)
					p.client(connectPkt(5, "", credUsername("t")))
					e.settle()
					fwd, _, err := mqtt.ReadPacket(p.toBroker(), 5, 0)
					if err != nil || fwd.Type != mqtt.Connect || len(fwd.ClientID) != 0 {
						t.Fatalf("%s: the broker got % x (%v)\n%s", tr.name, p.toBroker(), err, e.logs())
					}
					// The broker assigns the id (MQTT 5 §3.2.2.3.7); its CONNACK reaches the client.
					ack := pkt(5, mqtt.Packet{Type: mqtt.Connack, Properties: mqtt.AppendProperty(nil,
						mqtt.Property{ID: mqtt.PropAssignedClientID, Value: []byte("auto-1")})})
					p.broker(ack)
					if !bytes.Equal(p.toClient(), ack) || p.closed() {
						t.Fatalf("%s: client got % x, closed %v", tr.name, p.toClient(), p.closed())
					}
				}
			}},
	}
}
