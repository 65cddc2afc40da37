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
                                   [--connect-attributes A,B] [--last-will-topic TOPIC]
                                   [--domain-name HOST]

Decides one request offline against policy documents, exactly as the plugin does on a connection
(AWS IoT's TestAuthorization, without AWS). Use it to check a policy your authorizer returns
before deploying it.

  --policy FILE        one policy document per file: a JSON object, or a JSON string holding one
                       (the two forms an authorizer may return). Repeat for up to 10 documents.
                       Each file may hold at most 2048 characters, whitespace outside strings not
                       counted.
  --action ACTION      the action: iot:Connect, iot:Publish, iot:RetainPublish, iot:Subscribe,
                       iot:Receive, or another AWS IoT action the policy package knows (case is
                       ignored). Any other name is refused, so a typo such as iot:Publsh cannot
                       pass for an IMPLICIT_DENY.
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

The keys of a CONNECT (iot:Connect only):

  --connect-attributes A,B
                       iot:ConnectAttributes, the features the CONNECT asks for: PersistentConnect
                       (the session is not clean) and LastWill (it carries a Will), comma
                       separated. An empty value ("") is a clean CONNECT without a Will. Left out,
                       the plugin's value for the other flags: LastWill if --last-will-topic is
                       given, else the empty list. The key is present on every iot:Connect and
                       absent on every other action, as in the plugin.
  --last-will-topic TOPIC
                       the Will's topic; iot:LastWillTopic is its ARN, built from --resource's
                       partition, region and account (a value that is already an ARN is used as
                       is). Left out: the CONNECT has no Will and the key is absent.

For every action:

  --domain-name HOST   iot:DomainName and ${iot:DomainName}: the endpoint the device connected to
                       (its TLS SNI or HTTP Host), compared in lower case. Left out: absent.

Output, on stdout, exit status 0:

  {"authDecision": "ALLOWED", "matchedStatements": [
    {"policy": "device.json", "statement": "Statement[1]", "sid": "Publish", "effect": "Allow"}]}

authDecision is ALLOWED (an Allow matched and no Deny did), EXPLICIT_DENY (a Deny matched; it
wins over every Allow in every document) or IMPLICIT_DENY (nothing matched). matchedStatements
lists the statements that decided: every matching Deny, or every matching Allow, or none; each
names its --policy file, its JSON path in that file ("Statement[1]", or "Statement" when the file
holds a single statement object), its Sid if any, and its effect.

A policy that does not parse or validate prints the file, the element, its line and column and
what is wrong on stderr, and exits with status 2; so do bad flags, an unknown action, and CONNECT
keys that no CONNECT could carry (LastWill without a Will topic, a Will topic without LastWill, an
unknown attribute, or either flag with an action other than iot:Connect). The policy language, with its
pitfalls, is described in policy/SYNTAX.md.

Example:

  iotauthz test-authorization --policy device.json --action iot:Publish \
    --resource arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/telemetry \
    --client-id dev1 --source-ip 192.0.2.7 --context tenant=acme

  iotauthz test-authorization --policy device.json --action iot:Connect \
    --resource arn:aws:iot:us-east-1:123456789012:client/dev1 --client-id dev1 \
    --connect-attributes PersistentConnect,LastWill --last-will-topic status/dev1 \
    --domain-name iot.example.com
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
	connAttrs := fs.String("connect-attributes", "", "iot:ConnectAttributes of an iot:Connect, comma separated: `A,B` (PersistentConnect, LastWill; \"\" for none)")
	willTopic := fs.String("last-will-topic", "", "the Will's `TOPIC` of an iot:Connect (iot:LastWillTopic is its ARN)")
	domain := fs.String("domain-name", "", "iot:DomainName, the endpoint `HOST` the device connected to")
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

	if !knownAction(*action) {
		return usageErr("unknown action " + strconv.Quote(*action) + "; the actions are " + strings.Join(policy.Actions(), ", "))
	}

	vars := &policy.Vars{SourceIP: *sourceIP}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["client-id"] {
		vars.ClientID, vars.HasClientID = *clientID, true
	}
	if given["domain-name"] {
		d := strings.ToLower(*domain)
		if d == "" || strings.ContainsAny(d, ":/ ") {
			return usageErr("--domain-name " + strconv.Quote(*domain) + ": give the host name alone, e.g. iot.example.com (no port, no scheme)")
		}
		vars.DomainName, vars.HasDomainName = d, true
	}
	if msg := connectKeys(vars, *action, *resource, given["connect-attributes"], *connAttrs, given["last-will-topic"], *willTopic); msg != "" {
		return usageErr(msg)
	}
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

// knownAction reports whether action is one the policy package knows, ignoring case.
func knownAction(action string) bool {
	for _, a := range policy.Actions() {
		if strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}

// connectKeys sets iot:ConnectAttributes and iot:LastWillTopic as the plugin does for a CONNECT:
// both only on iot:Connect, the attributes always (empty for a clean CONNECT without a Will),
// the Will topic's ARN when there is a Will. It returns a usage message for flags that no
// CONNECT could produce.
func connectKeys(vars *policy.Vars, action, resource string, hasAttrs bool, attrs string, hasWill bool, will string) string {
	if !strings.EqualFold(action, policy.ActionConnect) {
		switch {
		case hasAttrs:
			return "--connect-attributes applies only to --action iot:Connect: the key is absent on every other action"
		case hasWill:
			return "--last-will-topic applies only to --action iot:Connect: the key is absent on every other action"
		}
		return ""
	}
	list := []string{}
	lastWill := false
	if hasAttrs && attrs != "" {
		for _, a := range strings.Split(attrs, ",") {
			switch a {
			case "PersistentConnect":
			case "LastWill":
				lastWill = true
			default:
				if len(a) > 64 {
					a = a[:64] + "..."
				}
				return "--connect-attributes: unknown attribute " + strconv.Quote(a) + "; a CONNECT has PersistentConnect (session not clean) and LastWill (it carries a Will), comma separated, case sensitive; \"\" for neither"
			}
			for _, seen := range list {
				if seen == a {
					return "--connect-attributes: " + a + " given twice"
				}
			}
			list = append(list, a)
		}
	}
	if hasWill {
		if will == "" {
			return "--last-will-topic: the topic is empty; MQTT requires a Will topic of at least one character"
		}
		switch {
		case !hasAttrs:
			list, lastWill = append(list, "LastWill"), true
		case !lastWill:
			return "--last-will-topic needs LastWill in --connect-attributes: a CONNECT with a Will has that attribute"
		}
		arn := will
		if !isARN(will) {
			prefix, ok := arnPrefix(resource)
			if !ok {
				return "--last-will-topic " + strconv.Quote(will) + ": cannot build the topic ARN from --resource " + strconv.Quote(resource) + "; give --resource arn:aws:iot:REGION:ACCOUNT:client/ID, or the Will topic as a full ARN"
			}
			arn = prefix + "topic/" + will
		}
		vars.LastWillTopic, vars.HasLastWillTopic = arn, true
	} else if lastWill {
		return "--connect-attributes has LastWill but no --last-will-topic is given: a CONNECT with a Will has a Will topic"
	}
	vars.ConnectAttributes, vars.HasConnectAttributes = list, true
	return ""
}

// isARN reports whether s looks like an ARN: "arn:" and at least six colon-separated parts.
func isARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5
}

// arnPrefix returns "arn:PARTITION:SERVICE:REGION:ACCOUNT:" of an ARN.
func arnPrefix(arn string) (string, bool) {
	if !isARN(arn) {
		return "", false
	}
	n := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			n++
			if n == 5 {
				return arn[:i+1], true
			}
		}
	}
	return "", false
}
