// Package lambdatest runs a real Lambda function on loopback for tests: the AWS Lambda Runtime
// Interface Emulator (built from its Go module, RIEModule at RIEVersion) running the Go handler
// of ./authorizer (AWS's custom-authentication tutorial sample, written with aws-lambda-go).
//
// The emulator serves one function, at the fixed path /2015-03-31/functions/function/invocations.
// Lambda's Invoke API names the function in the path (/2015-03-31/functions/{FunctionName}/
// invocations, the ARN URL-escaped). So Start puts a small front on loopback between the SDK
// and the emulator: it checks that each request is Lambda's Invoke API call for the expected
// function (path, qualifier, RequestResponse invocation, a SigV4 signature for the function's
// region and the lambda service), records it, and passes it to the emulator unchanged but for the
// path; the emulator's answer comes back unchanged. The front changes nothing the function or
// the SDK decide.
//
// ARN parses the function a test names, and Isolate keeps the SDK clients a test makes off this
// machine's AWS configuration, credentials and instance metadata.
//
// For tests only; not used by iotauthz itself.
package lambdatest
