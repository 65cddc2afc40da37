package config

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/awssample"
)

// withDomains is base with domains: describe-domain-configuration's output (awssample, for
// Devices.Example.com) and the entries given.
func withDomains(t *testing.T, more ...obj) obj {
	m := base(t)
	var d obj
	if err := json.Unmarshal([]byte(awssample.DescribeDomainConfiguration), &d); err != nil {
		t.Fatal(err)
	}
	list := []any{d}
	for _, o := range more {
		list = append(list, o)
	}
	m["domains"] = list
	return m
}

func domain(m obj, i int) obj { return m["domains"].([]any)[i].(obj) }

func TestParse_Domains(t *testing.T) {
	m := withDomains(t,
		obj{"domainName": "open.example.com", "authorizerConfig": obj{"defaultAuthorizerName": "open", "allowAuthorizerOverride": true},
			"applicationProtocol": "HTTPS"},
		obj{"domainName": "plain.example.com."}, // no authorizerConfig: a data endpoint
		obj{"domainName": "mqtt.example.com", "applicationProtocol": "SECURE_MQTT", "lastStatusChangeDate": 1764494400.5},
		obj{"domainName": "wss.example.com", "applicationProtocol": "MQTT_WSS", "authorizerConfig": obj{"allowAuthorizerOverride": false}},
		obj{"domainName": "off.example.com", "domainConfigurationStatus": "DISABLED", "authenticationType": "DEFAULT"},
	)
	c, err := Parse(marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	want := []Domain{
		{Name: "devices.example.com", ConfigurationName: "main", DefaultAuthorizerName: "tokens", AllowAuthorizerOverride: false, Protocols: ProtocolAll},
		{Name: "open.example.com", DefaultAuthorizerName: "open", AllowAuthorizerOverride: true, Protocols: ProtocolHTTPS},
		{Name: "plain.example.com", Protocols: ProtocolAll},
		{Name: "mqtt.example.com", Protocols: ProtocolMQTT},
		{Name: "wss.example.com", Protocols: ProtocolWSS},
		{Name: "off.example.com", Protocols: 0, Disabled: true},
	}
	if len(c.Domains) != len(want) {
		t.Fatalf("%d domains, want %d", len(c.Domains), len(want))
	}
	for i, w := range want {
		if *c.Domains[i] != w {
			t.Errorf("domains[%d] = %+v, want %+v", i, *c.Domains[i], w)
		}
	}
	// Each domain is a data endpoint too, after the listed ones.
	if got := strings.Join(c.DataEndpoints, ","); got != "iot.example.com,iot2.example.com,devices.example.com,open.example.com,plain.example.com,mqtt.example.com,wss.example.com,off.example.com" {
		t.Errorf("dataEndpoints %s", got)
	}
	for host, want := range map[string]string{
		"devices.example.com":      "devices.example.com",
		"DEVICES.Example.COM:443":  "devices.example.com",
		"devices.example.com.":     "devices.example.com",
		"open.example.com:8443":    "open.example.com",
		"iot.example.com":          "", // a data endpoint, no domain configuration
		"evil.devices.example.com": "",
		"devices.example.com.evil": "",
		"":                         "",
	} {
		d := c.Domain(host)
		got := ""
		if d != nil {
			got = d.Name
		}
		if got != want {
			t.Errorf("Domain(%q) = %q, want %q", host, got, want)
		}
		if want != "" && !c.EndpointAllowed(host) {
			t.Errorf("EndpointAllowed(%q) = false for a domain", host)
		}
	}

	// Domains alone: dataEndpoints may be left out.
	m = withDomains(t)
	delete(m, "dataEndpoints")
	if c, err = Parse(marshal(t, m)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.DataEndpoints, ",") != "devices.example.com" || !c.EndpointAllowed("devices.example.com") || c.EndpointAllowed("iot.example.com") {
		t.Errorf("domains only: endpoints %q", c.DataEndpoints)
	}
	// Without domains nothing changes.
	if c, err = Parse(marshal(t, base(t))); err != nil || len(c.Domains) != 0 || c.Domain("iot.example.com") != nil {
		t.Errorf("no domains: %v %+v", err, c)
	}
}

func TestParse_DomainErrors(t *testing.T) {
	keys(t)
	long := strings.Repeat("a", 63)
	tooLong := strings.Join([]string{long, long, long, long}, ".") // 255 characters
	for _, tc := range []struct {
		name   string
		mutate func(m obj)
		err    string
	}{
		{"not an array", func(m obj) { m["domains"] = obj{} }, "domains: must be an array of domain configuration objects, got object"},
		{"null", func(m obj) { m["domains"] = nil }, "domains: must be an array of domain configuration objects, got null"},
		{"entry not an object", func(m obj) { m["domains"] = []any{"devices.example.com"} }, "domains[0]: must be an object, got string"},
		{"empty and no endpoints", func(m obj) { m["domains"] = []any{}; delete(m, "dataEndpoints") }, "domains: must list at least one domain configuration when dataEndpoints is absent"},
		{"unknown field", func(m obj) { domain(m, 0)["tags"] = []any{} }, "domains[0].tags: unknown field"},
		{"domainName missing", func(m obj) { delete(domain(m, 0), "domainName") }, "domains[0].domainName: required"},
		{"domainName number", func(m obj) { domain(m, 0)["domainName"] = 7 }, "domains[0].domainName: must be a string, got number"},
		{"domainName empty", func(m obj) { domain(m, 0)["domainName"] = "" }, "domains[0].domainName: must not be empty"},
		{"domainName with port", func(m obj) { domain(m, 0)["domainName"] = "devices.example.com:443" }, `domains[0].domainName: not a DNS name (letters, digits, '-' and '.'; no scheme, port or path), got "devices.example.com:443"`},
		{"domainName url", func(m obj) { domain(m, 0)["domainName"] = "https://devices.example.com" }, `domains[0].domainName: not a DNS name`},
		{"domainName wildcard", func(m obj) { domain(m, 0)["domainName"] = "*.example.com" }, `domains[0].domainName: a wildcard is not a domain name`},
		{"domainName IP", func(m obj) { domain(m, 0)["domainName"] = "10.0.0.1" }, `domains[0].domainName: an IP address is not a domain name, got "10.0.0.1"`},
		{"domainName IPv6", func(m obj) { domain(m, 0)["domainName"] = "::1" }, `domains[0].domainName: not a DNS name`},
		{"domainName too long", func(m obj) { domain(m, 0)["domainName"] = tooLong }, "domains[0].domainName: is 255 characters, at most 253 allowed"},
		{"domainName label too long", func(m obj) { domain(m, 0)["domainName"] = strings.Repeat("b", 64) + ".example.com" }, "domains[0].domainName: not a DNS name"},
		{"domainName control bytes", func(m obj) { domain(m, 0)["domainName"] = "devices\x00.example.com" }, "domains[0].domainName: not a DNS name"},
		{"domainName two dots", func(m obj) { domain(m, 0)["domainName"] = "devices.example.com.." }, "domains[0].domainName: not a DNS name"},
		{"duplicate domain", func(m obj) {
			m["domains"] = append(m["domains"].([]any), obj{"domainName": "DEVICES.example.com"})
		}, `domains[1].domainName: "devices.example.com" is also domains[0] (each endpoint once)`},
		{"domain also a data endpoint", func(m obj) { domain(m, 0)["domainName"] = "IOT2.example.com" }, `domains[0].domainName: "iot2.example.com" is also dataEndpoints[1] (each endpoint once)`},

		{"authorizerConfig not an object", func(m obj) { domain(m, 0)["authorizerConfig"] = "tokens" }, "domains[0].authorizerConfig: must be an object, got string"},
		{"authorizerConfig unknown field", func(m obj) { domain(m, 0)["authorizerConfig"].(obj)["authorizerName"] = "x" }, "domains[0].authorizerConfig.authorizerName: unknown field"},
		{"unknown default authorizer", func(m obj) { domain(m, 0)["authorizerConfig"].(obj)["defaultAuthorizerName"] = "nope" }, `domains[0].authorizerConfig.defaultAuthorizerName: "nope" is not one of the authorizers`},
		{"bad default authorizer", func(m obj) { domain(m, 0)["authorizerConfig"].(obj)["defaultAuthorizerName"] = "a b" }, `domains[0].authorizerConfig.defaultAuthorizerName: must match [\w=,@-]{1,128}, got "a b"`},
		{"default authorizer empty", func(m obj) { domain(m, 0)["authorizerConfig"].(obj)["defaultAuthorizerName"] = "" }, `domains[0].authorizerConfig.defaultAuthorizerName: must match`},
		{"override missing", func(m obj) { delete(domain(m, 0)["authorizerConfig"].(obj), "allowAuthorizerOverride") }, "domains[0].authorizerConfig.allowAuthorizerOverride: required with defaultAuthorizerName (as AWS requires it)"},
		{"override string", func(m obj) { domain(m, 0)["authorizerConfig"].(obj)["allowAuthorizerOverride"] = "false" }, "domains[0].authorizerConfig.allowAuthorizerOverride: must be a boolean, got string"},

		{"configuration name bad", func(m obj) { domain(m, 0)["domainConfigurationName"] = "a/b" }, `domains[0].domainConfigurationName: must match [\w.:-]{1,128}, got "a/b"`},
		{"configuration name long", func(m obj) { domain(m, 0)["domainConfigurationName"] = strings.Repeat("n", 129) }, `domains[0].domainConfigurationName: must match [\w.:-]{1,128}, got "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"...`},
		{"arn shape", func(m obj) {
			domain(m, 0)["domainConfigurationArn"] = "arn:aws:iot:us-east-1:123456789012:authorizer/main"
		}, "domains[0].domainConfigurationArn: not an AWS IoT domain configuration ARN"},
		{"arn partition", func(m obj) {
			domain(m, 0)["domainConfigurationArn"] = "arn:aws-cn:iot:us-east-1:123456789012:domainconfiguration/main/a1b2c"
		}, `domains[0].domainConfigurationArn: partition "aws-cn" is not the partition of region "us-east-1" ("aws")`},
		{"arn account", func(m obj) {
			domain(m, 0)["domainConfigurationArn"] = "arn:aws:iot:us-east-1:1234:domainconfiguration/main/a1b2c"
		}, `domains[0].domainConfigurationArn: account "1234" must be 12 digits`},
		{"arn of another configuration", func(m obj) {
			domain(m, 0)["domainConfigurationArn"] = "arn:aws:iot:us-east-1:123456789012:domainconfiguration/other/a1b2c"
		}, `domains[0].domainConfigurationArn: names domain configuration "other", but domainConfigurationName is "main"`},
		{"status", func(m obj) { domain(m, 0)["domainConfigurationStatus"] = "enabled" }, `domains[0].domainConfigurationStatus: must be one of "ENABLED", "DISABLED", got "enabled"`},
		{"service type jobs", func(m obj) { domain(m, 0)["serviceType"] = "JOBS" }, `domains[0].serviceType: "JOBS" is not served: iotauthz authorizes the data plane`},
		{"service type credentials", func(m obj) { domain(m, 0)["serviceType"] = "CREDENTIAL_PROVIDER" }, `domains[0].serviceType: "CREDENTIAL_PROVIDER" is not served`},
		{"service type unknown", func(m obj) { domain(m, 0)["serviceType"] = "X" }, `domains[0].serviceType: must be "DATA", got "X"`},
		{"domain type", func(m obj) { domain(m, 0)["domainType"] = "OTHER" }, `domains[0].domainType: must be one of "ENDPOINT", "AWS_MANAGED", "CUSTOMER_MANAGED", got "OTHER"`},
		{"status date", func(m obj) { domain(m, 0)["lastStatusChangeDate"] = "yesterday" }, `domains[0].lastStatusChangeDate: must be an ISO 8601 date-time`},
		{"auth x509", func(m obj) { domain(m, 0)["authenticationType"] = "AWS_X509" }, `domains[0].authenticationType: "AWS_X509" is not served: it is AWS IoT's own authentication, not a custom authorizer`},
		{"auth sigv4", func(m obj) { domain(m, 0)["authenticationType"] = "AWS_SIGV4" }, `domains[0].authenticationType: "AWS_SIGV4" is not served`},
		{"auth custom x509", func(m obj) { domain(m, 0)["authenticationType"] = "CUSTOM_AUTH_X509" }, `domains[0].authenticationType: "CUSTOM_AUTH_X509" is not served: it passes the client's X.509 certificate`},
		{"auth unknown", func(m obj) { domain(m, 0)["authenticationType"] = "custom_auth" }, `domains[0].authenticationType: must be one of "CUSTOM_AUTH", "DEFAULT", got "custom_auth"`},
		{"protocol", func(m obj) { domain(m, 0)["applicationProtocol"] = "MQTT" }, `domains[0].applicationProtocol: must be one of "DEFAULT", "SECURE_MQTT", "MQTT_WSS", "HTTPS", got "MQTT"`},
		{"certificates", func(m obj) { domain(m, 0)["serverCertificates"] = obj{} }, "domains[0].serverCertificates: must be an array, got object"},
		{"certificate field", func(m obj) { domain(m, 0)["serverCertificates"] = []any{obj{"arn": "x"}} }, "domains[0].serverCertificates[0].arn: unknown field"},
		{"tls config", func(m obj) { domain(m, 0)["tlsConfig"] = obj{"securityPolicy": 1} }, "domains[0].tlsConfig.securityPolicy: must be a string, got number"},
		{"ocsp", func(m obj) { domain(m, 0)["serverCertificateConfig"] = obj{"enableOCSPCheck": "yes"} }, "domains[0].serverCertificateConfig.enableOCSPCheck: must be a boolean, got string"},
		{"client certificate callback", func(m obj) {
			domain(m, 0)["clientCertificateConfig"] = obj{"clientCertificateCallbackArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}
		}, "domains[0].clientCertificateConfig.clientCertificateCallbackArn: not served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := withDomains(t)
			tc.mutate(m)
			_, err := Parse(marshal(t, m))
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("got %v\nwant %s", err, tc.err)
			}
		})
	}
}

// FuzzParseDomains: whatever "domains" holds, Parse never panics, and an accepted configuration's
// domains are valid, unique, data endpoints, found by Domain, with a default authorizer that
// exists.
func FuzzParseDomains(f *testing.F) {
	const prefix = `{"region":"us-east-1","accountId":"123456789012","authorizers":[{"authorizerName":"a","authorizerFunction":{"cluster":"c"},"signingDisabled":true}],"domains":`
	f.Add(`[{"domainName":"d.example.com","authorizerConfig":{"defaultAuthorizerName":"a","allowAuthorizerOverride":false}}]`)
	f.Add(`[{"domainName":"D.example.com."},{"domainName":"d.example.com"}]`)
	f.Add(`[{"domainName":"x.example.com","applicationProtocol":"HTTPS","domainConfigurationStatus":"DISABLED"}]`)
	f.Add(`[{"domainName":"*.example.com"}]`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, domains string) {
		c, err := Parse([]byte(prefix + domains + "}"))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, d := range c.Domains {
			if _, why := domainName(d.Name); why != "" || seen[d.Name] || c.Domain(d.Name) != d || !c.EndpointAllowed(d.Name) {
				t.Fatalf("accepted domain %+v (%s)", d, why)
			}
			seen[d.Name] = true
			if d.DefaultAuthorizerName != "" && c.Authorizers[d.DefaultAuthorizerName] == nil {
				t.Fatalf("domain %q: default authorizer %q is not configured", d.Name, d.DefaultAuthorizerName)
			}
			if d.Disabled && d.Protocols != 0 {
				t.Fatalf("DISABLED domain %q accepts %v", d.Name, d.Protocols)
			}
		}
		if len(c.DataEndpoints) == 0 {
			t.Fatal("no endpoint accepted")
		}
	})
}
