package authz

import (
	"github.com/iotauthz/iotauthz/plugin/authorizer"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
)

// Names AWS devices use to present credentials (headers, query parameters, username keys).
const (
	keyAuthorizerName = "x-amz-customauthorizer-name"
	keySignature      = "x-amz-customauthorizer-signature"
	maxTokenBytes     = 6144
)

// presented is what a device sent: the authorizer it named, its token and the signature of the
// token, from headers, the query string or the MQTT username.
type presented struct {
	name      string
	hasName   bool
	token     string
	hasToken  bool
	signature string
	hasSig    bool
}

// denial is why a request is refused: a reason code from decisionlog.go and free details.
type denial struct {
	reason  string
	details string
}

// fromQuery fills what is missing in c from query parameters (the request query or the MQTT
// username query); tokenKey is resolved once the authorizer is known.
func (c *presented) nameFrom(q credentials.Query) {
	if !c.hasName {
		c.name, c.hasName = q.Get(keyAuthorizerName)
	}
}

func (c *presented) restFrom(q credentials.Query, tokenKey string) {
	if !c.hasSig {
		c.signature, c.hasSig = q.Get(keySignature)
	}
	if !c.hasToken && tokenKey != "" {
		c.token, c.hasToken = q.Get(tokenKey)
	}
}

// selectAuthorizer picks the named authorizer, or the default one when none is named. Unknown and
// INACTIVE authorizers are refused without a call.
func (e *Engine) selectAuthorizer(c *presented) (*authEntry, *denial) {
	name := c.name
	ae := e.defaultAuth
	if !c.hasName || name == "" {
		name = e.cfg.DefaultAuthorizerName
		if name == "" {
			return nil, &denial{reasonAuthorizerUnknown, "no authorizer named and no defaultAuthorizerName configured"}
		}
	} else {
		ae = e.authEntry(name)
	}
	if ae == nil {
		return nil, &denial{reasonAuthorizerUnknown, "authorizer " + quote(name) + " is not configured"}
	}
	if ae.a.Status == config.StatusInactive {
		return nil, &denial{reasonAuthorizerOff, "authorizer " + quote(name) + " is INACTIVE"}
	}
	return ae, nil
}

// authEntry is a configured authorizer and its token header name.
type authEntry struct {
	a           *config.Authorizer
	tokenHeader string
}

// authEntry returns the authorizer called name, or nil.
func (e *Engine) authEntry(name string) *authEntry {
	for i := range e.auths {
		if e.auths[i].a.Name == name {
			return &e.auths[i]
		}
	}
	return nil
}

// checkToken applies the limits and, when signing is enabled, verifies the signature with the
// authorizer's keys. It reports whether the signature was verified (the event's
// signatureVerified).
func (e *Engine) checkToken(a *config.Authorizer, c *presented) (bool, *denial) {
	if len(c.token) > maxTokenBytes {
		return false, &denial{reasonTokenTooLong, "token is " + itoa(len(c.token)) + " bytes, at most 6144 allowed"}
	}
	if a.SigningDisabled {
		return false, nil
	}
	if !c.hasToken || c.token == "" {
		return false, &denial{reasonTokenMissing, "no " + quote(a.TokenKeyName) + " header or query parameter"}
	}
	if !c.hasSig || c.signature == "" {
		return false, &denial{reasonSignatureMissing, "no " + keySignature + " header or query parameter"}
	}
	ok, why := e.verifiers[a.Name].Verify(c.token, c.signature)
	if !ok {
		e.count(MetricSigFailures, 1)
		return false, &denial{reasonSignatureInvalid, why}
	}
	return true, nil
}

func quote(s string) string { return string(authorizer.AppendString(nil, s)) }
