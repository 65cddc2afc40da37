package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	keyOnce          sync.Once
	pem2048, pem1024 string
	pkcs1PEM         string
)

func keys(t *testing.T) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		pem2048 = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		pkcs1PEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		der, _ = x509.MarshalPKIXPublicKey(&small.PublicKey)
		pem1024 = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	})
}

type obj = map[string]any

// base returns a complete valid configuration as a mutable map.
func base(t *testing.T) obj {
	keys(t)
	return obj{
		"region":                "us-east-1",
		"accountId":             "123456789012",
		"dataEndpoints":         []any{"IoT.Example.com", "iot2.example.com"},
		"defaultAuthorizerName": "tokens",
		"authorizers": []any{
			obj{
				"authorizerName":         "tokens",
				"authorizerFunction":     obj{"cluster": "authorizer", "authority": "authorizer.internal", "path": "/authorize", "timeoutMillis": 2500},
				"tokenKeyName":           "x-device-token",
				"tokenSigningPublicKeys": obj{"key2": pkcs1PEM, "key1": pem2048},
				"signingDisabled":        false,
				"status":                 "ACTIVE",
				"enableCachingForHttp":   true,
			},
			obj{
				"authorizerName":     "open",
				"authorizerFunction": obj{"cluster": "authz2"},
				"signingDisabled":    true,
				"status":             "INACTIVE",
			},
		},
		"cache": obj{"scope": "token", "maxEntries": 500, "staleIfErrorSeconds": 60},
		"mqtt": obj{"denyAction": "reject", "maxPacketBytes": 4096, "stripCredentialsFromUsername": false,
			"forwardPassword": true, "connectTimeoutSeconds": 30},
		"logging": obj{"level": "debug", "debugClientIds": []any{"dev1", "dev2"}},
	}
}

func marshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func auth(c obj, i int) obj { return c["authorizers"].([]any)[i].(obj) }

func TestParse_Full(t *testing.T) {
	c, err := Parse(marshal(t, base(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "us-east-1" || c.AccountID != "123456789012" || c.DefaultAuthorizerName != "tokens" {
		t.Fatalf("%+v", c)
	}
	if len(c.DataEndpoints) != 2 || c.DataEndpoints[0] != "iot.example.com" {
		t.Fatalf("endpoints %q", c.DataEndpoints)
	}
	a := c.Authorizers["tokens"]
	if a == nil || a.Cluster != "authorizer" || a.Authority != "authorizer.internal" || a.Path != "/authorize" ||
		a.TimeoutMillis != 2500 || a.TokenKeyName != "x-device-token" || a.SigningDisabled || a.Status != StatusActive || !a.EnableCachingForHTTP {
		t.Fatalf("tokens %+v", a)
	}
	if len(a.Keys) != 2 || a.Keys[0].Name != "key1" || a.Keys[1].Name != "key2" || a.Keys[0].Bits() != 2048 {
		t.Fatalf("keys %v", a.Keys)
	}
	o := c.Authorizers["open"]
	if o == nil || o.Authority != "authz2" || o.Path != "/" || o.TimeoutMillis != 5000 || !o.SigningDisabled || o.Status != StatusInactive || len(o.Keys) != 0 {
		t.Fatalf("open %+v", o)
	}
	if c.Cache != (Cache{Scope: ScopeToken, MaxEntries: 500, StaleIfErrorSeconds: 60}) {
		t.Fatalf("cache %+v", c.Cache)
	}
	if c.MQTT != (MQTT{DenyAction: DenyReject, MaxPacketBytes: 4096, StripCredentialsFromUsername: false,
		ForwardPassword: true, ConnectTimeoutSeconds: 30, Limits: limitsWithPayload(4096)}) {
		t.Fatalf("mqtt %+v", c.MQTT)
	}
	if c.Logging.Level != LevelDebug || len(c.Logging.DebugClientIDs) != 2 || c.Logging.DebugClientIDs[1] != "dev2" {
		t.Fatalf("logging %+v", c.Logging)
	}
	if c.Limits.MinInterval != 300 || c.Limits.MaxInterval != 86400 {
		t.Fatalf("limits %+v", c.Limits)
	}
}

func TestParse_Defaults(t *testing.T) {
	keys(t)
	c, err := Parse(marshal(t, obj{
		"region": "eu-west-1", "accountId": "000000000001", "dataEndpoints": []any{"x.example"},
		"authorizers": []any{obj{"authorizerName": "a", "authorizerFunction": obj{"cluster": "c"},
			"tokenKeyName": "t", "tokenSigningPublicKeys": obj{"k": pem2048}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Authorizers["a"]
	if a.Authority != "c" || a.Path != "/" || a.TimeoutMillis != 5000 || a.Status != StatusActive || a.SigningDisabled || a.EnableCachingForHTTP {
		t.Fatalf("authorizer defaults %+v", a)
	}
	if c.DefaultAuthorizerName != "" {
		t.Fatal("default authorizer set")
	}
	if c.Cache != (Cache{Scope: ScopeConnection, MaxEntries: 10000}) {
		t.Fatalf("cache defaults %+v", c.Cache)
	}
	if c.MQTT != (MQTT{DenyAction: DenyAuto, MaxPacketBytes: 147456, StripCredentialsFromUsername: true,
		ConnectTimeoutSeconds: 10, Limits: DefaultLimits()}) {
		t.Fatalf("mqtt defaults %+v", c.MQTT)
	}
	if c.Logging.Level != LevelInfo || c.Logging.DebugClientIDs != nil {
		t.Fatalf("logging defaults %+v", c.Logging)
	}
	// Empty optional objects give the defaults too.
	m := base(t)
	m["cache"], m["mqtt"], m["logging"] = obj{}, obj{}, obj{}
	c, err = Parse(marshal(t, m))
	if err != nil || c.Cache.MaxEntries != 10000 || !c.MQTT.StripCredentialsFromUsername || c.Logging.Level != LevelInfo {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestParse_TestOverrides(t *testing.T) {
	m := base(t)
	m["testOverrides"] = obj{"minIntervalSeconds": 2}
	c, err := Parse(marshal(t, m))
	if err != nil || c.Limits.MinInterval != 2 || c.Limits.MaxInterval != 86400 {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestParse_Errors(t *testing.T) {
	keys(t)
	tests := []struct {
		name   string
		mutate func(m obj)
		raw    string // used instead of the mutated base when set
		err    string
	}{
		{name: "empty", raw: "  ", err: "configuration: empty (a JSON object is required)"},
		{name: "not json", raw: "{", err: "configuration: not valid JSON"},
		{name: "array", raw: "[]", err: "configuration: must be an object, got array"},
		{name: "unknown top-level", mutate: func(m obj) { m["regoin"] = "x" }, err: "regoin: unknown field"},
		{name: "duplicate field", raw: `{"region":"us-east-1","region":"us-east-2"}`, err: "region: duplicate field"},

		{name: "region missing", mutate: func(m obj) { delete(m, "region") }, err: "region: required"},
		{name: "region number", mutate: func(m obj) { m["region"] = 1 }, err: "region: must be a string, got number"},
		{name: "region empty", mutate: func(m obj) { m["region"] = "" }, err: "region: must not be empty"},
		{name: "region upper", mutate: func(m obj) { m["region"] = "US-EAST-1" }, err: `region: not an AWS region name like "us-east-1", got "US-EAST-1"`},
		{name: "region no number", mutate: func(m obj) { m["region"] = "us-east" }, err: `region: not an AWS region name like "us-east-1", got "us-east"`},
		{name: "region arn chars", mutate: func(m obj) { m["region"] = "us-east-1:x" }, err: `region: not an AWS region name like "us-east-1", got "us-east-1:x"`},
		{name: "region first group not two letters", mutate: func(m obj) { m["region"] = "eusc-de-east-1" }, err: `region: not an AWS region name like "us-east-1", got "eusc-de-east-1"`},

		{name: "account missing", mutate: func(m obj) { delete(m, "accountId") }, err: "accountId: required"},
		{name: "account number", mutate: func(m obj) { m["accountId"] = 123456789012 }, err: "accountId: must be a string, got number"},
		{name: "account short", mutate: func(m obj) { m["accountId"] = "1234" }, err: `accountId: must be 12 digits, got "1234"`},
		{name: "account letters", mutate: func(m obj) { m["accountId"] = "12345678901a" }, err: `accountId: must be 12 digits, got "12345678901a"`},

		{name: "endpoints missing", mutate: func(m obj) { delete(m, "dataEndpoints") }, err: "dataEndpoints: required"},
		{name: "endpoints string", mutate: func(m obj) { m["dataEndpoints"] = "iot.example.com" }, err: "dataEndpoints: must be an array of host names, got string"},
		{name: "endpoints empty", mutate: func(m obj) { m["dataEndpoints"] = []any{} }, err: "dataEndpoints: must list at least one host name"},
		{name: "endpoint number", mutate: func(m obj) { m["dataEndpoints"] = []any{"a.b", 3} }, err: "dataEndpoints[1]: must be a string, got number"},
		{name: "endpoint with port", mutate: func(m obj) { m["dataEndpoints"] = []any{"iot.example.com:443"} }, err: `dataEndpoints[0]: not a host name (no scheme, port or path), got "iot.example.com:443"`},
		{name: "endpoint url", mutate: func(m obj) { m["dataEndpoints"] = []any{"https://iot.example.com"} }, err: `dataEndpoints[0]: not a host name (no scheme, port or path), got "https://iot.example.com"`},
		{name: "endpoint empty", mutate: func(m obj) { m["dataEndpoints"] = []any{""} }, err: `dataEndpoints[0]: not a host name (no scheme, port or path), got ""`},
		{name: "endpoint empty label", mutate: func(m obj) { m["dataEndpoints"] = []any{"a..b"} }, err: `dataEndpoints[0]: not a host name (no scheme, port or path), got "a..b"`},
		{name: "endpoint long label", mutate: func(m obj) { m["dataEndpoints"] = []any{strings.Repeat("a", 64) + ".com"} }, err: `dataEndpoints[0]: not a host name (no scheme, port or path), got "` + strings.Repeat("a", 64) + `.com"`},

		{name: "authorizers missing", mutate: func(m obj) { delete(m, "authorizers"); delete(m, "defaultAuthorizerName") }, err: "authorizers: required"},
		{name: "authorizers object", mutate: func(m obj) { m["authorizers"] = obj{} }, err: "authorizers: must be an array of authorizer objects, got object"},
		{name: "authorizers empty", mutate: func(m obj) { m["authorizers"] = []any{}; delete(m, "defaultAuthorizerName") }, err: "authorizers: must list at least one authorizer"},
		{name: "authorizer string", mutate: func(m obj) { m["authorizers"] = []any{"a"} }, err: "authorizers[0]: must be an object, got string"},
		{name: "authorizer unknown field", mutate: func(m obj) { auth(m, 1)["tokenKey"] = "x" }, err: "authorizers[1].tokenKey: unknown field"},
		{name: "name missing", mutate: func(m obj) { delete(auth(m, 0), "authorizerName") }, err: "authorizers[0].authorizerName: required"},
		{name: "name number", mutate: func(m obj) { auth(m, 0)["authorizerName"] = 1 }, err: "authorizers[0].authorizerName: must be a string, got number"},
		{name: "name bad chars", mutate: func(m obj) { auth(m, 0)["authorizerName"] = "a b" }, err: `authorizers[0].authorizerName: must match [\w=,@-]{1,128}, got "a b"`},
		{name: "name too long", mutate: func(m obj) { auth(m, 0)["authorizerName"] = strings.Repeat("a", 129) }, err: `authorizers[0].authorizerName: must match [\w=,@-]{1,128}, got "` + strings.Repeat("a", 129) + `"`},
		{name: "name duplicate", mutate: func(m obj) { auth(m, 1)["authorizerName"] = "tokens" }, err: `authorizers[1].authorizerName: duplicate name "tokens"`},
		{name: "signingDisabled string", mutate: func(m obj) { auth(m, 0)["signingDisabled"] = "false" }, err: "authorizers[0].signingDisabled: must be a boolean, got string"},
		{name: "enableCachingForHttp number", mutate: func(m obj) { auth(m, 0)["enableCachingForHttp"] = 1 }, err: "authorizers[0].enableCachingForHttp: must be a boolean, got number"},
		{name: "status lower", mutate: func(m obj) { auth(m, 0)["status"] = "active" }, err: `authorizers[0].status: must be one of "ACTIVE", "INACTIVE", got "active"`},
		{name: "function missing", mutate: func(m obj) { delete(auth(m, 0), "authorizerFunction") }, err: "authorizers[0].authorizerFunction: required"},
		{name: "function string", mutate: func(m obj) { auth(m, 0)["authorizerFunction"] = "arn:aws:lambda:x" }, err: "authorizers[0].authorizerFunction: must be an object, got string"},
		{name: "function unknown field", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["url"] = "http://x" }, err: "authorizers[0].authorizerFunction.url: unknown field"},
		{name: "cluster missing", mutate: func(m obj) { delete(auth(m, 0)["authorizerFunction"].(obj), "cluster") }, err: "authorizers[0].authorizerFunction.cluster: required"},
		{name: "cluster empty", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["cluster"] = "" }, err: "authorizers[0].authorizerFunction.cluster: must not be empty"},
		{name: "authority number", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["authority"] = 1 }, err: "authorizers[0].authorizerFunction.authority: must be a string, got number"},
		{name: "authority empty", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["authority"] = "" }, err: "authorizers[0].authorizerFunction.authority: must not be empty"},
		{name: "path relative", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["path"] = "authorize" }, err: `authorizers[0].authorizerFunction.path: must start with '/' and contain no whitespace, got "authorize"`},
		{name: "path space", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["path"] = "/a b" }, err: `authorizers[0].authorizerFunction.path: must start with '/' and contain no whitespace, got "/a b"`},
		{name: "timeout zero", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["timeoutMillis"] = 0 }, err: "authorizers[0].authorizerFunction.timeoutMillis: 0 out of range [1, 60000]"},
		{name: "timeout high", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["timeoutMillis"] = 60001 }, err: "authorizers[0].authorizerFunction.timeoutMillis: 60001 out of range [1, 60000]"},
		{name: "timeout fraction", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["timeoutMillis"] = 1.5 }, err: "authorizers[0].authorizerFunction.timeoutMillis: must be an integer, got 1.5"},
		{name: "timeout string", mutate: func(m obj) { auth(m, 0)["authorizerFunction"].(obj)["timeoutMillis"] = "5s" }, err: "authorizers[0].authorizerFunction.timeoutMillis: must be an integer, got string"},
		{name: "tokenKeyName missing", mutate: func(m obj) { delete(auth(m, 0), "tokenKeyName") }, err: "authorizers[0].tokenKeyName: required unless signingDisabled is true"},
		{name: "tokenKeyName bad", mutate: func(m obj) { auth(m, 0)["tokenKeyName"] = "x.token" }, err: `authorizers[0].tokenKeyName: must match [a-zA-Z0-9_-]{1,128}, got "x.token"`},
		{name: "tokenKeyName empty", mutate: func(m obj) { auth(m, 1)["tokenKeyName"] = "" }, err: `authorizers[1].tokenKeyName: must match [a-zA-Z0-9_-]{1,128}, got ""`},
		{name: "keys missing", mutate: func(m obj) { delete(auth(m, 0), "tokenSigningPublicKeys") }, err: "authorizers[0].tokenSigningPublicKeys: at least one key required unless signingDisabled is true"},
		{name: "keys empty", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{} }, err: "authorizers[0].tokenSigningPublicKeys: at least one key required unless signingDisabled is true"},
		{name: "keys array", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = []any{pem2048} }, err: "authorizers[0].tokenSigningPublicKeys: must be an object of key name to PEM, got array"},
		{name: "key name bad", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{"key 1": pem2048} }, err: `authorizers[0].tokenSigningPublicKeys: key name must match [a-zA-Z0-9:_-]{1,128}, got "key 1"`},
		{name: "key number", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{"k": 1} }, err: "authorizers[0].tokenSigningPublicKeys.k: must be a PEM string, got number"},
		{name: "key 1024", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{"key1": pem1024} }, err: "authorizers[0].tokenSigningPublicKeys.key1: RSA key is 1024 bits, at least 2048 required"},
		{name: "key garbage", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{"key1": "hello"} }, err: "authorizers[0].tokenSigningPublicKeys.key1: no PEM block found (expected -----BEGIN PUBLIC KEY-----)"},
		{name: "key too long", mutate: func(m obj) { auth(m, 0)["tokenSigningPublicKeys"] = obj{"key1": pem2048 + strings.Repeat(" ", 5120)} }, err: "authorizers[0].tokenSigningPublicKeys.key1: PEM is " + itoa(len(pem2048)+5120) + " characters, at most 5120 allowed"},
		{name: "key on disabled authorizer still checked", mutate: func(m obj) { auth(m, 1)["tokenSigningPublicKeys"] = obj{"k": pem1024} }, err: "authorizers[1].tokenSigningPublicKeys.k: RSA key is 1024 bits, at least 2048 required"},
		{name: "key duplicate", raw: "", mutate: nil, err: ""}, // replaced below

		{name: "default unknown", mutate: func(m obj) { m["defaultAuthorizerName"] = "nope" }, err: `defaultAuthorizerName: "nope" is not one of the authorizers`},
		{name: "default number", mutate: func(m obj) { m["defaultAuthorizerName"] = 1 }, err: "defaultAuthorizerName: must be a string, got number"},

		{name: "cache array", mutate: func(m obj) { m["cache"] = []any{} }, err: "cache: must be an object, got array"},
		{name: "cache unknown", mutate: func(m obj) { m["cache"].(obj)["ttl"] = 1 }, err: "cache.ttl: unknown field"},
		{name: "cache scope", mutate: func(m obj) { m["cache"].(obj)["scope"] = "global" }, err: `cache.scope: must be one of "connection", "token", got "global"`},
		{name: "cache maxEntries zero", mutate: func(m obj) { m["cache"].(obj)["maxEntries"] = 0 }, err: "cache.maxEntries: 0 out of range [1, 1000000]"},
		{name: "cache maxEntries high", mutate: func(m obj) { m["cache"].(obj)["maxEntries"] = 1000001 }, err: "cache.maxEntries: 1000001 out of range [1, 1000000]"},
		{name: "cache stale negative", mutate: func(m obj) { m["cache"].(obj)["staleIfErrorSeconds"] = -1 }, err: "cache.staleIfErrorSeconds: -1 out of range [0, 86400]"},
		{name: "cache stale high", mutate: func(m obj) { m["cache"].(obj)["staleIfErrorSeconds"] = 86401 }, err: "cache.staleIfErrorSeconds: 86401 out of range [0, 86400]"},

		{name: "mqtt null", mutate: func(m obj) { m["mqtt"] = nil }, err: "mqtt: must be an object, got null"},
		{name: "mqtt unknown", mutate: func(m obj) { m["mqtt"].(obj)["qos2"] = true }, err: "mqtt.qos2: unknown field"},
		{name: "mqtt denyAction", mutate: func(m obj) { m["mqtt"].(obj)["denyAction"] = "drop" }, err: `mqtt.denyAction: must be one of "auto", "disconnect", "reject", got "drop"`},
		{name: "mqtt maxPacketBytes low", mutate: func(m obj) { m["mqtt"].(obj)["maxPacketBytes"] = 1 }, err: "mqtt.maxPacketBytes: 1 out of range [2, 268435455]"},
		{name: "mqtt maxPacketBytes high", mutate: func(m obj) { m["mqtt"].(obj)["maxPacketBytes"] = 268435456 }, err: "mqtt.maxPacketBytes: 268435456 out of range [2, 268435455]"},
		{name: "mqtt forwardPassword string", mutate: func(m obj) { m["mqtt"].(obj)["forwardPassword"] = "no" }, err: "mqtt.forwardPassword: must be a boolean, got string"},
		{name: "mqtt connect timeout 0", mutate: func(m obj) { m["mqtt"].(obj)["connectTimeoutSeconds"] = 0 }, err: "mqtt.connectTimeoutSeconds: 0 out of range [1, 300]"},
		{name: "mqtt connect timeout too long", mutate: func(m obj) { m["mqtt"].(obj)["connectTimeoutSeconds"] = 301 }, err: "mqtt.connectTimeoutSeconds: 301 out of range [1, 300]"},
		{name: "mqtt strip string", mutate: func(m obj) { m["mqtt"].(obj)["stripCredentialsFromUsername"] = "yes" }, err: "mqtt.stripCredentialsFromUsername: must be a boolean, got string"},

		{name: "logging string", mutate: func(m obj) { m["logging"] = "debug" }, err: "logging: must be an object, got string"},
		{name: "logging unknown", mutate: func(m obj) { m["logging"].(obj)["format"] = "json" }, err: "logging.format: unknown field"},
		{name: "logging level", mutate: func(m obj) { m["logging"].(obj)["level"] = "verbose" }, err: `logging.level: must be one of "trace", "debug", "info", "warn", "error", "critical", got "verbose"`},
		{name: "logging debugClientIds string", mutate: func(m obj) { m["logging"].(obj)["debugClientIds"] = "dev1" }, err: "logging.debugClientIds: must be an array of strings, got string"},
		{name: "logging debugClientIds number", mutate: func(m obj) { m["logging"].(obj)["debugClientIds"] = []any{"a", 2} }, err: "logging.debugClientIds[1]: must be a string, got number"},

		{name: "overrides array", mutate: func(m obj) { m["testOverrides"] = []any{} }, err: "testOverrides: must be an object, got array"},
		{name: "overrides unknown", mutate: func(m obj) { m["testOverrides"] = obj{"maxIntervalSeconds": 5} }, err: "testOverrides.maxIntervalSeconds: unknown field"},
		{name: "overrides zero", mutate: func(m obj) { m["testOverrides"] = obj{"minIntervalSeconds": 0} }, err: "testOverrides.minIntervalSeconds: 0 out of range [1, 300]"},
		{name: "overrides high", mutate: func(m obj) { m["testOverrides"] = obj{"minIntervalSeconds": 301} }, err: "testOverrides.minIntervalSeconds: 301 out of range [1, 300]"},
	}
	for _, tc := range tests {
		if tc.name == "key duplicate" {
			// encoding/json cannot write duplicate keys; splice the JSON text.
			b := string(marshal(t, base(t)))
			b = strings.Replace(b, `"tokenSigningPublicKeys":{`, `"tokenSigningPublicKeys":{"key1":`+string(marshal(t, pem2048))+",", 1)
			tc.raw = b
			tc.err = "authorizers[0].tokenSigningPublicKeys.key1: duplicate key name"
		}
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.raw)
			if tc.mutate != nil {
				m := base(t)
				tc.mutate(m)
				b = marshal(t, m)
			}
			c, err := Parse(b)
			if err == nil || err.Error() != tc.err {
				t.Fatalf("err = %v\nwant  %s\n(config %+v)", err, tc.err, c)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatal("multi-line error")
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestConfig_EndpointAllowed(t *testing.T) {
	c, err := Parse(marshal(t, base(t)))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"iot.example.com":       true,
		"IOT.EXAMPLE.COM":       true,
		"iot.example.com:443":   true,
		"iot.example.com.":      true,
		"iot2.example.com:8443": true,
		"iot3.example.com":      false,
		"example.com":           false,
		"":                      false,
		"[::1]:443":             false,
		"iot.example.com.evil":  false,
	} {
		if got := c.EndpointAllowed(host); got != want {
			t.Errorf("EndpointAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestConfig_ARN(t *testing.T) {
	c, err := Parse(marshal(t, base(t)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ARN("topic", "a/b"); got != "arn:aws:iot:us-east-1:123456789012:topic/a/b" {
		t.Fatal(got)
	}
	if got := c.ARN("client", "dev1"); got != "arn:aws:iot:us-east-1:123456789012:client/dev1" {
		t.Fatal(got)
	}
	for region, want := range map[string]string{
		"cn-north-1":    "arn:aws-cn:iot:cn-north-1:123456789012:topicfilter/x/#",
		"us-gov-west-1": "arn:aws-us-gov:iot:us-gov-west-1:123456789012:topicfilter/x/#",
	} {
		m := base(t)
		m["region"] = region
		c, err := Parse(marshal(t, m))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ARN("topicfilter", "x/#"); got != want {
			t.Errorf("%s: %s", region, got)
		}
	}
	// A Config built by hand works too.
	if got := (&Config{Region: "eu-west-1", AccountID: "000000000000"}).ARN("topic", "t"); got != "arn:aws:iot:eu-west-1:000000000000:topic/t" {
		t.Fatal(got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"region":"us-east-1","accountId":"123456789012","dataEndpoints":["a.b"],"authorizers":[{"authorizerName":"a","authorizerFunction":{"cluster":"c"},"signingDisabled":true}]}`))
	f.Add([]byte(`{"cache":{"maxEntries":1e9},"mqtt":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && (c.Region == "" || len(c.Authorizers) == 0 || len(c.DataEndpoints) == 0) {
			t.Fatalf("accepted incomplete config %+v", c)
		}
	})
}
