package session

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
	"github.com/iotauthz/iotauthz/plugin/websocket"
)

func ctrl(client bool, op websocket.Opcode, payload string) []byte {
	return websocket.AppendFrame(nil, &websocket.Frame{Fin: true, Opcode: op, Masked: client, MaskKey: [4]byte{9, 8, 7, 6}, Payload: []byte(payload)})
}

// countControl returns the control frames of a frame stream, as "opcode:payload".
func countControl(t *testing.T, b []byte) []string {
	var out []string
	for len(b) > 0 {
		f, n, err := websocket.ReadFrame(b, 0)
		if err != nil || n == 0 {
			t.Fatalf("bad frames: %v", err)
		}
		if f.Opcode.IsControl() {
			out = append(out, strconv.Itoa(int(f.Opcode))+":"+string(f.AppendPayload(nil)))
		}
		b = b[n:]
	}
	return out
}

// TestWSSession_SameAsTLS: MQTT packets spanning frames, fragmented messages with a ping in the
// middle, several packets per frame; the WebSocket session forwards the same MQTT bytes and makes
// the same decisions as the TLS session on the bare streams, whatever the cuts.
func TestWSSession_SameAsTLS(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		con := connectPkt(v, "dev1", "")
		c1 := cat(pub(v, "ok/a", 1, 1, false, "hello"), pub(v, "no/b", 1, 2, false, "x"), subPkt(v, 3, "ok/a", "no/b"), pingreqPkt)
		b1 := cat(connackPkt(v), ackPkt(v, mqtt.Puback, 1, 0), pingrespPkt, subackPkt(v, 3, 1), pingrespPkt)
		b2 := cat(pub(v, "ok/x", 1, 9, false, strings.Repeat("p", 300)), pub(v, "no/y", 1, 10, false, "q"))
		c2 := cat(ackPkt(v, mqtt.Puback, 9, 0), pingreqPkt)

		tls := []chunk{c2b(con), b2c(b1[:len(connackPkt(v))]), c2b(c1), b2c(b1[len(connackPkt(v)):]), b2c(b2), c2b(c2)}
		// The CONNECT is one message of two frames, with a ping between them.
		first := wsFrames(true, con, 5)
		_, n0, _ := websocket.ReadFrame(first, 0)
		ws := []chunk{
			{true, cat(first[:n0], ctrl(true, websocket.OpPing, "hi"), first[n0:])},
			{false, wsWire(false, b1[:len(connackPkt(v))])},
			{true, wsFrames(true, c1, 1, 7, 8, len(c1)-1)},
			{false, cat(wsFrames(false, b1[len(connackPkt(v)):], 2), ctrl(false, websocket.OpPong, "hi"))},
			{false, cat(wsFrames(false, b2, 100), wsFrames(false, b2[:0]))}, // and an empty message
			{true, cat(wsWire(true, c2[:3]), wsWire(true, c2[3:]))},
		}
		want := play(t, newTLS, Options{DenyAction: DenyReject}, matrixPolicy, tls)
		for _, variant := range append(splits(ws), ws) {
			got := play(t, newWSTest, Options{DenyAction: DenyReject}, matrixPolicy, variant)
			if got.status != want.status || strings.Join(got.decisions, "|") != strings.Join(want.decisions, "|") {
				t.Fatalf("v%d: ws %v\ntls %v", v, got, want)
			}
			if pb := wsPayload(t, got.toBroker, true); !bytes.Equal(pb, want.toBroker) {
				t.Fatalf("v%d toBroker\n% x\nwant\n% x", v, pb, want.toBroker)
			}
			if pc := wsPayload(t, got.toClient, false); !bytes.Equal(pc, want.toClient) {
				t.Fatalf("v%d toClient\n% x\nwant\n% x", v, pc, want.toClient)
			}
			if c := countControl(t, got.toBroker); strings.Join(c, ",") != "9:hi" {
				t.Fatalf("control frames toward the broker %q", c)
			}
			if c := countControl(t, got.toClient); strings.Join(c, ",") != "10:hi" {
				t.Fatalf("control frames toward the client %q", c)
			}
		}
	}
}

func TestWSSession_Unchanged(t *testing.T) {
	w := NewWS(Options{Preauthorized: allowAll})
	in := cat(wsWire(true, connectPkt(mqtt.V311, "dev1", "")), ctrl(true, websocket.OpPing, ""))
	if r := w.FromClient(in); !r.Unchanged || &r.Out[0] != &in[0] {
		t.Fatalf("%+v", r)
	}
	ack := wsWire(false, connackPkt(mqtt.V311))
	if r := w.FromBroker(ack); !r.Unchanged {
		t.Fatalf("%+v", r)
	}
	// Two frames, the second cut: the first goes as is (no copy), the rest is held.
	p := wsWire(true, pub(mqtt.V311, "a", 0, 0, false, "x"))
	in = cat(p, p[:4])
	r := w.FromClient(in)
	if r.Unchanged || len(r.Out) != len(p) || &r.Out[0] != &in[0] {
		t.Fatalf("%+v", r)
	}
	// The rest of the frame: re-framed (the frame started in the previous chunk).
	r = w.FromClient(p[4:])
	if r.Unchanged || !bytes.Equal(wsPayload(t, r.Out, true), pub(mqtt.V311, "a", 0, 0, false, "x")[2:]) &&
		!bytes.Equal(wsPayload(t, r.Out, true), pub(mqtt.V311, "a", 0, 0, false, "x")) {
		t.Fatalf("% x", r.Out)
	}
	if w.Version() != 4 || string(w.Connect().ClientID) != "dev1" {
		t.Fatal("Version/Connect")
	}
	w.SetPolicy(PolicyFunc(func(Action, []byte) bool { return false }))
	if r := w.FromClient(p); r.Status != Close || r.Reason != ReasonForbidden {
		t.Fatalf("after SetPolicy deny-all: %+v", r)
	}
}

func TestWSSession_NeedAuth(t *testing.T) {
	w := NewWS(Options{ForwardPassword: true, RewriteUsername: func(u []byte) []byte { return u[:1] }})
	con := connectPkt(mqtt.V5, "dev1", "user?x=1")
	p := pub(mqtt.V5, "ok/a", 0, 0, false, "x")
	r := w.FromClient(cat(wsWire(true, con), wsFrames(true, p, 3)[:9]))
	if r.Status != NeedAuth || len(r.Out) != 0 {
		t.Fatalf("%+v", r)
	}
	if ci := w.Connect(); ci == nil || string(ci.Username) != "user?x=1" {
		t.Fatal("ConnectInfo")
	}
	r = w.Authorize(matrixPolicy)
	if r.Status != Continue || len(r.Out) == 0 {
		t.Fatalf("%+v", r)
	}
	// Out ends inside the fragmented message the client is sending: the output keeps it open, and
	// the next chunk closes it.
	first := append([]byte(nil), r.Out...) // Out is valid until the next call
	r2 := w.FromClient(wsFrames(true, p, 3)[9:])
	all := wsPayload(t, cat(first, r2.Out), true)
	if want := cat(connectPkt(mqtt.V5, "dev1", "u"), p); !bytes.Equal(all, want) {
		t.Fatalf("% x\nwant\n% x", all, want)
	}
}

func TestWSSession_Errors(t *testing.T) {
	con := wsWire(true, connectPkt(mqtt.V311, "dev1", ""))
	for _, c := range []struct {
		name   string
		chunks []chunk
		reason string
	}{
		{"text frame", []chunk{{true, websocket.AppendFrame(nil, &websocket.Frame{Fin: true, Opcode: websocket.OpText, Masked: true, Payload: []byte("x")})}},
			"CLIENT_ERROR: websocket protocol error: text frame (MQTT needs binary frames)"},
		{"unmasked client frame", []chunk{{true, wsWire(false, connectPkt(mqtt.V311, "dev1", ""))}},
			"CLIENT_ERROR: websocket protocol error: unmasked frame from the client"},
		{"masked server frame", []chunk{{true, con}, {false, wsWire(true, connackPkt(mqtt.V311))}},
			"SERVER_ERROR: websocket protocol error: masked frame from the server"},
		{"RSV1 (permessage-deflate)", []chunk{{true, websocket.AppendFrame(nil, &websocket.Frame{Fin: true, Rsv: 4, Opcode: websocket.OpBinary, Masked: true, Payload: []byte("x")})}},
			"CLIENT_ERROR: websocket protocol error: RSV bits set (WebSocket extensions are not supported)"},
		{"continuation without message", []chunk{{true, con}, {true, websocket.AppendFrame(nil, &websocket.Frame{Fin: true, Opcode: websocket.OpContinuation, Masked: true})}},
			"CLIENT_ERROR: websocket protocol error: continuation frame outside a fragmented message"},
		{"binary inside a message", []chunk{{true, cat(websocket.AppendFrame(nil, &websocket.Frame{Opcode: websocket.OpBinary, Masked: true}), con)}},
			"CLIENT_ERROR: websocket protocol error: new data frame inside a fragmented message"},
		{"data after close", []chunk{{true, cat(con, ctrl(true, websocket.OpClose, ""), con)}},
			"CLIENT_ERROR: websocket protocol error: frame after a close frame"},
		{"long ping", []chunk{{true, cat(con, []byte{0x89, 0xfe, 0x00, 0x7e})}},
			"CLIENT_ERROR: websocket protocol error: control frame payload longer than 125 bytes"},
		{"MQTT error inside frames", []chunk{{true, wsWire(true, pingreqPkt)}},
			"CLIENT_ERROR: protocol error: the first packet is not CONNECT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, variant := range append(splits(c.chunks), c.chunks) {
				got := play(t, newWSTest, Options{Preauthorized: allowAll}, allowAll, variant)
				if got.status != Close || got.reason != c.reason {
					t.Fatalf("%v\nwant %q", got, c.reason)
				}
			}
		})
	}
}
