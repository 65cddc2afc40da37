package authorizer

import (
	"encoding/base64"

	"github.com/iotauthz/iotauthz/internal/jsonv"
)

// Event is the JSON document the authorizer receives, AWS's custom-authorizer event:
//
//	{
//	  "token": "aToken",
//	  "signatureVerified": true,
//	  "protocols": ["tls", "http", "mqtt"],
//	  "protocolData": {
//	    "tls": {"serverName": "iot.example.com"},
//	    "http": {"headers": {"host": "iot.example.com"}, "queryString": "?a=b"},
//	    "mqtt": {"username": "dev?x=y", "password": "cGFzcw==", "clientId": "dev1"}
//	  },
//	  "connectionMetadata": {"id": "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}
//	}
//
// Keys come in this order; fields that do not apply are left out (see AppendJSON).
type Event struct {
	// Token is the value found under the authorizer's tokenKeyName; "token" is omitted when empty.
	Token string
	// SignatureVerified is true when the token's signature was checked (signing enabled).
	SignatureVerified bool
	// Protocols lists the layers the connection uses: ["tls","http"] for HTTPS,
	// ["tls","http","mqtt"] for MQTT over WebSocket, ["tls","mqtt"] for MQTT over TLS.
	Protocols []string
	// TLS, HTTP and MQTT are the "protocolData" members; nil ones are omitted, and
	// "protocolData" itself when all are nil.
	TLS  *TLSData
	HTTP *HTTPData
	MQTT *MQTTData
	// ConnectionID is "connectionMetadata.id", a UUID (see internal/uuid); omitted when empty.
	ConnectionID string
}

// TLSData is "protocolData.tls".
type TLSData struct {
	// ServerName is the SNI the client sent; omitted when empty.
	ServerName string
}

// HTTPData is "protocolData.http".
type HTTPData struct {
	// Headers become the flat "headers" object, in order. Repeated names are joined into one
	// member, values separated by ",". Always written, {} when empty.
	Headers [][2]string
	// QueryString is the raw query with its leading '?' ("?a=b&c=d"); omitted when empty.
	QueryString string
}

// MQTTData is "protocolData.mqtt", from the MQTT CONNECT packet.
type MQTTData struct {
	Username    string // the raw username, its "?…" query included
	HasUsername bool   // "username" is written only when the CONNECT had one
	Password    []byte // written base64-encoded, as AWS IoT Core does
	HasPassword bool
	ClientID    string
	HasClientID bool
}

// AppendJSON appends the event's JSON (no spaces, no newline) to dst and returns it. Strings are
// escaped per RFC 8259: '"', '\\' and control characters are escaped, invalid UTF-8 becomes
// \ufffd; nothing else is altered.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if e.Token != "" {
		dst = append(dst, `"token":`...)
		dst = jsonv.AppendString(dst, e.Token)
		dst = append(dst, ',')
	}
	dst = append(dst, `"signatureVerified":`...)
	if e.SignatureVerified {
		dst = append(dst, "true"...)
	} else {
		dst = append(dst, "false"...)
	}
	dst = append(dst, `,"protocols":[`...)
	for i, p := range e.Protocols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonv.AppendString(dst, p)
	}
	dst = append(dst, ']')
	if e.TLS != nil || e.HTTP != nil || e.MQTT != nil {
		dst = append(dst, `,"protocolData":{`...)
		sep := false
		if e.TLS != nil {
			dst = append(dst, `"tls":{`...)
			if e.TLS.ServerName != "" {
				dst = append(dst, `"serverName":`...)
				dst = jsonv.AppendString(dst, e.TLS.ServerName)
			}
			dst = append(dst, '}')
			sep = true
		}
		if e.HTTP != nil {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"http":{"headers":`...)
			dst = appendHeaders(dst, e.HTTP.Headers)
			if e.HTTP.QueryString != "" {
				dst = append(dst, `,"queryString":`...)
				dst = jsonv.AppendString(dst, e.HTTP.QueryString)
			}
			dst = append(dst, '}')
			sep = true
		}
		if m := e.MQTT; m != nil {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"mqtt":{`...)
			inner := false
			if m.HasUsername {
				dst = append(dst, `"username":`...)
				dst = jsonv.AppendString(dst, m.Username)
				inner = true
			}
			if m.HasPassword {
				if inner {
					dst = append(dst, ',')
				}
				dst = append(dst, `"password":"`...)
				dst = base64.StdEncoding.AppendEncode(dst, m.Password)
				dst = append(dst, '"')
				inner = true
			}
			if m.HasClientID {
				if inner {
					dst = append(dst, ',')
				}
				dst = append(dst, `"clientId":`...)
				dst = jsonv.AppendString(dst, m.ClientID)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if e.ConnectionID != "" {
		dst = append(dst, `,"connectionMetadata":{"id":`...)
		dst = jsonv.AppendString(dst, e.ConnectionID)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendHeaders writes headers as one flat object, joining the values of repeated names with ",".
func appendHeaders(dst []byte, h [][2]string) []byte {
	dst = append(dst, '{')
	n := 0
	for i, kv := range h {
		dup := false
		for _, prev := range h[:i] {
			if prev[0] == kv[0] {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = jsonv.AppendString(dst, kv[0])
		dst = append(dst, ':', '"')
		dst = jsonv.AppendEscaped(dst, kv[1])
		for _, next := range h[i+1:] {
			if next[0] == kv[0] {
				dst = append(dst, ',')
				dst = jsonv.AppendEscaped(dst, next[1])
			}
		}
		dst = append(dst, '"')
	}
	return append(dst, '}')
}
