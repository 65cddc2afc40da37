// Package mqtt is a zero-copy streaming codec for MQTT 3.1.1 and MQTT 5.0 control packets.
//
// ReadPacket decodes the first packet of a byte stream: it reports "need more bytes" (n == 0, no
// error) while the packet is incomplete, and an *Error for anything the specifications call
// malformed or a protocol error that a single packet reveals (reserved flags, QoS 3, a wildcard in a
// PUBLISH topic, invalid UTF-8, a remaining length over 4 bytes or over the size limit, unknown or
// repeated properties, reason codes a packet may not carry, ...). The decoded Packet aliases the
// input: decoding allocates nothing, which matters because it runs inside the plugin on every
// packet. Packet.Append encodes any packet type in either version.
//
// Versions: the protocol level of CONNECT selects the format of the connection's other packets.
// Level 4 is MQTT 3.1.1 and level 5 is MQTT 5.0. Level 3 (MQTT 3.1, protocol name "MQIsdp") is
// decoded and encoded like 3.1.1, whose packets have the same layout; whether to accept such a
// client is the caller's decision (plugin/session refuses it, as AWS IoT Core does).
//
// What this package does not check, because it needs connection state: that CONNECT comes first
// and once, that packet identifiers are in use, that a topic alias is known or below the negotiated
// maximum, that the receive maximum is respected. plugin/session does the parts it needs.
//
// The package is pure Go with no dependencies beyond the standard library (unicode/utf8) and builds
// for GOOS=wasip1. Nothing in it is shared between goroutines; all functions are safe to call
// concurrently on distinct buffers.
//
// See https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html
// See https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html
package mqtt
