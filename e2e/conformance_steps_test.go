package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paho3 "github.com/eclipse/paho.mqtt.golang"
)

// scenario is one entry of the conformance lists: what clients of one MQTT version do, in order.
// Client names are local to the scenario; topics are relative to the run's prefix (run.topic).
type scenario struct {
	name    string
	version byte // 4 (MQTT 3.1.1, Paho's paho.mqtt.golang) or 5 (Paho's paho.golang)
	steps   []step
	// differs (differentScenarios only) is how the gateway's transcript differs from mosquitto's.
	differs []change
}

// step is one action of a scenario. A step fails only when it cannot complete (no answer in
// time, a client used while it is not connected); what the broker or the proxy answered, even a
// refusal or a close, is in the transcript instead.
type step interface{ do(r *run) error }

// conn opens a connection for client c: MQTT 5 CONNECT with props and a Will, or MQTT 3.1.1 with
// clean (Clean Session) and the Will's topic, payload, QoS and retain flag.
type conn struct {
	c         string
	id        string // the client id, when it is not c (a second connection of the same session)
	emptyID   bool   // a zero-length client id (the server assigns one)
	clean     bool   // Clean Start (5), Clean Session (3.1.1)
	keepAlive uint16 // default 60 s
	props     *paho5.ConnectProperties
	will      *paho5.WillMessage // Topic is relative
	willProps *paho5.WillProperties
	hold      bool // acknowledge QoS 1 and 2 PUBLISHes only at an ack or rawAck step
}

func (s conn) do(r *run) error {
	c := r.client(s.c)
	if c.isUp() {
		return fmt.Errorf("%s is still connected", s.c)
	}
	return c.connect(s)
}

// sub is a SUBSCRIBE (MQTT 3.1.1: one per filter, with the filter's QoS).
type sub struct {
	c     string
	subs  []paho5.SubscribeOptions // Topic is relative
	props *paho5.SubscribeProperties
}

func (s sub) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	subs := append([]paho5.SubscribeOptions(nil), s.subs...)
	for i := range subs {
		subs[i].Topic = r.topic(subs[i].Topic)
	}
	if r.version == 4 {
		for _, o := range subs {
			tok := c.v3.Subscribe(o.Topic, o.QoS, nil)
			if err := c.call(func() error { return waitToken(tok, "SUBACK") }); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	return c.call(func() error {
		if sa, err := c.v5.Subscribe(ctx, &paho5.Subscribe{Subscriptions: subs, Properties: s.props}); err != nil && sa == nil {
			return err
		}
		return nil
	})
}

// waitToken waits for a Paho 3 token.
func waitToken(tok paho3.Token, what string) error {
	if !tok.WaitTimeout(confWait) {
		return fmt.Errorf("no %s within %v", what, confWait)
	}
	return tok.Error()
}

// unsub is an UNSUBSCRIBE.
type unsub struct {
	c      string
	topics []string // relative
	props  *paho5.UnsubscribeProperties
}

func (s unsub) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	topics := make([]string, len(s.topics))
	for i, t := range s.topics {
		topics[i] = r.topic(t)
	}
	if r.version == 4 {
		tok := c.v3.Unsubscribe(topics...)
		return c.call(func() error { return waitToken(tok, "UNSUBACK") })
	}
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	return c.call(func() error {
		if ua, err := c.v5.Unsubscribe(ctx, &paho5.Unsubscribe{Topics: topics, Properties: s.props}); err != nil && ua == nil {
			return err
		}
		return nil
	})
}

// pub is a PUBLISH, waiting for its acknowledgement (QoS 1: PUBACK; QoS 2: PUBREC, then
// PUBCOMP). An empty topic with a Topic Alias uses the alias alone.
type pub struct {
	c       string
	topic   string // relative; "" only with props.TopicAlias
	qos     byte
	retain  bool
	payload string
	size    int // if > 0, the payload is size bytes of 'x'
	props   *paho5.PublishProperties
}

func (s pub) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	payload := []byte(s.payload)
	if s.size > 0 {
		payload = []byte(strings.Repeat("x", s.size))
	}
	topic := r.optTopic(s.topic)
	if r.version == 4 {
		tok := c.v3.Publish(topic, s.qos, s.retain, payload)
		return c.call(func() error { return waitToken(tok, "acknowledgement") })
	}
	props := s.props
	if props != nil && props.ResponseTopic != "" {
		p := *props
		p.ResponseTopic = r.topic(p.ResponseTopic)
		props = &p
	}
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	return c.call(func() error {
		resp, err := c.v5.Publish(ctx, &paho5.Publish{Topic: topic, QoS: s.qos, Retain: s.retain, Payload: payload, Properties: props})
		if err != nil && resp == nil {
			return err
		}
		return nil
	})
}

// respond answers the last PUBLISH c received: a QoS 1 PUBLISH to its Response Topic with its
// Correlation Data, as a responder of MQTT 5's request/response does.
type respond struct {
	c, payload string
	user       paho5.UserProperties
}

func (s respond) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if len(c.pubs) == 0 {
		c.mu.Unlock()
		return fmt.Errorf("no request received")
	}
	req := c.pubs[len(c.pubs)-1]
	c.mu.Unlock()
	if req.responseTopic == "" {
		return fmt.Errorf("the request has no Response Topic")
	}
	ctx, cancel := context.WithTimeout(context.Background(), confWait)
	defer cancel()
	return c.call(func() error {
		_, err := c.v5.Publish(ctx, &paho5.Publish{Topic: req.responseTopic, QoS: 1, Payload: []byte(s.payload),
			Properties: &paho5.PublishProperties{CorrelationData: req.correlation, User: s.user}})
		return err
	})
}

// await waits until c has received n PUBLISHes (on topic, when set: relative) in all; or, with
// typ, n packets of that type ("PUBREL").
type await struct {
	c     string
	n     int
	topic string
	typ   string
}

func (s await) do(r *run) error {
	c := r.client(s.c)
	topic := r.optTopic(s.topic)
	what := fmt.Sprintf("%d PUBLISH", s.n)
	if s.typ != "" {
		what = fmt.Sprintf("%d %s", s.n, s.typ)
	}
	return c.waitFor(confWait, what, func() bool {
		k := 0
		if s.typ != "" {
			for _, l := range c.lines {
				if strings.HasPrefix(l, c.name+": "+s.typ+" ") {
					k++
				}
			}
			return k >= s.n
		}
		for _, p := range c.pubs {
			if topic == "" || p.topic == topic {
				k++
			}
		}
		return k >= s.n
	})
}

// count records in c's transcript how many PUBLISHes c has received, after a PINGREQ barrier:
// with Receive Maximum, what the broker withholds until an acknowledgement.
type count struct{ c string }

func (s count) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	if err := c.ping(); err != nil {
		return err
	}
	c.mu.Lock()
	c.lines = append(c.lines, fmt.Sprintf("%s: (holds %d PUBLISH)", c.name, len(c.pubs)))
	c.mu.Unlock()
	return nil
}

// ack acknowledges, through the client library, every QoS 1 or 2 PUBLISH a hold client holds.
type ack struct{ c string }

func (s ack) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	if err := c.waitFor(confWait, "the library's handler", func() bool { return c.handled >= len(c.pubs) }); err != nil {
		return err
	}
	held, _ := c.takeHeld()
	for _, p := range held {
		if err := c.v5.Ack(p); err != nil {
			return err
		}
	}
	return nil
}

// rawAck acknowledges every QoS 1 PUBLISH a hold client holds with a hand-made PUBACK carrying
// props (Paho's PUBACK has none).
type rawAck struct {
	c     string
	props []rawProp
}

func (s rawAck) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	_, ids := c.takeHeld()
	for _, id := range ids {
		body := appendProps(append(binary.BigEndian.AppendUint16(nil, id), 0), s.props)
		if err := c.conn.writeRaw(packet(0x40, body)); err != nil {
			return err
		}
	}
	return nil
}

// rawPub sends a hand-made QoS 0 MQTT 5 PUBLISH: what a client library refuses to send (a Topic
// Alias out of range, a property repeated that may not be).
type rawPub struct {
	c       string
	topic   string // relative; "" for none
	props   []rawProp
	payload string
}

func (s rawPub) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	topic := r.optTopic(s.topic)
	body := append(appendProps(appendStr(nil, topic), s.props), s.payload...)
	return c.conn.writeRaw(packet(0x30, body))
}

// raw writes hand-made bytes on c's connection.
type raw struct {
	c string
	b []byte
}

// The other side may have closed the connection already (after a DISCONNECT, say): then the
// bytes go nowhere, and the transcript shows the close.
func (s raw) do(r *run) error {
	c := r.client(s.c)
	if c.serverClosed() {
		return nil
	}
	if _, err := r.connected(s.c); err != nil {
		return err
	}
	if err := c.conn.writeRaw(s.b); err != nil {
		c.waitFor(confWait, "the close after a failed write", func() bool { return false })
		if !c.serverClosed() {
			return err
		}
	}
	return nil
}

// disc sends DISCONNECT (MQTT 5: with reason and props) and closes the connection.
type disc struct {
	c      string
	reason byte
	props  *paho5.DisconnectProperties
}

func (s disc) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if r.version == 4 {
		c.v3.Disconnect(50)
	} else {
		c.v5.Disconnect(&paho5.Disconnect{ReasonCode: s.reason, Properties: s.props})
	}
	c.stop()
	return nil
}

// drop closes c's network connection without a DISCONNECT, as a device that loses power.
type drop struct{ c string }

func (s drop) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return err
	}
	c.stop()
	return nil
}

// closed waits until the other side closes c's connection.
type closed struct{ c string }

func (s closed) do(r *run) error {
	c := r.client(s.c)
	deadline := time.Now().Add(confWait)
	for c.isUp() {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("still open after %v", confWait)
		}
	}
	return nil
}

// settle waits until c's connection is closed by the other side or answers a PINGREQ: after a
// packet the broker (or the proxy) may answer by closing the connection, whichever it does.
type settle struct{ c string }

func (s settle) do(r *run) error {
	c, err := r.connected(s.c)
	if err != nil {
		return nil
	}
	if err := c.ping(); err != nil && c.isUp() {
		return err
	}
	return nil
}

// pass lets time pass, for what the broker does after a delay (a Will Delay Interval, a message
// or session that expires). It asserts nothing: the following steps do.
type pass struct {
	d   time.Duration
	why string
}

func (s pass) do(*run) error {
	time.Sleep(s.d)
	return nil
}

// optTopic is r.topic for a relative topic that may be empty, which stays empty (a PUBLISH by
// Topic Alias alone, an await on any topic).
func (r *run) optTopic(t string) string {
	if t == "" {
		return ""
	}
	return r.topic(t)
}

// takeHeld returns the PUBLISHes a hold client holds, as Paho packets and by packet identifier,
// and forgets them.
func (c *cclient) takeHeld() ([]*paho5.Publish, []uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	held, ids := c.held, c.heldIDs
	c.held, c.heldIDs = nil, nil
	return held, ids
}

// connected returns client name with its connection open.
func (r *run) connected(name string) (*cclient, error) {
	c := r.client(name)
	if !c.isUp() {
		return nil, fmt.Errorf("%s is not connected", name)
	}
	return c, nil
}
