package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// TestSession_Handoff follows the proxy-wasm glue: on NeedAuth the rewritten CONNECT replaces the
// input (PendingConnect), bytes arriving while paused are held, Resume checks iot:Connect and the
// held packets reach the broker at the head of the next client output.
func TestSession_Handoff(t *testing.T) {
	strip := func(u []byte) []byte { return bytes.TrimSuffix(u, []byte("?token=abc")) }
	p1, p2 := pub(mqtt.V311, "ok/a", 0, 0, false, "1"), pub(mqtt.V311, "no/b", 1, 5, false, "2")
	s := New(Options{DenyAction: DenyReject, RewriteUsername: strip, ForwardPassword: true})
	if s.PendingConnect() != nil {
		t.Fatal("PendingConnect before a CONNECT")
	}
	r := s.FromClient(cat(connectPkt(mqtt.V311, "dev1", "user?token=abc"), p1[:3]))
	if r.Status != NeedAuth {
		t.Fatalf("%+v", r)
	}
	if got, want := s.PendingConnect(), connectPkt(mqtt.V311, "dev1", "user"); !bytes.Equal(got, want) {
		t.Fatalf("PendingConnect % x, want % x", got, want)
	}
	if r := s.FromClient(cat(p1[3:], p2)); r.Status != NeedAuth || len(r.Out) != 0 {
		t.Fatalf("while waiting: %+v", r)
	}
	if r := s.Resume(matrixPolicy); r.Status != Continue || len(r.Out) != 0 {
		t.Fatalf("Resume: %+v", r)
	}
	if s.PendingConnect() != nil {
		t.Fatal("PendingConnect after Resume")
	}
	r = s.FromClient(pingreqPkt)
	if want := cat(p1, pingreqPkt, pingreqPkt); r.Status != Continue || !bytes.Equal(r.Out, want) {
		t.Fatalf("next output % x, want % x", r.Out, want)
	}

	denied := New(Options{})
	denied.FromClient(connectPkt(mqtt.V5, "intruder", ""))
	if got := denied.PendingConnect(); !bytes.Equal(got, connectPkt(mqtt.V5, "intruder", "")) {
		t.Fatalf("unchanged CONNECT % x", got)
	}
	if r := denied.Resume(testPolicy{Connect: {"dev1"}}); r.Status != Refusing || r.Reason != ReasonForbidden || !bytes.Equal(r.Out, refusalConnect) {
		t.Fatalf("iot:Connect denied: %+v", r)
	}
	if r := New(Options{}).Resume(matrixPolicy); r.Status != Close {
		t.Fatalf("Resume without a CONNECT: %+v", r)
	}
}

// TestSession_AnswerWithoutConnect: Authorize or Resume with no CONNECT waiting closes the session
// with a server error naming the call; a second call finds it closed and answers the same.
func TestSession_AnswerWithoutConnect(t *testing.T) {
	for name, answer := range map[string]func(*Session) Result{
		"Authorize": func(s *Session) Result { return s.Authorize(allowAll) },
		"Resume":    func(s *Session) Result { return s.Resume(allowAll) },
	} {
		s := New(Options{})
		want := Result{Status: Close, Reason: ReasonServerError, Details: name + " called without a CONNECT waiting"}
		if r := answer(s); r.Status != want.Status || r.Reason != want.Reason || r.Details != want.Details {
			t.Fatalf("%s: %+v, want %+v", name, r, want)
		}
		if r := answer(s); r.Status != want.Status || r.Reason != want.Reason || r.Details != want.Details {
			t.Fatalf("%s again: %+v, want %+v", name, r, want)
		}
	}
}

// TestWSSession_Handoff: the same over WebSocket; PendingConnect is one masked binary frame.
func TestWSSession_Handoff(t *testing.T) {
	w := NewWS(Options{ForwardPassword: true, RewriteUsername: func(u []byte) []byte { return bytes.TrimSuffix(u, []byte("?token=abc")) }})
	p1 := pub(mqtt.V5, "ok/a", 0, 0, false, "1")
	r := w.FromClient(wsFrames(true, cat(connectPkt(mqtt.V5, "dev1", "user?token=abc"), p1), 30))
	if r.Status != NeedAuth {
		t.Fatalf("%+v", r)
	}
	pending := w.PendingConnect()
	if got := wsPayload(t, pending, true); !bytes.Equal(got, cat(connectPkt(mqtt.V5, "dev1", "user"), p1)) {
		t.Fatalf("PendingConnect payload % x", got)
	}
	if r := w.Resume(matrixPolicy); r.Status != Continue {
		t.Fatalf("Resume: %+v", r)
	}
	r = w.FromClient(wsFrames(true, pingreqPkt))
	if got := wsPayload(t, r.Out, true); !bytes.Equal(got, pingreqPkt) {
		t.Fatalf("next output payload % x", got)
	}
}

// TestSession_HandoffPipelined: complete packets pipelined behind the CONNECT go out with it when
// they pass unchanged; one that is denied (or needs an answer) closes the connection, since the
// bytes already in place cannot be taken back; an incomplete one waits as usual.
func TestSession_HandoffPipelined(t *testing.T) {
	con := connectPkt(mqtt.V311, "dev1", "")
	ok1, ok2 := pub(mqtt.V311, "ok/a", 1, 1, false, "1"), pub(mqtt.V311, "ok/b", 0, 0, false, "2")
	for _, deny := range []DenyAction{DenyDisconnect, DenyReject} {
		s := New(Options{DenyAction: deny})
		s.FromClient(cat(con, ok1, ok2[:4]))
		if got := s.PendingConnect(); !bytes.Equal(got, cat(con, ok1)) {
			t.Fatalf("PendingConnect % x", got)
		}
		if r := s.Resume(matrixPolicy); r.Status != Continue {
			t.Fatalf("allowed pipelined: %+v", r)
		}
		if r := s.FromClient(ok2[4:]); !bytes.Equal(r.Out, ok2) {
			t.Fatalf("the incomplete packet: % x", r.Out)
		}

		s = New(Options{DenyAction: deny})
		s.FromClient(cat(con, ok1, pub(mqtt.V311, "no/x", 1, 2, false, "3")))
		s.PendingConnect()
		if r := s.Resume(matrixPolicy); r.Status != Close || r.Reason != ReasonForbidden {
			t.Fatalf("denyAction %d, denied pipelined: %+v", deny, r)
		}
	}
}

// TestSession_QuietAllowedPublish: allowed publishes are counted, not reported; denials and other
// events still are.
func TestSession_QuietAllowedPublish(t *testing.T) {
	var events []string
	s := New(Options{QuietAllowedPublish: true, DenyAction: DenyReject,
		OnDecision: func(d Decision) { events = append(events, fmtDecision(d)) }})
	s.FromClient(connectPkt(mqtt.V311, "dev1", ""))
	s.Resume(matrixPolicy)
	s.FromClient(cat(pub(mqtt.V311, "ok/a", 0, 0, false, "1"), pub(mqtt.V311, "ok/b", 0, 0, false, "2"), pub(mqtt.V311, "no/c", 0, 0, false, "3")))
	if n := s.TakeAllowedCount(); n != 2 {
		t.Fatalf("allowed count %d, want 2", n)
	}
	if n := s.TakeAllowedCount(); n != 0 {
		t.Fatalf("count not reset: %d", n)
	}
	if len(events) != 2 || !strings.HasPrefix(events[0], "Connect") || !strings.Contains(events[1], "no/c") {
		t.Fatalf("reported %q", events)
	}
}
