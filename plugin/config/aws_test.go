package config

import (
	"strings"
	"testing"
)

// TestParse_DescribeAuthorizer: the output of aws iot describe-authorizer pasted as an
// authorizer, its four describe-only fields included
// (https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerDescription.html).
func TestParse_DescribeAuthorizer(t *testing.T) {
	described := func(mut func(a obj)) obj {
		m := base(t)
		a := auth(m, 0)
		delete(a, "authorizerFunction")
		a["authorizerFunctionArn"] = testARN
		a["authorizerArn"] = "arn:aws:iot:us-east-1:123456789012:authorizer/tokens"
		a["creationDate"] = "2026-11-30T09:15:02.417000+00:00"
		a["lastModifiedDate"] = 1.764494102417e9
		a["status"] = "ACTIVE"
		a["signingDisabled"] = false
		a["enableCachingForHttp"] = false
		if mut != nil {
			mut(a)
		}
		return m
	}
	c, err := Parse(marshal(t, described(nil)))
	if err != nil {
		t.Fatalf("pasted describe-authorizer output refused: %v", err)
	}
	if a := c.Authorizers["tokens"]; a.Function == nil || a.Function.Name != "iot-authorizer" || a.TokenKeyName == "" || len(a.Keys) != 2 {
		t.Fatalf("authorizer %+v", a)
	}
	for _, tc := range []struct {
		name string
		mut  func(a obj)
		err  string
	}{
		{"epoch creation date", func(a obj) { a["creationDate"] = 1764494102 }, ""},
		{"Z date", func(a obj) { a["lastModifiedDate"] = "2026-11-30T09:15:02Z" }, ""},
		{"GovCloud ARN", func(a obj) { a["authorizerArn"] = "arn:aws-us-gov:iot:us-gov-west-1:123456789012:authorizer/tokens" }, ""},
		{"another authorizer's ARN", func(a obj) { a["authorizerArn"] = "arn:aws:iot:us-east-1:123456789012:authorizer/other" },
			`authorizers[0].authorizerArn: names authorizer "other", but authorizerName is "tokens"`},
		{"not an authorizer ARN", func(a obj) { a["authorizerArn"] = testARN },
			`authorizers[0].authorizerArn: not an AWS IoT authorizer ARN (arn:PARTITION:iot:REGION:ACCOUNT:authorizer/NAME), got "` + testARN + `"`},
		{"wrong partition", func(a obj) { a["authorizerArn"] = "arn:aws-cn:iot:us-east-1:123456789012:authorizer/tokens" },
			`authorizers[0].authorizerArn: partition "aws-cn" is not the partition of region "us-east-1" ("aws")`},
		{"short account", func(a obj) { a["authorizerArn"] = "arn:aws:iot:us-east-1:1234:authorizer/tokens" },
			`authorizers[0].authorizerArn: account "1234" must be 12 digits`},
		{"bad region", func(a obj) { a["authorizerArn"] = "arn:aws:iot:useast1:123456789012:authorizer/tokens" },
			`authorizers[0].authorizerArn: region "useast1" is not a region, e.g. us-east-1`},
		{"ARN not a string", func(a obj) { a["authorizerArn"] = 1 }, "authorizers[0].authorizerArn: must be a string, got number"},
		{"date not a date", func(a obj) { a["creationDate"] = "yesterday" },
			`authorizers[0].creationDate: must be an ISO 8601 date-time such as "2026-12-05T06:00:00.123000+00:00" (or epoch seconds), got "yesterday"`},
		{"negative epoch", func(a obj) { a["lastModifiedDate"] = -1 }, "authorizers[0].lastModifiedDate: must be epoch seconds or an ISO 8601 date-time, got -1"},
		{"date object", func(a obj) { a["lastModifiedDate"] = obj{} }, "authorizers[0].lastModifiedDate: must be an ISO 8601 date-time string or epoch seconds, got object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(marshal(t, described(tc.mut)))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Fatalf("error %v, want %s", err, tc.err)
			}
		})
	}
}

func TestParseAuthorizerARN(t *testing.T) {
	region, account, name, err := ParseAuthorizerARN("arn:aws:iot:eu-west-1:210987654321:authorizer/my-auth")
	if err != nil || region != "eu-west-1" || account != "210987654321" || name != "my-auth" {
		t.Fatalf("%q %q %q %v", region, account, name, err)
	}
	if _, _, _, err := ParseAuthorizerARN("arn:aws:iot:eu-west-1:210987654321:authorizer/" + strings.Repeat("a", 129)); err == nil {
		t.Fatal("a 129-character name was accepted")
	}
}
