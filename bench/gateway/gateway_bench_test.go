package gatewaybench

import (
	"crypto/tls"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Sizes of the throughput benchmark: clients publishing at once, each with window QoS 1
// messages unacknowledged at most, of payloadBytes each.
const (
	tpClients    = 8
	tpWindow     = 16
	payloadBytes = 100
)

// connectors is how many clients BenchmarkGatewayConnect200 connects at once.
const connectors = 200

// path is where a benchmark's clients connect: mosquitto's TLS listener, or the gateway in front
// of mosquitto's plain listener.
type path struct{ name, addr string }

func (s *stack) paths() []path {
	return []path{{"direct", s.directAddr}, {"gateway", s.gatewayAddr}}
}

var clientSeq atomic.Uint64

func nextID(prefix string) string { return prefix + strconv.FormatUint(clientSeq.Add(1), 10) }

// flagMessages is how many QoS 1 messages one op of BenchmarkGatewayThroughput publishes.
var flagMessages = flag.Int("gateway.messages", 20000, "QoS 1 messages per op of BenchmarkGatewayThroughput")

// BenchmarkGatewayThroughput is G1: sustained QoS 1 messages per second, tpClients clients at
// once each keeping tpWindow PUBLISHes in flight, over direct TLS to mosquitto and through the
// gateway to the same mosquitto; one op is flagMessages messages acknowledged, so that both
// benchmarks of G1 and G2 run with one -benchtime (scripts/bench.sh runs them with -count 1, six
// times, so that direct and gateway alternate: -count would run each one's runs in a row). Every message must get its
// PUBACK (each client checks every packet identifier), or the benchmark fails.
func BenchmarkGatewayThroughput(b *testing.B) {
	s := getStack(b)
	users := s.usernames(tpClients)
	payload := make([]byte, payloadBytes)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	for _, p := range s.paths() {
		b.Run(p.name, func(b *testing.B) {
			clients := make([]*client, tpClients)
			for i := range clients {
				c, err := dialMQTT(p.addr, s.clientTLS(), nextID("tp-"), users[i], 300, 16<<10, time.Now().Add(30*time.Second))
				if err != nil {
					b.Fatalf("%s: connect: %v", p.name, err)
				}
				clients[i] = c
			}
			if err := sameHandshake(clients[0]); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			defer func() {
				for _, c := range clients {
					c.disconnect()
				}
			}()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, tpClients)
			for i, c := range clients {
				total := b.N * *flagMessages
				n := total / tpClients
				if i < total%tpClients {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					topic := "bench/" + strconv.Itoa(i) + "/t"
					errs[i] = c.publishQoS1(topic, payload, n, tpWindow, time.Now().Add(5*time.Minute))
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			for i, err := range errs {
				if err != nil {
					b.Fatalf("%s: client %d: %v", p.name, i, err)
				}
			}
			b.ReportMetric(float64(b.N**flagMessages)/elapsed.Seconds(), "msg/s")
		})
	}
}

// BenchmarkGatewayConnect200 is G2: connectors clients connect at once (TCP, TLS handshake,
// CONNECT, CONNACK 0), over direct TLS and through the gateway; one op is one such round. It
// reports each connect's latency percentiles over every round (p50-ms, p90-ms, p99-ms) and the
// authorizer calls per connect. A connect that does not get CONNACK 0 fails the benchmark.
func BenchmarkGatewayConnect200(b *testing.B) {
	s := getStack(b)
	users := s.usernames(connectors)
	for _, p := range s.paths() {
		b.Run(p.name, func(b *testing.B) {
			var lat []time.Duration
			hits0 := s.auth.Hits()
			b.ResetTimer()
			for range b.N {
				l, clients, err := connectRound(s, p.addr, users)
				b.StopTimer()
				for _, c := range clients {
					if c != nil {
						c.disconnect()
					}
				}
				if err != nil {
					b.Fatalf("%s: %v", p.name, err)
				}
				if err := sameHandshake(clients[0]); err != nil {
					b.Fatalf("%s: %v", p.name, err)
				}
				lat = append(lat, l...)
				// The next round starts once the server has closed this round's sockets (the
				// gateway's to mosquitto too).
				if err := waitClosed(p.addr, s.broker); err != nil {
					b.Fatalf("%s: %v", p.name, err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			for _, q := range []struct {
				unit string
				p    float64
			}{{"p50-ms", 0.50}, {"p90-ms", 0.90}, {"p99-ms", 0.99}} {
				b.ReportMetric(float64(lat[int(q.p*float64(len(lat)-1))])/1e6, q.unit)
			}
			b.ReportMetric(float64(s.auth.Hits()-hits0)/float64(b.N*connectors), "authz-calls/connect")
		})
	}
}

// connectRound connects every user at once and returns each connect's latency (dial to
// CONNACK) and the clients.
func connectRound(s *stack, addr string, users []string) ([]time.Duration, []*client, error) {
	lat := make([]time.Duration, len(users))
	clients := make([]*client, len(users))
	errs := make([]error, len(users))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			clients[i], errs[i] = dialMQTT(addr, s.clientTLS(), nextID("c-"), u, 300, 512, t0.Add(30*time.Second))
			lat[i] = time.Since(t0)
		}()
	}
	close(start)
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			failed++
		}
	}
	if failed > 0 {
		return nil, clients, fmt.Errorf("%d of %d connects failed, first: %v", failed, len(users), first)
	}
	return lat, clients, nil
}

// fdHeadroom is the descriptors the gateway holds besides its connections': its connections to
// the authorizer (up to 1024, as Envoy's default circuit breaker; a storm opens many), listeners,
// the module file, stdio.
const fdHeadroom = 1024 + 176

// flagIdle is how many connections BenchmarkGatewayIdle10k opens.
var flagIdle = flag.Int("gateway.idle", 10000, "connections BenchmarkGatewayIdle10k opens through the gateway")

// BenchmarkGatewayIdle10k is G3 and the reconnect storm: flagIdle devices (10 000), each with
// its own signed token, connect at once through `iotauthz gateway` run as a child process (so
// that its RSS is the gateway's alone, not the load generator's), and stay connected, idle. It
// reports the gateway's RSS growth per connection (KiB/conn, from /proc/PID/status VmRSS once it
// has settled, against the gateway warmed by a few connects), the time until every device had
// its CONNACK 0 (s-to-all; a device whose connect fails, because the gateway or the authorizer is
// overloaded, tries again after 1-3 s, as devices do: retries/connect), the gateway's CPU time
// per connect, and the authorizer calls per connect, and the number of connections (conns). One op is one storm on a fresh gateway. The
// gateway needs two descriptors per connection: where the hard limit cannot be raised to that,
// it opens as many as fit if that is at least 90% of flagIdle, and is skipped otherwise.
func BenchmarkGatewayIdle10k(b *testing.B) {
	s := getStack(b)
	n := *flagIdle
	if lim := int(raiseFileLimit()); lim < 2*n+fdHeadroom {
		// The gateway needs two descriptors per connection (client and broker). Where the hard
		// limit cannot be raised (no CAP_SYS_RESOURCE), measure as many as fit, if that is
		// still most of n; the conns metric says how many.
		fit := (lim - fdHeadroom) / 2
		if fit < n*9/10 {
			b.Skipf("RLIMIT_NOFILE is %d and cannot be raised to %d (root with CAP_SYS_RESOURCE raises the hard limit): the gateway needs two descriptors per connection, and %d connections are too few to stand for %d", lim, 2*n+fdHeadroom, fit, n)
		}
		b.Logf("RLIMIT_NOFILE is %d and cannot be raised: %d connections instead of %d", lim, fit, n)
		n = fit
	}
	users := s.usernames(n)
	bin, err := gatewayBinary(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		g, err := startChild(s, bin)
		if err != nil {
			b.Fatal(err)
		}
		// Warm: a few connects, so that the baseline holds the compiled plugin, its caches and
		// the runtime's first allocations, as a gateway that has served a while.
		for i := range 20 {
			c, err := dialMQTT(g.addr, s.clientTLS(), nextID("warm-"), users[i], 300, 512, time.Now().Add(30*time.Second))
			if err != nil {
				g.stop()
				b.Fatalf("warm-up connect: %v\n%s", err, tail(g.out.String(), 20))
			}
			c.disconnect()
		}
		if err := waitClosed(g.addr); err != nil {
			g.stop()
			b.Fatal(err)
		}
		before, _ := g.settledRSS()
		cpu0 := g.cpuTime()
		hits0 := s.auth.Hits()
		b.StartTimer()

		start := time.Now()
		clients := make([]*client, n)
		errs := make([]error, n)
		var retries atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				clients[i], errs[i] = stormConnect(g.addr, s, users[i], start.Add(3*time.Minute), &retries)
			}()
		}
		wg.Wait()
		toAll := time.Since(start)
		b.StopTimer()

		failed, first := 0, error(nil)
		for _, err := range errs {
			if err != nil {
				if first == nil {
					first = err
				}
				failed++
			}
		}
		after, err := g.settledRSS()
		cpu := g.cpuTime() - cpu0
		hits := s.auth.Hits() - hits0
		for _, c := range clients {
			if c != nil {
				c.disconnect()
			}
		}
		out := g.out.String()
		g.stop()
		if failed > 0 {
			b.Fatalf("%d of %d connects failed, first: %v\ngateway (but its lines of successful connects):\n%s", failed, n, first, tail(withoutSuccess(out), 30))
		}
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(after-before)/float64(n), "KiB/conn")
		b.ReportMetric(toAll.Seconds(), "s-to-all")
		b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(n), "gateway-cpu-ms/connect")
		b.ReportMetric(float64(hits)/float64(n), "authz-calls/connect")
		b.ReportMetric(float64(after), "gateway-RSS-KiB")
		b.ReportMetric(float64(n), "conns")
		b.ReportMetric(float64(retries.Load())/float64(n), "retries/connect")
		if err := waitClosed(s.broker); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// withoutSuccess is the gateway's output without the decision lines of successful connects.
func withoutSuccess(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, `"status":"Success"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// stormConnect connects one device of the storm as a device does: when a connect fails (the
// gateway or its authorizer overloaded: a timeout, a refusal, a close), it tries again after a
// random 1-3 s, until deadline. Each retry counts in retries.
func stormConnect(addr string, s *stack, user string, deadline time.Time, retries *atomic.Int64) (*client, error) {
	for {
		c, err := dialMQTT(addr, s.clientTLS(), nextID("idle-"), user, 1200, 64, deadline)
		if err == nil {
			return c, nil
		}
		wait := time.Second + time.Duration(rand.Int64N(int64(2*time.Second)))
		if time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		retries.Add(1)
		time.Sleep(wait)
	}
}

// sameHandshake checks that c's TLS handshake is the one both paths must run (clientTLS): TLS
// 1.3, with a key exchange of clientTLS's (the client offers no other).
func sameHandshake(c *client) error {
	if v := c.conn.ConnectionState().Version; v != tls.VersionTLS13 {
		return fmt.Errorf("TLS handshake %s, want TLS 1.3 on both paths", tls.VersionName(v))
	}
	return nil
}
