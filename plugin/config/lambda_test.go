package config

import (
	"strings"
	"testing"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:iot-authorizer"

// lambdaConfig is base with authorizer 0 turned into a Lambda authorizer.
func lambdaConfig(t *testing.T, arn any, function obj) obj {
	m := base(t)
	a := auth(m, 0)
	a["authorizerFunctionArn"] = arn
	if function == nil {
		delete(a, "authorizerFunction")
	} else {
		a["authorizerFunction"] = function
	}
	return m
}

func TestParse_FunctionARN(t *testing.T) {
	tests := []struct {
		name, arn string
		function  obj
		want      FunctionARN
		host      string
		timeout   int
	}{
		{name: "unqualified", arn: testARN,
			want: FunctionARN{"aws", "us-east-1", "123456789012", "iot-authorizer", ""}, host: "lambda.us-east-1.amazonaws.com", timeout: 5000},
		{name: "alias and timeout", arn: testARN + ":live", function: obj{"timeoutMillis": 1200},
			want: FunctionARN{"aws", "us-east-1", "123456789012", "iot-authorizer", "live"}, host: "lambda.us-east-1.amazonaws.com", timeout: 1200},
		{name: "version", arn: testARN + ":7",
			want: FunctionARN{"aws", "us-east-1", "123456789012", "iot-authorizer", "7"}, host: "lambda.us-east-1.amazonaws.com", timeout: 5000},
		{name: "latest", arn: testARN + ":$LATEST",
			want: FunctionARN{"aws", "us-east-1", "123456789012", "iot-authorizer", "$LATEST"}, host: "lambda.us-east-1.amazonaws.com", timeout: 5000},
		{name: "china", arn: "arn:aws-cn:lambda:cn-north-1:123456789012:function:a_b",
			want: FunctionARN{"aws-cn", "cn-north-1", "123456789012", "a_b", ""}, host: "lambda.cn-north-1.amazonaws.com.cn", timeout: 5000},
		{name: "govcloud, other region and account", arn: "arn:aws-us-gov:lambda:us-gov-west-1:000000000001:function:F",
			want: FunctionARN{"aws-us-gov", "us-gov-west-1", "000000000001", "F", ""}, host: "lambda.us-gov-west-1.amazonaws.com", timeout: 5000},
		{name: "empty authorizerFunction", arn: testARN, function: obj{},
			want: FunctionARN{"aws", "us-east-1", "123456789012", "iot-authorizer", ""}, host: "lambda.us-east-1.amazonaws.com", timeout: 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(marshal(t, lambdaConfig(t, tc.arn, tc.function)))
			if err != nil {
				t.Fatal(err)
			}
			a := c.Authorizers["tokens"]
			if a.Function == nil || *a.Function != tc.want {
				t.Fatalf("Function = %+v, want %+v", a.Function, tc.want)
			}
			if a.Function.String() != tc.arn || a.Cluster != tc.arn {
				t.Fatalf("String() = %q, Cluster = %q, want both %q", a.Function.String(), a.Cluster, tc.arn)
			}
			if a.Authority != tc.host || a.Function.Host() != tc.host || a.Path != "/" || a.TimeoutMillis != tc.timeout {
				t.Fatalf("authority %q path %q timeout %d", a.Authority, a.Path, a.TimeoutMillis)
			}
			// The other authorizer stays an HTTP one.
			if o := c.Authorizers["open"]; o.Function != nil || o.Cluster != "authz2" {
				t.Fatalf("open %+v", o)
			}
		})
	}
}

func TestParse_FunctionARNErrors(t *testing.T) {
	const f = "authorizers[0].authorizerFunctionArn: "
	long := testARN + ":" + strings.Repeat("q", 300)
	tests := []struct {
		name     string
		arn      any
		function obj
		err      string
	}{
		{name: "number", arn: 1, err: f + "must be a string, got number"},
		{name: "null", arn: nil, err: f + "must be a string, got null"},
		{name: "empty", arn: "", err: f + `not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), got ""`},
		{name: "truncated", arn: "arn:aws:lambda:us-east-1:123456789012:function", err: f + `not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), got "arn:aws:lambda:us-east-1:123456789012:function"`},
		{name: "too many parts", arn: testARN + ":a:b", err: f + `not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), got "` + testARN + `:a:b"`},
		{name: "iot service", arn: "arn:aws:iot:us-east-1:123456789012:function:a", err: f + `not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), got "arn:aws:iot:us-east-1:123456789012:function:a"`},
		{name: "layer", arn: "arn:aws:lambda:us-east-1:123456789012:layer:a", err: f + `not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), got "arn:aws:lambda:us-east-1:123456789012:layer:a"`},
		{name: "partition", arn: "arn:amazon:lambda:us-east-1:123456789012:function:a", err: f + `unknown partition "amazon" (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)`},
		{name: "partition of region", arn: "arn:aws-cn:lambda:us-east-1:123456789012:function:a", err: f + `partition "aws-cn" is not the partition of region "us-east-1" ("aws")`},
		{name: "region upper", arn: "arn:aws:lambda:US-EAST-1:123456789012:function:a", err: f + `region "US-EAST-1" is not an AWS region name like "us-east-1"`},
		{name: "region empty", arn: "arn:aws:lambda::123456789012:function:a", err: f + `region "" is not an AWS region name like "us-east-1"`},
		{name: "account short", arn: "arn:aws:lambda:us-east-1:1234:function:a", err: f + `account "1234" must be 12 digits`},
		{name: "account letters", arn: "arn:aws:lambda:us-east-1:12345678901x:function:a", err: f + `account "12345678901x" must be 12 digits`},
		{name: "name empty", arn: "arn:aws:lambda:us-east-1:123456789012:function:", err: f + `function name "" must match [a-zA-Z0-9_-]{1,64}`},
		{name: "name dot", arn: "arn:aws:lambda:us-east-1:123456789012:function:a.b", err: f + `function name "a.b" must match [a-zA-Z0-9_-]{1,64}`},
		{name: "name 65", arn: "arn:aws:lambda:us-east-1:123456789012:function:" + strings.Repeat("n", 65), err: f + `function name "` + strings.Repeat("n", 65) + `" must match [a-zA-Z0-9_-]{1,64}`},
		{name: "qualifier empty", arn: testARN + ":", err: f + `empty qualifier after the function name, got "` + testARN + `:"`},
		{name: "qualifier dollar", arn: testARN + ":$NEWEST", err: f + `qualifier "$NEWEST" must be $LATEST, a version number or an alias matching [a-zA-Z0-9_-]{1,128}`},
		{name: "qualifier 129", arn: testARN + ":" + strings.Repeat("q", 129), err: f + `qualifier "` + strings.Repeat("q", 129) + `" must be $LATEST, a version number or an alias matching [a-zA-Z0-9_-]{1,128}`},
		{name: "oversized", arn: long, err: f + "is " + itoa(len(long)) + " characters, at most 256 allowed"},
		{name: "NUL", arn: testARN + "\x00", err: f + `function name "iot-authorizer\x00" must match [a-zA-Z0-9_-]{1,64}`},
		{name: "with cluster", arn: testARN, function: obj{"cluster": "authorizer"}, err: "authorizers[0].authorizerFunction.cluster: not allowed with authorizerFunctionArn (the plugin calls the cluster named by the ARN)"},
		{name: "with authority", arn: testARN, function: obj{"authority": "x"}, err: "authorizers[0].authorizerFunction.authority: not allowed with authorizerFunctionArn (the plugin calls the cluster named by the ARN)"},
		{name: "with path", arn: testARN, function: obj{"path": "/x"}, err: "authorizers[0].authorizerFunction.path: not allowed with authorizerFunctionArn (the plugin calls the cluster named by the ARN)"},
		{name: "bad timeout still checked", arn: testARN, function: obj{"timeoutMillis": 0}, err: "authorizers[0].authorizerFunction.timeoutMillis: 0 out of range [1, 60000]"},
		{name: "unknown function field", arn: testARN, function: obj{"url": "x"}, err: "authorizers[0].authorizerFunction.url: unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(marshal(t, lambdaConfig(t, tc.arn, tc.function)))
			if err == nil || err.Error() != tc.err {
				t.Fatalf("err = %v\nwant  %s\n(config %+v)", err, tc.err, c)
			}
		})
	}
	t.Run("neither", func(t *testing.T) {
		m := base(t)
		delete(auth(m, 0), "authorizerFunction")
		if _, err := Parse(marshal(t, m)); err == nil || err.Error() != "authorizers[0].authorizerFunction: required" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		b := strings.Replace(string(marshal(t, lambdaConfig(t, testARN, nil))), `"authorizerFunctionArn":`,
			`"authorizerFunctionArn":"`+testARN+`","authorizerFunctionArn":`, 1)
		if _, err := Parse([]byte(b)); err == nil || err.Error() != "authorizers[0].authorizerFunctionArn: duplicate field" {
			t.Fatalf("err = %v", err)
		}
	})
}

func FuzzParseFunctionARN(f *testing.F) {
	for _, s := range []string{testARN, testARN + ":live", "arn:aws-cn:lambda:cn-north-1:123456789012:function:a", "arn::::::", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fa, err := ParseFunctionARN(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if fa.String() != s {
			t.Fatalf("String() = %q, parsed from %q", fa.String(), s)
		}
	})
}
