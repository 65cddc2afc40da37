package authz

import (
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/session"
)

// Log reasons of AWS IoT's message broker limits (mqtt.limits); the session reports them as the
// Reason of its denied decisions.
const (
	reasonLimit         = session.ReasonLimit
	reasonPayloadLimit  = session.ReasonPayloadLimit
	reasonClientIDEmpty = session.ReasonClientIDEmpty
)

// sessionLimits turns mqtt.limits into the session's limits.
func sessionLimits(l *config.MQTTLimits) session.Limits {
	return session.Limits{
		ClientIDMaxBytes:    l.ClientIDMaxBytes,
		TopicMaxBytes:       l.TopicMaxBytes,
		TopicMaxSlashes:     l.TopicMaxSlashes,
		PayloadMaxBytes:     l.PayloadMaxBytes,
		KeepAliveMin:        uint16(l.KeepAliveMinSeconds),
		KeepAliveMax:        uint16(l.KeepAliveMaxSeconds),
		RefuseEmptyClientID: l.EmptyClientID == config.EmptyClientIDRefuse,
	}
}

// httpTopicLimit returns why an HTTPS publish topic breaks mqtt.limits (topic bytes or slashes,
// counted as for MQTT), or "".
func (e *Engine) httpTopicLimit(topic string) string {
	l := &e.cfg.MQTT.Limits
	if l.TopicMaxBytes == 0 && l.TopicMaxSlashes == 0 {
		return ""
	}
	sl := session.Limits{TopicMaxBytes: l.TopicMaxBytes, TopicMaxSlashes: l.TopicMaxSlashes}
	return sl.TopicLimit(unsafeBytes(topic))
}

// httpBodyLimit is the largest HTTPS publish body: AWS's 128 KiB, or mqtt.limits.payloadMaxBytes
// when that is smaller and not off.
func (e *Engine) httpBodyLimit() int {
	if n := e.cfg.MQTT.Limits.PayloadMaxBytes; n > 0 && n < maxPublishBody {
		return n
	}
	return maxPublishBody
}

// shortenedName is the longest client id or topic a limit's log line repeats.
const shortenedName = 256

// shorten cuts a name over a limit for the log: its first shortenedName bytes and "…".
func shorten(s string) string {
	if len(s) <= shortenedName {
		return s
	}
	i := shortenedName
	for i > 0 && s[i]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		i--
	}
	return s[:i] + "…"
}
