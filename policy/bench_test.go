package policy

import "testing"

// benchDocs is the benchmark policy: 10 statements in 3 documents, with variables, conditions
// and denies, shaped like a fleet's device policy.
var benchDocs = []string{`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Connect", "Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"},
    {"Sid": "OwnTopics", "Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/${iot:ClientId}/*"},
    {"Sid": "OwnFilters", "Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/devices/${iot:ClientId}/*"},
    {"Sid": "Shadow", "Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe", "iot:Receive"], "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:ClientId}/shadow/*", "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/things/${iot:ClientId}/shadow/*"]}
  ]
}`, `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Tenant", "Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/tenants/${context:tenant}/*"},
    {"Sid": "TenantFilters", "Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/tenants/${context:tenant}/*"},
    {"Sid": "Broadcast", "Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/broadcast/*"}
  ]
}`, `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "NoAdmin", "Effect": "Deny", "Action": "iot:*", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*/admin/*"},
    {"Sid": "Fleet", "Effect": "Deny", "Action": ["iot:Publish", "iot:Subscribe"], "Resource": "*", "Condition": {"StringNotLike": {"iot:ClientId": "dev*"}}},
    {"Sid": "Office", "Effect": "Deny", "Action": "iot:Pub*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}
  ]
}`}

var benchVars = &Vars{ClientID: "dev1", HasClientID: true, SourceIP: "10.1.2.3", Context: map[string]string{"tenant": "acme"}}

const benchResource = "arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/telemetry"

func benchSet(tb testing.TB) *Set {
	return MustCompileJSON(benchDocs...)
}

func TestBenchPolicy(t *testing.T) {
	s := benchSet(t)
	n := 0
	for _, d := range s.Documents() {
		n += len(d.Statements)
	}
	if len(s.Documents()) != 3 || n != 10 {
		t.Fatalf("benchmark policy has %d documents, %d statements; want 3 and 10", len(s.Documents()), n)
	}
	if got := s.Evaluate(ActionPublish, benchResource, benchVars); got != Allowed {
		t.Fatalf("benchmark request: %s", got)
	}
}

// TestSet_Evaluate_noAlloc holds the zero-allocation promise of Evaluate.
func TestSet_Evaluate_noAlloc(t *testing.T) {
	s := benchSet(t)
	reqs := [][2]string{
		{ActionPublish, benchResource},
		{ActionSubscribe, "arn:aws:iot:us-east-1:123456789012:topicfilter/tenants/acme/#"},
		{ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/x/admin/y"},
		{"iot:publish", benchResource},
		{"iot:Unknown", benchResource},
	}
	for _, r := range reqs {
		if n := testing.AllocsPerRun(100, func() { s.Evaluate(r[0], r[1], benchVars) }); n != 0 {
			t.Errorf("Evaluate(%s, %s) allocates %v times", r[0], r[1], n)
		}
	}

	// The CONNECT keys, the multivalued one included.
	conn := MustCompileJSON(`{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*", "Condition": {
	    "ForAllValues:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect", "LastWill"]},
	    "ArnLike": {"iot:LastWillTopic": "arn:aws:iot:*:123456789012:topic/status/${iot:ClientId}"},
	    "StringEquals": {"iot:DomainName": "iot.example.com"}}},
	  {"Effect": "Deny", "Action": "iot:Connect", "Resource": "*", "Condition": {
	    "ForAnyValue:StringLike": {"iot:ConnectAttributes": "Future*"}}}]}`)
	cv := &Vars{ClientID: "dev1", HasClientID: true,
		ConnectAttributes: []string{"PersistentConnect", "LastWill"}, HasConnectAttributes: true,
		LastWillTopic: "arn:aws:iot:us-east-1:123456789012:topic/status/dev1", HasLastWillTopic: true,
		DomainName: "iot.example.com", HasDomainName: true}
	if got := conn.Evaluate(ActionConnect, "arn:aws:iot:us-east-1:123456789012:client/dev1", cv); got != Allowed {
		t.Fatalf("connect request: %s", got)
	}
	if n := testing.AllocsPerRun(100, func() { conn.Evaluate(ActionConnect, "arn:aws:iot:us-east-1:123456789012:client/dev1", cv) }); n != 0 {
		t.Errorf("Evaluate(iot:Connect) with the CONNECT keys allocates %v times", n)
	}
}

// BenchmarkEvaluate is one MQTT PUBLISH decision: 3 documents, 10 statements, variables.
func BenchmarkEvaluate(b *testing.B) {
	benchEvaluate(b, (*Set).Evaluate, benchResource, Allowed)
}

// BenchmarkEvaluate_deny is a request denied by the first Deny statement.
func BenchmarkEvaluate_deny(b *testing.B) {
	benchEvaluate(b, (*Set).Evaluate, "arn:aws:iot:us-east-1:123456789012:topic/devices/admin/x", ExplicitDeny)
}

// BenchmarkEvaluate_naive is the baseline: the same decision with the reference matcher of the
// fuzz tests (patterns expanded and matched by dynamic programming on every request).
func BenchmarkEvaluate_naive(b *testing.B) {
	benchEvaluate(b, naiveEvaluate, benchResource, Allowed)
}

// benchEvaluate times eval on benchSet's policies for an iot:Publish to resource, which must
// give want.
func benchEvaluate(b *testing.B, eval func(*Set, string, string, *Vars) Result, resource string, want Result) {
	s := benchSet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := eval(s, ActionPublish, resource, benchVars); got != want {
			b.Fatalf("%s, want %s", got, want)
		}
	}
}

// naiveEvaluate walks every statement of every document, matching resources with refMatch.
func naiveEvaluate(s *Set, action, resource string, v *Vars) Result {
	result := ImplicitDeny
	for _, d := range s.docs {
		for _, st := range d.stmts {
			if !st.actionMatches(action) {
				continue
			}
			hit := false
			for _, p := range st.resources {
				toks, ok, _ := refParse(p.src, true, v.ClientID, v.Context)
				if ok && refMatch(toks, refChars(resource), false) {
					hit = true
					break
				}
			}
			if hit == st.notResource {
				continue
			}
			condOK := true
			for i := range st.conds {
				if !st.conds[i].eval(v) {
					condOK = false
					break
				}
			}
			if !condOK {
				continue
			}
			if st.effect == Deny {
				return ExplicitDeny
			}
			result = Allowed
		}
	}
	return result
}

// BenchmarkCompile parses and compiles the 3-document benchmark policy, as happens once per
// authorizer answer.
func BenchmarkCompile(b *testing.B) {
	docs := make([][]byte, len(benchDocs))
	for i, d := range benchDocs {
		docs[i] = []byte(d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CompileJSON(docs); err != nil {
			b.Fatal(err)
		}
	}
}
