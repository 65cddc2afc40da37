// Package config parses and validates the plugin configuration (DESIGN contract 1): the JSON
// given to the wasm filter in Envoy's "configuration" field.
//
// Parse checks every field up front and returns one error, "<field path>: <why>" on one line,
// for the first problem, so the plugin can log it as is and refuse the configuration; after
// that nothing about the configuration can fail. Field names follow AWS's DescribeAuthorizer
// output so an authorizer definition carries over. A Config is immutable after Parse and safe
// for concurrent reads.
//
// A complete example:
//
//	{
//	  "region": "us-east-1",
//	  "accountId": "123456789012",
//	  "dataEndpoints": ["iot.example.com"],
//	  "defaultAuthorizerName": "tokens",
//	  "authorizers": [{
//	    "authorizerName": "tokens",
//	    "authorizerFunction": {"cluster": "authorizer", "authority": "authorizer.internal",
//	                           "path": "/authorize", "timeoutMillis": 5000},
//	    "tokenKeyName": "x-device-token",
//	    "tokenSigningPublicKeys": {"key1": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"},
//	    "signingDisabled": false,
//	    "status": "ACTIVE",
//	    "enableCachingForHttp": true
//	  }],
//	  "cache": {"scope": "connection", "maxEntries": 10000, "staleIfErrorSeconds": 0},
//	  "mqtt": {"denyAction": "disconnect", "maxPacketBytes": 131072, "stripCredentialsFromUsername": true},
//	  "logging": {"level": "info", "debugClientIds": []}
//	}
//
// An authorizer that is a Lambda function names it with "authorizerFunctionArn" (as
// DescribeAuthorizer prints it) in place of "authorizerFunction.cluster"; the plugin then calls
// the cluster named by the ARN itself. See FunctionARN, and docs/lambda.md for the Envoy cluster
// and the embedded gateway's invoker behind that name.
package config
