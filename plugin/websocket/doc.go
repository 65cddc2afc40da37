// Package websocket decodes and encodes RFC 6455 WebSocket frames, for the plugin's inspection of
// MQTT over WebSocket after the HTTP upgrade, where Envoy hands the filter raw frame bytes split and
// merged arbitrarily.
//
// ReadHeader decodes a frame header (for payloads consumed piece by piece as they arrive);
// ReadFrame decodes a whole frame. Neither allocates nor modifies its input: a decoded payload
// aliases the input and stays masked; AppendPayload unmasks into a caller buffer and Mask unmasks in
// place (on a buffer the caller owns), at any offset of the payload. AppendFrame writes a frame,
// masking the clear payload it is given when the frame is masked.
//
// What needs no state is checked here (reserved opcodes, control frames fragmented or over 125
// bytes, a 1-byte close payload, non-minimal lengths, the top bit of 64-bit lengths, a size limit);
// the fragmentation sequence and the masking direction are the caller's (plugin/session checks
// them). Pure Go, standard library only, builds for GOOS=wasip1; no shared state.
//
// See https://www.rfc-editor.org/rfc/rfc6455
package websocket
