package policy

import (
	"slices"
	"strings"
)

// name is the variable's or condition key's name, as AWS spells it.
func (r *varRef) name() string {
	switch r.kind {
	case varClientID:
		return "iot:ClientId"
	case varSourceIP:
		return "aws:SourceIp"
	case varContext:
		return contextPrefix + r.key
	case varConnectAttributes:
		return "iot:ConnectAttributes"
	case varLastWillTopic:
		return "iot:LastWillTopic"
	case varDomainName:
		return "iot:DomainName"
	}
	return r.key
}

// MissingKeys lists the policy variables and condition keys that the statements applying to
// action read and v does not supply (a variable with a default value is never missing): AWS
// TestAuthorization's missingContextValues. Names are as AWS spells them ("iot:ClientId",
// "context:tenant", "iot:Connection.Thing.ThingName" as written), sorted, each once; nil when
// none is missing. A Null condition reads its key too: it is listed when the key is absent,
// though the condition may hold. MissingKeys allocates; use it for tools.
func (s *Set) MissingKeys(action string, v *Vars) []string {
	var out []string
	add := func(r *varRef) {
		if r.hasDef {
			return
		}
		present := false
		if r.kind.multivalued() {
			present = v != nil && v.HasConnectAttributes
		} else {
			_, present = r.resolve(v)
		}
		if !present {
			out = append(out, r.name())
		}
	}
	addPattern := func(p *pattern) {
		for i := range p.vars {
			add(&p.vars[i])
		}
	}
	for _, d := range s.docs {
		for _, st := range d.stmts {
			if !st.actionMatches(action) {
				continue
			}
			for _, p := range st.resources {
				addPattern(p)
			}
			for i := range st.conds {
				c := &st.conds[i]
				add(&c.key)
				for _, p := range c.pats {
					addPattern(p)
				}
				for _, arn := range c.arns {
					for _, p := range arn {
						addPattern(p)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, strings.Compare)
	return slices.Compact(out)
}
