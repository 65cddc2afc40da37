package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// TestGateway_unmappedCluster: iotauthz gateway refuses to start, naming the cluster, before it
// loads anything else.
func TestGateway_unmappedCluster(t *testing.T) {
	dir := t.TempDir()
	wasm, cfg := filepath.Join(dir, "iotauthz.wasm"), filepath.Join(dir, "plugin.json")
	os.WriteFile(wasm, []byte("not loaded: the check comes first"), 0o644)
	os.WriteFile(cfg, []byte(`{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["iot.example.com"],"authorizers":[
	  {"authorizerName":"tokens","authorizerFunction":{"cluster":"authz"},"signingDisabled":true}]}`), 0o644)
	var stdout, stderr bytes.Buffer
	code := serveGateway(context.Background(), []string{"--wasm", wasm, "--config", cfg, "--cert", filepath.Join(dir, "none.pem"),
		"--key", filepath.Join(dir, "none-key.pem"), "--broker", "tcp://127.0.0.1:1", "--cluster", "other=http://127.0.0.1:1"}, &stdout, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), `iotauthz gateway: the configuration calls cluster "authz" (authorizer "tokens"), which no --cluster maps; add --cluster authz=http://HOST:PORT for each`) {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
}
