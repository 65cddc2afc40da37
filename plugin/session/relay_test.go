//go:build !wasm

package session

import (
	"bytes"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// TestSession_RelayHostileClient: a client that answers the PUBREL standing for a denied PUBLISH
// with garbage is closed for its protocol error (MQTT 5: DISCONNECT through a PINGREQ first) and
// nothing of the garbage reaches the broker; pieces of a PUBCOMP are held until it is whole; a
// broker that floods denied QoS 1 publishes nobody acknowledges is cut at maxPending.
func TestSession_RelayHostileClient(t *testing.T) {
	open := func(v byte) *Session {
		s := New(Options{})
		s.FromClient(connectPkt(v, "dev1", ""))
		s.PendingConnect()
		s.Resume(matrixPolicy)
		s.FromBroker(connackPkt(v))
		return s
	}
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		s := open(v)
		if r := s.FromBroker(pub(v, "no/t", 1, 9, false, "x")); !bytes.Equal(r.Out, ackPkt(v, mqtt.Pubrel, 9, 0)) {
			t.Fatalf("v%d: denied PUBLISH became % x", v, r.Out)
		}
		r := s.FromClient([]byte{0x70, 0x01, 0x00})
		want := map[byte]Status{mqtt.V311: Close, mqtt.V5: Closing}[v]
		if r.Status != want || r.Reason != ReasonClientError || bytes.Contains(r.Out, []byte{0x70}) {
			t.Fatalf("v%d garbage PUBCOMP: %v %q % x", v, r.Status, r.Reason, r.Out)
		}

		// A PUBCOMP cut in pieces: nothing until it is whole, then the PUBACK.
		s = open(v)
		s.FromBroker(pub(v, "no/t", 1, 10, false, "x"))
		comp := ackPkt(v, mqtt.Pubcomp, 10, 0)
		var out []byte
		for i := range comp {
			r := s.FromClient(comp[i : i+1])
			if r.Status != Continue {
				t.Fatalf("v%d split PUBCOMP: %v", v, r.Status)
			}
			out = append(out, r.Out...)
		}
		if !bytes.Equal(out, ackPkt(v, mqtt.Puback, 10, 0)) {
			t.Fatalf("v%d split PUBCOMP became % x", v, out)
		}

		// The same id twice while outstanding is one relay; a later PUBCOMP passes as it is.
		s = open(v)
		s.FromBroker(pub(v, "no/t", 1, 11, false, "x"))
		s.FromBroker(pub(v, "no/t", 1, 11, false, "x"))
		r = s.FromClient(cat(ackPkt(v, mqtt.Pubcomp, 11, 0), ackPkt(v, mqtt.Pubcomp, 11, 0)))
		if !bytes.Equal(r.Out, cat(ackPkt(v, mqtt.Puback, 11, 0), ackPkt(v, mqtt.Pubcomp, 11, 0))) {
			t.Fatalf("v%d duplicate id: % x", v, r.Out)
		}

		s = open(v)
		var last Result
		for id := 1; id <= maxPending+1 && last.Status != Close; id++ {
			last = s.FromBroker(pub(v, "no/t", 1, uint16(id), false, "x"))
		}
		if last.Status != Close || last.Reason != ReasonServerError {
			t.Fatalf("v%d flood of unacknowledged denied publishes: %v %q", v, last.Status, last.Reason)
		}
	}
}
