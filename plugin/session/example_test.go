package session_test

import (
	"fmt"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/session"
)

// The glue's view of a connection with mqtt.denyAction "reject": the CONNECT waits for the
// authorizer (in-place hand-off), a denied QoS 1 PUBLISH becomes a PINGREQ toward the broker, and the broker's PINGRESP
// becomes the PUBACK the client expects.
func ExampleSession() {
	policy := session.PolicyFunc(func(a session.Action, name []byte) bool {
		return a == session.Connect || strings.HasPrefix(string(name), "devices/dev1/")
	})
	s := session.New(session.Options{DenyAction: session.DenyReject})

	connect := (&mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: mqtt.V311, CleanStart: true, ClientID: []byte("dev1")}).Append(nil, 0)
	r := s.FromClient(connect)
	fmt.Println(r.Status, string(s.Connect().ClientID))

	pending := s.PendingConnect() // left in the paused buffer, in place of the input
	r = s.Resume(policy)
	fmt.Printf("%v % x\n", r.Status, pending[:2])

	r = s.FromBroker([]byte{0x20, 0x02, 0x00, 0x00}) // CONNACK
	fmt.Println("CONNACK unchanged:", r.Unchanged)

	denied := (&mqtt.Packet{Type: mqtt.Publish, QoS: 1, PacketID: 7, Topic: []byte("devices/dev2/x")}).Append(nil, mqtt.V311)
	r = s.FromClient(denied)
	fmt.Printf("to the broker: % x\n", r.Out)

	r = s.FromBroker([]byte{0xd0, 0x00}) // PINGRESP
	fmt.Printf("to the client: % x\n", r.Out)
	// Output:
	// NeedAuth dev1
	// Continue 10 10
	// CONNACK unchanged: true
	// to the broker: c0 00
	// to the client: 40 02 00 07
}
