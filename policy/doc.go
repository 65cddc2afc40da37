// Package policy decides requests against AWS IoT Core policy documents, as AWS IoT does for the
// policies a custom authorizer returns. It is pure Go with no dependencies, so the proxy-wasm
// plugin, the iotauthz command and any Go gateway share the same decisions.
//
// The language, with examples and pitfalls, is described in SYNTAX.md beside this file.
//
// # When to use what
//
// Policies are checked once and decided many times, so the work is split in two:
//
//   - Parse reads and validates one document (a JSON object, or a JSON string holding one).
//     Errors are *Error values naming the element, its line and column and what to change.
//   - Compile builds an immutable Set from up to MaxDocuments parsed documents. CompileJSON does
//     both steps for an authorizer's policyDocuments and numbers the document in its errors.
//     MustCompileJSON panics instead, for literals in tests and examples.
//   - (*Set).Evaluate answers one request (action, resource ARN, Vars) with Allowed,
//     ExplicitDeny or ImplicitDeny. It cannot fail and does not allocate: call it on every MQTT
//     packet.
//   - (*Set).Explain gives the same answer plus the statements that decided (Match: document,
//     statement, JSON path, Sid, effect). It allocates; use it for tools (iotauthz
//     test-authorization) and decision logs.
//   - Size measures a document the way MaxDocumentChars counts, for checks made elsewhere.
//
// For example:
//
//	set, err := policy.CompileJSON(resp.PolicyDocuments)
//	if err != nil { /* the authorizer returned a bad policy: refuse the connection */ }
//	v := &policy.Vars{ClientID: "dev1", HasClientID: true, SourceIP: "192.0.2.7"}
//	if set.Evaluate(policy.ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/dev1/t", v) != policy.Allowed {
//		// deny the PUBLISH
//	}
//
// # Semantics in one paragraph
//
// Any matching Deny statement in any document gives ExplicitDeny; otherwise any matching Allow
// gives Allowed; otherwise ImplicitDeny. A statement matches when its Action (or NotAction), its
// Resource (or NotResource) and all its Conditions match. Actions ignore case; resources do not.
// In resources '*' matches any run of characters including '/', '?' exactly one character, and
// MQTT's '+' and '#' are plain characters. Policy variables (${iot:ClientId}, ${aws:SourceIp},
// ${iot:DomainName}, ${context:KEY}) are substituted literally; a variable that does not resolve
// makes the element that holds it fail to match, so the statement does not apply, whatever its
// effect.
//
// The CONNECT's condition keys come from Vars: iot:ConnectAttributes (multivalued: tested only
// with ForAllValues:, true on an empty or absent set, or ForAnyValue:, false there),
// iot:LastWillTopic (the Will topic's ARN) and iot:DomainName. Each has a Has... field: the
// caller sets the first two on the iot:Connect decision only, iot:DomainName on every decision
// of a connection that named an endpoint. The field comments say exactly what to put there.
//
// # Thread safety
//
// Documents and Sets are immutable once built: any number of goroutines may call Evaluate and
// Explain on one Set at once. A Vars is only read; do not modify it, or its Context map, while an
// evaluation that uses it runs.
//
// # Notes
//
//   - The package uses no reflection, no encoding/json, no fmt and no regexp, and builds for
//     GOOS=wasip1, so it adds little to a WebAssembly module. strops_words.go reads strings a
//     word at a time with package unsafe, because the wasm runtime compares them a byte at a
//     time; FuzzStringOps checks it against package strings.
//   - Evaluation cost grows with the statements that name the request's action, not with all
//     statements: Compile indexes statements per known action.
//
// See https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html
package policy
