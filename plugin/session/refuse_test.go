//go:build !wasm

package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// notAuthorized is the CONNACK the client gets for a refused CONNECT (AWS IoT Core: 3.1.1 return
// code 5, MQTT 5 reason 0x87).
func connackNotAuthorized(v byte) []byte {
	if v == mqtt.V5 {
		return []byte{0x20, 0x03, 0x00, 0x87, 0x00}
	}
	return []byte{0x20, 0x02, 0x00, 0x05}
}

// TestSession_RefusalConnect: the refusal CONNECT is an MQTT 3.1.1 CONNECT with a zero-byte
// ClientId and CleanSession 0, nothing else ([MQTT-3.1.3-8]: the server must answer CONNACK 0x02).
func TestSession_RefusalConnect(t *testing.T) {
	p, n, err := mqtt.ReadPacket(refusalConnect, 0, 0)
	if err != nil || n != len(refusalConnect) {
		t.Fatalf("refusal CONNECT does not decode: n %d err %v", n, err)
	}
	if p.Type != mqtt.Connect || p.ProtocolLevel != mqtt.V311 || len(p.ClientID) != 0 || p.CleanStart ||
		p.Will || p.HasUsername || p.HasPassword {
		t.Fatalf("refusal CONNECT %+v", p)
	}
}

// TestSession_Refuse: a refused CONNECT (authorizer denial through Refuse, iot:Connect denied in
// Resume, or at once with Preauthorized) puts the refusal CONNECT in place of everything the client
// sent; whatever the broker answers, complete or not, valid or not, the client gets only the
// "not authorized" CONNACK of its own version, then Close. Client bytes after the refusal never
// reach the broker.
func TestSession_Refuse(t *testing.T) {
	answers := []struct {
		name    string
		chunks  [][]byte
		details string // in Result.Details, when the answer is not the expected CONNACK 0x02
	}{
		{"connack 0x02", [][]byte{{0x20, 0x02, 0x00, 0x02}}, ""},
		{"connack split", [][]byte{{0x20}, {0x02, 0x00}, {0x02}}, ""},
		{"connack accepted", [][]byte{{0x20, 0x02, 0x00, 0x00}}, "CONNACK 0x00, not 0x02"},
		{"connack 0x05", [][]byte{{0x20, 0x02, 0x00, 0x05}}, "CONNACK 0x05"},
		{"publish", [][]byte{pub(mqtt.V311, "x", 0, 0, false, "y")}, "with PUBLISH"},
		{"garbage", [][]byte{{0xff, 0xff, 0xff, 0xff, 0xff}}, "invalid packet"},
		{"oversized", [][]byte{append([]byte{0x30, 0x7f}, make([]byte, 127)...)}, "invalid packet"},
		{"connack with trailing bytes", [][]byte{{0x20, 0x02, 0x00, 0x02, 0xe0, 0x00}}, ""},
	}
	starts := map[string]func(v byte) (*Session, Result){
		"Refuse": func(v byte) (*Session, Result) {
			s := New(Options{})
			if r := s.FromClient(cat(connectPkt(v, "dev1", "u"), pub(v, "a", 0, 0, false, "x"))); r.Status != NeedAuth {
				panic("no NeedAuth")
			}
			s.PendingConnect()
			s.FromClient(pub(v, "b", 0, 0, false, "held"))
			return s, Result{Out: s.Refuse(), Status: Refusing}
		},
		"Resume": func(v byte) (*Session, Result) {
			s := New(Options{})
			s.FromClient(connectPkt(v, "intruder", ""))
			s.PendingConnect()
			return s, s.Resume(testPolicy{Connect: {"dev1"}})
		},
		"Preauthorized": func(v byte) (*Session, Result) {
			s := New(Options{Preauthorized: testPolicy{Connect: {"dev1"}}})
			return s, s.FromClient(cat(connectPkt(v, "intruder", ""), pub(v, "a", 0, 0, false, "x")))
		},
	}
	for name, start := range starts {
		for _, v := range []byte{mqtt.V311, mqtt.V5} {
			for _, a := range answers {
				t.Run(name+"/"+a.name, func(t *testing.T) {
					s, r := start(v)
					if r.Status != Refusing || !bytes.Equal(r.Out, refusalConnect) {
						t.Fatalf("v%d start: %v % x", v, r.Status, r.Out)
					}
					if r := s.FromClient(pub(v, "c", 0, 0, false, "after")); r.Status != Refusing || len(r.Out) != 0 {
						t.Fatalf("v%d client bytes after the refusal: %v % x", v, r.Status, r.Out)
					}
					var toClient []byte
					var last Result
					for _, c := range a.chunks {
						last = s.FromBroker(append([]byte(nil), c...))
						toClient = append(toClient, last.Out...)
					}
					if last.Status != Close || !bytes.Equal(toClient, connackNotAuthorized(v)) {
						t.Fatalf("v%d to the client: %v % x, want Close % x", v, last.Status, toClient, connackNotAuthorized(v))
					}
					if a.details != "" && !strings.Contains(last.Details, a.details) {
						t.Fatalf("v%d details %q lack %q", v, last.Details, a.details)
					}
					if a.details == "" && strings.Contains(last.Details, "broker answered") {
						t.Fatalf("v%d details %q for an expected answer", v, last.Details)
					}
					if r := s.FromBroker([]byte{0x20, 0x02, 0x00, 0x00}); r.Status != Close || len(r.Out) != 0 {
						t.Fatalf("v%d after the close: %+v", v, r)
					}
				})
			}
		}
	}
	if New(Options{}).Refuse() != nil {
		t.Fatal("Refuse without a CONNECT waiting")
	}
}

// TestWSSession_Refuse: over a WebSocket the refusal CONNECT goes as one masked binary frame and
// the broker's CONNACK, in frames split anywhere, comes back as the client's CONNACK in an unmasked
// frame.
func TestWSSession_Refuse(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		w := NewWS(Options{})
		if r := w.FromClient(wsWire(true, connectPkt(v, "dev1", "u"))); r.Status != NeedAuth {
			t.Fatalf("v%d: %v", v, r.Status)
		}
		w.PendingConnect()
		out := w.Refuse()
		if got := wsPayload(t, out, true); !bytes.Equal(got, refusalConnect) {
			t.Fatalf("v%d refusal frame payload % x", v, got)
		}
		wire := wsFrames(false, []byte{0x20, 0x02, 0x00, 0x02}, 1, 3)
		var toClient []byte
		var last Result
		for i := range wire {
			last = w.FromBroker(wire[i : i+1])
			toClient = append(toClient, last.Out...)
		}
		if last.Status != Close || !bytes.Equal(wsPayload(t, toClient, false), connackNotAuthorized(v)) {
			t.Fatalf("v%d: %v % x", v, last.Status, toClient)
		}
	}
	w := NewWS(Options{Preauthorized: testPolicy{Connect: {"dev1"}}})
	r := w.FromClient(wsWire(true, connectPkt(mqtt.V5, "intruder", "")))
	if r.Status != Refusing || !bytes.Equal(wsPayload(t, r.Out, true), refusalConnect) {
		t.Fatalf("preauthorized refusal: %v % x", r.Status, r.Out)
	}
}
