package authorizer

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

const okPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`

func TestParseResponse_Valid(t *testing.T) {
	body := `{"isAuthenticated":true,"principalId":"Device42","disconnectAfterInSeconds":86400,
		"refreshAfterInSeconds":300.0,"policyDocuments":[` + okPolicy + `,"{\"Version\":\"2012-10-17\",\"Statement\":[]}"],
		"context":{"tenant":"acme","empty":""},"somethingElse":[1,2,{"x":null}]}`
	r, err := ParseResponse([]byte(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsAuthenticated || r.PrincipalID != "Device42" || r.DisconnectAfterInSeconds != 86400 || r.RefreshAfterInSeconds != 300 {
		t.Fatalf("%+v", r)
	}
	if len(r.PolicyDocuments) != 2 || string(r.PolicyDocuments[0]) != okPolicy || string(r.PolicyDocuments[1]) != `{"Version":"2012-10-17","Statement":[]}` {
		t.Fatalf("documents %q", r.PolicyDocuments)
	}
	if len(r.Context) != 2 || r.Context["tenant"] != "acme" {
		t.Fatalf("context %v", r.Context)
	}

	// Context values: numbers and booleans as their JSON text, null leaves the key out (as API
	// Gateway's Lambda authorizer context:
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
	r, err = ParseResponse([]byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":300,"refreshAfterInSeconds":300,"policyDocuments":[],
		"context":{"n":42,"f":-1.5e3,"t":true,"no":false,"z":null,"s":"x"}}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"n": "42", "f": "-1.5e3", "t": "true", "no": "false", "s": "x"}; len(r.Context) != len(want) || func() bool {
		for k, v := range want {
			if got, ok := r.Context[k]; !ok || got != v {
				return true
			}
		}
		return false
	}() {
		t.Fatalf("context %q", r.Context)
	}
	if _, ok := r.Context["z"]; ok {
		t.Fatal("a null context value is present")
	}

	// A deny needs only isAuthenticated.
	r, err = ParseResponse([]byte(` {"isAuthenticated":false} `), Limits{})
	if err != nil || r.IsAuthenticated {
		t.Fatalf("%+v %v", r, err)
	}
	// Test override of the minimum interval; empty documents allowed.
	r, err = ParseResponse([]byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":2,"refreshAfterInSeconds":1,"policyDocuments":[]}`), Limits{MinInterval: 1})
	if err != nil || r.RefreshAfterInSeconds != 1 || len(r.PolicyDocuments) != 0 || r.Context != nil {
		t.Fatalf("%+v %v", r, err)
	}
	// The returned documents do not alias the body.
	b := []byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":300,"refreshAfterInSeconds":300,"policyDocuments":[{"a":1}]}`)
	r, _ = ParseResponse(b, Limits{})
	for i := range b {
		b[i] = 'x'
	}
	if string(r.PolicyDocuments[0]) != `{"a":1}` {
		t.Fatal("document aliases the body")
	}
}

func TestParseResponse_Invalid(t *testing.T) {
	base := map[string]string{
		"isAuthenticated":          `true`,
		"principalId":              `"abc"`,
		"disconnectAfterInSeconds": `3600`,
		"refreshAfterInSeconds":    `300`,
		"policyDocuments":          `[` + okPolicy + `]`,
	}
	// with returns the base response with field set to raw ("" removes it).
	with := func(field, raw string) string {
		var b strings.Builder
		b.WriteString("{")
		n := 0
		for _, k := range []string{"isAuthenticated", "principalId", "disconnectAfterInSeconds", "refreshAfterInSeconds", "policyDocuments", "context"} {
			v, ok := base[k]
			if k == field {
				v, ok = raw, raw != ""
			}
			if !ok {
				continue
			}
			if n > 0 {
				b.WriteString(",")
			}
			n++
			b.WriteString(`"` + k + `":` + v)
		}
		b.WriteString("}")
		return b.String()
	}
	bigDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"` + strings.Repeat("r", 2048) + `"}]}`
	tenDocs := strings.TrimSuffix(strings.Repeat(okPolicy+",", 11), ",")
	manyKeys := "{"
	for i := 0; i < 33; i++ {
		if i > 0 {
			manyKeys += ","
		}
		manyKeys += `"k` + strings.Repeat("x", i) + `":"v"`
	}
	manyKeys += "}"
	manyNulls := strings.Replace(manyKeys, `"v"`, `null`, 20) // 13 values, 20 nulls: still 33 members
	tests := []struct{ name, body, err string }{
		{"not json", `{"isAuthenticated":true`, "body: not valid JSON"},
		{"empty body", ``, "body: not valid JSON"},
		{"array body", `[]`, "body: not a JSON object, got array"},
		{"string body", `"x"`, "body: not a JSON object, got string"},
		{"isAuthenticated missing", with("isAuthenticated", ""), "isAuthenticated: required"},
		{"isAuthenticated string", with("isAuthenticated", `"true"`), "isAuthenticated: must be a boolean, got string"},
		{"isAuthenticated number", with("isAuthenticated", `1`), "isAuthenticated: must be a boolean, got number"},
		{"isAuthenticated null", with("isAuthenticated", `null`), "isAuthenticated: must be a boolean, got null"},
		{"isAuthenticated duplicate", `{"isAuthenticated":false,"isAuthenticated":true}`, "isAuthenticated: duplicate field"},
		{"principalId missing", with("principalId", ""), "principalId: required when isAuthenticated is true"},
		{"principalId number", with("principalId", `42`), "principalId: must be a string, got number"},
		{"principalId empty", with("principalId", `""`), "principalId: must match [a-zA-Z0-9]{1,128}, got 0 characters"},
		{"principalId dash", with("principalId", `"a-b"`), "principalId: must match [a-zA-Z0-9]{1,128}, got '-' at offset 1"},
		{"principalId underscore", with("principalId", `"a_b"`), "principalId: must match [a-zA-Z0-9]{1,128}, got '_' at offset 1"},
		{"principalId unicode", with("principalId", `"é"`), "principalId: must match [a-zA-Z0-9]{1,128}, got 'Ã' at offset 0"},
		{"principalId too long", with("principalId", `"`+strings.Repeat("a", 129)+`"`), "principalId: must match [a-zA-Z0-9]{1,128}, got 129 characters"},
		{"disconnect missing", with("disconnectAfterInSeconds", ""), "disconnectAfterInSeconds: required when isAuthenticated is true"},
		{"disconnect string", with("disconnectAfterInSeconds", `"3600"`), "disconnectAfterInSeconds: must be an integer, got string"},
		{"disconnect fraction", with("disconnectAfterInSeconds", `3600.5`), "disconnectAfterInSeconds: must be an integer, got 3600.5"},
		{"disconnect low", with("disconnectAfterInSeconds", `299`), "disconnectAfterInSeconds: 299 out of range [300, 86400]"},
		{"disconnect high", with("disconnectAfterInSeconds", `86401`), "disconnectAfterInSeconds: 86401 out of range [300, 86400]"},
		{"disconnect huge", with("disconnectAfterInSeconds", `1e300`), "disconnectAfterInSeconds: 1e300 out of range [300, 86400]"},
		{"disconnect negative", with("disconnectAfterInSeconds", `-300`), "disconnectAfterInSeconds: -300 out of range [300, 86400]"},
		{"refresh missing", with("refreshAfterInSeconds", ""), "refreshAfterInSeconds: required when isAuthenticated is true"},
		{"refresh bool", with("refreshAfterInSeconds", `true`), "refreshAfterInSeconds: must be an integer, got boolean"},
		{"refresh fraction", with("refreshAfterInSeconds", `300.25`), "refreshAfterInSeconds: must be an integer, got 300.25"},
		{"refresh low", with("refreshAfterInSeconds", `0`), "refreshAfterInSeconds: 0 out of range [300, 86400]"},
		{"refresh high", with("refreshAfterInSeconds", `100000`), "refreshAfterInSeconds: 100000 out of range [300, 86400]"},
		{"policies missing", with("policyDocuments", ""), "policyDocuments: required when isAuthenticated is true"},
		{"policies object", with("policyDocuments", okPolicy), "policyDocuments: must be an array, got object"},
		{"policies string", with("policyDocuments", `"x"`), "policyDocuments: must be an array, got string"},
		{"policies eleven", with("policyDocuments", `[`+tenDocs+`]`), "policyDocuments: more than 10 documents"},
		{"policy number", with("policyDocuments", `[`+okPolicy+`,1]`), "policyDocuments[1]: must be an object or a string holding one, got number"},
		{"policy array", with("policyDocuments", `[[]]`), "policyDocuments[0]: must be an object or a string holding one, got array"},
		{"policy null", with("policyDocuments", `[null]`), "policyDocuments[0]: must be an object or a string holding one, got null"},
		{"policy string not json", with("policyDocuments", `["{nope"]`), "policyDocuments[0]: string does not hold a JSON object"},
		{"policy string array", with("policyDocuments", `["[]"]`), "policyDocuments[0]: string does not hold a JSON object"},
		{"policy too long", with("policyDocuments", `[`+bigDoc+`]`), "policyDocuments[0]: 2142 characters, at most 2048 allowed"},
		{"policy string too long", with("policyDocuments", `[`+quote(bigDoc)+`]`), "policyDocuments[0]: 2142 characters, at most 2048 allowed"},
		{"context array", with("context", `[]`), "context: must be an object of strings, numbers or booleans, got array"},
		{"context object value", with("context", `{"o":{}}`), "context.o: must be a string, number, boolean or null, got object"},
		{"context array value", with("context", `{"a":[1]}`), "context.a: must be a string, number, boolean or null, got array"},
		{"context duplicate null", with("context", `{"z":null,"z":"x"}`), "context.z: duplicate key"},
		{"context duplicate after null", with("context", `{"z":"x","z":null}`), "context.z: duplicate key"},
		{"context many keys with nulls", with("context", manyNulls), "context: more than 32 keys"},
		{"context empty key", with("context", `{"":"x"}`), "context: empty key"},
		{"context long key", with("context", `{"`+strings.Repeat("k", 129)+`":"x"}`), "context: key of 129 characters, at most 128 allowed"},
		{"context long value", with("context", `{"k":"`+strings.Repeat("v", 1025)+`"}`), "context.k: 1025 characters, at most 1024 allowed"},
		{"context many keys", with("context", manyKeys), "context: more than 32 keys"},
		{"context duplicate", with("context", `{"a":"1","a":"2"}`), "context.a: duplicate key"},
		// Present fields are checked even in a deny.
		{"deny with bad principal", `{"isAuthenticated":false,"principalId":"a b"}`, "principalId: must match [a-zA-Z0-9]{1,128}, got ' ' at offset 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tc.body), Limits{})
			if err == nil || err.Error() != tc.err {
				t.Fatalf("err = %v, want %q (response %+v)\nbody %s", err, tc.err, r, tc.body)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatal("multi-line error")
			}
		})
	}
}

func quote(s string) string { return string(jsonv.AppendString(nil, s)) }

func TestParseResponse_Limits(t *testing.T) {
	b := []byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":60,"refreshAfterInSeconds":30,"policyDocuments":[]}`)
	if _, err := ParseResponse(b, Limits{MinInterval: 30, MaxInterval: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseResponse(b, Limits{MinInterval: 31, MaxInterval: 60}); err == nil || err.Error() != "refreshAfterInSeconds: 30 out of range [31, 60]" {
		t.Fatal(err)
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"isAuthenticated":true,"principalId":"a","disconnectAfterInSeconds":300,"refreshAfterInSeconds":300,"policyDocuments":["{}",{}],"context":{"a":"b"}}`))
	f.Add([]byte(`{"isAuthenticated":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b, Limits{})
		if err == nil && r.IsAuthenticated && (r.PrincipalID == "" || r.RefreshAfterInSeconds < 300) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	body := []byte(`{"isAuthenticated":true,"principalId":"Device42","disconnectAfterInSeconds":86400,"refreshAfterInSeconds":300,"policyDocuments":[` + okPolicy + `]}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseResponse(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseResponse_PolicySizeIgnoresWhiteSpace: the 2048-character limit counts as AWS IoT and
// policy.Size do, without the white space outside strings, so an indented document fits.
func TestParseResponse_PolicySizeIgnoresWhiteSpace(t *testing.T) {
	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": "` +
		strings.Repeat("r", 1900) + `"}]}`
	indented := strings.ReplaceAll(doc, ", ", ",\n"+strings.Repeat(" ", 100))
	if len(indented) <= MaxPolicyChars {
		t.Fatalf("test document too short: %d", len(indented))
	}
	body := `{"isAuthenticated":true,"principalId":"p","refreshAfterInSeconds":300,"disconnectAfterInSeconds":300,"policyDocuments":[` + indented + `]}`
	if _, err := ParseResponse([]byte(body), Limits{}); err != nil {
		t.Fatalf("indented document refused: %v", err)
	}
}
