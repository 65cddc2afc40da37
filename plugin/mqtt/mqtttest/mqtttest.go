// Package mqtttest builds the MQTT packets that the tests of several packages write alike (the
// plugin's, plugin/session's). It is for tests only.
package mqtttest

import "github.com/iotauthz/iotauthz/plugin/mqtt"

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
