package gatewaybench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/syncbuf"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
	"github.com/iotauthz/iotauthz/refauth"
)

var flagInProcess = flag.Bool("gateway.inprocess", false, "run the gateway of G1 and G2 in this process (for its profiles), not as `iotauthz gateway`")

var flagWasm = flag.String("gateway.wasm", "", "the plugin (dist/iotauthz.wasm); default: built from ../../plugin")

// serverName is the gateway's data endpoint (SNI) and the certificate's name, as in the demo.
const serverName = "localhost"

// The demo's authorizer and token key: the stack is the demo's (package demostack), with the
// bench's rules and a larger cache.
const (
	authorizerName = demostack.Authorizer
	tokenKey       = demostack.TokenKey
)

// rulesFile is the reference authorizer's rules: a token "dev-N" connects as any client ID and
// publishes under bench/N/; every other token is denied.
const rulesFile = "testdata/rules.json"

// pluginConfig is the demo's configuration (demostack.Config: connection-scope cache, denyAction
// disconnect, signed tokens) with room for 10 000 connections' cache entries.
func pluginConfig(publicPEM []byte) []byte {
	cfg := demostack.Config(publicPEM, "disconnect", "info")
	cfg["cache"].(map[string]any)["maxEntries"] = 20000
	b, _ := json.Marshal(cfg)
	return b
}

// stack is what every benchmark shares: one mosquitto (plain listener for the gateway, TLS
// listener for the direct path, the gateway's certificate), the reference authorizer, and the
// gateway of G1 and G2: `iotauthz gateway` in a process of its own (2 workers, its defaults), as
// users run it and as mosquitto runs, so that the operating system shares the CPU between the
// gateway, mosquitto and the load generator, not Go's scheduler between the gateway's goroutines
// and the load generator's; with -gateway.inprocess, the gateway in this process, for CPU and
// heap profiles of it (go test -cpuprofile).
type stack struct {
	dir         string
	module      []byte
	pki         *gatewaytest.PKI
	key         *gatewaytest.SigningKey
	auth        *refauth.Server
	authURL     string
	broker      string           // mosquitto's plain MQTT listener
	directAddr  string           // mosquitto's TLS listener
	gatewayAddr string           // the gateway of G1 and G2
	gw          *gateway.Gateway // with -gateway.inprocess
	mosq        *exec.Cmd
	mosqOut     *syncbuf.Buffer
	logs        syncbuf.Buffer // the plugin's warnings and errors
	closers     []func()

	tokMu  sync.Mutex
	tokens map[int]string // device number → username (signed token)
}

var (
	stackOnce sync.Once
	theStack  *stack
	stackErr  error
)

// getStack starts the shared stack once, or skips when mosquitto is missing.
func getStack(b testing.TB) *stack {
	b.Helper()
	if _, err := os.Stat(mosquittoPath()); err != nil {
		b.Skip("the gateway benchmarks need mosquitto: `make deps` or `apt-get install -y mosquitto`")
	}
	stackOnce.Do(func() { theStack, stackErr = startStack() })
	if stackErr != nil {
		msg := stackErr.Error()
		if theStack != nil && theStack.mosqOut != nil {
			msg += "\nmosquitto:\n" + theStack.mosqOut.String()
		}
		if theStack != nil {
			msg += "\nplugin:\n" + tail(theStack.logs.String(), 20)
		}
		b.Fatal(msg)
	}
	return theStack
}

func mosquittoPath() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	return "/usr/sbin/mosquitto"
}

func startStack() (s *stack, err error) {
	s = &stack{tokens: map[int]string{}}
	s.logs.Max = 1 << 20
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "gatewaybench"); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { os.RemoveAll(s.dir) })
	if *flagWasm != "" {
		s.module, err = os.ReadFile(*flagWasm)
	} else {
		s.module, err = wasmbuild.Build(wasmbuild.Plugin)
	}
	if err != nil {
		return s, err
	}
	if s.pki, err = gatewaytest.NewPKI(serverName, "127.0.0.1"); err != nil {
		return s, err
	}
	if s.key, err = gatewaytest.NewSigningKey(); err != nil {
		return s, err
	}
	ca, cert, key, err := s.pki.WriteFiles(s.dir)
	if err != nil {
		return s, err
	}
	// mosquitto started as root reads its files as user mosquitto: throwaway credentials.
	for _, f := range []string{s.dir, key} {
		if err := os.Chmod(f, 0o755); err != nil {
			return s, err
		}
	}
	if err := s.startMosquitto(ca, cert, key); err != nil {
		return s, err
	}
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		return s, err
	}
	r, err := refauth.Parse(rules)
	if err != nil {
		return s, err
	}
	s.auth = refauth.New(r)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	srv := &http.Server{Handler: s.auth, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.closers = append(s.closers, func() { srv.Close() })
	s.authURL = "http://" + ln.Addr().String()

	if !*flagInProcess {
		bin, err := gatewayBinary(s)
		if err != nil {
			return s, err
		}
		g, err := startChild(s, bin)
		if err != nil {
			return s, err
		}
		s.closers = append(s.closers, g.stop)
		s.gatewayAddr = g.addr
		return s, nil
	}
	s.gw, err = gateway.New(context.Background(), gateway.Config{
		Module:       s.module,
		PluginConfig: pluginConfig(s.key.PublicPEM),
		Workers:      2,
		Clusters:     map[string]string{"authorizer": s.authURL},
		TLS:          s.pki.ServerTLS(),
		Broker:       "tcp://" + s.broker,
		LogLevel:     host.LogInfo,
		LogSink: func(e host.LogEntry) {
			if e.Level >= host.LogWarn {
				s.logs.Write([]byte(e.Level.String() + " " + e.Message + "\n"))
			}
		},
	})
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.gw.Close() })
	gln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	go s.gw.Serve(gln)
	s.gatewayAddr = gln.Addr().String()
	return s, nil
}

// startMosquitto starts mosquitto with a plain and a TLS listener on loopback. Both paths get
// the same broker settings; TCP_NODELAY is on, as Go sets it on the gateway's sockets.
func (s *stack) startMosquitto(ca, cert, key string) error {
	addrs, err := gatewaytest.FreeAddrs(2)
	if err != nil {
		return err
	}
	plain, direct := addrs[0], addrs[1]
	_, plainPort, _ := net.SplitHostPort(plain)
	_, directPort, _ := net.SplitHostPort(direct)
	conf := filepath.Join(s.dir, "mosquitto.conf")
	text := "per_listener_settings false\nallow_anonymous true\npersistence false\nmax_connections -1\n" +
		"set_tcp_nodelay true\nlog_dest stderr\nlog_type error\nlog_type warning\n" +
		"listener " + plainPort + " 127.0.0.1\nprotocol mqtt\n" +
		"listener " + directPort + " 127.0.0.1\nprotocol mqtt\n" +
		"cafile " + ca + "\ncertfile " + cert + "\nkeyfile " + key + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return err
	}
	raiseFileLimit() // mosquitto inherits it: 10 000 connections need as many descriptors
	s.mosqOut = &syncbuf.Buffer{Max: 1 << 20}
	s.mosq = exec.Command(mosquittoPath(), "-c", conf)
	s.mosq.Stdout, s.mosq.Stderr = s.mosqOut, s.mosqOut
	if err := s.mosq.Start(); err != nil {
		return fmt.Errorf("starting mosquitto: %v", err)
	}
	s.closers = append(s.closers, func() { s.mosq.Process.Kill(); s.mosq.Wait() })
	s.broker, s.directAddr = plain, direct
	return gatewaytest.WaitListening(plain, direct)
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// clientTLS is the same client configuration on both paths: the CA, SNI localhost, ALPN
// "mqtt" (mosquitto ignores it, the gateway needs it), no session resumption, and the key
// exchange X25519 then P-256. Go's default would offer the hybrid post-quantum X25519MLKEM768
// first, which the gateway (Go) accepts and mosquitto (OpenSSL 3.0) does not know: the two paths
// would not run the same handshake, and devices today offer X25519 or P-256.
func (s *stack) clientTLS() *tls.Config {
	c := s.pki.ClientTLS(serverName, "mqtt")
	c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	return c
}

// usernames returns the signed usernames of devices 0..n-1, signing those not signed yet, on
// every CPU.
func (s *stack) usernames(n int) []string {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	var missing []int
	for i := 0; i < n; i++ {
		if _, ok := s.tokens[i]; !ok {
			missing = append(missing, i)
		}
	}
	out := make([]string, len(missing))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < len(missing); j += workers {
				tok := "dev-" + strconv.Itoa(missing[j])
				out[j] = gatewaytest.Username("bench", authorizerName, tokenKey, tok, s.key.Sign(tok))
			}
		}()
	}
	wg.Wait()
	for j, i := range missing {
		s.tokens[i] = out[j]
	}
	names := make([]string, n)
	for i := range names {
		names[i] = s.tokens[i]
	}
	return names
}

// openSockets counts the TCP sockets on loopback whose local port is one of ports, in any state
// but LISTEN and TIME_WAIT (/proc/net/tcp: every process of the network namespace).
func openSockets(ports map[int]bool) (int, error) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] == "0A" || f[3] == "06" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err == nil && ports[int(port)] {
			n++
		}
	}
	return n, nil
}

// waitClosed waits (at most 10 s) until no socket is open on the servers at addrs: the previous
// round's connections are gone on the server side too (the gateway's to mosquitto included).
func waitClosed(addrs ...string) error {
	ports := map[int]bool{}
	for _, a := range addrs {
		_, p, _ := net.SplitHostPort(a)
		n, _ := strconv.Atoi(p)
		ports[n] = true
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := openSockets(ports)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sockets still open on %v 10s after the round", n, addrs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if theStack != nil {
		theStack.close()
	}
	os.Exit(code)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
