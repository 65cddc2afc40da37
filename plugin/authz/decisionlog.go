package authz

import (
	"strconv"
	"time"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// Event types and statuses of decision log lines (CloudWatch's words).
const (
	evConnect    = "Connect"
	evPublishIn  = "Publish-In"
	evPublishOut = "Publish-Out"
	evSubscribe  = "Subscribe"
	evDisconnect = "Disconnect"

	statusSuccess = "Success"
	statusFailure = "Failure"
)

// Reasons logged in the "reason" field of a failure line. docs/logs-metrics.md lists them.
const (
	reasonEndpoint          = "DATA_ENDPOINT_MISMATCH"
	reasonAuthorizerUnknown = "AUTHORIZER_NOT_FOUND"
	reasonAuthorizerOff     = "AUTHORIZER_INACTIVE"
	reasonTokenMissing      = "TOKEN_MISSING"
	reasonTokenTooLong      = "TOKEN_TOO_LONG"
	reasonSignatureMissing  = "SIGNATURE_MISSING"
	reasonSignatureInvalid  = "SIGNATURE_INVALID"
	reasonCallFailed        = "AUTHORIZER_CALL_FAILED"
	reasonInvalidResponse   = "AUTHORIZER_INVALID_RESPONSE"
	reasonNotAuthenticated  = "NOT_AUTHENTICATED"
	reasonAuthorization     = "AUTHORIZATION_FAILURE"
	reasonUnsupported       = "UNSUPPORTED_REQUEST"
	reasonProtocol          = "PROTOCOL_ERROR"
	reasonPayloadTooLarge   = "PAYLOAD_TOO_LARGE"
	reasonRefreshFailed     = "REFRESH_FAILED"
)

// logLine is one decision: every field is optional except eventType and status.
type logLine struct {
	traceID          string
	eventType        string
	protocol         string
	status           string
	clientID         string
	principalID      string
	sourceIP         string
	sourcePort       int
	topicName        string
	authorizerName   string
	reason           string
	details          string
	disconnectReason string
	// retain: Publish-In lines only, whether the PUBLISH (or HTTPS publish) asked to be retained:
	// "True" or "False" as AWS IoT's CloudWatch lines write it; "" leaves the field out (the flag
	// was not read).
	retain string
	debug  bool // a debug line: only for logging.debugClientIds or level debug
}

// Values of logLine.retain.
const (
	retainTrue  = "True"
	retainFalse = "False"
)

// retainValue is logLine.retain for a publish whose RETAIN flag is r.
func retainValue(r bool) string {
	if r {
		return retainTrue
	}
	return retainFalse
}

// logsDebug reports whether debug decision lines can be written at all, so that hot paths skip
// building them.
func (e *Engine) logsDebug() bool {
	return e.logLevel <= LevelDebug || len(e.debugIDs) > 0
}

// emit writes the line through proxy_log when the configured level lets it through. Failures go
// out at error, successes at info, debug lines at debug (or at info for a client named in
// logging.debugClientIds, AWS's resource-specific logging).
func (e *Engine) emit(l *logLine) {
	if level, name, now, ok := e.admit(l, 0); ok {
		e.write(l, level, name, now)
	}
}

// admit decides whether l is written (the level, then the failure budget), at which level and
// with which time: now when not 0 (the callback already read the clock), else the host's. A
// suppressed line costs this and nothing more: callers fill costly fields after admit.
func (e *Engine) admit(l *logLine, now int64) (level LogLevel, name string, at int64, ok bool) {
	level = LevelInfo
	name = "INFO"
	switch {
	case l.status == statusFailure:
		level, name = LevelError, "ERROR"
	case l.debug:
		level, name = LevelDebug, "DEBUG"
	}
	watched := false
	if level < e.logLevel {
		if !(e.debugClient(l.clientID) || e.debugClient(l.principalID)) {
			return level, name, 0, false
		}
		watched = true
		level = LevelInfo
	}
	if now == 0 {
		now = e.h.Now()
	}
	if l.status == statusFailure && !watched && e.cfg.Logging.FailureLinesPerSecond > 0 &&
		!e.failures.take(e, l, now, e.cfg.Logging.FailureLinesPerSecond) {
		return level, name, now, false
	}
	return level, name, now, true
}

// write formats one decision line and hands it to proxy_log.
func (e *Engine) write(l *logLine, level LogLevel, name string, now int64) {
	b := e.logBuf[:0]
	b = append(b, `{"timestamp":"`...)
	b = appendTimestamp(b, now)
	b = append(b, `","logLevel":"`...)
	b = append(b, name...)
	b = append(b, '"')
	b = appendField(b, "traceId", l.traceID)
	b = appendField(b, "accountId", e.cfg.AccountID)
	b = appendField(b, "status", l.status)
	b = appendField(b, "eventType", l.eventType)
	b = appendField(b, "protocol", l.protocol)
	b = appendField(b, "clientId", l.clientID)
	b = appendField(b, "principalId", l.principalID)
	b = appendField(b, "sourceIp", l.sourceIP)
	if l.sourcePort > 0 {
		b = append(b, `,"sourcePort":`...)
		b = strconv.AppendInt(b, int64(l.sourcePort), 10)
	}
	b = appendField(b, "topicName", l.topicName)
	b = appendField(b, "authorizerName", l.authorizerName)
	b = appendField(b, "reason", l.reason)
	b = appendField(b, "details", l.details)
	b = appendField(b, "disconnectReason", l.disconnectReason)
	b = appendField(b, "retain", l.retain)
	b = append(b, '}')
	e.logBuf = b
	e.h.Log(level, b)
}

func (e *Engine) debugClient(id string) bool {
	if id == "" || len(e.debugIDs) == 0 {
		return false
	}
	_, ok := e.debugIDs[id]
	return ok
}

func appendField(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return jsonv.AppendString(b, value)
}

// appendTimestamp writes CloudWatch's "YYYY-MM-DD hh:mm:ss.mmm" in UTC.
func appendTimestamp(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	return t.AppendFormat(b, "2006-01-02 15:04:05.000")
}

// failureBudget limits failure lines per reason and per second (logging.failureLinesPerSecond),
// so that a flood of forged requests costs a counter, not a log line each. The reasons are the
// few constants above: a short slice, searched linearly.
type failureBudget struct {
	sec     int64 // the second the counts are for (Unix seconds)
	reasons []reasonCount
}

type reasonCount struct {
	reason     string
	eventType  string // of the last suppressed line, for the summary
	protocol   string
	sent       int
	suppressed int
}

// take reports whether l may be written now, counting it either way.
func (f *failureBudget) take(e *Engine, l *logLine, now int64, perSecond int) bool {
	if sec := now / 1e9; sec != f.sec {
		f.flush(e, now)
		f.sec = sec
	}
	for i := range f.reasons {
		r := &f.reasons[i]
		if r.reason != l.reason {
			continue
		}
		if r.sent < perSecond {
			r.sent++
			return true
		}
		r.suppressed++
		r.eventType, r.protocol = l.eventType, l.protocol
		return false
	}
	f.reasons = append(f.reasons, reasonCount{reason: l.reason, sent: 1})
	return true
}

// flush writes one summary line per reason whose lines were suppressed in the second that ended,
// and starts counting afresh. It runs on the first failure of a new second and on the tick.
func (f *failureBudget) flush(e *Engine, now int64) {
	for i := range f.reasons {
		r := &f.reasons[i]
		if r.suppressed > 0 {
			e.write(&logLine{eventType: r.eventType, protocol: r.protocol, status: statusFailure, reason: r.reason,
				details: itoa(r.suppressed) + " more failure lines with this reason were suppressed in one second (logging.failureLinesPerSecond " +
					itoa(e.cfg.Logging.FailureLinesPerSecond) + "); the metrics count every denial"},
				LevelError, "ERROR", now)
		}
		r.sent, r.suppressed = 0, 0
	}
}

// flushFailures is flush on the tick, once the second of the counts is over.
func (e *Engine) flushFailures(now int64) {
	if now/1e9 != e.failures.sec {
		e.failures.flush(e, now)
		e.failures.sec = now / 1e9
	}
}
