package policy

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// Limits of the authorizer contract.
const (
	// MaxDocuments is the most policy documents one authorizer response, and one Set, may hold.
	MaxDocuments = 10
	// MaxDocumentChars is the most characters one document may have, not counting whitespace
	// outside strings.
	MaxDocumentChars = 2048
)

// Policy language versions. Policy variables are read only under Version2012; under Version2008,
// or with no Version, "${...}" is literal text, as in IAM.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Size is the measure MaxDocumentChars applies to: the characters of a policy's JSON text, not
// counting whitespace outside strings, so that a pretty-printed document measures as its compact
// form. Give it the policy text itself (for a document sent as a JSON string, the string's
// content).
func Size(text string) int {
	return significantChars(text)
}

// Effect is a statement's effect.
type Effect uint8

const (
	Allow Effect = iota
	Deny
)

// String returns "Allow" or "Deny".
func (e Effect) String() string {
	if e == Deny {
		return "Deny"
	}
	return "Allow"
}

// Document is one parsed and validated policy document. Its exported fields show what was parsed;
// changing them does not change what Compile uses. A Document is immutable and may be shared.
type Document struct {
	Version    string // "" when the document has none
	ID         string // the optional "Id" element
	Statements []Statement

	stmts []*stmt
}

// Statement is one parsed statement. Exactly one of Action and NotAction is set, and exactly one
// of Resource and NotResource.
type Statement struct {
	Sid                   string
	Effect                Effect
	Action, NotAction     []string
	Resource, NotResource []string
	Condition             []Condition // in document order
}

// Condition is one condition test: Operator as written (e.g. "ForAnyValue:StringLikeIfExists"),
// the condition key and its values as text.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Error is a policy that does not parse or validate. Its message says where and why.
type Error struct {
	// Document counts from 1 in the order given to CompileJSON; 0 when the error came from Parse,
	// which does not know the document's position.
	Document int
	// Path is the JSON path of the offending element inside the document, counting from 0,
	// e.g. `Statement[1].Condition.StringLike["iot:ClientId"]`; "" for the document as a whole.
	Path string
	// Sid is the Sid of the offending statement, if it has one.
	Sid string
	// Line and Column locate the element in the document text, counting from 1; 0 if unknown.
	Line, Column int
	// InString is set when the document was given as a JSON string holding the policy; Line and
	// Column then count inside that string's content.
	InString bool
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats the error as
//
//	document 2, Statement[1] (Sid "Pub").Effect, line 5 column 17: Effect must be "Allow" or "Deny", got "allow"
func (e *Error) Error() string {
	var b strings.Builder
	if e.Document > 0 {
		b.WriteString("document ")
		b.WriteString(strconv.Itoa(e.Document))
	}
	if e.Path != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.pathWithSid())
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(" column ")
		b.WriteString(strconv.Itoa(e.Column))
		if e.InString {
			b.WriteString(" of the policy inside the JSON string")
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// pathWithSid inserts ` (Sid "x")` after the statement index of the path.
func (e *Error) pathWithSid() string {
	if e.Sid == "" || !strings.HasPrefix(e.Path, "Statement") {
		return e.Path
	}
	end := len("Statement")
	if strings.HasPrefix(e.Path[end:], "[") {
		if i := strings.IndexByte(e.Path, ']'); i > 0 {
			end = i + 1
		}
	}
	return e.Path[:end] + " (Sid " + strconv.Quote(e.Sid) + ")" + e.Path[end:]
}

// Parse parses and validates one policy document: the text of a JSON object, or of a JSON string
// whose content is such an object (authorizers return both forms). Every error is an *Error naming
// the element, its line and column, and what to change.
func Parse(doc []byte) (*Document, error) {
	return parse(string(doc))
}

type parser struct {
	text     string
	inString bool
	vars     bool // Version 2012-10-17: read policy variables
	err      *Error
	scratch  []strAt
}

func parse(text string) (*Document, error) {
	p := &parser{text: text}
	root, off, msg := parseJSON(text)
	if msg != "" {
		return nil, p.errAt(off, "", "", "invalid JSON: "+msg)
	}
	if root.Kind() == jsonv.String {
		// A document given as a JSON string holding the policy.
		p.text, p.inString = root.Str(), true
		if root, off, msg = parseJSON(p.text); msg != "" {
			return nil, p.errAt(off, "", "", "invalid JSON in the policy string: "+msg)
		}
	}
	if n := Size(p.text); n > MaxDocumentChars {
		return nil, &Error{Msg: "the policy has " + strconv.Itoa(n) + " characters (whitespace outside strings not counted); at most " + strconv.Itoa(MaxDocumentChars) + " are allowed", InString: p.inString}
	}
	d := p.document(root)
	if p.err != nil {
		return nil, p.err
	}
	return d, nil
}

func (p *parser) errAt(off int, path, sid, msg string) *Error {
	if p.err == nil {
		line, col := lineCol(p.text, off)
		p.err = &Error{Path: path, Sid: sid, Line: line, Column: col, InString: p.inString, Msg: msg}
	}
	return p.err
}

func (p *parser) document(root jsonv.Value) *Document {
	if root.Kind() != jsonv.Object {
		p.errAt(root.Offset(), "", "", "a policy document must be a JSON object, got "+kindName(root))
		return nil
	}
	d := &Document{}
	var stmtVal jsonv.Value
	for m := range root.RangeMembers {
		switch m.Key {
		case "Version":
			if v := m.Value.Str(); m.Value.Kind() != jsonv.String || (v != Version2012 && v != Version2008) {
				p.errAt(m.Value.Offset(), "Version", "", "Version must be \""+Version2012+"\" (or \""+Version2008+"\", which reads no policy variables), got "+describeValue(m.Value))
				return nil
			}
			d.Version = m.Value.Str()
		case "Id":
			if m.Value.Kind() != jsonv.String {
				p.errAt(m.Value.Offset(), "Id", "", "Id must be a string, got "+kindName(m.Value))
				return nil
			}
			d.ID = m.Value.Str()
		case "Statement":
			stmtVal = m.Value
		default:
			p.errAt(m.KeyOffset, "", "", "unknown element "+strconv.Quote(m.Key)+" in the policy document; allowed: Version, Id, Statement"+caseHint(m.Key, "Version", "Id", "Statement"))
			return nil
		}
	}
	p.vars = d.Version == Version2012
	if !stmtVal.Exists() {
		p.errAt(root.Offset(), "", "", "the policy document has no Statement")
		return nil
	}
	switch stmtVal.Kind() {
	case jsonv.Object:
		p.statement(d, stmtVal, "Statement")
	case jsonv.Array:
		if stmtVal.Len() == 0 {
			p.errAt(stmtVal.Offset(), "Statement", "", "Statement is an empty array; give at least one statement")
			return nil
		}
		for i, e := range stmtVal.RangeElems {
			p.statement(d, e, "Statement["+strconv.Itoa(i)+"]")
			if p.err != nil {
				return nil
			}
		}
	default:
		p.errAt(stmtVal.Offset(), "Statement", "", "Statement must be an object or an array of objects, got "+kindName(stmtVal))
	}
	if p.err != nil {
		return nil
	}
	for i := range d.stmts {
		d.stmts[i].idx = i
	}
	return d
}

func (p *parser) statement(d *Document, v jsonv.Value, path string) {
	if v.Kind() != jsonv.Object {
		p.errAt(v.Offset(), path, "", "a statement must be a JSON object, got "+kindName(v))
		return
	}
	var st Statement
	var sid string
	for m := range v.RangeMembers {
		if m.Key == "Sid" {
			if m.Value.Kind() != jsonv.String {
				p.errAt(m.Value.Offset(), path+".Sid", "", "Sid must be a string, got "+kindName(m.Value))
				return
			}
			sid = m.Value.Str()
		}
	}
	st.Sid = sid
	s := &stmt{sid: sid, path: path}
	var haveEffect, haveAction, haveResource bool
	var condVal jsonv.Value
	for m := range v.RangeMembers {
		fw := where{base: path, key: m.Key}
		fpath := fw.String
		switch m.Key {
		case "Sid":
		case "Effect":
			haveEffect = true
			switch {
			case m.Value.Kind() == jsonv.String && m.Value.Str() == "Allow":
				st.Effect = Allow
			case m.Value.Kind() == jsonv.String && m.Value.Str() == "Deny":
				st.Effect = Deny
			default:
				p.errAt(m.Value.Offset(), fpath(), sid, "Effect must be \"Allow\" or \"Deny\" (exactly, case matters), got "+describeValue(m.Value))
				return
			}
		case "Action", "NotAction":
			if s.actions, s.notAction = p.patternElem(m, fw, sid, &haveAction, p.action, &st.Action, &st.NotAction); p.err != nil {
				return
			}
		case "Resource", "NotResource":
			if s.resources, s.notResource = p.patternElem(m, fw, sid, &haveResource, p.resource, &st.Resource, &st.NotResource); p.err != nil {
				return
			}
		case "Condition":
			condVal = m.Value
		case "Principal", "NotPrincipal":
			p.errAt(m.KeyOffset, fpath(), sid, m.Key+" is not allowed: AWS IoT policies are attached to the connection's principal and name no principal")
			return
		default:
			p.errAt(m.KeyOffset, path, sid, "unknown element "+strconv.Quote(m.Key)+" in a statement; allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition"+caseHint(m.Key, "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"))
			return
		}
	}
	switch {
	case !haveEffect:
		p.errAt(v.Offset(), path, sid, "the statement has no Effect; add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"")
		return
	case !haveAction:
		p.errAt(v.Offset(), path, sid, "the statement has no Action (or NotAction); add e.g. \"Action\": \"iot:Publish\"")
		return
	case !haveResource:
		p.errAt(v.Offset(), path, sid, "the statement has no Resource (or NotResource); add e.g. \"Resource\": \"arn:aws:iot:us-east-1:123456789012:topic/my/topic\"")
		return
	}
	s.effect = st.Effect
	s.anyResource = !s.notResource && len(s.resources) == 1 && s.resources[0].fast == fastAny
	if condVal.Exists() {
		p.conditions(s, &st, condVal, path+".Condition", sid)
		if p.err != nil {
			return
		}
	}
	d.Statements = append(d.Statements, st)
	d.stmts = append(d.stmts, s)
}

type strAt struct {
	str string
	off int
}

// where names an element for error messages without building the text unless an error needs it.
type where struct {
	base, key string // "Statement[1]", "Action"
	idx       int
	arr       bool // add "[idx]"
}

func (w where) String() string {
	s := w.base + "." + w.key
	if w.arr {
		s += "[" + strconv.Itoa(w.idx) + "]"
	}
	return s
}

// elem names entry i of the element's value v, which is an array or a single string.
func (w where) elem(v jsonv.Value, i int) where {
	w.idx, w.arr = i, v.Kind() == jsonv.Array
	return w
}

// patternElem reads a statement's Action or NotAction (or Resource or NotResource: m.Key names
// which), unless seen says the pair was given already. Each string is compiled by compile; the
// strings as written go to *names, or to *notNames for the Not element, which not reports.
func (p *parser) patternElem(m jsonv.Member, fw where, sid string, seen *bool, compile func(string, int, where, string) *pattern, names, notNames *[]string) (pats []*pattern, not bool) {
	base := strings.TrimPrefix(m.Key, "Not")
	if *seen {
		p.errAt(m.KeyOffset, fw.String(), sid, "a statement has either "+base+" or Not"+base+", not both")
		return nil, false
	}
	*seen = true
	list := p.stringList(m.Value, fw, sid)
	if p.err != nil {
		return nil, false
	}
	pats = make([]*pattern, 0, len(list))
	strs := make([]string, 0, len(list))
	for i, e := range list {
		pat := compile(e.str, e.off, fw.elem(m.Value, i), sid)
		if p.err != nil {
			return nil, false
		}
		pats = append(pats, pat)
		strs = append(strs, e.str)
	}
	not = m.Key != base
	if not {
		*notNames = strs
	} else {
		*names = strs
	}
	return pats, not
}

// stringList reads a string or a non-empty array of strings. The result is valid until the next
// call.
func (p *parser) stringList(v jsonv.Value, w where, sid string) []strAt {
	p.scratch = p.scratch[:0]
	switch v.Kind() {
	case jsonv.String:
		return append(p.scratch, strAt{v.Str(), v.Offset()})
	case jsonv.Array:
		if v.Len() == 0 {
			p.errAt(v.Offset(), w.String(), sid, "empty array; give at least one string")
			return nil
		}
		for i, e := range v.RangeElems {
			if e.Kind() != jsonv.String {
				p.errAt(e.Offset(), w.elem(v, i).String(), sid, "expected a string, got "+kindName(e))
				return nil
			}
			p.scratch = append(p.scratch, strAt{e.Str(), e.Offset()})
		}
		return p.scratch
	}
	p.errAt(v.Offset(), w.String(), sid, "expected a string or an array of strings, got "+kindName(v))
	return nil
}

func listPath(path string, v jsonv.Value, i int) string {
	if v.Kind() == jsonv.Array {
		return path + "[" + strconv.Itoa(i) + "]"
	}
	return path
}

func (p *parser) action(a string, off int, w where, sid string) *pattern {
	path := w.String
	if a != "*" {
		colon := strings.IndexByte(a, ':')
		if colon <= 0 || colon == len(a)-1 {
			p.errAt(off, path(), sid, "action "+strconv.Quote(a)+" must be \"*\" or \"service:action\", e.g. \"iot:Publish\" or \"iot:*\"")
			return nil
		}
		for _, c := range a[:colon] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				p.errAt(off, path(), sid, "action "+strconv.Quote(a)+" has an invalid service prefix "+strconv.Quote(a[:colon])+"; write e.g. \"iot:Publish\"")
				return nil
			}
		}
	}
	if strings.Contains(a, "${") && p.vars {
		p.errAt(off, path(), sid, "policy variables are not allowed in actions: "+strconv.Quote(a))
		return nil
	}
	pat, _, _ := parsePattern(a, patternOptions{wild: true, fold: true})
	return pat
}

func (p *parser) resource(r string, off int, w where, sid string) *pattern {
	path := w.String
	if r != "*" && (!strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5) {
		p.errAt(off, path(), sid, "resource "+strconv.Quote(r)+" must be \"*\" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. \"arn:aws:iot:us-east-1:123456789012:topic/sensors/*\"")
		return nil
	}
	pat, msg, at := parsePattern(r, patternOptions{wild: true, vars: p.vars})
	if msg != "" {
		p.errAt(off, path(), sid, "in "+strconv.Quote(r)+" at character "+strconv.Itoa(at+1)+": "+msg)
		return nil
	}
	return pat
}

// caseHint suggests the right spelling when a key differs from an allowed one only by case.
func caseHint(key string, allowed ...string) string {
	for _, a := range allowed {
		if strings.EqualFold(key, a) {
			return " (did you mean " + strconv.Quote(a) + "? element names are case sensitive)"
		}
	}
	return ""
}

// Interface guards.
var (
	_ error                        = (*Error)(nil)
	_ interface{ String() string } = Effect(0)
)
