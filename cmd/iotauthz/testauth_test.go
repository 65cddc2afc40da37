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

	type stmt = matchedStatement
	tests := []struct {
		name    string
		args    []string
		want    string
		matched []stmt
	}{
		{
			name: "allowed by the variable statement",
			args: []string{"--policy", device, "--policy", deny, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/dev1/t", "--client-id", "dev1", "--context", "tenant=acme"},
			want: "ALLOWED", matched: []stmt{{Policy: device, Statement: "Statement[1]", Sid: "Own", Effect: "Allow"}},
		},
		{
			name: "explicit deny from the string document",
			args: []string{"--policy", device, "--policy", deny, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/admin/x", "--client-id", "admin", "--context", "tenant=acme", "--source-ip", "10.1.1.1"},
			want: "EXPLICIT_DENY", matched: []stmt{{Policy: deny, Statement: "Statement", Sid: "NoAdmin", Effect: "Deny"}},
		},
		{
			name: "implicit deny without the context key",
			args: []string{"--policy", device, "--action", "iot:Publish", "--resource", testAuthARN + "topic/acme/dev1/t", "--client-id", "dev1"},
			want: "IMPLICIT_DENY", matched: []stmt{},
		},
		{
			name: "source ip condition, flags after each other in any order",
			args: []string{"--action", "iot:publish", "--source-ip", "10.2.3.4", "--resource", testAuthARN + "topic/x", "--policy", device},
			want: "ALLOWED", matched: []stmt{{Policy: device, Statement: "Statement[2]", Effect: "Allow"}},
		},
		{
			name: "no client id means ${iot:ClientId} does not resolve",
			args: []string{"--policy", device, "--action", "iot:Connect", "--resource", testAuthARN + "client/"},
			want: "IMPLICIT_DENY", matched: []stmt{},
		},
		{
			name: "an empty client id is a client id",
			args: []string{"--policy", device, "--action", "iot:Connect", "--resource", testAuthARN + "client/", "--client-id", ""},
			want: "ALLOWED", matched: []stmt{{Policy: device, Statement: "Statement[0]", Sid: "Connect", Effect: "Allow"}},
		},
		{
			name: "a context value may contain '='",
			args: []string{"--policy", device, "--action", "iot:Receive", "--resource", testAuthARN + "topic/a=b/d/x", "--client-id", "d", "--context", "tenant=a=b"},
			want: "ALLOWED", matched: []stmt{{Policy: device, Statement: "Statement[1]", Sid: "Own", Effect: "Allow"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"test-authorization"}, tc.args...), &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, stderr.String())
			}
			var out testAuthOutput
			dec := json.NewDecoder(&stdout)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out); err != nil {
				t.Fatalf("output is not the JSON shape: %v", err)
			}
			if out.AuthDecision != tc.want {
				t.Errorf("authDecision %s, want %s", out.AuthDecision, tc.want)
			}
			if !reflect.DeepEqual(out.MatchedStatements, tc.matched) {
				t.Errorf("matchedStatements %+v, want %+v", out.MatchedStatements, tc.matched)
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
		{"duplicate context", []string{"--policy", good, "--action", "a:b", "--resource", "*", "--context", "k=1", "--context", "k=2"}, []string{`key "k" given twice`}},
		{"unknown flag", []string{"--policy", good, "--bogus"}, []string{"flag provided but not defined: -bogus"}},
		{"positional argument", []string{"--policy", good, "--action", "a:b", "--resource", "*", "extra"}, []string{`unexpected argument "extra"`}},
		{"too many policies", []string{"--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good,
			"--policy", good, "--policy", good, "--policy", good, "--policy", good, "--policy", good, "--action", "a:b", "--resource", "*"}, []string{"11 policies given"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"test-authorization"}, tc.args...), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout not empty: %s", stdout.String())
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), w)
				}
			}
		})
	}
}

func TestTestAuthorization_help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"test-authorization", "--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"--policy FILE", "--action", "--resource", "--client-id", "--source-ip", "--context KEY=VALUE",
		"EXPLICIT_DENY", "IMPLICIT_DENY", "exits with status 2", "${context:KEY}", "-source-ip IP"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("help does not mention %q", w)
		}
	}
}
