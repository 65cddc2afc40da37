package policy

import (
	"errors"
	"strconv"
	"strings"
)

// AWS IoT actions a device's requests are checked against.
const (
	ActionConnect              = "iot:Connect"              // resource arn:...:client/CLIENTID
	ActionPublish              = "iot:Publish"              // resource arn:...:topic/TOPIC
	ActionRetainPublish        = "iot:RetainPublish"        // PUBLISH with RETAIN set, in addition to iot:Publish
	ActionSubscribe            = "iot:Subscribe"            // resource arn:...:topicfilter/FILTER
	ActionReceive              = "iot:Receive"              // resource arn:...:topic/TOPIC, each delivery
	ActionGetRetainedMessage   = "iot:GetRetainedMessage"   // resource arn:...:topic/TOPIC
	ActionListRetainedMessages = "iot:ListRetainedMessages" // resource *
)

// knownActions get a precomputed per-action statement index in a Set; other action names are
// matched statement by statement.
var knownActions = [...]string{
	ActionConnect, ActionPublish, ActionRetainPublish, ActionSubscribe, ActionReceive,
	ActionGetRetainedMessage, ActionListRetainedMessages,
	"iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow", "iot:ListNamedShadowsForThing",
	"iot:DescribeJobExecution", "iot:GetPendingJobExecutions", "iot:StartNextPendingJobExecution", "iot:UpdateJobExecution",
}

// Actions returns the AWS IoT data-plane actions this package knows, in a fixed order: the ones
// above, then the shadow and job actions. Evaluate accepts other names too (they match only
// wildcards such as "iot:*" or "*"); tools use this list to refuse a mistyped action.
func Actions() []string {
	return append([]string(nil), knownActions[:]...)
}

// actionIndex finds action among knownActions, ignoring case; -1 if it is not there.
func actionIndex(action string) int {
	if len(action) < 5 {
		return -1
	}
	for i, a := range knownActions[:] {
		// The fifth byte tells most known actions apart before a full comparison.
		if len(a) == len(action) && a[4] == action[4] && a == action {
			return i
		}
	}
	for i, a := range knownActions[:] {
		if len(a) == len(action) && strings.EqualFold(a, action) {
			return i
		}
	}
	return -1
}

// Result is the decision for one request, in AWS's TestAuthorization words.
type Result uint8

const (
	ImplicitDeny Result = iota // no statement allows the request
	Allowed                    // an Allow statement matches and no Deny statement does
	ExplicitDeny               // a Deny statement matches
)

// String returns "IMPLICIT_DENY", "ALLOWED" or "EXPLICIT_DENY".
func (r Result) String() string {
	switch r {
	case Allowed:
		return "ALLOWED"
	case ExplicitDeny:
		return "EXPLICIT_DENY"
	}
	return "IMPLICIT_DENY"
}

// Allowed reports whether r is Allowed.
func (r Result) Allowed() bool { return r == Allowed }

// Match names a statement that decided a request.
type Match struct {
	Document  int    // index of the document in the Set, from 0
	Statement int    // index of the statement in its document, from 0
	Path      string // the statement's JSON path in its document: "Statement[1]", or "Statement" when it is the only one, given as an object
	Sid       string
	Effect    Effect
}

// stmt is a compiled statement.
type stmt struct {
	doc, idx    int
	path        string
	sid         string
	effect      Effect
	notAction   bool
	actions     []*pattern
	notResource bool
	anyResource bool // Resource is exactly "*"
	resources   []*pattern
	conds       []cond
}

func (s *stmt) actionMatches(action string) bool {
	for _, p := range s.actions {
		if p.match(action, nil) == matched {
			return !s.notAction
		}
	}
	return s.notAction
}

// applies reports whether the statement matches the request; the action is already known to match.
func (s *stmt) applies(resource string, v *Vars) bool {
	if !s.anyResource {
		hit := false
		for _, p := range s.resources {
			// The common shapes are matched here rather than in a call: calls are what costs
			// most inside WebAssembly.
			var r matchResult
			switch p.fast {
			case fastAny:
				r = matched
			case fastPrefix:
				if hasPrefix(resource, p.toks[0].lit) {
					r = matched
				}
			default:
				r = p.matchSlow(resource, v)
			}
			if s.notResource {
				if r != noMatch {
					return false // matched, or a variable did not resolve
				}
			} else if r == matched {
				hit = true
				break
			}
		}
		if !hit && !s.notResource {
			return false
		}
	}
	for i := range s.conds {
		if !s.conds[i].eval(v) {
			return false
		}
	}
	return true
}

// Set is a compiled set of policy documents, ready to answer requests. A Set is immutable: any
// number of goroutines may call its methods at once.
type Set struct {
	docs  []*Document
	all   statementLists
	known [len(knownActions)]statementLists
}

type statementLists struct {
	deny, allow []*stmt
}

// Compile builds a Set from at most MaxDocuments documents. Statements are indexed by action, so
// a request looks only at the statements that name its action.
func Compile(docs ...*Document) (*Set, error) {
	if len(docs) > MaxDocuments {
		return nil, errors.New("policy: " + strconv.Itoa(len(docs)) + " documents; at most " + strconv.Itoa(MaxDocuments) + " are allowed")
	}
	s := &Set{docs: make([]*Document, len(docs))}
	n := 0
	for di, d := range docs {
		if d == nil {
			return nil, errors.New("policy: document " + strconv.Itoa(di+1) + " is nil")
		}
		s.docs[di] = d
		n += len(d.stmts)
	}
	// Each Set gets its own copy of the statements so that they can carry their document's
	// position; all copies share one allocation.
	copies := make([]stmt, 0, n)
	for di, d := range docs {
		for _, st := range d.stmts {
			c := *st
			c.doc = di
			copies = append(copies, c)
		}
	}
	// Fill the per-action lists in two passes so that each gets one exactly sized allocation.
	var matches [len(knownActions)][]bool
	for ai, a := range knownActions[:] {
		matches[ai] = make([]bool, n)
		for i := range copies {
			matches[ai][i] = copies[i].actionMatches(a)
		}
	}
	fill := func(l *statementLists, include func(i int) bool) {
		var deny, allow int
		for i := range copies {
			if include(i) {
				if copies[i].effect == Deny {
					deny++
				} else {
					allow++
				}
			}
		}
		if deny+allow == 0 {
			return
		}
		all := make([]*stmt, 0, deny+allow)
		l.deny, l.allow = all[:0:deny], all[deny:deny:deny+allow]
		for i := range copies {
			if include(i) {
				if copies[i].effect == Deny {
					l.deny = append(l.deny, &copies[i])
				} else {
					l.allow = append(l.allow, &copies[i])
				}
			}
		}
	}
	fill(&s.all, func(int) bool { return true })
	for ai := range knownActions {
		m := matches[ai]
		fill(&s.known[ai], func(i int) bool { return m[i] })
	}
	return s, nil
}

// CompileJSON parses each document (JSON object text, or a JSON string holding one) and compiles
// them. A parse error is an *Error whose Document field, and message, give the document's
// position counting from 1.
func CompileJSON(docs [][]byte) (*Set, error) {
	if len(docs) > MaxDocuments {
		return nil, errors.New("policy: " + strconv.Itoa(len(docs)) + " documents; at most " + strconv.Itoa(MaxDocuments) + " are allowed")
	}
	parsed := make([]*Document, len(docs))
	for i, b := range docs {
		d, err := Parse(b)
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				pe.Document = i + 1
			}
			return nil, err
		}
		parsed[i] = d
	}
	return Compile(parsed...)
}

// MustCompileJSON is CompileJSON for documents known to be valid, such as literals in tests; it
// panics on error.
func MustCompileJSON(docs ...string) *Set {
	b := make([][]byte, len(docs))
	for i, d := range docs {
		b[i] = []byte(d)
	}
	s, err := CompileJSON(b)
	if err != nil {
		panic(err)
	}
	return s
}

// Documents returns the documents of the set, in order.
func (s *Set) Documents() []*Document { return s.docs }

func (s *Set) lists(action string) (*statementLists, bool) {
	if ai := actionIndex(action); ai >= 0 {
		return &s.known[ai], true
	}
	return &s.all, false
}

// Evaluate decides whether the request (action, resource) is allowed under the variables v (nil
// means none). It does not allocate.
//
//	set.Evaluate(policy.ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/dev1/telemetry", &policy.Vars{ClientID: "dev1", HasClientID: true})
//	// → Allowed, ExplicitDeny or ImplicitDeny
func (s *Set) Evaluate(action, resource string, v *Vars) Result {
	l, known := s.lists(action)
	for _, st := range l.deny {
		if (known || st.actionMatches(action)) && st.applies(resource, v) {
			return ExplicitDeny
		}
	}
	for _, st := range l.allow {
		if (known || st.actionMatches(action)) && st.applies(resource, v) {
			return Allowed
		}
	}
	return ImplicitDeny
}

// Explain is Evaluate that also returns the statements that decided: every matching Deny
// statement for ExplicitDeny, every matching Allow statement for Allowed, none for ImplicitDeny.
// They come in document order. Explain allocates; use it for tools and logs.
func (s *Set) Explain(action, resource string, v *Vars) (Result, []Match) {
	l, known := s.lists(action)
	collect := func(list []*stmt) []Match {
		var out []Match
		for _, st := range list {
			if (known || st.actionMatches(action)) && st.applies(resource, v) {
				out = append(out, Match{Document: st.doc, Statement: st.idx, Path: st.path, Sid: st.sid, Effect: st.effect})
			}
		}
		return out
	}
	if m := collect(l.deny); len(m) > 0 {
		return ExplicitDeny, m
	}
	if m := collect(l.allow); len(m) > 0 {
		return Allowed, m
	}
	return ImplicitDeny, nil
}

// Interface guards.
var _ interface{ String() string } = Result(0)
