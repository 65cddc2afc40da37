package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// The output of AWS's DescribeAuthorizer (aws iot describe-authorizer; its
// "authorizerDescription" object) can be pasted into "authorizers" as is. Besides the fields the
// plugin uses, that output has four that describe the authorizer at AWS
// (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeAuthorizer.html,
// https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerDescription.html):
//
//   - authorizerArn: "arn:PARTITION:iot:REGION:ACCOUNT:authorizer/NAME". Checked (the shape, the
//     region's partition, and NAME equal to authorizerName, so that an ARN pasted beside another
//     authorizer's fields is caught) and otherwise not used.
//   - authorizerFunctionArn: the Lambda function; used (see Authorizer.Function).
//   - creationDate, lastModifiedDate: timestamps, as the AWS CLI prints them (ISO 8601, e.g.
//     "2026-12-05T06:00:00.123000+00:00") or as the API sends them (epoch seconds, a JSON
//     number). Checked to be one of those, otherwise not used.

// describeOnlyFields are the DescribeAuthorizer fields the plugin accepts and does not use.
var describeOnlyFields = []string{"authorizerArn", "creationDate", "lastModifiedDate"}

// describeFields checks the describe-only fields of the authorizer named name, at path p.
func describeFields(name, p string, m map[string]jsonv.Value) error {
	if v, ok := m["authorizerArn"]; ok {
		if err := authorizerARN(name, p+".authorizerArn", v); err != nil {
			return err
		}
	}
	for _, f := range describeOnlyFields[1:] {
		if v, ok := m[f]; ok {
			if err := timestamp(p+"."+f, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseAuthorizerARN splits "arn:PARTITION:iot:REGION:ACCOUNT:authorizer/NAME" into its region,
// account and name; the error says which part is wrong.
func ParseAuthorizerARN(s string) (region, account, name string, err error) {
	const shape = "arn:PARTITION:iot:REGION:ACCOUNT:authorizer/NAME"
	bad := func(why string) (string, string, string, error) {
		return "", "", "", &Error{Field: "authorizerArn", Reason: why}
	}
	parts := strings.SplitN(s, ":", 6)
	if len(s) > 2048 || len(parts) != 6 || parts[0] != "arn" || parts[2] != "iot" || !strings.HasPrefix(parts[5], "authorizer/") {
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return bad("not an AWS IoT authorizer ARN (" + shape + "), got " + strconv.Quote(s))
	}
	region, account, name = parts[3], parts[4], strings.TrimPrefix(parts[5], "authorizer/")
	switch {
	case !validARNRegion(region):
		return bad("region " + strconv.Quote(region) + " is not a region, e.g. us-east-1")
	case parts[1] != partitionOf(region):
		return bad("partition " + strconv.Quote(parts[1]) + " is not the partition of region " + strconv.Quote(region) + " (" + strconv.Quote(partitionOf(region)) + ")")
	case len(account) != 12 || !allDigits(account):
		return bad("account " + strconv.Quote(account) + " must be 12 digits")
	case !matches(name, 128, "_=,@-"):
		return bad("authorizer name " + strconv.Quote(name) + " must match [\\w=,@-]{1,128}")
	}
	return region, account, name, nil
}

func authorizerARN(name, p string, v jsonv.Value) error {
	s, err := str(p, v)
	if err != nil {
		return err
	}
	_, _, arnName, err := ParseAuthorizerARN(s)
	if err != nil {
		return errorf(p, err.(*Error).Reason)
	}
	if arnName != name {
		return errorf(p, "names authorizer "+strconv.Quote(arnName)+", but authorizerName is "+strconv.Quote(name))
	}
	return nil
}

// timestamp accepts what describe-authorizer prints for a date: an ISO 8601 string (the AWS
// CLI's default) or epoch seconds (a number, as the API sends it).
func timestamp(p string, v jsonv.Value) error {
	switch v.Kind() {
	case jsonv.Number:
		f, err := strconv.ParseFloat(v.Raw(), 64)
		if err != nil || f < 0 {
			return errorf(p, "must be epoch seconds or an ISO 8601 date-time, got "+v.Raw())
		}
		return nil
	case jsonv.String:
		if _, err := time.Parse(time.RFC3339Nano, v.Str()); err != nil {
			s := v.Str()
			if len(s) > 64 {
				s = s[:64] + "..."
			}
			return errorf(p, "must be an ISO 8601 date-time such as \"2026-12-05T06:00:00.123000+00:00\" (or epoch seconds), got "+strconv.Quote(s))
		}
		return nil
	}
	return errorf(p, "must be an ISO 8601 date-time string or epoch seconds, got "+kind(v))
}
