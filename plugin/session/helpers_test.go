package session

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/mqtt/mqtttest"
)

// Packet builders (the mqtt encoders are checked against the specifications' vectors).

func enc(v byte, p mqtt.Packet) []byte { return p.Append(nil, v) }

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func connectPkt(v byte, clientID, user string) []byte {
	p := mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: v, CleanStart: true, KeepAlive: 30, ClientID: []byte(clientID)}
	if user != "" {
		p.HasUsername, p.Username = true, []byte(user)
		p.HasPassword, p.Password = true, []byte("pw")
	}
	if v == mqtt.V5 {
		p.Properties = mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropTopicAliasMaximum, Int: 10})
	}
	return enc(v, p)
}

func connackPkt(v byte) []byte {
	p := mqtt.Packet{Type: mqtt.Connack}
	if v == mqtt.V5 {
		p.Properties = mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropTopicAliasMaximum, Int: 10})
	}
	return enc(v, p)
}

func pub(v byte, topic string, qos byte, id uint16, retain bool, payload string) []byte {
	return enc(v, mqtt.Packet{Type: mqtt.Publish, Topic: []byte(topic), QoS: qos, PacketID: id, Retain: retain, Payload: []byte(payload)})
}

// pubAlias: MQTT 5 PUBLISH with a topic alias; topic "" uses the alias alone.
func pubAlias(topic string, alias uint16, qos byte, id uint16, payload string) []byte {
	props := mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropTopicAlias, Int: uint32(alias)})
	return enc(mqtt.V5, mqtt.Packet{Type: mqtt.Publish, Topic: []byte(topic), QoS: qos, PacketID: id,
		Properties: props, Payload: []byte(payload)})
}

// subPkt and subackPkt: see mqtttest.
var subPkt, subackPkt = mqtttest.Subscribe, mqtttest.Suback

func ackPkt(v byte, t mqtt.Type, id uint16, reason byte) []byte {
	return enc(v, mqtt.Packet{Type: t, PacketID: id, ReasonCode: reason})
}

var (
	pingreqPkt  = []byte{0xc0, 0x00}
	pingrespPkt = []byte{0xd0, 0x00}
	discPkt     = []byte{0xe0, 0x00}
)

// testPolicy allows names by prefix per action; "*" allows everything for that action.
type testPolicy map[Action][]string

func (p testPolicy) Allow(a Action, name []byte) bool {
	for _, pre := range p[a] {
		if pre == "*" || strings.HasPrefix(string(name), pre) {
			return true
		}
	}
	return false
}

var allowAll = PolicyFunc(func(Action, []byte) bool { return true })

// chunk is one delivery to the session.
type chunk struct {
	client bool
	data   []byte
}

func c2b(bs ...[]byte) chunk { return chunk{true, cat(bs...)} }
func b2c(bs ...[]byte) chunk { return chunk{false, cat(bs...)} }

// outcome is everything observable from a run.
type outcome struct {
	toBroker, toClient []byte
	decisions          []string
	status             Status
	reason             string
}

func (o outcome) String() string {
	return fmt.Sprintf("toBroker % x\ntoClient % x\ndecisions %q\nstatus %v %s", o.toBroker, o.toClient, o.decisions, o.status, o.reason)
}

func fmtDecision(d Decision) string {
	if d.Event == EventDisconnect {
		return "Disconnect " + d.Reason
	}
	s := fmt.Sprintf("%s %s %s q%d", d.Event, d.Action, d.Name, d.QoS)
	if d.Retain {
		s += " r"
	}
	if !d.Allowed {
		s += " DENIED"
	}
	return s
}

// processor is what Session and WSSession have in common.
type processor interface {
	FromClient([]byte) Result
	FromBroker([]byte) Result
	Authorize(Policy) Result
}

// play delivers chunks one by one (copying each, and scribbling over the copy afterwards so that
// any bytes the session kept a reference to would show up as corruption). On NeedAuth it calls
// Authorize(pol) at once.
func play(t testing.TB, newP func(Options) processor, o Options, pol Policy, chunks []chunk) outcome {
	t.Helper()
	var oc outcome
	o.OnDecision = func(d Decision) { oc.decisions = append(oc.decisions, fmtDecision(d)) }
	s := newP(o)
	add := func(client bool, r Result, in []byte) {
		if r.Unchanged && !bytes.Equal(r.Out, in) {
			t.Fatalf("Unchanged but Out % x != in % x", r.Out, in)
		}
		if client {
			oc.toBroker = append(oc.toBroker, r.Out...)
		} else {
			oc.toClient = append(oc.toClient, r.Out...)
		}
		oc.status = r.Status
		if r.Status == Close || r.Status == Closing {
			oc.reason = r.Reason + ": " + r.Details
		}
	}
	for _, c := range chunks {
		if oc.status == Close {
			break
		}
		in := append([]byte(nil), c.data...)
		var r Result
		if c.client {
			r = s.FromClient(in)
		} else {
			r = s.FromBroker(in)
		}
		add(c.client, r, in)
		for i := range in {
			in[i] = 0xee
		}
		if r.Status == NeedAuth {
			add(true, s.Authorize(pol), nil)
		}
	}
	return oc
}

func newTLS(o Options) processor { return New(o) }

// splits returns the variants of a chunk list exercised by the stream tests: every chunk cut at
// every split point (the other chunks whole), every chunk delivered byte by byte, consecutive
// chunks of one direction glued together.
func splits(chunks []chunk) [][]chunk {
	var out [][]chunk
	for i, c := range chunks {
		for k := 0; k <= len(c.data); k++ {
			v := append([]chunk(nil), chunks[:i]...)
			v = append(v, chunk{c.client, c.data[:k]}, chunk{c.client, c.data[k:]})
			v = append(v, chunks[i+1:]...)
			out = append(out, v)
		}
	}
	var bytewise []chunk
	for _, c := range chunks {
		for k := range c.data {
			bytewise = append(bytewise, chunk{c.client, c.data[k : k+1]})
		}
	}
	out = append(out, bytewise)
	var glued []chunk
	for _, c := range chunks {
		if n := len(glued); n > 0 && glued[n-1].client == c.client {
			glued[n-1].data = cat(glued[n-1].data, c.data)
			continue
		}
		glued = append(glued, chunk{c.client, append([]byte(nil), c.data...)})
	}
	return append(out, glued)
}
