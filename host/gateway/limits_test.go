package gateway

import (
	"strings"
	"testing"
	"time"
)

// connectPacket is an MQTT 3.1.1 CONNECT whose remaining length takes lenBytes bytes.
func connectPacket(bodyLen int) []byte {
	p := []byte{0x10}
	for n := bodyLen; ; {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		p = append(p, b)
		if n == 0 {
			break
		}
	}
	return append(p, make([]byte, bodyLen)...)
}

func TestFirstPacket_Feed(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"empty body", []byte{0xe0, 0x00}},
		{"1-byte length", connectPacket(12)},
		{"2-byte length", connectPacket(200)},
		{"3-byte length", connectPacket(20000)},
		{"4-byte length", connectPacket(2100000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every split into two reads, and byte by byte for small packets.
			for cut := 0; cut <= len(tc.pkt); cut += max(1, len(tc.pkt)/97) {
				var f firstPacket
				if f.feed(tc.pkt[:cut]) != (cut == len(tc.pkt)) {
					t.Fatalf("cut %d of %d: complete too early", cut, len(tc.pkt))
				}
				if !f.feed(append(tc.pkt[cut:], 0x30, 0x00)) {
					t.Fatalf("cut %d: not complete", cut)
				}
			}
			if len(tc.pkt) < 300 {
				var f firstPacket
				for i := range tc.pkt {
					if got := f.feed(tc.pkt[i : i+1]); got != (i == len(tc.pkt)-1) {
						t.Fatalf("byte %d: complete = %v", i, got)
					}
				}
			}
		})
	}
	t.Run("one byte short", func(t *testing.T) {
		var f firstPacket
		p := connectPacket(500)
		if f.feed(p[:len(p)-1]) {
			t.Fatal("complete one byte short")
		}
	})
	t.Run("malformed length never completes", func(t *testing.T) {
		var f firstPacket
		if f.feed([]byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00}) || f.feed(make([]byte, 1000)) {
			t.Fatal("a five-byte remaining length completed")
		}
	})
}

// wsFrames wraps payload in client frames of at most size bytes each, masked or not, with a
// ping before each data frame.
func wsFrames(payload []byte, size int, masked bool) []byte {
	var out []byte
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	frame := func(op byte, p []byte) {
		out = append(out, 0x80|op)
		m := byte(0)
		if masked {
			m = 0x80
		}
		switch n := len(p); {
		case n < 126:
			out = append(out, m|byte(n))
		case n < 65536:
			out = append(out, m|126, byte(n>>8), byte(n))
		default:
			out = append(out, m|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		if masked {
			out = append(out, key[:]...)
		}
		for i, b := range p {
			if masked {
				b ^= key[i&3]
			}
			out = append(out, b)
		}
	}
	for len(payload) > 0 {
		n := min(size, len(payload))
		frame(0x9, []byte("hi"))
		frame(0x2, payload[:n])
		payload = payload[n:]
	}
	return out
}

func TestWSFirstPacket_Feed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pkt    []byte
		size   int
		masked bool
	}{
		{"one frame, masked", connectPacket(40), 1000, true},
		{"one frame, unmasked", connectPacket(40), 1000, false},
		{"a byte per frame", connectPacket(20), 1, true},
		{"16-bit length", connectPacket(300), 1000, true},
		{"64-bit length", connectPacket(70000), 100000, true},
		{"split header", connectPacket(20000), 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := wsFrames(tc.pkt, tc.size, tc.masked)
			for cut := 0; cut < len(stream); cut += max(1, len(stream)/211) {
				var w wsFirstPacket
				if w.feed(stream[:cut]) {
					t.Fatalf("cut %d of %d: complete too early", cut, len(stream))
				}
				if !w.feed(stream[cut:]) {
					t.Fatalf("cut %d of %d: not complete", cut, len(stream))
				}
			}
			var w wsFirstPacket
			if w.feed(stream[:len(stream)-1]) {
				t.Fatal("complete one byte short")
			}
		})
	}
	t.Run("control frames only", func(t *testing.T) {
		var w wsFirstPacket
		if w.feed([]byte{0x89, 0x80, 1, 2, 3, 4, 0x8a, 0x82, 1, 2, 3, 4, 9, 9}) {
			t.Fatal("pings completed a CONNECT")
		}
	})
}

func TestReadPluginSettings(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   time.Duration
	}{
		{`{}`, 10 * time.Second},
		{`not json`, 10 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":3}}`, 3 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":300}}`, 300 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":0}}`, 10 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":301}}`, 10 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":1.5}}`, 10 * time.Second},
		{`{"mqtt":{"connectTimeoutSeconds":"5"}}`, 10 * time.Second},
	} {
		if got := readPluginSettings([]byte(tc.config)).connectTimeout; got != tc.want {
			t.Errorf("%s: %v, want %v", tc.config, got, tc.want)
		}
	}
	if got := readPluginSettings([]byte(`{"accountId":"123456789012"}`)).accountID; got != "123456789012" {
		t.Errorf("accountId %q", got)
	}
}

// TestGateway_DecisionBudget: past decisionLinesPerSecond lines of one reason in a second, the
// rest are counted and summed up in one line later; other reasons are not affected.
func TestGateway_DecisionBudget(t *testing.T) {
	var lines []string
	g := &Gateway{cfg: Config{Logf: func(f string, a ...any) {
		lines = append(lines, a[0].(string))
	}}}
	// Start at the beginning of a second so that the flood fits in it.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	for i := 0; i < decisionLinesPerSecond+7; i++ {
		g.decide(decision{eventType: "Disconnect", reason: reasonProtocol})
	}
	g.decide(decision{eventType: "Publish-In", reason: reasonPayloadTooLarge})
	if len(lines) != decisionLinesPerSecond+1 {
		t.Fatalf("%d lines in one second, want %d", len(lines), decisionLinesPerSecond+1)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	g.decide(decision{eventType: "Disconnect", reason: reasonProtocol})
	if len(lines) != decisionLinesPerSecond+3 || !strings.Contains(lines[len(lines)-2], `"details":"7 more gateway lines with this reason were suppressed in one second"`) {
		t.Fatalf("after the second: %q", lines[decisionLinesPerSecond+1:])
	}
}
