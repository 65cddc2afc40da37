package main

import (
	"strconv"
	"time"

	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
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

// Reasons logged in the "reason" field of a failure line. README lists them.
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
	debug            bool // a debug line: only for logging.debugClientIds or level debug
}

// logsDebug reports whether debug decision lines can be written at all, so that hot paths skip
// building them.
func (p *pluginContext) logsDebug() bool {
	return p.logLevel <= proxywasm.LogLevelDebug || len(p.debugIDs) > 0
}

// emit writes the line through proxy_log when the configured level lets it through. Failures go
// out at error, successes at info, debug lines at debug (or at info for a client named in
// logging.debugClientIds, AWS's resource-specific logging).
func (p *pluginContext) emit(l *logLine) {
	level := proxywasm.LogLevelInfo
	name := "INFO"
	switch {
	case l.status == statusFailure:
		level, name = proxywasm.LogLevelError, "ERROR"
	case l.debug:
		level, name = proxywasm.LogLevelDebug, "DEBUG"
	}
	if level < p.logLevel {
		if !(p.debugClient(l.clientID) || p.debugClient(l.principalID)) {
			return
		}
		level = proxywasm.LogLevelInfo
	}
	b := p.logBuf[:0]
	b = append(b, `{"timestamp":"`...)
	b = appendTimestamp(b, proxywasm.GetCurrentTimeNanoseconds())
	b = append(b, `","logLevel":"`...)
	b = append(b, name...)
	b = append(b, '"')
	b = appendField(b, "traceId", l.traceID)
	b = appendField(b, "accountId", p.cfg.AccountID)
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
	b = append(b, '}')
	p.logBuf = b
	proxywasm.Log(level, b)
}

func (p *pluginContext) debugClient(id string) bool {
	if id == "" || len(p.debugIDs) == 0 {
		return false
	}
	_, ok := p.debugIDs[id]
	return ok
}

func appendField(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return authorizer.AppendString(b, value)
}

// appendTimestamp writes CloudWatch's "YYYY-MM-DD hh:mm:ss.mmm" in UTC.
func appendTimestamp(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	return t.AppendFormat(b, "2006-01-02 15:04:05.000")
}
