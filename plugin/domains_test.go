//go:build !wasm

package main

// Domain configurations through the real .wasm: AWS's allowAuthorizerOverride rule
// ("whether devices can override the default authorizer by specifying a different authorizer in
// the HTTP header of the request",
// https://docs.aws.amazon.com/iot/latest/developerguide/iot-custom-endpoints-configurable-aws.html),
// iot:DomainName in a policy condition, and a Host that is no endpoint, over HTTPS, MQTT over TLS
// and MQTT over WebSocket.

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/host"
)

// domainsEnv is the base configuration plus an authorizer "second" on its own cluster and two
// domains whose default it is: locked.example.com (allowAuthorizerOverride false) and
// override.example.com (true). It returns the environment and the second authorizer's service.
func domainsEnv(t *testing.T) (*env, *fakeAuthorizer) {
	second := &fakeAuthorizer{}
	e := newEnv(t, func(c map[string]any) {
		c["authorizers"] = append(c["authorizers"].([]any), map[string]any{
			"authorizerName":     "second",
			"authorizerFunction": map[string]any{"cluster": "authorizer2", "path": "/authorize"},
			"tokenKeyName":       "x-device-token",
			"signingDisabled":    true,
		})
		c["domains"] = []any{
			map[string]any{"domainName": "Locked.Example.com", "domainConfigurationName": "locked", "authenticationType": "CUSTOM_AUTH",
				"authorizerConfig": map[string]any{"defaultAuthorizerName": "second", "allowAuthorizerOverride": false}},
			map[string]any{"domainName": "override.example.com",
				"authorizerConfig": map[string]any{"defaultAuthorizerName": "second", "allowAuthorizerOverride": true}},
		}
	}, func(hc *host.Config) {
		hc.Clusters["authorizer2"] = host.Cluster{Handler: second}
	})
	return e, second
}

// domainOnly allows everything, on locked.example.com only (iot:DomainName).
func domainOnly(principal string) string {
	return response(principal, 600, 3600, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*",
		"Condition":{"StringEquals":{"iot:DomainName":"locked.example.com"}}}]}`)
}

// domainPublish is an HTTPS publish to host (its :authority; sni is the connection's) with the
// token of the signing-disabled authorizers, naming authorizer name unless it is "".
func domainPublish(e *env, conn uint64, authority, sni, name string) *host.HTTPStream {
	h := openHeaders("device/1", "tok-domain")
	h = replace(h, ":authority", authority)
	if name != "" {
		h = append(h, [2]string{"x-amz-customauthorizer-name", name})
	}
	s := e.p.Worker(0).NewHTTPStream(host.Properties{SNI: sni, SourceAddress: "203.0.113.7:1", ConnectionID: conn})
	s.RequestHeaders(h, true)
	e.settle()
	return s
}

func TestDomains_HTTPS(t *testing.T) {
	e, second := domainsEnv(t)
	e.auth.setAnswer(respond(200, allowAll("first")))
	second.setAnswer(respond(200, domainOnly("second")))
	for i, tc := range []struct {
		name            string
		authority, sni  string
		named           string
		firstCalls      int64 // calls the "authorizer" cluster (open, tokens) has had after the request
		secondCalls     int64 // calls "authorizer2" (second) has had
		forwarded       bool
		reason, details string
	}{
		{"override false ignores the client's name", "locked.example.com", "locked.example.com", "open", 0, 1, true, "", ""},
		{"override false, the Host's case and port", "LOCKED.Example.com:443", "", "open", 0, 2, true, "", ""},
		{"override true honours the client's name", "override.example.com", "override.example.com", "open", 1, 2, true, "", ""},
		// second's policy allows on locked.example.com only: iot:DomainName is override.example.com.
		{"override true, no name: the domain's default", "override.example.com", "override.example.com", "", 1, 3, false, "AUTHORIZATION_FAILURE", ""},
		{"the data endpoint keeps the top-level default", "iot.example.com", "iot.example.com", "open", 2, 3, true, "", ""},
		{"unknown Host", "evil.example.com", "", "", 2, 3, false, "DATA_ENDPOINT_MISMATCH", `Host "evil.example.com" is not one of dataEndpoints`},
		{"SNI of one domain, Host of another", "override.example.com", "locked.example.com", "", 2, 3, false, "DATA_ENDPOINT_MISMATCH", "name different endpoints"},
	} {
		// A new connection each time: connection-scoped caching does not hide a call.
		s := domainPublish(e, uint64(100+i), tc.authority, tc.sni, tc.named)
		if got := s.Upstream().HeadersSent; got != tc.forwarded {
			t.Fatalf("%s: forwarded %v, want %v\n%s", tc.name, got, tc.forwarded, e.logs())
		}
		if e.auth.hits.Load() != tc.firstCalls || second.hits.Load() != tc.secondCalls {
			t.Fatalf("%s: calls %d and %d, want %d and %d\n%s", tc.name, e.auth.hits.Load(), second.hits.Load(), tc.firstCalls, tc.secondCalls, e.logs())
		}
		if tc.forwarded {
			if _, ok := s.Upstream().Headers.Get("x-amz-customauthorizer-name"); ok {
				t.Fatalf("%s: the authorizer name reached the broker", tc.name)
			}
			continue
		}
		if s.Client().Status != 403 {
			t.Fatalf("%s: status %d", tc.name, s.Client().Status)
		}
		f := e.lastFailure()
		if f == nil || f["reason"] != tc.reason || !contains(f["details"], tc.details) {
			t.Fatalf("%s: failure line %v, want reason %s with %q", tc.name, f, tc.reason, tc.details)
		}
	}
}

func contains(v any, sub string) bool {
	s, _ := v.(string)
	return strings.Contains(s, sub)
}

// TestDomains_MQTT: over TLS the SNI chooses the domain; over WebSocket the upgrade's Host; the
// name in the CONNECT username is ignored on locked.example.com and honoured on
// override.example.com; iot:DomainName decides iot:Connect.
func TestDomains_MQTT(t *testing.T) {
	e, second := domainsEnv(t)
	e.auth.setAnswer(respond(200, allowAll("first")))
	second.setAnswer(respond(200, domainOnly("second")))
	// credUsername names the authorizer "tokens" and carries its signed token.
	const v = 4
	tlsTo := func(sni string) pipe {
		return &tlsPipe{c: e.p.Worker(0).NewConnection(host.Properties{SNI: sni, SourceAddress: "198.51.100.4:40000"})}
	}
	conn := uint64(500)
	wsTo := func(authority string) pipe {
		conn++ // the plugin remembers a connection's SNI by its id
		s := e.p.Worker(1).NewHTTPStream(host.Properties{SNI: authority, SourceAddress: "203.0.113.7:2", ConnectionID: conn})
		s.RequestHeaders(host.Headers{{":method", "GET"}, {":path", "/mqtt"}, {":authority", authority},
			{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-protocol", "mqtt"}}, false)
		if !s.Upstream().HeadersSent {
			t.Fatalf("upgrade to %s refused\n%s", authority, e.logs())
		}
		s.ResponseHeaders(host.Headers{{":status", "101"}, {"upgrade", "websocket"}, {"connection", "Upgrade"}}, false)
		return &wsPipe{t: t, s: s}
	}
	for _, tc := range []struct {
		name          string
		open          func() pipe
		first, second int64 // calls after the CONNECT
		connected     bool
	}{
		{"tls, override false", func() pipe { return tlsTo("locked.example.com") }, 0, 1, true},
		{"wss, override false", func() pipe { return wsTo("locked.example.com") }, 0, 2, true},
		{"tls, override true", func() pipe { return tlsTo("override.example.com") }, 1, 2, true},
		{"wss, override true", func() pipe { return wsTo("override.example.com") }, 2, 2, true},
	} {
		p := tc.open()
		p.client(connectPkt(v, "c1", credUsername("tok-c1")))
		e.settle()
		if e.auth.hits.Load() != tc.first || second.hits.Load() != tc.second {
			t.Fatalf("%s: calls %d and %d, want %d and %d\n%s", tc.name, e.auth.hits.Load(), second.hits.Load(), tc.first, tc.second, e.logs())
		}
		if got := bytes.Equal(p.toBroker(), upstreamConnect(v, "c1", "dev?SDK=Go&Version=1")); got != tc.connected {
			t.Fatalf("%s: connected %v\n%s", tc.name, got, e.logs())
		}
	}

	// second's policy on override.example.com (no name in the username): iot:DomainName is not
	// locked.example.com, so iot:Connect is refused.
	p := tlsTo("override.example.com")
	p.client(connectPkt(v, "c2", "dev?x-device-token=tok-c2"))
	e.settle()
	p.broker(connackPkt(v))
	e.settle()
	if second.hits.Load() != 3 || bytes.Equal(p.toBroker(), upstreamConnect(v, "c2", "dev")) {
		t.Fatalf("override, no name: calls %d, the CONNECT reached the broker\n%s", second.hits.Load(), e.logs())
	}
	if f := e.lastFailure(); f == nil || f["reason"] != "AUTHORIZATION_FAILURE" {
		t.Fatalf("iot:Connect on override.example.com was not refused: %v\n%s", f, e.logs())
	}

	// An SNI that is no endpoint: refused before any call.
	p = tlsTo("evil.example.com")
	p.client(connectPkt(v, "c3", credUsername("tok-c3")))
	e.settle()
	if e.auth.hits.Load() != 2 || second.hits.Load() != 3 {
		t.Fatalf("unknown SNI made a call\n%s", e.logs())
	}
	if f := e.lastFailure(); f == nil || f["reason"] != "DATA_ENDPOINT_MISMATCH" {
		t.Fatalf("unknown SNI: %v", f)
	}
}
