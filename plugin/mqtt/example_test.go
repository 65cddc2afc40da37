package mqtt_test

import (
	"fmt"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// Packets split across reads: ReadPacket asks for more bytes until one is complete.
func ExampleReadPacket() {
	stream := []byte{0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i', 0xc0, 0x00}
	p, n, err := mqtt.ReadPacket(stream[:5], mqtt.V311, 1024)
	fmt.Println(n, err)
	p, n, err = mqtt.ReadPacket(stream, mqtt.V311, 1024)
	fmt.Printf("%v %s qos=%d id=%d payload=%s n=%d err=%v\n", p.Type, p.Topic, p.QoS, p.PacketID, p.Payload, n, err)
	p, _, _ = mqtt.ReadPacket(stream[n:], mqtt.V311, 1024)
	fmt.Println(p.Type)
	fmt.Printf("% x\n", (&mqtt.Packet{Type: mqtt.Puback, PacketID: 10, ReasonCode: mqtt.ReasonNotAuthorized}).Append(nil, mqtt.V5))
	// Output:
	// 0 <nil>
	// PUBLISH a/b qos=1 id=10 payload=hi n=11 err=<nil>
	// PINGREQ
	// 40 03 00 0a 87
}
