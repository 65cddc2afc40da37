package config

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/require"
)

// The JSON rules of the configuration (internal/jsonv): strict RFC 8259, numbers read exactly,
// escapes decoded, invalid UTF-8 kept as gjson kept it.
func TestParse_JSONRules(t *testing.T) {
	const head = `{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["iot.example.com"],"authorizers":[{"authorizerName":"a","signingDisabled":true,"authorizerFunction":`
	tests := []struct {
		name, fn, err string
		check         func(t *testing.T, a *Authorizer)
	}{
		{name: "timeout with zero fraction", fn: `{"cluster":"c","timeoutMillis":2500.000}`, check: func(t *testing.T, a *Authorizer) {
			if a.TimeoutMillis != 2500 {
				t.Fatal(a.TimeoutMillis)
			}
		}},
		{name: "timeout with exponent", fn: `{"cluster":"c","timeoutMillis":25E2}`, check: func(t *testing.T, a *Authorizer) {
			if a.TimeoutMillis != 2500 {
				t.Fatal(a.TimeoutMillis)
			}
		}},
		{name: "timeout huge", fn: `{"cluster":"c","timeoutMillis":1e300}`, err: "authorizers[0].authorizerFunction.timeoutMillis: 1e300 out of range [1, 60000]"},
		{name: "timeout beyond int64", fn: `{"cluster":"c","timeoutMillis":-99999999999999999999}`, err: "authorizers[0].authorizerFunction.timeoutMillis: -99999999999999999999 out of range [1, 60000]"},
		{name: "timeout tiny fraction", fn: `{"cluster":"c","timeoutMillis":2500.0000000000000001}`, err: "authorizers[0].authorizerFunction.timeoutMillis: must be an integer, got 2500.0000000000000001"},
		{name: "escapes decoded", fn: `{"cluster":"c\u00e9\ud83d\ude00","path":"\/x"}`, check: func(t *testing.T, a *Authorizer) {
			if a.Cluster != "cé😀" || a.Authority != a.Cluster || a.Path != "/x" {
				t.Fatalf("%q %q", a.Cluster, a.Path)
			}
		}},
		{name: "invalid UTF-8 kept", fn: "{\"cluster\":\"c\xff\"}", check: func(t *testing.T, a *Authorizer) {
			if a.Cluster != "c\xff" {
				t.Fatalf("%q", a.Cluster)
			}
		}},
		{name: "escaped duplicate field", fn: `{"cluster":"c","\u0063luster":"d"}`, err: "authorizers[0].authorizerFunction.cluster: duplicate field"},
		{name: "null field", fn: `{"cluster":null}`, err: "authorizers[0].authorizerFunction.cluster: must be a string, got null"},
		{name: "trailing comma", fn: `{"cluster":"c",}`, err: "configuration: not valid JSON"},
		{name: "comment", fn: `{"cluster":"c" /* x */}`, err: "configuration: not valid JSON"},
		{name: "single quotes", fn: `{'cluster':'c'}`, err: "configuration: not valid JSON"},
		{name: "raw control character", fn: "{\"cluster\":\"c\td\"}", err: "configuration: not valid JSON"},
		{name: "deep nesting", fn: `{"cluster":"c","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, err: "configuration: not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := Parse([]byte(head + tc.fn + `}]}`)); require.Err(t, err, tc.err) {
				tc.check(t, c.Authorizers["a"])
			}
		})
	}
	if _, err := Parse([]byte(head + `{"cluster":"c"}}]} {}`)); err == nil || err.Error() != "configuration: not valid JSON" {
		t.Fatalf("two values: %v", err)
	}
}
