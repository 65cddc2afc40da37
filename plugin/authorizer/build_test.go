package authorizer

import "testing"

// TestNewEvent: one builder gives each transport's event shape (DESIGN contract 2).
func TestNewEvent(t *testing.T) {
	hs := [][2]string{{":method", "GET"}, {":authority", "iot.example.com"}, {":path", "/mqtt?a=b"}, {"x-device-token", "T"}}
	connect := &MQTTData{Username: "u", HasUsername: true, ClientID: "c", HasClientID: true}
	tests := []struct {
		name string
		in   Inputs
		want string
	}{
		{
			name: "HTTPS publish",
			in:   Inputs{Token: "T", SignatureVerified: true, ServerName: "iot.example.com", HTTP: true, Headers: hs, RawQuery: "a=b", ConnectionID: "id"},
			want: `{"token":"T","signatureVerified":true,"protocols":["tls","http"],"protocolData":{"tls":{"serverName":"iot.example.com"},"http":{"headers":{"x-device-token":"T","host":"iot.example.com"},"queryString":"?a=b"}},"connectionMetadata":{"id":"id"}}`,
		},
		{
			name: "WebSocket upgrade with credentials, no SNI",
			in:   Inputs{Token: "T", HTTP: true, WebSocket: true, Headers: append(hs, [2]string{"host", "h"})},
			want: `{"token":"T","signatureVerified":false,"protocols":["tls","http","mqtt"],"protocolData":{"http":{"headers":{"x-device-token":"T","host":"h"}}}}`,
		},
		{
			name: "WebSocket, credentials in the CONNECT",
			in:   Inputs{HTTP: true, WebSocket: true, Headers: hs[:2], Connect: connect},
			want: `{"signatureVerified":false,"protocols":["tls","http","mqtt"],"protocolData":{"http":{"headers":{"host":"iot.example.com"}},"mqtt":{"username":"u","clientId":"c"}}}`,
		},
		{
			name: "MQTT over TLS",
			in:   Inputs{Token: "T", ServerName: "s", Connect: connect, ConnectionID: "id"},
			want: `{"token":"T","signatureVerified":false,"protocols":["tls","mqtt"],"protocolData":{"tls":{"serverName":"s"},"mqtt":{"username":"u","clientId":"c"}},"connectionMetadata":{"id":"id"}}`,
		},
		{
			name: "no :authority and no host: no host header made up",
			in:   Inputs{HTTP: true, Headers: [][2]string{{":authority", ""}, {":authority", "second"}}},
			want: `{"signatureVerified":false,"protocols":["tls","http"],"protocolData":{"http":{"headers":{}}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvent(&tc.in)
			if got := string(e.AppendJSON(nil)); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
