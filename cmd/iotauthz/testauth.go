package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/policy"
)

const testAuthHelp = `
usage: iotauthz test-authorization --policy FILE [--policy FILE ...]
                                   (--action ACTION --resource ARN | --auth-infos JSON ...)
                                   [--client-id ID] [--source-ip IP] [--context KEY=VALUE ...]
                                   [--connect-attributes A,B] [--last-will-topic TOPIC]
                                   [--domain-name HOST]

Decides requests offline against policy documents, exactly as the plugin does on a connection,
and prints the answer in the shape of AWS IoT's TestAuthorization (aws iot test-authorization).
Use it to check a policy your authorizer returns before deploying it.

  --policy FILE        one policy document per file: a JSON object, or a JSON string holding one
                       (the two forms an authorizer may return). Repeat for up to 10 documents.
                       Each file may hold at most 2048 characters, whitespace outside strings not
                       counted. Its policy name in the output is the file's base name without
                       ".json" (an authorizer's policyDocuments have no names); two files with
                       the same name are refused.
  --action ACTION      the action: iot:Connect, iot:Publish, iot:RetainPublish, iot:Subscribe,
                       iot:Receive, or another AWS IoT action the policy package knows (case is
                       ignored). Any other name is refused, so a typo such as iot:Publsh cannot
                       pass for an IMPLICIT_DENY.
  --resource ARN       the full resource ARN the plugin would check:
                         iot:Connect                 arn:aws:iot:REGION:ACCOUNT:client/CLIENT_ID
                         iot:Publish, RetainPublish  arn:aws:iot:REGION:ACCOUNT:topic/TOPIC
                         iot:Subscribe               arn:aws:iot:REGION:ACCOUNT:topicfilter/FILTER
                         iot:Receive                 arn:aws:iot:REGION:ACCOUNT:topic/TOPIC
  --auth-infos JSON    instead of --action and --resource: AWS's authInfos, as the AWS CLI takes
                       them: a JSON array (or one object) of {"actionType": "PUBLISH",
                       "resources": ["arn:..."]}, file://PATH to read it from a file, or the
                       shorthand actionType=PUBLISH,resources=ARN1,ARN2. Repeatable; at most 10
                       auth infos in all, as AWS. actionType is AWS's PUBLISH, SUBSCRIBE,
                       RECEIVE or CONNECT, or an action name as --action takes
                       (iot:RetainPublish has no actionType at AWS).
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
                       the Will's topic; iot:LastWillTopic is its ARN, built from the connect
                       resource's partition, region and account (a value that is already an ARN
                       is used as is). Left out: the CONNECT has no Will and the key is absent.

For every action:

  --domain-name HOST   iot:DomainName and ${iot:DomainName}: the endpoint the device connected to
                       (its TLS SNI or HTTP Host), compared in lower case. Left out: absent.

Output, on stdout, exit status 0, one auth result per auth info, in order:

  {
    "authResults": [
      {
        "authInfo": {"actionType": "PUBLISH", "resources": ["arn:aws:iot:...:topic/t"]},
        "allowed": {"policies": [{"policyName": "device", "policyArn": "arn:aws:iot:...:policy/device"}]},
        "denied": {"implicitDeny": {"policies": []}, "explicitDeny": {"policies": []}},
        "authDecision": "ALLOWED",
        "missingContextValues": []
      }
    ]
  }

authDecision is ALLOWED (an Allow matched and no Deny did), EXPLICIT_DENY (a Deny matched; it
wins over every Allow in every document) or IMPLICIT_DENY (nothing matched). With several
resources, every one must be allowed: one explicit deny makes EXPLICIT_DENY, else one implicit
deny IMPLICIT_DENY. allowed lists the policies whose Allow statements matched (for ALLOWED),
denied.explicitDeny those whose Deny statements matched (for EXPLICIT_DENY),
denied.implicitDeny every policy (for IMPLICIT_DENY: none of them matched). policyArn is built
from the first resource's partition, region and account, and left out when it is not an ARN.
missingContextValues lists the policy variables and condition keys that the statements for the
action read and the request does not give (e.g. iot:ClientId without --client-id, or
iot:Connection.Thing.ThingName, which a custom-authorizer connection never has).

A policy that does not parse or validate prints the file, the element, its line and column and
what is wrong on stderr, and exits with status 2; so do bad flags, an unknown action, and CONNECT
keys that no CONNECT could carry (LastWill without a Will topic, a Will topic without LastWill, an
unknown attribute, or either flag with no iot:Connect to apply to). The policy language, with its
pitfalls, is described in policy/SYNTAX.md.

Example:

  iotauthz test-authorization --policy device.json --action iot:Publish \
    --resource arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/telemetry \
    --client-id dev1 --source-ip 192.0.2.7 --context tenant=acme

  iotauthz test-authorization --policy device.json --client-id dev1 --auth-infos '[
    {"actionType": "CONNECT", "resources": ["arn:aws:iot:us-east-1:123456789012:client/dev1"]},
    {"actionType": "PUBLISH", "resources": ["arn:aws:iot:us-east-1:123456789012:topic/devices/dev1/t"]}]'

  iotauthz test-authorization --policy device.json --action iot:Connect \
    --resource arn:aws:iot:us-east-1:123456789012:client/dev1 --client-id dev1 \
    --connect-attributes PersistentConnect,LastWill --last-will-topic status/dev1 \
    --domain-name iot.example.com
`

func init() {
	register("test-authorization", "decide requests against policy documents, offline (AWS TestAuthorization's answer)", runTestAuthorization)
}

// testAuthOutput is AWS TestAuthorization's response
// (https://docs.aws.amazon.com/iot/latest/apireference/API_TestAuthorization.html).
type testAuthOutput struct {
	AuthResults []authResult `json:"authResults"`
}

type authResult struct {
	AuthInfo             authInfo   `json:"authInfo"`
	Allowed              policyList `json:"allowed"`
	Denied               denied     `json:"denied"`
	AuthDecision         string     `json:"authDecision"` // ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY
	MissingContextValues []string   `json:"missingContextValues"`
}

// authInfo is AWS's AuthInfo: an action type and the resources to test it on.
type authInfo struct {
	ActionType string   `json:"actionType"`
	Resources  []string `json:"resources"`
}

type policyList struct {
	Policies []policyRef `json:"policies"`
}

type denied struct {
	ImplicitDeny policyList `json:"implicitDeny"`
	ExplicitDeny policyList `json:"explicitDeny"`
}

type policyRef struct {
	PolicyName string `json:"policyName"`
	PolicyArn  string `json:"policyArn,omitempty"`
}

// maxAuthInfos is AWS's limit on TestAuthorization's authInfos.
const maxAuthInfos = 10

// awsActionTypes maps AWS's ActionType values to the actions they test.
var awsActionTypes = map[string]string{
	"PUBLISH":   policy.ActionPublish,
	"SUBSCRIBE": policy.ActionSubscribe,
	"RECEIVE":   policy.ActionReceive,
	"CONNECT":   policy.ActionConnect,
}

// actionOf resolves an actionType (AWS's enum, or an action name) to the action evaluated.
func actionOf(actionType string) (string, bool) {
	if a, ok := awsActionTypes[actionType]; ok {
		return a, true
	}
	return actionType, knownAction(actionType)
}

// actionTypeOf names an action as AWS's ActionType when it has one, else as given.
func actionTypeOf(action string) string {
	for t, a := range awsActionTypes {
		if strings.EqualFold(a, action) {
			return t
		}
	}
	return action
}

// parseAuthInfos reads one --auth-infos value: JSON (an array or one object), file://PATH, or
// the AWS CLI shorthand actionType=X,resources=A,B.
func parseAuthInfos(arg string) ([]authInfo, error) {
	text := arg
	if path, ok := strings.CutPrefix(arg, "file://"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		text = string(b)
	}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return nil, errors.New("empty")
	}
	if trimmed[0] != '[' && trimmed[0] != '{' {
		// Shorthand: actionType=PUBLISH,resources=ARN1,ARN2 (resources takes the rest).
		var ai authInfo
		rest := trimmed
		for rest != "" {
			key, val, ok := strings.Cut(rest, "=")
			if !ok {
				return nil, fmt.Errorf("shorthand %q: want actionType=TYPE,resources=ARN[,ARN...]", arg)
			}
			switch key {
			case "actionType":
				ai.ActionType, rest, _ = strings.Cut(val, ",")
			case "resources":
				ai.Resources, rest = strings.Split(val, ","), ""
			default:
				return nil, fmt.Errorf("shorthand %q: unknown key %q; want actionType=TYPE,resources=ARN[,ARN...]", arg, key)
			}
		}
		return []authInfo{ai}, nil
	}
	if trimmed[0] == '{' {
		trimmed = "[" + trimmed + "]"
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var infos []authInfo
	if err := dec.Decode(&infos); err != nil {
		return nil, fmt.Errorf("not AWS's authInfos JSON ([{\"actionType\": \"PUBLISH\", \"resources\": [\"arn:...\"]}]): %v", err)
	}
	if dec.More() {
		return nil, errors.New("text after the JSON value")
	}
	return infos, nil
}

func runTestAuthorization(args []string, stdout, stderr io.Writer) int {
	const me = "iotauthz test-authorization"
	fs := newFlagSet("test-authorization", testAuthHelp, stdout, stderr)
	var policies, contexts, authInfoArgs multiFlag
	fs.Var(&policies, "policy", "policy document `FILE` (repeatable, at most 10)")
	action := fs.String("action", "", "the `ACTION`, e.g. iot:Publish")
	resource := fs.String("resource", "", "the full resource `ARN`")
	fs.Var(&authInfoArgs, "auth-infos", "AWS's authInfos `JSON` (or file://PATH, or actionType=T,resources=A,B); repeatable")
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
	case len(authInfoArgs) > 0 && (*action != "" || *resource != ""):
		return usageErr("--auth-infos replaces --action and --resource; give one form, not both")
	case len(authInfoArgs) == 0 && *action == "":
		return usageErr("no --action given, e.g. --action iot:Publish (or --auth-infos)")
	case len(authInfoArgs) == 0 && *resource == "":
		return usageErr("no --resource given, e.g. --resource arn:aws:iot:us-east-1:123456789012:topic/my/topic")
	}

	// The requests: (action, resources) pairs, with the actionType to print.
	var infos []authInfo
	if len(authInfoArgs) == 0 {
		if !knownAction(*action) {
			return usageErr("unknown action " + strconv.Quote(*action) + "; the actions are " + strings.Join(policy.Actions(), ", "))
		}
		infos = []authInfo{{ActionType: actionTypeOf(*action), Resources: []string{*resource}}}
	} else {
		for _, a := range authInfoArgs {
			got, err := parseAuthInfos(a)
			if err != nil {
				return usageErr("--auth-infos: " + err.Error())
			}
			infos = append(infos, got...)
		}
		if len(infos) == 0 || len(infos) > maxAuthInfos {
			return usageErr("--auth-infos: " + strconv.Itoa(len(infos)) + " auth infos; AWS takes 1 to " + strconv.Itoa(maxAuthInfos))
		}
	}
	actions := make([]string, len(infos))
	connects := 0
	for i, ai := range infos {
		a, ok := actionOf(ai.ActionType)
		switch {
		case ai.ActionType == "":
			return usageErr("--auth-infos: auth info " + strconv.Itoa(i+1) + " has no actionType; AWS's are PUBLISH, SUBSCRIBE, RECEIVE, CONNECT")
		case !ok:
			return usageErr("unknown action " + strconv.Quote(ai.ActionType) + "; AWS's actionTypes are PUBLISH, SUBSCRIBE, RECEIVE, CONNECT; the actions are " + strings.Join(policy.Actions(), ", "))
		case len(ai.Resources) == 0:
			return usageErr("--auth-infos: auth info " + strconv.Itoa(i+1) + " has no resources")
		}
		for _, r := range ai.Resources {
			if r == "" {
				return usageErr("--auth-infos: auth info " + strconv.Itoa(i+1) + " has an empty resource")
			}
		}
		if strings.EqualFold(a, policy.ActionConnect) {
			connects++
		}
		actions[i] = a
	}

	base := policy.Vars{SourceIP: *sourceIP}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["client-id"] {
		base.ClientID, base.HasClientID = *clientID, true
	}
	if given["domain-name"] {
		d := strings.ToLower(*domain)
		if d == "" || strings.ContainsAny(d, ":/ ") {
			return usageErr("--domain-name " + strconv.Quote(*domain) + ": give the host name alone, e.g. iot.example.com (no port, no scheme)")
		}
		base.DomainName, base.HasDomainName = d, true
	}
	if connects == 0 {
		switch {
		case given["connect-attributes"]:
			return usageErr("--connect-attributes applies only to --action iot:Connect: the key is absent on every other action")
		case given["last-will-topic"]:
			return usageErr("--last-will-topic applies only to --action iot:Connect: the key is absent on every other action")
		}
	}
	for _, kv := range contexts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr("--context " + strconv.Quote(kv) + ": expected KEY=VALUE")
		}
		if base.Context == nil {
			base.Context = map[string]string{}
		}
		if _, dup := base.Context[k]; dup {
			return usageErr("--context key " + strconv.Quote(k) + " given twice")
		}
		base.Context[k] = v
	}

	docs := make([]*policy.Document, len(policies))
	names := make([]string, len(policies))
	for i, file := range policies {
		names[i] = strings.TrimSuffix(filepath.Base(file), ".json")
		for j := range i {
			if names[j] == names[i] {
				return usageErr("--policy " + file + " and " + policies[j] + " are both named " + strconv.Quote(names[i]) + " (a policy's name is its file's base name without .json); AWS policy names are unique")
			}
		}
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

	out := testAuthOutput{AuthResults: []authResult{}}
	for i, ai := range infos {
		a := actions[i]
		decision := policy.Allowed
		hit := make([]bool, len(docs)) // documents with a deciding statement
		var missing []string
		for _, res := range ai.Resources {
			vars := base
			if strings.EqualFold(a, policy.ActionConnect) {
				if msg := connectKeys(&vars, a, res, given["connect-attributes"], *connAttrs, given["last-will-topic"], *willTopic); msg != "" {
					return usageErr(msg)
				}
			}
			r, matches := set.Explain(a, res, &vars)
			missing = append(missing, set.MissingKeys(a, &vars)...)
			switch {
			case r == decision:
			case r == policy.ExplicitDeny, r == policy.ImplicitDeny && decision == policy.Allowed:
				decision = r
				clear(hit)
			default:
				continue // a weaker result than the one already found
			}
			for _, m := range matches {
				hit[m.Document] = true
			}
		}
		prefix, hasPrefix := arnPrefix(ai.Resources[0])
		refs := func(include func(int) bool) []policyRef {
			l := []policyRef{}
			for d := range docs {
				if include(d) {
					ref := policyRef{PolicyName: names[d]}
					if hasPrefix {
						ref.PolicyArn = prefix + "policy/" + names[d]
					}
					l = append(l, ref)
				}
			}
			return l
		}
		none := func(int) bool { return false }
		result := authResult{
			AuthInfo:             ai,
			Allowed:              policyList{refs(none)},
			Denied:               denied{ImplicitDeny: policyList{refs(none)}, ExplicitDeny: policyList{refs(none)}},
			AuthDecision:         decision.String(),
			MissingContextValues: []string{},
		}
		switch decision {
		case policy.Allowed:
			result.Allowed.Policies = refs(func(d int) bool { return hit[d] })
		case policy.ExplicitDeny:
			result.Denied.ExplicitDeny.Policies = refs(func(d int) bool { return hit[d] })
		default:
			result.Denied.ImplicitDeny.Policies = refs(func(int) bool { return true })
		}
		slices.Sort(missing)
		result.MissingContextValues = append(result.MissingContextValues, slices.Compact(missing)...)
		out.AuthResults = append(out.AuthResults, result)
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
