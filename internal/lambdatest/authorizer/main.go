// Command authorizer is an AWS IoT custom authorizer written as a Lambda function with
// github.com/aws/aws-lambda-go: the sample authorizer of AWS's custom-authentication tutorial
// ("Tutorial: Creating a custom authorizer for AWS IoT Core"), ported to Go. iotauthz's tests
// run it, unchanged, under the AWS Lambda Runtime Interface Emulator and invoke it through the
// AWS SDK, as AWS IoT Core would invoke it in the cloud. It is also a template: build it with
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./internal/lambdatest/authorizer
//
// and deploy bootstrap as a provided.al2023 function.
//
// It decides from the token alone, as the tutorial's sample does:
//
//	"allow", "allow-…"   authenticated; a policy that allows iot:Connect, iot:Publish,
//	                     iot:Subscribe and iot:Receive
//	"deny", "deny-…"     authenticated; the same policy with Effect Deny
//	"panic…"             the function panics (an unhandled function error)
//	"shape…"             answers a JSON object that is not AWS's response shape
//	anything else        returns the error "Unauthorized" (a handled function error)
//
// The policy's resources are in the region of AWS_REGION and the account of ACCOUNT_ID, or,
// without it, the account of the invoked function's ARN.
package main

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// event is the part of AWS IoT's authorizer event this function reads.
type event struct {
	Token             string `json:"token"`
	SignatureVerified bool   `json:"signatureVerified"`
	Protocols         []string
}

// response is AWS IoT's authorizer response.
type response struct {
	IsAuthenticated          bool              `json:"isAuthenticated"`
	PrincipalID              string            `json:"principalId"`
	DisconnectAfterInSeconds int               `json:"disconnectAfterInSeconds"`
	RefreshAfterInSeconds    int               `json:"refreshAfterInSeconds"`
	PolicyDocuments          []policy          `json:"policyDocuments"`
	Context                  map[string]string `json:"context,omitempty"`
}

type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Action   []string `json:"Action"`
	Effect   string   `json:"Effect"`
	Resource []string `json:"Resource"`
}

func handle(ctx context.Context, e event) (any, error) {
	switch {
	case e.Token == "allow" || strings.HasPrefix(e.Token, "allow-"):
		return authResponse(ctx, "Allow"), nil
	case e.Token == "deny" || strings.HasPrefix(e.Token, "deny-"):
		return authResponse(ctx, "Deny"), nil
	case strings.HasPrefix(e.Token, "panic"):
		panic("authorizer: token " + e.Token + " asked for a panic")
	case strings.HasPrefix(e.Token, "shape"):
		return map[string]string{"hello": "world"}, nil
	}
	return nil, errors.New("Unauthorized")
}

func authResponse(ctx context.Context, effect string) response {
	region := os.Getenv("AWS_REGION")
	account := os.Getenv("ACCOUNT_ID")
	if lc, ok := lambdacontext.FromContext(ctx); ok && account == "" {
		// arn:aws:lambda:REGION:ACCOUNT:function:NAME
		if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) >= 5 {
			account = parts[4]
		}
	}
	prefix := "arn:aws:iot:" + region + ":" + account + ":"
	return response{
		IsAuthenticated:          true,
		PrincipalID:              "TEST123",
		DisconnectAfterInSeconds: 3600,
		RefreshAfterInSeconds:    300,
		PolicyDocuments: []policy{{
			Version: "2012-10-17",
			Statement: []statement{
				{Action: []string{"iot:Connect"}, Effect: effect, Resource: []string{prefix + "client/*"}},
				{Action: []string{"iot:Publish", "iot:Receive"}, Effect: effect, Resource: []string{prefix + "topic/*"}},
				{Action: []string{"iot:Subscribe"}, Effect: effect, Resource: []string{prefix + "topicfilter/*"}},
			},
		}},
		Context: map[string]string{"authorizer": "lambda"},
	}
}

func main() { lambda.Start(handle) }
