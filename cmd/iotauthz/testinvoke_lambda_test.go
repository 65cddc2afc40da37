package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/lambdatest"
)

// TestTestInvoke_Function: test-invoke-authorizer --function-arn invokes the tutorial's sample
// authorizer, a Go Lambda handler in AWS's Runtime Interface Emulator, through the SDK with its
// default credential chain (here the environment), and judges the answer as the plugin would.
func TestTestInvoke_Function(t *testing.T) {
	const arn = "arn:aws:lambda:us-west-2:123456789012:function:iot-authorizer:live"
	emu := lambdatest.Start(t, lambdatest.ARN(t, arn), "123456789012")
	lambdatest.Isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	_, pub, sign := testKeys(t)
	invoke := func(token string, extra ...string) (int, string, string) {
		args := append([]string{"test-invoke-authorizer", "--function-arn", arn, "--lambda-endpoint", emu.URL,
			"--token", token, "--signature", sign(token), "--public-key", pub, "--mqtt-client-id", "dev1"}, extra...)
		return runCLI(t, args...)
	}

	for _, tc := range []struct{ token, effect string }{{"allow-dev1", "Allow"}, {"deny-dev1", "Deny"}} {
		code, out, errs := invoke(tc.token)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s\n%s", tc.token, code, errs, emu.Logs())
		}
		var o testInvokeOutput
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%s: %v: %s", tc.token, err, out)
		}
		if !o.IsAuthenticated || o.PrincipalID != "TEST123" || len(o.PolicyDocuments) != 1 ||
			!strings.Contains(o.PolicyDocuments[0], `"Effect":"`+tc.effect+`"`) || o.Context["authorizer"] != "lambda" {
			t.Fatalf("%s: %+v", tc.token, o)
		}
	}
	calls := emu.Invocations()
	if len(calls) != 2 || calls[0].Problem != "" || calls[0].Function != arn || !strings.Contains(string(calls[0].Event), `"signatureVerified":true`) {
		t.Fatalf("invocations: %+v", calls)
	}

	// The function panics: exit 1 with the function's error.
	code, out, errs := invoke("panic-now")
	if code != 1 || out != "" || !strings.Contains(errs, "HTTP 502") {
		t.Fatalf("panic: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// The function answers something that is not AWS's response shape: exit 1, the reason.
	code, _, errs = invoke("shape")
	if code != 1 || !strings.HasPrefix(errs, "InvalidResponseException: ") {
		t.Fatalf("shape: exit %d, stderr %q", code, errs)
	}
	// The function returns an error: the emulator passes its error object as the answer, which
	// is not a response either.
	code, _, errs = invoke("unknown")
	if code != 1 || !strings.HasPrefix(errs, "InvalidResponseException: ") {
		t.Fatalf("error: exit %d, stderr %q", code, errs)
	}
	// And the function still answers.
	if code, _, errs := invoke("allow"); code != 0 {
		t.Fatalf("after the failures: exit %d %s", code, errs)
	}
}

func TestTestInvoke_FunctionUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--url", "http://127.0.0.1:1/", "--function-arn", "arn:aws:lambda:us-east-1:123456789012:function:a"}, "--url and --function-arn: give one, not both"},
		{[]string{}, "--url is required, or --function-arn"},
		{[]string{"--url", "http://127.0.0.1:1/", "--lambda-endpoint", "http://127.0.0.1:2"}, "--lambda-endpoint needs --function-arn"},
		{[]string{"--function-arn", "arn:aws:lambda:us-east-1:1234:function:a"}, `--function-arn: account "1234" must be 12 digits`},
		{[]string{"--function-arn", "arn:aws:iot:us-east-1:123456789012:authorizer/a"}, "--function-arn: not a Lambda function ARN"},
	} {
		code, _, errs := runCLI(t, append([]string{"test-invoke-authorizer"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errs, tc.err)
		}
	}
}
