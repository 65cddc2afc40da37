package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/iotauthz/iotauthz/host/gateway/lambda"
	"github.com/iotauthz/iotauthz/internal/uuid"
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/token"
	"github.com/iotauthz/iotauthz/policy"
)

const testInvokeHelp = `
usage: iotauthz test-invoke-authorizer (--url URL | --function-arn ARN [--lambda-endpoint URL]) [--token T] [--signature S --public-key PEM...]
         [--http-header NAME:VALUE]... [--query-string ?QUERY]
         [--mqtt-username U] [--mqtt-password P] [--mqtt-client-id C] [--server-name SNI]

Calls an authorizer service the way the plugin does, and checks its answer the way the plugin
does: AWS IoT's TestInvokeAuthorizer for iotauthz.

With --function-arn the authorizer is a Lambda function, as authorizerFunctionArn names it
(arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]): the event is the payload of a
synchronous Invoke through the AWS SDK, exactly as the embedded gateway invokes it, with the SDK's
default credential chain and the ARN's region (lambda:InvokeFunction is needed). --lambda-endpoint
sends the call elsewhere (the Lambda Runtime Interface Emulator, a VPC endpoint). A function error
(an error the function returns or a panic), a throttle or any other failure prints its reason
and exits 1, as would the plugin deny the device.

It builds the AWS custom-authorizer event with the plugin's own code (the same bytes the plugin
would send), POSTs it to URL with content-type application/json, and validates the answer by
DESIGN contract 2: HTTP 200; a JSON object; isAuthenticated a boolean; principalId 1 to 128
letters and digits; refreshAfterInSeconds and disconnectAfterInSeconds integers from 300 to 86400;
policyDocuments at most 10, each an object or a JSON string of at most 2048 characters and a valid
policy; context (ours) an object of strings, numbers, booleans (kept as their text) or nulls (left out).

A valid answer is printed in TestInvokeAuthorizer's shape, policy documents as strings:

  {
    "isAuthenticated": true,
    "principalId": "dev1",
    "policyDocuments": ["{\"Version\":\"2012-10-17\",\"Statement\":[...]}"],
    "refreshAfterInSeconds": 300,
    "disconnectAfterInSeconds": 86400
  }

(plus "context" when the authorizer returned one), and the exit code is 0 even when
isAuthenticated is false. An answer the plugin would refuse (and so deny the device) prints

  InvalidResponseException: <field>: <why>

on stderr and exits 1; so do a non-200 status and a call that fails (timeout, refused, reset).
Usage errors exit 2.

The event: "protocols" is ["tls","mqtt"] when an --mqtt-* flag is given, ["tls","http","mqtt"]
when --http-header or --query-string is given too (MQTT over WebSocket), ["tls","http"] with
only --http-header, --query-string or --server-name (an HTTPS publish). With none of these flags
the event has no "protocolData" and an empty "protocols", as AWS's TestInvokeAuthorizer without
contexts (its tutorial's function tests for that). protocolData.tls is present with --server-name; the password is sent base64,
as AWS does. signatureVerified is true only when --signature verifies with one of the
--public-key files (RSA-SHA256, PKCS#1 v1.5, over the token); a signature that does not verify
is an error, since the plugin would deny the device without calling the authorizer.

Example:

  iotauthz test-invoke-authorizer --url http://127.0.0.1:9000/authorize \
    --token allow-dev1 --signature "$(iotauthz sign --key private.pem allow-dev1)" --public-key public.pem \
    --mqtt-client-id dev1 --mqtt-username 'dev1?x-amz-customauthorizer-name=tokens' --server-name iot.example.com

  iotauthz test-invoke-authorizer --function-arn arn:aws:lambda:us-east-1:123456789012:function:iot-authorizer \
    --token allow-dev1 --mqtt-client-id dev1 --server-name iot.example.com
`

func init() {
	register("test-invoke-authorizer", "call an authorizer URL with the event the plugin would send and validate its answer", runTestInvoke)
}

func runTestInvoke(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("test-invoke-authorizer", testInvokeHelp, stdout, stderr)
	url := fs.String("url", "", "the authorizer service URL, e.g. http://127.0.0.1:9000/authorize (or --function-arn)")
	functionARN := fs.String("function-arn", "", "the authorizer's Lambda function ARN, as authorizerFunctionArn (instead of --url)")
	lambdaEndpoint := fs.String("lambda-endpoint", "", "with --function-arn: the Lambda API endpoint URL (default: the ARN's regional endpoint)")
	tok := fs.String("token", "", "the token (the value of the tokenKeyName header, query parameter or username key)")
	sig := fs.String("signature", "", "base64 signature of the token (x-amz-customauthorizer-signature); needs --public-key")
	var keys, headers multiFlag
	fs.Var(&keys, "public-key", "PEM file with a token-signing public key (repeatable; any one verifying is enough)")
	fs.Var(&headers, "http-header", "an HTTP request header NAME:VALUE (repeatable)")
	query := fs.String("query-string", "", "the raw query string, e.g. '?a=1&b=2' (the leading '?' is added if missing)")
	user := fs.String("mqtt-username", "", "the MQTT CONNECT username, as sent (query part included)")
	pass := fs.String("mqtt-password", "", "the MQTT CONNECT password (sent base64 in the event)")
	clientID := fs.String("mqtt-client-id", "", "the MQTT client identifier")
	sni := fs.String("server-name", "", "the TLS server name (SNI) the device used")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer (AWS and the plugin default: 5s)")
	minInterval := fs.Int("min-interval", 300, "the smallest refresh/disconnect interval accepted (300 as AWS; lower only to check answers meant for the plugin's testOverrides.minIntervalSeconds)")
	printEvent := fs.Bool("print-event", false, "also print the event sent, on stderr")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	if *url == "" && *functionARN == "" {
		fmt.Fprintln(stderr, "iotauthz test-invoke-authorizer: --url is required, or --function-arn (see --help)")
		return 2
	}
	if *url != "" && *functionARN != "" {
		fmt.Fprintln(stderr, "iotauthz test-invoke-authorizer: --url and --function-arn: give one, not both")
		return 2
	}
	if *lambdaEndpoint != "" && *functionARN == "" {
		fmt.Fprintln(stderr, "iotauthz test-invoke-authorizer: --lambda-endpoint needs --function-arn")
		return 2
	}
	var fn config.FunctionARN
	if *functionARN != "" {
		var err error
		if fn, err = config.ParseFunctionARN(*functionARN); err != nil {
			fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: --function-arn: %s\n", err.(*config.Error).Reason)
			return 2
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	ev := authorizer.Event{Token: *tok, ConnectionID: uuid.New(func(b []byte) { rand.Read(b) })}
	if *sig != "" {
		if len(keys) == 0 {
			fmt.Fprintln(stderr, "iotauthz test-invoke-authorizer: --signature needs --public-key to verify it (the plugin verifies before calling)")
			return 2
		}
		var pks []*token.PublicKey
		for _, path := range keys {
			b, err := os.ReadFile(path)
			if err != nil {
				fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: %v\n", err)
				return 1
			}
			k, err := token.ParsePublicKeyPEM(path, string(b))
			if err != nil {
				fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: %s: %v\n", path, err)
				return 1
			}
			pks = append(pks, k)
		}
		ok, reason := token.NewVerifier(pks, 1).Verify(*tok, *sig)
		if !ok {
			fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: signature rejected (%s): the plugin would deny without calling the authorizer\n", reason)
			return 1
		}
		ev.SignatureVerified = true
	} else if len(keys) > 0 {
		fmt.Fprintln(stderr, "iotauthz test-invoke-authorizer: --public-key without --signature: nothing to verify")
		return 2
	}

	hasMQTT := set["mqtt-username"] || set["mqtt-password"] || set["mqtt-client-id"]
	hasHTTP := len(headers) > 0 || set["query-string"]
	switch {
	case hasMQTT && hasHTTP:
		ev.Protocols = []string{"tls", "http", "mqtt"}
	case hasMQTT:
		ev.Protocols = []string{"tls", "mqtt"}
	case hasHTTP || *sni != "":
		ev.Protocols = []string{"tls", "http"}
		hasHTTP = true
	default:
		// No context at all: AWS's TestInvokeAuthorizer without httpContext, mqttContext or
		// tlsContext gives the function no protocolData (AWS's custom authorizer tutorial,
		// https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-tutorial.html:
		// "protocolData data will be undefined if testing is done via CLI"), and the tutorial's
		// function takes its test branch on exactly that. AWS documents no "protocols" for
		// this case; an empty list keeps event.protocols an array for functions that read it.
		ev.Protocols = []string{}
	}
	if *sni != "" {
		ev.TLS = &authorizer.TLSData{ServerName: *sni}
	}
	if hasHTTP {
		h := &authorizer.HTTPData{}
		for _, kv := range headers {
			name, value, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(name) == "" {
				fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: --http-header %q: want NAME:VALUE\n", kv)
				return 2
			}
			h.Headers = append(h.Headers, [2]string{strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)})
		}
		if q := *query; q != "" {
			if !strings.HasPrefix(q, "?") {
				q = "?" + q
			}
			h.QueryString = q
		}
		ev.HTTP = h
	}
	if hasMQTT {
		ev.MQTT = &authorizer.MQTTData{
			Username: *user, HasUsername: set["mqtt-username"],
			Password: []byte(*pass), HasPassword: set["mqtt-password"],
			ClientID: *clientID, HasClientID: set["mqtt-client-id"],
		}
	}
	body := ev.AppendJSON(nil)
	if *printEvent {
		fmt.Fprintf(stderr, "event: %s\n", body)
	}

	lim := authorizer.Limits{MinInterval: *minInterval, MaxInterval: 86400}
	var out []byte
	var reason string
	var err error
	if *functionARN != "" {
		out, reason, err = invokeFunction(fn, *lambdaEndpoint, body, *timeout, lim)
	} else {
		out, reason, err = invokeAuthorizer(*url, body, *timeout, lim)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iotauthz test-invoke-authorizer: %v\n", err)
		return 1
	}
	if reason != "" {
		fmt.Fprintf(stderr, "InvalidResponseException: %s\n", reason)
		return 1
	}
	stdout.Write(out)
	return 0
}

// testInvokeOutput is AWS's TestInvokeAuthorizer output, plus our context.
type testInvokeOutput struct {
	IsAuthenticated          bool              `json:"isAuthenticated"`
	PrincipalID              string            `json:"principalId"`
	PolicyDocuments          []string          `json:"policyDocuments"`
	RefreshAfterInSeconds    int               `json:"refreshAfterInSeconds"`
	DisconnectAfterInSeconds int               `json:"disconnectAfterInSeconds"`
	Context                  map[string]string `json:"context,omitempty"`
}

// invokeAuthorizer POSTs the event and validates the answer. err is a failed call; reason, when
// not empty, says why the answer is invalid; otherwise out is the TestInvokeAuthorizer JSON.
func invokeAuthorizer(url string, event []byte, timeout time.Duration, lim authorizer.Limits) (out []byte, reason string, err error) {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Post(url, "application/json", bytes.NewReader(event))
	if err != nil {
		return nil, "", fmt.Errorf("calling the authorizer: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "", fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("the authorizer answered HTTP %d, not 200", resp.StatusCode), nil
	}
	return validateAnswer(b, lim)
}

// invokeFunction invokes the Lambda function fn with the event, as the embedded gateway does,
// and validates its answer. err is a failed invocation (the function's error, a throttle, an
// API or network error); reason and out as invokeAuthorizer's.
func invokeFunction(fn config.FunctionARN, endpoint string, event []byte, timeout time.Duration, lim authorizer.Limits) (out []byte, reason string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	iv, err := lambda.New(ctx, fn, lambda.Options{Endpoint: endpoint})
	if err != nil {
		return nil, "", err
	}
	status, hdr, b := iv.Invoke(ctx, event)
	switch {
	case hdr["X-Amz-Function-Error"] != "":
		return nil, "", fmt.Errorf("the function failed (%s): %s", hdr["X-Amz-Function-Error"], bounded(b))
	case status == http.StatusGatewayTimeout && ctx.Err() != nil:
		return nil, "", fmt.Errorf("no answer within %v", timeout)
	case status != http.StatusOK:
		return nil, "", fmt.Errorf("invoking %s: HTTP %d: %s", fn, status, bounded(b))
	}
	return validateAnswer(b, lim)
}

// bounded is a payload for one error line.
func bounded(b []byte) string {
	if len(b) > 512 {
		return string(b[:512]) + "..."
	}
	return string(b)
}

// validateAnswer validates a 200 answer's body by the rules of contract 2 and returns the
// TestInvokeAuthorizer JSON, or the reason it is invalid.
func validateAnswer(b []byte, lim authorizer.Limits) (out []byte, reason string, err error) {
	r, err := authorizer.ParseResponse(b, lim)
	if err != nil {
		return nil, err.Error(), nil
	}
	if _, err := policy.CompileJSON(r.PolicyDocuments); err != nil {
		return nil, "policyDocuments: " + err.Error(), nil
	}
	o := testInvokeOutput{
		IsAuthenticated:          r.IsAuthenticated,
		PrincipalID:              r.PrincipalID,
		PolicyDocuments:          make([]string, len(r.PolicyDocuments)),
		RefreshAfterInSeconds:    r.RefreshAfterInSeconds,
		DisconnectAfterInSeconds: r.DisconnectAfterInSeconds,
		Context:                  r.Context,
	}
	for i, d := range r.PolicyDocuments {
		o.PolicyDocuments[i] = string(d)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "", nil
}
