package e2e

import (
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
)

// The scenario lists of TestConformance. Each scenario names its clients ("p" publishes, "s"
// subscribes, …) and its topics relative to the run's prefix; the transcript of a run is what
// every client received, so a scenario shows a feature by having a client receive its effect.
//
// Checked against mosquitto 2.0.11 (Debian's, `mosquitto -h`). What that broker cannot show is
// left out, with the reason:
//   - Topic aliases from the server to the client: mosquitto 2.0 never sends a Topic Alias (the
//     option that makes it do so, max_topic_alias_broker, came with 2.1). TopicAliases declares a
//     client Topic Alias Maximum anyway; the transcript shows full topics both ways.
//   - A PUBLISH with several Subscription Identifiers: mosquitto 2.0 sends one copy per matching
//     subscription, each with its own identifier (SubscriptionIdentifiers shows it), so the
//     repeated property never reaches a client from this broker.
//   - Flow control towards the server (the server's Receive Maximum): Paho's client enforces it
//     on its side, so no client here can exceed it.
//   - Enhanced authentication (AUTH): mosquitto has no authentication method without a plugin;
//     EnhancedAuth shows its refusal.

// users is a User Property list in order: key, value, key, value…
func users(kv ...string) paho5.UserProperties {
	var u paho5.UserProperties
	for i := 0; i+1 < len(kv); i += 2 {
		u = append(u, paho5.UserProperty{Key: kv[i], Value: kv[i+1]})
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// connack5 is mosquitto's CONNACK here (confMaxPacket, its default Topic Alias Maximum and
// max_inflight_messages).
const connack5 = `CONNACK session=0 reason=0x00 props[TopicAliasMaximum=10 MaximumPacketSize=100000 ReceiveMaximum=20]`

func qos(topic string, q byte) paho5.SubscribeOptions {
	return paho5.SubscribeOptions{Topic: topic, QoS: q}
}

// allProps is a PUBLISH carrying every property a publisher may set, User Property repeated
// (a key twice, a pair twice, non-ASCII).
func allProps() *paho5.PublishProperties {
	return &paho5.PublishProperties{
		PayloadFormat:   ptr(byte(1)),
		MessageExpiry:   ptr(uint32(3600)),
		ContentType:     "application/json; charset=utf-8",
		ResponseTopic:   "reply/here",
		CorrelationData: []byte("\x00\x01corr\xff"),
		User:            users("k", "v1", "k", "v2", "k", "v1", "ключ", "значение", "", ""),
	}
}

// deniedThenAllowed is how a scenario shows a denial: s subscribes to subs, p publishes denied
// and then allowed, and s waits for allowed; whatever of denied got through is in s's
// transcript before it.
func deniedThenAllowed(subs []paho5.SubscribeOptions, denied, allowed pub) []step {
	return []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: subs},
		conn{c: "p", clean: true},
		denied,
		allowed,
		await{c: "s", n: 1, topic: allowed.topic},
	}
}

// conformanceScenarios must look the same through the gateway as straight to mosquitto.
var conformanceScenarios = []scenario{
	// Properties on every packet type a client sends (CONNECT, SUBSCRIBE, PUBLISH at each QoS,
	// UNSUBSCRIBE, DISCONNECT) and what the server sends back.
	{name: "PropertiesEveryPacket", version: 5, steps: []step{
		conn{c: "s", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(0)),
			ReceiveMaximum: ptr(uint16(100)), TopicAliasMaximum: ptr(uint16(0)), MaximumPacketSize: ptr(uint32(100000)),
			RequestProblemInfo: true, User: users("a", "1", "a", "2", "b", "3")}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 2)}, props: &paho5.SubscribeProperties{User: users("s", "1", "s", "1")}},
		conn{c: "p", clean: true, props: &paho5.ConnectProperties{User: users("who", "p", "who", "p")}},
		pub{c: "p", topic: "t/q0", qos: 0, payload: "zero", props: allProps()},
		pub{c: "p", topic: "t/q1", qos: 1, payload: "one", props: allProps()},
		pub{c: "p", topic: "t/q2", qos: 2, payload: "two", props: allProps()},
		await{c: "s", n: 3},
		await{c: "s", n: 1, typ: "PUBREL"},
		unsub{c: "s", topics: []string{"t/#"}, props: &paho5.UnsubscribeProperties{User: users("u", "1", "u", "2")}},
		disc{c: "p", reason: 0, props: &paho5.DisconnectProperties{ReasonString: "bye", User: users("d", "1", "d", "1")}},
	}},
	// Acknowledgements with properties from the client: the broker sends the second message
	// only once it has taken the first's PUBACK (Receive Maximum 1).
	{name: "AckProperties", version: 5, steps: []step{
		conn{c: "s", clean: true, hold: true, props: &paho5.ConnectProperties{ReceiveMaximum: ptr(uint16(1))}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 1, payload: "1"},
		pub{c: "p", topic: "t/a", qos: 1, payload: "2"},
		await{c: "s", n: 1},
		rawAck{c: "s", props: []rawProp{{id: 31, s: "thanks"}, {id: 38, s: "x", v: "1"}, {id: 38, s: "x", v: "2"}}},
		await{c: "s", n: 2},
		rawAck{c: "s", props: []rawProp{{id: 38, s: "x", v: "3"}}},
	}},
	// A payload that is not the UTF-8 its Payload Format Indicator says.
	{name: "PayloadFormatInvalid", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/bad", qos: 1, payload: "\xff\xfe", props: &paho5.PublishProperties{PayloadFormat: ptr(byte(1))}},
		pub{c: "p", topic: "t/good", qos: 1, payload: "ok", props: &paho5.PublishProperties{PayloadFormat: ptr(byte(1))}},
		await{c: "s", n: 1, topic: "t/good"},
	}},
	// Topic aliases from the client: set, used alone, remapped, at every QoS. s declares a Topic
	// Alias Maximum; mosquitto 2.0 sends it full topics anyway.
	{name: "TopicAliases", version: 5, steps: []step{
		conn{c: "s", clean: true, props: &paho5.ConnectProperties{TopicAliasMaximum: ptr(uint16(10))}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 2)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 0, payload: "1", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(1))}},
		pub{c: "p", topic: "", qos: 1, payload: "2", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(1)), User: users("k", "v", "k", "v")}},
		pub{c: "p", topic: "t/b", qos: 2, payload: "3", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(1))}},
		await{c: "s", n: 1, typ: "PUBREL"},
		pub{c: "p", topic: "", qos: 2, payload: "4", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(1))}},
		await{c: "s", n: 2, typ: "PUBREL"},
		pub{c: "p", topic: "t/c", qos: 1, payload: "5", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(10))}},
		pub{c: "p", topic: "", qos: 1, payload: "6", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(10))}},
		pub{c: "p", topic: "", qos: 0, payload: "7", props: &paho5.PublishProperties{TopicAlias: ptr(uint16(1))}},
		await{c: "s", n: 7},
	}},
	// Topic alias protocol errors: above the server's Topic Alias Maximum (10), and an alias
	// never set. Each client is answered, then closed. (Alias 0: differentScenarios.)
	{name: "TopicAliasErrors", version: 5, steps: []step{
		conn{c: "above", clean: true},
		rawPub{c: "above", topic: "t/a", props: []rawProp{{id: 35, n: 11}}, payload: "x"},
		settle{c: "above"},
		conn{c: "unset", clean: true},
		rawPub{c: "unset", topic: "", props: []rawProp{{id: 35, n: 3}}, payload: "x"},
		settle{c: "unset"},
	}},
	// Retained messages keep their properties; an empty retained message clears them.
	{name: "RetainedWithProperties", version: 5, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "kept", props: allProps()},
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		await{c: "s", n: 1},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "", props: &paho5.PublishProperties{User: users("clear", "1")}},
		await{c: "s", n: 2},
		conn{c: "late", clean: true},
		sub{c: "late", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
	}},
	// A retained message outlives its Message Expiry Interval only until the broker drops it.
	{name: "RetainedExpiry", version: 5, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/short", qos: 1, retain: true, payload: "1s", props: &paho5.PublishProperties{MessageExpiry: ptr(uint32(1))}},
		pub{c: "p", topic: "t/long", qos: 1, retain: true, payload: "1h", props: &paho5.PublishProperties{MessageExpiry: ptr(uint32(3600))}},
		pass{d: 2200 * time.Millisecond, why: "t/short expires"},
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		await{c: "s", n: 1},
	}},
	// A Will with every property and a Will Delay Interval, after a lost connection.
	{name: "WillWithProperties", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 2)}},
		conn{c: "a", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(10))},
			will: &paho5.WillMessage{Topic: "will/a", QoS: 2, Payload: []byte("a is gone")},
			willProps: &paho5.WillProperties{WillDelayInterval: ptr(uint32(1)), PayloadFormat: ptr(byte(1)),
				MessageExpiry: ptr(uint32(600)), ContentType: "text/plain", ResponseTopic: "will/reply",
				CorrelationData: []byte{0, 1, 2}, User: users("w", "1", "w", "2", "w", "1")}},
		drop{c: "a"},
		await{c: "s", n: 1},
		await{c: "s", n: 1, typ: "PUBREL"},
	}},
	// The Will is sent after DISCONNECT 0x04 (Disconnect with Will Message), not after 0x00.
	{name: "WillOnDisconnect", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		conn{c: "normal", clean: true, will: &paho5.WillMessage{Topic: "will/normal", QoS: 1, Payload: []byte("no")}},
		disc{c: "normal", reason: 0x00},
		conn{c: "withwill", clean: true, will: &paho5.WillMessage{Topic: "will/withwill", QoS: 1, Payload: []byte("yes")},
			willProps: &paho5.WillProperties{User: users("why", "0x04")}},
		disc{c: "withwill", reason: 0x04, props: &paho5.DisconnectProperties{ReasonString: "send my will"}},
		await{c: "s", n: 1, topic: "will/withwill"},
	}},
	// A reconnect within the Will Delay Interval resumes the session: no Will.
	{name: "WillCancelledByReconnect", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		conn{c: "a", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))},
			will:      &paho5.WillMessage{Topic: "will/a", QoS: 1, Payload: []byte("late")},
			willProps: &paho5.WillProperties{WillDelayInterval: ptr(uint32(30))}},
		drop{c: "a"},
		conn{c: "a", clean: false, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))}},
		disc{c: "a", reason: 0x00, props: &paho5.DisconnectProperties{SessionExpiryInterval: ptr(uint32(0))}},
	}},
	// DISCONNECT with stray bytes behind it, in the same write (a) and in the next (b). Paho 5
	// does this when it disconnects at once: its first keep-alive PINGREQ goes out on its own
	// goroutine right after the CONNACK. The broker acts on the DISCONNECT (no Will) and
	// ignores the rest.
	{name: "DisconnectThenStrayBytes", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		conn{c: "a", clean: true, will: &paho5.WillMessage{Topic: "will/a", QoS: 1, Payload: []byte("not after DISCONNECT")}},
		raw{c: "a", b: []byte{0xe0, 0x00, 0xc0, 0x00}},
		settle{c: "a"},
		conn{c: "b", clean: true, will: &paho5.WillMessage{Topic: "will/b", QoS: 1, Payload: []byte("not after DISCONNECT")}},
		raw{c: "b", b: []byte{0xe0, 0x00}},
		raw{c: "b", b: []byte{0xc0, 0x00}},
		settle{c: "b"},
	}},
	// A retained Will reaches a later subscriber with its properties and the retain flag.
	{name: "WillRetained", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		conn{c: "a", clean: true, will: &paho5.WillMessage{Topic: "will/a", QoS: 1, Retain: true, Payload: []byte("retained will")},
			willProps: &paho5.WillProperties{ContentType: "text/plain", User: users("r", "1", "r", "2")}},
		drop{c: "a"},
		await{c: "s", n: 1},
		conn{c: "late", clean: true},
		sub{c: "late", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		await{c: "late", n: 1},
	}},
	// Request/response: Response Topic and Correlation Data from requester to responder and back.
	{name: "RequestResponse", version: 5, steps: []step{
		conn{c: "req", clean: true, props: &paho5.ConnectProperties{RequestResponseInfo: true}},
		sub{c: "req", subs: []paho5.SubscribeOptions{qos("resp/req", 1)}},
		conn{c: "rsp", clean: true},
		sub{c: "rsp", subs: []paho5.SubscribeOptions{qos("req/+", 1)}},
		pub{c: "req", topic: "req/temp", qos: 1, payload: "what is it?", props: &paho5.PublishProperties{
			ResponseTopic: "resp/req", CorrelationData: []byte("\x01id-42"), User: users("trace", "1", "trace", "2")}},
		await{c: "rsp", n: 1},
		respond{c: "rsp", payload: "21.5", user: users("answer", "1", "answer", "1")},
		await{c: "req", n: 1},
	}},
	// No Local: s does not receive its own message; p's, it does; t receives its own.
	{name: "NoLocal", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/nl", QoS: 1, NoLocal: true}}},
		conn{c: "t", clean: true},
		sub{c: "t", subs: []paho5.SubscribeOptions{{Topic: "t/nl", QoS: 1}}},
		conn{c: "p", clean: true},
		pub{c: "s", topic: "t/nl", qos: 1, payload: "from s"},
		pub{c: "t", topic: "t/nl", qos: 1, payload: "from t"},
		pub{c: "p", topic: "t/nl", qos: 1, payload: "from p"},
		await{c: "s", n: 2},
		await{c: "t", n: 3},
	}},
	// Retain As Published: a live retained message keeps RETAIN for rap, loses it for plain.
	{name: "RetainAsPublished", version: 5, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "before"},
		conn{c: "rap", clean: true},
		sub{c: "rap", subs: []paho5.SubscribeOptions{{Topic: "t/r", QoS: 1, RetainAsPublished: true}}},
		conn{c: "plain", clean: true},
		sub{c: "plain", subs: []paho5.SubscribeOptions{{Topic: "t/r", QoS: 1}}},
		await{c: "rap", n: 1},
		await{c: "plain", n: 1},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "live"},
		await{c: "rap", n: 2},
		await{c: "plain", n: 2},
	}},
	// Retain Handling 0 (always), 1 (only for a new subscription), 2 (never).
	{name: "RetainHandling", version: 5, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 1, retain: true, payload: "r"},
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/#", QoS: 1, RetainHandling: 0}}},
		await{c: "s", n: 1},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/#", QoS: 1, RetainHandling: 0}}},
		await{c: "s", n: 2},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/#", QoS: 1, RetainHandling: 1}}},
		count{c: "s"},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/+", QoS: 1, RetainHandling: 1}}},
		await{c: "s", n: 3},
		sub{c: "s", subs: []paho5.SubscribeOptions{{Topic: "t/a", QoS: 1, RetainHandling: 2}}},
		count{c: "s"},
	}},
	// Subscription identifiers: overlapping subscriptions with identifiers, the largest (four
	// bytes), one subscription without; what each PUBLISH carries.
	{name: "SubscriptionIdentifiers", version: 5, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/+", 1)}, props: &paho5.SubscribeProperties{SubscriptionIdentifier: ptr(1)}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}, props: &paho5.SubscribeProperties{SubscriptionIdentifier: ptr(268435455)}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/x", 1), qos("t/y", 1)}, props: &paho5.SubscribeProperties{SubscriptionIdentifier: ptr(300)}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("+/x", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/x", qos: 1, payload: "x"},
		pub{c: "p", topic: "t/z", qos: 1, payload: "z"},
		pub{c: "p", topic: "t/y/deep", qos: 1, payload: "deep"},
		await{c: "s", n: 1, topic: "t/y/deep"},
	}},
	// Shared subscriptions: the group gets each message once; a plain subscriber gets all.
	{name: "SharedSubscriptions", version: 5, steps: []step{
		conn{c: "g1", clean: true},
		sub{c: "g1", subs: []paho5.SubscribeOptions{qos("$share/grp/t/#", 1)}},
		conn{c: "g2", clean: true},
		sub{c: "g2", subs: []paho5.SubscribeOptions{qos("$share/grp/t/#", 1)}},
		conn{c: "all", clean: true},
		sub{c: "all", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/1", qos: 1, payload: "1"},
		pub{c: "p", topic: "t/2", qos: 1, payload: "2"},
		pub{c: "p", topic: "t/3", qos: 1, payload: "3"},
		pub{c: "p", topic: "t/4", qos: 1, payload: "4"},
		await{c: "all", n: 4},
		unsub{c: "g1", topics: []string{"$share/grp/t/#"}},
		pub{c: "p", topic: "t/5", qos: 1, payload: "5"},
		pub{c: "p", topic: "t/6", qos: 1, payload: "6"},
		await{c: "all", n: 6},
	}},
	// Receive Maximum 1: the broker sends the next QoS 1 message only after the previous PUBACK.
	{name: "ReceiveMaximum", version: 5, steps: []step{
		conn{c: "s", clean: true, hold: true, props: &paho5.ConnectProperties{ReceiveMaximum: ptr(uint16(1))}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 1, payload: "1"},
		pub{c: "p", topic: "t/a", qos: 1, payload: "2"},
		pub{c: "p", topic: "t/a", qos: 1, payload: "3"},
		await{c: "s", n: 1},
		count{c: "s"},
		ack{c: "s"},
		await{c: "s", n: 2},
		count{c: "s"},
		ack{c: "s"},
		await{c: "s", n: 3},
		ack{c: "s"},
	}},
	// The client's Maximum Packet Size: the broker drops what would exceed it.
	{name: "MaximumPacketSizeClient", version: 5, steps: []step{
		conn{c: "s", clean: true, props: &paho5.ConnectProperties{MaximumPacketSize: ptr(uint32(512))}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/big", qos: 1, size: 1000},
		pub{c: "p", topic: "t/small", qos: 1, payload: "fits"},
		await{c: "s", n: 1, topic: "t/small"},
	}},
	// The server's Maximum Packet Size (mosquitto's max_packet_size, in its CONNACK): a larger
	// PUBLISH is answered DISCONNECT 0x95, below the proxy's own limit (mqtt.maxPacketBytes).
	// mosquitto 2.0.11 does not apply max_packet_size on its WebSocket listener: there it takes
	// the message (PUBACK 0x10, no subscribers), and so it does through the gateway's WSS.
	{name: "MaximumPacketSizeServer", version: 5, steps: []step{
		conn{c: "over", clean: true},
		pub{c: "over", topic: "t/a", qos: 1, size: confMaxPacket + 1000},
		settle{c: "over"},
	}},
	// Session expiry and redelivery: unacknowledged QoS 1 and 2 messages come again (DUP) on
	// the resumed session, with what was queued while it was away. s's Will tells w when the
	// broker has seen s go (through the proxy, a moment after s closed its side).
	{name: "SessionRedelivery", version: 5, steps: []step{
		conn{c: "w", clean: true},
		sub{c: "w", subs: []paho5.SubscribeOptions{qos("gone/#", 0)}},
		conn{c: "s", clean: true, hold: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))},
			will: &paho5.WillMessage{Topic: "gone/s", Payload: []byte("s")}},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 2)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/one", qos: 1, payload: "held 1", props: &paho5.PublishProperties{User: users("n", "1")}},
		pub{c: "p", topic: "t/two", qos: 2, payload: "held 2", props: &paho5.PublishProperties{User: users("n", "2")}},
		await{c: "s", n: 2},
		drop{c: "s"},
		await{c: "w", n: 1},
		pub{c: "p", topic: "t/one", qos: 1, payload: "queued"},
		conn{c: "s", clean: false, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))}},
		await{c: "s", n: 5},
		await{c: "s", n: 1, typ: "PUBREL"},
	}},
	// Session Expiry Interval: an expired session, one ended by DISCONNECT's Session Expiry
	// Interval 0, and one kept.
	{name: "SessionExpiry", version: 5, steps: []step{
		conn{c: "short", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(1))}},
		sub{c: "short", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		disc{c: "short"},
		conn{c: "ended", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))}},
		sub{c: "ended", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		disc{c: "ended", props: &paho5.DisconnectProperties{SessionExpiryInterval: ptr(uint32(0))}},
		conn{c: "kept", clean: true, props: &paho5.ConnectProperties{SessionExpiryInterval: ptr(uint32(60))}},
		sub{c: "kept", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		disc{c: "kept"},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/while-away", qos: 1, payload: "queued"},
		pass{d: 2200 * time.Millisecond, why: "the 1 s session expires"},
		conn{c: "short", clean: false},
		conn{c: "ended", clean: false},
		conn{c: "kept", clean: false},
		await{c: "kept", n: 1},
	}},
	// QoS 2 end to end, and the QoS each subscriber gets (the lower of publish and subscription).
	{name: "QoS2Flows", version: 5, steps: []step{
		conn{c: "s2", clean: true},
		sub{c: "s2", subs: []paho5.SubscribeOptions{qos("t/#", 2)}},
		conn{c: "s1", clean: true},
		sub{c: "s1", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "s0", clean: true},
		sub{c: "s0", subs: []paho5.SubscribeOptions{qos("t/#", 0)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 2, payload: "exactly once", props: &paho5.PublishProperties{User: users("q", "2", "q", "2")}},
		// s2's PUBREL comes once the broker has s2's PUBREC: wait for it, so that it is not
		// raced by the next message.
		await{c: "s2", n: 1, typ: "PUBREL"},
		pub{c: "p", topic: "t/b", qos: 1, payload: "at least once"},
		await{c: "s2", n: 2},
		await{c: "s1", n: 2},
		await{c: "s0", n: 2},
	}},
	// A second connection with the same client id takes the session over: DISCONNECT 0x8E.
	{name: "SessionTakeover", version: 5, steps: []step{
		conn{c: "first", id: "dev", clean: true},
		conn{c: "second", id: "dev", clean: false},
		closed{c: "first"},
	}},
	// A CONNECT without a client id gets one assigned.
	{name: "AssignedClientID", version: 5, steps: []step{
		conn{c: "anon", emptyID: true, clean: true},
		sub{c: "anon", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		pub{c: "anon", topic: "t/a", qos: 1, payload: "me"},
		await{c: "anon", n: 1},
	}},
	// An authentication method the broker does not know: CONNACK 0x8C.
	{name: "EnhancedAuth", version: 5, steps: []step{
		conn{c: "a", clean: true, props: &paho5.ConnectProperties{AuthMethod: "SCRAM-SHA-1", AuthData: []byte("n,,n=user,r=nonce")}},
		settle{c: "a"},
	}},
	// Reason codes of refusals that are the broker's: UNSUBSCRIBE of nothing (0x11), a
	// subscription with an invalid filter.
	{name: "BrokerReasonCodes", version: 5, steps: []step{
		conn{c: "a", clean: true},
		unsub{c: "a", topics: []string{"never/subscribed"}},
		sub{c: "a", subs: []paho5.SubscribeOptions{qos("t/ok", 1), qos("$share/g+/t", 1)}},
	}},

	// ---- MQTT 3.1.1 ----

	{name: "V3Retain", version: 4, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "kept"},
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		await{c: "s", n: 1},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: "live"},
		await{c: "s", n: 2},
		pub{c: "p", topic: "t/r", qos: 1, retain: true, payload: ""},
		conn{c: "late", clean: true},
		sub{c: "late", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
	}},
	{name: "V3Will", version: 4, steps: []step{
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("will/#", 1)}},
		conn{c: "normal", clean: true, will: &paho5.WillMessage{Topic: "will/normal", QoS: 1, Payload: []byte("no")}},
		disc{c: "normal"},
		conn{c: "lost", clean: true, will: &paho5.WillMessage{Topic: "will/lost", QoS: 1, Payload: []byte("yes")}},
		drop{c: "lost"},
		await{c: "s", n: 1},
	}},
	{name: "V3QoS2", version: 4, steps: []step{
		conn{c: "s2", clean: true},
		sub{c: "s2", subs: []paho5.SubscribeOptions{qos("t/#", 2)}},
		conn{c: "s1", clean: true},
		sub{c: "s1", subs: []paho5.SubscribeOptions{qos("t/#", 1)}},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 2, payload: "exactly once"},
		await{c: "s2", n: 1},
		await{c: "s2", n: 1, typ: "PUBREL"},
		await{c: "s1", n: 1},
	}},
	{name: "V3PersistentSession", version: 4, steps: []step{
		conn{c: "s", clean: false},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 2)}},
		disc{c: "s"},
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/a", qos: 1, payload: "1"},
		pub{c: "p", topic: "t/b", qos: 2, payload: "2"},
		pub{c: "p", topic: "t/c", qos: 0, payload: "qos 0 is not queued"},
		conn{c: "s", clean: false},
		await{c: "s", n: 2},
		await{c: "s", n: 1, typ: "PUBREL"},
	}},
	{name: "V3Takeover", version: 4, steps: []step{
		conn{c: "first", id: "dev", clean: true},
		conn{c: "second", id: "dev", clean: true},
		closed{c: "first"},
	}},
	{name: "V3PacketTooLarge", version: 4, steps: []step{
		conn{c: "a", clean: true},
		pub{c: "a", topic: "t/a", qos: 1, size: confMaxPacket + 1000},
		settle{c: "a"},
	}},
}

// differentScenarios are where the proxy must differ from the broker, each with how the
// gateway's transcript differs from mosquitto's: errors the plugin catches before the broker sees
// them, its own packet size limit, and denials. They run with a policy that denies publish on
// …/denied, retain on …/noretain, subscribe on …/nosub/#, and receive on …/noreceive
// (confRules), with mqtt.denyAction "reject". Subscribers take QoS 0 where a message is
// withheld, so that no packet identifier shifts.
var differentScenarios = []scenario{
	// A property that may appear once, twice: a protocol error. mosquitto closes the connection
	// without a word; the plugin finds the error first (the packet never reaches the broker) and
	// answers DISCONNECT 0x82 (Protocol Error) before the close, as MQTT 5.0 section 4.13 allows.
	{name: "DuplicateProperty", version: 5, steps: []step{
		conn{c: "ct", clean: true},
		rawPub{c: "ct", topic: "t/a", props: []rawProp{{id: 3, s: "a"}, {id: 3, s: "b"}}, payload: "x"},
		settle{c: "ct"},
		conn{c: "pf", clean: true},
		rawPub{c: "pf", topic: "t/a", props: []rawProp{{id: 1, n: 0}, {id: 1, n: 0}}, payload: "x"},
		settle{c: "pf"},
	}, differs: []change{
		{from: `ct: closed`, to: "ct: DISCONNECT reason=0x82 props[]\nct: closed"},
		{from: `pf: closed`, to: "pf: DISCONNECT reason=0x82 props[]\npf: closed"},
	}},
	// Topic Alias 0. mosquitto answers DISCONNECT 0x81 (Malformed Packet); the plugin, which
	// resolves aliases to authorize the topic, finds it first and answers 0x94 (Topic Alias
	// invalid), as docs/devices.md says. MQTT 5.0 forbids the value ([MQTT-3.3.2-8]) without naming the
	// reason code.
	{name: "TopicAliasZero", version: 5, steps: []step{
		conn{c: "zero", clean: true},
		rawPub{c: "zero", topic: "t/a", props: []rawProp{{id: 35, n: 0}}, payload: "x"},
		settle{c: "zero"},
	}, differs: []change{
		{from: `zero: DISCONNECT reason=0x81 props[]`, to: `zero: DISCONNECT reason=0x94 props[]`},
	}},
	// Above the proxy's mqtt.maxPacketBytes (131072) and mosquitto's max_packet_size: over TLS the
	// plugin answers what mosquitto answers over TCP (DISCONNECT 0x95); over WSS it refuses what
	// mosquitto's WebSocket listener takes (see MaximumPacketSizeServer).
	{name: "PacketOverProxyLimit", version: 5, steps: []step{
		conn{c: "far", clean: true},
		pub{c: "far", topic: "t/a", qos: 1, size: 140000},
		settle{c: "far"},
	}, differs: []change{
		{only: "WSS", from: `far: PUBACK pid=1 reason=0x10 props[]`, to: "far: DISCONNECT reason=0x95 props[]\nfar: closed"},
	}},

	{name: "DeniedPublishQoS1", version: 5,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/#", 0)},
			pub{c: "p", topic: "t/denied", qos: 1, payload: "no"},
			pub{c: "p", topic: "t/ok", qos: 1, payload: "yes"}),
		differs: []change{
			{from: `p: PUBACK pid=1 reason=0x00 props[]`, to: `p: PUBACK pid=1 reason=0x87 props[]`},
			{from: `s: PUBLISH "~/t/denied" qos=0 retain=0 dup=0 props[] payload="no"`},
		}},
	{name: "DeniedPublishQoS0", version: 5,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/#", 0)},
			pub{c: "p", topic: "t/denied", qos: 0, payload: "no"},
			pub{c: "p", topic: "t/ok", qos: 1, payload: "yes"}),
		differs: []change{
			{from: `s: PUBLISH "~/t/denied" qos=0 retain=0 dup=0 props[] payload="no"`},
		}},
	{name: "DeniedPublishQoS2", version: 5,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/#", 0)},
			pub{c: "p", topic: "t/denied", qos: 2, payload: "no"},
			pub{c: "p", topic: "t/ok", qos: 2, payload: "yes"}),
		differs: []change{
			{from: `p: PUBREC pid=1 reason=0x00 props[]`, to: `p: PUBREC pid=1 reason=0x87 props[]`},
			{from: `p: PUBCOMP pid=1 reason=0x00 props[]`},
			{from: `s: PUBLISH "~/t/denied" qos=0 retain=0 dup=0 props[] payload="no"`},
		}},
	{name: "DeniedRetain", version: 5, steps: []step{
		conn{c: "p", clean: true},
		pub{c: "p", topic: "t/noretain", qos: 1, retain: true, payload: "no"},
		pub{c: "p", topic: "t/noretain", qos: 1, retain: false, payload: "live is fine"},
		conn{c: "s", clean: true},
		sub{c: "s", subs: []paho5.SubscribeOptions{qos("t/#", 0)}},
	}, differs: []change{
		{from: `p: PUBACK pid=1 reason=0x10 props[]`, to: `p: PUBACK pid=1 reason=0x87 props[]`},
		{from: `s: PUBLISH "~/t/noretain" qos=0 retain=1 dup=0 props[] payload="no"`},
	}},
	{name: "DeniedSubscribe", version: 5,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/ok/#", 0), qos("t/nosub/#", 0)},
			pub{c: "p", topic: "t/nosub/x", qos: 1, payload: "no"},
			pub{c: "p", topic: "t/ok/x", qos: 1, payload: "yes"}),
		differs: []change{
			{from: `s: SUBACK pid=1 reasons=[0x00 0x00] props[]`, to: `s: SUBACK pid=1 reasons=[0x00 0x87] props[]`},
			{from: `s: PUBLISH "~/t/nosub/x" qos=0 retain=0 dup=0 props[] payload="no"`},
			// Nobody has subscribed to t/nosub/x at the broker: 0x10 No matching subscribers.
			{from: `p: PUBACK pid=1 reason=0x00 props[]`, to: `p: PUBACK pid=1 reason=0x10 props[]`},
		}},
	{name: "DeniedReceive", version: 5,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/#", 1)},
			pub{c: "p", topic: "t/noreceive", qos: 0, payload: "no"},
			pub{c: "p", topic: "t/ok", qos: 0, payload: "yes"}),
		differs: []change{
			{from: `s: PUBLISH "~/t/noreceive" qos=0 retain=0 dup=0 props[] payload="no"`},
		}},
	{name: "DeniedWill", version: 5, steps: []step{
		conn{c: "a", clean: true, will: &paho5.WillMessage{Topic: "will/denied", QoS: 1, Payload: []byte("x")}},
	}, differs: []change{
		// AWS IoT Core answers a refused CONNECT with CONNACK "not authorized" before the close.
		{from: `a: ` + connack5, to: "a: CONNACK session=0 reason=0x87 props[]\na: closed"},
	}},
	{name: "V3DeniedPublish", version: 4,
		steps: deniedThenAllowed([]paho5.SubscribeOptions{qos("t/#", 0), qos("t/nosub/#", 0)},
			pub{c: "p", topic: "t/denied", qos: 1, payload: "no"},
			pub{c: "p", topic: "t/ok", qos: 1, payload: "yes"}),
		differs: []change{
			{from: `s: SUBACK pid=2 reasons=[0x00]`, to: `s: SUBACK pid=2 reasons=[0x80]`},
			{from: `s: PUBLISH "~/t/denied" qos=0 retain=0 dup=0 payload="no"`},
		}},
}
