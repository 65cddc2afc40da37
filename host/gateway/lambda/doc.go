// Package lambda lets the embedded gateway call an authorizer that is an AWS Lambda function,
// unchanged: the function an AWS IoT Core custom authorizer names in authorizerFunctionArn.
//
// The plugin does not change: it calls a cluster with proxy_http_call, POSTing the authorizer
// event (DESIGN contract 2). For an authorizer configured with authorizerFunctionArn that
// cluster's name is the ARN itself (see config.FunctionARN). An Invoker is the http.Handler the
// host serves that cluster with, in process: it invokes the function synchronously through the
// AWS SDK for Go v2 (Lambda's Invoke API, RequestResponse) with the event as the payload, and
// answers with the function's payload. So the plugin's timeout, single-flight and cache apply to
// Lambda calls exactly as to HTTP calls.
//
// Credentials come from the SDK's default chain (environment, shared files, SSO, web identity,
// ECS and EC2 roles); the region is the function ARN's. The caller needs lambda:InvokeFunction
// on the function (docs/lambda.md). Options.Endpoint points the SDK elsewhere (an emulator, a VPC
// endpoint); the SDK's AWS_ENDPOINT_URL_LAMBDA works too.
//
// What the plugin sees (it denies every answer but a 200 with AWS's response shape, never
// failing open):
//
//	the function returned                 200, its payload as is (validated by the plugin)
//	the function failed (error, panic,    502, x-amz-function-error: <kind>, the error payload
//	  its own timeout, out of memory)
//	Lambda throttled the call             429
//	any other Lambda API error            its HTTP status (>= 400), else 502
//	Lambda unreachable                    502
//	the plugin's timeout passed           the host answers 504 and cancels the invocation
//
// Each failure is also logged through Options.Logf with the function's errorType and
// errorMessage, for operators; the decision log carries the status.
//
// SDK retries are off: AWS IoT Core does not retry an authorizer either; a device retries its
// connection.
//
// An Invoker is safe for concurrent use.
package lambda
