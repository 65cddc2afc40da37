package config

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/internal/jsonv"
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/plugin/token"
)

// Config is the validated plugin configuration.
type Config struct {
	// Region is the AWS region used in resource ARNs, e.g. "us-east-1". Required; lowercase
	// letter groups and a number separated by '-' ("us-east-1", "us-gov-west-1", "cn-north-1").
	// JSON: "region".
	Region string

	// AccountID is the 12-digit account used in resource ARNs. Required. JSON: "accountId".
	AccountID string

	// DataEndpoints are the host names devices connect to (AWS's iot:Data-ATS endpoint or a
	// domain configuration). The Host header (HTTP, WebSocket) or the SNI (MQTT over TLS) must be
	// one of them, compared case-insensitively with any port ignored. Required, at least one,
	// unless Domains is given; stored lowercased, followed by the names of Domains.
	// JSON: "dataEndpoints".
	DataEndpoints []string

	// Domains are domain configurations (AWS's CreateDomainConfiguration): endpoints with their
	// own default authorizer, allowAuthorizerOverride and application protocol. See Domain
	// (domains.go). JSON: "domains", an array of describe-domain-configuration objects, optional.
	Domains []*Domain

	// DefaultAuthorizerName is the authorizer used when a request names none (no
	// x-amz-customauthorizer-name header or query parameter). Optional; when set it must name one
	// of Authorizers. Without it, a request that names no authorizer is denied.
	// JSON: "defaultAuthorizerName".
	DefaultAuthorizerName string

	// Authorizers by name. JSON: "authorizers", an array of at least one authorizer object (see
	// Authorizer), names unique.
	Authorizers map[string]*Authorizer

	// Cache controls how authorizer decisions are reused. JSON: "cache", optional.
	Cache Cache

	// MQTT controls MQTT enforcement. JSON: "mqtt", optional.
	MQTT MQTT

	// Logging controls log output. JSON: "logging", optional.
	Logging Logging

	// Limits bound the authorizer response's refreshAfterInSeconds and disconnectAfterInSeconds:
	// 300 to 86400 seconds, as AWS. For tests only, "testOverrides": {"minIntervalSeconds": N}
	// (1–300) lowers the minimum so lifetimes can be exercised quickly; never use it in production.
	Limits authorizer.Limits

	arnPrefix string // "arn:<partition>:iot:<region>:<account>:"
}

// Authorizer is one custom authorizer, the fields of AWS's CreateAuthorizer.
type Authorizer struct {
	// Name identifies the authorizer; clients send it in x-amz-customauthorizer-name. Required,
	// 1–128 characters of [a-zA-Z0-9_=,@-]. JSON: "authorizerName".
	Name string

	// Cluster is the Envoy cluster the authorizer service is called on. Required unless
	// Function is set. JSON: "authorizerFunction.cluster".
	Cluster string

	// Function is the authorizer's Lambda function, as AWS's DescribeAuthorizer prints it:
	// "arn:aws:lambda:us-east-1:123456789012:function:NAME[:QUALIFIER]", validated part by part
	// (see FunctionARN). nil for an HTTP authorizer. With it, Cluster is the ARN itself (the
	// cluster that reaches the function: Envoy's aws_lambda filter, or the embedded gateway's
	// Lambda invoker), Authority the regional Lambda endpoint; authorizerFunction may still be
	// given for its timeoutMillis, but a cluster, authority or path there is refused.
	// JSON: "authorizerFunctionArn", in place of "authorizerFunction.cluster".
	Function *FunctionARN

	// Authority is the :authority of the call. Default: the cluster name.
	// JSON: "authorizerFunction.authority".
	Authority string

	// Path is the :path the event is POSTed to; it must start with '/'. Default "/".
	// JSON: "authorizerFunction.path".
	Path string

	// TimeoutMillis bounds each call; on timeout the request is denied. 1–60000, default 5000
	// (AWS's 5 s). JSON: "authorizerFunction.timeoutMillis".
	TimeoutMillis int

	// TokenKeyName is the header, query parameter or MQTT username query key that carries the
	// token. 1–128 characters of [a-zA-Z0-9_-]. Required unless SigningDisabled.
	// JSON: "tokenKeyName".
	TokenKeyName string

	// Keys verify the token signature (RSA, PKCS#1 v1.5, SHA-256); a signature is valid when any
	// key verifies it. JSON: "tokenSigningPublicKeys", an object of key name ([a-zA-Z0-9:_-],
	// 1–128 characters) to PEM text ("PUBLIC KEY" or "RSA PUBLIC KEY", RSA of at least 2048 bits,
	// at most 5120 characters). At least one key unless SigningDisabled. Ordered by key name.
	Keys []*token.PublicKey

	// SigningDisabled turns the signature check off: the authorizer is called with
	// signatureVerified false and decides alone. Default false. JSON: "signingDisabled".
	SigningDisabled bool

	// Status is "ACTIVE" or "INACTIVE"; requests for an INACTIVE authorizer are denied without
	// a call. Default "ACTIVE". JSON: "status".
	Status Status

	// EnableCachingForHTTP reuses a decision for refreshAfterInSeconds on the same downstream
	// HTTP connection, as AWS's enableCachingForHttp. Default false (one call per request).
	// JSON: "enableCachingForHttp".
	EnableCachingForHTTP bool
}

// Cache is the "cache" object.
type Cache struct {
	// Scope is "connection" (AWS's behaviour: a decision lives with its MQTT or WebSocket
	// connection, or its HTTP connection with enableCachingForHttp) or "token" (our extension:
	// decisions are shared across connections and worker VMs, keyed by authorizer and token;
	// safe only for authorizers that decide from the token alone). Default "connection".
	// JSON: "cache.scope".
	Scope Scope

	// MaxEntries bounds the decisions each VM keeps. 1–1000000, default 10000.
	// JSON: "cache.maxEntries".
	MaxEntries int

	// StaleIfErrorSeconds lets an expired decision be reused for this long when the authorizer
	// fails (timeout, error status, invalid answer). 0–86400, default 0 (off).
	// JSON: "cache.staleIfErrorSeconds".
	StaleIfErrorSeconds int
}

// MQTT is the "mqtt" object.
type MQTT struct {
	// DenyAction is what a denied PUBLISH or SUBSCRIBE does: "auto" (AWS's behaviour per
	// protocol version: "disconnect" for MQTT 3.1.1, "reject" for MQTT 5), "disconnect", or
	// "reject" (drop the publish; PUBACK/SUBACK failure codes). Default "auto".
	// JSON: "mqtt.denyAction".
	DenyAction DenyAction

	// MaxPacketBytes is the largest MQTT packet accepted; larger ones close the connection.
	// 2–268435455, default 147456: AWS IoT's 128 KiB payload (mqtt.limits.payloadMaxBytes)
	// plus 16 KiB for the headers, topic and MQTT 5 properties, so that the payload limit, not
	// this bound, decides a large PUBLISH. JSON: "mqtt.maxPacketBytes".
	MaxPacketBytes int

	// StripCredentialsFromUsername removes x-amz-customauthorizer-name,
	// x-amz-customauthorizer-signature and the token key from the CONNECT username before it
	// reaches the broker. Default true. JSON: "mqtt.stripCredentialsFromUsername".
	StripCredentialsFromUsername bool

	// ForwardPassword keeps the CONNECT password (and its flag) in the CONNECT forwarded to the
	// broker. By default the password, a credential meant for the authorizer, stays at the
	// proxy: the broker receives a CONNECT without one. Turn it on only for a broker that
	// needs the password itself. Default false. JSON: "mqtt.forwardPassword".
	ForwardPassword bool

	// ConnectTimeoutSeconds is how long a connection may stay open without a complete CONNECT:
	// an MQTT/TLS connection from its start, a WebSocket from its upgrade. A connection that
	// has not sent its CONNECT by then is closed. 1–300, default 10.
	// JSON: "mqtt.connectTimeoutSeconds".
	ConnectTimeoutSeconds int

	// Limits are AWS IoT Core's message broker limits (client id, topic, payload, keep-alive,
	// empty client id), AWS's numbers by default; see MQTTLimits. JSON: "mqtt.limits".
	Limits MQTTLimits
}

// Logging is the "logging" object.
type Logging struct {
	// Level is the lowest level logged: "trace", "debug", "info", "warn", "error" or
	// "critical". Default "info". JSON: "logging.level".
	Level Level

	// DebugClientIDs turns on debug lines for these MQTT client ids only, whatever Level says
	// (AWS's resource-specific logging). Default none. JSON: "logging.debugClientIds".
	DebugClientIDs []string

	// FailureLinesPerSecond is the budget of failure decision lines per reason and per second, per
	// VM: a flood of forged requests must not turn into a flood of logs. Past the budget, lines of
	// that reason are counted, and one summary line per second says how many were suppressed.
	// Metrics count every denial. 0 means no limit. 0–1000000, default 100.
	// JSON: "logging.failureLinesPerSecond".
	FailureLinesPerSecond int
}

// Status is an authorizer's "status": StatusActive or StatusInactive.
type Status string

// Scope is "cache.scope": ScopeConnection or ScopeToken.
type Scope string

// DenyAction is "mqtt.denyAction": DenyAuto, DenyDisconnect or DenyReject.
type DenyAction string

// Level is "logging.level": one of LogLevels.
type Level string

// Enumerated values.
const (
	StatusActive   Status = "ACTIVE"
	StatusInactive Status = "INACTIVE"

	ScopeConnection Scope = "connection"
	ScopeToken      Scope = "token"

	DenyAuto       DenyAction = "auto"
	DenyDisconnect DenyAction = "disconnect"
	DenyReject     DenyAction = "reject"

	LevelTrace    Level = "trace"
	LevelDebug    Level = "debug"
	LevelInfo     Level = "info"
	LevelWarn     Level = "warn"
	LevelError    Level = "error"
	LevelCritical Level = "critical"
)

// EndpointAllowed reports whether a Host header or SNI value names one of DataEndpoints,
// case-insensitively and ignoring any port.
//
//	EndpointAllowed("IOT.example.com:443") → true with dataEndpoints ["iot.example.com"]
func (c *Config) EndpointAllowed(hostOrSNI string) bool {
	for _, e := range c.DataEndpoints { // the usual case: exactly an endpoint, no port
		if e == hostOrSNI {
			return true
		}
	}
	h := credentials.HostOnly(hostOrSNI)
	if h == "" {
		return false
	}
	for _, e := range c.DataEndpoints {
		if e == h {
			return true
		}
	}
	return false
}

// ARN returns the resource ARN of kind ("topic", "topicfilter", "client") and name in the
// configured region and account. The partition follows the region: "aws-cn" for cn-*,
// "aws-us-gov" for us-gov-*, else "aws".
//
//	ARN("topic", "a/b") → "arn:aws:iot:us-east-1:123456789012:topic/a/b"
func (c *Config) ARN(kind, name string) string {
	p := c.arnPrefix
	if p == "" {
		p = arnPrefix(c.Region, c.AccountID)
	}
	return p + kind + "/" + name
}

func arnPrefix(region, account string) string {
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return "arn:" + partition + ":iot:" + region + ":" + account + ":"
}

// Parse parses and validates the configuration. The error names the first offending field:
//
//	region: required
//	accountId: must be 12 digits, got "1234"
//	authorizers[0].tokenSigningPublicKeys.key1: RSA key is 1024 bits, at least 2048 required
//	cache.bogus: unknown field
func Parse(b []byte) (*Config, error) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, errorf("configuration", "empty (a JSON object is required)")
	}
	root, err := jsonOptions.Parse(b)
	if err != nil {
		return nil, errorf("configuration", "not valid JSON")
	}
	top, err := object("configuration", "", root,
		"region", "accountId", "dataEndpoints", "domains", "defaultAuthorizerName", "authorizers",
		"cache", "mqtt", "logging", "testOverrides")
	if err != nil {
		return nil, err
	}
	c := &Config{}

	if c.Region, err = requiredString("region", top); err != nil {
		return nil, err
	}
	if !validRegion(c.Region) {
		return nil, errorf("region", "not an AWS region name like \"us-east-1\", got "+strconv.Quote(c.Region))
	}
	if c.AccountID, err = requiredString("accountId", top); err != nil {
		return nil, err
	}
	if !allDigits(c.AccountID) || len(c.AccountID) != 12 {
		return nil, errorf("accountId", "must be 12 digits, got "+strconv.Quote(c.AccountID))
	}
	c.arnPrefix = arnPrefix(c.Region, c.AccountID)

	if v, ok := top["dataEndpoints"]; ok || !top["domains"].Exists() {
		if c.DataEndpoints, err = endpoints(v); err != nil {
			return nil, err
		}
	}
	if c.Authorizers, err = authorizers(top["authorizers"]); err != nil {
		return nil, err
	}
	if v, ok := top["defaultAuthorizerName"]; ok {
		if c.DefaultAuthorizerName, err = str("defaultAuthorizerName", v); err != nil {
			return nil, err
		}
		if _, ok := c.Authorizers[c.DefaultAuthorizerName]; !ok {
			return nil, errorf("defaultAuthorizerName", strconv.Quote(c.DefaultAuthorizerName)+" is not one of the authorizers")
		}
	}
	if err = c.parseDomains(top["domains"]); err != nil { // domains.go
		return nil, err
	}
	if c.Cache, err = cache(top["cache"]); err != nil {
		return nil, err
	}
	if c.MQTT, err = mqtt(top["mqtt"]); err != nil {
		return nil, err
	}
	if c.Logging, err = logging(top["logging"]); err != nil {
		return nil, err
	}
	c.Limits = authorizer.Limits{MinInterval: authorizer.DefaultMinInterval, MaxInterval: authorizer.DefaultMaxInterval}
	if v, ok := top["testOverrides"]; ok {
		o, err := object("testOverrides", "testOverrides", v, "minIntervalSeconds")
		if err != nil {
			return nil, err
		}
		if v, ok := o["minIntervalSeconds"]; ok {
			if c.Limits.MinInterval, err = integer("testOverrides.minIntervalSeconds", v, 1, authorizer.DefaultMinInterval); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Error is a configuration error; Field is the path of the offending field.
type Error struct {
	Field, Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

func errorf(field, reason string) error { return &Error{Field: field, Reason: reason} }

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// jsonOptions are the JSON rules of the configuration: jsonv's, with strings that are not valid
// UTF-8 kept as they are, as gjson (which read the configuration before jsonv) did. Duplicate
// keys are refused by object and the key loop of tokenSigningPublicKeys, with the field's path.
var jsonOptions = jsonv.Options{AllowInvalidUTF8: true}

// object checks that v is an object whose members are among allowed, without duplicates, and
// returns them by name. what names v in errors; prefix is the path of its members.
func object(what, prefix string, v jsonv.Value, allowed ...string) (map[string]jsonv.Value, error) {
	if v.Kind() != jsonv.Object {
		return nil, errorf(what, "must be an object, got "+kind(v))
	}
	m := make(map[string]jsonv.Value, len(allowed))
	for mem := range v.RangeMembers {
		name, val := mem.Key, mem.Value
		path := join(prefix, name)
		known := false
		for _, a := range allowed {
			if a == name {
				known = true
				break
			}
		}
		if !known {
			return nil, errorf(path, "unknown field")
		}
		if _, dup := m[name]; dup {
			return nil, errorf(path, "duplicate field")
		}
		m[name] = val
	}
	return m, nil
}

// kind names a value's JSON type in errors: "null", "boolean", "number", "string", "array" or
// "object".
func kind(v jsonv.Value) string { return v.Kind().String() }

func str(path string, v jsonv.Value) (string, error) {
	if v.Kind() != jsonv.String {
		return "", errorf(path, "must be a string, got "+kind(v))
	}
	return v.Str(), nil
}

func requiredString(name string, m map[string]jsonv.Value) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", errorf(name, "required")
	}
	s, err := str(name, v)
	if err == nil && s == "" {
		err = errorf(name, "must not be empty")
	}
	return s, err
}

func boolean(path string, v jsonv.Value) (bool, error) {
	if v.Kind() != jsonv.Bool {
		return false, errorf(path, "must be a boolean, got "+kind(v))
	}
	return v.Bool(), nil
}

// integer reads an integer in [min, max], exactly from the literal: 5000, 5000.0 and 5e3 are
// 5000; 1.5 is not an integer; 1e300 is an integer out of range.
func integer(path string, v jsonv.Value, min, max int) (int, error) {
	if v.Kind() != jsonv.Number {
		return 0, errorf(path, "must be an integer, got "+kind(v))
	}
	n, ok := v.Int()
	if !ok && !v.IsIntegral() {
		return 0, errorf(path, "must be an integer, got "+v.Raw())
	}
	if !ok || n < int64(min) || n > int64(max) {
		return 0, errorf(path, v.Raw()+" out of range ["+strconv.Itoa(min)+", "+strconv.Itoa(max)+"]")
	}
	return int(n), nil
}

func oneOf[T ~string](path string, v jsonv.Value, values ...T) (T, error) {
	s, err := str(path, v)
	if err != nil {
		return "", err
	}
	for _, want := range values {
		if T(s) == want {
			return want, nil
		}
	}
	return "", errorf(path, "must be one of "+strings.Join(quoteAll(values), ", ")+", got "+strconv.Quote(s))
}

func quoteAll[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strconv.Quote(string(v))
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validRegion accepts lowercase groups separated by '-', at least three, the first two letters
// long, the last a number: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-iso-east-1. It is
// validARNRegion (a Lambda ARN's region) with a two-letter first group.
func validRegion(r string) bool {
	return validARNRegion(r) && strings.IndexByte(r, '-') == 2
}

// validHostname accepts a DNS name or IPv4 address: labels of 1–63 characters of [a-z0-9-] not
// starting or ending with '-', at most 253 characters in all (input already lowercased).
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func endpoints(v jsonv.Value) ([]string, error) {
	const path = "dataEndpoints"
	if !v.Exists() {
		return nil, errorf(path, "required")
	}
	if v.Kind() != jsonv.Array {
		return nil, errorf(path, "must be an array of host names, got "+kind(v))
	}
	var out []string
	for i, e := range v.RangeElems {
		p := path + "[" + strconv.Itoa(i) + "]"
		s, err := str(p, e)
		if err != nil {
			return nil, err
		}
		h := strings.ToLower(s)
		if !validHostname(h) {
			return nil, errorf(p, "not a host name (no scheme, port or path), got "+strconv.Quote(s))
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, errorf(path, "must list at least one host name")
	}
	return out, nil
}

// matches reports whether s is 1–max bytes of ASCII letters, digits and the bytes in extra.
func matches(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// MaxKeyPEMChars is AWS's limit on a tokenSigningPublicKeys value.
const MaxKeyPEMChars = 5120

func authorizers(v jsonv.Value) (map[string]*Authorizer, error) {
	const path = "authorizers"
	if !v.Exists() {
		return nil, errorf(path, "required")
	}
	if v.Kind() != jsonv.Array {
		return nil, errorf(path, "must be an array of authorizer objects, got "+kind(v))
	}
	out := map[string]*Authorizer{}
	for i, e := range v.RangeElems {
		p := path + "[" + strconv.Itoa(i) + "]"
		a, err := parseAuthorizer(p, e)
		if err != nil {
			return nil, err
		}
		if _, dup := out[a.Name]; dup {
			return nil, errorf(p+".authorizerName", "duplicate name "+strconv.Quote(a.Name))
		}
		out[a.Name] = a
	}
	if len(out) == 0 {
		return nil, errorf(path, "must list at least one authorizer")
	}
	return out, nil
}

func parseAuthorizer(p string, v jsonv.Value) (*Authorizer, error) {
	m, err := object(p, p, v, append([]string{"authorizerName", "authorizerFunction", "authorizerFunctionArn", "tokenKeyName",
		"tokenSigningPublicKeys", "signingDisabled", "status", "enableCachingForHttp"}, describeOnlyFields...)...)
	if err != nil {
		return nil, err
	}
	a := &Authorizer{Path: "/", TimeoutMillis: 5000, Status: StatusActive}
	f := func(name string) string { return p + "." + name }

	nv, ok := m["authorizerName"]
	if !ok {
		return nil, errorf(f("authorizerName"), "required")
	}
	if a.Name, err = str(f("authorizerName"), nv); err != nil {
		return nil, err
	}
	if !matches(a.Name, 128, "_=,@-") {
		return nil, errorf(f("authorizerName"), "must match [\\w=,@-]{1,128}, got "+strconv.Quote(a.Name))
	}
	if err := describeFields(a.Name, p, m); err != nil { // aws.go
		return nil, err
	}

	if v, ok := m["signingDisabled"]; ok {
		if a.SigningDisabled, err = boolean(f("signingDisabled"), v); err != nil {
			return nil, err
		}
	}
	if v, ok := m["enableCachingForHttp"]; ok {
		if a.EnableCachingForHTTP, err = boolean(f("enableCachingForHttp"), v); err != nil {
			return nil, err
		}
	}
	if v, ok := m["status"]; ok {
		if a.Status, err = oneOf(f("status"), v, StatusActive, StatusInactive); err != nil {
			return nil, err
		}
	}

	fp := f("authorizerFunction")
	fv, hasFunction := m["authorizerFunction"]
	arnv, hasARN := m["authorizerFunctionArn"]
	if !hasFunction && !hasARN {
		return nil, errorf(fp, "required")
	}
	fm := map[string]jsonv.Value{}
	if hasFunction {
		if fm, err = object(fp, fp, fv, "cluster", "authority", "path", "timeoutMillis"); err != nil {
			return nil, err
		}
	}
	if hasARN {
		// A Lambda authorizer: see FunctionARN for the cluster it is called on.
		if err := lambdaFunction(a, f("authorizerFunctionArn"), arnv, fp, fm); err != nil {
			return nil, err
		}
	} else {
		cv, ok := fm["cluster"]
		if !ok {
			return nil, errorf(fp+".cluster", "required")
		}
		if a.Cluster, err = str(fp+".cluster", cv); err != nil {
			return nil, err
		}
		if a.Cluster == "" {
			return nil, errorf(fp+".cluster", "must not be empty")
		}
		a.Authority = a.Cluster
	}
	if v, ok := fm["authority"]; ok {
		if a.Authority, err = str(fp+".authority", v); err != nil {
			return nil, err
		}
		if a.Authority == "" {
			return nil, errorf(fp+".authority", "must not be empty")
		}
	}
	if v, ok := fm["path"]; ok {
		if a.Path, err = str(fp+".path", v); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(a.Path, "/") || strings.ContainsAny(a.Path, " \t\r\n") {
			return nil, errorf(fp+".path", "must start with '/' and contain no whitespace, got "+strconv.Quote(a.Path))
		}
	}
	if v, ok := fm["timeoutMillis"]; ok {
		if a.TimeoutMillis, err = integer(fp+".timeoutMillis", v, 1, 60000); err != nil {
			return nil, err
		}
	}

	if v, ok := m["tokenKeyName"]; ok {
		if a.TokenKeyName, err = str(f("tokenKeyName"), v); err != nil {
			return nil, err
		}
		if !matches(a.TokenKeyName, 128, "_-") {
			return nil, errorf(f("tokenKeyName"), "must match [a-zA-Z0-9_-]{1,128}, got "+strconv.Quote(a.TokenKeyName))
		}
	} else if !a.SigningDisabled {
		return nil, errorf(f("tokenKeyName"), "required unless signingDisabled is true")
	}

	kp := f("tokenSigningPublicKeys")
	if v, ok := m["tokenSigningPublicKeys"]; ok {
		if v.Kind() != jsonv.Object {
			return nil, errorf(kp, "must be an object of key name to PEM, got "+kind(v))
		}
		names := map[string]bool{}
		for m := range v.RangeMembers {
			name, pemv := m.Key, m.Value
			path := kp + "." + name
			switch {
			case names[name]:
				return nil, errorf(path, "duplicate key name")
			case !matches(name, 128, ":_-"):
				return nil, errorf(kp, "key name must match [a-zA-Z0-9:_-]{1,128}, got "+strconv.Quote(name))
			case pemv.Kind() != jsonv.String:
				return nil, errorf(path, "must be a PEM string, got "+kind(pemv))
			}
			pem := pemv.Str()
			if len(pem) > MaxKeyPEMChars {
				return nil, errorf(path, "PEM is "+strconv.Itoa(len(pem))+" characters, at most "+strconv.Itoa(MaxKeyPEMChars)+" allowed")
			}
			key, err := token.ParsePublicKeyPEM(name, pem)
			if err != nil {
				return nil, errorf(path, err.Error())
			}
			names[name] = true
			a.Keys = append(a.Keys, key)
		}
		sortKeys(a.Keys)
	}
	if len(a.Keys) == 0 && !a.SigningDisabled {
		return nil, errorf(kp, "at least one key required unless signingDisabled is true")
	}
	return a, nil
}

// sortKeys orders keys by name (insertion sort: a handful of keys, no sort import).
func sortKeys(k []*token.PublicKey) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j].Name < k[j-1].Name; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}

// The set* helpers parse the member of m that path names (its last element: "cache.scope" names
// "scope") into *dst when m has it: an optional field keeps its default when absent. path names
// the field in errors.

func setInteger(m map[string]jsonv.Value, path string, dst *int, min, max int) (err error) {
	if v, ok := m[path[strings.LastIndexByte(path, '.')+1:]]; ok {
		*dst, err = integer(path, v, min, max)
	}
	return err
}

func setBoolean(m map[string]jsonv.Value, path string, dst *bool) (err error) {
	if v, ok := m[path[strings.LastIndexByte(path, '.')+1:]]; ok {
		*dst, err = boolean(path, v)
	}
	return err
}

func setOneOf[T ~string](m map[string]jsonv.Value, path string, dst *T, values ...T) (err error) {
	if v, ok := m[path[strings.LastIndexByte(path, '.')+1:]]; ok {
		*dst, err = oneOf(path, v, values...)
	}
	return err
}

// setStrings reads an array of strings.
func setStrings(m map[string]jsonv.Value, path string, dst *[]string) error {
	v, ok := m[path[strings.LastIndexByte(path, '.')+1:]]
	if !ok {
		return nil
	}
	if v.Kind() != jsonv.Array {
		return errorf(path, "must be an array of strings, got "+kind(v))
	}
	for i, e := range v.RangeElems {
		s, err := str(path+"["+strconv.Itoa(i)+"]", e)
		if err != nil {
			return err
		}
		*dst = append(*dst, s)
	}
	return nil
}

// optionalObject is object for a top-level section that may be absent: absent, it is a nil map, in
// which the set* helpers find nothing and leave the defaults.
func optionalObject(name string, v jsonv.Value, allowed ...string) (map[string]jsonv.Value, error) {
	if !v.Exists() {
		return nil, nil
	}
	return object(name, name, v, allowed...)
}

// firstError is the first of errs that is not nil: an object's fields are checked in order, and
// the first fault is the one reported.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func cache(v jsonv.Value) (Cache, error) {
	c := Cache{Scope: ScopeConnection, MaxEntries: 10000}
	m, err := optionalObject("cache", v, "scope", "maxEntries", "staleIfErrorSeconds")
	return c, firstError(err,
		setOneOf(m, "cache.scope", &c.Scope, ScopeConnection, ScopeToken),
		setInteger(m, "cache.maxEntries", &c.MaxEntries, 1, 1000000),
		setInteger(m, "cache.staleIfErrorSeconds", &c.StaleIfErrorSeconds, 0, 86400),
	)
}

func mqtt(v jsonv.Value) (MQTT, error) {
	c := MQTT{DenyAction: DenyAuto, MaxPacketBytes: DefaultMaxPacketBytes, StripCredentialsFromUsername: true,
		ConnectTimeoutSeconds: 10}
	m, err := optionalObject("mqtt", v, "denyAction", "maxPacketBytes", "stripCredentialsFromUsername",
		"forwardPassword", "connectTimeoutSeconds", "limits")
	if err := firstError(err,
		setOneOf(m, "mqtt.denyAction", &c.DenyAction, DenyAuto, DenyDisconnect, DenyReject),
		setInteger(m, "mqtt.maxPacketBytes", &c.MaxPacketBytes, 2, 268435455),
		setBoolean(m, "mqtt.stripCredentialsFromUsername", &c.StripCredentialsFromUsername),
		setBoolean(m, "mqtt.forwardPassword", &c.ForwardPassword),
		setInteger(m, "mqtt.connectTimeoutSeconds", &c.ConnectTimeoutSeconds, 1, 300),
	); err != nil {
		return c, err
	}
	c.Limits, err = limits(m["limits"], c.MaxPacketBytes)
	return c, err
}

// LogLevels are the accepted logging.level values, lowest first.
var LogLevels = []Level{LevelTrace, LevelDebug, LevelInfo, LevelWarn, LevelError, LevelCritical}

func logging(v jsonv.Value) (Logging, error) {
	c := Logging{Level: LevelInfo, FailureLinesPerSecond: 100}
	m, err := optionalObject("logging", v, "level", "debugClientIds", "failureLinesPerSecond")
	return c, firstError(err,
		setOneOf(m, "logging.level", &c.Level, LogLevels...),
		setStrings(m, "logging.debugClientIds", &c.DebugClientIDs),
		setInteger(m, "logging.failureLinesPerSecond", &c.FailureLinesPerSecond, 0, 1000000),
	)
}
