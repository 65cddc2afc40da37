package authorizer

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iotauthz/iotauthz/internal/jsonv"
	"github.com/iotauthz/iotauthz/policy"
)

// Response limits. The interval bounds come from Limits; the others are fixed.
const (
	// DefaultMinInterval and DefaultMaxInterval bound refreshAfterInSeconds and
	// disconnectAfterInSeconds, as AWS does (5 minutes to 24 hours).
	DefaultMinInterval = 300
	DefaultMaxInterval = 86400

	MaxPrincipalIDLen    = 128                     // principalId: [a-zA-Z0-9]{1,128}
	MaxPolicyDocuments   = 10                      // policyDocuments: at most 10 entries
	MaxPolicyChars       = policy.MaxDocumentChars // each document at most 2048 characters, white space outside strings not counted
	MaxContextKeys       = 32                      // context (our extension): at most 32 members
	MaxContextKeyChars   = 128                     // each key 1–128 characters
	MaxContextValueChars = 1024                    // each value at most 1024 characters
)

// Limits are the bounds of refreshAfterInSeconds and disconnectAfterInSeconds. A zero field
// means its default (300, 86400); tests lower MinInterval through the configuration's
// testOverrides.
type Limits struct {
	MinInterval, MaxInterval int
}

func (l Limits) withDefaults() Limits {
	if l.MinInterval <= 0 {
		l.MinInterval = DefaultMinInterval
	}
	if l.MaxInterval <= 0 {
		l.MaxInterval = DefaultMaxInterval
	}
	return l
}

// Response is a validated authorizer answer:
//
//	{
//	  "isAuthenticated": true,
//	  "principalId": "device42",
//	  "disconnectAfterInSeconds": 86400,
//	  "refreshAfterInSeconds": 300,
//	  "policyDocuments": [{"Version": "2012-10-17", "Statement": [...]}, "{\"Version\": ...}"],
//	  "context": {"tenant": "acme"}
//	}
type Response struct {
	// IsAuthenticated: "isAuthenticated", a JSON boolean, always required. false denies.
	IsAuthenticated bool
	// PrincipalID: "principalId", [a-zA-Z0-9]{1,128}; required when authenticated.
	PrincipalID string
	// DisconnectAfterInSeconds: "disconnectAfterInSeconds", an integer in
	// [MinInterval, MaxInterval]; the connection's maximum lifetime. Required when authenticated:
	// AWS documents no default, so a response without it is refused rather than guessed.
	DisconnectAfterInSeconds int
	// RefreshAfterInSeconds: "refreshAfterInSeconds", an integer in [MinInterval, MaxInterval];
	// how long the policy is cached before the authorizer is called again. Required when
	// authenticated, like DisconnectAfterInSeconds.
	RefreshAfterInSeconds int
	// PolicyDocuments: "policyDocuments", an array of at most 10 policy documents, each a JSON
	// object or a string holding one (TestInvokeAuthorizer's form), each at most 2048 characters
	// of JSON text. Here each is the object's text (strings unwrapped). Required when
	// authenticated; may be empty (then everything is implicitly denied).
	PolicyDocuments [][]byte
	// Context: "context" (our extension; AWS's Lambda "other information"), an optional object
	// of string values: at most 32 members, keys of 1–128 characters, values of at most 1024
	// characters. Exposed to policies as variables and written to decision logs. nil when absent.
	// As API Gateway's Lambda authorizer context (string, number and boolean values; objects and
	// arrays refused: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html),
	// numbers and booleans are kept as their JSON text ("42", "true"); a null member is left
	// out (the key is absent).
	Context map[string]string
}

// ParseResponse validates an authorizer's answer. Fields other than the six above are ignored
// (AWS ignores them). Any error denies; its text starts with the field's path and fits on one
// line, for example:
//
//	body: not valid JSON
//	isAuthenticated: must be a boolean, got string
//	principalId: must match [a-zA-Z0-9]{1,128}
//	refreshAfterInSeconds: 100 out of range [300, 86400]
//	policyDocuments[1]: 2051 characters, at most 2048 allowed
//	context.tenant: must be a string, number, boolean or null, got object
//
// Fields present in a response with isAuthenticated false are validated too; missing ones are
// only required when it is true. body is not retained.
//
// The JSON rules are jsonv's (RFC 8259, at most jsonv.DefaultMaxDepth levels) with strings that
// are not valid UTF-8 kept as they are. A duplicate of one of the six fields, or of a context
// key, is an error naming it; duplicates elsewhere are left alone (ignored fields) or to
// policy.Parse (policy documents, which refuses them).
func ParseResponse(body []byte, lim Limits) (*Response, error) {
	lim = lim.withDefaults()
	root, err := jsonOptions.Parse(body)
	if err != nil {
		return nil, errorf("body", "not valid JSON")
	}
	if root.Kind() != jsonv.Object {
		return nil, errorf("body", "not a JSON object, got "+kind(root))
	}
	r := &Response{}
	var seen [6]bool
	for m := range root.RangeMembers {
		name, v := m.Key, m.Value
		idx := -1
		switch name {
		case "isAuthenticated":
			idx = 0
			if v.Kind() != jsonv.Bool {
				err = errorf(name, "must be a boolean, got "+kind(v))
			}
			r.IsAuthenticated = v.Bool()
		case "principalId":
			idx = 1
			r.PrincipalID, err = principalID(v)
		case "disconnectAfterInSeconds":
			idx = 2
			r.DisconnectAfterInSeconds, err = interval(name, v, lim)
		case "refreshAfterInSeconds":
			idx = 3
			r.RefreshAfterInSeconds, err = interval(name, v, lim)
		case "policyDocuments":
			idx = 4
			r.PolicyDocuments, err = policyDocuments(v)
		case "context":
			idx = 5
			r.Context, err = contextMap(v)
		}
		if idx >= 0 {
			if seen[idx] {
				err = errorf(name, "duplicate field")
			}
			seen[idx] = true
		}
		if err != nil {
			return nil, err
		}
	}
	if !seen[0] {
		return nil, errorf("isAuthenticated", "required")
	}
	if r.IsAuthenticated {
		for i, name := range [...]string{"", "principalId", "disconnectAfterInSeconds", "refreshAfterInSeconds", "policyDocuments"} {
			if i > 0 && !seen[i] {
				return nil, errorf(name, "required when isAuthenticated is true")
			}
		}
	}
	return r, nil
}

// Error is a response validation error: Field is the path ("policyDocuments[2]").
type Error struct {
	Field, Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

func errorf(field, reason string) error { return &Error{Field: field, Reason: reason} }

// jsonOptions are the JSON rules of a response: invalid UTF-8 in strings is kept as it is, as
// gjson (which read responses before jsonv) did.
var jsonOptions = jsonv.Options{AllowInvalidUTF8: true}

// kind names a value's JSON type in errors: "null", "boolean", "number", "string", "array" or
// "object".
func kind(v jsonv.Value) string { return v.Kind().String() }

func principalID(v jsonv.Value) (string, error) {
	const field = "principalId"
	if v.Kind() != jsonv.String {
		return "", errorf(field, "must be a string, got "+kind(v))
	}
	s := v.Str()
	if s == "" || len(s) > MaxPrincipalIDLen {
		return "", errorf(field, "must match [a-zA-Z0-9]{1,128}, got "+strconv.Itoa(len(s))+" characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", errorf(field, "must match [a-zA-Z0-9]{1,128}, got "+strconv.QuoteRune(rune(c))+" at offset "+strconv.Itoa(i))
		}
	}
	return strings.Clone(s), nil // not a view of the body: a cached decision must not keep it alive
}

// interval reads an integer in [lim.MinInterval, lim.MaxInterval]. The value is read exactly from
// the literal: 300, 300.0 and 3e2 are 300; 300.5 is not an integer, nor is
// 300.0000000000000001; 1e400 is an integer out of range.
func interval(field string, v jsonv.Value, lim Limits) (int, error) {
	if v.Kind() != jsonv.Number {
		return 0, errorf(field, "must be an integer, got "+kind(v))
	}
	n, ok := v.Int()
	if !ok && !v.IsIntegral() {
		return 0, errorf(field, "must be an integer, got "+v.Raw())
	}
	if !ok || n < int64(lim.MinInterval) || n > int64(lim.MaxInterval) {
		return 0, errorf(field, v.Raw()+" out of range ["+strconv.Itoa(lim.MinInterval)+", "+strconv.Itoa(lim.MaxInterval)+"]")
	}
	return int(n), nil
}

func policyDocuments(v jsonv.Value) ([][]byte, error) {
	const field = "policyDocuments"
	if v.Kind() != jsonv.Array {
		return nil, errorf(field, "must be an array, got "+kind(v))
	}
	docs := make([][]byte, 0, 2)
	for _, d := range v.RangeElems {
		path := field + "[" + strconv.Itoa(len(docs)) + "]"
		if len(docs) == MaxPolicyDocuments {
			return nil, errorf(field, "more than "+strconv.Itoa(MaxPolicyDocuments)+" documents")
		}
		var text string
		switch d.Kind() {
		case jsonv.Object:
			text = d.Raw()
		case jsonv.String:
			text = d.Str()
			if inner, err := jsonOptions.ParseString(text); err != nil || inner.Kind() != jsonv.Object {
				return nil, errorf(path, "string does not hold a JSON object")
			}
		default:
			return nil, errorf(path, "must be an object or a string holding one, got "+kind(d))
		}
		// Measured as the policy package measures it (and AWS IoT: white space outside strings
		// does not count), so the plugin and iotauthz test-authorization agree.
		if n := policy.Size(text); n > MaxPolicyChars {
			return nil, errorf(path, strconv.Itoa(n)+" characters, at most "+strconv.Itoa(MaxPolicyChars)+" allowed")
		}
		docs = append(docs, []byte(text))
	}
	return docs, nil
}

func contextMap(v jsonv.Value) (map[string]string, error) {
	const field = "context"
	if v.Kind() != jsonv.Object {
		return nil, errorf(field, "must be an object of strings, numbers or booleans, got "+kind(v))
	}
	m := make(map[string]string)
	var nulls map[string]bool // keys given as null, for the duplicate check
	var err error
	for mem := range v.RangeMembers {
		key, val := mem.Key, mem.Value
		path := field + "." + key
		switch {
		case key == "":
			err = errorf(field, "empty key")
		case utf8.RuneCountInString(key) > MaxContextKeyChars:
			err = errorf(field, "key of "+strconv.Itoa(utf8.RuneCountInString(key))+" characters, at most "+strconv.Itoa(MaxContextKeyChars)+" allowed")
		case len(m)+len(nulls) == MaxContextKeys:
			err = errorf(field, "more than "+strconv.Itoa(MaxContextKeys)+" keys")
		case val.Kind() == jsonv.Null:
			// null: the key is absent (a policy's Null condition holds on it), as a JSON
			// serializer writes an unset optional value.
			if _, dup := m[key]; dup || nulls[key] {
				err = errorf(path, "duplicate key")
			} else {
				if nulls == nil {
					nulls = map[string]bool{}
				}
				nulls[key] = true
			}
		case val.Kind() != jsonv.String && val.Kind() != jsonv.Number && val.Kind() != jsonv.Bool:
			err = errorf(path, "must be a string, number, boolean or null, got "+kind(val))
		default:
			s := val.Str()
			if val.Kind() != jsonv.String {
				s = val.Raw() // numbers and booleans as written: 42, 1.5e3, true
			}
			if n := utf8.RuneCountInString(s); n > MaxContextValueChars {
				err = errorf(path, strconv.Itoa(n)+" characters, at most "+strconv.Itoa(MaxContextValueChars)+" allowed")
			} else if _, dup := m[key]; dup || nulls[key] {
				err = errorf(path, "duplicate key")
			} else {
				m[strings.Clone(key)] = strings.Clone(s) // not views of the body
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}
