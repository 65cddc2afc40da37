//go:build !wasm

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/internal/awssample"
)

// parityDomains: domain configurations (domainsEnv: locked.example.com with override false,
// override.example.com with override true, both defaulting to authorizer "second" on its own
// cluster).
func parityDomains() []parityCase {
	// calls publishes once on a new connection and returns the calls each authorizer service got.
	calls := func(t *testing.T, e *env, second *fakeAuthorizer, conn uint64, domain, named string) (first, sec int64, forwarded bool) {
		t.Helper()
		f0, s0 := e.auth.hits.Load(), second.hits.Load()
		s := domainPublish(e, conn, domain, domain, named)
		return e.auth.hits.Load() - f0, second.hits.Load() - s0, s.Upstream().HeadersSent
	}
	return []parityCase{
		{"a domain configuration's default authorizer decides a request that names none", srcDomains, func(t *testing.T, _ *parityRun) {
			e, second := domainsEnv(t)
			for i, d := range []string{"locked.example.com", "override.example.com"} {
				if f, s, ok := calls(t, e, second, uint64(10+i), d, ""); f != 0 || s != 1 || !ok {
					t.Fatalf("%s: calls %d and %d, forwarded %v\n%s", d, f, s, ok, e.logs())
				}
			}
		}},
		{"allowAuthorizerOverride false: the authorizer a device names does not override the domain's default", srcDomains, func(t *testing.T, _ *parityRun) {
			e, second := domainsEnv(t)
			if f, s, ok := calls(t, e, second, 20, "locked.example.com", "open"); f != 0 || s != 1 || !ok {
				t.Fatalf("HTTPS: calls %d and %d, forwarded %v\n%s", f, s, ok, e.logs())
			}
			p := &tlsPipe{c: e.p.Worker(0).NewConnection(host.Properties{SNI: "locked.example.com", SourceAddress: "198.51.100.4:1"})}
			p.client(connectPkt(4, "c1", credUsername("tok-c1"))) // names "tokens"
			e.settle()
			if e.auth.hits.Load() != 0 || second.hits.Load() != 2 {
				t.Fatalf("MQTT: calls %d and %d\n%s", e.auth.hits.Load(), second.hits.Load(), e.logs())
			}
		}},
		{"allowAuthorizerOverride true: the authorizer a device names overrides the domain's default", srcDomains, func(t *testing.T, _ *parityRun) {
			e, second := domainsEnv(t)
			if f, s, ok := calls(t, e, second, 30, "override.example.com", "open"); f != 1 || s != 0 || !ok {
				t.Fatalf("calls %d and %d, forwarded %v\n%s", f, s, ok, e.logs())
			}
		}},
		{"iot:DomainName is the domain name the device connected to", srcBasicVars, func(t *testing.T, _ *parityRun) {
			e, second := domainsEnv(t)
			second.setAnswer(respond(200, domainOnly("d1")))
			if _, _, ok := calls(t, e, second, 40, "locked.example.com", ""); !ok {
				t.Fatalf("the condition on iot:DomainName locked.example.com did not match there\n%s", e.logs())
			}
			if _, _, ok := calls(t, e, second, 41, "override.example.com", ""); ok {
				t.Fatalf("the condition on iot:DomainName locked.example.com matched override.example.com")
			}
		}},
		{"describe-domain-configuration output is a domain configuration", srcDescribeDomain, func(t *testing.T, r *parityRun) {
			// The output for Devices.Example.com, its default authorizer "second": without an
			// override the domain's default decides.
			var d map[string]any
			if err := json.Unmarshal([]byte(awssample.DescribeDomainConfiguration), &d); err != nil {
				t.Fatal(err)
			}
			d["authorizerConfig"].(map[string]any)["defaultAuthorizerName"] = "second"
			describeDomain, err := json.MarshalIndent(d, "", "    ")
			if err != nil {
				t.Fatal(err)
			}
			second := &fakeAuthorizer{}
			e := newEnv(t, func(c map[string]any) {
				c["authorizers"] = append(c["authorizers"].([]any), map[string]any{"authorizerName": "second",
					"authorizerFunction": map[string]any{"cluster": "authorizer2"}, "tokenKeyName": "x-device-token", "signingDisabled": true})
				c["domains"] = []any{d}
			}, func(hc *host.Config) { hc.Clusters["authorizer2"] = host.Cluster{Handler: second} })
			if f, s, ok := calls(t, e, second, 50, "devices.example.com", "open"); f != 0 || s != 1 || !ok {
				t.Fatalf("calls %d and %d, forwarded %v\n%s", f, s, ok, e.logs())
			}
			// iotauthz import carries it over as is.
			dir := t.TempDir()
			domainFile, authFile := filepath.Join(dir, "main.json"), filepath.Join(dir, "second.json")
			os.WriteFile(domainFile, describeDomain, 0o644)
			os.WriteFile(authFile, []byte(`{"authorizerDescription": {"authorizerName": "second",
				"authorizerArn": "arn:aws:iot:us-east-1:123456789012:authorizer/second",
				"authorizerFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:second",
				"status": "ACTIVE", "signingDisabled": true}}`), 0o644)
			code, out, errs := r.run(t, "import", "--authorizer", authFile, "--domain-configuration", domainFile)
			if code != 0 || !bytes.Contains([]byte(out), []byte(`"domainConfigurationArn": "arn:aws:iot:us-east-1:123456789012:domainconfiguration/main/a1b2c"`)) {
				t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
			}
		}},
		{"applicationProtocol sets the one protocol a domain serves", srcCreateDomain, func(t *testing.T, _ *parityRun) {
			e := newEnv(t, func(c map[string]any) {
				c["domains"] = []any{map[string]any{"domainName": "https.example.com", "applicationProtocol": "HTTPS"}}
			})
			if s := domainPublish(e, 60, "https.example.com", "https.example.com", "open"); !s.Upstream().HeadersSent {
				t.Fatalf("HTTPS on an HTTPS domain refused\n%s", e.logs())
			}
			p := &tlsPipe{c: e.p.Worker(0).NewConnection(host.Properties{SNI: "https.example.com", SourceAddress: "198.51.100.4:1"})}
			p.client(connectPkt(4, "c1", credUsername("tok-c1")))
			e.settle()
			p.broker(connackPkt(4))
			e.settle()
			if e.auth.hits.Load() != 1 || !p.closed() {
				t.Fatalf("MQTT on an HTTPS domain: calls %d, closed %v\n%s", e.auth.hits.Load(), p.closed(), e.logs())
			}
			if f := e.lastFailure(); f == nil || f["reason"] != "DATA_ENDPOINT_MISMATCH" || !contains(f["details"], "applicationProtocol HTTPS") {
				t.Fatalf("failure line %v", f)
			}
		}},
	}
}
