package policy

import "strings"

// Vars are the request facts that policy variables and condition keys read. The zero value has
// nothing set: every variable is unresolved.
type Vars struct {
	// ClientID is ${iot:ClientId}, the MQTT client identifier. HasClientID says whether there is
	// one: it is false for HTTP publishes, where ${iot:ClientId} does not resolve. An MQTT client
	// id may be empty and still be present.
	ClientID    string
	HasClientID bool

	// SourceIP is ${aws:SourceIp}, the client's address as text without port or brackets
	// ("192.0.2.7", "2001:db8::1"), also what IpAddress and NotIpAddress conditions on
	// aws:SourceIp test. Empty means absent.
	SourceIP string

	// Context holds the authorizer response's "context" object, read as ${context:KEY} and by
	// condition keys "context:KEY". KEY is case sensitive. A key that is not in the map does not
	// resolve.
	Context map[string]string

	// ConnectAttributes is iot:ConnectAttributes, the features an MQTT CONNECT asks for, in any
	// order, each at most once: "PersistentConnect" when the session is not clean (MQTT 3.1.1
	// CleanSession 0; MQTT 5 Clean Start 0) and "LastWill" when the CONNECT carries a Will.
	// Neither: an empty (or nil) list. HasConnectAttributes says the key is present: set it on
	// the iot:Connect evaluation of an MQTT CONNECT, even with an empty list, and on no other;
	// when it is false, ConnectAttributes is ignored and the key is absent.
	//
	// The key is multivalued: conditions test it with ForAllValues: or ForAnyValue: (Parse
	// refuses a plain operator on it), and it is not a policy variable.
	ConnectAttributes    []string
	HasConnectAttributes bool

	// LastWillTopic is iot:LastWillTopic: the ARN of the Will's topic,
	// "arn:aws:iot:REGION:ACCOUNT:topic/TOPIC", built like the resource of an iot:Publish to the
	// Will topic (the topic as received, not escaped). HasLastWillTopic says the key is present:
	// set it on the iot:Connect evaluation of a CONNECT that carries a Will, and on no other. An
	// AWS example tests it with ArnEquals.
	LastWillTopic    string
	HasLastWillTopic bool

	// DomainName is iot:DomainName (also ${iot:DomainName}): the endpoint the device connected
	// to, the TLS SNI or the HTTP Host header, lower-cased and without a port
	// ("iot.example.com"). HasDomainName says the key is present: set it on every evaluation
	// for a connection that named an endpoint, whatever the action; leave it false when the
	// client sent none.
	DomainName    string
	HasDomainName bool
}

type varKind uint8

const (
	varNever             varKind = iota // a name AWS knows that never resolves under custom authorizers
	varClientID                         // iot:ClientId
	varSourceIP                         // aws:SourceIp
	varContext                          // context:KEY
	varConnectAttributes                // iot:ConnectAttributes, multivalued
	varLastWillTopic                    // iot:LastWillTopic
	varDomainName                       // iot:DomainName
)

// multivalued reports whether the key holds a set of values rather than one value.
func (k varKind) multivalued() bool { return k == varConnectAttributes }

// varRef is a resolved reference to a policy variable or condition key.
type varRef struct {
	kind   varKind
	key    string // context key; for varNever, the name as written
	def    string // default value: ${name, 'default'}
	hasDef bool
}

func (r *varRef) resolve(v *Vars) (string, bool) {
	if v != nil {
		switch r.kind {
		case varClientID:
			if v.HasClientID {
				return v.ClientID, true
			}
		case varSourceIP:
			if v.SourceIP != "" {
				return v.SourceIP, true
			}
		case varContext:
			if s, ok := v.Context[r.key]; ok {
				return s, true
			}
		case varLastWillTopic:
			if v.HasLastWillTopic {
				return v.LastWillTopic, true
			}
		case varDomainName:
			if v.HasDomainName {
				return v.DomainName, true
			}
		}
	}
	if r.hasDef {
		return r.def, true
	}
	return "", false
}

// contextPrefix names the authorizer response's context keys, in variables (${context:KEY}) and
// in condition keys (context:KEY). AWS has no such variable; this is this project's extension.
const contextPrefix = "context:"

// lookupName resolves a variable or condition key name, without "${" and "}". Namespaces and names
// ignore case, as in IAM, except the context key after "context:", which is matched exactly.
func lookupName(name string) (varRef, string) {
	colon := strings.IndexByte(name, ':')
	if colon > 0 && colon == len(name)-1 && strings.EqualFold(name[:colon], "context") {
		return varRef{}, "\"" + name + "\" names no context key; write context:KEY, e.g. context:tenant"
	}
	if colon <= 0 || colon == len(name)-1 {
		return varRef{}, "\"" + name + "\" needs a namespace: names look like iot:ClientId, aws:SourceIp or context:KEY"
	}
	ns := name[:colon]
	switch {
	case strings.EqualFold(ns, "context"):
		return varRef{kind: varContext, key: name[colon+1:]}, ""
	case strings.EqualFold(name, "iot:ClientId"):
		return varRef{kind: varClientID}, ""
	case strings.EqualFold(name, "aws:SourceIp"):
		return varRef{kind: varSourceIP}, ""
	case strings.EqualFold(name, "iot:ConnectAttributes"):
		return varRef{kind: varConnectAttributes}, ""
	case strings.EqualFold(name, "iot:LastWillTopic"):
		return varRef{kind: varLastWillTopic}, ""
	case strings.EqualFold(name, "iot:DomainName"):
		return varRef{kind: varDomainName}, ""
	case strings.EqualFold(ns, "iot"), strings.EqualFold(ns, "aws"):
		// Known to AWS but never set for a custom-authorizer connection (thing and certificate
		// variables need a registry thing or a certificate), or unknown: never resolves. key
		// keeps the name for Set.MissingKeys.
		return varRef{kind: varNever, key: name}, ""
	}
	return varRef{}, "unknown variable namespace \"" + ns + "\" in \"" + name + "\"; use iot:, aws: or context:"
}

// parseVariable reads the inside of "${...}": a name, optionally followed by ", 'default'".
func parseVariable(body string) (varRef, string) {
	name, def, hasDef := body, "", false
	if comma := strings.IndexByte(body, ','); comma >= 0 {
		name = strings.TrimSpace(body[:comma])
		d := strings.TrimSpace(body[comma+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return varRef{}, "default value in \"${" + body + "}\" must be in single quotes: ${name, 'value'}"
		}
		def, hasDef = d[1:len(d)-1], true
	}
	if name == "" {
		return varRef{}, "empty policy variable \"${" + body + "}\""
	}
	ref, msg := lookupName(name)
	if msg == "" && ref.kind.multivalued() {
		return varRef{}, "\"" + name + "\" holds a list of values and cannot be a policy variable (IAM allows only single-valued keys as variables); test it in a Condition with ForAllValues: or ForAnyValue:"
	}
	ref.def, ref.hasDef = def, hasDef
	return ref, msg
}
