package main

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
)

// maxResponseBytes bounds the authorizer's answer: 10 documents of 2048 characters and a context
// fit easily; anything larger is refused.
const maxResponseBytes = 64 << 10

// authRequest is one question to the authorizer.
type authRequest struct {
	auth  *config.Authorizer
	event authorizer.Event
	// key is the cache and single-flight key; "" means neither (AWS's default: one call per
	// request or connection).
	key string
	// tokenScoped: key is shared by all connections and all VMs (cache.scope "token").
	tokenScoped bool
	// force skips the cache (MQTT refresh); the answer still updates it.
	force bool
}

// outcome is the answer for one request: a decision, or a denial.
type outcome struct {
	d     *decision
	den   *denial
	stale bool // served from an expired entry under staleIfErrorSeconds
}

// waiter receives the outcome of a call it waited for. It runs inside
// proxy_on_http_call_response with the root context effective.
type waiter func(outcome)

// flight is one authorizer call in progress and the streams waiting for it.
type flight struct {
	key     string
	req     *authRequest
	started int64
	waiters []waiter
}

// decide answers r from the cache when it can, joins a call in progress for the same key, or
// calls the authorizer. It returns (outcome, false) when the answer is known now, and (_, true)
// when w will be called later.
func (p *pluginContext) decide(r *authRequest, w waiter) (outcome, bool) {
	now := nowNanos()
	if r.key != "" {
		if !r.force {
			if d := p.cached(r.key, r.tokenScoped, now); d != nil {
				return outcome{d: d}, false
			}
		}
		if f := p.flights[r.key]; f != nil {
			f.waiters = append(f.waiters, w)
			return outcome{}, true
		}
		p.m.cacheMisses.Increment(1)
	}
	body := r.event.AppendJSON(make([]byte, 0, 512))
	headers := [][2]string{
		{":method", "POST"},
		{":path", r.auth.Path},
		{":authority", r.auth.Authority},
		{"content-type", "application/json"},
	}
	f := &flight{key: r.key, req: r, started: now, waiters: []waiter{w}}
	p.m.calls.Increment(1)
	_, err := proxywasm.DispatchHttpCall(r.auth.Cluster, headers, body, nil, uint32(r.auth.TimeoutMillis),
		func(numHeaders, bodySize, _ int) { p.onAuthorizerResponse(f, numHeaders, bodySize) })
	if err != nil {
		p.m.callErrors.Increment(1)
		return p.failed(r.key, &denial{reasonCallFailed, "cannot call cluster " + quote(r.auth.Cluster) + ": " + err.Error()}), false
	}
	if r.key != "" {
		p.flights[r.key] = f
	}
	return outcome{}, true
}

// cached returns a fresh decision for key from this VM's cache or, in token scope, from the
// answer another VM stored in shared data; nil when there is none. key may be a view of a scratch
// buffer: it is only looked up, and copied before it is stored.
func (p *pluginContext) cached(key string, tokenScoped bool, now int64) *decision {
	if d, ok := p.cache.get(key); ok && now < d.expiresAt {
		p.hitsPending++
		return d
	}
	if tokenScoped && p.shared != nil {
		if d := p.loadShared(key, now); d != nil {
			p.hitsPending++
			p.m.sharedHits.Increment(1)
			return d
		}
	}
	return nil
}

// cacheKeyBytes is the cache and single-flight key of a request, and whether it is shared by
// every connection and VM (cache.scope "token"); nil when decisions are not reused (AWS's
// default: MQTT connections hold their own, HTTP calls per request). It holds the authorizer, the
// token and the signature, so a hit stands for exactly these credentials, verified before. The
// bytes are the VM's scratch buffer: valid until the next call.
func (p *pluginContext) cacheKeyBytes(a *config.Authorizer, c *presented, httpPublish bool, conn uint64) ([]byte, bool) {
	if c.token == "" {
		return nil, false // signing disabled and no token: the authorizer decides from other inputs
	}
	b := p.keyBuf[:0]
	scoped := false
	switch {
	case p.cfg.Cache.Scope == "token":
		b, scoped = append(b, 't'), true
	case httpPublish && a.EnableCachingForHTTP:
		b = append(b, 'h')
		b = strconv.AppendUint(b, conn, 10)
	default:
		return nil, false
	}
	b = append(b, 0)
	b = append(b, a.Name...)
	b = append(b, 0)
	b = append(b, c.token...)
	b = append(b, 0)
	b = append(b, c.signature...)
	p.keyBuf = b
	return b, scoped
}

// cacheKey is cacheKeyBytes as a string of its own.
func (p *pluginContext) cacheKey(a *config.Authorizer, c *presented, httpPublish bool, conn uint64) (string, bool) {
	b, scoped := p.cacheKeyBytes(a, c, httpPublish, conn)
	if b == nil {
		return "", false
	}
	return string(b), scoped
}

// onAuthorizerResponse runs in proxy_on_http_call_response: it turns the answer into an outcome
// and hands it to every waiting stream.
func (p *pluginContext) onAuthorizerResponse(f *flight, numHeaders, bodySize int) {
	if f.key != "" && p.flights[f.key] == f {
		delete(p.flights, f.key)
	}
	now := nowNanos()
	if ms := (now - f.started) / 1e6; ms >= 0 {
		p.m.callLatency.Record(uint64(ms))
	}
	o := p.readResponse(f, numHeaders, bodySize, now)
	for _, w := range f.waiters {
		w(o)
	}
	// The callback may have switched the effective context; give it back to the root.
	_ = proxywasm.SetEffectiveContext(p.id)
}

func (p *pluginContext) readResponse(f *flight, numHeaders, bodySize int, now int64) outcome {
	if numHeaders == 0 {
		code, msg, _ := proxywasm.GetStatus()
		p.m.callErrors.Increment(1)
		return p.failed(f.key, &denial{reasonCallFailed, "authorizer call failed (status " + itoa(int(code)) + " " + msg + ")"})
	}
	headers, _ := proxywasm.GetHttpCallResponseHeaders()
	status := headerValue(headers, ":status")
	if status != "200" {
		p.m.callErrors.Increment(1)
		why := "authorizer answered HTTP " + status
		if status == "504" {
			why = "authorizer call timed out after " + itoa(f.req.auth.TimeoutMillis) + " ms (HTTP 504)"
		}
		return p.failed(f.key, &denial{reasonCallFailed, why})
	}
	if bodySize > maxResponseBytes {
		p.m.callErrors.Increment(1)
		return p.failed(f.key, &denial{reasonInvalidResponse, "response body is " + itoa(bodySize) + " bytes, at most 65536 accepted"})
	}
	var body []byte
	if bodySize > 0 {
		var err error
		if body, err = proxywasm.GetHttpCallResponseBody(0, bodySize); err != nil {
			p.m.callErrors.Increment(1)
			return p.failed(f.key, &denial{reasonCallFailed, "cannot read the response body: " + err.Error()})
		}
	}
	d, den := p.compileResponse(body, now)
	if den != nil {
		p.m.callErrors.Increment(1)
		return p.failed(f.key, den)
	}
	if !d.authenticated {
		return outcome{den: &denial{reasonNotAuthenticated, "authorizer answered isAuthenticated false"}}
	}
	if f.key != "" {
		p.cache.put(f.key, d)
		if f.req.tokenScoped && p.shared != nil {
			p.shared.store(f.key, body, now)
		}
	}
	return outcome{d: d}
}

// compileResponse validates an authorizer answer (DESIGN contract 2) and compiles its policies.
func (p *pluginContext) compileResponse(body []byte, fetchedAt int64) (*decision, *denial) {
	r, err := authorizer.ParseResponse(body, p.cfg.Limits)
	if err != nil {
		return nil, &denial{reasonInvalidResponse, err.Error()}
	}
	if !r.IsAuthenticated {
		return &decision{}, nil
	}
	cs, err := p.sharedSet(r.PolicyDocuments)
	if err != nil {
		return nil, &denial{reasonInvalidResponse, "policyDocuments: " + err.Error()}
	}
	return &decision{
		authenticated:  true,
		principalID:    r.PrincipalID,
		set:            cs.set,
		usesSourceIP:   cs.usesSourceIP,
		context:        r.Context,
		refreshSecs:    r.RefreshAfterInSeconds,
		disconnectSecs: r.DisconnectAfterInSeconds,
		fetchedAt:      fetchedAt,
		expiresAt:      fetchedAt + int64(r.RefreshAfterInSeconds)*1e9,
	}, nil
}

// loadShared reads a token-scope answer another VM stored, if it is still fresh.
func (p *pluginContext) loadShared(key string, now int64) *decision {
	body, at, ok := p.shared.load(key)
	if !ok || at > now {
		return nil
	}
	d, den := p.compileResponse(body, at)
	if den != nil || !d.authenticated || now >= d.expiresAt {
		return nil
	}
	p.cache.put(strings.Clone(key), d) // key may be a view of the VM's scratch buffer
	return d
}

// failed applies staleIfErrorSeconds: an expired decision may stand in for a failed call.
func (p *pluginContext) failed(key string, den *denial) outcome {
	if key != "" && p.cfg.Cache.StaleIfErrorSeconds > 0 {
		if d, ok := p.cache.get(key); ok && nowNanos() < d.expiresAt+int64(p.cfg.Cache.StaleIfErrorSeconds)*1e9 {
			p.m.staleServed.Increment(1)
			return outcome{d: d, stale: true}
		}
	}
	return outcome{den: den}
}

func headerValue(h [][2]string, name string) string {
	for _, kv := range h {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}
