package refauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Rules is a parsed rules file (see the package documentation for its format).
type Rules struct {
	Rules   []Rule  `json:"rules"`
	Default *Answer `json:"default,omitempty"`
}

// Rule is one entry of Rules: a match, the answer to give, and an optional fault.
type Rule struct {
	Name  string `json:"name,omitempty"`
	Match Match  `json:"match"`
	Answer
	Fault *Fault `json:"fault,omitempty"`
}

// Match selects the requests a Rule answers. Every non-zero field must hold.
type Match struct {
	Token             string            `json:"token,omitempty"`
	TokenPrefix       string            `json:"tokenPrefix,omitempty"`
	Username          string            `json:"username,omitempty"`
	Password          string            `json:"password,omitempty"`
	ClientID          string            `json:"clientId,omitempty"`
	ClientIDPrefix    string            `json:"clientIdPrefix,omitempty"`
	ServerName        string            `json:"serverName,omitempty"`
	Protocol          string            `json:"protocol,omitempty"`
	SignatureVerified *bool             `json:"signatureVerified,omitempty"`
	Header            map[string]string `json:"header,omitempty"`
	FromHit           int               `json:"fromHit,omitempty"`
}

// Answer is the authorizer response a Rule gives, before template substitution.
type Answer struct {
	IsAuthenticated          bool              `json:"isAuthenticated"`
	PrincipalID              string            `json:"principalId,omitempty"`
	RefreshAfterInSeconds    *int              `json:"refreshAfterInSeconds,omitempty"`
	DisconnectAfterInSeconds *int              `json:"disconnectAfterInSeconds,omitempty"`
	PolicyDocuments          []json.RawMessage `json:"policyDocuments,omitempty"`
	Context                  map[string]string `json:"context,omitempty"`
}

// Fault makes a Rule misbehave, for tests of how the caller fails closed.
type Fault struct {
	DelayMillis int     `json:"delayMillis,omitempty"`
	Status      int     `json:"status,omitempty"`
	Body        *string `json:"body,omitempty"`
	Close       bool    `json:"close,omitempty"`
}

// Parse reads a rules file. Unknown fields are errors, so a misspelt match key cannot silently
// turn a rule into a catch-all. Errors name the rule: "rules[2].match.protocol: ...".
func Parse(b []byte) (*Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("rules: unexpected data after the top-level object")
	}
	for i := range r.Rules {
		if err := r.Rules[i].check(); err != nil {
			return nil, fmt.Errorf("rules[%d]%s", i, err)
		}
	}
	if r.Default != nil {
		if err := r.Default.check(); err != nil {
			return nil, fmt.Errorf("default%s", err)
		}
	}
	return &r, nil
}

// Load reads and parses a rules file.
func Load(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// MustParse is Parse that panics, for rules written in tests.
func MustParse(s string) *Rules {
	r, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return r
}

func (r *Rule) check() error {
	switch r.Match.Protocol {
	case "", "tls", "http", "mqtt":
	default:
		return fmt.Errorf(".match.protocol: %q is not one of tls, http, mqtt", r.Match.Protocol)
	}
	if r.Match.FromHit < 0 {
		return fmt.Errorf(".match.fromHit: %d is negative", r.Match.FromHit)
	}
	if r.Match.Token != "" && r.Match.TokenPrefix != "" {
		return fmt.Errorf(".match: token and tokenPrefix are exclusive")
	}
	if f := r.Fault; f != nil {
		if f.DelayMillis < 0 {
			return fmt.Errorf(".fault.delayMillis: %d is negative", f.DelayMillis)
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
			return fmt.Errorf(".fault.status: %d is not an HTTP status", f.Status)
		}
	}
	return r.Answer.check()
}

func (a *Answer) check() error {
	for i, d := range a.PolicyDocuments {
		d = bytes.TrimSpace(d)
		if len(d) == 0 || (d[0] != '{' && d[0] != '"') {
			return fmt.Errorf(".policyDocuments[%d]: must be an object or a string", i)
		}
	}
	return nil
}

// matches reports whether m holds for ev, whose token has been seen hit times (this one included).
func (m *Match) matches(ev *Event, hit int) bool {
	if m.Token != "" && ev.Token != m.Token {
		return false
	}
	if m.TokenPrefix != "" && !strings.HasPrefix(ev.Token, m.TokenPrefix) {
		return false
	}
	mq := ev.ProtocolData.MQTT
	if m.Username != "" {
		if mq == nil || (mq.Username != m.Username && usernameBase(mq.Username) != m.Username) {
			return false
		}
	}
	if m.Password != "" {
		if mq == nil || mq.decodedPassword() != m.Password {
			return false
		}
	}
	if m.ClientID != "" && (mq == nil || mq.ClientID != m.ClientID) {
		return false
	}
	if m.ClientIDPrefix != "" && (mq == nil || !strings.HasPrefix(mq.ClientID, m.ClientIDPrefix)) {
		return false
	}
	if m.ServerName != "" {
		if t := ev.ProtocolData.TLS; t == nil || !strings.EqualFold(t.ServerName, m.ServerName) {
			return false
		}
	}
	if m.Protocol != "" && !slices.Contains(ev.Protocols, m.Protocol) {
		return false
	}
	if m.SignatureVerified != nil && ev.SignatureVerified != *m.SignatureVerified {
		return false
	}
	for name, want := range m.Header {
		h := ev.ProtocolData.HTTP
		if h == nil {
			return false
		}
		got, ok := h.header(name)
		if !ok || got != want {
			return false
		}
	}
	if m.FromHit > 0 && hit < m.FromHit {
		return false
	}
	return true
}

func usernameBase(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
