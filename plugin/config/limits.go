package config

import (
	"strconv"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// MQTTLimits is the "mqtt.limits" object: AWS IoT Core's message broker limits, enforced by the
// plugin with AWS's numbers unless configured otherwise (docs/configuration.md lists AWS's
// sources). A limit set to 0 is off. Topic limits count a Basic Ingest topic
// ($aws/rules/<rule-name>/…) without its first three segments, as AWS does.
type MQTTLimits struct {
	// ClientIDMaxBytes: a CONNECT whose client id is longer is refused with CONNACK 0x85 (MQTT 5)
	// or 0x02 (3.1.1). 0–65535, default 128. JSON: "mqtt.limits.clientIdMaxBytes".
	ClientIDMaxBytes int

	// TopicMaxBytes bounds a PUBLISH topic and a SUBSCRIBE topic filter (also an HTTPS publish
	// topic). 0–65535, default 256. JSON: "mqtt.limits.topicMaxBytes".
	TopicMaxBytes int

	// TopicMaxSlashes bounds the forward slashes of a topic or topic filter (AWS: "maximum number
	// of slashes in topic and topic filter"). 0–65535, default 7. JSON:
	// "mqtt.limits.topicMaxSlashes".
	TopicMaxSlashes int

	// PayloadMaxBytes bounds a PUBLISH payload (and an HTTPS publish body, which also never
	// exceeds 131072). 0–268435455 and at most mqtt.maxPacketBytes, default 131072. JSON:
	// "mqtt.limits.payloadMaxBytes".
	PayloadMaxBytes int

	// KeepAliveMinSeconds and KeepAliveMaxSeconds clamp the CONNECT's keep-alive before the
	// CONNECT reaches the broker: a shorter non-zero one is raised to the minimum, a longer one
	// or 0 (no keep-alive) becomes the maximum. An MQTT 5 client is told in the CONNACK's Server
	// Keep Alive. 0–65535 each, minimum ≤ maximum when both are set; defaults 30 and 1200.
	// JSON: "mqtt.limits.keepAliveMinSeconds", "mqtt.limits.keepAliveMaxSeconds".
	KeepAliveMinSeconds int
	KeepAliveMaxSeconds int

	// EmptyClientID is what a CONNECT with a zero-length client id gets: EmptyClientIDAssign
	// (AWS's behaviour: the CONNECT goes on and the broker assigns an id, returned to an MQTT 5
	// client as the CONNACK's Assigned Client Identifier) or EmptyClientIDRefuse (CONNACK 0x85 in
	// MQTT 5, 0x02 in 3.1.1). Default "assign". JSON: "mqtt.limits.emptyClientId".
	EmptyClientID EmptyClientID
}

// EmptyClientID is "mqtt.limits.emptyClientId".
type EmptyClientID string

// EmptyClientID values.
const (
	EmptyClientIDAssign EmptyClientID = "assign"
	EmptyClientIDRefuse EmptyClientID = "refuse"
)

// AWS IoT Core's message broker limits, the defaults of MQTTLimits.
const (
	AWSClientIDMaxBytes    = 128
	AWSTopicMaxBytes       = 256
	AWSTopicMaxSlashes     = 7
	AWSPayloadMaxBytes     = 131072
	AWSKeepAliveMinSeconds = 30
	AWSKeepAliveMaxSeconds = 1200
)

// DefaultMaxPacketBytes is mqtt.maxPacketBytes's default: AWS's payload limit plus 16 KiB for
// the fixed header, the topic and MQTT 5 properties.
const DefaultMaxPacketBytes = AWSPayloadMaxBytes + 16384

// DefaultLimits returns AWS IoT Core's limits.
func DefaultLimits() MQTTLimits {
	return MQTTLimits{
		ClientIDMaxBytes:    AWSClientIDMaxBytes,
		TopicMaxBytes:       AWSTopicMaxBytes,
		TopicMaxSlashes:     AWSTopicMaxSlashes,
		PayloadMaxBytes:     AWSPayloadMaxBytes,
		KeepAliveMinSeconds: AWSKeepAliveMinSeconds,
		KeepAliveMaxSeconds: AWSKeepAliveMaxSeconds,
		EmptyClientID:       EmptyClientIDAssign,
	}
}

// limits reads "mqtt.limits"; maxPacketBytes is the already read mqtt.maxPacketBytes, which the
// payload limit must fit in (a larger packet is closed before its payload could be judged).
func limits(v jsonv.Value, maxPacketBytes int) (MQTTLimits, error) {
	l := DefaultLimits()
	if !v.Exists() {
		if l.PayloadMaxBytes > maxPacketBytes {
			l.PayloadMaxBytes = maxPacketBytes
		}
		return l, nil
	}
	m, err := object("mqtt.limits", "mqtt.limits", v, "clientIdMaxBytes", "topicMaxBytes", "topicMaxSlashes",
		"payloadMaxBytes", "keepAliveMinSeconds", "keepAliveMaxSeconds", "emptyClientId")
	if err != nil {
		return l, err
	}
	ints := []struct {
		name string
		dst  *int
		max  int
	}{
		{"clientIdMaxBytes", &l.ClientIDMaxBytes, 65535},
		{"topicMaxBytes", &l.TopicMaxBytes, 65535},
		{"topicMaxSlashes", &l.TopicMaxSlashes, 65535},
		{"payloadMaxBytes", &l.PayloadMaxBytes, 268435455},
		{"keepAliveMinSeconds", &l.KeepAliveMinSeconds, 65535},
		{"keepAliveMaxSeconds", &l.KeepAliveMaxSeconds, 65535},
	}
	for _, f := range ints {
		if v, ok := m[f.name]; ok {
			if *f.dst, err = integer("mqtt.limits."+f.name, v, 0, f.max); err != nil {
				return l, err
			}
		}
	}
	if v, ok := m["emptyClientId"]; ok {
		if l.EmptyClientID, err = oneOf("mqtt.limits.emptyClientId", v, EmptyClientIDAssign, EmptyClientIDRefuse); err != nil {
			return l, err
		}
	}
	if _, set := m["payloadMaxBytes"]; !set && l.PayloadMaxBytes > maxPacketBytes {
		// The default follows a smaller mqtt.maxPacketBytes rather than refuse the configuration.
		l.PayloadMaxBytes = maxPacketBytes
	}
	if l.PayloadMaxBytes > maxPacketBytes {
		return l, errorf("mqtt.limits.payloadMaxBytes", strconv.Itoa(l.PayloadMaxBytes)+
			" exceeds mqtt.maxPacketBytes ("+strconv.Itoa(maxPacketBytes)+"): such a packet is closed before its payload is judged")
	}
	if l.KeepAliveMinSeconds > 0 && l.KeepAliveMaxSeconds > 0 && l.KeepAliveMinSeconds > l.KeepAliveMaxSeconds {
		return l, errorf("mqtt.limits.keepAliveMinSeconds", strconv.Itoa(l.KeepAliveMinSeconds)+
			" exceeds mqtt.limits.keepAliveMaxSeconds ("+strconv.Itoa(l.KeepAliveMaxSeconds)+")")
	}
	return l, nil
}
