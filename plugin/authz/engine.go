package authz

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/plugin/token"
)

// verifiedCacheEntries bounds each authorizer's cache of verified (token, signature) pairs.
const verifiedCacheEntries = 4096

// Engine is the authorization of one worker VM: the validated configuration and everything
// the streams of that worker share (verifiers, caches, calls in progress, live MQTT
// connections, the log budget). It is single-threaded, like the VM.
type Engine struct {
	h         Host
	cfg       *config.Config
	arnPrefix string // "arn:aws:iot:REGION:ACCOUNT:"
	verifiers map[string]*token.Verifier
	logLevel  LogLevel
	debugIDs  map[string]struct{}
	logBuf    []byte

	cache   *lru[*decision]
	sets    *lru[compiledSet]  // compiled policy sets, shared by identical answers
	shared  *sharedSlots       // token scope only
	flights map[string]*flight // authorizer calls in progress, by cache key
	conns   map[*Conn]struct{}
	// auths lists the authorizers with their tokenKeyName as a (lower-case) header name; there
	// are a few, so a scan beats a string map. defaultAuth is the one used when none is named.
	auths       []authEntry
	defaultAuth *authEntry
	// endpoints are the data endpoints and domains with their domain configuration (domains.go).
	endpoints []endpoint
	// tokenKeys are the authorizers' tokenKeyNames; usernameKeys the keys stripped from an MQTT
	// username (the x-amz-customauthorizer-* keys and tokenKeys).
	tokenKeys    []string
	usernameKeys []string
	keyBuf       []byte // scratch for cache keys
	failures     failureBudget
	// hitsPending counts cache hits not yet added to iotauthz.cache.hits.
	hitsPending uint64
	// allowedPending counts allowed decisions not yet added to iotauthz.decisions.allowed:
	// one host call per tick instead of one per packet or request.
	allowedPending uint64
	// deny holds the deny paths' pending counters and reply scratch (denycost.go).
	deny denyCounts
	// httpEval is reused by every HTTP publish decision of this VM (one thread, no reentrancy).
	httpEval *evaluator
}

// New validates the plugin configuration raw (DESIGN contract 1) and builds the engine on h.
// It makes no host call: an invalid configuration returns the error naming the field, and
// nothing of it is applied.
func New(raw []byte, h Host) (*Engine, error) {
	cfg, err := config.Parse(raw)
	if err != nil {
		return nil, err
	}
	e := &Engine{h: h, cfg: cfg}
	e.verifiers = make(map[string]*token.Verifier, len(cfg.Authorizers))
	for name, a := range cfg.Authorizers {
		if !a.SigningDisabled {
			e.verifiers[name] = token.NewVerifier(a.Keys, verifiedCacheEntries)
		}
	}
	e.arnPrefix = cfg.ARN("", "")
	e.arnPrefix = e.arnPrefix[:len(e.arnPrefix)-1] // ARN("", "") ends with "/"
	e.logLevel = parseLevel(cfg.Logging.Level)
	e.debugIDs = make(map[string]struct{}, len(cfg.Logging.DebugClientIDs))
	for _, id := range cfg.Logging.DebugClientIDs {
		e.debugIDs[id] = struct{}{}
	}
	e.cache = newLRU[*decision](cfg.Cache.MaxEntries)
	e.sets = newLRU[compiledSet](compiledSets)
	e.auths = make([]authEntry, 0, len(cfg.Authorizers))
	e.usernameKeys = []string{credentials.NameKey, credentials.SignatureKey}
	for _, a := range cfg.Authorizers {
		e.auths = append(e.auths, authEntry{a: a, tokenHeader: strings.ToLower(a.TokenKeyName)})
		if a.TokenKeyName != "" {
			e.tokenKeys = append(e.tokenKeys, a.TokenKeyName)
			e.usernameKeys = append(e.usernameKeys, a.TokenKeyName)
		}
	}
	e.defaultAuth = e.authEntry(cfg.DefaultAuthorizerName)
	e.initEndpoints()
	if cfg.Cache.Scope == config.ScopeToken {
		e.shared = newSharedSlots(cfg.Cache.MaxEntries)
	}
	e.flights = map[string]*flight{}
	e.conns = map[*Conn]struct{}{}
	return e, nil
}

// Config is the validated configuration.
func (e *Engine) Config() *config.Config { return e.cfg }

// Started logs what the engine runs with, once the host has set itself up around it.
func (e *Engine) Started() {
	if e.cfg.Limits.MinInterval < 300 {
		e.logText(LevelWarn, "iotauthz: testOverrides.minIntervalSeconds is set: authorizer intervals below 300 s are accepted (tests only)")
	}
	e.logText(LevelInfo, "iotauthz: configured "+strconv.Itoa(len(e.cfg.Authorizers))+" authorizer(s), cache scope "+string(e.cfg.Cache.Scope))
}

// Tick runs the MQTT connections' deadlines (refresh, disconnect, CONNECT, closing grace) and
// adds what the hot paths counted to the metrics. The host calls it about once a second
// (TickMillis), outside any stream.
func (e *Engine) Tick() {
	now := e.h.Now()
	for c := range e.conns {
		c.onTick(now)
		e.allowedPending += c.sess.TakeAllowedCount()
	}
	e.flushCounts()
	e.flushFailures(e.h.Now())
}

// TickMillis is the period the host calls Tick at.
const TickMillis = 1000

// flushCounts adds what the hot paths counted locally (allowed decisions, cache hits) to the
// metrics: one host call per tick instead of one per request or packet.
func (e *Engine) flushCounts() {
	if e.allowedPending > 0 {
		e.count(MetricAllowed, int64(e.allowedPending))
		e.allowedPending = 0
	}
	if e.hitsPending > 0 {
		e.count(MetricCacheHits, int64(e.hitsPending))
		e.hitsPending = 0
	}
	e.flushDenials()
}

// logText writes a plain (non-decision) log line.
func (e *Engine) logText(level LogLevel, s string) { e.h.Log(level, unsafeBytes(s)) }

func parseLevel(s config.Level) LogLevel {
	switch s {
	case config.LevelTrace:
		return LevelTrace
	case config.LevelDebug:
		return LevelDebug
	case config.LevelWarn:
		return LevelWarn
	case config.LevelError:
		return LevelError
	case config.LevelCritical:
		return LevelCritical
	}
	return LevelInfo
}

func itoa(n int) string { return strconv.Itoa(n) }
