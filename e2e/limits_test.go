package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// AWS IoT Core's message broker limits (mqtt.limits, left at AWS's numbers by the shared stack's
// configuration) with real clients through the embedded gateway and mosquitto. Source:
// https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits.

// TestLimits_ClientIDRefused: a client id of 129 bytes (AWS's limit is 128) is refused with
// CONNACK "identifier rejected" (3.1.1 return code 2) or "Client Identifier not valid" (MQTT 5
// reason 0x85) by mosquitto_pub in both versions, paho.mqtt.golang and paho.golang, and the
// authorizer is never called; a client id of 128 bytes connects, publishes and receives.
func TestLimits_ClientIDRefused(t *testing.T) {
	embeddedOnly(t, "embedded target only")
	e := startEmbedded(t)
	setRules(t, &e.env)
	s := &sc{T: t, e: &e.env, id: "limitsid"}
	tok := s.token("allow")
	user := s.username(tok)
	long := strings.Repeat("L", 129)

	out, err := s.mosquittoPub(s.e.addr, long, user, "-t", s.topic("x"), "-m", "x")
	if err == nil || !strings.Contains(strings.ToLower(out), "identifier rejected") {
		s.fatalf("mosquitto_pub MQTT 3.1.1: %v %q, want identifier rejected", err, out)
	}
	out, err = s.mosquittoPub(s.e.addr, long, user, "-V", "mqttv5", "-t", s.topic("x"), "-m", "x")
	if err == nil || !strings.Contains(strings.ToLower(out), "client identifier not valid") {
		s.fatalf("mosquitto_pub MQTT 5: %v %q, want client identifier not valid", err, out)
	}
	if _, err := s.dial(connOpts{clientID: long, username: user}); !errors.Is(err, packets.ErrorRefusedIDRejected) {
		s.fatalf("paho.mqtt.golang: %v, want %v", err, packets.ErrorRefusedIDRejected)
	}
	if _, ca, _, _, err := s.dial5(long, user, 60); ca == nil || ca.ReasonCode != 0x85 {
		s.fatalf("paho.golang: CONNACK %+v, %v; want reason 0x85", ca, err)
	}
	if n := s.hits(tok); n != 0 {
		s.fatalf("the authorizer was called %d times for refused client ids", n)
	}
	if !strings.Contains(s.e.logs(), `"reason":"LIMIT_EXCEEDED","details":"client id of 129 bytes exceeds mqtt.limits.clientIdMaxBytes (128)"`) {
		s.fatalf("no LIMIT_EXCEEDED line for the client id")
	}

	c := s.mustDial(connOpts{clientID: strings.Repeat("G", 128)}, tok)
	s.mustSubscribe(c, s.topic("ok"))
	s.mustPublish(c, s.topic("ok"), 1, "good")
	s.receive(c, s.topic("ok")+" good")
}

// TestLimits_MQTT5 (denyAction reject, paho.golang): a keep-alive of 5 s is raised to AWS's
// minimum of 30 s and the CONNACK says so (Server Keep Alive 30); a topic with 8 slashes (AWS's
// limit is 7) gets PUBACK 0x90 "Topic Name invalid" and, as a filter, SUBACK 0x8F "Topic Filter
// invalid" while the good filter next to it subscribes; the connection keeps working.
func TestLimits_MQTT5(t *testing.T) {
	embeddedOnly(t, "embedded target only")
	e := startEmbedded(t)
	setRules(t, &e.env)
	ee := e.env
	ee.addr = ee.rejectAddr
	s := &sc{T: t, e: &ee, id: "limits5"}
	cl, ca, msgs, errs, err := s.dial5("c-"+s.id, s.username(s.token("allow")), 5)
	if err != nil {
		s.fatalf("CONNECT: %v", err)
	}
	if ca.Properties == nil || ca.Properties.ServerKeepAlive == nil || *ca.Properties.ServerKeepAlive != 30 {
		s.fatalf("CONNACK properties %+v, want Server Keep Alive 30", ca.Properties)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deep := s.topic("a/b/c/d/e/f/g") // devices/ID/ + 6 more slashes: 8
	pr, err := cl.Publish(ctx, &paho5.Publish{Topic: deep, QoS: 1, Payload: []byte("no")})
	if pr == nil || pr.ReasonCode != 0x90 {
		s.fatalf("PUBLISH with 8 slashes: %+v %v, want PUBACK 0x90", pr, err)
	}
	sa, err := cl.Subscribe(ctx, &paho5.Subscribe{Subscriptions: []paho5.SubscribeOptions{
		{Topic: s.topic("ok"), QoS: 1}, {Topic: deep, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 2 || sa.Reasons[0] != 1 || sa.Reasons[1] != 0x8f {
		s.fatalf("SUBSCRIBE good + 8 slashes: %+v %v, want SUBACK [0x01 0x8f]", sa, err)
	}
	if _, err := cl.Publish(ctx, &paho5.Publish{Topic: s.topic("ok"), QoS: 1, Payload: []byte("yes")}); err != nil {
		s.fatalf("PUBLISH after the refusals: %v", err)
	}
	select {
	case got := <-msgs:
		if got != s.topic("ok")+" yes" {
			s.fatalf("received %q", got)
		}
	case err := <-errs:
		s.fatalf("paho.golang reported: %v", err)
	case <-time.After(10 * time.Second):
		s.fatalf("the allowed message did not come back")
	}
	if !strings.Contains(s.e.logs(), `"reason":"LIMIT_EXCEEDED","details":"topic with 8 slashes exceeds mqtt.limits.topicMaxSlashes (7)"`) {
		s.fatalf("no LIMIT_EXCEEDED line for the topic")
	}
}

// TestLimits_MQTT311TopicDisconnects: over MQTT 3.1.1 (denyAction disconnect) a topic of 257
// bytes closes the connection, as AWS closes it; the next client works.
func TestLimits_MQTT311TopicDisconnects(t *testing.T) {
	embeddedOnly(t, "embedded target only")
	e := startEmbedded(t)
	setRules(t, &e.env)
	s := &sc{T: t, e: &e.env, id: "limits311"}
	c := s.mustDial(connOpts{clientID: "c-" + s.id}, s.token("allow"))
	long := s.topic(strings.Repeat("x", 257-len(s.topic(""))))
	c.Publish(long, 1, false, "no")
	s.closed(c, 10*time.Second, "a topic of 257 bytes")
	c = s.mustDial(connOpts{clientID: "c2-" + s.id}, s.token("allow"))
	s.mustSubscribe(c, s.topic("ok"))
	s.mustPublish(c, s.topic("ok"), 1, "good")
	s.receive(c, s.topic("ok")+" good")
}
