package authz

import (
	"github.com/iotauthz/iotauthz/internal/ascii"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
)

// endpoint is one host name devices may connect to (config.Config.DataEndpoints, which ends with
// the domains' names) and its domain configuration: nil for a plain data endpoint.
type endpoint struct {
	name string // lower case: iot:DomainName
	dom  *domainEntry
}

// domainEntry is a domain configuration with its default authorizer resolved.
type domainEntry struct {
	d    *config.Domain
	auth *authEntry // authorizerConfig.defaultAuthorizerName; nil without one
}

// initEndpoints builds the endpoint table, once, after the authorizers (e.auths), so that a
// request finds its endpoint, domain and default authorizer by a scan of a few strings.
func (e *Engine) initEndpoints() {
	doms := make(map[string]*domainEntry, len(e.cfg.Domains))
	for _, d := range e.cfg.Domains {
		de := &domainEntry{d: d}
		if d.DefaultAuthorizerName != "" {
			de.auth = e.authEntry(d.DefaultAuthorizerName) // present: the configuration checked it
		}
		doms[d.Name] = de
	}
	e.endpoints = make([]endpoint, len(e.cfg.DataEndpoints))
	for i, name := range e.cfg.DataEndpoints {
		e.endpoints[i] = endpoint{name: name, dom: doms[name]}
	}
}

// lookupEndpoint returns the endpoint a Host header or SNI names (case-insensitive, any port and
// one trailing dot ignored, as credentials.HostOnly reads it), or nil. It never allocates: the
// name is compared folding ASCII case instead of being lowered.
func (e *Engine) lookupEndpoint(hostOrSNI string) *endpoint {
	for i := range e.endpoints { // the usual case: exactly an endpoint, no port
		if e.endpoints[i].name == hostOrSNI {
			return &e.endpoints[i]
		}
	}
	h := credentials.HostPart(hostOrSNI)
	for i := range e.endpoints {
		if ascii.EqualLower(h, e.endpoints[i].name) {
			return &e.endpoints[i]
		}
	}
	return nil
}

// resolveHTTP finds the endpoint of an HTTP request (an HTTPS publish or a WebSocket upgrade)
// from its Host (authority) and the connection's SNI, and sets src's domain. Both must be
// endpoints. The SNI, when there is one, chooses the domain, as TLS does at AWS; an SNI and a Host
// that name different endpoints are refused when either is a domain configuration, so that a
// request never reaches one domain's authorizer through another's TLS name.
func (e *Engine) resolveHTTP(src *Source, authority string) *denial {
	host := e.lookupEndpoint(authority)
	if host == nil {
		return &denial{reasonEndpoint, quoteIn("Host ", authority, " is not one of dataEndpoints")}
	}
	ep := host
	if src.SNI != "" {
		sni := e.lookupEndpoint(src.SNI)
		if sni == nil {
			return &denial{reasonEndpoint, quoteIn("SNI ", src.SNI, " is not one of dataEndpoints")}
		}
		if sni != host && (sni.dom != nil || host.dom != nil) {
			return &denial{reasonEndpoint, "SNI " + quote(src.SNI) + " and Host " + quote(authority) +
				" name different endpoints, at least one a domain configuration"}
		}
		ep = sni
	}
	src.domain, src.dom = ep.name, ep.dom
	return nil
}

// resolveMQTT finds the endpoint of an MQTT over TLS connection from its SNI and sets src's
// domain; a domain that does not accept MQTT over TLS refuses it.
func (e *Engine) resolveMQTT(src *Source) *denial {
	ep := e.lookupEndpoint(src.SNI)
	if ep == nil {
		return &denial{reasonEndpoint, "SNI " + quote(src.SNI) + " is not one of dataEndpoints"}
	}
	src.domain, src.dom = ep.name, ep.dom
	return ep.dom.refuses(config.ProtocolMQTT)
}

// refuses says why the domain refuses transport p (its applicationProtocol, or its status
// DISABLED), or nil. A nil domain (a plain data endpoint) accepts every transport.
func (d *domainEntry) refuses(p config.Protocol) *denial {
	if d == nil || d.d.Protocols&p != 0 {
		return nil
	}
	if d.d.Disabled {
		return &denial{reasonEndpoint, "domain configuration " + quote(d.d.Name) + " is DISABLED"}
	}
	return &denial{reasonEndpoint, "domain " + quote(d.d.Name) + " has applicationProtocol " + d.d.Protocols.String() +
		": " + p.String() + " is refused"}
}

// refusesMode is refuses for an HTTP stream's mode: an upgrade is MQTT_WSS, a publish HTTPS.
func (d *domainEntry) refusesMode(mode int) *denial {
	if d == nil {
		return nil
	}
	if mode == modeWS {
		return d.refuses(config.ProtocolWSS)
	}
	return d.refuses(config.ProtocolHTTPS)
}
