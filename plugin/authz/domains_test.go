//go:build !wasm

package authz_test

// Domain configurations (config.Domain): the authorizer each domain selects with AWS's override
// rule, its applicationProtocol and status, iot:DomainName, and decisions cached per authorizer.
// AWS's rule: "allowAuthorizerOverride: whether devices can override the default authorizer by
// specifying a different authorizer in the HTTP header of the request"
// (https://docs.aws.amazon.com/iot/latest/developerguide/iot-custom-endpoints-configurable-aws.html).

import (
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/plugin/authz"
	"github.com/iotauthz/iotauthz/plugin/authz/authztest"
	"github.com/iotauthz/iotauthz/plugin/mqtt"
)

const domainsConfig = `{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["iot.example.com"],
"defaultAuthorizerName":"open","authorizers":[
 {"authorizerName":"open","authorizerFunction":{"cluster":"authorizer"},"tokenKeyName":"x-device-token","signingDisabled":true,"enableCachingForHttp":true},
 {"authorizerName":"other","authorizerFunction":{"cluster":"authorizer2"},"tokenKeyName":"x-device-token","signingDisabled":true,"enableCachingForHttp":true},
 {"authorizerName":"off","authorizerFunction":{"cluster":"authorizer"},"tokenKeyName":"t","signingDisabled":true,"status":"INACTIVE"}],
"domains":[
 {"domainName":"Locked.Example.com","domainConfigurationName":"locked","authorizerConfig":{"defaultAuthorizerName":"other","allowAuthorizerOverride":false},
  "authenticationType":"CUSTOM_AUTH","applicationProtocol":"DEFAULT","domainConfigurationStatus":"ENABLED","serviceType":"DATA"},
 {"domainName":"override.example.com","authorizerConfig":{"defaultAuthorizerName":"other","allowAuthorizerOverride":true}},
 {"domainName":"plain.example.com"},
 {"domainName":"mqtt.example.com","applicationProtocol":"SECURE_MQTT","authorizerConfig":{"defaultAuthorizerName":"other","allowAuthorizerOverride":false}},
 {"domainName":"https.example.com","applicationProtocol":"HTTPS"},
 {"domainName":"wss.example.com","applicationProtocol":"MQTT_WSS"},
 {"domainName":"disabled.example.com","domainConfigurationStatus":"DISABLED"},
 {"domainName":"inactive.example.com","authorizerConfig":{"defaultAuthorizerName":"off","allowAuthorizerOverride":false}}],
"cache":{"scope":"connection","maxEntries":100}}`

// publishTo is an HTTPS publish to host naming authorizer name ("" for none) with token tok.
func publishTo(host, name, tok string) [][2]string {
	hs := [][2]string{{":method", "POST"}, {":path", "/topics/device/1"}, {":authority", host}, {"x-device-token", tok}}
	if name != "" {
		hs = append(hs, [2]string{"x-amz-customauthorizer-name", name})
	}
	return hs
}

func upgradeTo(host, name string) [][2]string {
	hs := [][2]string{{":method", "GET"}, {":path", "/mqtt"}, {":authority", host}, {"upgrade", "websocket"}, {"x-device-token", "tok"}}
	if name != "" {
		hs = append(hs, [2]string{"x-amz-customauthorizer-name", name})
	}
	return hs
}

// TestDomains_SelectAuthorizer: which authorizer each domain calls (or why it refuses), for HTTPS
// publishes and WebSocket upgrades.
func TestDomains_SelectAuthorizer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hs       [][2]string
		sni      string
		want     string // the authorizer called, or
		reason   string // the refusal's reason
		detailed string // and a piece of its details
	}{
		// AWS's override rule.
		{"override false ignores the client's name", publishTo("locked.example.com", "open", "t"), "", "other", "", ""},
		{"override false, no name", publishTo("locked.example.com", "", "t"), "", "other", "", ""},
		{"override false ignores an unknown name", publishTo("locked.example.com", "nope", "t"), "", "other", "", ""},
		{"override false ignores an INACTIVE name", publishTo("locked.example.com", "off", "t"), "", "other", "", ""},
		{"override true honours the client's name", publishTo("override.example.com", "open", "t"), "", "open", "", ""},
		{"override true, no name: the domain's default", publishTo("override.example.com", "", "t"), "", "other", "", ""},
		{"override true, unknown name", publishTo("override.example.com", "nope", "t"), "", "", "AUTHORIZER_NOT_FOUND", `"nope"`},
		{"domain default INACTIVE", publishTo("inactive.example.com", "open", "t"), "", "", "AUTHORIZER_INACTIVE", `"off"`},
		// No authorizerConfig, or a plain data endpoint: the top-level rule.
		{"domain without default, no name", publishTo("plain.example.com", "", "t"), "", "open", "", ""},
		{"domain without default, a name", publishTo("plain.example.com", "other", "t"), "", "other", "", ""},
		{"data endpoint, no name", publishTo("iot.example.com", "", "t"), "", "open", "", ""},
		{"data endpoint, a name", publishTo("iot.example.com", "other", "t"), "", "other", "", ""},
		// The SNI and Host.
		{"SNI of the domain", publishTo("locked.example.com", "open", "t"), "locked.example.com", "other", "", ""},
		{"Host with port and case", publishTo("LOCKED.Example.COM:443", "open", "t"), "", "other", "", ""},
		{"Host with a trailing dot", publishTo("locked.example.com.", "open", "t"), "", "other", "", ""},
		{"SNI and Host of two domains", publishTo("override.example.com", "open", "t"), "locked.example.com", "", "DATA_ENDPOINT_MISMATCH", "name different endpoints"},
		{"SNI of a data endpoint, Host of a domain", publishTo("locked.example.com", "", "t"), "iot.example.com", "", "DATA_ENDPOINT_MISMATCH", "name different endpoints"},
		{"unknown Host", publishTo("evil.example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", `Host "evil.example.com" is not one of dataEndpoints`},
		{"unknown SNI", publishTo("locked.example.com", "", "t"), "evil.example.com", "", "DATA_ENDPOINT_MISMATCH", `SNI "evil.example.com"`},
		{"a suffix of a domain", publishTo("x.locked.example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", "is not one of dataEndpoints"},
		{"a domain as a prefix", publishTo("locked.example.com.evil", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", "is not one of dataEndpoints"},
		{"oversized Host", publishTo(strings.Repeat("a", 70000)+".example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", "is not one of dataEndpoints"},
		{"empty Host", publishTo("", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", `Host "" is not one of dataEndpoints`},
		// applicationProtocol and status.
		{"HTTPS domain takes a publish", publishTo("https.example.com", "", "t"), "", "open", "", ""},
		{"SECURE_MQTT domain refuses a publish", publishTo("mqtt.example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", "applicationProtocol SECURE_MQTT: HTTPS is refused"},
		{"MQTT_WSS domain refuses a publish", publishTo("wss.example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", "applicationProtocol MQTT_WSS: HTTPS is refused"},
		{"MQTT_WSS domain takes an upgrade", upgradeTo("wss.example.com", ""), "", "open", "", ""},
		{"HTTPS domain refuses an upgrade", upgradeTo("https.example.com", ""), "", "", "DATA_ENDPOINT_MISMATCH", "applicationProtocol HTTPS: MQTT_WSS is refused"},
		{"override false on an upgrade", upgradeTo("locked.example.com", "open"), "", "other", "", ""},
		{"DISABLED domain", publishTo("disabled.example.com", "", "t"), "", "", "DATA_ENDPOINT_MISMATCH", `domain configuration "disabled.example.com" is DISABLED`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, h := newEngineFrom(t, domainsConfig)
			var s authz.Stream
			sh := &authztest.Stream{}
			e.InitStream(&s, sh)
			a := s.RequestHeaders(tc.hs, authz.Source{SNI: tc.sni, Conn: 1})
			if tc.want != "" {
				if a != authz.Pause || len(h.Pending()) != 1 || h.Pending()[0].Authorizer.Name != tc.want {
					t.Fatalf("%v, calls %d, logs %v", a, len(h.Pending()), h.Logs)
				}
				return
			}
			if sh.ReplyStatus != 403 || len(h.Pending()) != 0 {
				t.Fatalf("%v, reply %d, calls %d", a, sh.ReplyStatus, len(h.Pending()))
			}
			if l := h.LogsContaining(`"reason":"` + tc.reason + `"`); len(l) != 1 || !strings.Contains(l[0], strings.ReplaceAll(tc.detailed, `"`, `\"`)) {
				t.Fatalf("want reason %s with %s, logs %v", tc.reason, tc.detailed, h.Logs)
			}
		})
	}
}

// domainPolicy allows publishing on device/* only on locked.example.com (iot:DomainName).
const domainPolicy = `{"isAuthenticated":true,"principalId":"dev1","refreshAfterInSeconds":600,"disconnectAfterInSeconds":3600,
"policyDocuments":[{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/${iot:ClientId}","Condition":{"StringEquals":{"iot:DomainName":"locked.example.com"}}},
 {"Effect":"Allow","Action":"iot:Publish","Resource":"` + arn + `topic/device/*","Condition":{"StringEquals":{"iot:DomainName":"locked.example.com"}}}]}]}`

// TestDomains_DomainNameAndCache: iot:DomainName is the configured domain (lower case, whatever
// the Host's case and port); a decision cached on one connection for one domain's authorizer is
// never served for another domain whose authorizer differs, and is served again for the same
// domain.
func TestDomains_DomainNameAndCache(t *testing.T) {
	e, h := newEngineFrom(t, domainsConfig)
	do := func(hs [][2]string) (*authztest.Stream, authz.Action) {
		var s authz.Stream
		sh := &authztest.Stream{}
		e.InitStream(&s, sh)
		return sh, s.RequestHeaders(hs, authz.Source{Conn: 9})
	}
	sh, a := do(publishTo("LOCKED.example.com:443", "", "tok"))
	if a != authz.Pause || h.Pending()[0].Authorizer.Name != "other" {
		t.Fatalf("locked: %v", a)
	}
	h.Respond("200", []byte(domainPolicy))
	if sh.Resumed != 1 || sh.ReplyStatus != 0 {
		t.Fatalf("iot:DomainName locked.example.com did not match: reply %d, logs %v", sh.ReplyStatus, h.Logs)
	}
	// Same connection, same token, another domain whose authorizer is "open": a call of its own.
	sh, a = do(publishTo("override.example.com", "open", "tok"))
	if a != authz.Pause || len(h.Pending()) != 1 || h.Pending()[0].Authorizer.Name != "open" {
		t.Fatalf("a decision of authorizer other served a request for open: %v, calls %d", a, len(h.Pending()))
	}
	h.Respond("200", []byte(domainPolicy))
	if sh.ReplyStatus != 403 || len(h.LogsContaining("AUTHORIZATION_FAILURE")) != 1 {
		t.Fatalf("iot:DomainName matched override.example.com: reply %d, logs %v", sh.ReplyStatus, h.Logs)
	}
	// The locked domain again: its cached decision.
	if sh, a = do(publishTo("locked.example.com", "open", "tok")); a != authz.Continue || len(h.Pending()) != 0 || sh.ReplyStatus != 0 {
		t.Fatalf("locked again: %v, calls %d, reply %d", a, len(h.Pending()), sh.ReplyStatus)
	}
	// The same authorizer's cached decision on another domain (override true, no name: other)
	// is evaluated with that domain's iot:DomainName: denied.
	if sh, a = do(publishTo("override.example.com", "", "tok")); len(h.Pending()) != 0 || sh.ReplyStatus != 403 {
		t.Fatalf("override, other: %v, calls %d, reply %d", a, len(h.Pending()), sh.ReplyStatus)
	}
}

// TestDomains_MQTT: MQTT over TLS picks the domain by SNI: override false ignores the name in
// the username, iot:DomainName is the domain, and a domain whose applicationProtocol excludes
// MQTT refuses the connection (CONNACK not authorized, no call).
func TestDomains_MQTT(t *testing.T) {
	e, h := newEngineFrom(t, domainsConfig)
	connect := pkt(mqtt.Packet{Type: mqtt.Connect, ClientID: []byte("dev1"), CleanStart: true, HasUsername: true,
		Username: []byte("u?x-amz-customauthorizer-name=open&x-device-token=tok")})

	tr := &authztest.Conn{KeepDelivered: true}
	c := e.OpenMQTT(tr, authz.Source{SNI: "locked.example.com"})
	if a := tr.FromClient(c, connect); a != authz.Pause || len(h.Pending()) != 1 || h.Pending()[0].Authorizer.Name != "other" {
		t.Fatalf("locked: %v, calls %d", a, len(h.Pending()))
	}
	h.Respond("200", []byte(domainPolicy))
	if tr.Resumed != 1 || len(tr.ToBroker) == 0 {
		t.Fatalf("iot:Connect with iot:DomainName locked.example.com refused: logs %v", h.Logs)
	}

	tr = &authztest.Conn{KeepDelivered: true}
	c = e.OpenMQTT(tr, authz.Source{SNI: "override.example.com"})
	if a := tr.FromClient(c, connect); a != authz.Pause || h.Pending()[0].Authorizer.Name != "open" {
		t.Fatalf("override: %v", a)
	}
	h.Respond("200", []byte(domainPolicy))
	if len(h.LogsContaining("AUTHORIZATION_FAILURE")) != 1 {
		t.Fatalf("iot:Connect matched iot:DomainName on override.example.com: logs %v", h.Logs)
	}

	tr = &authztest.Conn{KeepDelivered: true}
	c = e.OpenMQTT(tr, authz.Source{SNI: "https.example.com"})
	if l := h.LogsContaining("applicationProtocol HTTPS: SECURE_MQTT is refused"); len(l) != 1 || !strings.Contains(l[0], "DATA_ENDPOINT_MISMATCH") {
		t.Fatalf("HTTPS domain over MQTT: logs %v", h.Logs)
	}
	tr.FromClient(c, connect)
	tr.FromBroker(c, []byte{0x20, 0x02, 0x00, 0x02})
	if len(h.Pending()) != 0 || string(tr.ToClient) != "\x20\x02\x00\x05" || !tr.Closed {
		t.Fatalf("HTTPS domain over MQTT: calls %d, client got % x, closed %v", len(h.Pending()), tr.ToClient, tr.Closed)
	}

	tr = &authztest.Conn{KeepDelivered: true}
	e.OpenMQTT(tr, authz.Source{SNI: "disabled.example.com"})
	if l := h.LogsContaining(`domain configuration \"disabled.example.com\" is DISABLED`); len(l) != 1 {
		t.Fatalf("DISABLED domain over MQTT: logs %v", h.Logs)
	}

	tr = &authztest.Conn{KeepDelivered: true}
	c = e.OpenMQTT(tr, authz.Source{SNI: "MQTT.example.com"})
	if a := tr.FromClient(c, connect); a != authz.Pause || h.Pending()[0].Authorizer.Name != "other" {
		t.Fatalf("SECURE_MQTT domain: %v, logs %v", a, h.Logs)
	}
}

// BenchmarkDomainsPublishCached: a cached HTTPS publish on a domain with its own authorizer
// (override false, the client naming another), the Host in upper case with a port and the SNI
// the domain's: the endpoint lookup, the domain's authorizer and iot:DomainName on the cached
// path, without an allocation. Compare
// with BenchmarkDomainsPublishCachedDataEndpoint (the same on a plain data endpoint).
func BenchmarkDomainsPublishCached(b *testing.B) {
	benchDomainsCached(b, "Locked.example.com:443", "locked.example.com", "open", "other")
}

// BenchmarkDomainsPublishCachedDataEndpoint: BenchmarkDomainsPublishCached on iot.example.com,
// a plain data endpoint of the same configuration.
func BenchmarkDomainsPublishCachedDataEndpoint(b *testing.B) {
	benchDomainsCached(b, "iot.example.com:443", "iot.example.com", "open", "open")
}

func benchDomainsCached(b *testing.B, authority, sni, named, want string) {
	e, h := newEngineFrom(b, domainsConfig)
	h.DiscardLogs = true
	hs := publishTo(authority, named, "tok")
	src := authz.Source{SNI: sni, Conn: 1}
	var s authz.Stream
	sh := &authztest.Stream{}
	e.InitStream(&s, sh)
	if a := s.RequestHeaders(hs, src); a != authz.Pause || h.Pending()[0].Authorizer.Name != want {
		b.Fatalf("first request: %v", a)
	}
	h.Respond("200", []byte(strings.ReplaceAll(domainPolicy, "locked.example.com", sni)))
	if sh.Resumed != 1 {
		b.Fatalf("warm-up publish not forwarded")
	}
	s.Done()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.InitStream(&s, sh)
		if a := s.RequestHeaders(hs, src); a != authz.Continue {
			b.Fatalf("op %d: %v, want a cache hit", i, a)
		}
		s.Done()
	}
}
