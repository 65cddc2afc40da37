package config

import (
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/internal/jsonv"
	"github.com/iotauthz/iotauthz/plugin/credentials"
)

// Domain is one domain configuration: AWS IoT's CreateDomainConfiguration, as
// DescribeDomainConfiguration prints it, so that the output of
// `aws iot describe-domain-configuration` pastes into "domains" as is
// (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeDomainConfiguration.html).
//
// A device reaches a domain by its SNI (MQTT over TLS, and HTTPS or WSS when the client sends
// one) or, without an SNI, by the Host header; compared case-insensitively, any port and one
// trailing dot ignored. The domain then chooses the authorizer (AWS's rule,
// https://docs.aws.amazon.com/iot/latest/developerguide/iot-custom-endpoints-configurable-aws.html):
//
//   - with a defaultAuthorizerName and allowAuthorizerOverride false, every request on the
//     domain uses that authorizer; an x-amz-customauthorizer-name the client sends is ignored;
//   - with a defaultAuthorizerName and allowAuthorizerOverride true, the authorizer the client
//     names is used, the domain's default when it names none;
//   - without a defaultAuthorizerName, the domain behaves as a data endpoint: the authorizer the
//     client names, else the configuration's defaultAuthorizerName.
//
// iot:DomainName is the domain's name (lower case).
type Domain struct {
	// Name is the host name devices connect to, lower case: a DNS name of at most 253
	// characters, not an IP address, no wildcard. Required, unique across domains and
	// dataEndpoints. JSON: "domainName".
	Name string

	// ConfigurationName is AWS's name for the domain configuration, 1–128 characters of
	// [a-zA-Z0-9_.:-]; optional, used in logs. JSON: "domainConfigurationName".
	ConfigurationName string

	// DefaultAuthorizerName is the authorizer of the domain; it must be one of Authorizers.
	// Optional. JSON: "authorizerConfig.defaultAuthorizerName".
	DefaultAuthorizerName string

	// AllowAuthorizerOverride lets a client name another authorizer than DefaultAuthorizerName.
	// Required when DefaultAuthorizerName is set (as AWS requires it), without effect otherwise.
	// JSON: "authorizerConfig.allowAuthorizerOverride".
	AllowAuthorizerOverride bool

	// Protocols are the transports the domain accepts: all of them for applicationProtocol
	// "DEFAULT" (or absent), ProtocolMQTT for "SECURE_MQTT", ProtocolWSS for "MQTT_WSS",
	// ProtocolHTTPS for "HTTPS"; none when domainConfigurationStatus is "DISABLED" (every
	// connection to the domain is refused, as AWS refuses them). JSON: "applicationProtocol".
	Protocols Protocol

	// Disabled is domainConfigurationStatus "DISABLED".
	Disabled bool
}

// Protocol is a set of transports a domain accepts.
type Protocol uint8

// Transports.
const (
	ProtocolMQTT  Protocol = 1 << iota // MQTT over TLS (AWS's SECURE_MQTT)
	ProtocolWSS                        // MQTT over WebSocket (MQTT_WSS)
	ProtocolHTTPS                      // HTTPS publish (HTTPS)

	ProtocolAll = ProtocolMQTT | ProtocolWSS | ProtocolHTTPS // DEFAULT
)

// String names the transport as AWS's applicationProtocol does.
func (p Protocol) String() string {
	switch p {
	case ProtocolMQTT:
		return "SECURE_MQTT"
	case ProtocolWSS:
		return "MQTT_WSS"
	case ProtocolHTTPS:
		return "HTTPS"
	case ProtocolAll:
		return "DEFAULT"
	case 0:
		return "none"
	}
	return "mixed"
}

// MaxDomainNameChars is AWS's limit on domainName (and DNS's on a name).
const MaxDomainNameChars = 253

// domainFields are the members of a "domains" entry: DescribeDomainConfiguration's response.
var domainFields = []string{"domainName", "authorizerConfig", "domainConfigurationName", "domainConfigurationArn",
	"domainConfigurationStatus", "serviceType", "domainType", "lastStatusChangeDate", "authenticationType",
	"applicationProtocol", "serverCertificates", "tlsConfig", "serverCertificateConfig", "clientCertificateConfig"}

// Domain returns the domain configuration whose name is hostOrSNI (case-insensitive, any port and
// one trailing dot ignored), or nil.
func (c *Config) Domain(hostOrSNI string) *Domain {
	h := credentials.HostOnly(hostOrSNI)
	for _, d := range c.Domains {
		if d.Name == h {
			return d
		}
	}
	return nil
}

// parseDomains reads "domains" (v, which may be absent) after the authorizers and dataEndpoints:
// each domain's name joins DataEndpoints. With domains, dataEndpoints may be left out; one of the
// two must name an endpoint.
func (c *Config) parseDomains(v jsonv.Value) error {
	const path = "domains"
	if !v.Exists() {
		return nil
	}
	if v.Kind() != jsonv.Array {
		return errorf(path, "must be an array of domain configuration objects, got "+kind(v))
	}
	where := map[string]string{} // name → path of its first mention
	for i, e := range c.DataEndpoints {
		where[e] = "dataEndpoints[" + strconv.Itoa(i) + "]"
	}
	for i, e := range v.RangeElems {
		p := path + "[" + strconv.Itoa(i) + "]"
		d, err := c.parseDomain(p, e)
		if err != nil {
			return err
		}
		if prev, dup := where[d.Name]; dup {
			return errorf(p+".domainName", strconv.Quote(d.Name)+" is also "+prev+" (each endpoint once)")
		}
		where[d.Name] = p
		c.Domains = append(c.Domains, d)
	}
	if len(c.Domains) == 0 && len(c.DataEndpoints) == 0 {
		return errorf(path, "must list at least one domain configuration when dataEndpoints is absent")
	}
	for _, d := range c.Domains {
		c.DataEndpoints = append(c.DataEndpoints, d.Name)
	}
	return nil
}

func (c *Config) parseDomain(p string, v jsonv.Value) (*Domain, error) {
	m, err := object(p, p, v, domainFields...)
	if err != nil {
		return nil, err
	}
	f := func(name string) string { return p + "." + name }
	d := &Domain{Protocols: ProtocolAll}

	nv, ok := m["domainName"]
	if !ok {
		return nil, errorf(f("domainName"), "required")
	}
	s, err := str(f("domainName"), nv)
	if err != nil {
		return nil, err
	}
	var why string
	if d.Name, why = domainName(s); why != "" {
		return nil, errorf(f("domainName"), why)
	}

	if v, ok := m["domainConfigurationName"]; ok {
		if d.ConfigurationName, err = str(f("domainConfigurationName"), v); err != nil {
			return nil, err
		}
		if !matches(d.ConfigurationName, 128, "_.:-") {
			return nil, errorf(f("domainConfigurationName"), "must match [\\w.:-]{1,128}, got "+clip(d.ConfigurationName))
		}
	}
	if v, ok := m["domainConfigurationArn"]; ok {
		if err := c.domainConfigurationARN(f("domainConfigurationArn"), v, d.ConfigurationName); err != nil {
			return nil, err
		}
	}

	if v, ok := m["authorizerConfig"]; ok {
		ap := f("authorizerConfig")
		am, err := object(ap, ap, v, "defaultAuthorizerName", "allowAuthorizerOverride")
		if err != nil {
			return nil, err
		}
		if v, ok := am["defaultAuthorizerName"]; ok {
			np := ap + ".defaultAuthorizerName"
			if d.DefaultAuthorizerName, err = str(np, v); err != nil {
				return nil, err
			}
			if !matches(d.DefaultAuthorizerName, 128, "_=,@-") {
				return nil, errorf(np, "must match [\\w=,@-]{1,128}, got "+clip(d.DefaultAuthorizerName))
			}
			if _, ok := c.Authorizers[d.DefaultAuthorizerName]; !ok {
				return nil, errorf(np, strconv.Quote(d.DefaultAuthorizerName)+" is not one of the authorizers")
			}
		}
		ov, hasOverride := am["allowAuthorizerOverride"]
		if hasOverride {
			if d.AllowAuthorizerOverride, err = boolean(ap+".allowAuthorizerOverride", ov); err != nil {
				return nil, err
			}
		} else if d.DefaultAuthorizerName != "" {
			return nil, errorf(ap+".allowAuthorizerOverride", "required with defaultAuthorizerName (as AWS requires it): false holds every client to the domain's authorizer, true lets a client name another")
		}
	}

	if v, ok := m["domainConfigurationStatus"]; ok {
		st, err := oneOf(f("domainConfigurationStatus"), v, "ENABLED", "DISABLED")
		if err != nil {
			return nil, err
		}
		d.Disabled = st == "DISABLED"
	}
	if v, ok := m["serviceType"]; ok {
		st, err := str(f("serviceType"), v)
		if err != nil {
			return nil, err
		}
		switch st {
		case "DATA":
		case "CREDENTIAL_PROVIDER", "JOBS":
			return nil, errorf(f("serviceType"), strconv.Quote(st)+" is not served: iotauthz authorizes the data plane (MQTT and HTTPS publish) only; use \"DATA\"")
		default:
			return nil, errorf(f("serviceType"), "must be \"DATA\", got "+clip(st))
		}
	}
	if v, ok := m["domainType"]; ok {
		if _, err := oneOf(f("domainType"), v, "ENDPOINT", "AWS_MANAGED", "CUSTOMER_MANAGED"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["lastStatusChangeDate"]; ok {
		if err := timestamp(f("lastStatusChangeDate"), v); err != nil {
			return nil, err
		}
	}
	if v, ok := m["authenticationType"]; ok {
		at, err := str(f("authenticationType"), v)
		if err != nil {
			return nil, err
		}
		switch at {
		case "CUSTOM_AUTH", "DEFAULT":
		case "CUSTOM_AUTH_X509":
			return nil, errorf(f("authenticationType"), "\"CUSTOM_AUTH_X509\" is not served: it passes the client's X.509 certificate to the authorizer, which iotauthz does not do; use \"CUSTOM_AUTH\"")
		case "AWS_X509", "AWS_SIGV4":
			return nil, errorf(f("authenticationType"), strconv.Quote(at)+" is not served: it is AWS IoT's own authentication, not a custom authorizer; iotauthz serves \"CUSTOM_AUTH\" and \"DEFAULT\"")
		default:
			return nil, errorf(f("authenticationType"), "must be one of \"CUSTOM_AUTH\", \"DEFAULT\", got "+clip(at))
		}
	}
	if v, ok := m["applicationProtocol"]; ok {
		ap, err := oneOf(f("applicationProtocol"), v, "DEFAULT", "SECURE_MQTT", "MQTT_WSS", "HTTPS")
		if err != nil {
			return nil, err
		}
		switch ap {
		case "SECURE_MQTT":
			d.Protocols = ProtocolMQTT
		case "MQTT_WSS":
			d.Protocols = ProtocolWSS
		case "HTTPS":
			d.Protocols = ProtocolHTTPS
		}
	}
	if d.Disabled {
		d.Protocols = 0
	}

	// The TLS settings are the proxy's listener's (Envoy's, or iotauthz gateway's): accepted as
	// describe-domain-configuration prints them, checked for shape, not used.
	if v, ok := m["serverCertificates"]; ok {
		if err := serverCertificates(f("serverCertificates"), v); err != nil {
			return nil, err
		}
	}
	if v, ok := m["tlsConfig"]; ok {
		if err := stringMembers(f("tlsConfig"), v, "securityPolicy"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["serverCertificateConfig"]; ok {
		sp := f("serverCertificateConfig")
		sm, err := object(sp, sp, v, "enableOCSPCheck", "ocspLambdaArn", "ocspAuthorizedResponderArn")
		if err != nil {
			return nil, err
		}
		if v, ok := sm["enableOCSPCheck"]; ok {
			if _, err := boolean(sp+".enableOCSPCheck", v); err != nil {
				return nil, err
			}
		}
		for _, k := range []string{"ocspLambdaArn", "ocspAuthorizedResponderArn"} {
			if v, ok := sm[k]; ok {
				if _, err := str(sp+"."+k, v); err != nil {
					return nil, err
				}
			}
		}
	}
	if v, ok := m["clientCertificateConfig"]; ok {
		cp := f("clientCertificateConfig")
		cm, err := object(cp, cp, v, "clientCertificateCallbackArn")
		if err != nil {
			return nil, err
		}
		if v, ok := cm["clientCertificateCallbackArn"]; ok {
			s, err := str(cp+".clientCertificateCallbackArn", v)
			if err != nil {
				return nil, err
			}
			if s != "" {
				return nil, errorf(cp+".clientCertificateCallbackArn", "not served: a client certificate callback runs on X.509 client authentication, which iotauthz does not do")
			}
		}
	}
	return d, nil
}

// domainName lowercases and checks a domainName: a DNS name (labels of [a-z0-9-], not an IP
// address, no wildcard), at most MaxDomainNameChars characters, one trailing dot dropped. why
// says what is wrong, "" when nothing is.
func domainName(s string) (name, why string) {
	if s == "" {
		return "", "must not be empty"
	}
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	if len(h) > MaxDomainNameChars {
		return "", "is " + strconv.Itoa(len(h)) + " characters, at most " + strconv.Itoa(MaxDomainNameChars) + " allowed"
	}
	if strings.HasPrefix(h, "*.") {
		return "", "a wildcard is not a domain name: name the domain devices connect to, got " + clip(s)
	}
	if !validHostname(h) {
		return "", "not a DNS name (letters, digits, '-' and '.'; no scheme, port or path), got " + clip(s)
	}
	if last := h[strings.LastIndexByte(h, '.')+1:]; allDigits(last) {
		return "", "an IP address is not a domain name, got " + clip(s)
	}
	return h, ""
}

// domainConfigurationARN checks "arn:PARTITION:iot:REGION:ACCOUNT:domainconfiguration/NAME/ID":
// its partition is the region's and NAME, when name is set, is domainConfigurationName. It is
// otherwise not used.
func (c *Config) domainConfigurationARN(p string, v jsonv.Value, name string) error {
	s, err := str(p, v)
	if err != nil {
		return err
	}
	const shape = "arn:PARTITION:iot:REGION:ACCOUNT:domainconfiguration/NAME/ID"
	parts := strings.SplitN(s, ":", 6)
	if len(s) > 2048 || len(parts) != 6 || parts[0] != "arn" || parts[2] != "iot" || !strings.HasPrefix(parts[5], "domainconfiguration/") {
		return errorf(p, "not an AWS IoT domain configuration ARN ("+shape+"), got "+clip(s))
	}
	region, account := parts[3], parts[4]
	switch {
	case !validARNRegion(region):
		return errorf(p, "region "+clip(region)+" is not a region, e.g. us-east-1")
	case parts[1] != partitionOf(region):
		return errorf(p, "partition "+clip(parts[1])+" is not the partition of region "+strconv.Quote(region)+" ("+strconv.Quote(partitionOf(region))+")")
	case len(account) != 12 || !allDigits(account):
		return errorf(p, "account "+clip(account)+" must be 12 digits")
	}
	arnName, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "domainconfiguration/"), "/")
	if name != "" && arnName != name {
		return errorf(p, "names domain configuration "+clip(arnName)+", but domainConfigurationName is "+strconv.Quote(name))
	}
	return nil
}

// serverCertificates checks describe-domain-configuration's serverCertificates: an array of
// {serverCertificateArn, serverCertificateStatus, serverCertificateStatusDetail}.
func serverCertificates(p string, v jsonv.Value) error {
	if v.Kind() != jsonv.Array {
		return errorf(p, "must be an array, got "+kind(v))
	}
	for i, e := range v.RangeElems {
		ep := p + "[" + strconv.Itoa(i) + "]"
		if err := stringMembers(ep, e, "serverCertificateArn", "serverCertificateStatus", "serverCertificateStatusDetail"); err != nil {
			return err
		}
	}
	return nil
}

// stringMembers checks that v is an object of string members among allowed.
func stringMembers(p string, v jsonv.Value, allowed ...string) error {
	m, err := object(p, p, v, allowed...)
	if err != nil {
		return err
	}
	for _, k := range allowed {
		if v, ok := m[k]; ok {
			if _, err := str(p+"."+k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// clip quotes s for an error, cut to 64 bytes: an error never repeats a huge input.
func clip(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}
