package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// willConnect is a CONNECT with a Will on topic, retained or not, with user name and password.
func willConnect(v byte, topic string, retain bool) []byte {
	p := mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: v, CleanStart: true, KeepAlive: 30, ClientID: []byte("dev1"),
		Will: true, WillTopic: []byte(topic), WillPayload: []byte("gone"), WillQoS: 1, WillRetain: retain,
		HasUsername: true, Username: []byte("u"), HasPassword: true, Password: []byte("secret")}
	if v == mqtt.V5 {
		p.WillProperties = mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropWillDelay, Int: 30})
		p.WillProperties = mqtt.AppendProperty(p.WillProperties, mqtt.Property{ID: mqtt.PropUserProperty, Key: []byte("a"), Value: []byte("1")})
		p.WillProperties = mqtt.AppendProperty(p.WillProperties, mqtt.Property{ID: mqtt.PropUserProperty, Key: []byte("a"), Value: []byte("2")})
	}
	return enc(v, p)
}

// recordingPolicy is testPolicy that also records what SetConnect received.
type recordingPolicy struct {
	testPolicy
	got *ConnectInfo
}

func (r *recordingPolicy) SetConnect(ci *ConnectInfo) { c := *ci; r.got = &c }

// TestSession_Will: the Will is authorized at CONNECT as a PUBLISH of its topic would be
// (iot:Publish, plus iot:RetainPublish when retained); a Will the policy does not allow refuses
// the CONNECT, whatever the MQTT version and the Will properties, and then no allowed iot:Connect
// is reported (one failure, no success). Through both hand-offs.
func TestSession_Will(t *testing.T) {
	pol := testPolicy{Connect: {"dev1"}, Publish: {"ok/"}, RetainPublish: {"ok/kept"}}
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		for _, c := range []struct {
			topic  string
			retain bool
			allow  bool
			want   string
		}{
			{"ok/will", false, true, "Connect iot:Publish ok/will q1|Connect iot:Connect dev1 q0"},
			{"ok/kept", true, true, "Connect iot:Publish ok/kept q1 r|Connect iot:RetainPublish ok/kept q1 r|Connect iot:Connect dev1 q0"},
			{"some/secret/topic", false, false, "Connect iot:Publish some/secret/topic q1 DENIED|Disconnect FORBIDDEN_ACCESS"},
			{"ok/will", true, false, "Connect iot:Publish ok/will q1 r|Connect iot:RetainPublish ok/will q1 r DENIED|Disconnect FORBIDDEN_ACCESS"},
		} {
			name := c.topic
			if c.retain {
				name += " retained"
			}
			t.Run(name, func(t *testing.T) {
				for _, mode := range []string{"Authorize", "Resume", "Preauthorized"} {
					var ds []string
					marked := true
					o := Options{OnDecision: func(d Decision) {
						ds = append(ds, fmtDecision(d))
						if d.Event == EventConnect && d.Will != (d.Action != Connect) {
							marked = false
						}
					}}
					rp := &recordingPolicy{testPolicy: pol}
					var r Result
					switch mode {
					case "Preauthorized":
						o.Preauthorized = rp
						r = New(o).FromClient(willConnect(v, c.topic, c.retain))
					default:
						s := New(o)
						if r = s.FromClient(willConnect(v, c.topic, c.retain)); r.Status != NeedAuth {
							t.Fatal(r)
						}
						if mode == "Resume" {
							s.PendingConnect()
							r = s.Resume(rp)
						} else {
							r = s.Authorize(rp)
						}
					}
					if got := strings.Join(ds, "|"); got != c.want {
						t.Fatalf("v%d %s: decisions %q\nwant %q", v, mode, got, c.want)
					}
					if !marked {
						t.Fatalf("v%d %s: Decision.Will must mark exactly the Will checks", v, mode)
					}
					if c.allow != (r.Status != Close && r.Status != Refusing) {
						t.Fatalf("v%d %s: status %v, allow %v", v, mode, r.Status, c.allow)
					}
					if !c.allow && !strings.Contains(r.Details, "Will") {
						t.Fatalf("v%d %s: details %q do not name the Will", v, mode, r.Details)
					}
					if rp.got == nil || !rp.got.HasWill || string(rp.got.WillTopic) != c.topic || rp.got.WillRetain != c.retain {
						t.Fatalf("v%d %s: SetConnect got %+v", v, mode, rp.got)
					}
				}
			})
		}
	}
}

// TestSession_WillAllowedAfterRefresh: WillAllowed judges the Will by the current policy, and
// EndToBroker is the DISCONNECT after which a broker discards it.
func TestSession_WillAllowedAfterRefresh(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		s := New(Options{})
		s.FromClient(willConnect(v, "ok/will", false))
		if r := s.Authorize(testPolicy{Connect: {"*"}, Publish: {"ok/"}}); r.Status != Continue {
			t.Fatal(r)
		}
		if !s.WillAllowed() {
			t.Fatal("Will allowed by the first policy")
		}
		s.SetPolicy(testPolicy{Connect: {"*"}, Publish: {"other/"}})
		if s.WillAllowed() {
			t.Fatal("Will still allowed after a refresh that removed it")
		}
		d := s.EndToBroker()
		p, n, err := mqtt.ReadPacket(d, v, 0)
		if err != nil || n != len(d) || p.Type != mqtt.Disconnect || p.ReasonCode != 0 {
			t.Fatalf("v%d: EndToBroker % x: %+v %v", v, d, p, err)
		}
		if r := s.FromClient(pingreqPkt); r.Status != Close {
			t.Fatalf("after EndToBroker: %+v", r)
		}
	}
	s := New(Options{})
	s.FromClient(connectPkt(mqtt.V5, "dev1", ""))
	s.Authorize(allowAll)
	s.SetPolicy(testPolicy{})
	if !s.WillAllowed() {
		t.Fatal("a CONNECT without a Will has nothing to refuse")
	}
}

// TestSession_Password: the broker gets no password unless ForwardPassword says so; the user name
// flag follows MQTT 3.1.1's rule (no password without a user name).
func TestSession_Password(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		for _, fwd := range []bool{false, true} {
			for _, mode := range []string{"Authorize", "Resume", "Preauthorized"} {
				o := Options{ForwardPassword: fwd, RewriteUsername: func(u []byte) []byte { return bytes.TrimSuffix(u, []byte("?token=abc")) }}
				in := connectPkt(v, "dev1", "user?token=abc")
				var out []byte
				switch mode {
				case "Preauthorized":
					o.Preauthorized = allowAll
					out = New(o).FromClient(in).Out
				case "Resume":
					s := New(o)
					s.FromClient(in)
					out = s.PendingConnect()
					if r := s.Resume(allowAll); r.Status != Continue {
						t.Fatal(r)
					}
				default:
					s := New(o)
					s.FromClient(in)
					out = s.Authorize(allowAll).Out
				}
				p, n, err := mqtt.ReadPacket(out, v, 0)
				if err != nil || n != len(out) || p.Type != mqtt.Connect {
					t.Fatalf("% x: %v", out, err)
				}
				if p.HasPassword != fwd || fwd && string(p.Password) != "pw" || bytes.Contains(out, []byte("token=abc")) {
					t.Fatalf("v%d forward=%v %s: password %v %q in % x", v, fwd, mode, p.HasPassword, p.Password, out)
				}
				if !p.HasUsername || string(p.Username) != "user" {
					t.Fatalf("v%d forward=%v %s: user name %v %q", v, fwd, mode, p.HasUsername, p.Username)
				}
			}
		}
		// A user name made only of credentials: 3.1.1 without a password drops the user name too.
		s := New(Options{RewriteUsername: func([]byte) []byte { return nil }})
		s.FromClient(connectPkt(v, "dev1", "x"))
		p, _, err := mqtt.ReadPacket(s.Authorize(allowAll).Out, v, 0)
		if err != nil || p.HasUsername || p.HasPassword {
			t.Fatalf("v%d: %+v %v", v, p, err)
		}
	}
}

// TestSession_ProtocolErrorsV5: an MQTT 5 client that breaks the protocol is told why before the
// close: the offending packet becomes a PINGREQ, whose PINGRESP the session replaces with a
// DISCONNECT carrying the specification's reason code; nothing the client sends afterwards
// reaches the broker. Over TLS and WebSocket, whole and split.
func TestSession_ProtocolErrorsV5(t *testing.T) {
	v := mqtt.V5
	con, ack := connectPkt(v, "dev1", ""), connackPkt(v)
	twoAliases := []byte{0x30, 0x0c, 0x00, 0x03, 'o', 'k', '/', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02}
	subIDPub := enc(v, mqtt.Packet{Type: mqtt.Publish, Topic: []byte("ok/a"),
		Properties: mqtt.AppendProperty(nil, mqtt.Property{ID: mqtt.PropSubscriptionID, Int: 4})})
	later := pub(v, "ok/later", 0, 0, false, "must not pass")
	for _, c := range []struct {
		name string
		bad  []byte
		code byte
		why  string
	}{
		{"unknown topic alias", pubAlias("", 3, 0, 0, "x"), mqtt.ReasonProtocolError, "unknown topic alias"},
		{"topic alias above maximum", pubAlias("ok/a", 11, 0, 0, "x"), mqtt.ReasonTopicAliasInvalid, "Topic Alias Maximum"},
		{"topic alias 0", []byte{0x30, 0x09, 0x00, 0x03, 'o', 'k', '/', 0x03, 0x23, 0x00, 0x00}, mqtt.ReasonTopicAliasInvalid, "topic alias 0"},
		{"topic alias twice", twoAliases, mqtt.ReasonProtocolError, "Topic Alias included more than once"},
		{"too large", pub(v, "ok/a", 0, 0, false, strings.Repeat("x", 200)), mqtt.ReasonPacketTooLarge, "maximum packet size"},
		{"malformed", []byte{0x30, 0x03, 0x00, 0x00, 0x00}, mqtt.ReasonMalformed, "empty topic name"},
		{"second CONNECT", con, mqtt.ReasonProtocolError, "second CONNECT"},
		{"SUBACK from the client", subackPkt(v, 1, 0), mqtt.ReasonProtocolError, "SUBACK sent by the client"},
		{"subscription identifier from the client", subIDPub, mqtt.ReasonProtocolError, "Subscription Identifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			disc := enc(v, mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: c.code})
			okPub := pub(v, "ok/first", 0, 0, false, "1")
			chunks := []chunk{c2b(con), b2c(ack), c2b(pingreqPkt, okPub, c.bad, later), c2b(later),
				b2c(pingrespPkt), b2c(pingrespPkt)}
			for _, variant := range append(splits(chunks), chunks) {
				got := play(t, newTLS, Options{MaxPacketBytes: 100}, matrixPolicy, variant)
				if got.status != Close || !strings.Contains(got.reason, c.why) || !strings.HasPrefix(got.reason, ReasonClientError) {
					t.Fatalf("%v\nwant Close for %q", got, c.why)
				}
				wantB := cat(con, pingreqPkt, okPub, pingreqPkt)
				if !bytes.Equal(got.toBroker, wantB) {
					t.Fatalf("to broker % x\nwant       % x", got.toBroker, wantB)
				}
				wantC := cat(ack, pingrespPkt, disc)
				if !bytes.Equal(got.toClient, wantC) {
					t.Fatalf("to client % x\nwant      % x", got.toClient, wantC)
				}
			}
			ws := []chunk{c2b(wsWire(true, con)), b2c(wsWire(false, ack)),
				c2b(wsWire(true, cat(pingreqPkt, okPub, c.bad, later))), c2b(wsFrames(true, later, 2)),
				b2c(wsWire(false, pingrespPkt)), b2c(wsWire(false, pingrespPkt))}
			for _, variant := range append(splits(ws), ws) {
				got := play(t, newWSTest, Options{MaxPacketBytes: 100}, matrixPolicy, variant)
				if got.status != Close || !strings.Contains(got.reason, c.why) {
					t.Fatalf("ws: %v", got)
				}
				if b := wsPayload(t, got.toBroker, true); !bytes.Equal(b, cat(con, pingreqPkt, okPub, pingreqPkt)) {
					t.Fatalf("ws to broker % x", b)
				}
				if b := wsPayload(t, got.toClient, false); !bytes.Equal(b, cat(ack, pingrespPkt, disc)) {
					t.Fatalf("ws to client % x", b)
				}
			}
		})
	}
	// MQTT 3.1.1 has no DISCONNECT from the server: the connection closes at once.
	v3 := mqtt.V311
	got := play(t, newTLS, Options{}, matrixPolicy, []chunk{c2b(connectPkt(v3, "dev1", "")), b2c(connackPkt(v3)), c2b([]byte{0x30, 0x02, 0x00, 0x00})})
	if got.status != Close || len(got.toClient) != len(connackPkt(v3)) {
		t.Fatalf("3.1.1: %v", got)
	}
}
