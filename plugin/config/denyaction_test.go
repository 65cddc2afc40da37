//go:build !wasm

package config

import (
	"strings"
	"testing"
)

// TestParse_DenyAction: mqtt.denyAction takes "auto" (the default: AWS's behaviour per protocol
// version), "disconnect" and "reject" as explicit overrides; anything else is refused.
func TestParse_DenyAction(t *testing.T) {
	for _, c := range []struct {
		value any // nil: the key is absent
		want  DenyAction
		err   string
	}{
		{nil, DenyAuto, ""},
		{"auto", DenyAuto, ""},
		{"disconnect", DenyDisconnect, ""},
		{"reject", DenyReject, ""},
		{"Reject", "", `mqtt.denyAction: must be one of "auto", "disconnect", "reject", got "Reject"`},
		{"", "", `mqtt.denyAction: must be one of "auto", "disconnect", "reject", got ""`},
		{true, "", "mqtt.denyAction"},
	} {
		m := base(t)
		delete(m["mqtt"].(obj), "denyAction")
		if c.value != nil {
			m["mqtt"].(obj)["denyAction"] = c.value
		}
		got, err := Parse(marshal(t, m))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("%v: error %v, want %q", c.value, err, c.err)
			}
		case err != nil:
			t.Fatalf("%v: %v", c.value, err)
		case got.MQTT.DenyAction != c.want:
			t.Fatalf("%v: %q, want %q", c.value, got.MQTT.DenyAction, c.want)
		}
	}
}
