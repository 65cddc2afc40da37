package session

import (
	"bytes"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// FuzzSession feeds arbitrary client and broker bytes after a CONNECT/CONNACK: the session never
// panics, cutting the streams anywhere changes nothing, and the WebSocket session forwards the same
// MQTT bytes with the same decisions.
func FuzzSession(f *testing.F) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		f.Add(cat(pub(v, "ok/a", 1, 1, false, "x"), pub(v, "no/b", 2, 2, true, "y"), subPkt(v, 3, "ok/a", "no/b"), pingreqPkt),
			cat(pingrespPkt, subackPkt(v, 3, 1), pub(v, "no/c", 1, 4, false, "z"), ackPkt(v, mqtt.Pubrel, 4, 0)), uint16(5), uint16(7), v == mqtt.V5, true)
	}
	// Denied broker publishes relayed as PUBRELs, answered by the client's PUBCOMPs (a wrong id, a
	// QoS 2 exchange finished by the broker's PUBREL).
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		f.Add(cat(ackPkt(v, mqtt.Pubcomp, 4, 0), ackPkt(v, mqtt.Pubcomp, 5, 0), ackPkt(v, mqtt.Pubcomp, 6, notFound(v)), ackPkt(v, mqtt.Pubcomp, 6, 0)),
			cat(pub(v, "no/c", 1, 4, false, "z"), pub(v, "no/d", 2, 6, false, "w"), ackPkt(v, mqtt.Pubrel, 6, 0)), uint16(3), uint16(5), v == mqtt.V5, true)
	}
	f.Add(cat(pubAlias("ok/a", 1, 0, 0, "1"), pubAlias("", 1, 1, 1, "2")), cat(pubAlias("no/a", 2, 0, 0, "1"), pubAlias("", 2, 1, 1, "2")),
		uint16(3), uint16(9), true, true)
	// MQTT 5 packets with repeated properties: User Properties on every packet type, several
	// Subscription Identifiers on a broker PUBLISH, and a repeated Topic Alias (a protocol error).
	var up, ids []byte
	for i := byte(0); i < 3; i++ {
		up = mqtt.AppendProperty(up, mqtt.Property{ID: mqtt.PropUserProperty, Key: []byte{'k'}, Value: []byte{'0' + i}})
		ids = mqtt.AppendProperty(ids, mqtt.Property{ID: mqtt.PropSubscriptionID, Int: uint32(i) + 1})
	}
	v5 := mqtt.V5
	f.Add(cat(enc(v5, mqtt.Packet{Type: mqtt.Publish, QoS: 1, PacketID: 1, Topic: []byte("ok/a"), Properties: up, Payload: []byte("x")}),
		enc(v5, mqtt.Packet{Type: mqtt.Subscribe, PacketID: 2, Properties: up, Payload: mqtt.AppendSubscription(nil, []byte("ok/#"), 1)}),
		enc(v5, mqtt.Packet{Type: mqtt.Puback, PacketID: 9, Properties: up}),
		[]byte{0x30, 0x0c, 0x00, 0x03, 'o', 'k', '/', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02}),
		cat(enc(v5, mqtt.Packet{Type: mqtt.Puback, PacketID: 1, Properties: up}),
			enc(v5, mqtt.Packet{Type: mqtt.Publish, QoS: 1, PacketID: 9, Topic: []byte("ok/b"), Properties: append(append([]byte(nil), ids...), up...)}),
			enc(v5, mqtt.Packet{Type: mqtt.Suback, PacketID: 2, Properties: up, Payload: []byte{1}}), pingrespPkt),
		uint16(11), uint16(13), true, true)
	f.Fuzz(runFuzzCase)
}

func runFuzzCase(t *testing.T, cb, bb []byte, cut1, cut2 uint16, v5, reject bool) {
	v := mqtt.V311
	if v5 {
		v = mqtt.V5
	}
	o := Options{MaxPacketBytes: 4096}
	if reject {
		o.DenyAction = DenyReject
	}
	k1, k2 := int(cut1)%(len(cb)+1), int(cut2)%(len(bb)+1)
	head := []chunk{c2b(connectPkt(v, "dev1", "")), b2c(connackPkt(v))}
	whole := append(append([]chunk(nil), head...), c2b(cb), b2c(bb))
	cut := append(append([]chunk(nil), head...), c2b(cb[:k1]), c2b(cb[k1:]), b2c(bb[:k2]), b2c(bb[k2:]))
	a := play(t, newTLS, o, matrixPolicy, whole)
	b := play(t, newTLS, o, matrixPolicy, cut)
	if a.String() != b.String() {
		t.Fatalf("whole:\n%v\ncut:\n%v", a, b)
	}
	wsChunks := []chunk{{true, wsWire(true, head[0].data)}, {false, wsWire(false, head[1].data)},
		{true, cat(wsFrames(true, cb, k1))}, {false, cat(wsFrames(false, bb, k2))}}
	w := play(t, newWSTest, o, matrixPolicy, wsChunks)
	if w.status != a.status || w.reason != a.reason || len(w.decisions) != len(a.decisions) {
		t.Fatalf("ws:\n%v\ntls:\n%v", w, a)
	}
	closed := a.status == Close
	if !bytes.Equal(wsPayloadOpen(t, w.toBroker, true, closed), a.toBroker) || !bytes.Equal(wsPayloadOpen(t, w.toClient, false, closed), a.toClient) {
		t.Fatalf("ws:\n%v\ntls:\n%v", w, a)
	}
}
