package main

import (
	"strings"
	"testing"
)

func TestCheckClusters(t *testing.T) {
	cfg := `{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["iot.example.com"],"authorizers":[
	  {"authorizerName":"tokens","authorizerFunction":{"cluster":"authz"},"signingDisabled":true},
	  {"authorizerName":"second","authorizerFunction":{"cluster":"authz"},"signingDisabled":true},
	  {"authorizerName":"other","authorizerFunction":{"cluster":"b-cluster"},"signingDisabled":true},
	  {"authorizerName":"off","authorizerFunction":{"cluster":"off-cluster"},"signingDisabled":true,"status":"INACTIVE"},
	  {"authorizerName":"lambda","authorizerFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","signingDisabled":true}]}`
	for _, tc := range []struct {
		name   string
		mapped map[string]string
		want   string
	}{
		{"all mapped; the Lambda and the INACTIVE one need none", map[string]string{"authz": "http://a", "b-cluster": "http://b"}, ""},
		{"one missing", map[string]string{"authz": "http://a"},
			`the configuration calls cluster "b-cluster" (authorizer "other"), which no --cluster maps; add --cluster b-cluster=http://HOST:PORT for each`},
		{"none mapped", nil,
			`the configuration calls cluster "authz" (authorizer "second", "tokens") and cluster "b-cluster" (authorizer "other"), which no --cluster maps; add --cluster authz=http://HOST:PORT for each`},
		{"a mapping for another name does not count", map[string]string{"AUTHZ": "http://a", "b-cluster": "http://b"}, `cluster "authz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkClusters([]byte(cfg), tc.mapped)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %s", err, tc.want)
			}
		})
	}
	// A configuration the plugin refuses is left to the plugin's own report.
	if err := checkClusters([]byte(`{"region":1}`), nil); err != nil {
		t.Errorf("invalid configuration: %v", err)
	}
}
