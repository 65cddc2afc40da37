package authz

import (
	"unsafe"

	"github.com/iotauthz/iotauthz/plugin/session"
	"github.com/iotauthz/iotauthz/policy"
)

// Resource kinds of AWS IoT ARNs (DESIGN contract 4).
const (
	kindClient      = "client/"
	kindTopic       = "topic/"
	kindTopicFilter = "topicfilter/"
)

// evaluator decides (action, resource) against one compiled decision, building the ARN in a
// reused buffer so that a decision allocates nothing.
type evaluator struct {
	prefix string // "arn:aws:iot:REGION:ACCOUNT:"
	set    *policy.Set
	vars   policy.Vars
	buf    []byte
	last   policy.Result
	lastAR string // "iot:Action arn" of the last denial, for logs

	// The CONNECT being decided (session.ConnectPolicy): its connect attributes and Will topic
	// are condition keys of iot:Connect only.
	ci    *session.ConnectInfo
	attrs []string
	will  []byte // the Will topic's ARN
}

// Connect attributes (iot:ConnectAttributes), as AWS IoT names them.
const (
	attrPersistentConnect = "PersistentConnect" // the session is not clean
	attrLastWill          = "LastWill"          // the CONNECT carries a Will
)

func newEvaluator(e *Engine, d *decision, clientID string, hasClientID bool, sourceIP, domain string) *evaluator {
	return &evaluator{
		prefix: e.arnPrefix,
		set:    d.set,
		vars: policy.Vars{
			ClientID:      clientID,
			HasClientID:   hasClientID,
			SourceIP:      sourceIP,
			Context:       d.context,
			DomainName:    domain,
			HasDomainName: domain != "",
		},
		buf: make([]byte, 0, 128),
	}
}

// SetConnect implements session.ConnectPolicy: the next Allow(Connect) sees the CONNECT's
// connect attributes and Will topic.
func (e *evaluator) SetConnect(ci *session.ConnectInfo) { e.ci = ci }

// allowConnect decides iot:Connect with the CONNECT's condition keys: iot:ConnectAttributes
// (PersistentConnect when the session is not clean, LastWill when a Will is present; an empty
// list otherwise) and iot:LastWillTopic (the Will topic's ARN). They exist for iot:Connect only.
func (e *evaluator) allowConnect(clientID []byte) bool {
	if ci := e.ci; ci != nil {
		e.attrs = e.attrs[:0]
		if !ci.CleanStart {
			e.attrs = append(e.attrs, attrPersistentConnect)
		}
		if ci.HasWill {
			e.attrs = append(e.attrs, attrLastWill)
			e.will = append(append(append(e.will[:0], e.prefix...), kindTopic...), ci.WillTopic...)
			e.vars.LastWillTopic, e.vars.HasLastWillTopic = string(e.will), true
		}
		e.vars.ConnectAttributes, e.vars.HasConnectAttributes = e.attrs, true
	}
	ok := e.allow(policy.ActionConnect, kindClient, clientID)
	e.vars.ConnectAttributes, e.vars.HasConnectAttributes = nil, false
	e.vars.LastWillTopic, e.vars.HasLastWillTopic = "", false
	return ok
}

// allow evaluates action on prefix+kind+name.
func (e *evaluator) allow(action, kind string, name []byte) bool {
	b := append(e.buf[:0], e.prefix...)
	b = append(b, kind...)
	b = append(b, name...)
	e.buf = b
	e.last = e.set.Evaluate(action, unsafe.String(unsafe.SliceData(b), len(b)), &e.vars)
	return e.last == policy.Allowed
}

// denied describes the last decision for a log line: "iot:Publish on arn:…: IMPLICIT_DENY".
func (e *evaluator) denied(action string) string {
	return action + " on " + string(e.buf) + ": " + e.last.String()
}

// Allow implements session.Policy: the MQTT session asks about client ids, topics and filters.
func (e *evaluator) Allow(a session.Action, name []byte) bool {
	switch a {
	case session.Connect:
		// The client id is known at CONNECT; ${iot:ClientId} resolves from then on.
		e.vars.ClientID, e.vars.HasClientID = string(name), true
		return e.allowConnect(name)
	case session.Publish:
		return e.allow(policy.ActionPublish, kindTopic, name)
	case session.RetainPublish:
		return e.allow(policy.ActionRetainPublish, kindTopic, name)
	case session.Subscribe:
		return e.allow(policy.ActionSubscribe, kindTopicFilter, name)
	case session.Receive:
		return e.allow(policy.ActionReceive, kindTopic, name)
	}
	return false
}

func actionName(a session.Action) string {
	switch a {
	case session.Connect:
		return policy.ActionConnect
	case session.Publish:
		return policy.ActionPublish
	case session.RetainPublish:
		return policy.ActionRetainPublish
	case session.Subscribe:
		return policy.ActionSubscribe
	case session.Receive:
		return policy.ActionReceive
	}
	return "iot:Unknown"
}

var _ session.ConnectPolicy = (*evaluator)(nil)
