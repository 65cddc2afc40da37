package main

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/token"
)

// tickMillis is the period of proxy_on_tick, which drives MQTT refresh and disconnect timers.
const tickMillis = 1000

// verifiedCacheEntries bounds each authorizer's cache of verified (token, signature) pairs.
const verifiedCacheEntries = 4096

type vmContext struct {
	proxywasm.DefaultVMContext
}

// OnVMStart implements proxywasm.VMContext.
func (*vmContext) OnVMStart(int) bool { return true }

// NewPluginContext implements proxywasm.VMContext.
func (*vmContext) NewPluginContext(id uint32) proxywasm.PluginContext {
	return &pluginContext{id: id}
}

// pluginContext is the root context of one worker VM: the validated configuration and
// everything shared by the streams of that worker.
type pluginContext struct {
	proxywasm.DefaultPluginContext
	id        uint32
	cfg       *config.Config
	arnPrefix string // "arn:aws:iot:REGION:ACCOUNT:"
	verifiers map[string]*token.Verifier
	m         metrics
	logLevel  proxywasm.LogLevel
	debugIDs  map[string]struct{}
	logBuf    []byte

	cache   *lru[*decision]
	sets    *lru[compiledSet]  // compiled policy sets, shared by identical answers
	shared  *sharedSlots       // token scope only
	flights map[string]*flight // authorizer calls in progress, by cache key
	conns   map[uint32]*mqttConn
	// auths lists the authorizers with their tokenKeyName as a (lower-case) header name; there
	// are a few, so a scan beats a string map. defaultAuth is the one used when none is named.
	auths       []authEntry
	defaultAuth *authEntry
	keyBuf      []byte      // scratch for cache keys
	hdrBuf      [][2]string // scratch for the request headers (the strings are each request's own)
	sni         sniMemo     // SNI by downstream connection id
	failures    failureBudget
	// hitsPending counts cache hits not yet added to iotauthz.cache.hits.
	hitsPending uint64
	// allowedPending counts allowed MQTT packets not yet added to iotauthz.decisions.allowed:
	// one host call per tick instead of one per packet.
	allowedPending uint64
	// freeStreams are finished HTTP streams nothing refers to any more, for reuse.
	freeStreams []*httpStream
	// httpEval is reused by every HTTP publish decision of this VM (one thread, no reentrancy).
	httpEval *evaluator
}

// OnPluginStart implements proxywasm.PluginContext. An invalid configuration is refused with one
// log line naming the field; nothing of it is applied.
func (p *pluginContext) OnPluginStart(int) bool {
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && err != proxywasm.ErrNotFound {
		proxywasm.LogCritical("iotauthz: cannot read the plugin configuration: " + err.Error())
		return false
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		proxywasm.LogCritical("iotauthz: configuration rejected: " + err.Error())
		return false
	}
	m, err := defineMetrics()
	if err != nil {
		proxywasm.LogCritical("iotauthz: cannot define metrics: " + err.Error())
		return false
	}
	verifiers := make(map[string]*token.Verifier, len(cfg.Authorizers))
	for name, a := range cfg.Authorizers {
		if !a.SigningDisabled {
			verifiers[name] = token.NewVerifier(a.Keys, verifiedCacheEntries)
		}
	}
	if err := proxywasm.SetTickPeriodMilliSeconds(tickMillis); err != nil {
		proxywasm.LogCritical("iotauthz: cannot set the tick period: " + err.Error())
		return false
	}
	p.cfg = cfg
	p.arnPrefix = cfg.ARN("", "")
	p.arnPrefix = p.arnPrefix[:len(p.arnPrefix)-1] // ARN("", "") ends with "/"
	p.verifiers = verifiers
	p.m = m
	p.logLevel = parseLevel(cfg.Logging.Level)
	p.debugIDs = make(map[string]struct{}, len(cfg.Logging.DebugClientIDs))
	for _, id := range cfg.Logging.DebugClientIDs {
		p.debugIDs[id] = struct{}{}
	}
	p.cache = newLRU[*decision](cfg.Cache.MaxEntries)
	p.sets = newLRU[compiledSet](compiledSets)
	p.auths = make([]authEntry, 0, len(cfg.Authorizers))
	for _, a := range cfg.Authorizers {
		p.auths = append(p.auths, authEntry{a: a, tokenHeader: strings.ToLower(a.TokenKeyName)})
	}
	p.defaultAuth = p.authEntry(cfg.DefaultAuthorizerName)
	if cfg.Cache.Scope == "token" {
		p.shared = newSharedSlots(cfg.Cache.MaxEntries)
	}
	p.flights = map[string]*flight{}
	p.conns = map[uint32]*mqttConn{}
	if cfg.Limits.MinInterval < 300 {
		proxywasm.LogWarn("iotauthz: testOverrides.minIntervalSeconds is set: authorizer intervals below 300 s are accepted (tests only)")
	}
	proxywasm.LogInfo("iotauthz: configured " + strconv.Itoa(len(cfg.Authorizers)) + " authorizer(s), cache scope " + cfg.Cache.Scope)
	return true
}

// OnTick implements proxywasm.PluginContext: MQTT refresh and disconnect deadlines.
func (p *pluginContext) OnTick() {
	now := nowNanos()
	for _, c := range p.conns {
		c.onTick(now)
		p.allowedPending += c.sess.TakeAllowedCount()
	}
	p.flushCounts()
	p.flushFailures(proxywasm.GetCurrentTimeNanoseconds())
}

// flushCounts adds what the hot paths counted locally (allowed decisions, cache hits) to the
// metrics: one host call per tick instead of one per request or packet.
func (p *pluginContext) flushCounts() {
	if p.allowedPending > 0 {
		p.m.allowed.Increment(p.allowedPending)
		p.allowedPending = 0
	}
	if p.hitsPending > 0 {
		p.m.cacheHits.Increment(p.hitsPending)
		p.hitsPending = 0
	}
}

// NewHttpContext implements proxywasm.PluginContext.
func (p *pluginContext) NewHttpContext(id uint32) proxywasm.HttpContext {
	if n := len(p.freeStreams); n > 0 {
		s := p.freeStreams[n-1]
		p.freeStreams = p.freeStreams[:n-1]
		*s = httpStream{p: p, id: id}
		return s
	}
	return &httpStream{p: p, id: id}
}

// NewTcpContext implements proxywasm.PluginContext.
func (p *pluginContext) NewTcpContext(id uint32) proxywasm.TcpContext {
	return &tcpConn{p: p, id: id}
}

func parseLevel(s string) proxywasm.LogLevel {
	switch s {
	case "trace":
		return proxywasm.LogLevelTrace
	case "debug":
		return proxywasm.LogLevelDebug
	case "warn":
		return proxywasm.LogLevelWarn
	case "error":
		return proxywasm.LogLevelError
	case "critical":
		return proxywasm.LogLevelCritical
	}
	return proxywasm.LogLevelInfo
}

func nowNanos() int64 { return proxywasm.GetCurrentTimeNanoseconds() }

var (
	_ proxywasm.VMContext     = (*vmContext)(nil)
	_ proxywasm.PluginContext = (*pluginContext)(nil)
)

func itoa(n int) string { return strconv.Itoa(n) }
