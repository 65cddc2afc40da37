package mqtttest

import (
	"bytes"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

func TestSubscribeSuback(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		p, n, err := mqtt.ReadPacket(Subscribe(v, 7, "a/#", "b"), v, 0)
		want := mqtt.AppendSubscription(mqtt.AppendSubscription(nil, []byte("a/#"), 1), []byte("b"), 1)
		if err != nil || n == 0 || p.Type != mqtt.Subscribe || p.PacketID != 7 || !bytes.Equal(p.Payload, want) {
			t.Fatalf("v%d SUBSCRIBE: %+v %d %v", v, p, n, err)
		}
		p, _, err = mqtt.ReadPacket(Suback(v, 7, 1, 0x80), v, 0)
		if err != nil || p.Type != mqtt.Suback || p.PacketID != 7 || !bytes.Equal(p.Payload, []byte{1, 0x80}) {
			t.Fatalf("v%d SUBACK: %+v %v", v, p, err)
		}
	}
}
