package authorizer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const sni = "iot.example.com"

// goldenEvents are the events of the plugin's main cases; each has testdata/<name>.golden.
var goldenEvents = map[string]*Event{
	// HTTPS publish, token and signature in headers.
	"http_header_token": {
		Token: "eyJ0b2tlbiI6MX0", SignatureVerified: true, Protocols: []string{"tls", "http"},
		TLS: &TLSData{ServerName: sni},
		HTTP: &HTTPData{Headers: [][2]string{
			{":method", "POST"}, {":path", "/topics/d%2F1?qos=1"}, {":authority", sni}, {"host", sni},
			{"x-amz-customauthorizer-name", "tokens"}, {"x-amz-customauthorizer-signature", "ab+c/d=="},
			{"x-device-token", "eyJ0b2tlbiI6MX0"}, {"content-type", "application/json"},
		}, QueryString: "?qos=1"},
		ConnectionID: "6f1c1b02-7cf3-4b2a-9a0e-2f6f9d1c8e11",
	},
	// HTTPS publish, credentials in the query string (which keeps its '?').
	"http_query_token": {
		Token: "tok+1", SignatureVerified: true, Protocols: []string{"tls", "http"},
		TLS: &TLSData{ServerName: sni},
		HTTP: &HTTPData{Headers: [][2]string{{":method", "POST"}, {"host", sni}},
			QueryString: "?qos=0&x-amz-customauthorizer-name=tokens&x-amz-customauthorizer-signature=ab%2Bc%2Fd%3D%3D&x-device-token=tok%2B1"},
		ConnectionID: "0d6b6e5c-9a43-4f57-8a3d-0c7b1f2e3a44",
	},
	// Signing disabled: signatureVerified false, no query string, repeated headers joined.
	"http_no_signature": {
		Token: "plain", SignatureVerified: false, Protocols: []string{"tls", "http"},
		TLS:          &TLSData{ServerName: sni},
		HTTP:         &HTTPData{Headers: [][2]string{{"host", sni}, {"x-device-token", "plain"}, {"accept", "a"}, {"accept", "b"}}},
		ConnectionID: "11111111-2222-4333-8444-555555555555",
	},
	// MQTT over WebSocket: authenticated at the upgrade; the MQTT layer is listed.
	"wss_upgrade": {
		Token: "wsstoken", SignatureVerified: true, Protocols: []string{"tls", "http", "mqtt"},
		TLS: &TLSData{ServerName: sni},
		HTTP: &HTTPData{Headers: [][2]string{
			{":method", "GET"}, {":path", "/mqtt"}, {"host", sni}, {"upgrade", "websocket"}, {"connection", "Upgrade"},
			{"sec-websocket-protocol", "mqtt"}, {"x-amz-customauthorizer-name", "tokens"}, {"x-device-token", "wsstoken"},
		}},
		ConnectionID: "a0b1c2d3-e4f5-4a6b-8c7d-8e9fa0b1c2d3",
	},
	// MQTT over TLS: credentials in the CONNECT username, password base64-encoded.
	"mqtt_tls": {
		Token: "mqtttoken", SignatureVerified: true, Protocols: []string{"tls", "mqtt"},
		TLS: &TLSData{ServerName: sni},
		MQTT: &MQTTData{
			Username: "dev?x-amz-customauthorizer-name=tokens&x-amz-customauthorizer-signature=ab%2Bc&x-device-token=mqtttoken", HasUsername: true,
			Password: []byte("secret\x00\xff"), HasPassword: true,
			ClientID: "sensor-1", HasClientID: true,
		},
		ConnectionID: "deadbeef-0000-4000-8000-000000000001",
	},
	// MQTT without password or client id: those keys are left out.
	"mqtt_tls_minimal": {
		SignatureVerified: false, Protocols: []string{"tls", "mqtt"},
		TLS:  &TLSData{},
		MQTT: &MQTTData{Username: "u", HasUsername: true},
	},
	// Escaping: quotes, backslashes, control characters, non-ASCII and invalid UTF-8.
	"escaping": {
		Token: "a\"b\\c\nd\te\x01\x1f\u00e9\u2028\xff\xc3", Protocols: []string{"tls", "http"},
		HTTP: &HTTPData{Headers: [][2]string{{"x-h\"", "v\r\n"}}, QueryString: "?q=</script>&x=%00"},
	},
}

func TestEvent_AppendJSON_Golden(t *testing.T) {
	for name, ev := range goldenEvents {
		t.Run(name, func(t *testing.T) {
			got := ev.AppendJSON(nil)
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// The decoded event has the values that went in (encoding/json as the reference decoder).
func TestEvent_AppendJSON_RoundTrip(t *testing.T) {
	type wire struct {
		Token             *string  `json:"token"`
		SignatureVerified bool     `json:"signatureVerified"`
		Protocols         []string `json:"protocols"`
		ProtocolData      *struct {
			TLS *struct {
				ServerName *string `json:"serverName"`
			} `json:"tls"`
			HTTP *struct {
				Headers     map[string]string `json:"headers"`
				QueryString *string           `json:"queryString"`
			} `json:"http"`
			MQTT *struct {
				Username *string `json:"username"`
				Password []byte  `json:"password"`
				ClientID *string `json:"clientId"`
			} `json:"mqtt"`
		} `json:"protocolData"`
		ConnectionMetadata *struct {
			ID string `json:"id"`
		} `json:"connectionMetadata"`
	}
	for name, ev := range goldenEvents {
		var w wire
		dec := json.NewDecoder(bytes.NewReader(ev.AppendJSON(nil)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "escaping" {
			if *w.Token != "a\"b\\c\nd\te\x01\x1f\u00e9\u2028\ufffd\ufffd" {
				t.Fatalf("escaping: token %q", *w.Token)
			}
			continue
		}
		if (ev.Token != "") != (w.Token != nil) || w.Token != nil && *w.Token != ev.Token {
			t.Fatalf("%s: token", name)
		}
		if w.SignatureVerified != ev.SignatureVerified || len(w.Protocols) != len(ev.Protocols) {
			t.Fatalf("%s: signatureVerified/protocols", name)
		}
		if ev.HTTP != nil {
			h := w.ProtocolData.HTTP
			for _, kv := range ev.HTTP.Headers {
				if _, ok := h.Headers[kv[0]]; !ok {
					t.Fatalf("%s: header %q missing", name, kv[0])
				}
			}
			if (ev.HTTP.QueryString != "") != (h.QueryString != nil) {
				t.Fatalf("%s: queryString", name)
			}
		} else if w.ProtocolData.HTTP != nil {
			t.Fatalf("%s: unexpected http", name)
		}
		if m := ev.MQTT; m != nil {
			wm := w.ProtocolData.MQTT
			if m.HasPassword && !bytes.Equal(wm.Password, m.Password) || !m.HasPassword && wm.Password != nil {
				t.Fatalf("%s: password", name)
			}
			if m.HasClientID != (wm.ClientID != nil) || m.HasUsername != (wm.Username != nil) {
				t.Fatalf("%s: clientId/username presence", name)
			}
		}
		if (ev.ConnectionID != "") != (w.ConnectionMetadata != nil) {
			t.Fatalf("%s: connectionMetadata", name)
		}
	}
	if got := string((&Event{}).AppendJSON(nil)); got != `{"signatureVerified":false,"protocols":[]}` {
		t.Fatalf("empty event: %s", got)
	}
}

func BenchmarkEvent_AppendJSON(b *testing.B) {
	ev := goldenEvents["http_header_token"]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = ev.AppendJSON(buf[:0])
	}
}
