package policy

import (
	"strconv"
	"strings"
	"time"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

type opFamily uint8

const (
	famString opFamily = iota
	famArn
	famBool
	famIP
	famNull
	famNumeric
	famDate
)

type setKind uint8

const (
	setNone setKind = iota
	setAnyValue
	setAllValues
)

type opInfo struct {
	family opFamily
	neg    bool
	like   bool // '*' and '?' are wildcards
	fold   bool // ignore case
	cmp    cmpOp
}

// operators are the condition operators a device policy can use.
var operators = map[string]opInfo{
	"StringEquals":              {family: famString},
	"StringNotEquals":           {family: famString, neg: true},
	"StringEqualsIgnoreCase":    {family: famString, fold: true},
	"StringNotEqualsIgnoreCase": {family: famString, neg: true, fold: true},
	"StringLike":                {family: famString, like: true},
	"StringNotLike":             {family: famString, neg: true, like: true},
	// IAM matches ARNs component by component, with wildcards, for the Equals forms too.
	"ArnEquals":    {family: famArn, like: true},
	"ArnLike":      {family: famArn, like: true},
	"ArnNotEquals": {family: famArn, neg: true, like: true},
	"ArnNotLike":   {family: famArn, neg: true, like: true},
	"Bool":         {family: famBool},
	"IpAddress":    {family: famIP},
	"NotIpAddress": {family: famIP, neg: true},
	"Null":         {family: famNull},

	"NumericEquals":            {family: famNumeric, cmp: cmpEq},
	"NumericNotEquals":         {family: famNumeric, neg: true, cmp: cmpEq},
	"NumericLessThan":          {family: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":    {family: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":       {family: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals": {family: famNumeric, cmp: cmpGe},
	"DateEquals":               {family: famDate, cmp: cmpEq},
	"DateNotEquals":            {family: famDate, neg: true, cmp: cmpEq},
	"DateLessThan":             {family: famDate, cmp: cmpLt},
	"DateLessThanEquals":       {family: famDate, cmp: cmpLe},
	"DateGreaterThan":          {family: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":    {family: famDate, cmp: cmpGe},
}

const operatorList = "StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, NumericEquals, NumericNotEquals, NumericLessThan[Equals], NumericGreaterThan[Equals], DateEquals, DateNotEquals, DateLessThan[Equals], DateGreaterThan[Equals], ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool, IpAddress, NotIpAddress, Null"

// cond is one compiled condition: one operator applied to one key.
type cond struct {
	family   opFamily
	neg      bool
	cmp      cmpOp // famNumeric, famDate
	ifExists bool
	set      setKind
	key      varRef
	pats     []*pattern    // famString, famBool
	arns     [][6]*pattern // famArn: the six ARN components
	nets     []ipNet       // famIP
	nums     []float64     // famNumeric
	times    []time.Time   // famDate
}

func (p *parser) conditions(s *stmt, st *Statement, v jsonv.Value, path, sid string) {
	if v.Kind() != jsonv.Object {
		p.errAt(v.Offset(), path, sid, "Condition must be an object of operators, e.g. {\"StringEquals\": {\"iot:ClientId\": \"dev1\"}}, got "+kindName(v))
		return
	}
	for om := range v.RangeMembers {
		opPath := path + "." + om.Key
		name := om.Key
		var set setKind
		switch {
		case strings.HasPrefix(name, "ForAnyValue:"):
			set, name = setAnyValue, name[len("ForAnyValue:"):]
		case strings.HasPrefix(name, "ForAllValues:"):
			set, name = setAllValues, name[len("ForAllValues:"):]
		}
		ifExists := false
		if strings.HasSuffix(name, "IfExists") {
			ifExists, name = true, name[:len(name)-len("IfExists")]
		}
		info, ok := operators[name]
		if !ok {
			msg := "unknown condition operator " + strconv.Quote(om.Key)
			switch {
			case strings.HasPrefix(name, "Binary"):
				msg += " (not supported: no key of an AWS IoT custom-authorizer request holds binary data)"
			default:
				msg += caseHintMap(name)
			}
			p.errAt(om.KeyOffset, opPath, sid, msg+"; supported: "+operatorList+", with ForAnyValue:/ForAllValues: and ...IfExists")
			return
		}
		if info.family == famNull && (set != setNone || ifExists) {
			p.errAt(om.KeyOffset, opPath, sid, "Null takes neither ForAnyValue:/ForAllValues: nor IfExists; write \"Null\"")
			return
		}
		if om.Value.Kind() != jsonv.Object || om.Value.Len() == 0 {
			p.errAt(om.Value.Offset(), opPath, sid, om.Key+" must be a non-empty object of condition keys, e.g. {\"iot:ClientId\": \"dev1\"}")
			return
		}
		for km := range om.Value.RangeMembers {
			kPath := opPath + "[" + strconv.Quote(km.Key) + "]"
			key, msg := lookupName(km.Key)
			if msg != "" {
				p.errAt(km.KeyOffset, kPath, sid, "condition key: "+msg)
				return
			}
			if key.kind.multivalued() && set == setNone && info.family != famNull {
				p.errAt(km.KeyOffset, kPath, sid, "condition key "+strconv.Quote(km.Key)+" holds a list of values; IAM requires a set operator for such keys: write \"ForAllValues:"+om.Key+"\" (every value in the request must match) or \"ForAnyValue:"+om.Key+"\" (at least one must)")
				return
			}
			c := cond{family: info.family, neg: info.neg, cmp: info.cmp, ifExists: ifExists, set: set, key: key}
			vals := p.condValues(km.Value, kPath, sid, set != setNone)
			if p.err != nil {
				return
			}
			cc := Condition{Operator: om.Key, Key: km.Key}
			for i, val := range vals {
				vPath := listPath(kPath, km.Value, i)
				cc.Values = append(cc.Values, val.str)
				p.condValue(&c, info, val, vPath, sid)
				if p.err != nil {
					return
				}
			}
			s.conds = append(s.conds, c)
			st.Condition = append(st.Condition, cc)
		}
	}
}

// condValues reads a condition's values: a string, number or boolean, or an array of them. The
// array may be empty only under a set operator (allowEmpty): AWS IoT's "default features only"
// policy is {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}}.
func (p *parser) condValues(v jsonv.Value, path, sid string, allowEmpty bool) []strAt {
	scalar := func(e jsonv.Value, path string) (strAt, bool) {
		switch e.Kind() {
		case jsonv.String, jsonv.Number, jsonv.Bool:
			return strAt{text(e), e.Offset()}, true
		}
		p.errAt(e.Offset(), path, sid, "condition values must be strings (or numbers or booleans), got "+kindName(e))
		return strAt{}, false
	}
	if v.Kind() == jsonv.Array {
		if v.Len() == 0 {
			if allowEmpty {
				return nil
			}
			p.errAt(v.Offset(), path, sid, "empty array of condition values; give at least one (an empty list is allowed only after ForAllValues: or ForAnyValue:)")
			return nil
		}
		out := make([]strAt, 0, v.Len())
		for i, e := range v.RangeElems {
			s, ok := scalar(e, path+"["+strconv.Itoa(i)+"]")
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	s, ok := scalar(v, path)
	if !ok {
		return nil
	}
	return []strAt{s}
}

func (p *parser) condValue(c *cond, info opInfo, val strAt, path, sid string) {
	bad := func(msg string, at int) {
		p.errAt(val.off, path, sid, "in "+strconv.Quote(val.str)+" at character "+strconv.Itoa(at+1)+": "+msg)
	}
	switch info.family {
	case famString:
		pat, msg, at := parsePattern(val.str, patternOptions{wild: info.like, vars: p.vars, fold: info.fold})
		if msg != "" {
			bad(msg, at)
			return
		}
		c.pats = append(c.pats, pat)
	case famArn:
		if strings.Count(val.str, ":") < 5 {
			p.errAt(val.off, path, sid, strconv.Quote(val.str)+" is not an ARN; ARN operators take arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, with * and ? in any component")
			return
		}
		var parts [6]*pattern
		rest, base := val.str, 0
		for i := 0; i < 6; i++ {
			part := rest
			if i < 5 {
				j := strings.IndexByte(rest, ':')
				part, rest = rest[:j], rest[j+1:]
			}
			pat, msg, at := parsePattern(part, patternOptions{wild: true, vars: p.vars})
			if msg != "" {
				bad(msg, base+at)
				return
			}
			parts[i] = pat
			base += len(part) + 1
		}
		c.arns = append(c.arns, parts)
	case famBool, famNull:
		if !strings.EqualFold(val.str, "true") && !strings.EqualFold(val.str, "false") {
			op := "Bool"
			if info.family == famNull {
				op = "Null"
			}
			p.errAt(val.off, path, sid, "a "+op+" condition takes \"true\" or \"false\", got "+strconv.Quote(val.str))
			return
		}
		if info.family == famNull {
			c.pats = append(c.pats, &pattern{src: strings.ToLower(val.str)})
			return
		}
		pat, _, _ := parsePattern(strings.ToLower(val.str), patternOptions{fold: true})
		c.pats = append(c.pats, pat)
	case famNumeric, famDate, famIP:
		var ok bool
		switch info.family {
		case famNumeric:
			ok = appendParsed(&c.nums, val.str, parseNumber)
		case famDate:
			ok = appendParsed(&c.times, val.str, parseDate)
		default:
			ok = appendParsed(&c.nets, val.str, parseCIDR)
		}
		if !ok {
			p.errAt(val.off, path, sid, strconv.Quote(val.str)+valueForms[info.family]+" (policy variables are not allowed here)")
			return
		}
	}
}

// valueForms says, after the quoted value, what a Numeric, Date or IP condition takes instead.
var valueForms = map[opFamily]string{
	famNumeric: " is not a number; Numeric conditions take decimal numbers such as \"10\", \"-2.5\" or \"1e3\"",
	famDate:    " is not a date; Date conditions take ISO 8601 (\"2026-12-05T06:00:00Z\", \"2026-12-05\") or epoch seconds (\"1733378400\")",
	famIP:      " is not an IP address or CIDR block; write e.g. \"203.0.113.0/24\", \"192.0.2.7\" or \"2001:db8::/32\"",
}

// appendParsed appends parse(s) to *dst and reports whether s parsed.
func appendParsed[T any](dst *[]T, s string, parse func(string) (T, bool)) bool {
	v, ok := parse(s)
	if ok {
		*dst = append(*dst, v)
	}
	return ok
}

func caseHintMap(name string) string {
	for op := range operators {
		if strings.EqualFold(op, name) {
			return " (did you mean " + strconv.Quote(op) + "? operator names are case sensitive)"
		}
	}
	return ""
}

// eval reports whether the condition holds for v. IAM rules for single-valued keys:
//   - key absent: ForAllValues → true, ForAnyValue → false, IfExists → true, negated operator →
//     true, otherwise false; Null tests presence only.
//   - key present: true if any value matches (positive operators), or if no value matches
//     (negated operators). A value whose policy variable does not resolve matches nothing, and
//     makes a negated operator false.
//
// Multivalued keys (iot:ConnectAttributes) follow IAM's set operators: the operator above is
// applied to each value in the request's set; ForAllValues holds when every value passes (so on
// an empty set or an absent key), ForAnyValue when at least one does (so never on an empty set or
// an absent key). The parser refuses plain operators on such keys; Null tests presence.
func (c *cond) eval(v *Vars) bool {
	var val string
	var rest []string // the values of a multivalued key still to test
	multi := c.key.kind.multivalued()
	if multi {
		present := v != nil && v.HasConnectAttributes
		if c.family == famNull {
			return c.nullHolds(present)
		}
		if !present || len(v.ConnectAttributes) == 0 {
			return c.set == setAllValues
		}
		val, rest = v.ConnectAttributes[0], v.ConnectAttributes[1:]
	} else {
		var ok bool
		val, ok = c.key.resolve(v)
		if c.family == famNull {
			return c.nullHolds(ok)
		}
		if !ok {
			switch {
			case c.set == setAllValues:
				return true
			case c.set == setAnyValue:
				return false
			}
			return c.ifExists || c.neg
		}
	}
	anyValue := c.set == setAnyValue
	for {
		// h: does val pass the operator? One loop, rather than a call per value, because calls
		// are what costs most inside WebAssembly.
		h := c.neg
		switch c.family {
		case famNumeric, famDate:
			h = c.evalCompare(val)
		case famIP:
			in := false
			if a, ok := parseV4(val); ok {
				for i := range c.nets {
					n := &c.nets[i]
					if n.v4 && a&n.v4mask == n.v4net || !n.v4 && n.containsV4(a) {
						in = true
						break
					}
				}
			} else if addr, _, ok := parseIP(val); ok {
				for i := range c.nets {
					if c.nets[i].contains(&addr) {
						in = true
						break
					}
				}
			}
			h = in != c.neg
		case famArn:
		arns:
			for i := range c.arns {
				switch arnMatch(&c.arns[i], val, v) {
				case matched:
					h = !c.neg
					break arns
				case unresolved:
					if c.neg {
						h = false
						break arns
					}
				}
			}
		default:
		pats:
			for _, p := range c.pats {
				var r matchResult
				switch p.fast {
				case fastAny:
					r = matched
				case fastPrefix:
					if hasPrefix(val, p.toks[0].lit) {
						r = matched
					}
				default:
					r = p.matchSlow(val, v)
				}
				switch r {
				case matched:
					h = !c.neg
					break pats
				case unresolved:
					if c.neg {
						h = false
						break pats
					}
				}
			}
		}
		// One value decides a single-valued key; ForAnyValue stops at the first value that
		// passes, ForAllValues at the first that fails.
		if !multi || h == anyValue || len(rest) == 0 {
			return h
		}
		val, rest = rest[0], rest[1:]
	}
}

// nullHolds is the Null operator: "true" holds when the key is absent, "false" when it is
// present; several values OR.
func (c *cond) nullHolds(present bool) bool {
	for _, p := range c.pats {
		if (p.src == "true") != present {
			return true
		}
	}
	return false
}

// arnMatch matches an ARN component by component; a value with fewer than six components is no
// ARN and matches nothing.
func arnMatch(parts *[6]*pattern, s string, v *Vars) matchResult {
	res := matched
	for i := 0; i < 6; i++ {
		part := s
		if i < 5 {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				return noMatch
			}
			part, s = s[:j], s[j+1:]
		}
		switch parts[i].match(part, v) {
		case noMatch:
			return noMatch
		case unresolved:
			res = unresolved
		}
	}
	return res
}
