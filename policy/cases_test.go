package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// testCase is one file of testdata/cases: documents, one request, and the expected decision or
// the expected error.
type testCase struct {
	Note string `json:"note"`
	// Source is the AWS documentation the expected behaviour comes from (a URL), when the case
	// checks a statement of AWS's.
	Source string `json:"source"`
	// Documents are JSON values given to Parse as their text (objects, or strings holding one).
	Documents []json.RawMessage `json:"documents"`
	// RawDocuments are texts given to Parse verbatim, for documents that are not valid JSON.
	RawDocuments []string `json:"rawDocuments"`
	Request      *struct {
		Action   string            `json:"action"`
		Resource string            `json:"resource"`
		ClientID *string           `json:"clientId"` // absent: no client id (HTTP)
		SourceIP string            `json:"sourceIp"`
		Context  map[string]string `json:"context"`
		// ConnectAttributes absent: the key is absent; [] : present and empty.
		ConnectAttributes *[]string `json:"connectAttributes"`
		LastWillTopic     *string   `json:"lastWillTopic"` // absent: no Will
		DomainName        *string   `json:"domainName"`    // absent: no endpoint name
	} `json:"request"`
	Want        string   `json:"want"`        // ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY
	WantMatched [][2]int `json:"wantMatched"` // [document, statement] pairs, counting from 0
	WantError   string   `json:"wantError"`   // the exact error text
}

func (c *testCase) docs() [][]byte {
	var out [][]byte
	for _, d := range c.Documents {
		out = append(out, []byte(d))
	}
	for _, d := range c.RawDocuments {
		out = append(out, []byte(d))
	}
	return out
}

func (c *testCase) vars() *Vars {
	r := c.Request
	v := &Vars{SourceIP: r.SourceIP, Context: r.Context}
	if r.ClientID != nil {
		v.ClientID, v.HasClientID = *r.ClientID, true
	}
	if r.ConnectAttributes != nil {
		v.ConnectAttributes, v.HasConnectAttributes = *r.ConnectAttributes, true
	}
	if r.LastWillTopic != nil {
		v.LastWillTopic, v.HasLastWillTopic = *r.LastWillTopic, true
	}
	if r.DomainName != nil {
		v.DomainName, v.HasDomainName = *r.DomainName, true
	}
	return v
}

func loadCases(tb testing.TB) map[string]*testCase {
	tb.Helper()
	files, err := filepath.Glob("testdata/cases/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	cases := map[string]*testCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var c testCase
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		cases[strings.TrimSuffix(filepath.Base(f), ".json")] = &c
	}
	return cases
}

func TestCases(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 150 {
		t.Errorf("only %d cases in testdata/cases; the corpus must keep at least 150", len(cases))
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			if c.Note == "" {
				t.Error("case has no note")
			}
			if c.Source != "" && !strings.HasPrefix(c.Source, "https://docs.aws.amazon.com/") {
				t.Errorf("source %q is not an AWS documentation URL", c.Source)
			}
			set, err := CompileJSON(c.docs())
			if c.WantError != "" {
				if err == nil {
					t.Fatalf("compiled; want error %q", c.WantError)
				}
				if err.Error() != c.WantError {
					t.Fatalf("error\n got: %s\nwant: %s", err, c.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.Request == nil {
				t.Fatal("case has neither request nor wantError")
			}
			v := c.vars()
			got := set.Evaluate(c.Request.Action, c.Request.Resource, v)
			if got.String() != c.Want {
				t.Errorf("Evaluate = %s, want %s", got, c.Want)
			}
			res, matches := set.Explain(c.Request.Action, c.Request.Resource, v)
			if res != got {
				t.Errorf("Explain = %s, Evaluate = %s", res, got)
			}
			if c.WantMatched != nil {
				gotM := [][2]int{}
				for _, m := range matches {
					gotM = append(gotM, [2]int{m.Document, m.Statement})
				}
				if !reflect.DeepEqual(gotM, c.WantMatched) {
					t.Errorf("matched statements %v, want %v", gotM, c.WantMatched)
				}
			}
			if (res == ImplicitDeny) != (len(matches) == 0) {
				t.Errorf("Explain gave %s with %d matches", res, len(matches))
			}
		})
	}
}
