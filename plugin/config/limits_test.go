package config

import (
	"strings"
	"testing"
)

// limitsWithPayload is DefaultLimits with another payload limit.
func limitsWithPayload(n int) MQTTLimits {
	l := DefaultLimits()
	l.PayloadMaxBytes = n
	return l
}

// TestDefaultLimits_AWS: the defaults are AWS IoT Core's message broker limits
// (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits).
func TestDefaultLimits_AWS(t *testing.T) {
	l := DefaultLimits()
	if l.ClientIDMaxBytes != 128 || l.TopicMaxBytes != 256 || l.TopicMaxSlashes != 7 || l.PayloadMaxBytes != 131072 ||
		l.KeepAliveMinSeconds != 30 || l.KeepAliveMaxSeconds != 1200 || l.EmptyClientID != EmptyClientIDAssign {
		t.Fatalf("%+v", l)
	}
}

// TestParse_MQTTLimits: every field of mqtt.limits, its range, 0 to turn a limit off, and the
// coherence rules (payload within mqtt.maxPacketBytes, keep-alive minimum within maximum); each
// error names the field.
func TestParse_MQTTLimits(t *testing.T) {
	type L = MQTTLimits
	def := DefaultLimits()
	with := func(f func(*L)) L { l := def; f(&l); return l }
	for _, c := range []struct {
		name      string
		limits    any // nil: absent
		maxPacket any // nil: 131072
		want      L
		err       string
	}{
		{"absent", nil, nil, def, ""},
		{"empty object", obj{}, nil, def, ""},
		{"all set", obj{"clientIdMaxBytes": 64, "topicMaxBytes": 100, "topicMaxSlashes": 3, "payloadMaxBytes": 1000,
			"keepAliveMinSeconds": 10, "keepAliveMaxSeconds": 600, "emptyClientId": "refuse"}, nil,
			L{64, 100, 3, 1000, 10, 600, EmptyClientIDRefuse}, ""},
		{"all off", obj{"clientIdMaxBytes": 0, "topicMaxBytes": 0, "topicMaxSlashes": 0, "payloadMaxBytes": 0,
			"keepAliveMinSeconds": 0, "keepAliveMaxSeconds": 0}, nil, L{EmptyClientID: EmptyClientIDAssign}, ""},
		{"range tops", obj{"clientIdMaxBytes": 65535, "topicMaxBytes": 65535, "topicMaxSlashes": 65535,
			"keepAliveMinSeconds": 65535, "keepAliveMaxSeconds": 65535}, nil,
			with(func(l *L) {
				l.ClientIDMaxBytes, l.TopicMaxBytes, l.TopicMaxSlashes, l.KeepAliveMinSeconds, l.KeepAliveMaxSeconds = 65535, 65535, 65535, 65535, 65535
			}), ""},
		{"payload up to maxPacketBytes", obj{"payloadMaxBytes": 300000}, 300000, with(func(l *L) { l.PayloadMaxBytes = 300000 }), ""},
		{"default payload follows a smaller maxPacketBytes", nil, 4096, with(func(l *L) { l.PayloadMaxBytes = 4096 }), ""},
		{"default payload follows a smaller maxPacketBytes (object)", obj{"topicMaxBytes": 9}, 4096,
			with(func(l *L) { l.PayloadMaxBytes, l.TopicMaxBytes = 4096, 9 }), ""},
		{"keep-alive min only", obj{"keepAliveMinSeconds": 5000, "keepAliveMaxSeconds": 0}, nil,
			with(func(l *L) { l.KeepAliveMinSeconds, l.KeepAliveMaxSeconds = 5000, 0 }), ""},
		{"keep-alive min = max", obj{"keepAliveMinSeconds": 60, "keepAliveMaxSeconds": 60}, nil,
			with(func(l *L) { l.KeepAliveMinSeconds, l.KeepAliveMaxSeconds = 60, 60 }), ""},

		{"not an object", "x", nil, def, "mqtt.limits: must be an object"},
		{"unknown field", obj{"maxSlashes": 7}, nil, def, "mqtt.limits.maxSlashes: unknown field"},
		{"client id negative", obj{"clientIdMaxBytes": -1}, nil, def, "mqtt.limits.clientIdMaxBytes: -1 out of range [0, 65535]"},
		{"client id too big", obj{"clientIdMaxBytes": 65536}, nil, def, "mqtt.limits.clientIdMaxBytes: 65536 out of range"},
		{"client id not integer", obj{"clientIdMaxBytes": 1.5}, nil, def, "mqtt.limits.clientIdMaxBytes: must be an integer"},
		{"client id string", obj{"clientIdMaxBytes": "128"}, nil, def, "mqtt.limits.clientIdMaxBytes: must be an integer, got string"},
		{"topic bytes", obj{"topicMaxBytes": 70000}, nil, def, "mqtt.limits.topicMaxBytes: 70000 out of range"},
		{"slashes", obj{"topicMaxSlashes": -7}, nil, def, "mqtt.limits.topicMaxSlashes: -7 out of range"},
		{"payload", obj{"payloadMaxBytes": 268435456}, 268435455, def, "mqtt.limits.payloadMaxBytes: 268435456 out of range"},
		{"payload above maxPacketBytes", obj{"payloadMaxBytes": 131073}, nil, def,
			"mqtt.limits.payloadMaxBytes: 131073 exceeds mqtt.maxPacketBytes (131072)"},
		{"keep-alive min", obj{"keepAliveMinSeconds": 65536}, nil, def, "mqtt.limits.keepAliveMinSeconds: 65536 out of range"},
		{"keep-alive max", obj{"keepAliveMaxSeconds": true}, nil, def, "mqtt.limits.keepAliveMaxSeconds: must be an integer, got boolean"},
		{"keep-alive min above max", obj{"keepAliveMinSeconds": 1201}, nil, def,
			"mqtt.limits.keepAliveMinSeconds: 1201 exceeds mqtt.limits.keepAliveMaxSeconds (1200)"},
		{"empty client id value", obj{"emptyClientId": "reject"}, nil, def,
			`mqtt.limits.emptyClientId: must be one of "assign", "refuse", got "reject"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base(t)
			mq := m["mqtt"].(obj)
			mq["maxPacketBytes"] = 131072
			if c.maxPacket != nil {
				mq["maxPacketBytes"] = c.maxPacket
			}
			if c.limits != nil {
				mq["limits"] = c.limits
			}
			got, err := Parse(marshal(t, m))
			switch {
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
			case err != nil:
				t.Fatal(err)
			case got.MQTT.Limits != c.want:
				t.Fatalf("%+v, want %+v", got.MQTT.Limits, c.want)
			}
		})
	}
}

// TestParse_MQTTLimitsDuplicate: a field given twice is refused with its path.
func TestParse_MQTTLimitsDuplicate(t *testing.T) {
	keys(t)
	b := marshal(t, base(t))
	s := strings.Replace(string(b), `"mqtt":{`, `"mqtt":{"limits":{"topicMaxBytes":1,"topicMaxBytes":2},`, 1)
	if s == string(b) {
		t.Fatal("no mqtt object in the marshalled configuration")
	}
	if _, err := Parse([]byte(s)); err == nil || !strings.Contains(err.Error(), "mqtt.limits.topicMaxBytes: duplicate field") {
		t.Fatalf("error %v", err)
	}
}

// TestParse_MaxPacketBytesDefault: without mqtt.maxPacketBytes, a PUBLISH carrying AWS's largest
// payload (131072 bytes) with a topic at AWS's limit fits in the packet bound, so the payload
// limit decides; an explicit smaller bound brings the payload limit's default down with it.
func TestParse_MaxPacketBytesDefault(t *testing.T) {
	m := base(t)
	delete(m["mqtt"].(obj), "maxPacketBytes")
	c, err := Parse(marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	// fixed header 1 + 4, topic 2 + 256, packet id 2, MQTT 5 properties length 4 and 8 KiB of them.
	if need := 5 + 2 + AWSTopicMaxBytes + 2 + 4 + 8192 + AWSPayloadMaxBytes; c.MQTT.MaxPacketBytes < need || c.MQTT.Limits.PayloadMaxBytes != AWSPayloadMaxBytes {
		t.Fatalf("maxPacketBytes %d (need %d), payloadMaxBytes %d", c.MQTT.MaxPacketBytes, need, c.MQTT.Limits.PayloadMaxBytes)
	}
}
