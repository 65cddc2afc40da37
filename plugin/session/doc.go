// Package session enforces AWS IoT Core policies on an MQTT connection, packet by packet, as a pure
// stream processor: bytes in, the bytes to forward out. It knows nothing of proxy-wasm; the filter
// glue feeds it Envoy's buffers and applies the Result.
//
// # Why a stream processor
//
// A proxy-wasm filter can only rewrite the bytes of the direction whose callback is running, and
// cannot inject bytes on its own (not from a timer nor from an HTTP-call callback). So FromClient and
// FromBroker consume each chunk whole and return what replaces it: complete, allowed, possibly
// rewritten packets; incomplete packets are held until the rest arrives. When nothing needs changing
// (Result.Unchanged) the glue leaves Envoy's buffer alone: the common case costs one decode and one
// policy lookup per packet, with no copy and no allocation.
//
// # Flow
//
//   - CONNECT: FromClient returns NeedAuth and holds the CONNECT and what follows. The glue reads
//     Connect (client id, user name, password) for the authorizer. A proxy-wasm glue cannot write
//     bytes when the authorizer answers, so the answer is an in-place hand-off: PendingConnect
//     gives the CONNECT (user name rewritten by Options.RewriteUsername) to leave in the paused
//     buffer, and Resume, given the policy, checks iot:Connect on the client id and queues the
//     output of the packets held since for the next FromClient (see handoff.go). With
//     Options.Preauthorized (WebSocket upgrades that carried credentials) the CONNECT is checked
//     at once instead. MQTT 3.1 (protocol level 3) is refused, as AWS IoT Core does.
//   - Client PUBLISH: iot:Publish on the topic, and iot:RetainPublish when RETAIN is set.
//   - SUBSCRIBE: iot:Subscribe on each topic filter.
//   - Broker PUBLISH: iot:Receive on the topic; a denied QoS 0 one is dropped. A denied QoS 1 or
//     2 one becomes a PUBREL with its packet id, which the client must answer with a PUBCOMP at
//     once; that PUBCOMP becomes the PUBACK (QoS 1) or PUBREC (QoS 2; the broker's PUBREL and the
//     client's PUBCOMP then pass) the broker waits for, so denied messages never hold the broker's
//     in-flight window, nor the allowed messages behind them (see brokerPublish).
//   - MQTT 5 topic aliases are tracked in both directions, so decisions are always on the real
//     topic; an alias set by a dropped PUBLISH is taught to the receiver by rewriting the next
//     allowed PUBLISH that uses it.
//   - Every decision goes to Options.OnDecision; a per-connection memo (Options.MemoEntries)
//     avoids re-evaluating the policy for repeated names and is cleared by SetPolicy.
//   - Malformed packets and protocol violations close the connection with a reason.
//   - A refused CONNECT gets CONNACK "not authorized" (3.1.1 return code 5, MQTT 5 0x87) before
//     the close: see Refuse and Status Refusing (refuse.go).
//
// # Denials and what the client sees
//
// DenyByVersion (the plugin's default, mqtt.denyAction "auto") is AWS IoT Core's behaviour:
// DenyDisconnect for MQTT 3.1.1, DenyReject for MQTT 5. DenyDisconnect (the zero value) closes
// the connection on a denied PUBLISH or SUBSCRIBE (the glue
// closes it; nothing can be sent to the client from a client-direction callback). DenyReject
// answers instead; since only the broker's direction can carry bytes to the client, the session
// replaces the denied packet by a PINGREQ to the broker and substitutes the answer for the matching
// PINGRESP (the broker answers PINGREQs in order; the client's own PINGREQs are tracked in the same
// FIFO):
//
//   - QoS 0 PUBLISH: dropped silently.
//   - QoS 1 PUBLISH: PUBACK (MQTT 5: reason 0x87 Not authorized).
//   - QoS 2 PUBLISH: PUBREC (MQTT 5: reason 0x87, which ends the exchange; 3.1.1: the client's
//     PUBREL is swallowed and answered PUBCOMP the same way).
//   - SUBSCRIBE with some filters denied: the allowed filters go to the broker, and its SUBACK is
//     rewritten to put 0x80 (3.1.1) / 0x87 (MQTT 5) back at the denied positions. All filters
//     denied: SUBACK with only failure codes, through a PINGREQ.
//
// # WebSocket
//
// WSSession runs the same processor inside RFC 6455 frames (see its documentation).
//
// # Concurrency
//
// A Session is not safe for concurrent use (a proxy-wasm VM is single-threaded). Result.Out and
// the Name of a Decision are only valid until the next call in the same direction.
package session
