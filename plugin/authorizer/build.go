package authorizer

// Inputs are what an authorization knows of a device's request; NewEvent turns them into the
// authorizer's Event, the same way for HTTPS, MQTT over WebSocket and MQTT over TLS.
type Inputs struct {
	// Token is the token presented under the authorizer's tokenKeyName ("" when none).
	Token string
	// SignatureVerified: the token's signature was checked (signing enabled).
	SignatureVerified bool
	// ServerName is the TLS SNI, "" when the client sent none.
	ServerName string
	// Headers and RawQuery are the HTTP request's (the HTTPS publish, or the WebSocket upgrade)
	// headers, pseudo-headers included, and query string without its '?'. HTTP is false over
	// MQTT over TLS.
	HTTP     bool
	Headers  [][2]string
	RawQuery string
	// WebSocket: MQTT inside a WebSocket, whether the CONNECT is known yet (credentials in the
	// CONNECT) or not (credentials on the upgrade request).
	WebSocket bool
	// Connect is the MQTT CONNECT's data; nil over HTTPS and at a WebSocket upgrade.
	Connect *MQTTData
	// ConnectionID is the connection's (or request's) trace id.
	ConnectionID string
}

// The event's "protocols", by transport; shared, never modified.
var (
	protocolsHTTPS     = []string{"tls", "http"}
	protocolsWebSocket = []string{"tls", "http", "mqtt"}
	protocolsMQTT      = []string{"tls", "mqtt"}
)

// NewEvent builds the event of an authorization:
//
//	HTTPS publish   protocols ["tls","http"]         protocolData.tls, .http
//	WebSocket       protocols ["tls","http","mqtt"]  protocolData.tls, .http, and .mqtt once the CONNECT is known
//	MQTT over TLS   protocols ["tls","mqtt"]         protocolData.tls, .mqtt
//
// protocolData.tls is left out without an SNI. protocolData.http holds the request headers
// without the pseudo-headers (the :authority as "host" when there is no host header) and the
// query string with its leading '?'.
func NewEvent(in *Inputs) Event {
	e := Event{
		Token:             in.Token,
		SignatureVerified: in.SignatureVerified,
		MQTT:              in.Connect,
		ConnectionID:      in.ConnectionID,
	}
	switch {
	case in.WebSocket:
		e.Protocols = protocolsWebSocket
	case in.HTTP:
		e.Protocols = protocolsHTTPS
	default:
		e.Protocols = protocolsMQTT
	}
	if in.ServerName != "" {
		e.TLS = &TLSData{ServerName: in.ServerName}
	}
	if in.HTTP {
		e.HTTP = httpData(in.Headers, in.RawQuery)
	}
	return e
}

// httpData is the event's protocolData.http.
func httpData(hs [][2]string, rawQuery string) *HTTPData {
	h := make([][2]string, 0, len(hs))
	hasHost, hasAuthority := false, false
	authority := ""
	for _, kv := range hs {
		if len(kv[0]) > 0 && kv[0][0] == ':' {
			if kv[0] == ":authority" && !hasAuthority {
				authority, hasAuthority = kv[1], true
			}
			continue
		}
		if kv[0] == "host" {
			hasHost = true
		}
		h = append(h, kv)
	}
	if !hasHost && authority != "" {
		h = append(h, [2]string{"host", authority})
	}
	d := &HTTPData{Headers: h}
	if rawQuery != "" {
		d.QueryString = "?" + rawQuery
	}
	return d
}
