// Package refauth is the reference authorizer service: an http.Handler that answers the plugin's
// authorizer calls (DESIGN contract 2) from a JSON rules file. It is what `iotauthz authorizer`
// serves, what the demo and the end-to-end tests run, and a template for a real service: the
// request and response are AWS IoT Core's custom-authorizer Lambda event and response, unchanged.
//
// Use it when you need an authorizer whose answers are data: per token, username, client ID or
// server name, allow with given policies, deny, or misbehave (slow, non-200, invalid JSON) to test
// how the plugin fails closed. A Server is safe for concurrent use; SetRules swaps the rules
// atomically while it serves.
//
// # The request
//
// POST (any path) with the AWS event as JSON:
//
//	{"token":"allow-dev1","signatureVerified":true,"protocols":["tls","mqtt"],
//	 "protocolData":{"tls":{"serverName":"iot.example.com"},
//	                 "mqtt":{"username":"dev1?x-device-token=allow-dev1","password":"c2VjcmV0","clientId":"dev1"}},
//	 "connectionMetadata":{"id":"9b1c…"}}
//
// A body that is not such an object is answered 400; another method than POST 405 (GET /healthz
// answers 200 "ok" for container health checks).
//
// # The rules file
//
//	{
//	  "rules": [
//	    {
//	      "name": "devices",
//	      "match": {"tokenPrefix": "allow-"},
//	      "isAuthenticated": true,
//	      "principalId": "{{tokenSuffix}}",
//	      "refreshAfterInSeconds": 300,
//	      "disconnectAfterInSeconds": 86400,
//	      "policyDocuments": [{
//	        "Version": "2012-10-17",
//	        "Statement": [
//	          {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:123456789012:client/{{clientId}}"},
//	          {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:123456789012:topic/devices/{{tokenSuffix}}/*"}
//	        ]
//	      }],
//	      "context": {"tenant": "acme"}
//	    },
//	    {"name": "slow", "match": {"token": "slow"}, "isAuthenticated": true, "principalId": "slow", "fault": {"delayMillis": 6000}},
//	    {"name": "broken", "match": {"token": "broken"}, "fault": {"status": 200, "body": "{not json"}}
//	  ],
//	  "default": {"isAuthenticated": false, "principalId": "denied"}
//	}
//
// Rules are tried in order; the first whose match holds answers. When none does, "default" answers;
// without "default" the answer is a deny: {"isAuthenticated":false,"principalId":"anonymous",
// "disconnectAfterInSeconds":300,"refreshAfterInSeconds":300,"policyDocuments":[]}.
//
// Rule fields:
//
//   - name: a label for logs and HitsFor-style counters (optional).
//   - match: the conditions, all optional; every one given must hold; an empty or absent match
//     matches every request:
//   - match.token: the token equals this string.
//   - match.tokenPrefix: the token starts with this string ({{tokenSuffix}} is the rest).
//   - match.username: the MQTT username equals this string, or its part before '?' does (so "dev1"
//     matches "dev1?x-amz-customauthorizer-name=…").
//   - match.password: the MQTT password, decoded from the event's base64, equals this string.
//   - match.clientId / match.clientIdPrefix: the MQTT client ID equals / starts with this string.
//   - match.serverName: the TLS SNI equals this string (case-insensitive).
//   - match.protocol: "mqtt" or "http": the event's protocols list holds it ("tls", "http", "mqtt").
//   - match.signatureVerified: true or false: the event's signatureVerified equals it.
//   - match.header: {"name": "value", …}: each HTTP header (name case-insensitive) has exactly this value.
//   - match.fromHit: the rule applies only from the Nth request carrying this token on (1-based, counted
//     by this server, this request included). Put such a rule before the token's usual rule to
//     change the answer on a refresh: {"match": {"token": "t", "fromHit": 2}, "isAuthenticated": false}.
//   - isAuthenticated, principalId, refreshAfterInSeconds, disconnectAfterInSeconds,
//     policyDocuments, context: the answer's fields, copied to the response. policyDocuments may
//     hold objects or JSON strings (AWS accepts both) and is sent as written. refreshAfterInSeconds
//     defaults to 300 and disconnectAfterInSeconds to 86400 when absent; principalId defaults to
//     "anonymous"; other values, even invalid ones (say 10, to test the plugin's validation), are
//     sent unchanged. context values are strings.
//   - fault: misbehave instead of, or before, answering, with these fields:
//   - fault.delayMillis: wait this long before answering (the wait ends early if the caller goes
//     away).
//   - fault.status: answer with this HTTP status instead of 200 (the body is still the answer
//     unless fault.body is given).
//   - fault.body: send this text as the body instead of the JSON answer (for invalid JSON, wrong
//     types, missing fields).
//   - fault.close: drop the connection without any answer (a reset, as seen by the caller).
//
// # Templates
//
// principalId, the policy documents (objects and strings) and context values may contain these
// placeholders, replaced from the request (a value missing from the event is replaced by ""):
//
//	{{token}}        the token
//	{{tokenSuffix}}  the token without the matched tokenPrefix (the whole token when the rule has none)
//	{{clientId}}     the MQTT client ID
//	{{username}}     the MQTT username before any '?'
//	{{serverName}}   the TLS SNI
//	{{connectionId}} connectionMetadata.id
//
// Replaced values are JSON-escaped, so a template cannot break out of a policy string.
//
// # Counters
//
// Hits counts every request that reached the handler (bad ones too), HitsFor the requests per
// token, and Events keeps the last 1000 parsed events for assertions in tests. With Admin set
// (iotauthz authorizer --admin), the same are served over HTTP under /admin/, and the rules can be
// replaced and the counters reset there, for tests that run the server in another process.
package refauth
