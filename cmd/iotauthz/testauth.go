package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/policy"
)

const testAuthHelp = `
usage: iotauthz test-authorization --policy FILE [--policy FILE ...] --action ACTION --resource ARN
                                   [--client-id ID] [--source-ip IP] [--context KEY=VALUE ...]

Decides one request offline against policy documents, exactly as the plugin does on a connection
(AWS IoT's TestAuthorization, without AWS). Use it to check a policy your authorizer returns
before deploying it.

  --policy FILE        one policy document per file: a JSON object, or a JSON string holding one
                       (the two forms an authorizer may return). Repeat for up to 10 documents.
                       Each file may hold at most 2048 characters, whitespace outside strings not
                       counted.
  --action ACTION      the action, e.g. iot:Connect, iot:Publish, iot:RetainPublish,
                       iot:Subscribe, iot:Receive (case is ignored).
  --resource ARN       the full resource ARN the plugin would check:
                         iot:Connect                 arn:aws:iot:REGION:ACCOUNT:client/CLIENT_ID
                         iot:Publish, RetainPublish  arn:aws:iot:REGION:ACCOUNT:topic/TOPIC
                         iot:Subscribe               arn:aws:iot:REGION:ACCOUNT:topicfilter/FILTER
                         iot:Receive                 arn:aws:iot:REGION:ACCOUNT:topic/TOPIC
  --client-id ID       the MQTT client id, for ${iot:ClientId} and the iot:ClientId condition
                       key. Leave it out for an HTTP publish, where there is none (giving it
                       empty means an empty client id).
  --source-ip IP       the client address, for ${aws:SourceIp} and IpAddress conditions.
  --context KEY=VALUE  one key of the authorizer response's "context", read by the policy as
                       ${context:KEY} or the condition key context:KEY. Repeatable.

Output, on stdout, exit status 0:

  {"authDecision": "ALLOWED", "matchedStatements": [
    {"policy": "device.json", "statement": "Statement[1]", "sid": "Publish", "effect": "Allow"}]}

authDecision is ALLOWED (an Allow matched and no Deny did), EXPLICIT_DENY (a Deny matched; it
wins over every Allow in every document) or IMPLICIT_DENY (nothing matched). matchedStatements
lists the statements that decided: every matching Deny, or every matching Allow, or none; each
names its --policy file, its JSON path in that file ("Statement[1]", or "Statement" when the file
holds a single statement object), its Sid if any, and its effect.

A policy that does not parse or validate prints the file, the element, its line and column and
what is wrong on stderr, and exits with status 2; so do bad flags. The policy language, with its
pitfalls, is described in policy/SYNTAX.md.

Example:

  iotauthz test-authorization --policy device.json --action iot:Publish \
    --resource arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/telemetry \
    --client-id dev1 --source-ip 192.0.2.7 --context tenant=acme
`

func init() {
	register("test-authorization", "decide one request against policy documents, offline (AWS TestAuthorization)", runTestAuthorization)
}

// testAuthOutput is the JSON printed by test-authorization.
type testAuthOutput struct {
	AuthDecision      string             `json:"authDecision"`
	MatchedStatements []matchedStatement `json:"matchedStatements"`
}

type matchedStatement struct {
	Policy    string `json:"policy"`    // the --policy file
	Statement string `json:"statement"` // JSON path of the statement in the document, e.g. "Statement[0]"
	Sid       string `json:"sid,omitempty"`
	Effect    string `json:"effect"` // "Allow" or "Deny"
}

func runTestAuthorization(args []string, stdout, stderr io.Writer) int {
	const me = "iotauthz test-authorization"
	fs := newFlagSet("test-authorization", testAuthHelp, stdout, stderr)
	var policies, contexts multiFlag
	fs.Var(&policies, "policy", "policy document `FILE` (repeatable, at most 10)")
	action := fs.String("action", "", "the `ACTION`, e.g. iot:Publish")
	resource := fs.String("resource", "", "the full resource `ARN`")
	clientID := fs.String("client-id", "", "the MQTT client `ID`; absent for HTTP")
	sourceIP := fs.String("source-ip", "", "the client `IP` address")
	fs.Var(&contexts, "context", "an authorizer context entry `KEY=VALUE` (repeatable)")
	pos, code := parseFlags(fs, args, stdout)
	if code >= 0 {
		return code
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "%s: %s\nRun 'iotauthz test-authorization --help' for usage.\n", me, msg)
		return 2
	}
	switch {
	case len(pos) > 0:
		return usageErr("unexpected argument " + strconv.Quote(pos[0]))
	case len(policies) == 0:
		return usageErr("no --policy FILE given")
	case len(policies) > policy.MaxDocuments:
		return usageErr(strconv.Itoa(len(policies)) + " policies given; an authorizer may return at most " + strconv.Itoa(policy.MaxDocuments))
	case *action == "":
		return usageErr("no --action given, e.g. --action iot:Publish")
	case *resource == "":
		return usageErr("no --resource given, e.g. --resource arn:aws:iot:us-east-1:123456789012:topic/my/topic")
	}

	vars := &policy.Vars{SourceIP: *sourceIP}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "client-id" {
			vars.ClientID, vars.HasClientID = *clientID, true
		}
	})
	for _, kv := range contexts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr("--context " + strconv.Quote(kv) + ": expected KEY=VALUE")
		}
		if vars.Context == nil {
			vars.Context = map[string]string{}
		}
		if _, dup := vars.Context[k]; dup {
			return usageErr("--context key " + strconv.Quote(k) + " given twice")
		}
		vars.Context[k] = v
	}

	docs := make([]*policy.Document, len(policies))
	for i, file := range policies {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", me, err)
			return 2
		}
		d, err := policy.Parse(b)
		if err != nil {
			var pe *policy.Error
			if errors.As(err, &pe) && pe.Line == 0 && pe.Path == "" {
				fmt.Fprintf(stderr, "%s: %s: invalid policy: %v\n", me, file, err)
			} else {
				fmt.Fprintf(stderr, "%s: %s: %v\n", me, file, err)
			}
			return 2
		}
		docs[i] = d
	}
	set, err := policy.Compile(docs...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", me, err)
		return 2
	}

	res, matches := set.Explain(*action, *resource, vars)
	out := testAuthOutput{AuthDecision: res.String(), MatchedStatements: []matchedStatement{}}
	for _, m := range matches {
		out.MatchedStatements = append(out.MatchedStatements, matchedStatement{
			Policy: policies[m.Document], Statement: m.Path, Sid: m.Sid, Effect: m.Effect.String(),
		})
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", me, err)
		return 1
	}
	return 0
}
