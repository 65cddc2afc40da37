package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testAuthARN = "arn:aws:iot:us-east-1:123456789012:"

func writePolicy(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runTestAuth runs test-authorization with args, wants exit 0, and returns the output, which must
// have the JSON shape of testAuthOutput (AWS's TestAuthorization response) and no other field.
func runTestAuth(t *testing.T, args []string) testAuthOutput {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"test-authorization"}, args...), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	var out testAuthOutput
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("output is not the JSON shape: %v", err)
	}
	return out
}

// runTestAuth1 is runTestAuth for a single request: it wants one auth result and returns it.
func runTestAuth1(t *testing.T, args []string) authResult {
	t.Helper()
	out := runTestAuth(t, args)
	if len(out.AuthResults) != 1 {
		t.Fatalf("%d auth results, want 1", len(out.AuthResults))
	}
	return out.AuthResults[0]
}

// decidingPolicies returns the names of the policies listed under the result's decision, and
// checks that the other two lists are empty.
func decidingPolicies(t *testing.T, r authResult) []string {
	t.Helper()
	lists := map[string][]policyRef{"ALLOWED": r.Allowed.Policies, "EXPLICIT_DENY": r.Denied.ExplicitDeny.Policies, "IMPLICIT_DENY": r.Denied.ImplicitDeny.Policies}
	names := []string{}
	for decision, l := range lists {
		if l == nil {
			t.Errorf("%s policies: null, want a list", decision)
		}
		if decision != r.AuthDecision && len(l) > 0 {
			t.Errorf("authDecision %s but %s lists %+v", r.AuthDecision, decision, l)
		}
	}
	for _, p := range lists[r.AuthDecision] {
		names = append(names, p.PolicyName)
	}
	return names
}

// checkTestAuthUsage runs test-authorization with args and wants a usage error: exit 2, nothing
// on stdout, and each of want on stderr.
func checkTestAuthUsage(t *testing.T, args []string, want ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"test-authorization"}, args...), &stdout, &stderr)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout not empty: %s", stdout.String())
	}
	for _, w := range want {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr %q does not contain %q", stderr.String(), w)
		}
	}
}

func TestTestAuthorization(t *testing.T) {
	device := writePolicy(t, "device.json", `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Connect", "Effect": "Allow", "Action": "iot:Connect", "Resource": "`+testAuthARN+`client/${iot:ClientId}"},
    {"Sid": "Own", "Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "`+testAuthARN+`topic/${context:tenant}/${iot:ClientId}/*"},
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": "`+testAuthARN+`topic/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
  ]
}`)
	// The second document is a JSON string holding the policy, as TestInvokeAuthorizer returns.
	deny := writePolicy(t, "deny.json", `"{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"NoAdmin\",\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"`+testAuthARN+`topic/*/admin/*\"}}"`)

	tests := []struct {
		name     string
		args     []string
		want     string
		policies []string // the policies listed under the decision
	}{
		{
			name: "allowed by the variable statement",
			args: []string{"--policy", device, "--policy", deny, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/dev1/t", "--client-id", "dev1", "--context", "tenant=acme"},
			want: "ALLOWED", policies: []string{"device"},
		},
		{
			name: "explicit deny from the string document",
			args: []string{"--policy", device, "--policy", deny, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/admin/x", "--client-id", "admin", "--context", "tenant=acme", "--source-ip", "10.1.1.1"},
			want: "EXPLICIT_DENY", policies: []string{"deny"},
		},
		{
			name: "implicit deny without the context key",
			args: []string{"--policy", device, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/dev1/t", "--client-id", "dev1"},
			want: "IMPLICIT_DENY", policies: []string{"device"},
		},
		{
			name: "source ip condition, flags after each other in any order",
			args: []string{"--action", "iot:publish", "--source-ip", "10.2.3.4", "--resource", testAuthARN + "topic/x", "--policy", device},
			want: "ALLOWED", policies: []string{"device"},
		},
		{
			name: "no client id means ${iot:ClientId} does not resolve",
			args: []string{"--policy", device, "--action", "iot:Connect", "--resource", testAuthARN + "client/"},
			want: "IMPLICIT_DENY", policies: []string{"device"},
		},
		{
			name: "an empty client id is a client id",
			args: []string{"--policy", device, "--action", "iot:Connect", "--resource", testAuthARN + "client/", "--client-id", ""},
			want: "ALLOWED", policies: []string{"device"},
		},
		{
			name: "a context value may contain '='",
			args: []string{"--policy", device, "--action", "iot:Receive", "--resource", testAuthARN + "topic/a=b/d/x", "--client-id", "d", "--context", "tenant=a=b"},
			want: "ALLOWED", policies: []string{"device"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := runTestAuth1(t, tc.args)
			if out.AuthDecision != tc.want {
				t.Errorf("authDecision %s, want %s", out.AuthDecision, tc.want)
			}
			if got := decidingPolicies(t, out); !reflect.DeepEqual(got, tc.policies) {
				t.Errorf("policies %q, want %q", got, tc.policies)
			}
		})
	}
}

func TestTestAuthorization_errors(t *testing.T) {
	good := writePolicy(t, "good.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	bad := writePolicy(t, "bad.json", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Sid\": \"S\", \"Effect\": \"Allow\", \"Action\": \"iot:Publish\", \"Resource\": \"topic/x\"}\n}\n")
	tests := []struct {
		name       string
		args       []string
		wantStderr []string
	}{
		{"invalid policy names file and place", []string{"--policy", good, "--policy", bad, "--action", "iot:Publish", "--resource", "*"},
			[]string{bad + ": Statement (Sid \"S\").Resource, line 3 column 85: resource \"topic/x\" must be \"*\" or an ARN"}},
		{"missing file", []string{"--policy", bad + ".missing", "--action", "iot:Publish", "--resource", "*"}, []string{"bad.json.missing"}},
		{"no policy", []string{"--action", "iot:Publish", "--resource", "*"}, []string{"no --policy FILE given"}},
		{"no action", []string{"--policy", good, "--resource", "*"}, []string{"no --action given"}},
		{"no resource", []string{"--policy", good, "--action", "iot:Publish"}, []string{"no --resource given"}},
		{"bad context", []string{"--policy", good, "--action", "iot:Publish", "--resource", "*", "--context", "novalue"}, []string{`--context "novalue": expected KEY=VALUE`}},
		{"duplicate context", []string{"--policy", good, "--action", "iot:Publish", "--resource", "*", "--context", "k=1", "--context", "k=2"}, []string{`key "k" given twice`}},
		{"unknown flag", []string{"--policy", good, "--bogus"}, []string{"flag provided but not defined: -bogus"}},
		{"positional argument", []string{"--policy", good, "--action", "a:b", "--resource", "*", "extra"}, []string{`unexpected argument "extra"`}},
		{"too many policies", []string{"--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good,
			"--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good, "--action", "a:b", "--resource", "*"}, []string{"11 policies given"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkTestAuthUsage(t, tc.args, tc.wantStderr...) })
	}
}

func TestTestAuthorization_help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"test-authorization", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"--policy FILE", "--action", "--resource", "--client-id", "--source-ip", "--context KEY=VALUE",
		"--connect-attributes A,B", "--last-will-topic TOPIC", "--domain-name HOST", "PersistentConnect", "iot:Publsh",
		"EXPLICIT_DENY", "IMPLICIT_DENY", "exits with status 2", "${context:KEY}", "-source-ip IP"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("help does not mention %q", w)
		}
	}
}

// TestTestAuthorization_connectKeys drives the CONNECT's condition keys from the flags, with AWS's
// connect-policy examples.
func TestTestAuthorization_connectKeys(t *testing.T) {
	// AWS: "allows clean connect by clients with or without LastWill".
	cleanOrWill := writePolicy(t, "clean.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
	  "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": ["LastWill"]}}}]}`)
	// AWS: "only allows connect using default features".
	defaults := writePolicy(t, "defaults.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
	  "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}}}]}`)
	// AWS: "allows connect only with PersistentConnect".
	persistent := writePolicy(t, "persistent.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
	  "Condition": {"ForAnyValue:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect"]}}}]}`)
	// The key is present on iot:Connect even when empty; absent elsewhere.
	present := writePolicy(t, "present.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*",
	  "Condition": {"Null": {"iot:ConnectAttributes": "false"}}}]}`)
	will := writePolicy(t, "will.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
	  "Condition": {"ArnEquals": {"iot:LastWillTopic": "`+testAuthARN+`topic/status/${iot:ClientId}"}}}]}`)
	domain := writePolicy(t, "domain.json", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "`+testAuthARN+`*",
	  "Condition": {"StringEquals": {"iot:DomainName": "iot.example.com"}}}]}`)
	conn := []string{"--action", "iot:Connect", "--resource", testAuthARN + "client/dev1", "--client-id", "dev1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags: a clean CONNECT without a Will", append([]string{"--policy", defaults}, conn...), "ALLOWED"},
		{"empty attributes", append([]string{"--policy", defaults, "--connect-attributes", ""}, conn...), "ALLOWED"},
		{"persistent is not a default feature", append([]string{"--policy", defaults, "--connect-attributes", "PersistentConnect"}, conn...), "IMPLICIT_DENY"},
		{"a Will implies LastWill", append([]string{"--policy", defaults, "--last-will-topic", "status/dev1"}, conn...), "IMPLICIT_DENY"},
		{"clean with a Will", append([]string{"--policy", cleanOrWill, "--last-will-topic", "status/dev1"}, conn...), "ALLOWED"},
		{"persistent with a Will", append([]string{"--policy", cleanOrWill, "--connect-attributes", "PersistentConnect,LastWill", "--last-will-topic", "status/dev1"}, conn...), "IMPLICIT_DENY"},
		{"ForAnyValue on the empty list", append([]string{"--policy", persistent}, conn...), "IMPLICIT_DENY"},
		{"ForAnyValue, both attributes", append([]string{"--policy", persistent, "--connect-attributes", "LastWill,PersistentConnect", "--last-will-topic", "x"}, conn...), "ALLOWED"},
		{"key present on connect", append([]string{"--policy", present}, conn...), "ALLOWED"},
		{"key absent on publish", []string{"--policy", present, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x"}, "IMPLICIT_DENY"},
		{"Will topic ARN built from the resource", append([]string{"--policy", will, "--last-will-topic", "status/dev1"}, conn...), "ALLOWED"},
		{"Will topic given as an ARN", append([]string{"--policy", will, "--last-will-topic", testAuthARN + "topic/status/dev1"}, conn...), "ALLOWED"},
		{"another client's Will topic", append([]string{"--policy", will, "--last-will-topic", "status/dev2"}, conn...), "IMPLICIT_DENY"},
		{"no Will, no iot:LastWillTopic", append([]string{"--policy", will}, conn...), "IMPLICIT_DENY"},
		{"domain name", []string{"--policy", domain, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x", "--domain-name", "iot.example.com"}, "ALLOWED"},
		{"domain name compared in lower case", []string{"--policy", domain, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x", "--domain-name", "IoT.Example.COM"}, "ALLOWED"},
		{"other domain", []string{"--policy", domain, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x", "--domain-name", "legacy.example.com"}, "IMPLICIT_DENY"},
		{"no domain", []string{"--policy", domain, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x"}, "IMPLICIT_DENY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out := runTestAuth1(t, tc.args); out.AuthDecision != tc.want {
				t.Errorf("authDecision %s, want %s", out.AuthDecision, tc.want)
			}
		})
	}
}

// TestTestAuthorization_badConnectKeys: flags no CONNECT could produce, and unknown actions, exit 2.
func TestTestAuthorization_badConnectKeys(t *testing.T) {
	good := writePolicy(t, "good.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	conn := []string{"--policy", good, "--action", "iot:Connect", "--resource", testAuthARN + "client/dev1"}
	pub := []string{"--policy", good, "--action", "iot:Publish", "--resource", testAuthARN + "topic/x"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"misspelt action", []string{"--policy", good, "--action", "iot:Publsh", "--resource", "*"}, `unknown action "iot:Publsh"; the actions are iot:Connect, iot:Publish, iot:RetainPublish, iot:Subscribe, iot:Receive`},
		{"other service", []string{"--policy", good, "--action", "s3:GetObject", "--resource", "*"}, `unknown action "s3:GetObject"`},
		{"wildcard action", []string{"--policy", good, "--action", "iot:*", "--resource", "*"}, `unknown action "iot:*"`},
		{"unknown attribute", append([]string{"--connect-attributes", "Persistent"}, conn...), `unknown attribute "Persistent"`},
		{"attribute case", append([]string{"--connect-attributes", "lastwill"}, conn...), `unknown attribute "lastwill"`},
		{"empty element", append([]string{"--connect-attributes", "PersistentConnect,"}, conn...), `unknown attribute ""`},
		{"oversized attribute", append([]string{"--connect-attributes", strings.Repeat("P", 1<<20)}, conn...), `unknown attribute "` + strings.Repeat("P", 64) + `..."`},
		{"repeated attribute", append([]string{"--connect-attributes", "PersistentConnect,PersistentConnect"}, conn...), "PersistentConnect given twice"},
		{"LastWill without a topic", append([]string{"--connect-attributes", "LastWill"}, conn...), "has LastWill but no --last-will-topic"},
		{"topic without LastWill", append([]string{"--connect-attributes", "PersistentConnect", "--last-will-topic", "t"}, conn...), "needs LastWill in --connect-attributes"},
		{"empty Will topic", append([]string{"--last-will-topic", ""}, conn...), "the topic is empty"},
		{"Will topic without an ARN resource", []string{"--policy", good, "--action", "iot:Connect", "--resource", "*", "--last-will-topic", "t"}, "cannot build the topic ARN"},
		{"attributes on publish", append([]string{"--connect-attributes", ""}, pub...), "--connect-attributes applies only to --action iot:Connect"},
		{"Will topic on publish", append([]string{"--last-will-topic", "t"}, pub...), "--last-will-topic applies only to --action iot:Connect"},
		{"domain with a port", append([]string{"--domain-name", "iot.example.com:443"}, pub...), "give the host name alone"},
		{"empty domain", append([]string{"--domain-name", ""}, pub...), "give the host name alone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkTestAuthUsage(t, tc.args, tc.want) })
	}
	// A good request still works after the refusals.
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"test-authorization", "--connect-attributes", "PersistentConnect"}, conn...), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), `"ALLOWED"`) {
		t.Fatalf("good request: exit %d, stdout %s, stderr %s", code, stdout.String(), stderr.String())
	}
}

// TestTestAuthorization_awsShape checks the output against AWS TestAuthorization's response
// shape, field by field and in AWS's order, for several auth infos given as the AWS CLI takes
// them (https://docs.aws.amazon.com/iot/latest/apireference/API_TestAuthorization.html).
func TestTestAuthorization_awsShape(t *testing.T) {
	device := writePolicy(t, "device.json", `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "iot:Connect", "Resource": "`+testAuthARN+`client/${iot:ClientId}"},
	  {"Effect": "Allow", "Action": "iot:Publish", "Resource": "`+testAuthARN+`topic/${context:tenant}/*"}]}`)
	deny := writePolicy(t, "deny.json", `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Deny", "Action": "iot:Publish", "Resource": "`+testAuthARN+`topic/*/admin"},
	  {"Effect": "Allow", "Action": "iot:Publish", "Resource": "`+testAuthARN+`topic/acme/*",
	   "Condition": {"StringEquals": {"iot:Connection.Thing.ThingName": "t"}}}]}`)
	infos := `[{"actionType": "CONNECT", "resources": ["` + testAuthARN + `client/dev1"]},
	  {"actionType": "PUBLISH", "resources": ["` + testAuthARN + `topic/acme/a", "` + testAuthARN + `topic/acme/admin"]},
	  {"actionType": "iot:Subscribe", "resources": ["*"]}]`
	var stdout, stderr bytes.Buffer
	code := run([]string{"test-authorization", "--policy", device, "--policy", deny, "--client-id", "dev1", "--context", "tenant=acme", "--auth-infos", infos}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p := func(name string) string {
		return `{"policyName":"` + name + `","policyArn":"` + testAuthARN + `policy/` + name + `"}`
	}
	want := `{"authResults":[` +
		`{"authInfo":{"actionType":"CONNECT","resources":["` + testAuthARN + `client/dev1"]},"allowed":{"policies":[` + p("device") + `]},` +
		`"denied":{"implicitDeny":{"policies":[]},"explicitDeny":{"policies":[]}},"authDecision":"ALLOWED","missingContextValues":[]},` +
		`{"authInfo":{"actionType":"PUBLISH","resources":["` + testAuthARN + `topic/acme/a","` + testAuthARN + `topic/acme/admin"]},"allowed":{"policies":[]},` +
		`"denied":{"implicitDeny":{"policies":[]},"explicitDeny":{"policies":[` + p("deny") + `]}},"authDecision":"EXPLICIT_DENY","missingContextValues":["iot:Connection.Thing.ThingName"]},` +
		`{"authInfo":{"actionType":"iot:Subscribe","resources":["*"]},"allowed":{"policies":[]},` +
		`"denied":{"implicitDeny":{"policies":[{"policyName":"device"},{"policyName":"deny"}]},"explicitDeny":{"policies":[]}},"authDecision":"IMPLICIT_DENY","missingContextValues":[]}]}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, stdout.Bytes()); err != nil {
		t.Fatal(err)
	}
	if compact.String() != want {
		t.Errorf("output\n got: %s\nwant: %s", compact.String(), want)
	}

	// The same requests as the AWS CLI's shorthand and as file://, one result each, in order.
	file := writePolicy(t, "infos.json", `{"actionType": "RECEIVE", "resources": ["`+testAuthARN+`topic/acme/x"]}`)
	out := runTestAuth(t, []string{"--policy", device, "--client-id", "dev1",
		"--auth-infos", "actionType=PUBLISH,resources=" + testAuthARN + "topic/acme/a," + testAuthARN + "topic/acme/b",
		"--auth-infos", "file://" + file})
	if len(out.AuthResults) != 2 {
		t.Fatalf("%d results", len(out.AuthResults))
	}
	if r := out.AuthResults[0]; r.AuthDecision != "IMPLICIT_DENY" || len(r.AuthInfo.Resources) != 2 || !reflect.DeepEqual(r.MissingContextValues, []string{"context:tenant"}) {
		t.Errorf("shorthand result %+v", r)
	}
	if r := out.AuthResults[1]; r.AuthInfo.ActionType != "RECEIVE" || r.AuthDecision != "IMPLICIT_DENY" {
		t.Errorf("file:// result %+v", r)
	}
	// Every resource must be allowed: one implicit deny among allowed ones decides.
	r := runTestAuth1(t, []string{"--policy", device, "--context", "tenant=acme", "--auth-infos",
		"actionType=PUBLISH,resources=" + testAuthARN + "topic/acme/a," + testAuthARN + "topic/other/b"})
	if r.AuthDecision != "IMPLICIT_DENY" || len(r.Denied.ImplicitDeny.Policies) != 1 || len(r.Allowed.Policies) != 0 {
		t.Errorf("mixed resources %+v", r)
	}
	// --action maps to AWS's actionType where one exists.
	if r := runTestAuth1(t, []string{"--policy", device, "--action", "iot:retainpublish", "--resource", testAuthARN + "topic/x"}); r.AuthInfo.ActionType != "iot:retainpublish" {
		t.Errorf("actionType %q", r.AuthInfo.ActionType)
	}
	if r := runTestAuth1(t, []string{"--policy", device, "--action", "iot:publish", "--resource", testAuthARN + "topic/x"}); r.AuthInfo.ActionType != "PUBLISH" {
		t.Errorf("actionType %q", r.AuthInfo.ActionType)
	}
}

func TestTestAuthorization_authInfosErrors(t *testing.T) {
	good := writePolicy(t, "good.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	good2 := filepath.Join(t.TempDir(), "good.json")
	os.WriteFile(good2, []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), 0o644)
	eleven := "[" + strings.TrimSuffix(strings.Repeat(`{"actionType":"PUBLISH","resources":["*"]},`, 11), ",") + "]"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both forms", []string{"--policy", good, "--action", "iot:Publish", "--auth-infos", "actionType=PUBLISH,resources=*"}, "give one form, not both"},
		{"bad JSON", []string{"--policy", good, "--auth-infos", `[{"actionType":"PUBLISH","resource":["*"]}]`}, "not AWS's authInfos JSON"},
		{"trailing text", []string{"--policy", good, "--auth-infos", `[{"actionType":"PUBLISH","resources":["*"]}] x`}, "text after the JSON value"},
		{"no action type", []string{"--policy", good, "--auth-infos", `{"resources":["*"]}`}, "auth info 1 has no actionType"},
		{"unknown action type", []string{"--policy", good, "--auth-infos", `{"actionType":"PUBLSH","resources":["*"]}`}, `unknown action "PUBLSH"`},
		{"no resources", []string{"--policy", good, "--auth-infos", `{"actionType":"PUBLISH","resources":[]}`}, "auth info 1 has no resources"},
		{"empty resource", []string{"--policy", good, "--auth-infos", `actionType=PUBLISH,resources=`}, "auth info 1 has an empty resource"},
		{"bad shorthand", []string{"--policy", good, "--auth-infos", `action=PUBLISH`}, `unknown key "action"`},
		{"empty array", []string{"--policy", good, "--auth-infos", `[]`}, "0 auth infos; AWS takes 1 to 10"},
		{"eleven", []string{"--policy", good, "--auth-infos", eleven}, "11 auth infos; AWS takes 1 to 10"},
		{"missing file", []string{"--policy", good, "--auth-infos", "file:///nonexistent/infos.json"}, "nonexistent"},
		{"same policy name", []string{"--policy", good, "--policy", good2, "--action", "iot:Publish", "--resource", "*"}, `are both named "good"`},
		{"connect keys without a connect", []string{"--policy", good, "--connect-attributes", "", "--auth-infos", "actionType=PUBLISH,resources=*"}, "--connect-attributes applies only"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkTestAuthUsage(t, tc.args, tc.want) })
	}
}
