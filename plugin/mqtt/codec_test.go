package mqtt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/hexbytes"
)

// h decodes "10 0a 00 ..." (spaces ignored).
var h = hexbytes.Parse

// norm makes empty slices nil so that packets compare by content.
func norm(p Packet) Packet {
	v := reflect.ValueOf(&p).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return p
}

func equalPackets(a, b Packet) bool { return reflect.DeepEqual(norm(a), norm(b)) }

type vector struct {
	name    string
	version byte
	wire    string
	want    Packet
	// noncanonical: Append writes a shorter valid form (e.g. MQTT 5 PUBACK with reason 0 spelled out).
	noncanonical bool
}

// Vectors: the specifications' non-normative examples (MQTT 3.1.1 figures 3.6, 3.11, 3.22, 3.26,
// 3.30 and MQTT 5.0 figures 3-6, 3-9 and the remaining length table), completed into whole packets,
// plus one packet of every other type in both versions.
var vectors = []vector{
	{name: "3.1.1 CONNECT spec flags 0xCE keep alive 10", version: V311,
		wire: "10 1c 00 04 4d 51 54 54 04 ce 00 0a 00 02 63 31 00 01 77 00 03 62 79 65 00 01 75 00 01 70",
		want: Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 4, CleanStart: true, KeepAlive: 10,
			ClientID: []byte("c1"), Will: true, WillQoS: 1, WillTopic: []byte("w"), WillPayload: []byte("bye"),
			HasUsername: true, Username: []byte("u"), HasPassword: true, Password: []byte("p")}},
	{name: "3.1.1 CONNECT minimal, empty client id", version: V311,
		wire: "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00",
		want: Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 4, CleanStart: true, KeepAlive: 60}},
	{name: "3.1 CONNECT MQIsdp", version: V311,
		wire: "10 10 00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 63 31",
		want: Packet{Type: Connect, ProtocolName: []byte("MQIsdp"), ProtocolLevel: 3, CleanStart: true, KeepAlive: 60, ClientID: []byte("c1")}},
	{name: "5.0 CONNECT spec flags 0xC2 session expiry 10", version: V5,
		wire: "10 1a 00 04 4d 51 54 54 05 c2 00 0a 05 11 00 00 00 0a 00 02 63 31 00 01 75 00 01 70",
		want: Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 5, CleanStart: true, KeepAlive: 10,
			Properties: h("11 00 00 00 0a"), ClientID: []byte("c1"),
			HasUsername: true, Username: []byte("u"), HasPassword: true, Password: []byte("p")}},
	{name: "5.0 CONNECT will QoS 2 retain with will delay", version: V5,
		wire: "10 1c 00 04 4d 51 54 54 05 36 00 0a 00 00 00 05 18 00 00 00 05 00 03 77 2f 74 00 02 68 69",
		want: Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 5, CleanStart: true, KeepAlive: 10,
			Will: true, WillQoS: 2, WillRetain: true, WillProperties: h("18 00 00 00 05"),
			WillTopic: []byte("w/t"), WillPayload: []byte("hi")}},
	{name: "5.0 CONNECT password without user name", version: V5,
		wire: "10 10 00 04 4d 51 54 54 05 40 00 00 00 00 00 00 01 70",
		want: Packet{Type: Connect, ProtocolName: []byte("MQTT"), ProtocolLevel: 5, HasPassword: true, Password: []byte("p")}},
	{name: "3.1.1 CONNACK session present", version: V311, wire: "20 02 01 00",
		want: Packet{Type: Connack, SessionPresent: true}},
	{name: "3.1.1 CONNACK not authorized", version: V311, wire: "20 02 00 05",
		want: Packet{Type: Connack, ReasonCode: 5}},
	{name: "5.0 CONNACK no properties", version: V5, wire: "20 03 00 00 00",
		want: Packet{Type: Connack}},
	{name: "5.0 CONNACK topic alias maximum and receive maximum", version: V5, wire: "20 09 00 00 06 22 00 0a 21 00 14",
		want: Packet{Type: Connack, Properties: h("22 00 0a 21 00 14")}},
	{name: "5.0 CONNACK not authorized", version: V5, wire: "20 03 00 87 00",
		want: Packet{Type: Connack, ReasonCode: 0x87}},
	{name: "3.1.1 PUBLISH spec topic a/b id 10 QoS 1", version: V311, wire: "32 09 00 03 61 2f 62 00 0a 68 69",
		want: Packet{Type: Publish, QoS: 1, Topic: []byte("a/b"), PacketID: 10, Payload: []byte("hi")}},
	{name: "3.1.1 PUBLISH QoS 0 retain empty payload", version: V311, wire: "31 05 00 03 61 2f 62",
		want: Packet{Type: Publish, Retain: true, Topic: []byte("a/b")}},
	{name: "3.1.1 PUBLISH QoS 2 dup", version: V311, wire: "3c 07 00 03 61 2f 62 00 0b",
		want: Packet{Type: Publish, QoS: 2, Dup: true, Topic: []byte("a/b"), PacketID: 11}},
	{name: "5.0 PUBLISH spec topic a/b id 10 no properties", version: V5, wire: "32 0a 00 03 61 2f 62 00 0a 00 68 69",
		want: Packet{Type: Publish, QoS: 1, Topic: []byte("a/b"), PacketID: 10, Payload: []byte("hi")}},
	{name: "5.0 PUBLISH alias only", version: V5, wire: "30 08 00 00 03 23 00 01 68 69",
		want: Packet{Type: Publish, Properties: h("23 00 01"), TopicAlias: 1, Payload: []byte("hi")}},
	{name: "5.0 PUBLISH topic, alias, user property, two subscription ids", version: V5,
		wire: "35 16 00 03 61 2f 62 00 01 0e 23 00 02 26 00 01 6b 00 01 76 0b 01 0b 02",
		want: Packet{Type: Publish, QoS: 2, Retain: true, Topic: []byte("a/b"), PacketID: 1,
			Properties: h("23 00 02 26 00 01 6b 00 01 76 0b 01 0b 02"), TopicAlias: 2}},
	{name: "3.1.1 PUBACK", version: V311, wire: "40 02 00 0a", want: Packet{Type: Puback, PacketID: 10}},
	{name: "3.1.1 PUBREC", version: V311, wire: "50 02 00 0a", want: Packet{Type: Pubrec, PacketID: 10}},
	{name: "3.1.1 PUBREL", version: V311, wire: "62 02 00 0a", want: Packet{Type: Pubrel, PacketID: 10}},
	{name: "3.1.1 PUBCOMP", version: V311, wire: "70 02 00 0a", want: Packet{Type: Pubcomp, PacketID: 10}},
	{name: "5.0 PUBACK success short form", version: V5, wire: "40 02 00 0a", want: Packet{Type: Puback, PacketID: 10}},
	{name: "5.0 PUBACK success with reason byte", version: V5, wire: "40 03 00 0a 00", want: Packet{Type: Puback, PacketID: 10},
		noncanonical: true},
	{name: "5.0 PUBACK not authorized", version: V5, wire: "40 03 00 0a 87", want: Packet{Type: Puback, PacketID: 10, ReasonCode: 0x87}},
	{name: "5.0 PUBACK not authorized with reason string", version: V5, wire: "40 0b 00 0a 87 07 1f 00 04 64 65 6e 79",
		want: Packet{Type: Puback, PacketID: 10, ReasonCode: 0x87, Properties: h("1f 00 04 64 65 6e 79")}},
	{name: "5.0 PUBREC no matching subscribers", version: V5, wire: "50 03 00 0a 10", want: Packet{Type: Pubrec, PacketID: 10, ReasonCode: 0x10}},
	{name: "5.0 PUBREL packet identifier not found", version: V5, wire: "62 03 00 0a 92", want: Packet{Type: Pubrel, PacketID: 10, ReasonCode: 0x92}},
	{name: "5.0 PUBCOMP", version: V5, wire: "70 02 00 0a", want: Packet{Type: Pubcomp, PacketID: 10}},
	{name: "3.1.1 SUBSCRIBE spec a/b QoS 1, c/d QoS 2", version: V311, wire: "82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02",
		want: Packet{Type: Subscribe, PacketID: 10, Payload: h("00 03 61 2f 62 01 00 03 63 2f 64 02")}},
	{name: "5.0 SUBSCRIBE with subscription identifier and options", version: V5,
		wire: "82 11 00 0a 02 0b 05 00 03 61 2f 23 2d 00 03 2b 2f 64 00",
		want: Packet{Type: Subscribe, PacketID: 10, Properties: h("0b 05"), Payload: h("00 03 61 2f 23 2d 00 03 2b 2f 64 00")}},
	{name: "3.1.1 SUBACK spec 0, 2, failure", version: V311, wire: "90 05 00 0a 00 02 80",
		want: Packet{Type: Suback, PacketID: 10, Payload: h("00 02 80")}},
	{name: "5.0 SUBACK granted QoS 2 and not authorized", version: V5, wire: "90 05 00 0a 00 02 87",
		want: Packet{Type: Suback, PacketID: 10, Payload: h("02 87")}},
	{name: "3.1.1 UNSUBSCRIBE spec a/b, c/d", version: V311, wire: "a2 0c 00 0b 00 03 61 2f 62 00 03 63 2f 64",
		want: Packet{Type: Unsubscribe, PacketID: 11, Payload: h("00 03 61 2f 62 00 03 63 2f 64")}},
	{name: "5.0 UNSUBSCRIBE with user property", version: V5, wire: "a2 0f 00 0b 07 26 00 01 6b 00 01 76 00 03 61 2f 62",
		want: Packet{Type: Unsubscribe, PacketID: 11, Properties: h("26 00 01 6b 00 01 76"), Payload: h("00 03 61 2f 62")}},
	{name: "3.1.1 UNSUBACK", version: V311, wire: "b0 02 00 0b", want: Packet{Type: Unsuback, PacketID: 11}},
	{name: "5.0 UNSUBACK success and no subscription existed", version: V5, wire: "b0 05 00 0b 00 00 11",
		want: Packet{Type: Unsuback, PacketID: 11, Payload: h("00 11")}},
	{name: "3.1.1 PINGREQ", version: V311, wire: "c0 00", want: Packet{Type: Pingreq}},
	{name: "5.0 PINGREQ", version: V5, wire: "c0 00", want: Packet{Type: Pingreq}},
	{name: "3.1.1 PINGRESP", version: V311, wire: "d0 00", want: Packet{Type: Pingresp}},
	{name: "5.0 PINGRESP", version: V5, wire: "d0 00", want: Packet{Type: Pingresp}},
	{name: "3.1.1 DISCONNECT", version: V311, wire: "e0 00", want: Packet{Type: Disconnect}},
	{name: "5.0 DISCONNECT normal short form", version: V5, wire: "e0 00", want: Packet{Type: Disconnect}},
	{name: "5.0 DISCONNECT not authorized", version: V5, wire: "e0 01 87", want: Packet{Type: Disconnect, ReasonCode: 0x87}},
	{name: "5.0 DISCONNECT with session expiry", version: V5, wire: "e0 07 00 05 11 00 00 00 00",
		want: Packet{Type: Disconnect, Properties: h("11 00 00 00 00")}},
	{name: "5.0 AUTH success short form", version: V5, wire: "f0 00", want: Packet{Type: Auth}},
	{name: "5.0 AUTH continue SCRAM", version: V5, wire: "f0 0a 18 08 15 00 05 53 43 52 41 4d",
		want: Packet{Type: Auth, ReasonCode: 0x18, Properties: h("15 00 05 53 43 52 41 4d")}},
}

func TestReadPacket_Vectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			wire := h(v.wire)
			p, n, err := ReadPacket(wire, v.version, 0)
			if err != nil || n != len(wire) {
				t.Fatalf("ReadPacket = n %d, err %v; want n %d", n, err, len(wire))
			}
			if !equalPackets(p, v.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", p, v.want)
			}
			// Every strict prefix asks for more bytes.
			for i := 0; i < len(wire); i++ {
				if _, n, err := ReadPacket(wire[:i], v.version, 0); n != 0 || err != nil {
					t.Fatalf("prefix %d: n %d err %v", i, n, err)
				}
			}
			// Trailing bytes of the next packet are not consumed.
			if _, n, _ := ReadPacket(append(append([]byte{}, wire...), 0xc0, 0x00), v.version, 0); n != len(wire) {
				t.Fatalf("with trailing bytes n = %d", n)
			}
			// Size limit: exactly the size passes, one byte less fails.
			if _, _, err := ReadPacket(wire, v.version, len(wire)); err != nil {
				t.Fatalf("maxSize = len: %v", err)
			}
			if _, _, err := ReadPacket(wire, v.version, len(wire)-1); err != ErrTooLarge {
				t.Fatalf("maxSize = len-1: err %v", err)
			}
			enc := v.want.Append(nil, v.version)
			if !v.noncanonical && !bytes.Equal(enc, wire) {
				t.Fatalf("Append = % x\nwant     % x", enc, wire)
			}
			p2, n2, err := ReadPacket(enc, v.version, 0)
			if err != nil || n2 != len(enc) || !equalPackets(p2, v.want) {
				t.Fatalf("decode(Append) = %+v, %d, %v", p2, n2, err)
			}
		})
	}
}

func TestRemainingLength(t *testing.T) {
	// MQTT 3.1.1 table 2.4 / MQTT 5.0 table 1-1.
	for _, c := range []struct {
		v    int
		wire string
	}{
		{0, "00"}, {127, "7f"}, {128, "80 01"}, {16383, "ff 7f"}, {16384, "80 80 01"},
		{2097151, "ff ff 7f"}, {2097152, "80 80 80 01"}, {268435455, "ff ff ff 7f"},
	} {
		if got := AppendVarint(nil, c.v); !bytes.Equal(got, h(c.wire)) {
			t.Errorf("AppendVarint(%d) = % x", c.v, got)
		}
		v, k, err := readVarint(h(c.wire))
		if v != c.v || k != len(h(c.wire)) || err != "" {
			t.Errorf("readVarint(%s) = %d, %d, %q", c.wire, v, k, err)
		}
		// A PUBLISH header with this remaining length: complete header, incomplete body → need more.
		hdr := append([]byte{0x30}, h(c.wire)...)
		if _, n, err := ReadPacket(hdr, V311, 0); n != 0 || (c.v > 0 && err != nil) {
			t.Errorf("header only, rl %d: n %d err %v", c.v, n, err)
		}
	}
	// A large PUBLISH round-trips through a 3-byte remaining length.
	big := Packet{Type: Publish, QoS: 1, PacketID: 7, Topic: []byte("t"), Payload: bytes.Repeat([]byte{'x'}, 20000)}
	wire := big.Append(nil, V5)
	if wire[1]&0x80 == 0 || wire[2]&0x80 == 0 || wire[3]&0x80 != 0 {
		t.Fatalf("remaining length bytes % x", wire[1:4])
	}
	if p, n, err := ReadPacket(wire, V5, 0); err != nil || n != len(wire) || !equalPackets(p, big) {
		t.Fatalf("big packet: %d %v", n, err)
	}
}

// TestReadPacket_Errors: each malformed packet is refused with an *Error naming the fault, and
// the DISCONNECT reason code a receiver sends for it.
func TestReadPacket_Errors(t *testing.T) {
	for _, c := range []struct {
		name    string
		version byte
		max     int
		wire    string
		want    string // substring of the error
		reason  byte
	}{
		{"remaining length 5 bytes", V311, 0, "30 ff ff ff ff 01", "remaining length exceeds 4 bytes", ReasonMalformed},
		{"remaining length 5 bytes, header only", V311, 0, "30 80 80 80 80", "remaining length exceeds 4 bytes", ReasonMalformed},
		{"remaining length not minimal", V311, 0, "30 80 00", "not minimally encoded", ReasonMalformed},
		{"too large, known from the header", V311, 100, "30 e5 01", "maximum packet size", ReasonPacketTooLarge},
		{"reserved type 0", V311, 0, "00 00", "reserved packet type 0", ReasonMalformed},
		{"AUTH in 3.1.1", V311, 0, "f0 00", "AUTH is MQTT 5.0 only", ReasonMalformed},
		{"unknown version", 0, 0, "c0 00", "protocol version not known", ReasonMalformed},
		{"PUBLISH QoS 3", V311, 0, "36 07 00 03 61 2f 62 00 01", "QoS 3", ReasonMalformed},
		{"PUBLISH DUP on QoS 0", V311, 0, "38 05 00 03 61 2f 62", "DUP set on a QoS 0", ReasonMalformed},
		{"PUBLISH wildcard +", V311, 0, "30 05 00 03 61 2b 62", "wildcard", ReasonMalformed},
		{"PUBLISH wildcard # after UTF-8", V311, 0, "30 06 00 04 c3 a9 2f 23", "wildcard", ReasonMalformed},
		{"PUBLISH invalid UTF-8", V311, 0, "30 04 00 02 c3 28", "UTF-8", ReasonMalformed},
		{"PUBLISH NUL in topic", V311, 0, "30 04 00 02 61 00", "UTF-8", ReasonMalformed},
		{"PUBLISH surrogate in topic", V311, 0, "30 05 00 03 ed a0 80", "UTF-8", ReasonMalformed},
		{"PUBLISH empty topic 3.1.1", V311, 0, "30 02 00 00", "empty topic", ReasonMalformed},
		{"PUBLISH empty topic without alias 5.0", V5, 0, "30 03 00 00 00", "empty topic", ReasonMalformed},
		{"PUBLISH truncated topic", V311, 0, "30 03 00 05 61", "truncated topic", ReasonMalformed},
		{"PUBLISH packet id 0", V311, 0, "32 07 00 03 61 2f 62 00 00", "packet identifier 0", ReasonMalformed},
		{"PUBLISH missing packet id", V311, 0, "32 06 00 03 61 2f 62 00", "truncated packet identifier", ReasonMalformed},
		{"PUBLISH topic alias 0", V5, 0, "30 09 00 03 61 2f 62 03 23 00 00", "topic alias 0", ReasonTopicAliasInvalid},
		{"PUBLISH topic alias twice", V5, 0, "30 0c 00 03 61 2f 62 06 23 00 01 23 00 02", "more than once", ReasonProtocolError},
		{"PUBLISH property not allowed", V5, 0, "30 0b 00 03 61 2f 62 05 11 00 00 00 01", "not allowed", ReasonMalformed},
		{"PUBLISH unknown property", V5, 0, "30 08 00 03 61 2f 62 02 05 00", "unknown property", ReasonMalformed},
		{"PUBLISH truncated properties", V5, 0, "30 07 00 03 61 2f 62 05 23", "truncated properties", ReasonMalformed},
		{"PUBLISH truncated property value", V5, 0, "30 08 00 03 61 2f 62 02 23 00", "truncated property", ReasonMalformed},
		{"PUBLISH payload format 2", V5, 0, "30 08 00 03 61 2f 62 02 01 02", "out of range", ReasonProtocolError},
		{"PUBLISH subscription id 0", V5, 0, "30 08 00 03 61 2f 62 02 0b 00", "Subscription Identifier 0 not allowed", ReasonProtocolError},
		{"PUBLISH response topic with wildcard", V5, 0, "30 0b 00 03 61 2f 62 05 08 00 02 61 23", "response topic", ReasonMalformed},
		{"PUBLISH user property invalid UTF-8", V5, 0, "30 0e 00 03 61 2f 62 08 26 00 02 c3 28 00 01 76", "UTF-8", ReasonMalformed},
		{"PUBACK reserved flags", V311, 0, "41 02 00 0a", "reserved fixed header flags", ReasonMalformed},
		{"PUBREL flags 0", V311, 0, "60 02 00 0a", "reserved fixed header flags", ReasonMalformed},
		{"SUBSCRIBE flags 0", V311, 0, "80 08 00 0a 00 03 61 2f 62 00", "reserved fixed header flags", ReasonMalformed},
		{"UNSUBSCRIBE flags 0", V311, 0, "a0 07 00 0a 00 03 61 2f 62", "reserved fixed header flags", ReasonMalformed},
		{"PUBACK long 3.1.1", V311, 0, "40 03 00 0a 00", "remaining length must be 2", ReasonMalformed},
		{"PUBACK packet id 0", V311, 0, "40 02 00 00", "packet identifier 0", ReasonMalformed},
		{"PUBACK invalid reason 5.0", V5, 0, "40 03 00 0a 01", "invalid reason code", ReasonMalformed},
		{"PUBREL invalid reason 5.0", V5, 0, "62 03 00 0a 87", "invalid reason code", ReasonMalformed},
		{"PUBACK bytes after properties", V5, 0, "40 05 00 0a 87 00 00", "bytes after the properties", ReasonMalformed},
		{"PUBACK property not allowed", V5, 0, "40 07 00 0a 87 03 23 00 01", "not allowed", ReasonMalformed},
		{"SUBSCRIBE no filter", V311, 0, "82 02 00 0a", "no topic filter", ReasonMalformed},
		{"SUBSCRIBE QoS 3", V311, 0, "82 06 00 0a 00 01 23 03", "invalid requested QoS", ReasonMalformed},
		{"SUBSCRIBE reserved option bits 3.1.1", V311, 0, "82 06 00 0a 00 01 23 04", "invalid requested QoS", ReasonMalformed},
		{"SUBSCRIBE retain handling 3", V5, 0, "82 07 00 0a 00 00 01 23 30", "invalid subscription options", ReasonMalformed},
		{"SUBSCRIBE reserved option bits 5.0", V5, 0, "82 07 00 0a 00 00 01 23 40", "invalid subscription options", ReasonMalformed},
		{"SUBSCRIBE filter a#", V311, 0, "82 07 00 0a 00 02 61 23 00", "invalid topic filter", ReasonMalformed},
		{"SUBSCRIBE filter #/a", V311, 0, "82 08 00 0a 00 03 23 2f 61 00", "invalid topic filter", ReasonMalformed},
		{"SUBSCRIBE filter a+", V311, 0, "82 07 00 0a 00 02 61 2b 00", "invalid topic filter", ReasonMalformed},
		{"SUBSCRIBE empty filter", V311, 0, "82 05 00 0a 00 00 00", "invalid topic filter", ReasonMalformed},
		{"SUBSCRIBE missing options", V311, 0, "82 07 00 0a 00 03 61 2f 62", "truncated subscription options", ReasonMalformed},
		{"SUBSCRIBE two subscription ids", V5, 0, "82 0b 00 0a 04 0b 01 0b 02 00 01 23 00", "more than once", ReasonProtocolError},
		{"SUBACK invalid return code", V311, 0, "90 03 00 0a 03", "invalid return code", ReasonMalformed},
		{"SUBACK no code", V311, 0, "90 02 00 0a", "no return code", ReasonMalformed},
		{"SUBACK invalid reason 5.0", V5, 0, "90 04 00 0a 00 11", "invalid reason code", ReasonMalformed},
		{"UNSUBSCRIBE no filter", V5, 0, "a2 03 00 0a 00", "no topic filter", ReasonMalformed},
		{"UNSUBACK long 3.1.1", V311, 0, "b0 03 00 0a 00", "remaining length must be 2", ReasonMalformed},
		{"UNSUBACK no code 5.0", V5, 0, "b0 03 00 0a 00", "no reason code", ReasonMalformed},
		{"PINGREQ with body", V311, 0, "c0 01 00", "remaining length must be 0", ReasonMalformed},
		{"DISCONNECT with body 3.1.1", V311, 0, "e0 01 00", "remaining length must be 0", ReasonMalformed},
		{"DISCONNECT invalid reason", V5, 0, "e0 01 01", "invalid reason code", ReasonMalformed},
		{"AUTH invalid reason", V5, 0, "f0 01 87", "invalid reason code", ReasonMalformed},
		{"CONNACK reserved flags", V311, 0, "20 02 02 00", "reserved acknowledge flags", ReasonMalformed},
		{"CONNACK reserved return code", V311, 0, "20 02 00 06", "reserved return code", ReasonMalformed},
		{"CONNACK session present with error", V311, 0, "20 02 01 05", "session present", ReasonMalformed},
		{"CONNACK invalid reason 5.0", V5, 0, "20 03 00 01 00", "invalid reason code", ReasonMalformed},
		{"CONNACK property not allowed", V5, 0, "20 06 00 00 03 23 00 01", "not allowed", ReasonMalformed},
		{"CONNECT reserved flag", V311, 0, "10 0c 00 04 4d 51 54 54 04 01 00 0a 00 00", "reserved connect flag", ReasonMalformed},
		{"CONNECT protocol name", V311, 0, "10 0c 00 04 4d 51 54 58 04 02 00 0a 00 00", "unsupported protocol", ReasonMalformed},
		{"CONNECT level 6", V311, 0, "10 0c 00 04 4d 51 54 54 06 02 00 0a 00 00", "unsupported protocol", ReasonMalformed},
		{"CONNECT MQIsdp level 4", V311, 0, "10 0e 00 06 4d 51 49 73 64 70 04 02 00 3c 00 00", "unsupported protocol", ReasonMalformed},
		{"CONNECT password without user name 3.1.1", V311, 0, "10 0f 00 04 4d 51 54 54 04 42 00 0a 00 00 00 01 70", "password flag", ReasonMalformed},
		{"CONNECT will QoS without will", V311, 0, "10 0c 00 04 4d 51 54 54 04 0a 00 0a 00 00", "without the will flag", ReasonMalformed},
		{"CONNECT will retain without will", V311, 0, "10 0c 00 04 4d 51 54 54 04 20 00 0a 00 00", "without the will flag", ReasonMalformed},
		{"CONNECT will QoS 3", V311, 0, "10 11 00 04 4d 51 54 54 04 1c 00 0a 00 00 00 01 77 00 00", "will QoS 3", ReasonMalformed},
		{"CONNECT will topic wildcard", V311, 0, "10 11 00 04 4d 51 54 54 04 04 00 0a 00 00 00 01 23 00 00", "will topic", ReasonMalformed},
		{"CONNECT bytes after payload", V311, 0, "10 0d 00 04 4d 51 54 54 04 02 00 0a 00 00 00", "bytes after the payload", ReasonMalformed},
		{"CONNECT client id invalid UTF-8", V311, 0, "10 0e 00 04 4d 51 54 54 04 02 00 0a 00 02 c3 28", "client identifier", ReasonMalformed},
		{"CONNECT truncated user name", V311, 0, "10 0e 00 04 4d 51 54 54 04 82 00 0a 00 00 00 05", "truncated user name", ReasonMalformed},
		{"CONNECT 5.0 topic alias property", V5, 0, "10 10 00 04 4d 51 54 54 05 02 00 0a 03 23 00 01 00 00", "not allowed", ReasonMalformed},
		{"CONNECT 5.0 receive maximum 0", V5, 0, "10 10 00 04 4d 51 54 54 05 02 00 0a 03 21 00 00 00 00", "Receive Maximum 0 not allowed", ReasonProtocolError},
		{"CONNECT 5.0 will property not allowed", V5, 0, "10 15 00 04 4d 51 54 54 05 06 00 0a 00 00 00 03 23 00 01 00 01 77 00 00", "will Topic Alias not allowed in this packet", ReasonMalformed},
		{"5.0 PUBLISH too large", V5, 5, "30 08 00 03 61 2f 62 00 78 79", "packet exceeds the maximum packet size", ReasonPacketTooLarge},
		{"5.0 PUBLISH topic alias 0", V5, 0, "30 0a 00 03 61 2f 62 03 23 00 00 78", "topic alias 0", ReasonTopicAliasInvalid},
		{"5.0 PUBLISH topic alias twice", V5, 0, "30 0c 00 03 61 2f 62 06 23 00 01 23 00 02", "Topic Alias included more than once", ReasonProtocolError},
		{"5.0 PUBLISH payload format 2", V5, 0, "30 09 00 03 61 2f 62 02 01 02 78", "Payload Format Indicator value out of range", ReasonProtocolError},
		{"5.0 PUBLISH subscription id 0", V5, 0, "30 08 00 03 61 2f 62 02 0b 00", "Subscription Identifier 0 not allowed", ReasonProtocolError},
		{"5.0 PUBLISH unknown property", V5, 0, "30 09 00 03 61 2f 62 02 07 00 78", "unknown property identifier", ReasonMalformed},
		{"5.0 PUBLISH QoS 3", V5, 0, "36 05 00 03 61 2f 62", "QoS 3", ReasonMalformed},
		{"5.0 PUBLISH truncated properties", V5, 0, "30 06 00 03 61 2f 62 05", "truncated properties", ReasonMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, n, err := ReadPacket(h(c.wire), c.version, c.max)
			if err == nil || n != 0 {
				t.Fatalf("n %d err %v, want an error", n, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error type %T", err)
			}
			if got := e.ReasonCode(); got != c.reason {
				t.Fatalf("%v: reason code %#x, want %#x", e, got, c.reason)
			}
		})
	}
}

func TestPacket_Filters(t *testing.T) {
	p, _, err := ReadPacket(h("82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02"), V311, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	it := p.Filters()
	for f, o, ok := it.Next(); ok; f, o, ok = it.Next() {
		got = append(got, string(f)+"="+string('0'+o))
	}
	if strings.Join(got, ",") != "a/b=1,c/d=2" {
		t.Fatalf("filters %v", got)
	}
	u, _, _ := ReadPacket(h("a2 0c 00 0b 00 03 61 2f 62 00 03 63 2f 64"), V311, 0)
	got = got[:0]
	it = u.Filters()
	for f, _, ok := it.Next(); ok; f, _, ok = it.Next() {
		got = append(got, string(f))
	}
	if strings.Join(got, ",") != "a/b,c/d" {
		t.Fatalf("unsubscribe filters %v", got)
	}
	// Building a SUBSCRIBE with AppendSubscription gives the spec bytes.
	payload := AppendSubscription(AppendSubscription(nil, []byte("a/b"), 1), []byte("c/d"), 2)
	s := Packet{Type: Subscribe, PacketID: 10, Payload: payload}
	if got := s.Append(nil, V311); !bytes.Equal(got, h("82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02")) {
		t.Fatalf("SUBSCRIBE % x", got)
	}
}

func TestProperties(t *testing.T) {
	props := Properties(h("23 00 02 26 00 01 6b 00 01 76 0b 01 0b 82 01 02 00 00 01 00 09 00 02 ca fe"))
	var ids []byte
	for p, rest, ok := props.Next(); ok; p, rest, ok = rest.Next() {
		ids = append(ids, p.ID)
		switch p.ID {
		case PropUserProperty:
			if string(p.Key) != "k" || string(p.Value) != "v" {
				t.Errorf("user property %q=%q", p.Key, p.Value)
			}
		case PropMessageExpiry:
			if p.Int != 256 {
				t.Errorf("message expiry %d", p.Int)
			}
		case PropCorrelationData:
			if !bytes.Equal(p.Value, h("ca fe")) {
				t.Errorf("correlation data % x", p.Value)
			}
		}
	}
	if !bytes.Equal(ids, []byte{0x23, 0x26, 0x0b, 0x0b, 0x02, 0x09}) {
		t.Fatalf("ids % x", ids)
	}
	if p, ok := props.Get(PropSubscriptionID); !ok || p.Int != 1 {
		t.Fatalf("Get sub id %v %v", p, ok)
	}
	if p, ok := props.Get(PropTopicAlias); !ok || p.Int != 2 {
		t.Fatalf("Get alias %v %v", p, ok)
	}
	if _, ok := props.Get(PropContentType); ok {
		t.Fatal("Get content type found")
	}
	// AppendProperty writes back the same bytes.
	var out []byte
	for p, rest, ok := props.Next(); ok; p, rest, ok = rest.Next() {
		if p.ID == PropSubscriptionID && len(p.Value) == 2 && p.Int != 130 {
			t.Fatalf("varint 82 01 = %d, want 130", p.Int)
		}
		out = AppendProperty(out, p)
	}
	if !bytes.Equal(out, props) {
		t.Fatalf("AppendProperty % x", out)
	}
}

func TestReadPacket_NoAllocs(t *testing.T) {
	pub := h("35 16 00 03 61 2f 62 00 01 0e 23 00 02 26 00 01 6b 00 01 76 0b 01 0b 02")
	con := h("10 1a 00 04 4d 51 54 54 05 c2 00 0a 05 11 00 00 00 0a 00 02 63 31 00 01 75 00 01 70")
	allocs := testing.AllocsPerRun(100, func() {
		if _, n, err := ReadPacket(pub, V5, 1024); n == 0 || err != nil {
			t.Fatal(n, err)
		}
		if _, n, err := ReadPacket(con, V5, 1024); n == 0 || err != nil {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per decode", allocs)
	}
}

func BenchmarkReadPacket_Publish(b *testing.B) {
	pub := Packet{Type: Publish, QoS: 1, PacketID: 1, Topic: []byte("devices/device-123/telemetry"), Payload: make([]byte, 64)}
	wire := pub.Append(nil, V311)
	b.SetBytes(int64(len(wire)))
	for i := 0; i < b.N; i++ {
		if _, n, err := ReadPacket(wire, V311, 131072); n == 0 || err != nil {
			b.Fatal(n, err)
		}
	}
}
