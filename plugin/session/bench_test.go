package session

import (
	"strconv"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

// arnPolicy stands in for the lead's policy evaluation: it builds the resource ARN and matches it
// against Allow and Deny patterns with IAM-style '*' wildcards, explicit deny first.
type arnPolicy struct {
	allow, deny []string
	buf         []byte
}

func (p *arnPolicy) Allow(a Action, name []byte) bool {
	p.buf = append(p.buf[:0], "arn:aws:iot:us-east-1:123456789012:"...)
	switch a {
	case Connect:
		p.buf = append(p.buf, "client/"...)
	case Subscribe:
		p.buf = append(p.buf, "topicfilter/"...)
	default:
		p.buf = append(p.buf, "topic/"...)
	}
	p.buf = append(p.buf, name...)
	for _, d := range p.deny {
		if glob(d, p.buf) {
			return false
		}
	}
	for _, al := range p.allow {
		if glob(al, p.buf) {
			return true
		}
	}
	return false
}

// glob matches s against pattern with '*' (any run, '/' included).
func glob(pattern string, s []byte) bool {
	px, sx, nextPx, nextSx := 0, 0, -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; {
			case c == '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case sx < len(s) && s[sx] == c:
				px++
				sx++
				continue
			}
		}
		if nextPx >= 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func newARNPolicy() *arnPolicy {
	return &arnPolicy{
		allow: []string{
			"arn:aws:iot:us-east-1:123456789012:client/dev1",
			"arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/*",
			"arn:aws:iot:us-east-1:123456789012:topicfilter/devices/dev1/*",
			"arn:aws:iot:us-east-1:123456789012:topic/broadcast/*",
		},
		deny: []string{"arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/secret*"},
	}
}

func TestARNPolicy(t *testing.T) {
	p := newARNPolicy()
	for _, c := range []struct {
		a    Action
		name string
		want bool
	}{
		{Connect, "dev1", true}, {Connect, "dev2", false}, {Publish, "devices/dev1/telemetry/3", true},
		{Publish, "devices/dev1/secret/x", false}, {Publish, "devices/dev2/t", false}, {Receive, "broadcast/all", true},
	} {
		if got := p.Allow(c.a, []byte(c.name)); got != c.want {
			t.Errorf("%v %s = %v", c.a, c.name, got)
		}
	}
}

// BenchmarkSessionPublish: 100 PUBLISH packets (QoS 0 and 1 alternating, 10 topics, 64-byte
// payloads) in one FromClient call, as in one Envoy downstream callback. ns/packet is the figure
// the wasm benchmark compares against.
func BenchmarkSessionPublish(b *testing.B) {
	for _, v := range []byte{mqtt.V311, mqtt.V5} {
		for _, c := range []struct {
			name string
			pol  func() Policy
			memo int
		}{
			{"allow-all", func() Policy { return allowAll }, -1},
			{"arn-policy-memo", func() Policy { return newARNPolicy() }, 0},
			{"arn-policy-no-memo", func() Policy { return newARNPolicy() }, -1},
		} {
			b.Run("v"+strconv.Itoa(int(v))+"/"+c.name, func(b *testing.B) {
				benchPublish(b, func(o Options) processor { return New(o) }, v, c.pol(), c.memo, false)
			})
		}
	}
	b.Run("wss/v4/arn-policy-memo", func(b *testing.B) {
		benchPublish(b, func(o Options) processor { return NewWS(o) }, mqtt.V311, newARNPolicy(), 0, true)
	})
}

func benchPublish(b *testing.B, newP func(Options) processor, v byte, pol Policy, memo int, ws bool) {
	decisions := 0
	s := newP(Options{MemoEntries: memo, OnDecision: func(d Decision) { decisions++ }})
	wrap := func(client bool, p []byte) []byte {
		if ws {
			return wsWire(client, p)
		}
		return p
	}
	if r := s.FromClient(wrap(true, connectPkt(v, "dev1", ""))); r.Status != NeedAuth {
		b.Fatal(r)
	}
	s.Authorize(pol)
	s.FromBroker(wrap(false, connackPkt(v)))
	var in []byte
	payload := string(make([]byte, 64))
	for i := 0; i < 100; i++ {
		topic := "devices/dev1/telemetry/" + strconv.Itoa(i%10)
		in = append(in, wrap(true, pub(v, topic, byte(i%2), uint16(i+1), false, payload))...)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	lockThread()
	defer unlockThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		if r := s.FromClient(in); !r.Unchanged {
			b.Fatal(r.Status, r.Details)
		}
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/packet")
	if cpu0 >= 0 {
		// CPU time of this thread only: stable when the machine is shared (rusage has µs-level
		// granularity, so use -benchtime of at least 10000x).
		b.ReportMetric(float64(cpu)/float64(b.N)/100, "cpu-ns/packet")
	}
}
