//go:build !wasm

package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// refusalConnect is the CONNECT the plugin sends the broker in place of a refused one: MQTT 3.1.1,
// zero-byte ClientId, CleanSession 0, which a compliant broker must refuse with CONNACK 0x02
// ([MQTT-3.1.3-8]).
var refusalConnect = []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00}

// brokerIDRejected is a compliant broker's answer to refusalConnect.
var brokerIDRejected = []byte{0x20, 0x02, 0x00, 0x02}

// notAuthorized is AWS IoT Core's CONNACK for a refused CONNECT: return code 5 (3.1.1), 0x87 (5).
func notAuthorized(v byte) []byte {
	return pkt(v, mqtt.Packet{Type: mqtt.Connack, ReasonCode: map[byte]byte{4: 5, 5: 0x87}[v]})
}

// refused reports whether the CONNECT of version v on p was refused with a CONNACK: the broker got
// the refusal CONNECT and nothing else; answered as a compliant broker answers it, the client gets
// "not authorized" and the connection closes. Anything else fails the test.
func refused(t *testing.T, e *env, p pipe, v byte) bool {
	t.Helper()
	if !p.closed() && !bytes.Equal(p.toBroker(), refusalConnect) {
		return false // not refused (yet)
	}
	if !bytes.Equal(p.toBroker(), refusalConnect) {
		t.Fatalf("refused CONNECT: the broker got % x, want the refusal CONNECT\n%s", p.toBroker(), e.logs())
	}
	if p.closed() || len(p.toClient()) != 0 {
		t.Fatalf("closed %v before the broker's CONNACK, client got % x", p.closed(), p.toClient())
	}
	p.broker(brokerIDRejected)
	e.settle()
	e.clock.Advance(time.Second) // a WebSocket is reset on the tick after the CONNACK
	e.settle()
	if !bytes.Equal(p.toClient(), notAuthorized(v)) || !p.closed() {
		t.Fatalf("refused CONNECT: client got % x (want % x), closed %v\n%s", p.toClient(), notAuthorized(v), p.closed(), e.logs())
	}
	return true
}

// TestMQTT_RefusalHostileBroker: whatever the broker answers the refusal CONNECT with (an
// acceptance, another packet, garbage, pieces, nothing), the client gets only "not authorized" and
// the connection closes; a broker that never answers is cut after the grace. A good client then
// connects on the same plugin.
func TestMQTT_RefusalHostileBroker(t *testing.T) {
	answers := []struct {
		name   string
		chunks [][]byte
	}{
		{"accepted", [][]byte{{0x20, 0x02, 0x00, 0x00}}},
		{"split", [][]byte{{0x20}, {0x02}, {0x00, 0x02}}},
		{"publish", [][]byte{publishPkt(4, "x", 0, false, 0, "y")}},
		{"garbage", [][]byte{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		{"silent", nil},
	}
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			for _, a := range answers {
				t.Run(tr.name+"/v"+string('0'+v)+"/"+a.name, func(t *testing.T) {
					e := newEnv(t, nil)
					p := tr.open(e, 0)
					p.client(connectPkt(v, "c1", "")) // no credentials: refused at once
					e.settle()
					if !bytes.Equal(p.toBroker(), refusalConnect) {
						t.Fatalf("broker got % x", p.toBroker())
					}
					p.client(publishPkt(v, "device/c1/a", 0, false, 0, "after"))
					for _, c := range a.chunks {
						p.broker(c)
						e.settle()
					}
					if a.chunks == nil {
						e.clock.Advance(6 * time.Second)
						e.settle()
						if !p.closed() || len(p.toClient()) != 0 {
							t.Fatalf("silent broker: closed %v, client got % x", p.closed(), p.toClient())
						}
					} else {
						e.clock.Advance(time.Second)
						e.settle()
						if !bytes.Equal(p.toClient(), notAuthorized(v)) || !p.closed() {
							t.Fatalf("client got % x, closed %v\n%s", p.toClient(), p.closed(), e.logs())
						}
					}
					if !bytes.Equal(p.toBroker(), refusalConnect) {
						t.Fatalf("client bytes after the refusal reached the broker: % x", p.toBroker())
					}
					good := tr.open(e, 0)
					e.auth.setAnswer(respond(200, mqttPolicy()))
					good.client(connectPkt(v, "c1", credUsername("t")))
					e.settle()
					if got, _, err := mqtt.ReadPacket(good.toBroker(), v, 0); good.closed() || err != nil || string(got.ClientID) != "c1" {
						t.Fatalf("good client after the hostile broker: closed %v, broker got % x\n%s", good.closed(), good.toBroker(), e.logs())
					}
				})
			}
		}
	}
}

// TestMQTT_RelayHostileClient: a denied QoS 1 PUBLISH of the broker reaches the client as a
// PUBREL of its id; a client that answers it with garbage is closed for its protocol error and
// nothing of it reaches the broker; a good client on the same plugin then gets its PUBACK relayed.
func TestMQTT_RelayHostileClient(t *testing.T) {
	for _, tr := range transports {
		for _, v := range []byte{4, 5} {
			t.Run(tr.name+"/v"+string('0'+v), func(t *testing.T) {
				e, p := openConnected(t, tr, v)
				b0, c0 := len(p.toBroker()), len(p.toClient())
				p.broker(publishPkt(v, "device/c1/hidden", 1, false, 9, "x"))
				if got := p.toClient()[c0:]; !bytes.Equal(got, pkt(v, mqtt.Packet{Type: mqtt.Pubrel, PacketID: 9})) {
					t.Fatalf("client got % x, want PUBREL 9", got)
				}
				p.client([]byte{0x70, 0x01, 0x00}) // a PUBCOMP without its packet id
				e.settle()
				if v == 5 {
					// MQTT 5: the DISCONNECT for the protocol error rides on the PINGREQ's answer.
					p.broker(pingresp)
					e.settle()
					e.clock.Advance(time.Second)
					e.settle()
				}
				if !p.closed() {
					t.Fatalf("open after a garbage answer to the PUBREL\n%s", e.logs())
				}
				if got := p.toBroker()[b0:]; bytes.Contains(got, []byte{0x70}) || bytes.Contains(got, []byte{0x40}) {
					t.Fatalf("the broker got % x", got)
				}
				good := tr.open(e, 1)
				connect(t, e, good, v, "c1")
				b0, c0 = len(good.toBroker()), len(good.toClient())
				good.broker(publishPkt(v, "device/c1/hidden", 1, false, 3, "x"))
				good.client(pkt(v, mqtt.Packet{Type: mqtt.Pubcomp, PacketID: 3}))
				if !bytes.Equal(good.toClient()[c0:], pkt(v, mqtt.Packet{Type: mqtt.Pubrel, PacketID: 3})) ||
					!bytes.Equal(good.toBroker()[b0:], pubackPkt(v, 3, 0)) || good.closed() {
					t.Fatalf("good client: to client % x, to broker % x, closed %v", good.toClient()[c0:], good.toBroker()[b0:], good.closed())
				}
			})
		}
	}
}
