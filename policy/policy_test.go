package policy

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestResult_String(t *testing.T) {
	for r, want := range map[Result]string{ImplicitDeny: "IMPLICIT_DENY", Allowed: "ALLOWED", ExplicitDeny: "EXPLICIT_DENY"} {
		if r.String() != want {
			t.Errorf("%d.String() = %s, want %s", r, r, want)
		}
		if r.Allowed() != (r == Allowed) {
			t.Errorf("%s.Allowed() = %v", r, r.Allowed())
		}
	}
	if Allow.String() != "Allow" || Deny.String() != "Deny" {
		t.Error("Effect.String")
	}
}

func TestError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"message only", Error{Msg: "m"}, "m"},
		{"document only", Error{Document: 3, Msg: "m"}, "document 3: m"},
		{"path and sid", Error{Path: "Statement[2].Action[1]", Sid: "S", Line: 4, Column: 9, Msg: "m"}, `Statement[2] (Sid "S").Action[1], line 4 column 9: m`},
		{"single statement with sid", Error{Document: 1, Path: "Statement.Effect", Sid: "S", Line: 1, Column: 2, Msg: "m"}, `document 1, Statement (Sid "S").Effect, line 1 column 2: m`},
		{"in string", Error{Line: 1, Column: 5, InString: true, Msg: "m"}, "line 1 column 5 of the policy inside the JSON string: m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParse_errorType(t *testing.T) {
	_, err := Parse([]byte(`{"Version":"2012-10-17","Statement":{"Sid":"X","Effect":"Allow","Action":"iot:Publish","Resource":"nope"}}`))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not *Error", err)
	}
	if pe.Document != 0 || pe.Path != "Statement.Resource" || pe.Sid != "X" || pe.Line != 1 || pe.Column != 99 {
		t.Errorf("got %+v", *pe)
	}
	_, err = CompileJSON([][]byte{[]byte(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), []byte(`{}`)})
	if !errors.As(err, &pe) || pe.Document != 2 {
		t.Errorf("CompileJSON error %v does not name document 2", err)
	}
}

func TestParse_document(t *testing.T) {
	d, err := Parse([]byte(`{"Version":"2012-10-17","Id":"p","Statement":[
		{"Sid":"A","Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"*",
		 "Condition":{"StringLike":{"iot:ClientId":["a*","b*"]},"Bool":{"context:x":true}}},
		{"Effect":"Deny","NotAction":"iot:Connect","NotResource":"arn:aws:iot:r:1:client/x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != Version2012 || d.ID != "p" || len(d.Statements) != 2 {
		t.Fatalf("document %+v", d)
	}
	a, b := d.Statements[0], d.Statements[1]
	if a.Sid != "A" || a.Effect != Allow || strings.Join(a.Action, ",") != "iot:Publish,iot:Receive" || a.Resource[0] != "*" {
		t.Errorf("statement 0: %+v", a)
	}
	if len(a.Condition) != 2 || a.Condition[0].Operator != "StringLike" || a.Condition[0].Key != "iot:ClientId" ||
		strings.Join(a.Condition[0].Values, ",") != "a*,b*" || a.Condition[1].Values[0] != "true" {
		t.Errorf("conditions: %+v", a.Condition)
	}
	if b.Effect != Deny || b.NotAction[0] != "iot:Connect" || b.NotResource[0] != "arn:aws:iot:r:1:client/x" || b.Action != nil || b.Resource != nil {
		t.Errorf("statement 1: %+v", b)
	}
}

func TestCompile_limits(t *testing.T) {
	d, err := Parse([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`))
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]*Document, MaxDocuments)
	for i := range docs {
		docs[i] = d
	}
	if _, err := Compile(docs...); err != nil {
		t.Errorf("%d documents: %v", MaxDocuments, err)
	}
	if _, err := Compile(append(docs, d)...); err == nil {
		t.Errorf("%d documents compiled", MaxDocuments+1)
	}
	if _, err := Compile(d, nil); err == nil || !strings.Contains(err.Error(), "document 2 is nil") {
		t.Errorf("nil document: %v", err)
	}
	// The same Document in two positions reports each position.
	s, _ := Compile(d, d)
	if _, m := s.Explain(ActionPublish, "x", nil); len(m) != 2 || m[0].Document != 0 || m[1].Document != 1 {
		t.Errorf("matches %+v", m)
	}
}

func TestParse_sizeLimit(t *testing.T) {
	head := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Sid":"`
	tail := `"}}`
	fill := MaxDocumentChars - len(head) - len(tail)
	exact := head + strings.Repeat("é", fill) + tail // characters, not bytes, are counted
	if _, err := Parse([]byte(exact)); err != nil {
		t.Errorf("%d characters: %v", MaxDocumentChars, err)
	}
	spaced := strings.ReplaceAll(exact, ",", " ,\n\t ")
	if _, err := Parse([]byte(spaced)); err != nil {
		t.Errorf("whitespace outside strings counted: %v", err)
	}
	over := head + strings.Repeat("é", fill+1) + tail
	if _, err := Parse([]byte(over)); err == nil || !strings.Contains(err.Error(), "2049 characters") {
		t.Errorf("%d characters: %v", MaxDocumentChars+1, err)
	}
}

func TestSet_Evaluate_nilVars(t *testing.T) {
	s := MustCompileJSON(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:1:topic/${iot:ClientId}"},
		{"Effect":"Allow","Action":"iot:Subscribe","Resource":"*","Condition":{"StringNotEquals":{"iot:ClientId":"x"}}}]}`)
	if got := s.Evaluate(ActionPublish, "arn:aws:iot:r:1:topic/", nil); got != ImplicitDeny {
		t.Errorf("publish with nil vars: %s", got)
	}
	if got := s.Evaluate(ActionSubscribe, "arn:aws:iot:r:1:topicfilter/a", nil); got != Allowed {
		t.Errorf("subscribe with nil vars (negated operator, absent key): %s", got)
	}
}

func TestMustCompileJSON_panics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	MustCompileJSON(`{}`)
}

// TestSet_Evaluate_concurrent is a hammer test for the thread-safety promise; run it with -race.
func TestSet_Evaluate_concurrent(t *testing.T) {
	s := benchSet(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if s.Evaluate(ActionPublish, benchResource, benchVars) != Allowed {
					t.Error("not allowed")
					return
				}
				if r, m := s.Explain(ActionPublish, benchResource, benchVars); r != Allowed || len(m) != 1 {
					t.Error("explain")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		bits int
	}{
		{"10.0.0.0/8", true, 104}, {"10.0.0.0/0", true, 96}, {"1.2.3.4", true, 128}, {"::/0", true, 0},
		{"2001:db8::/32", true, 32}, {"::1", true, 128}, {"10.0.0.0/33", false, 0}, {"::/129", false, 0},
		{"10.0.0.0/", false, 0}, {"10.0.0.0/08", false, 0}, {"10.0.0.0/a", false, 0}, {"x/8", false, 0}, {"", false, 0},
	}
	for _, tc := range tests {
		n, ok := parseCIDR(tc.in)
		if ok != tc.ok || (ok && n.bits != tc.bits) {
			t.Errorf("parseCIDR(%q) = %d, %v; want %d, %v", tc.in, n.bits, ok, tc.bits, tc.ok)
		}
	}
}

func TestSize(t *testing.T) {
	for text, want := range map[string]int{
		`{"a": "b c"}`:              11,
		"{\n  \"a\" :\t[1, 2]\r\n}": 11,
		`"é \" x"`:                  8,
		``:                          0,
	} {
		if got := Size(text); got != want {
			t.Errorf("Size(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestActions(t *testing.T) {
	a := Actions()
	for _, want := range []string{ActionConnect, ActionPublish, ActionRetainPublish, ActionSubscribe, ActionReceive} {
		found := false
		for _, x := range a {
			found = found || x == want
		}
		if !found {
			t.Errorf("Actions() lacks %s", want)
		}
	}
	a[0] = "changed"
	if Actions()[0] != ActionConnect {
		t.Error("Actions() returns the package's own array")
	}
}
