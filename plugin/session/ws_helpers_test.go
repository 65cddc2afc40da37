package session

import (
	"testing"

	"github.com/iotauthz/iotauthz/plugin/websocket"
)

func newWSTest(o Options) processor { return NewWS(o) }

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsWire wraps MQTT bytes in one binary frame, masked when it comes from the client.
func wsWire(client bool, b []byte) []byte {
	return websocket.AppendFrame(nil, &websocket.Frame{Fin: true, Opcode: websocket.OpBinary, Masked: client, MaskKey: testKey, Payload: b})
}

// wsFrames wraps MQTT bytes in frames cut at the given offsets, as one fragmented message.
func wsFrames(client bool, b []byte, cuts ...int) []byte {
	var out []byte
	prev := 0
	cuts = append(cuts, len(b))
	for i, c := range cuts {
		op := websocket.OpContinuation
		if i == 0 {
			op = websocket.OpBinary
		}
		out = websocket.AppendFrame(out, &websocket.Frame{Fin: i == len(cuts)-1, Opcode: op, Masked: client,
			MaskKey: [4]byte{byte(i), 2, 3, 4}, Payload: b[prev:c]})
		prev = c
	}
	return out
}

// wsPayload checks that b is a well-formed frame stream for its direction (masking, fragmentation,
// whole frames) and returns the concatenated data payloads.
func wsPayload(t testing.TB, b []byte, fromClient bool) []byte {
	t.Helper()
	return wsPayloadOpen(t, b, fromClient, false)
}

// wsPayloadOpen is wsPayload that tolerates an output ending inside a message (after a Close).
func wsPayloadOpen(t testing.TB, b []byte, fromClient, allowOpen bool) []byte {
	t.Helper()
	var out []byte
	open := false
	for len(b) > 0 {
		f, n, err := websocket.ReadFrame(b, 0)
		if err != nil || n == 0 {
			t.Fatalf("bad frame stream: n %d err %v at % x", n, err, b)
		}
		if f.Masked != fromClient {
			t.Fatalf("masked %v in direction fromClient=%v", f.Masked, fromClient)
		}
		if !f.Opcode.IsControl() {
			if (f.Opcode == websocket.OpContinuation) != open || f.Opcode == websocket.OpText {
				t.Fatalf("opcode %d with open=%v", f.Opcode, open)
			}
			open = !f.Fin
			out = f.AppendPayload(out)
		}
		b = b[n:]
	}
	if open && !allowOpen {
		t.Fatal("output ends inside a fragmented message")
	}
	return out
}
