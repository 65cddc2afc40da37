package authz

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
)

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

// waiter receives the outcome of a call it waited for. It runs in the host's completion of
// the call, outside any stream: it must Enter its stream before touching it.
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
func (e *Engine) decide(r *authRequest, w waiter) (outcome, bool) {
	now := e.h.Now()
	if r.key != "" {
		if !r.force {
			if d := e.cached(r.key, r.tokenScoped, now); d != nil {
				return outcome{d: d}, false
			}
		}
		if f := e.flights[r.key]; f != nil {
			f.waiters = append(f.waiters, w)
			return outcome{}, true
		}
		e.count(MetricCacheMisses, 1)
	}
	body := r.event.AppendJSON(make([]byte, 0, 512))
	f := &flight{key: r.key, req: r, started: now, waiters: []waiter{w}}
	e.count(MetricCalls, 1)
	if err := e.h.Call(r.auth, body, func(resp Response) { e.onAuthorizerResponse(f, &resp) }); err != nil {
		e.count(MetricCallErrors, 1)
		return e.failed(r.key, &denial{reasonCallFailed, "cannot call cluster " + quote(r.auth.Cluster) + ": " + err.Error()}), false
	}
	if r.key != "" {
		e.flights[r.key] = f
	}
	return outcome{}, true
}

// cached returns a fresh decision for key from this VM's cache or, in token scope, from the
// answer another VM stored in shared data; nil when there is none. key may be a view of a scratch
// buffer: it is only looked up, and copied before it is stored.
func (e *Engine) cached(key string, tokenScoped bool, now int64) *decision {
	if d, ok := e.cache.get(key); ok && now < d.expiresAt {
		e.hitsPending++
		return d
	}
	if tokenScoped && e.shared != nil {
		if d := e.loadShared(key, now); d != nil {
			e.hitsPending++
			e.count(MetricSharedHits, 1)
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
func (e *Engine) cacheKeyBytes(a *config.Authorizer, c *credentials.Presented, httpPublish bool, conn uint64) ([]byte, bool) {
	if c.Token == "" {
		return nil, false // signing disabled and no token: the authorizer decides from other inputs
	}
	b := e.keyBuf[:0]
	scoped := false
	switch {
	case e.cfg.Cache.Scope == config.ScopeToken:
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
	b = append(b, c.Token...)
	b = append(b, 0)
	b = append(b, c.Signature...)
	e.keyBuf = b
	return b, scoped
}

// cacheKey is cacheKeyBytes as a string of its own.
func (e *Engine) cacheKey(a *config.Authorizer, c *credentials.Presented, httpPublish bool, conn uint64) (string, bool) {
	b, scoped := e.cacheKeyBytes(a, c, httpPublish, conn)
	if b == nil {
		return "", false
	}
	return string(b), scoped
}

// onAuthorizerResponse runs when the host has the answer: it turns it into an outcome and
// hands it to every waiting stream.
func (e *Engine) onAuthorizerResponse(f *flight, resp *Response) {
	if f.key != "" && e.flights[f.key] == f {
		delete(e.flights, f.key)
	}
	now := e.h.Now()
	if ms := (now - f.started) / 1e6; ms >= 0 {
		e.h.Record(MetricCallLatency, ms)
	}
	o := e.readResponse(f, resp, now)
	for _, w := range f.waiters {
		w(o)
	}
}

func (e *Engine) readResponse(f *flight, resp *Response, now int64) outcome {
	if resp.Failed {
		e.count(MetricCallErrors, 1)
		return e.failed(f.key, &denial{reasonCallFailed, "authorizer call failed (status " + itoa(int(resp.Code)) + " " + resp.Message + ")"})
	}
	if resp.FunctionError != "" {
		// Lambda answers a failed function with HTTP 200 and this header; the body is the
		// error, never a policy. AWS IoT denies such a connection; so do we.
		e.count(MetricCallErrors, 1)
		return e.failed(f.key, &denial{reasonCallFailed, "Lambda function error (" + resp.FunctionError + "), HTTP " + resp.Status})
	}
	if resp.Status != "200" {
		e.count(MetricCallErrors, 1)
		why := "authorizer answered HTTP " + resp.Status
		if resp.Status == "504" {
			why = "authorizer call timed out after " + itoa(f.req.auth.TimeoutMillis) + " ms (HTTP 504)"
		}
		return e.failed(f.key, &denial{reasonCallFailed, why})
	}
	if resp.Size > MaxResponseBytes {
		e.count(MetricCallErrors, 1)
		return e.failed(f.key, &denial{reasonInvalidResponse, "response body is " + itoa(resp.Size) + " bytes, at most 65536 accepted"})
	}
	if resp.BodyErr != nil {
		e.count(MetricCallErrors, 1)
		return e.failed(f.key, &denial{reasonCallFailed, "cannot read the response body: " + resp.BodyErr.Error()})
	}
	body := resp.Body
	d, den := e.compileResponse(body, now)
	if den != nil {
		e.count(MetricCallErrors, 1)
		return e.failed(f.key, den)
	}
	if !d.authenticated {
		return outcome{den: &denial{reasonNotAuthenticated, "authorizer answered isAuthenticated false"}}
	}
	if f.key != "" {
		e.cache.put(f.key, d)
		if f.req.tokenScoped && e.shared != nil {
			e.shared.store(e, f.key, body, now)
		}
	}
	return outcome{d: d}
}

// compileResponse validates an authorizer answer (DESIGN contract 2) and compiles its policies.
func (e *Engine) compileResponse(body []byte, fetchedAt int64) (*decision, *denial) {
	r, err := authorizer.ParseResponse(body, e.cfg.Limits)
	if err != nil {
		return nil, &denial{reasonInvalidResponse, err.Error()}
	}
	if !r.IsAuthenticated {
		return &decision{}, nil
	}
	cs, err := e.sharedSet(r.PolicyDocuments)
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
func (e *Engine) loadShared(key string, now int64) *decision {
	body, at, ok := e.shared.load(e.h, key)
	if !ok || at > now {
		return nil
	}
	d, den := e.compileResponse(body, at)
	if den != nil || !d.authenticated || now >= d.expiresAt {
		return nil
	}
	e.cache.put(strings.Clone(key), d) // key may be a view of the VM's scratch buffer
	return d
}

// failed applies staleIfErrorSeconds: an expired decision may stand in for a failed call.
func (e *Engine) failed(key string, den *denial) outcome {
	if key != "" && e.cfg.Cache.StaleIfErrorSeconds > 0 {
		if d, ok := e.cache.get(key); ok && e.h.Now() < d.expiresAt+int64(e.cfg.Cache.StaleIfErrorSeconds)*1e9 {
			e.count(MetricStaleServed, 1)
			return outcome{d: d, stale: true}
		}
	}
	return outcome{den: den}
}
