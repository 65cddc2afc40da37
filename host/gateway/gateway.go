package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/iotauthz/iotauthz/host"
)

// Config configures New. Module, PluginConfig, TLS and Broker are required.
type Config struct {
	// Module is the plugin binary (dist/iotauthz.wasm).
	Module []byte
	// PluginConfig is the plugin configuration JSON (what Envoy puts in the wasm filter's
	// "configuration"), read by proxy_on_configure.
	PluginConfig []byte
	// Workers is the number of worker VMs; connections are spread over them round-robin, as
	// Envoy spreads connections over its worker threads. Default 1.
	Workers int
	// Clusters maps each cluster name the plugin configuration uses (authorizerFunction.cluster)
	// to a base URL, "http://127.0.0.1:9000".
	Clusters map[string]string
	// Handlers are clusters served in process, by name, beside Clusters: for an authorizer given
	// by authorizerFunctionArn, the cluster named by its ARN, served by a Lambda invoker
	// (lambda.Clusters in package host/gateway/lambda). A name in both is an error.
	Handlers map[string]http.Handler
	// TLS is the server's TLS configuration: at least one certificate. The gateway sets
	// NextProtos itself ("mqtt", "http/1.1").
	TLS *tls.Config
	// Broker is the MQTT broker's TCP address for MQTT over TLS: "tcp://host:port",
	// "mqtt://host:port" or "host:port".
	Broker string
	// BrokerWS is the broker's WebSocket endpoint for MQTT over WSS, "ws://host:port/mqtt".
	// Empty: WebSocket upgrades are answered 502 after the plugin let them through.
	BrokerWS string
	// HTTPUpstream is where other HTTP requests the plugin lets through go (HTTPS publish,
	// POST /topics/{topic}), "http://host:port". Empty: they are answered 502.
	HTTPUpstream string
	// LogLevel is the plugin's log level (proxy_get_log_level) and the lowest level kept; the
	// zero value is host.LogTrace (everything).
	LogLevel host.LogLevel
	// LogSink receives each plugin log line as it is written. It must not block for long.
	LogSink func(host.LogEntry)
	// Logf, if set, receives the gateway's own log lines (listener errors, upstream failures).
	Logf func(format string, args ...any)
	// ShutdownGrace bounds how long Shutdown waits for requests and published messages in
	// flight before it closes every connection. Default 10s.
	ShutdownGrace time.Duration
	// ConnectTimeout is the CONNECT deadline: how long a client may take, from the accept, to
	// complete its TLS handshake and then its MQTT CONNECT (ALPN "mqtt") or its first request's
	// headers (HTTPS); a WebSocket gets it again from its upgrade request to its CONNECT. Once
	// the CONNECT is complete it no longer applies (keep-alive is the broker's business). Zero:
	// the plugin configuration's mqtt.connectTimeoutSeconds, else DefaultConnectTimeout (10 s).
	ConnectTimeout time.Duration
	// MaxConnections caps the simultaneous downstream connections. A connection accepted above
	// the cap is closed at once (no TLS handshake), and the gateway logs the first of each
	// episode. Zero: no cap (the process's file-descriptor limit is the bound; accept errors
	// such as EMFILE are retried with a backoff, never fatal).
	MaxConnections int
	// HistogramBuckets are the bounds of the plugin's histograms on the admin listener's
	// /stats/prometheus, as Envoy's stats_config.histogram_bucket_settings. Nil:
	// DefaultHistogramBuckets, what envoy/envoy.yaml sets, so that the gateway's and Envoy's
	// scrapes have the same buckets.
	HistogramBuckets []host.HistogramBuckets
	// Filters is how the network filter (MQTT over TLS) and the HTTP filter (HTTPS publish, MQTT
	// over WSS) share the plugin; the zero value is SharedRootContext, as Envoy runs
	// envoy/envoy.yaml.
	Filters FilterMode
}

// DefaultHistogramBuckets are envoy/envoy.yaml's stats_config.histogram_bucket_settings: the
// authorizer latency in milliseconds, up to AWS's 5 s timeout.
func DefaultHistogramBuckets() []host.HistogramBuckets {
	return []host.HistogramBuckets{{Prefix: "wasmcustom.iotauthz.authorizer.latency_ms",
		Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}}}
}

// FilterMode is how the gateway's two filters run the plugin.
type FilterMode int

const (
	// SharedRootContext: both filters use one plugin, one root context per worker: what Envoy
	// does for envoy/envoy.yaml, whose two filters share the &iotauthz configuration. Envoy keys a
	// worker's root contexts by the plugin key, a hash of root_id, configuration, name, the
	// listener's traffic direction and its metadata (Common::Wasm::Plugin::createPluginKey,
	// proxy_wasm::PluginBase::makePluginKey); those are equal for the two filters, so
	// getOrCreateThreadLocalPlugin hands the second filter the first one's root context.
	SharedRootContext FilterMode = iota
	// SharedVM: two plugins with one vm_id and one code, so each worker runs one module instance
	// with two root contexts (host.Plugin.Join), sharing the module's globals, the vm_id's shared
	// data and one set of stats: what Envoy does for two wasm filters with the same vm_id and
	// code whose plugin keys differ (name, root_id, configuration, traffic direction or
	// listener metadata).
	SharedVM
	// SeparateVMs: the HTTP filter gets VMs of its own (vm_id "iotauthz.http"), as when the two
	// filters name different vm_ids.
	SeparateVMs
)

// Gateway serves MQTT over TLS, HTTPS and MQTT over WSS through the plugin. It is safe for
// concurrent use.
type Gateway struct {
	cfg          Config
	plugin       *host.Plugin // the network filter's plugin (MQTT over TLS)
	httpPlugin   *host.Plugin // the HTTP filter's (Config.Filters): joined to plugin's VMs, plugin itself, or its own
	tls          *tls.Config
	broker       string
	brokerWS     *url.URL
	httpUpstream *url.URL
	transport    *http.Transport

	settings       pluginSettings
	connectTimeout time.Duration
	dlog           decisionLog

	handshakes *handshakeGate // TLS handshakes computing at once

	next    atomic.Uint64 // round-robin worker counter
	connSeq atomic.Uint64 // connection ids (connection.id), one per TCP connection

	mu           sync.Mutex
	listeners    map[net.Listener]struct{}
	admins       map[*http.Server]struct{} // ServeAdmin's servers
	adminsClosed bool
	conns        map[*serverConn]struct{}
	shutting     bool
	done         chan struct{}
	wg           sync.WaitGroup
}

// ErrServerClosed is what Serve returns after Shutdown or Close.
var ErrServerClosed = errors.New("gateway: server closed")

// New loads the plugin (host.New with the real clock, one VM per worker) for the network filter
// and, by default, the HTTP filter too (see Config.Filters for the other ways), and returns a gateway ready to Serve. A plugin configuration the plugin refuses is an error
// here, as Envoy refuses it.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.TLS == nil || (len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil) {
		return nil, errors.New("gateway: Config.TLS needs a certificate")
	}
	if cfg.TLS.GetConfigForClient != nil {
		return nil, errors.New("gateway: Config.TLS.GetConfigForClient is not supported (the gateway sets it to choose ALPN)")
	}
	broker, err := brokerAddr(cfg.Broker)
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, broker: broker, listeners: map[net.Listener]struct{}{},
		admins: map[*http.Server]struct{}{}, conns: map[*serverConn]struct{}{}, done: make(chan struct{})}
	if cfg.BrokerWS != "" {
		if g.brokerWS, err = url.Parse(cfg.BrokerWS); err != nil || (g.brokerWS.Scheme != "ws" && g.brokerWS.Scheme != "http") || g.brokerWS.Host == "" {
			return nil, fmt.Errorf("gateway: BrokerWS %q: want ws://host:port/path", cfg.BrokerWS)
		}
	}
	if cfg.HTTPUpstream != "" {
		if g.httpUpstream, err = url.Parse(cfg.HTTPUpstream); err != nil || g.httpUpstream.Scheme != "http" || g.httpUpstream.Host == "" {
			return nil, fmt.Errorf("gateway: HTTPUpstream %q: want http://host:port", cfg.HTTPUpstream)
		}
	}
	if g.cfg.ShutdownGrace <= 0 {
		g.cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.MaxConnections < 0 {
		return nil, fmt.Errorf("gateway: MaxConnections %d: want 0 (no cap) or more", cfg.MaxConnections)
	}
	g.settings = readPluginSettings(cfg.PluginConfig)
	g.connectTimeout = g.settings.connectTimeout
	if cfg.ConnectTimeout > 0 {
		g.connectTimeout = cfg.ConnectTimeout
	}
	clusters := map[string]host.Cluster{}
	for name, u := range cfg.Clusters {
		clusters[name] = host.Cluster{URL: strings.TrimRight(u, "/")}
	}
	for name, h := range cfg.Handlers {
		if _, dup := clusters[name]; dup || h == nil {
			return nil, fmt.Errorf("gateway: cluster %q: given both as a URL and a handler, or a nil handler", name)
		}
		clusters[name] = host.Cluster{Handler: h}
	}
	hcfg := host.Config{
		Module:       cfg.Module,
		PluginConfig: cfg.PluginConfig,
		VMID:         "iotauthz",
		RootID:       "iotauthz",
		PluginName:   "iotauthz",
		Workers:      cfg.Workers,
		Clock:        host.RealClock(),
		Clusters:     clusters,
		LogLevel:     cfg.LogLevel,
		LogSink:      cfg.LogSink,
	}
	p, err := host.New(ctx, hcfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// The HTTP filter: by default the network filter's plugin (envoy.yaml's &iotauthz anchor
	// gives both the same plugin key); with SharedVM a second root context in each worker's
	// instance.
	var hp *host.Plugin
	switch cfg.Filters {
	case SharedVM:
		hp, err = p.Join(ctx, host.Config{RootID: "iotauthz", PluginName: "iotauthz", PluginConfig: cfg.PluginConfig})
	case SharedRootContext:
		hp = p
	case SeparateVMs:
		hcfg.VMID = "iotauthz.http"
		hp, err = host.New(ctx, hcfg)
	default:
		err = fmt.Errorf("Config.Filters %d: want SharedRootContext, SharedVM or SeparateVMs", cfg.Filters)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("gateway: HTTP filter: %w", err)
	}
	g.plugin, g.httpPlugin = p, hp
	buckets := cfg.HistogramBuckets
	if buckets == nil {
		buckets = DefaultHistogramBuckets()
	}
	for _, pl := range []*host.Plugin{p, hp} {
		if err := pl.SetHistogramBuckets(buckets...); err != nil {
			g.closePlugins()
			return nil, fmt.Errorf("gateway: Config.HistogramBuckets: %w", err)
		}
	}
	g.tls = cfg.TLS.Clone()
	g.tls.NextProtos = []string{"mqtt", "http/1.1"}
	if g.tls.MinVersion == 0 {
		g.tls.MinVersion = tls.VersionTLS12
	}
	// A client offering only protocols we do not speak (no "mqtt", no "http/1.1") gets no ALPN
	// answer and HTTP/1.1, as an Envoy listener whose HTTP filter chain matches any ALPN; Go's
	// default would fail the handshake.
	base := g.tls
	g.handshakes = newHandshakeGate(runtime.GOMAXPROCS(0))
	g.tls = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if gc, ok := hello.Conn.(*gatedConn); ok {
			gc.acquire() // released by the server's first write (handshake.go)
		}
		if len(hello.SupportedProtos) > 0 && !slices.Contains(hello.SupportedProtos, "mqtt") && !slices.Contains(hello.SupportedProtos, "http/1.1") {
			c := base.Clone()
			c.NextProtos = nil
			return c, nil
		}
		return base, nil
	}}
	g.transport = &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return g, nil
}

func brokerAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("gateway: Config.Broker is required")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt") || u.Host == "" {
			return "", fmt.Errorf("gateway: Broker %q: want tcp://host:port", s)
		}
		s = u.Host
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return "", fmt.Errorf("gateway: Broker %q: %v", s, err)
	}
	return s, nil
}

// Plugin is the network filter's plugin (MQTT over TLS): its metrics and logs. By default the
// HTTP filter's plugin shares its VMs, so these are both filters' metrics and logs; with
// Filters SeparateVMs see HTTPPlugin, and WritePrometheus for both.
func (g *Gateway) Plugin() *host.Plugin { return g.plugin }

// HTTPPlugin is the HTTP filter's plugin (HTTPS publish, MQTT over WSS).
func (g *Gateway) HTTPPlugin() *host.Plugin { return g.httpPlugin }

// ListenAndServe listens on addr ("127.0.0.1:8443", ":8443") and serves.
func (g *Gateway) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return g.Serve(ln)
}

// Serve accepts TCP connections on ln, does the TLS handshake and serves each connection as MQTT
// (negotiated ALPN "mqtt") or HTTP/1.1 (anything else). It returns ErrServerClosed after
// Shutdown or Close, or the listener's error when it is permanent.
//
// A temporary accept error (EMFILE or ENFILE when file descriptors run out, ECONNABORTED,
// ENOBUFS, a timeout…) is retried as net/http's Server.Serve does: after 5 ms, doubling up to
// 1 s, while the connections already open go on. The first error of such an episode is logged,
// and its end with how many accepts failed.
func (g *Gateway) Serve(ln net.Listener) error {
	g.mu.Lock()
	if g.shutting {
		g.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	g.listeners[ln] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.listeners, ln)
		g.mu.Unlock()
	}()
	var (
		backoff    time.Duration
		failed     int       // accepts failed in this episode
		failedFrom time.Time // when the episode began
		refused    int       // connections closed above MaxConnections in this episode
	)
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-g.done:
				return ErrServerClosed
			default:
			}
			if !temporary(err) {
				return err
			}
			if failed == 0 {
				failedFrom = time.Now()
				g.logf("gateway: accept: %v; retrying after 5 ms, doubling up to 1 s, while open connections go on (logged once until an accept succeeds)", err)
			}
			failed++
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-g.done:
				return ErrServerClosed
			}
			continue
		}
		if failed > 0 {
			g.logf("gateway: accept works again after %d failed attempts over %v", failed, time.Since(failedFrom).Round(time.Millisecond))
			failed = 0
		}
		backoff = 0
		sc := &serverConn{g: g, raw: c, id: g.connSeq.Add(1), accepted: time.Now()}
		switch g.track(sc) {
		case trackShutdown:
			c.Close()
			return ErrServerClosed
		case trackFull:
			c.Close()
			if refused == 0 {
				g.logf("gateway: %d connections open (MaxConnections): closing new connections at once until one ends (logged once per episode)", g.cfg.MaxConnections)
			}
			refused++
			continue
		}
		if refused > 0 {
			g.logf("gateway: below MaxConnections again; %d connections were closed at once while at the cap", refused)
			refused = 0
		}
		go sc.serve()
	}
}

// temporary reports whether an accept error is worth retrying, as net/http's Server.Serve
// decides: the error says it is temporary (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED,
// ECONNRESET…) or a timeout.
func temporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

const (
	tracked = iota
	trackShutdown
	trackFull
)

func (g *Gateway) track(sc *serverConn) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shutting {
		return trackShutdown
	}
	if g.cfg.MaxConnections > 0 && len(g.conns) >= g.cfg.MaxConnections {
		return trackFull
	}
	g.conns[sc] = struct{}{}
	g.wg.Add(1)
	return tracked
}

func (g *Gateway) untrack(sc *serverConn) {
	g.mu.Lock()
	delete(g.conns, sc)
	g.mu.Unlock()
	g.wg.Done()
}

// vm picks the next worker, round-robin, and returns the network filter's VM on it (MQTT over
// TLS), or the HTTP filter's (httpFilter). Both filters count in one sequence, as Envoy hands
// each connection to one worker whatever its filter chain.
func (g *Gateway) vm(httpFilter bool) *host.VM {
	p := g.plugin
	if httpFilter {
		p = g.httpPlugin
	}
	return p.Worker(int((g.next.Add(1) - 1) % uint64(p.Workers())))
}

func (g *Gateway) logf(format string, args ...any) {
	if g.cfg.Logf != nil {
		g.cfg.Logf(format, args...)
	}
}

// Shutdown stops accepting, then lets what is in flight finish: HTTP requests complete and MQTT
// connections stop reading from their clients, while every byte already read (a PUBLISH waiting
// for the authorizer included) goes through the plugin to the broker and the broker's answers
// come back. Then it closes every connection and the plugin. It waits at most the configured
// ShutdownGrace (or until ctx ends) before closing what remains.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if !g.stopAcceptingLocked() {
		g.mu.Unlock()
		return ErrServerClosed
	}
	conns := make([]*serverConn, 0, len(g.conns))
	for sc := range g.conns {
		conns = append(conns, sc)
	}
	g.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, g.cfg.ShutdownGrace)
	defer cancel()
	for _, sc := range conns {
		sc.drain()
	}
	finished := make(chan struct{})
	go func() { g.wg.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = ctx.Err()
		g.mu.Lock()
		for sc := range g.conns {
			sc.abort()
		}
		g.mu.Unlock()
		<-finished
	}
	g.transport.CloseIdleConnections()
	g.closeAdmins()
	if cerr := g.closePlugins(); err == nil {
		err = cerr
	}
	return err
}

// stopAcceptingLocked, with g.mu held, marks the gateway shutting down and closes its listeners.
// It reports false, doing nothing, when Shutdown or Close did that already.
func (g *Gateway) stopAcceptingLocked() bool {
	if g.shutting {
		return false
	}
	g.shutting = true
	close(g.done)
	for ln := range g.listeners {
		ln.Close()
	}
	return true
}

// closePlugins closes the HTTP filter's plugin, then the network filter's (the VMs they share
// close with the last).
func (g *Gateway) closePlugins() error {
	herr := g.httpPlugin.Close()
	if err := g.plugin.Close(); err != nil {
		return err
	}
	return herr
}

// Close closes the listeners, every connection and the plugin at once.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if !g.stopAcceptingLocked() {
		g.mu.Unlock()
		return nil
	}
	for sc := range g.conns {
		sc.abort()
	}
	g.mu.Unlock()
	g.wg.Wait()
	g.transport.CloseIdleConnections()
	g.closeAdmins()
	return g.closePlugins()
}

// serverConn is one accepted TCP connection.
type serverConn struct {
	g        *Gateway
	raw      net.Conn
	id       uint64
	accepted time.Time

	mu       sync.Mutex
	tls      *tls.Conn
	drainFn  func() // set by the protocol handler: stop reading, finish in flight
	abortFn  func()
	draining bool
}

func (sc *serverConn) serve() {
	defer sc.g.untrack(sc)
	defer sc.raw.Close()
	// The CONNECT deadline starts at the accept: the handshake, then the first request's head
	// or the MQTT CONNECT, must be complete by then. The protocol handler lifts it.
	deadline := sc.accepted.Add(sc.g.connectTimeout)
	gc := &gatedConn{Conn: sc.raw, gate: sc.g.handshakes, deadline: deadline, done: sc.g.done}
	tc := tls.Server(gc, sc.g.tls)
	sc.mu.Lock()
	sc.tls = tc
	sc.abortFn = func() { sc.raw.Close() }
	sc.drainFn = sc.abortFn
	draining := sc.draining
	sc.mu.Unlock()
	if draining {
		return
	}
	_ = sc.raw.SetDeadline(deadline)
	// The handshake runs on a goroutine of its own that ends with it: its deep stack (key
	// exchange, signature) is freed then, instead of staying with this goroutine, which serves
	// the connection for as long as it lives, mostly idle.
	hs := make(chan error, 1)
	go func() { hs <- tc.Handshake() }()
	err := <-hs
	gc.release() // a handshake that failed before its first write
	if err != nil {
		if isTimeout(err) && !sc.isDraining() {
			sc.g.decide(decision{eventType: "Disconnect", reason: reasonProtocol, disconnectReason: "CLIENT_ERROR",
				source: sc.raw.RemoteAddr(), details: "TLS handshake not complete within " + sc.g.connectTimeout.String() + " of the accept (mqtt.connectTimeoutSeconds)"})
			return
		}
		sc.g.logf("gateway: TLS handshake from %s: %v", sc.raw.RemoteAddr(), err)
		return
	}
	_ = sc.raw.SetWriteDeadline(time.Time{})
	cs := tc.ConnectionState()
	props := host.Properties{
		SNI:                cs.ServerName,
		SourceAddress:      sc.raw.RemoteAddr().String(),
		DestinationAddress: sc.raw.LocalAddr().String(),
		ConnectionID:       sc.id,
		Extra: map[string][]byte{
			host.PropertyPath("connection", "tls_version"): []byte(tlsVersion(cs.Version)),
		},
	}
	if cs.NegotiatedProtocol == "mqtt" {
		serveMQTT(sc, tc, props)
		return
	}
	serveHTTP(sc, tc, props)
}

// setHandlers installs the protocol's drain and abort; it reports false when a shutdown began
// before (the caller then stops).
func (sc *serverConn) setHandlers(drain, abort func()) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.drainFn, sc.abortFn = drain, abort
	return !sc.draining
}

func (sc *serverConn) drain() {
	sc.mu.Lock()
	sc.draining = true
	f := sc.drainFn
	sc.mu.Unlock()
	if f != nil {
		f()
	}
}

// liftDeadline clears the CONNECT deadline on c, unless a drain has set its own deadline (then
// it stays, or is set again, so that the drain is not undone).
func (sc *serverConn) liftDeadline(c net.Conn) {
	_ = c.SetReadDeadline(time.Time{})
	if sc.isDraining() {
		_ = c.SetReadDeadline(time.Now())
	}
}

func (sc *serverConn) isDraining() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.draining
}

func (sc *serverConn) abort() {
	sc.mu.Lock()
	f := sc.abortFn
	sc.mu.Unlock()
	if f != nil {
		f()
	} else {
		sc.raw.Close()
	}
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return ""
}
