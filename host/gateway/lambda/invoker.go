package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iotauthz/iotauthz/plugin/config"
)

// MaxEventBytes bounds the request body an Invoker accepts: authorizer events are a few KiB;
// a larger body is answered 413 without invoking anything.
const MaxEventBytes = 256 << 10

// MaxPayloadBytes bounds the function's answer an Invoker passes on (Lambda's own limit for a
// synchronous response is 6 MB; the plugin refuses more than 64 KiB anyway).
const MaxPayloadBytes = 1 << 20

// Options configure New and Clusters. The zero value is the production setting.
type Options struct {
	// Endpoint, if set, replaces Lambda's regional endpoint: "http://127.0.0.1:9001" for an
	// emulator, or a VPC interface endpoint's URL.
	Endpoint string
	// Credentials, if set, replace the SDK's default credential chain.
	Credentials aws.CredentialsProvider
	// HTTPClient, if set, carries the SDK's requests.
	HTTPClient *http.Client
	// Logf, if set, receives one line per failed invocation.
	Logf func(format string, args ...any)
}

// Invoker is the http.Handler that serves one Lambda authorizer's cluster: each POST invokes
// the function with the body as payload. See the package documentation for its answers.
type Invoker struct {
	fn     config.FunctionARN
	arn    string
	client *awslambda.Client
	logf   func(format string, args ...any)
}

// New returns the Invoker of fn. It loads the SDK's configuration (the default credential
// chain, resolved at the first invocation) with fn's region.
func New(ctx context.Context, fn config.FunctionARN, o Options) (*Invoker, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(fn.Region),
		awsconfig.WithRetryMaxAttempts(1),
	}
	if o.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("lambda: %s: loading the AWS configuration: %w", fn, err)
	}
	client := awslambda.NewFromConfig(cfg, func(lo *awslambda.Options) {
		if o.Endpoint != "" {
			lo.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Invoker{fn: fn, arn: fn.String(), client: client, logf: logf}, nil
}

// Clusters returns an Invoker for each Lambda authorizer (authorizerFunctionArn) of a plugin
// configuration, by the cluster name the plugin calls: the ARN. It is empty when no authorizer
// is a Lambda function. A configuration the plugin would refuse is an error.
func Clusters(ctx context.Context, pluginConfig []byte, o Options) (map[string]http.Handler, error) {
	c, err := config.Parse(pluginConfig)
	if err != nil {
		return nil, fmt.Errorf("lambda: plugin configuration: %w", err)
	}
	out := map[string]http.Handler{}
	for _, a := range c.Authorizers {
		if a.Function == nil || out[a.Cluster] != nil {
			continue
		}
		iv, err := New(ctx, *a.Function, o)
		if err != nil {
			return nil, err
		}
		out[a.Cluster] = iv
	}
	return out, nil
}

// Function returns the function the Invoker calls.
func (iv *Invoker) Function() config.FunctionARN { return iv.fn }

// ServeHTTP implements http.Handler.
func (iv *Invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "lambda: the authorizer event is POSTed")
		return
	}
	event, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBytes+1))
	if err != nil {
		fail(w, http.StatusBadRequest, "lambda: reading the event: "+err.Error())
		return
	}
	if len(event) > MaxEventBytes {
		fail(w, http.StatusRequestEntityTooLarge, "lambda: event over "+strconv.Itoa(MaxEventBytes)+" bytes")
		return
	}
	status, hdr, body := iv.Invoke(r.Context(), event)
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// Invoke invokes the function with event and returns what ServeHTTP answers: the status, the
// headers to set and the body.
func (iv *Invoker) Invoke(ctx context.Context, event []byte) (status int, hdr map[string]string, body []byte) {
	out, err := iv.client.Invoke(ctx, &awslambda.InvokeInput{
		FunctionName:   aws.String(iv.arn),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        event,
	})
	if err != nil {
		status, why := classify(ctx, err)
		iv.logf("lambda: %s: invocation failed, HTTP %d to the plugin: %s", iv.arn, status, bound(why))
		return status, nil, []byte(strconv.Quote(why))
	}
	if len(out.Payload) > MaxPayloadBytes {
		iv.logf("lambda: %s: answer of %d bytes, over %d, HTTP 502 to the plugin", iv.arn, len(out.Payload), MaxPayloadBytes)
		return http.StatusBadGateway, nil, []byte(`"lambda: answer too large"`)
	}
	if out.FunctionError != nil {
		kind := *out.FunctionError
		iv.logf("lambda: %s: function error (%s), HTTP 502 to the plugin: %s", iv.arn, bound(kind), functionErrorText(out.Payload))
		return http.StatusBadGateway, map[string]string{"X-Amz-Function-Error": headerSafe(kind)}, out.Payload
	}
	if out.StatusCode != http.StatusOK {
		iv.logf("lambda: %s: Invoke answered status %d, HTTP 502 to the plugin", iv.arn, out.StatusCode)
		return http.StatusBadGateway, nil, []byte(`"lambda: unexpected status"`)
	}
	hdr = map[string]string{}
	if out.ExecutedVersion != nil {
		hdr["X-Amz-Executed-Version"] = headerSafe(*out.ExecutedVersion)
	}
	return http.StatusOK, hdr, out.Payload
}

// classify maps an Invoke error to the status the plugin gets and a one-line reason.
func classify(ctx context.Context, err error) (int, string) {
	var throttle *types.TooManyRequestsException
	var re *smithyhttp.ResponseError
	switch {
	case ctx.Err() != nil:
		return http.StatusGatewayTimeout, "invocation cancelled (the plugin's timeout passed): " + err.Error()
	case errors.As(err, &throttle):
		return http.StatusTooManyRequests, "throttled: " + err.Error()
	case errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() <= 599:
		return re.HTTPStatusCode(), err.Error()
	}
	return http.StatusBadGateway, err.Error()
}

// functionErrorText is "errorType: errorMessage" of a function error payload, bounded, or a note
// that the payload is not one.
func functionErrorText(payload []byte) string {
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &e) != nil || (e.ErrorType == "" && e.ErrorMessage == "") {
		return "(" + strconv.Itoa(len(payload)) + " bytes, not a Lambda error object)"
	}
	return bound(e.ErrorType) + ": " + bound(e.ErrorMessage)
}

// bound keeps log lines short and on one line.
func bound(s string) string {
	const max = 256
	if len(s) > max {
		s = s[:max] + "…"
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// headerSafe keeps a header value to visible ASCII.
func headerSafe(s string) string {
	b := []byte(s)
	if len(b) > 64 {
		b = b[:64]
	}
	for i, c := range b {
		if c < 0x21 || c > 0x7e {
			b[i] = '_'
		}
	}
	return string(b)
}

func fail(w http.ResponseWriter, status int, why string) {
	body := []byte(strconv.Quote(why))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

var _ http.Handler = (*Invoker)(nil)
