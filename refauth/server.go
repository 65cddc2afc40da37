package refauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is the authorizer request (AWS IoT Core's custom-authorizer event) as the server reads it.
type Event struct {
	Token             string   `json:"token"`
	SignatureVerified bool     `json:"signatureVerified"`
	Protocols         []string `json:"protocols"`
	ProtocolData      struct {
		TLS  *TLSData  `json:"tls,omitempty"`
		HTTP *HTTPData `json:"http,omitempty"`
		MQTT *MQTTData `json:"mqtt,omitempty"`
	} `json:"protocolData"`
	ConnectionMetadata struct {
		ID string `json:"id"`
	} `json:"connectionMetadata"`
}

// TLSData is protocolData.tls.
type TLSData struct {
	ServerName string `json:"serverName"`
}

// HTTPData is protocolData.http.
type HTTPData struct {
	Headers     map[string]string `json:"headers"`
	QueryString string            `json:"queryString"`
}

func (h *HTTPData) header(name string) (string, bool) {
	if v, ok := h.Headers[name]; ok {
		return v, true
	}
	for k, v := range h.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// MQTTData is protocolData.mqtt. Password is base64, as AWS sends it.
type MQTTData struct {
	Username string `json:"username"`
	Password string `json:"password"`
	ClientID string `json:"clientId"`
}

func (m *MQTTData) decodedPassword() string {
	b, err := base64.StdEncoding.DecodeString(m.Password)
	if err != nil {
		return ""
	}
	return string(b)
}

// maxEvents bounds the events a Server keeps for Events.
const maxEvents = 1000

// maxBody bounds the request body the server reads (AWS's limits make events far smaller).
const maxBody = 1 << 20

// Server answers authorizer calls from Rules. Create it with New; it is safe for concurrent use.
type Server struct {
	// Log, when set, receives one line per request: the rule that answered and the decision.
	// Set it before serving.
	Log func(line string)

	// Admin turns on the /admin/ endpoints, for tests that drive a server in another process
	// (the docker compose tester). Set it before serving. Never on a real deployment: anyone who
	// reaches the port can change the answers.
	//
	//	GET  /admin/hits[?token=T]  {"hits":N}: Hits, or HitsFor(T)
	//	GET  /admin/events          the kept events, a JSON array, oldest first
	//	PUT  /admin/rules           replace the rules with the body (a rules file); 400 names the error
	//	POST /admin/reset           Reset
	Admin bool

	mu     sync.Mutex
	rules  *Rules
	hits   int
	perTok map[string]int
	events []Event
}

// New returns a Server answering from r (nil: every request gets the default deny).
func New(r *Rules) *Server {
	if r == nil {
		r = &Rules{}
	}
	return &Server{rules: r, perTok: map[string]int{}}
}

// SetRules replaces the rules; requests already being answered finish with the old ones.
func (s *Server) SetRules(r *Rules) {
	if r == nil {
		r = &Rules{}
	}
	s.mu.Lock()
	s.rules = r
	s.mu.Unlock()
}

// Hits returns how many requests reached the handler, valid or not (GET /healthz excluded).
func (s *Server) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// HitsFor returns how many valid events carried token.
func (s *Server) HitsFor(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perTok[token]
}

// Events returns a copy of the last parsed events (at most 1000), oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Reset zeroes the counters and forgets the events.
func (s *Server) Reset() {
	s.mu.Lock()
	s.hits = 0
	s.perTok = map[string]int{}
	s.events = nil
	s.mu.Unlock()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
		w.Header().Set("content-type", "text/plain")
		io.WriteString(w, "ok\n")
		return
	}
	if s.Admin && strings.HasPrefix(r.URL.Path, "/admin/") {
		s.serveAdmin(w, r)
		return
	}
	s.mu.Lock()
	s.hits++
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		w.Header().Set("allow", "POST")
		http.Error(w, "POST the authorizer event as JSON", http.StatusMethodNotAllowed)
		s.logf("%s %s: 405", r.Method, r.URL.Path)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body unreadable or over 1 MiB", http.StatusBadRequest)
		s.logf("POST %s: 400 body unreadable or too large", r.URL.Path)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		http.Error(w, "the body is not an authorizer event (JSON object)", http.StatusBadRequest)
		s.logf("POST %s: 400 not an event", r.URL.Path)
		return
	}

	s.mu.Lock()
	s.perTok[ev.Token]++
	hit := s.perTok[ev.Token]
	if len(s.events) == maxEvents {
		copy(s.events, s.events[1:])
		s.events = s.events[:maxEvents-1]
	}
	s.events = append(s.events, ev)
	rules := s.rules
	s.mu.Unlock()

	rule, ruleName := rules.find(&ev, hit)
	var ans *Answer
	var fault *Fault
	suffix := ev.Token
	if rule != nil {
		ans, fault = &rule.Answer, rule.Fault
		suffix = strings.TrimPrefix(ev.Token, rule.Match.TokenPrefix)
	} else if rules.Default != nil {
		ans = rules.Default
	} else {
		ans = &Answer{PrincipalID: "anonymous"}
	}
	out := render(ans, &ev, suffix)

	status := http.StatusOK
	if fault != nil {
		if fault.DelayMillis > 0 {
			t := time.NewTimer(time.Duration(fault.DelayMillis) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				s.logf("token %q rule %s: caller gone during the delay", short(ev.Token), ruleName)
				return
			}
		}
		if fault.Close {
			s.logf("token %q rule %s: closing the connection without an answer", short(ev.Token), ruleName)
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler) // HTTP/2 or a test recorder: abort the stream
		}
		if fault.Status != 0 {
			status = fault.Status
		}
		if fault.Body != nil {
			out = []byte(*fault.Body)
		}
	}
	w.Header().Set("content-type", "application/json")
	w.Header().Set("content-length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
	s.logf("token %q hit %d rule %s: %d isAuthenticated=%v", short(ev.Token), hit, ruleName, status, ans.IsAuthenticated)
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/admin/hits":
		if tok, ok := r.URL.Query()["token"]; ok && len(tok) > 0 {
			reply(map[string]int{"hits": s.HitsFor(tok[0])})
			return
		}
		reply(map[string]int{"hits": s.Hits()})
	case r.Method == http.MethodGet && r.URL.Path == "/admin/events":
		ev := s.Events()
		if ev == nil {
			ev = []Event{}
		}
		reply(ev)
	case r.Method == http.MethodPut && r.URL.Path == "/admin/rules":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rules, err := Parse(b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetRules(rules)
		s.logf("admin: %d rules set", len(rules.Rules))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/admin/reset":
		s.Reset()
		s.logf("admin: counters reset")
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unknown admin endpoint", http.StatusNotFound)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(fmt.Sprintf(format, args...))
	}
}

// find returns the first rule matching ev and its label.
func (rs *Rules) find(ev *Event, hit int) (*Rule, string) {
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if r.Match.matches(ev, hit) {
			if r.Name != "" {
				return r, r.Name
			}
			return r, "#" + strconv.Itoa(i)
		}
	}
	return nil, "default"
}

func short(tok string) string {
	if len(tok) > 40 {
		return tok[:40] + "…"
	}
	return tok
}

// render builds the JSON response for a, with the templates replaced from ev.
func render(a *Answer, ev *Event, tokenSuffix string) []byte {
	vars := templateVars(ev, tokenSuffix)
	refresh, disconnect := 300, 86400
	if a.RefreshAfterInSeconds != nil {
		refresh = *a.RefreshAfterInSeconds
	}
	if a.DisconnectAfterInSeconds != nil {
		disconnect = *a.DisconnectAfterInSeconds
	}
	principal := a.PrincipalID
	if principal == "" {
		principal = "anonymous"
	}
	var b bytes.Buffer
	b.WriteString(`{"isAuthenticated":`)
	b.WriteString(strconv.FormatBool(a.IsAuthenticated))
	b.WriteString(`,"principalId":`)
	writeJSONString(&b, substitute(principal, vars, false))
	b.WriteString(`,"disconnectAfterInSeconds":`)
	b.WriteString(strconv.Itoa(disconnect))
	b.WriteString(`,"refreshAfterInSeconds":`)
	b.WriteString(strconv.Itoa(refresh))
	b.WriteString(`,"policyDocuments":[`)
	for i, d := range a.PolicyDocuments {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(renderDocument(d, vars))
	}
	b.WriteByte(']')
	if len(a.Context) > 0 {
		b.WriteString(`,"context":`)
		ctx := make(map[string]string, len(a.Context))
		for k, v := range a.Context {
			ctx[k] = substitute(v, vars, false)
		}
		enc, _ := json.Marshal(ctx) // sorted keys: stable output
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// renderDocument substitutes the templates inside one policy document, an object or a JSON string
// holding one, keeping it valid JSON: values are escaped once for an object, twice for a string.
func renderDocument(d json.RawMessage, vars map[string]string) []byte {
	d = bytes.TrimSpace(d)
	if !bytes.Contains(d, []byte("{{")) {
		return d
	}
	if d[0] == '"' {
		var inner string
		if err := json.Unmarshal(d, &inner); err != nil {
			return d
		}
		var b bytes.Buffer
		writeJSONString(&b, substitute(inner, vars, true))
		return b.Bytes()
	}
	return []byte(substitute(string(d), vars, true))
}

// substitute replaces {{name}} placeholders. With escape, values are JSON-string-escaped (without
// quotes), for placeholders inside JSON text. Unknown placeholders stay as written.
func substitute(s string, vars map[string]string, escape bool) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		b.WriteString(s[:i])
		switch {
		case !ok:
			b.WriteString(s[i : i+j+2])
		case escape:
			q, _ := json.Marshal(v)
			b.Write(q[1 : len(q)-1])
		default:
			b.WriteString(v)
		}
		s = s[i+j+2:]
	}
	b.WriteString(s)
	return b.String()
}

func templateVars(ev *Event, tokenSuffix string) map[string]string {
	v := map[string]string{
		"token":        ev.Token,
		"tokenSuffix":  tokenSuffix,
		"clientId":     "",
		"username":     "",
		"serverName":   "",
		"connectionId": ev.ConnectionMetadata.ID,
	}
	if m := ev.ProtocolData.MQTT; m != nil {
		v["clientId"] = m.ClientID
		v["username"] = usernameBase(m.Username)
	}
	if t := ev.ProtocolData.TLS; t != nil {
		v["serverName"] = t.ServerName
	}
	return v
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

var _ http.Handler = (*Server)(nil)
