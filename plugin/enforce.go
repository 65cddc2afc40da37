package main

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
}

func newEvaluator(p *pluginContext, d *decision, clientID string, hasClientID bool, sourceIP string) *evaluator {
	return &evaluator{
		prefix: p.arnPrefix,
		set:    d.set,
		vars: policy.Vars{
			ClientID:    clientID,
			HasClientID: hasClientID,
			SourceIP:    sourceIP,
			Context:     d.context,
		},
		buf: make([]byte, 0, 128),
	}
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
		return e.allow(policy.ActionConnect, kindClient, name)
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

var _ session.Policy = (*evaluator)(nil)
