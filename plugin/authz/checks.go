package authz

import (
	"github.com/iotauthz/iotauthz/internal/jsonv"
	"github.com/iotauthz/iotauthz/plugin/config"
	"github.com/iotauthz/iotauthz/plugin/credentials"
	"github.com/iotauthz/iotauthz/plugin/token"
)

// denial is why a request is refused: a reason code from decisionlog.go and free details.
type denial struct {
	reason  string
	details string
}

// selectAuthorizer picks the authorizer of a request on domain dom (nil for a plain data
// endpoint), with AWS's rule: a domain's defaultAuthorizerName when the domain has one and either
// forbids overriding it (allowAuthorizerOverride false: the name the client sends is ignored) or
// the client names none; else the authorizer the client names, else the configuration's
// defaultAuthorizerName. Unknown and INACTIVE authorizers are refused without a call.
func (e *Engine) selectAuthorizer(c *credentials.Presented, dom *domainEntry) (*authEntry, *denial) {
	name := c.Name
	ae := e.defaultAuth
	named := c.HasName && name != ""
	switch {
	case dom != nil && dom.auth != nil && (!named || !dom.d.AllowAuthorizerOverride):
		ae, name = dom.auth, dom.auth.a.Name
	case !named:
		name = e.cfg.DefaultAuthorizerName
		if name == "" {
			return nil, &denial{reasonAuthorizerUnknown, "no authorizer named and no defaultAuthorizerName configured"}
		}
	default:
		ae = e.authEntry(name)
	}
	if ae == nil {
		return nil, &denial{reasonAuthorizerUnknown, quoteIn("authorizer ", name, " is not configured")}
	}
	if ae.a.Status == config.StatusInactive {
		return nil, &denial{reasonAuthorizerOff, quoteIn("authorizer ", name, " is INACTIVE")}
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
func (e *Engine) checkToken(a *config.Authorizer, c *credentials.Presented) (bool, *denial) {
	if len(c.Token) > token.MaxTokenBytes {
		return false, &denial{reasonTokenTooLong, "token is " + itoa(len(c.Token)) + " bytes, at most " + itoa(token.MaxTokenBytes) + " allowed"}
	}
	if a.SigningDisabled {
		return false, nil
	}
	if !c.HasToken || c.Token == "" {
		return false, &denial{reasonTokenMissing, e.tokenMissingDetails(a)}
	}
	if !c.HasSignature || c.Signature == "" {
		return false, &denial{reasonSignatureMissing, "no " + credentials.SignatureKey + " header or query parameter"}
	}
	ok, why := e.verifiers[a.Name].Verify(c.Token, c.Signature)
	if !ok {
		e.deny.sigFailures++ // added to the metric on the tick (denycost.go)
		return false, &denial{reasonSignatureInvalid, why}
	}
	return true, nil
}

func quote(s string) string { return string(jsonv.AppendString(nil, s)) }

// quoteIn is pre + quote(s) + post in one allocation (a refusal's details).
func quoteIn(pre, s, post string) string {
	b := make([]byte, 0, len(pre)+len(s)+2+len(post))
	b = append(b, pre...)
	b = jsonv.AppendString(b, s)
	b = append(b, post...)
	return unsafeString(b)
}
