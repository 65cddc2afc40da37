//go:build !wasm

package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// awsLimits are AWS IoT Core's message broker limits
// (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits), with a small
// payload limit so that tests stay small.
var awsLimits = Limits{ClientIDMaxBytes: 128, TopicMaxBytes: 256, TopicMaxSlashes: 7, PayloadMaxBytes: 10,
	KeepAliveMin: 30, KeepAliveMax: 1200}

// limitRun records the decisions of one session.
type limitRun struct {
	s         *Session
	decisions []Decision
}

func newLimitRun(l Limits, deny DenyAction) *limitRun {
	r := &limitRun{}
	r.s = New(Options{Limits: l, DenyAction: deny, OnDecision: func(d Decision) {
		if d.Event != EventDisconnect {
			d.Name = append([]byte(nil), d.Name...)
			r.decisions = append(r.decisions, d)
		}
	}})
	return r
}

// open connects a client (version v, client id "dev") and authorizes it with allowAll.
func (r *limitRun) open(t *testing.T, v byte) {
	t.Helper()
	if res := r.s.FromClient(connectPkt(v, "dev", "")); res.Status != NeedAuth {
		t.Fatalf("CONNECT: %v %s", res.Status, res.Details)
	}
	if res := r.s.Authorize(allowAll); res.Status != Continue {
		t.Fatalf("Authorize: %v %s", res.Status, res.Details)
	}
	if res := r.s.FromBroker(connackPkt(v)); res.Status != Continue {
		t.Fatalf("CONNACK: %v %s", res.Status, res.Details)
	}
	r.decisions = nil
}

// lastDenial returns the last decision, which must be a denial by a limit.
func (r *limitRun) lastDenial(t *testing.T, reason string) Decision {
	t.Helper()
	if len(r.decisions) == 0 {
		t.Fatal("no decision reported")
	}
	d := r.decisions[len(r.decisions)-1]
	if d.Allowed || d.Reason != reason || !strings.Contains(d.Details, "mqtt.limits.") {
		t.Fatalf("decision %+v, want a denial %s naming the limit", d, reason)
	}
	return d
}

// TestLimits_ClientID: a client id of exactly clientIdMaxBytes goes to the authorizer; one byte
// more is refused with CONNACK 0x85 (MQTT 5) or 0x02 (3.1.1) whatever the broker answers the
// refusal CONNECT, and nothing of the client reaches the broker. An empty client id is refused
// only with RefuseEmptyClientID.
func TestLimits_ClientID(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		want := byte(0x02)
		if v == mqtt.V5 {
			want = 0x85
		}
		for _, c := range []struct {
			name, id string
			refuse   bool
			limits   Limits
			reason   string
		}{
			{"at the limit", strings.Repeat("a", 128), false, awsLimits, ""},
			{"one over", strings.Repeat("a", 129), true, awsLimits, ReasonLimit},
			{"huge", strings.Repeat("b", 65535), true, awsLimits, ReasonLimit},
			{"limit off", strings.Repeat("a", 5000), false, Limits{}, ""},
			{"empty, assigned by the broker", "", false, awsLimits, ""},
			{"empty, refused", "", true, Limits{RefuseEmptyClientID: true}, ReasonClientIDEmpty},
		} {
			r := newLimitRun(c.limits, DenyByVersion)
			res := r.s.FromClient(connectPkt(v, c.id, ""))
			if !c.refuse {
				if res.Status != NeedAuth {
					t.Fatalf("v%d %s: %v %s", v, c.name, res.Status, res.Details)
				}
				continue
			}
			if res.Status != Refusing || !bytes.Equal(res.Out, refusalConnect) || res.Limit != c.reason || res.Reason != ReasonClientError {
				t.Fatalf("v%d %s: %v limit %q out % x", v, c.name, res.Status, res.Limit, res.Out)
			}
			r.lastDenial(t, c.reason)
			if res := r.s.FromClient(pub(v, "t", 0, 0, false, "x")); res.Status != Refusing || len(res.Out) != 0 {
				t.Fatalf("v%d %s: later bytes %v % x", v, c.name, res.Status, res.Out)
			}
			// The broker's answer to the refusal CONNECT, whatever its code, becomes the client's.
			res = r.s.FromBroker(enc(mqtt.V311, mqtt.Packet{Type: mqtt.Connack, ReasonCode: 0x02}))
			p, _, err := mqtt.ReadPacket(res.Out, v, 0)
			if res.Status != Close || err != nil || p.Type != mqtt.Connack || p.ReasonCode != want {
				t.Fatalf("v%d %s: %v %+v %v", v, c.name, res.Status, p, err)
			}
		}
	}
}

// TestLimits_KeepAlive: the CONNECT the broker gets carries the clamped keep-alive (AWS: below 30
// counts as 30, 0 and above 1200 as 1200); an MQTT 5 client learns it from the CONNACK's Server
// Keep Alive, unless the broker set its own; a 3.1.1 CONNACK is untouched.
func TestLimits_KeepAlive(t *testing.T) {
	for _, c := range []struct {
		asked, sent uint16
		limits      Limits
	}{
		{5, 30, awsLimits}, {1, 30, awsLimits}, {29, 30, awsLimits}, {30, 30, awsLimits}, {60, 60, awsLimits},
		{1200, 1200, awsLimits}, {1201, 1200, awsLimits}, {65535, 1200, awsLimits}, {0, 1200, awsLimits},
		{0, 0, Limits{KeepAliveMin: 30}}, {5, 5, Limits{KeepAliveMax: 100}}, {5000, 5000, Limits{}},
	} {
		for _, v := range []byte{mqtt.V311, mqtt.V5} {
			s := New(Options{Limits: c.limits})
			conn := mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: v, CleanStart: true, KeepAlive: c.asked, ClientID: []byte("dev")}
			if r := s.FromClient(enc(v, conn)); r.Status != NeedAuth {
				t.Fatal(r.Status, r.Details)
			}
			fwd, _, err := mqtt.ReadPacket(s.PendingConnect(), v, 0)
			if err != nil || fwd.KeepAlive != c.sent || !bytes.Equal(fwd.ClientID, conn.ClientID) {
				t.Fatalf("v%d asked %d: forwarded %d (%v), want %d", v, c.asked, fwd.KeepAlive, err, c.sent)
			}
			if s.Connect().KeepAlive != c.asked {
				t.Fatalf("ConnectInfo keep-alive %d, want the client's %d", s.Connect().KeepAlive, c.asked)
			}
			if r := s.Resume(allowAll); r.Status != Continue {
				t.Fatal(r.Status, r.Details)
			}
			res := s.FromBroker(connackPkt(v))
			p, _, err := mqtt.ReadPacket(res.Out, v, 0)
			if err != nil || p.Type != mqtt.Connack || p.ReasonCode != 0 {
				t.Fatalf("CONNACK %+v %v", p, err)
			}
			ka, has := p.Properties.Get(mqtt.PropServerKeepAlive)
			wantHas := v == mqtt.V5 && c.asked != c.sent
			if has != wantHas || has && ka.Int != uint32(c.sent) {
				t.Fatalf("v%d asked %d: Server Keep Alive %v %d, want %v %d", v, c.asked, has, ka.Int, wantHas, c.sent)
			}
			if _, ok := p.Properties.Get(mqtt.PropTopicAliasMaximum); v == mqtt.V5 && !ok {
				t.Fatal("the broker's CONNACK properties were lost")
			}
			if !wantHas && !res.Unchanged {
				t.Fatalf("v%d asked %d: CONNACK rewritten for nothing", v, c.asked)
			}
		}
	}
	// The broker's own Server Keep Alive wins; a refused CONNECT gets none.
	for _, code := range []byte{0, 0x87} {
		s := New(Options{Limits: awsLimits})
		s.FromClient(enc(mqtt.V5, mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: mqtt.V5, KeepAlive: 5, ClientID: []byte("d")}))
		s.PendingConnect()
		s.Resume(allowAll)
		ack := mqtt.Packet{Type: mqtt.Connack, ReasonCode: code}
		if code == 0 {
			ack.Properties = mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropServerKeepAlive, Int: 45})
		}
		in := enc(mqtt.V5, ack)
		if res := s.FromBroker(in); !bytes.Equal(res.Out, in) {
			t.Fatalf("code %#x: CONNACK changed: % x", code, res.Out)
		}
	}
}

// TestLimits_Topic: topics and topic filters at topicMaxBytes and topicMaxSlashes pass; one over
// is denied with the MQTT 5 code under denyAction reject (PUBACK 0x90, SUBACK 0x8F; 3.1.1 SUBACK
// 0x80), and closes under disconnect (MQTT 5: DISCONNECT with the code first). A Basic Ingest
// topic does not count its $aws/rules/<rule>/ prefix.
func TestLimits_Topic(t *testing.T) {
	seven := "a/b/c/d/e/f/g/h"
	long := strings.Repeat("t", 256)
	ok := []string{seven, long, "$aws/rules/myRule/" + seven, "$AWS/Rules/r/" + strings.Repeat("t", 256), strings.Repeat("/", 7)}
	over := []string{seven + "/i", long + "x", "$aws/things/x/" + seven[2:] + "/z/y", strings.Repeat("/", 8),
		"$aws/rules/myRule/" + seven + "/i", strings.Repeat("a/", 1000), strings.Repeat("x", 65000)}
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		for _, topic := range ok {
			r := newLimitRun(awsLimits, DenyReject)
			r.open(t, v)
			in := pub(v, topic, 1, 7, false, "p")
			if res := r.s.FromClient(in); res.Status != Continue || !res.Unchanged {
				t.Fatalf("v%d %q: %v %s", v, topic, res.Status, res.Details)
			}
			in = subPkt(v, 8, topic+"/#")
			if strings.Count(topic, "/") >= 7 || len(topic) >= 255 {
				in = subPkt(v, 8, topic)
			}
			if res := r.s.FromClient(in); res.Status != Continue || !res.Unchanged {
				t.Fatalf("v%d filter for %q: %v %s", v, topic, res.Status, res.Details)
			}
		}
		for _, topic := range over {
			// reject: the PUBLISH becomes a PINGREQ whose PINGRESP is the PUBACK with the code.
			r := newLimitRun(awsLimits, DenyReject)
			r.open(t, v)
			res := r.s.FromClient(pub(v, topic, 1, 7, false, "p"))
			if res.Status != Continue || !bytes.Equal(res.Out, pingreqPkt) {
				t.Fatalf("v%d %.40q: %v % x", v, topic, res.Status, res.Out)
			}
			r.lastDenial(t, ReasonLimit)
			wantCode := byte(0)
			if v == mqtt.V5 {
				wantCode = 0x90
			}
			if res := r.s.FromBroker(pingrespPkt); !bytes.Equal(res.Out, ackPkt(v, mqtt.Puback, 7, wantCode)) {
				t.Fatalf("v%d %.40q: PUBACK % x", v, topic, res.Out)
			}
			// A SUBSCRIBE with one good filter and the bad one: the good one still subscribes.
			res = r.s.FromClient(subPkt(v, 9, "ok/x", topic))
			if res.Status != Continue || !bytes.Equal(res.Out, subPkt(v, 9, "ok/x")) {
				t.Fatalf("v%d %.40q: SUBSCRIBE % x", v, topic, res.Out)
			}
			d := r.lastDenial(t, ReasonLimit)
			if d.Event != EventSubscribe || !strings.Contains(d.Details, "topic filter") {
				t.Fatalf("decision %+v", d)
			}
			failure := byte(0x80)
			if v == mqtt.V5 {
				failure = 0x8f
			}
			if res := r.s.FromBroker(subackPkt(v, 9, 1)); !bytes.Equal(res.Out, subackPkt(v, 9, 1, failure)) {
				t.Fatalf("v%d %.40q: SUBACK % x", v, topic, res.Out)
			}

			// disconnect: 3.1.1 closes at once; MQTT 5 sends DISCONNECT 0x90 through the broker's turn.
			r = newLimitRun(awsLimits, DenyDisconnect)
			r.open(t, v)
			res = r.s.FromClient(pub(v, topic, 0, 0, false, "p"))
			if res.Limit != ReasonLimit || res.Reason != ReasonClientError {
				t.Fatalf("v%d %.40q: %+v", v, topic, res)
			}
			if v == mqtt.V311 {
				if res.Status != Close || len(res.Out) != 0 {
					t.Fatalf("v3 %.40q: %v % x", topic, res.Status, res.Out)
				}
				continue
			}
			if res.Status != Closing || !bytes.Equal(res.Out, pingreqPkt) {
				t.Fatalf("v5 %.40q: %v % x", topic, res.Status, res.Out)
			}
			res = r.s.FromBroker(pingrespPkt)
			if res.Status != Close || res.Limit != ReasonLimit || !bytes.Equal(res.Out, enc(mqtt.V5, mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: 0x90})) {
				t.Fatalf("v5 %.40q: %v % x", topic, res.Status, res.Out)
			}
		}
	}
}

// TestLimits_Payload: a payload of payloadMaxBytes passes, one byte more is denied (MQTT 5 PUBACK
// 0x97 "Quota exceeded" under reject, DISCONNECT 0x97 under disconnect; 3.1.1 close), with the
// reason PAYLOAD_LIMIT_EXCEEDED.
func TestLimits_Payload(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		r := newLimitRun(awsLimits, DenyByVersion)
		r.open(t, v)
		if res := r.s.FromClient(pub(v, "t", 1, 1, false, strings.Repeat("p", 10))); res.Status != Continue || !res.Unchanged {
			t.Fatalf("v%d at the limit: %v %s", v, res.Status, res.Details)
		}
		res := r.s.FromClient(pub(v, "t", 1, 2, false, strings.Repeat("p", 11)))
		r.lastDenial(t, ReasonPayloadLimit)
		if v == mqtt.V311 {
			if res.Status != Close || res.Limit != ReasonPayloadLimit {
				t.Fatalf("v3: %+v", res)
			}
			continue
		}
		if res.Status != Continue || !bytes.Equal(res.Out, pingreqPkt) {
			t.Fatalf("v5: %v % x", res.Status, res.Out)
		}
		if res := r.s.FromBroker(pingrespPkt); !bytes.Equal(res.Out, ackPkt(v, mqtt.Puback, 2, 0x97)) {
			t.Fatalf("v5 PUBACK % x", res.Out)
		}
		// QoS 0: dropped; QoS 2: PUBREC 0x97.
		if res := r.s.FromClient(pub(v, "t", 0, 0, false, strings.Repeat("p", 11))); res.Status != Continue || len(res.Out) != 0 {
			t.Fatalf("v5 QoS 0: %v % x", res.Status, res.Out)
		}
		if res := r.s.FromClient(pub(v, "t", 2, 3, false, strings.Repeat("p", 11))); !bytes.Equal(res.Out, pingreqPkt) {
			t.Fatalf("v5 QoS 2: % x", res.Out)
		}
		if res := r.s.FromBroker(pingrespPkt); !bytes.Equal(res.Out, ackPkt(v, mqtt.Pubrec, 3, 0x97)) {
			t.Fatalf("v5 PUBREC % x", res.Out)
		}
	}
}

// TestLimits_Off: the zero Limits check nothing.
func TestLimits_Off(t *testing.T) {
	r := newLimitRun(Limits{}, DenyDisconnect)
	r.open(t, mqtt.V5)
	in := pub(mqtt.V5, strings.Repeat("a/", 500), 1, 1, false, strings.Repeat("p", 5000))
	if res := r.s.FromClient(in); res.Status != Continue || !res.Unchanged {
		t.Fatalf("%v %s", res.Status, res.Details)
	}
}

// TestLimits_SubscribeDisconnect: under denyAction disconnect a topic filter over a limit ends an
// MQTT 5 connection with DISCONNECT 0x8F "Topic Filter invalid" (through the broker's turn) and
// closes a 3.1.1 one at once; nothing of the SUBSCRIBE reaches the broker.
func TestLimits_SubscribeDisconnect(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		r := newLimitRun(awsLimits, DenyDisconnect)
		r.open(t, v)
		res := r.s.FromClient(subPkt(v, 3, "ok", "a/b/c/d/e/f/g/h/i"))
		r.lastDenial(t, ReasonLimit)
		if v == mqtt.V311 {
			if res.Status != Close || len(res.Out) != 0 || res.Limit != ReasonLimit {
				t.Fatalf("3.1.1: %+v", res)
			}
			continue
		}
		if res.Status != Closing || !bytes.Equal(res.Out, pingreqPkt) {
			t.Fatalf("5: %v % x", res.Status, res.Out)
		}
		res = r.s.FromBroker(pingrespPkt)
		if res.Status != Close || !bytes.Equal(res.Out, enc(mqtt.V5, mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: 0x8f})) {
			t.Fatalf("5: %v % x", res.Status, res.Out)
		}
	}
}

// TestLimits_Will: the broker publishes a CONNECT's Will on the device's behalf, so its topic and
// payload follow the PUBLISH limits: at the limits the CONNECT goes to the authorizer; over them
// it is refused with CONNACK 0x90 (topic) or 0x97 (payload) in MQTT 5, 5 in 3.1.1, and the
// denial is a Connect decision on the Will.
func TestLimits_Will(t *testing.T) {
	will := func(v byte, topic, payload string) []byte {
		return enc(v, mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: v, CleanStart: true, KeepAlive: 60, ClientID: []byte("dev"),
			Will: true, WillTopic: []byte(topic), WillPayload: []byte(payload)})
	}
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		for _, c := range []struct {
			topic, payload string
			code5          byte
			reason         string
		}{
			{"a/b/c/d/e/f/g/h", strings.Repeat("p", 10), 0, ""},
			{"a/b/c/d/e/f/g/h/i", "p", 0x90, ReasonLimit},
			{strings.Repeat("t", 257), "p", 0x90, ReasonLimit},
			{"w", strings.Repeat("p", 11), 0x97, ReasonPayloadLimit},
		} {
			r := newLimitRun(awsLimits, DenyByVersion)
			res := r.s.FromClient(will(v, c.topic, c.payload))
			if c.reason == "" {
				if res.Status != NeedAuth {
					t.Fatalf("v%d %.20q: %v %s", v, c.topic, res.Status, res.Details)
				}
				continue
			}
			if res.Status != Refusing || !bytes.Equal(res.Out, refusalConnect) || res.Limit != c.reason {
				t.Fatalf("v%d %.20q: %+v", v, c.topic, res)
			}
			if d := r.lastDenial(t, c.reason); !d.Will || d.Event != EventConnect || string(d.Name) != c.topic || !strings.HasPrefix(d.Details, "Will message: ") {
				t.Fatalf("decision %+v", d)
			}
			want := byte(5)
			if v == mqtt.V5 {
				want = c.code5
			}
			res = r.s.FromBroker(enc(mqtt.V311, mqtt.Packet{Type: mqtt.Connack, ReasonCode: 0x02}))
			if p, _, err := mqtt.ReadPacket(res.Out, v, 0); err != nil || p.Type != mqtt.Connack || p.ReasonCode != want {
				t.Fatalf("v%d %.20q: CONNACK %+v %v, want %#x", v, c.topic, p, err, want)
			}
		}
	}
}

// FuzzLimits feeds arbitrary client bytes after a CONNECT, with small limits: the session never
// panics, and no PUBLISH or SUBSCRIBE that breaks a limit ever reaches the broker, whatever the
// deny action (a topic set through a topic alias is followed to its alias-only uses).
func FuzzLimits(f *testing.F) {
	l := Limits{ClientIDMaxBytes: 8, TopicMaxBytes: 12, TopicMaxSlashes: 2, PayloadMaxBytes: 6, KeepAliveMin: 30, KeepAliveMax: 1200}
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		f.Add(cat(pub(v, "a/b", 1, 1, false, "ok"), pub(v, "a/b/c/d", 1, 2, false, "no"), pub(v, "a", 0, 0, false, "toolong"),
			subPkt(v, 3, "a/+", "a/b/c/#", strings.Repeat("x", 13))), v == mqtt.V5, true)
	}
	f.Add(cat(pubAlias("a/b/c/d", 1, 1, 1, "x"), pubAlias("", 1, 1, 2, "y"), pubAlias("ok", 2, 0, 0, "1"), pubAlias("", 2, 0, 0, "2")), true, false)
	f.Fuzz(func(t *testing.T, cb []byte, v5, reject bool) {
		v := mqtt.V311
		if v5 {
			v = mqtt.V5
		}
		o := Options{MaxPacketBytes: 4096, Limits: l}
		if reject {
			o.DenyAction = DenyReject
		}
		got := play(t, newTLS, o, allowAll, []chunk{c2b(connectPkt(v, "dev1", "")), b2c(connackPkt(v)), c2b(cb)})
		aliases := map[uint16][]byte{}
		for b := got.toBroker; len(b) > 0; {
			p, n, err := mqtt.ReadPacket(b, v, 0)
			if err != nil || n == 0 {
				t.Fatalf("the broker got a bad stream (%v): % x", err, got.toBroker)
			}
			b = b[n:]
			switch p.Type {
			case mqtt.Publish:
				topic := p.Topic
				if p.TopicAlias != 0 {
					if len(topic) > 0 {
						aliases[p.TopicAlias] = append([]byte(nil), topic...)
					} else {
						topic = aliases[p.TopicAlias]
					}
				}
				if d := l.topicLimit(topic, false); d != "" || len(p.Payload) > l.PayloadMaxBytes {
					t.Fatalf("a PUBLISH over the limits reached the broker: %q (%d bytes): %s", topic, len(p.Payload), d)
				}
			case mqtt.Subscribe:
				it := p.Filters()
				for f, _, ok := it.Next(); ok; f, _, ok = it.Next() {
					if d := l.topicLimit(f, true); d != "" {
						t.Fatalf("a SUBSCRIBE over the limits reached the broker: %q", f)
					}
				}
			case mqtt.Connect:
				if len(p.ClientID) > l.ClientIDMaxBytes || p.KeepAlive < 30 || p.KeepAlive > 1200 {
					t.Fatalf("CONNECT %q keep-alive %d reached the broker", p.ClientID, p.KeepAlive)
				}
			}
		}
	})
}
