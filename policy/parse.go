package policy

import (
	"strconv"
	"strings"
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
	root, jerr := parseJSON(text)
	if jerr != nil {
		return nil, p.errAt(jerr.off, "", "", "invalid JSON: "+jerr.msg)
	}
	if root.kind == jsonString {
		// A document given as a JSON string holding the policy.
		p.text, p.inString = root.str, true
		if root, jerr = parseJSON(p.text); jerr != nil {
			return nil, p.errAt(jerr.off, "", "", "invalid JSON in the policy string: "+jerr.msg)
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

func (p *parser) document(root *jsonValue) *Document {
	if root.kind != jsonObject {
		p.errAt(root.off, "", "", "a policy document must be a JSON object, got "+root.kind.String())
		return nil
	}
	d := &Document{}
	var stmtVal *jsonValue
	for _, m := range root.members {
		switch m.key {
		case "Version":
			if m.val.kind != jsonString || (m.val.str != Version2012 && m.val.str != Version2008) {
				p.errAt(m.val.off, "Version", "", "Version must be \""+Version2012+"\" (or \""+Version2008+"\", which reads no policy variables), got "+describeValue(m.val))
				return nil
			}
			d.Version = m.val.str
		case "Id":
			if m.val.kind != jsonString {
				p.errAt(m.val.off, "Id", "", "Id must be a string, got "+m.val.kind.String())
				return nil
			}
			d.ID = m.val.str
		case "Statement":
			stmtVal = m.val
		default:
			p.errAt(m.keyOff, "", "", "unknown element "+strconv.Quote(m.key)+" in the policy document; allowed: Version, Id, Statement"+caseHint(m.key, "Version", "Id", "Statement"))
			return nil
		}
	}
	p.vars = d.Version == Version2012
	if stmtVal == nil {
		p.errAt(root.off, "", "", "the policy document has no Statement")
		return nil
	}
	switch stmtVal.kind {
	case jsonObject:
		p.statement(d, stmtVal, "Statement")
	case jsonArray:
		if len(stmtVal.elems) == 0 {
			p.errAt(stmtVal.off, "Statement", "", "Statement is an empty array; give at least one statement")
			return nil
		}
		for i, e := range stmtVal.elems {
			p.statement(d, e, "Statement["+strconv.Itoa(i)+"]")
			if p.err != nil {
				return nil
			}
		}
	default:
		p.errAt(stmtVal.off, "Statement", "", "Statement must be an object or an array of objects, got "+stmtVal.kind.String())
	}
	if p.err != nil {
		return nil
	}
	for i := range d.stmts {
		d.stmts[i].idx = i
	}
	return d
}

func (p *parser) statement(d *Document, v *jsonValue, path string) {
	if v.kind != jsonObject {
		p.errAt(v.off, path, "", "a statement must be a JSON object, got "+v.kind.String())
		return
	}
	var st Statement
	var sid string
	for _, m := range v.members {
		if m.key == "Sid" {
			if m.val.kind != jsonString {
				p.errAt(m.val.off, path+".Sid", "", "Sid must be a string, got "+m.val.kind.String())
				return
			}
			sid = m.val.str
		}
	}
	st.Sid = sid
	s := &stmt{sid: sid, path: path}
	var haveEffect, haveAction, haveResource bool
	var condVal *jsonValue
	for _, m := range v.members {
		fw := where{base: path, key: m.key}
		fpath := fw.String
		switch m.key {
		case "Sid":
		case "Effect":
			haveEffect = true
			switch {
			case m.val.kind == jsonString && m.val.str == "Allow":
				st.Effect = Allow
			case m.val.kind == jsonString && m.val.str == "Deny":
				st.Effect = Deny
			default:
				p.errAt(m.val.off, fpath(), sid, "Effect must be \"Allow\" or \"Deny\" (exactly, case matters), got "+describeValue(m.val))
				return
			}
		case "Action", "NotAction":
			if haveAction {
				p.errAt(m.keyOff, fpath(), sid, "a statement has either Action or NotAction, not both")
				return
			}
			haveAction = true
			list := p.stringList(m.val, fw, sid)
			if p.err != nil {
				return
			}
			s.notAction = m.key == "NotAction"
			s.actions = make([]*pattern, 0, len(list))
			names := make([]string, 0, len(list))
			for i, a := range list {
				pat := p.action(a.str, a.off, fw.elem(m.val, i), sid)
				if p.err != nil {
					return
				}
				s.actions = append(s.actions, pat)
				names = append(names, a.str)
			}
			if s.notAction {
				st.NotAction = names
			} else {
				st.Action = names
			}
		case "Resource", "NotResource":
			if haveResource {
				p.errAt(m.keyOff, fpath(), sid, "a statement has either Resource or NotResource, not both")
				return
			}
			haveResource = true
			list := p.stringList(m.val, fw, sid)
			if p.err != nil {
				return
			}
			s.notResource = m.key == "NotResource"
			s.resources = make([]*pattern, 0, len(list))
			names := make([]string, 0, len(list))
			for i, r := range list {
				pat := p.resource(r.str, r.off, fw.elem(m.val, i), sid)
				if p.err != nil {
					return
				}
				s.resources = append(s.resources, pat)
				names = append(names, r.str)
			}
			if s.notResource {
				st.NotResource = names
			} else {
				st.Resource = names
			}
		case "Condition":
			condVal = m.val
		case "Principal", "NotPrincipal":
			p.errAt(m.keyOff, fpath(), sid, m.key+" is not allowed: AWS IoT policies are attached to the connection's principal and name no principal")
			return
		default:
			p.errAt(m.keyOff, path, sid, "unknown element "+strconv.Quote(m.key)+" in a statement; allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition"+caseHint(m.key, "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"))
			return
		}
	}
	switch {
	case !haveEffect:
		p.errAt(v.off, path, sid, "the statement has no Effect; add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"")
		return
	case !haveAction:
		p.errAt(v.off, path, sid, "the statement has no Action (or NotAction); add e.g. \"Action\": \"iot:Publish\"")
		return
	case !haveResource:
		p.errAt(v.off, path, sid, "the statement has no Resource (or NotResource); add e.g. \"Resource\": \"arn:aws:iot:us-east-1:123456789012:topic/my/topic\"")
		return
	}
	s.effect = st.Effect
	s.anyResource = !s.notResource && len(s.resources) == 1 && s.resources[0].fast == fastAny
	if condVal != nil {
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
func (w where) elem(v *jsonValue, i int) where {
	w.idx, w.arr = i, v.kind == jsonArray
	return w
}

// stringList reads a string or a non-empty array of strings. The result is valid until the next
// call.
func (p *parser) stringList(v *jsonValue, w where, sid string) []strAt {
	p.scratch = p.scratch[:0]
	switch v.kind {
	case jsonString:
		return append(p.scratch, strAt{v.str, v.off})
	case jsonArray:
		if len(v.elems) == 0 {
			p.errAt(v.off, w.String(), sid, "empty array; give at least one string")
			return nil
		}
		for i, e := range v.elems {
			if e.kind != jsonString {
				p.errAt(e.off, w.elem(v, i).String(), sid, "expected a string, got "+e.kind.String())
				return nil
			}
			p.scratch = append(p.scratch, strAt{e.str, e.off})
		}
		return p.scratch
	}
	p.errAt(v.off, w.String(), sid, "expected a string or an array of strings, got "+v.kind.String())
	return nil
}

func listPath(path string, v *jsonValue, i int) string {
	if v.kind == jsonArray {
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

// describeValue shows a JSON value in an error message.
func describeValue(v *jsonValue) string {
	switch v.kind {
	case jsonString:
		return strconv.Quote(v.str)
	case jsonBool, jsonNumber:
		return v.kind.String() + " " + v.str
	}
	return v.kind.String()
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
