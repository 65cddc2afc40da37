package mqtttest

import (
	"bufio"
	"bytes"
	"io"
	"strings"
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

func TestReadPacket(t *testing.T) {
	big := (&mqtt.Packet{Type: mqtt.Publish, QoS: 1, PacketID: 9, Topic: []byte("t"), Payload: bytes.Repeat([]byte{'x'}, 200)}).Append(nil, mqtt.V311)
	for _, c := range []struct {
		name  string
		wire  []byte
		max   int
		first byte
		body  []byte
		err   string // substring of the error; "" for none
	}{
		{name: "PUBACK", wire: []byte{0x40, 2, 0, 7}, first: 0x40, body: []byte{0, 7}},
		{name: "empty body", wire: []byte{0xd0, 0}, first: 0xd0, body: []byte{}},
		{name: "two-byte length", wire: big, first: big[0], body: big[3:]},
		{name: "two-byte length within max", wire: big, max: len(big) - 3, first: big[0], body: big[3:]},
		{name: "above max", wire: big, max: len(big) - 4, err: "packet of 205 bytes, at most 204"},
		{name: "five-byte length", wire: []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, err: "malformed remaining length"},
		{name: "ends in the length", wire: []byte{0x30, 0x80}, err: io.EOF.Error()},
		{name: "ends in the body", wire: []byte{0x40, 2, 0}, err: io.ErrUnexpectedEOF.Error()},
		{name: "nothing", wire: nil, err: io.EOF.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			first, body, err := ReadPacket(bufio.NewReader(bytes.NewReader(c.wire)), c.max)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || first != c.first || !bytes.Equal(body, c.body) {
				t.Fatalf("%#x % x %v, want %#x % x", first, body, err, c.first, c.body)
			}
		})
	}
}
