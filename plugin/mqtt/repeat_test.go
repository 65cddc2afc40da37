package mqtt

import (
	"bytes"
	"testing"
)

// userProps returns n User Properties k0=v0, k1=v1, … in wire form.
func userProps(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = AppendProperty(b, Property{ID: PropUserProperty, Key: []byte{'k', byte('0' + i)}, Value: []byte{'v', byte('0' + i)}})
	}
	return b
}

// TestProperties_UserPropertyRepeats: every MQTT 5 packet with properties may carry any number of
// User Properties ([MQTT-3.3.2.3.7] and the same sentence for each packet type); the codec keeps
// them in order and the encoder writes them back byte for byte.
func TestProperties_UserPropertyRepeats(t *testing.T) {
	up := Properties(userProps(3))
	for _, c := range []struct {
		name string
		p    Packet
	}{
		{"CONNECT", Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: V5, CleanStart: true, ClientID: []byte("c"), Properties: up}},
		{"CONNECT will", Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: V5, ClientID: []byte("c"),
			Will: true, WillTopic: []byte("w/t"), WillPayload: []byte("bye"), WillProperties: up, Properties: up}},
		{"CONNACK", Packet{Type: Connack, Properties: up}},
		{"PUBLISH", Packet{Type: Publish, QoS: 1, PacketID: 7, Topic: []byte("a/b"), Properties: up, Payload: []byte("x")}},
		{"PUBACK", Packet{Type: Puback, PacketID: 7, ReasonCode: 0x10, Properties: up}},
		{"PUBREC", Packet{Type: Pubrec, PacketID: 7, Properties: up}},
		{"PUBREL", Packet{Type: Pubrel, PacketID: 7, Properties: up}},
		{"PUBCOMP", Packet{Type: Pubcomp, PacketID: 7, Properties: up}},
		{"SUBSCRIBE", Packet{Type: Subscribe, PacketID: 7, Properties: up, Payload: AppendSubscription(nil, []byte("a/#"), 1)}},
		{"SUBACK", Packet{Type: Suback, PacketID: 7, Properties: up, Payload: []byte{1}}},
		{"UNSUBSCRIBE", Packet{Type: Unsubscribe, PacketID: 7, Properties: up, Payload: AppendString(nil, []byte("a/#"))}},
		{"UNSUBACK", Packet{Type: Unsuback, PacketID: 7, Properties: up, Payload: []byte{0}}},
		{"DISCONNECT", Packet{Type: Disconnect, ReasonCode: 0x04, Properties: up}},
		{"AUTH", Packet{Type: Auth, ReasonCode: 0x18, Properties: up}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wire := c.p.Append(nil, V5)
			got, n, err := ReadPacket(wire, V5, 0)
			if err != nil || n != len(wire) {
				t.Fatalf("ReadPacket: n %d of %d, err %v", n, len(wire), err)
			}
			if !bytes.Equal(got.Properties, up) {
				t.Fatalf("properties % x, want % x", got.Properties, up)
			}
			var keys []string
			for pr, rest, ok := got.Properties.Next(); ok; pr, rest, ok = rest.Next() {
				keys = append(keys, string(pr.Key)+"="+string(pr.Value))
			}
			if len(keys) != 3 || keys[0] != "k0=v0" || keys[2] != "k2=v2" {
				t.Fatalf("user properties %q, want k0..k2 in order", keys)
			}
			if again := got.Append(nil, V5); !bytes.Equal(again, wire) {
				t.Fatalf("re-encoded\n% x\nwant\n% x", again, wire)
			}
		})
	}
}

// TestProperties_SubscriptionIDRepeats: a PUBLISH from the server carries one Subscription
// Identifier per matching subscription (§3.3.2.3.8); a SUBSCRIBE carries at most one.
func TestProperties_SubscriptionIDRepeats(t *testing.T) {
	var ids []byte
	for _, id := range []uint32{1, 300, 2} {
		ids = AppendProperty(ids, Property{ID: PropSubscriptionID, Int: id})
	}
	pub := (&Packet{Type: Publish, Topic: []byte("a/b"), Properties: ids}).Append(nil, V5)
	got, _, err := ReadPacket(pub, V5, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []uint32
	for pr, rest, ok := got.Properties.Next(); ok; pr, rest, ok = rest.Next() {
		seen = append(seen, pr.Int)
	}
	if len(seen) != 3 || seen[0] != 1 || seen[1] != 300 || seen[2] != 2 {
		t.Fatalf("subscription identifiers %v", seen)
	}
	sub := (&Packet{Type: Subscribe, PacketID: 1, Properties: ids, Payload: AppendSubscription(nil, []byte("a"), 0)}).Append(nil, V5)
	if _, _, err := ReadPacket(sub, V5, 0); err == nil || err.(*Error).ReasonCode() != ReasonProtocolError {
		t.Fatalf("SUBSCRIBE with three subscription identifiers: err %v, want a protocol error", err)
	}
}
