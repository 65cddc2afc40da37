package authz

// staleRetryNanos is how soon a connection whose refresh was answered by a stale decision
// (cache.staleIfErrorSeconds) asks the authorizer again.
const staleRetryNanos = 30e9

// connectClientID is the client id the CONNECT's iot:Connect was decided with (Allow(Connect)
// records it), so that a refresh decides with the same one, an empty id included.
func (e *evaluator) connectClientID() string { return e.vars.ClientID }

// staleRetry is the delay before the next refresh when d, an expired decision, stood in for a
// failed refresh: staleRetryNanos, no longer than d's refresh interval, and ending at the latest
// when the stale window closes, so that a failure from then on closes the connection.
func (c *Conn) staleRetry(d *decision) int64 {
	wait := int64(staleRetryNanos)
	if r := int64(d.refreshSecs) * 1e9; r > 0 && r < wait {
		wait = r
	}
	if left := d.expiresAt + int64(c.e.cfg.Cache.StaleIfErrorSeconds)*1e9 - c.e.h.Now(); left > 0 && left < wait {
		wait = left
	}
	return wait
}
