package session

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// The policy of the matrix: everything under ok/ is allowed, retained publishes only under ok/r.
var matrixPolicy = testPolicy{
	Connect:       {"dev"},
	Publish:       {"ok/"},
	RetainPublish: {"ok/r"},
	Subscribe:     {"ok/"},
	Receive:       {"ok/"},
}

type matrixCase struct {
	name string
	// build returns the chunks after CONNECT/CONNACK and the bytes expected toward the broker and
	// the client after the CONNECT and CONNACK; closed: the connection closes (FORBIDDEN_ACCESS).
	build func(v byte, deny DenyAction) (chunks []chunk, toBroker, toClient []byte, closed bool, decisions []string)
}

func notAuthorized(v byte) byte {
	if v == mqtt.V5 {
		return 0x87
	}
	return 0
}

func subFail(v byte) byte {
	if v == mqtt.V5 {
		return 0x87
	}
	return 0x80
}

var matrix = []matrixCase{
	{"publish allowed QoS 0", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		p := pub(v, "ok/t", 0, 0, false, "x")
		return []chunk{c2b(p)}, p, nil, false, []string{"Publish-In iot:Publish ok/t q0"}
	}},
	{"publish allowed QoS 1", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		p, a := pub(v, "ok/t", 1, 7, false, "x"), ackPkt(v, mqtt.Puback, 7, 0)
		return []chunk{c2b(p), b2c(a)}, p, a, false, []string{"Publish-In iot:Publish ok/t q1"}
	}},
	{"publish allowed QoS 2", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		p, rec, rel, comp := pub(v, "ok/t", 2, 7, false, "x"), ackPkt(v, mqtt.Pubrec, 7, 0), ackPkt(v, mqtt.Pubrel, 7, 0), ackPkt(v, mqtt.Pubcomp, 7, 0)
		return []chunk{c2b(p), b2c(rec), c2b(rel), b2c(comp)}, cat(p, rel), cat(rec, comp), false, []string{"Publish-In iot:Publish ok/t q2"}
	}},
	{"publish allowed retain", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		p := pub(v, "ok/r1", 0, 0, true, "x")
		return []chunk{c2b(p)}, p, nil, false, []string{"Publish-In iot:Publish ok/r1 q0 r", "Publish-In iot:RetainPublish ok/r1 q0 r"}
	}},
	{"publish denied QoS 0", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		d := []string{"Publish-In iot:Publish no/t q0 DENIED"}
		if deny == DenyDisconnect {
			d = append(d, "Disconnect FORBIDDEN_ACCESS")
		}
		return []chunk{c2b(pub(v, "no/t", 0, 0, false, "x"))}, nil, nil, deny == DenyDisconnect, d
	}},
	{"publish denied QoS 1", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		ch := []chunk{c2b(pub(v, "no/t", 1, 7, false, "x")), b2c(pingrespPkt)}
		d := []string{"Publish-In iot:Publish no/t q1 DENIED"}
		if deny == DenyDisconnect {
			return ch, nil, nil, true, append(d, "Disconnect FORBIDDEN_ACCESS")
		}
		return ch, pingreqPkt, ackPkt(v, mqtt.Puback, 7, notAuthorized(v)), false, d
	}},
	{"publish denied QoS 2", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		ch := []chunk{c2b(pub(v, "no/t", 2, 7, false, "x")), b2c(pingrespPkt)}
		d := []string{"Publish-In iot:Publish no/t q2 DENIED"}
		if deny == DenyDisconnect {
			return ch, nil, nil, true, append(d, "Disconnect FORBIDDEN_ACCESS")
		}
		if v == mqtt.V5 { // PUBREC 0x87 ends the flow
			return ch, pingreqPkt, ackPkt(v, mqtt.Pubrec, 7, 0x87), false, d
		}
		// 3.1.1: PUBREC, then the client's PUBREL is answered PUBCOMP.
		ch = append(ch, c2b(ackPkt(v, mqtt.Pubrel, 7, 0)), b2c(pingrespPkt))
		return ch, cat(pingreqPkt, pingreqPkt), cat(ackPkt(v, mqtt.Pubrec, 7, 0), ackPkt(v, mqtt.Pubcomp, 7, 0)), false, d
	}},
	{"publish denied retain (publish allowed)", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		ch := []chunk{c2b(pub(v, "ok/t", 1, 7, true, "x")), b2c(pingrespPkt)}
		d := []string{"Publish-In iot:Publish ok/t q1 r", "Publish-In iot:RetainPublish ok/t q1 r DENIED"}
		if deny == DenyDisconnect {
			return ch, nil, nil, true, append(d, "Disconnect FORBIDDEN_ACCESS")
		}
		return ch, pingreqPkt, ackPkt(v, mqtt.Puback, 7, notAuthorized(v)), false, d
	}},
	{"subscribe allowed", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		s, a := subPkt(v, 3, "ok/a", "ok/#"), subackPkt(v, 3, 1, 1)
		return []chunk{c2b(s), b2c(a)}, s, a, false, []string{"Subscribe iot:Subscribe ok/a q1", "Subscribe iot:Subscribe ok/# q1"}
	}},
	{"subscribe some filters denied", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		if deny == DenyDisconnect {
			return []chunk{c2b(subPkt(v, 3, "ok/a", "no/b", "ok/c"))}, nil, nil, true,
				[]string{"Subscribe iot:Subscribe ok/a q1", "Subscribe iot:Subscribe no/b q1 DENIED", "Disconnect FORBIDDEN_ACCESS"}
		}
		return []chunk{c2b(subPkt(v, 3, "ok/a", "no/b", "ok/c")), b2c(subackPkt(v, 3, 1, 0))},
			subPkt(v, 3, "ok/a", "ok/c"), subackPkt(v, 3, 1, subFail(v), 0), false,
			[]string{"Subscribe iot:Subscribe ok/a q1", "Subscribe iot:Subscribe no/b q1 DENIED", "Subscribe iot:Subscribe ok/c q1"}
	}},
	{"subscribe all filters denied", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		ch := []chunk{c2b(subPkt(v, 3, "no/a", "no/b")), b2c(pingrespPkt)}
		if deny == DenyDisconnect {
			return ch, nil, nil, true, []string{"Subscribe iot:Subscribe no/a q1 DENIED", "Disconnect FORBIDDEN_ACCESS"}
		}
		return ch, pingreqPkt, subackPkt(v, 3, subFail(v), subFail(v)), false,
			[]string{"Subscribe iot:Subscribe no/a q1 DENIED", "Subscribe iot:Subscribe no/b q1 DENIED"}
	}},
	{"receive allowed QoS 1", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		p, a := pub(v, "ok/t", 1, 9, false, "x"), ackPkt(v, mqtt.Puback, 9, 0)
		return []chunk{b2c(p), c2b(a)}, a, p, false, []string{"Publish-Out iot:Receive ok/t q1"}
	}},
	{"receive denied QoS 0", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		return []chunk{b2c(pub(v, "no/t", 0, 0, false, "x")), c2b(pingreqPkt)}, pingreqPkt, nil, false,
			[]string{"Publish-Out iot:Receive no/t q0 DENIED"}
	}},
	{"receive denied QoS 1", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		// The PUBLISH becomes a PUBREL; the client's PUBCOMP (MQTT 5: maybe 0x92) becomes the
		// PUBACK owed to the broker, at once.
		return []chunk{b2c(pub(v, "no/t", 1, 9, false, "x")), c2b(ackPkt(v, mqtt.Pubcomp, 9, notFound(v)), pingreqPkt)},
			cat(ackPkt(v, mqtt.Puback, 9, 0), pingreqPkt), ackPkt(v, mqtt.Pubrel, 9, 0), false,
			[]string{"Publish-Out iot:Receive no/t q1 DENIED"}
	}},
	{"receive denied QoS 2", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		// PUBREL to the client; its PUBCOMP becomes the PUBREC; the broker's PUBREL and the
		// client's PUBCOMP then pass.
		return []chunk{b2c(pub(v, "no/t", 2, 9, false, "x")), c2b(ackPkt(v, mqtt.Pubcomp, 9, 0)),
				b2c(ackPkt(v, mqtt.Pubrel, 9, 0)), c2b(ackPkt(v, mqtt.Pubcomp, 9, notFound(v)))},
			cat(ackPkt(v, mqtt.Pubrec, 9, 0), ackPkt(v, mqtt.Pubcomp, 9, notFound(v))),
			cat(ackPkt(v, mqtt.Pubrel, 9, 0), ackPkt(v, mqtt.Pubrel, 9, 0)), false,
			[]string{"Publish-Out iot:Receive no/t q2 DENIED"}
	}},
	{"receive denied, PUBCOMP with another id", func(v byte, _ DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		// A PUBCOMP that answers no PUBREL of the proxy goes to the broker as it is; the right
		// one still becomes the PUBACK.
		return []chunk{b2c(pub(v, "no/t", 1, 9, false, "x")), c2b(ackPkt(v, mqtt.Pubcomp, 8, 0)), c2b(ackPkt(v, mqtt.Pubcomp, 9, 0))},
			cat(ackPkt(v, mqtt.Pubcomp, 8, 0), ackPkt(v, mqtt.Puback, 9, 0)), ackPkt(v, mqtt.Pubrel, 9, 0), false,
			[]string{"Publish-Out iot:Receive no/t q1 DENIED"}
	}},
	{"client pings interleaved with a rejected publish", func(v byte, deny DenyAction) ([]chunk, []byte, []byte, bool, []string) {
		d := []string{"Publish-In iot:Publish no/t q1 DENIED"}
		ch := []chunk{c2b(pingreqPkt), c2b(pub(v, "no/t", 1, 7, false, "x")), c2b(pingreqPkt), b2c(pingrespPkt, pingrespPkt, pingrespPkt)}
		if deny == DenyDisconnect {
			return ch, pingreqPkt, nil, true, append(d, "Disconnect FORBIDDEN_ACCESS")
		}
		return ch, cat(pingreqPkt, pingreqPkt, pingreqPkt), cat(pingrespPkt, ackPkt(v, mqtt.Puback, 7, notAuthorized(v)), pingrespPkt), false, d
	}},
}

// notFound is the reason an MQTT 5 client may put in the PUBCOMP of an unknown PUBREL (0x92).
func notFound(v byte) byte {
	if v == mqtt.V5 {
		return 0x92
	}
	return 0
}

func TestSession_Matrix(t *testing.T) {
	for _, proc := range []struct {
		name string
		newP func(Options) processor
		wrap func(client bool, b []byte) []byte // how the bytes look on the wire
	}{
		{"tls", newTLS, func(_ bool, b []byte) []byte { return b }},
		{"wss", newWSTest, wsWire},
	} {
		for _, v := range []byte{mqtt.V311, mqtt.V5} {
			for _, deny := range []DenyAction{DenyDisconnect, DenyReject, DenyByVersion} {
				// DenyByVersion is AWS's per-version behaviour: 3.1.1 disconnects, MQTT 5 rejects.
				eff := deny
				if deny == DenyByVersion {
					eff = map[byte]DenyAction{mqtt.V311: DenyDisconnect, mqtt.V5: DenyReject}[v]
				}
				for _, mc := range matrix {
					name := fmt.Sprintf("%s/v%d/%s/%s", proc.name, v, []string{"disconnect", "reject", "auto"}[deny], mc.name)
					t.Run(name, func(t *testing.T) {
						ch, wantB, wantC, closed, wantD := mc.build(v, eff)
						all := append([]chunk{c2b(connectPkt(v, "dev1", "")), b2c(connackPkt(v))}, ch...)
						wire := make([]chunk, len(all))
						for i, c := range all {
							wire[i] = chunk{c.client, proc.wrap(c.client, c.data)}
						}
						got := play(t, proc.newP, Options{DenyAction: deny}, matrixPolicy, wire)
						gotB, gotC := got.toBroker, got.toClient
						if proc.name == "wss" {
							gotB, gotC = wsPayload(t, gotB, true), wsPayload(t, gotC, false)
						}
						wantB = cat(connectPkt(v, "dev1", ""), wantB)
						wantC = cat(connackPkt(v), wantC)
						if !bytes.Equal(gotB, wantB) || !bytes.Equal(gotC, wantC) {
							t.Fatalf("got\n%v\nwant toBroker % x\nwant toClient % x", got, wantB, wantC)
						}
						if closed != (got.status == Close) || closed && !strings.HasPrefix(got.reason, ReasonForbidden) {
							t.Fatalf("status %v %q, want closed=%v", got.status, got.reason, closed)
						}
						wantD = append([]string{"Connect iot:Connect dev1 q0"}, wantD...)
						if strings.Join(got.decisions, "|") != strings.Join(wantD, "|") {
							t.Fatalf("decisions\n%q\nwant\n%q", got.decisions, wantD)
						}
						// The same stream cut anywhere gives the same result.
						// (WebSocket: the same MQTT bytes; frames and masking keys may differ.)
						norm := func(o outcome) string {
							if proc.name == "wss" {
								o.toBroker, o.toClient = wsPayload(t, o.toBroker, true), wsPayload(t, o.toClient, false)
							}
							return o.String()
						}
						for _, variant := range splits(wire) {
							again := play(t, proc.newP, Options{DenyAction: deny}, matrixPolicy, variant)
							if norm(again) != norm(got) {
								t.Fatalf("split variant differs:\n%v\nvs whole:\n%v", again, got)
							}
						}
					})
				}
			}
		}
	}
}

func TestSession_ConnectDenied(t *testing.T) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		ch := []chunk{c2b(connectPkt(v, "intruder", ""), pub(v, "ok/t", 0, 0, false, "x"))}
		for _, variant := range append(splits(ch), ch) {
			got := play(t, newTLS, Options{}, matrixPolicy, variant)
			if got.status != Close || len(got.toBroker) != 0 || len(got.toClient) != 0 ||
				got.reason != "FORBIDDEN_ACCESS: iot:Connect denied" ||
				strings.Join(got.decisions, "|") != "Connect iot:Connect intruder q0 DENIED|Disconnect FORBIDDEN_ACCESS" {
				t.Fatalf("v%d: %v", v, got)
			}
		}
	}
}

// TestSession_NeedAuth follows the glue's steps: NeedAuth, Connect(), more bytes while waiting,
// Authorize with the user name rewritten, the held packets processed under the policy.
func TestSession_NeedAuth(t *testing.T) {
	var decisions []string
	s := New(Options{
		DenyAction: DenyReject, ForwardPassword: true,
		RewriteUsername: func(u []byte) []byte { return bytes.TrimSuffix(u, []byte("?token=abc")) },
		OnDecision:      func(d Decision) { decisions = append(decisions, fmtDecision(d)) },
	})
	con := connectPkt(mqtt.V311, "dev1", "user?token=abc")
	p1, p2 := pub(mqtt.V311, "ok/a", 0, 0, false, "1"), pub(mqtt.V311, "no/b", 1, 5, false, "2")
	in := cat(con, p1[:3])
	r := s.FromClient(in)
	if r.Status != NeedAuth || len(r.Out) != 0 || r.Unchanged {
		t.Fatalf("%+v", r)
	}
	ci := s.Connect()
	if ci == nil || ci.Version != 4 || string(ci.ClientID) != "dev1" || string(ci.Username) != "user?token=abc" ||
		!ci.HasPassword || string(ci.Password) != "pw" || ci.KeepAlive != 30 || !ci.CleanStart {
		t.Fatalf("ConnectInfo %+v", ci)
	}
	for i := range in {
		in[i] = 0 // the session must have copied what it holds
	}
	if r := s.FromClient(cat(p1[3:], p2)); r.Status != NeedAuth || len(r.Out) != 0 {
		t.Fatalf("%+v", r)
	}
	if r := s.FromBroker(nil); r.Status != Continue {
		t.Fatalf("empty broker chunk while waiting: %+v", r)
	}
	r = s.Authorize(matrixPolicy)
	want := cat(connectPkt(mqtt.V311, "dev1", "user"), p1, pingreqPkt)
	if r.Status != Continue || !bytes.Equal(r.Out, want) {
		t.Fatalf("Authorize: %v\n% x\nwant\n% x", r.Status, r.Out, want)
	}
	if string(s.Connect().ClientID) != "dev1" || s.Version() != 4 {
		t.Fatal("ConnectInfo after Authorize")
	}
	wantD := "Connect iot:Connect dev1 q0|Publish-In iot:Publish ok/a q0|Publish-In iot:Publish no/b q1 DENIED"
	if strings.Join(decisions, "|") != wantD {
		t.Fatalf("decisions %q", decisions)
	}
	// Stripping everything: 3.1.1 with a password keeps an empty user name, MQTT 5 drops it.
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		s := New(Options{ForwardPassword: true, RewriteUsername: func([]byte) []byte { return nil }})
		if r := s.FromClient(connectPkt(v, "dev1", "x")); r.Status != NeedAuth {
			t.Fatal(r)
		}
		r := s.Authorize(allowAll)
		p, _, err := mqtt.ReadPacket(r.Out, v, 0)
		if err != nil || p.HasUsername != (v == mqtt.V311) || len(p.Username) != 0 || string(p.Password) != "pw" {
			t.Fatalf("v%d: %+v %v", v, p, err)
		}
	}
}

func TestSession_Preauthorized(t *testing.T) {
	o := Options{Preauthorized: matrixPolicy}
	in := cat(connectPkt(mqtt.V5, "dev1", ""), pub(mqtt.V5, "ok/a", 0, 0, false, "1"))
	r := New(o).FromClient(in)
	if r.Status != Continue || !r.Unchanged || !bytes.Equal(r.Out, in) {
		t.Fatalf("%+v", r)
	}
	r = New(o).FromClient(connectPkt(mqtt.V5, "other", ""))
	if r.Status != Refusing || r.Reason != ReasonForbidden || !bytes.Equal(r.Out, refusalConnect) {
		t.Fatalf("%+v", r)
	}
}

func TestSession_UnchangedFastPath(t *testing.T) {
	s := New(Options{})
	s.FromClient(connectPkt(mqtt.V311, "dev1", ""))
	s.Authorize(allowAll)
	s.FromBroker(connackPkt(mqtt.V311))
	in := cat(pub(mqtt.V311, "a", 0, 0, false, "x"), pub(mqtt.V311, "b", 1, 1, false, "y"))
	r := s.FromClient(in)
	if !r.Unchanged || &r.Out[0] != &in[0] || len(r.Out) != len(in) {
		t.Fatalf("%+v", r)
	}
	// An incomplete tail: the complete packets are returned without a copy, the tail held.
	in2 := cat(pub(mqtt.V311, "a", 0, 0, false, "x"), pub(mqtt.V311, "b", 0, 0, false, "y")[:3])
	r = s.FromClient(in2)
	if r.Unchanged || &r.Out[0] != &in2[0] || len(r.Out) != len(pub(mqtt.V311, "a", 0, 0, false, "x")) {
		t.Fatalf("%+v", r)
	}
}

func TestSession_ProtocolErrors(t *testing.T) {
	v := mqtt.V311
	con, ack := connectPkt(v, "dev1", ""), connackPkt(v)
	for _, c := range []struct {
		name   string
		chunks []chunk
		reason string
	}{
		{"first packet not CONNECT", []chunk{c2b(pingreqPkt)}, "CLIENT_ERROR: protocol error: the first packet is not CONNECT"},
		{"MQTT 3.1", []chunk{c2b(enc(3, mqtt.Packet{Type: mqtt.Connect, ProtocolLevel: 3, ClientID: []byte("dev1")}))},
			"CLIENT_ERROR: protocol error: unsupported protocol version 3 (MQTT 3.1)"},
		{"remaining length", []chunk{c2b(con), b2c(ack), c2b([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01})},
			"CLIENT_ERROR: protocol error: remaining length exceeds 4 bytes"},
		{"too large", []chunk{c2b(con), b2c(ack), c2b(pub(v, "ok/a", 0, 0, false, strings.Repeat("x", 200)))},
			"CLIENT_ERROR: protocol error: packet exceeds the maximum packet size"},
		{"second CONNECT", []chunk{c2b(con), b2c(ack), c2b(con)}, "CLIENT_ERROR: protocol error: second CONNECT"},
		{"SUBACK from the client", []chunk{c2b(con), b2c(ack), c2b(subackPkt(v, 1, 0))}, "CLIENT_ERROR: protocol error: SUBACK sent by the client"},
		{"data after DISCONNECT", []chunk{c2b(con), b2c(ack), c2b(discPkt, pingreqPkt)}, "CLIENT_ERROR: protocol error: PINGREQ after DISCONNECT"},
		{"broker data before CONNECT", []chunk{b2c(ack)}, "SERVER_ERROR: protocol error: the broker sent data before the CONNECT"},
		{"broker SUBSCRIBE", []chunk{c2b(con), b2c(ack, subPkt(v, 1, "a"))}, "SERVER_ERROR: broker protocol error: SUBSCRIBE sent by the broker"},
		{"second CONNACK", []chunk{c2b(con), b2c(ack, ack)}, "SERVER_ERROR: broker protocol error: second CONNACK"},
		{"broker malformed", []chunk{c2b(con), b2c(ack, []byte{0x30, 0x02, 0x00, 0x00})}, "SERVER_ERROR: broker protocol error: malformed PUBLISH: empty topic name"},
		{"broker SUBACK count mismatch", []chunk{c2b(con), b2c(ack), c2b(subPkt(v, 3, "ok/a", "no/b")), b2c(subackPkt(v, 3, 1, 1))},
			"SERVER_ERROR: broker protocol error: SUBACK has more codes than the SUBSCRIBE had filters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, variant := range append(splits(c.chunks), c.chunks) {
				got := play(t, newTLS, Options{DenyAction: DenyReject, MaxPacketBytes: 100}, matrixPolicy, variant)
				if got.status != Close || got.reason != c.reason {
					t.Fatalf("%v\nwant reason %q", got, c.reason)
				}
				if d := got.decisions[len(got.decisions)-1]; !strings.HasPrefix(d, "Disconnect "+c.reason[:strings.Index(c.reason, ":")]) {
					t.Fatalf("last decision %q", d)
				}
			}
		})
	}
	// After Close every call reports Close with the same reason.
	s := New(Options{})
	s.FromClient(pingreqPkt)
	if r := s.FromBroker([]byte{1}); r.Status != Close || r.Reason != ReasonClientError || len(r.Out) != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestSession_Disconnects(t *testing.T) {
	v := mqtt.V5
	ch := []chunk{c2b(connectPkt(v, "dev1", "")), b2c(connackPkt(v)), b2c(enc(v, mqtt.Packet{Type: mqtt.Disconnect, ReasonCode: 0x8b})),
		c2b(discPkt)}
	got := play(t, newTLS, Options{}, matrixPolicy, ch)
	if got.status != Continue || strings.Join(got.decisions, "|") !=
		"Connect iot:Connect dev1 q0|Disconnect SERVER_INITIATED_DISCONNECT|Disconnect CLIENT_INITIATED_DISCONNECT" {
		t.Fatalf("%v", got)
	}
}

// TestSession_TopicAliases: decisions are on the real topic in both directions, and an alias set
// by a dropped PUBLISH is taught to the receiver by the next allowed PUBLISH that uses it.
func TestSession_TopicAliases(t *testing.T) {
	v := mqtt.V5
	pol := testPolicy{Connect: {"dev"}, Publish: {"ok/"}, Receive: {"ok/"}}
	var allowNo bool
	dyn := PolicyFunc(func(a Action, name []byte) bool { return pol.Allow(a, name) || allowNo })
	s := New(Options{DenyAction: DenyReject, MemoEntries: -1})
	var decisions []string
	s.o.OnDecision = func(d Decision) { decisions = append(decisions, fmtDecision(d)) }
	s.FromClient(connectPkt(v, "dev1", ""))
	s.Authorize(dyn)
	s.FromBroker(connackPkt(v))

	// Client: alias 1 = ok/a (allowed, forwarded as is), then alias-only → judged on ok/a.
	in := cat(pubAlias("ok/a", 1, 0, 0, "1"), pubAlias("", 1, 0, 0, "2"))
	if r := s.FromClient(in); !r.Unchanged {
		t.Fatalf("%+v", r)
	}
	// Alias 1 re-set to no/b by a denied publish (dropped); alias-only again → denied on no/b.
	if r := s.FromClient(cat(pubAlias("no/b", 1, 0, 0, "3"), pubAlias("", 1, 0, 0, "4"))); len(r.Out) != 0 {
		t.Fatalf("% x", r.Out)
	}
	// The policy now allows no/b: the alias-only publish must carry the topic, since the broker
	// still maps alias 1 to ok/a.
	allowNo = true
	s.SetPolicy(dyn)
	r := s.FromClient(pubAlias("", 1, 0, 0, "5"))
	if want := pubAlias("no/b", 1, 0, 0, "5"); !bytes.Equal(r.Out, want) {
		t.Fatalf("% x\nwant % x", r.Out, want)
	}
	if r := s.FromClient(pubAlias("", 1, 0, 0, "6")); !r.Unchanged {
		t.Fatal("second alias-only publish should pass as is")
	}
	allowNo = false
	s.SetPolicy(dyn)

	// Broker direction: alias 2 = no/c dropped, then alias-only denied too; then ok/d sets alias 2.
	if r := s.FromBroker(cat(pubAlias("no/c", 2, 0, 0, "7"), pubAlias("", 2, 0, 0, "8"))); len(r.Out) != 0 {
		t.Fatalf("% x", r.Out)
	}
	b := cat(pubAlias("ok/d", 2, 0, 0, "9"), pubAlias("", 2, 0, 0, "10"))
	if r := s.FromBroker(b); !r.Unchanged {
		t.Fatalf("%+v", r)
	}
	want := []string{"Connect iot:Connect dev1 q0",
		"Publish-In iot:Publish ok/a q0", "Publish-In iot:Publish ok/a q0",
		"Publish-In iot:Publish no/b q0 DENIED", "Publish-In iot:Publish no/b q0 DENIED",
		"Publish-In iot:Publish no/b q0", "Publish-In iot:Publish no/b q0",
		"Publish-Out iot:Receive no/c q0 DENIED", "Publish-Out iot:Receive no/c q0 DENIED",
		"Publish-Out iot:Receive ok/d q0", "Publish-Out iot:Receive ok/d q0"}
	if strings.Join(decisions, "|") != strings.Join(want, "|") {
		t.Fatalf("decisions\n%q\nwant\n%q", decisions, want)
	}
}

// TestSession_Memo: repeated names hit the memo; SetPolicy clears it.
func TestSession_Memo(t *testing.T) {
	calls := 0
	allow := true
	pol := PolicyFunc(func(a Action, name []byte) bool { calls++; return allow })
	s := New(Options{DenyAction: DenyReject, MemoEntries: 4})
	s.FromClient(connectPkt(mqtt.V311, "dev1", ""))
	s.Authorize(pol)
	s.FromBroker(connackPkt(mqtt.V311))
	p := pub(mqtt.V311, "a/b", 0, 0, false, "x")
	for i := 0; i < 10; i++ {
		s.FromClient(p)
	}
	if calls != 2 { // Connect, then Publish a/b once
		t.Fatalf("policy calls %d", calls)
	}
	allow = false
	s.SetPolicy(pol)
	if r := s.FromClient(p); len(r.Out) != 0 || calls != 3 {
		t.Fatalf("after SetPolicy: out % x calls %d", r.Out, calls)
	}
	// Bounded: many distinct names never grow it beyond its slots.
	for i := 0; i < 100; i++ {
		s.FromClient(pub(mqtt.V311, fmt.Sprintf("t/%d", i), 0, 0, false, ""))
	}
	if len(s.memo.slots) != 4 {
		t.Fatalf("memo slots %d", len(s.memo.slots))
	}
}

// TestSession_MemoGrows: the memo's table is made at the first memoized decision, not with the
// session (an idle connection holds none), and grows with the names in use up to its bound,
// keeping what it knew: names decided before a growth are still answered without the policy.
func TestSession_MemoGrows(t *testing.T) {
	calls := 0
	pol := PolicyFunc(func(a Action, name []byte) bool { calls++; return true })
	s := New(Options{MemoEntries: 256})
	s.FromClient(connectPkt(mqtt.V311, "dev1", ""))
	s.Authorize(pol)
	s.FromBroker(connackPkt(mqtt.V311))
	if s.memo.slots != nil {
		t.Fatalf("an idle connection holds a memo of %d slots", len(s.memo.slots))
	}
	s.FromClient(pub(mqtt.V311, "t/0", 0, 0, false, ""))
	if n := len(s.memo.slots); n != memoFirstSlots {
		t.Fatalf("memo slots after one name: %d, want %d", n, memoFirstSlots)
	}
	seen := 0
	for n := 1; n <= 64; n *= 2 {
		for ; seen < n; seen++ {
			s.FromClient(pub(mqtt.V311, fmt.Sprintf("t/%d", seen), 0, 0, false, ""))
		}
		before := calls
		for i := 0; i < seen; i++ {
			s.FromClient(pub(mqtt.V311, fmt.Sprintf("t/%d", i), 0, 0, false, ""))
		}
		// A few misses are allowed: the table is 2-way and grows only when a write finds its
		// pair full, so a third name of one pair may evict another; at most a quarter here.
		if miss := calls - before; miss > seen/4 {
			t.Fatalf("%d names, memo of %d slots: %d of them asked the policy again", seen, len(s.memo.slots), miss)
		}
	}
	for i := 0; i < 2000; i++ {
		s.FromClient(pub(mqtt.V311, fmt.Sprintf("u/%d", i), 0, 0, false, ""))
	}
	if n := len(s.memo.slots); n != 256 {
		t.Fatalf("memo slots after 2000 names: %d, want its bound 256", n)
	}
}

func TestSession_NoAllocs(t *testing.T) {
	s := New(Options{})
	s.FromClient(connectPkt(mqtt.V5, "dev1", ""))
	s.Authorize(testPolicy{Connect: {"*"}, Publish: {"*"}, Receive: {"*"}})
	s.FromBroker(connackPkt(mqtt.V5))
	in := cat(pub(mqtt.V5, "devices/dev1/telemetry", 1, 1, false, "x"), pub(mqtt.V5, "devices/dev1/telemetry", 0, 0, false, "y"))
	a := testing.AllocsPerRun(100, func() {
		if r := s.FromClient(in); !r.Unchanged {
			t.Fatal(r)
		}
		if r := s.FromBroker(in); !r.Unchanged {
			t.Fatal(r)
		}
	})
	if a != 0 {
		t.Fatalf("%v allocs per call", a)
	}
}
