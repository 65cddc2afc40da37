// Package mqtttest builds the MQTT packets that the tests of several packages write alike (the
// plugin's, plugin/session's), and reads packets off a stream for the clients of the e2e tests and
// the gateway benchmarks. It is for tests only.
package mqtttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// Subscribe is a SUBSCRIBE for protocol version v with packet id id, asking QoS 1 for each filter.
func Subscribe(v byte, id uint16, filters ...string) []byte {
	var payload []byte
	for _, f := range filters {
		payload = mqtt.AppendSubscription(payload, []byte(f), 1)
	}
	return (&mqtt.Packet{Type: mqtt.Subscribe, PacketID: id, Payload: payload}).Append(nil, v)
}

// Suback is a SUBACK for protocol version v with packet id id and one return code per filter.
func Suback(v byte, id uint16, codes ...byte) []byte {
	return (&mqtt.Packet{Type: mqtt.Suback, PacketID: id, Payload: codes}).Append(nil, v)
}

// ReadPacket reads one packet from r: its first byte (type and flags) and its body. A remaining
// length of more than four bytes, or above max bytes when max is positive, is an error, and so is
// a stream that ends inside the packet.
func ReadPacket(r *bufio.Reader, max int) (byte, []byte, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return 0, nil, errors.New("malformed remaining length")
		}
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		mult *= 128
		if b&0x80 == 0 {
			break
		}
	}
	if max > 0 && n > max {
		return 0, nil, fmt.Errorf("packet of %d bytes, at most %d expected", n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return first, body, nil
}
