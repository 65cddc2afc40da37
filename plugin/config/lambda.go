package config

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// FunctionARN is a Lambda function's ARN as AWS's DescribeAuthorizer prints it in
// authorizerFunctionArn, split into its parts:
//
//	arn:aws:lambda:us-east-1:123456789012:function:iot-authorizer
//	arn:aws:lambda:us-east-1:123456789012:function:iot-authorizer:live   (an alias)
//	arn:aws:lambda:us-east-1:123456789012:function:iot-authorizer:7      (a version)
//
// # How the plugin calls it
//
// The plugin only ever calls clusters (proxy_http_call). An authorizer given by
// authorizerFunctionArn is called on the cluster whose name is the ARN itself, exactly as
// written (String). In Envoy that cluster reaches the regional Lambda endpoint through the
// aws_lambda filter, configured as the cluster's upstream HTTP filter with payload_passthrough
// (envoy/envoy-lambda.yaml); in the embedded gateway it is served by an invoker that calls
// Lambda's Invoke API with the AWS SDK (host/gateway/lambda). Either way the body is the
// authorizer event, unchanged, and the answer is the function's payload (DESIGN contract 2).
type FunctionARN struct {
	// Partition is "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e",
	// "aws-iso-f" or "aws-eusc"; it must be the partition of Region.
	Partition string
	// Region is the function's region, e.g. "us-east-1". It may differ from the
	// configuration's region (a cross-region invocation).
	Region string
	// AccountID is the function's account, 12 digits. It may differ from the configuration's
	// accountId (a cross-account invocation, allowed by the function's resource policy).
	AccountID string
	// Name is the function name: 1–64 characters of [a-zA-Z0-9_-].
	Name string
	// Qualifier is the version ("$LATEST" or a number) or alias name, 1–128 characters of
	// [a-zA-Z0-9_-] or "$LATEST"; empty for an unqualified ARN (Lambda runs $LATEST).
	Qualifier string
}

// String returns the ARN: "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]".
func (f FunctionARN) String() string {
	s := "arn:" + f.Partition + ":lambda:" + f.Region + ":" + f.AccountID + ":function:" + f.Name
	if f.Qualifier != "" {
		s += ":" + f.Qualifier
	}
	return s
}

// Host is the regional Lambda endpoint's host name, "lambda.us-east-1.amazonaws.com": what the
// plugin sends as :authority on an ARN authorizer's cluster, and what Envoy's Lambda cluster
// connects to.
func (f FunctionARN) Host() string {
	return "lambda." + f.Region + "." + partitionDNSSuffix[f.Partition]
}

// partitionDNSSuffix are the partitions a function ARN may name, with the DNS suffix of their
// regional endpoints.
var partitionDNSSuffix = map[string]string{
	"aws":        "amazonaws.com",
	"aws-cn":     "amazonaws.com.cn",
	"aws-us-gov": "amazonaws.com",
	"aws-iso":    "c2s.ic.gov",
	"aws-iso-b":  "sc2s.sgov.gov",
	"aws-iso-e":  "cloud.adc-e.uk",
	"aws-iso-f":  "csp.hci.ic.gov",
	"aws-eusc":   "amazonaws.eu",
}

// regionPartition names the partition of a region by its prefix; regions that match none are
// in "aws".
var regionPartition = []struct{ prefix, partition string }{
	{"cn-", "aws-cn"},
	{"us-gov-", "aws-us-gov"},
	{"us-iso-", "aws-iso"},
	{"us-isob-", "aws-iso-b"},
	{"eu-isoe-", "aws-iso-e"},
	{"us-isof-", "aws-iso-f"},
	{"eusc-", "aws-eusc"},
}

func partitionOf(region string) string {
	for _, p := range regionPartition {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// MaxFunctionARNChars bounds an authorizerFunctionArn: the longest valid one ("aws-us-gov", a
// 32-character region, a 64-character name and a 128-character qualifier) is well under it.
const MaxFunctionARNChars = 256

// ParseFunctionARN parses and validates a Lambda function ARN. The error says which part is
// wrong:
//
//	ParseFunctionARN("arn:aws:lambda:us-east-1:123456789012:function:authz")        → ok
//	ParseFunctionARN("arn:aws:lambda:us-east-1:1234:function:authz")                → account "1234" must be 12 digits
//	ParseFunctionARN("arn:aws-cn:lambda:us-east-1:123456789012:function:authz")     → partition "aws-cn" is not the partition of region "us-east-1" ("aws")
func ParseFunctionARN(s string) (FunctionARN, error) {
	const shape = "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
	var f FunctionARN
	bad := func(why string) (FunctionARN, error) {
		return FunctionARN{}, &Error{Field: "authorizerFunctionArn", Reason: why}
	}
	if len(s) > MaxFunctionARNChars {
		return bad("is " + strconv.Itoa(len(s)) + " characters, at most " + strconv.Itoa(MaxFunctionARNChars) + " allowed")
	}
	parts := strings.Split(s, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
		return bad("not a Lambda function ARN (" + shape + "), got " + strconv.Quote(s))
	}
	f.Partition, f.Region, f.AccountID, f.Name = parts[1], parts[3], parts[4], parts[6]
	if len(parts) == 8 {
		f.Qualifier = parts[7]
		if f.Qualifier == "" {
			return bad("empty qualifier after the function name, got " + strconv.Quote(s))
		}
	}
	if _, ok := partitionDNSSuffix[f.Partition]; !ok {
		return bad("unknown partition " + strconv.Quote(f.Partition) + " (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)")
	}
	if !validARNRegion(f.Region) {
		return bad("region " + strconv.Quote(f.Region) + " is not an AWS region name like \"us-east-1\"")
	}
	if p := partitionOf(f.Region); p != f.Partition {
		return bad("partition " + strconv.Quote(f.Partition) + " is not the partition of region " + strconv.Quote(f.Region) + " (" + strconv.Quote(p) + ")")
	}
	if len(f.AccountID) != 12 || !allDigits(f.AccountID) {
		return bad("account " + strconv.Quote(f.AccountID) + " must be 12 digits")
	}
	if !matches(f.Name, 64, "_-") {
		return bad("function name " + strconv.Quote(f.Name) + " must match [a-zA-Z0-9_-]{1,64}")
	}
	if f.Qualifier != "" && f.Qualifier != "$LATEST" && !matches(f.Qualifier, 128, "_-") {
		return bad("qualifier " + strconv.Quote(f.Qualifier) + " must be $LATEST, a version number or an alias matching [a-zA-Z0-9_-]{1,128}")
	}
	return f, nil
}

// validARNRegion accepts lowercase letter groups separated by '-', at least three, the last a
// number, at most 32 characters: us-east-1, cn-north-1, us-gov-west-1, eusc-de-east-1.
func validARNRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 || len(r) > 32 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		if i == len(parts)-1 {
			if !allDigits(p) {
				return false
			}
			continue
		}
		for j := 0; j < len(p); j++ {
			if p[j] < 'a' || p[j] > 'z' {
				return false
			}
		}
	}
	return true
}

// lambdaFunction applies authorizerFunctionArn (v, at path p) to a: the cluster becomes the ARN,
// the authority the regional Lambda endpoint. fm holds authorizerFunction's members when that
// object is present too: with an ARN only its timeoutMillis applies; a cluster, authority or
// path there is refused, so that no one believes it is used.
func lambdaFunction(a *Authorizer, p string, v jsonv.Value, fp string, fm map[string]jsonv.Value) error {
	if v.Kind() != jsonv.String {
		return errorf(p, "must be a string, got "+kind(v))
	}
	f, err := ParseFunctionARN(v.Str())
	if err != nil {
		return errorf(p, err.(*Error).Reason)
	}
	for _, name := range []string{"cluster", "authority", "path"} {
		if _, ok := fm[name]; ok {
			return errorf(fp+"."+name, "not allowed with authorizerFunctionArn (the plugin calls the cluster named by the ARN)")
		}
	}
	a.Function = &f
	a.Cluster = f.String()
	a.Authority = f.Host()
	a.Path = "/"
	return nil
}
