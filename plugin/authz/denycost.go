package authz

import "github.com/iotauthz/iotauthz/plugin/config"

// What keeps a refusal no dearer than an allowed cached request (DESIGN P1d; docs/performance.md):
// the counters of the deny paths are added up locally and handed to the host on the tick, as
// allowed decisions are, and the local reply's body is built in a reused buffer.

// denyCounts are the deny paths' counters not yet added to the metrics, and the reply scratch.
type denyCounts struct {
	denied      uint64 // HTTP refusals, for iotauthz.decisions.denied
	sigFailures uint64 // for iotauthz.signature.failures
	body        []byte // the last local reply's body (the host copies it)
	// tokenMissing is tokenMissingDetails(tokenMissingFor).
	tokenMissingFor *config.Authorizer
	tokenMissing    string
}

// flushDenials adds the locally counted refusals to the metrics (from flushCounts: on the tick
// and when an MQTT connection ends).
func (e *Engine) flushDenials() {
	if n := e.deny.denied; n > 0 {
		e.count(MetricDenied, int64(n))
		e.deny.denied = 0
	}
	if n := e.deny.sigFailures; n > 0 {
		e.count(MetricSigFailures, int64(n))
		e.deny.sigFailures = 0
	}
}

// tokenMissingDetails is the TOKEN_MISSING details for authorizer a, built once per authorizer
// in a row (it depends on a only): no quoting and concatenation per refusal.
func (e *Engine) tokenMissingDetails(a *config.Authorizer) string {
	if e.deny.tokenMissingFor != a {
		e.deny.tokenMissingFor = a
		e.deny.tokenMissing = "no " + quote(a.TokenKeyName) + " header or query parameter"
	}
	return e.deny.tokenMissing
}

// replyBody returns {"message":message,"traceId":traceID} in the engine's scratch (valid until
// the next reply).
func (e *Engine) replyBody(message, traceID string) []byte {
	b := append(e.deny.body[:0], `{"message":"`...)
	b = append(b, message...)
	b = append(b, `","traceId":"`...)
	b = append(b, traceID...)
	b = append(b, `"}`...)
	e.deny.body = b
	return b
}
