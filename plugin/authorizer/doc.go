// Package authorizer builds the event the plugin posts to the authorizer service and validates
// the service's answer: DESIGN contract 2, the shapes of AWS IoT Core custom authorizers, so an
// existing Lambda authorizer ports unchanged.
//
// Event.AppendJSON writes the request body byte for byte in a fixed key order without
// encoding/json (strings through internal/jsonv's AppendString); ParseResponse reads the answer with internal/jsonv and checks every field,
// returning an error whose text starts with the field's path ("principalId: …",
// "policyDocuments[2]: …") so the plugin can log it as the deny reason.
//
// Everything here is pure and safe for concurrent use.
//
// See https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-lambda.html
package authorizer
