package authorizer

import (
	"strings"
	"testing"
)

// The JSON rules of a response (internal/jsonv): strict RFC 8259, numbers read exactly, escapes
// decoded, invalid UTF-8 kept as gjson kept it, documents returned as their raw text.
func TestParseResponse_JSONRules(t *testing.T) {
	const head = `{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":3600,"policyDocuments":[{"Version" : "2012-10-17" ,"Statement":[]}],`
	tests := []struct {
		name, tail, err string
		check           func(t *testing.T, r *Response)
	}{
		{name: "exponent", tail: `"refreshAfterInSeconds":3E2}`, check: func(t *testing.T, r *Response) {
			if r.RefreshAfterInSeconds != 300 {
				t.Fatal(r.RefreshAfterInSeconds)
			}
		}},
		{name: "beyond float64", tail: `"refreshAfterInSeconds":1e400}`, err: "refreshAfterInSeconds: 1e400 out of range [300, 86400]"},
		{name: "beyond int64", tail: `"refreshAfterInSeconds":100000000000000000000}`, err: "refreshAfterInSeconds: 100000000000000000000 out of range [300, 86400]"},
		{name: "tiny fraction", tail: `"refreshAfterInSeconds":300.0000000000000001}`, err: "refreshAfterInSeconds: must be an integer, got 300.0000000000000001"},
		{name: "negative fraction", tail: `"refreshAfterInSeconds":-0.5}`, err: "refreshAfterInSeconds: must be an integer, got -0.5"},
		{name: "raw document text", tail: `"refreshAfterInSeconds":300}`, check: func(t *testing.T, r *Response) {
			if string(r.PolicyDocuments[0]) != `{"Version" : "2012-10-17" ,"Statement":[]}` {
				t.Fatalf("%q", r.PolicyDocuments[0])
			}
		}},
		{name: "context escapes and invalid UTF-8", tail: "\"refreshAfterInSeconds\":300,\"context\":{\"t\\u00e9\":\"a\\\"b\\ud83d\\ude00\",\"raw\":\"x\xffy\",\"lone\":\"\\ud800z\"}}", check: func(t *testing.T, r *Response) {
			if r.Context["té"] != "a\"b😀" || r.Context["raw"] != "x\xffy" || r.Context["lone"] != "\ufffdz" {
				t.Fatalf("%q", r.Context)
			}
		}},
		{name: "escaped field name", tail: `"refresh\u0041fterInSeconds":300}`, check: func(t *testing.T, r *Response) {
			if r.RefreshAfterInSeconds != 300 {
				t.Fatal(r.RefreshAfterInSeconds)
			}
		}},
		{name: "escaped duplicate field", tail: `"refreshAfterInSeconds":300,"is\u0041uthenticated":true}`, err: "isAuthenticated: duplicate field"},
		{name: "duplicates in ignored fields", tail: `"refreshAfterInSeconds":300,"x":{"a":1,"a":2},"x":[]}`, check: func(t *testing.T, r *Response) {}},
		{name: "trailing comma", tail: `"refreshAfterInSeconds":300,}`, err: "body: not valid JSON"},
		{name: "NaN", tail: `"refreshAfterInSeconds":NaN}`, err: "body: not valid JSON"},
		{name: "leading zero", tail: `"refreshAfterInSeconds":0300}`, err: "body: not valid JSON"},
		{name: "deep nesting", tail: `"refreshAfterInSeconds":300,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, err: "body: not valid JSON"},
		{name: "policyDocuments twice", tail: `"refreshAfterInSeconds":300,"policyDocuments":["{\"a\":1,}"]}`, err: "policyDocuments: duplicate field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(head+tc.tail), Limits{})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
	if _, err := ParseResponse([]byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":300,"refreshAfterInSeconds":300,"policyDocuments":["{\"a\":1,}"]}`), Limits{}); err == nil || err.Error() != "policyDocuments[0]: string does not hold a JSON object" {
		t.Fatalf("string document with a trailing comma: %v", err)
	}
}
