package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startMosquitto runs a real mosquitto on a free loopback port.
func startMosquitto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
			t.Skip("mosquitto not installed (make deps installs it)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	if _, err := exec.LookPath("mosquitto_sub"); err != nil {
		t.Skip("mosquitto_sub not installed (make deps installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port)), 0o644)
	cmd := exec.Command(bin, "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not start: %s", out.String())
		}
	}
}

func TestReceiver_PublishesToBroker(t *testing.T) {
	addr := startMosquitto(t)
	host, port, _ := net.SplitHostPort(addr)
	rc := &receiver{broker: addr}
	ts := httptest.NewServer(rc)
	defer ts.Close()

	for _, tc := range []struct {
		name, path, payload, topic string
		qos                        int
		retain                     bool
	}{
		{"qos0", "/topics/devices/d1/temp", "21.5", "devices/d1/temp", 0, false},
		{"qos1 retained, encoded topic", "/topics/devices%2Fd1%2Fstate?qos=1&retain=true", "on", "devices/d1/state", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := exec.Command("mosquitto_sub", "-h", host, "-p", port, "-t", tc.topic, "-C", "1", "-W", "5", "-v")
			var out bytes.Buffer
			sub.Stdout = &out
			if err := sub.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // let the subscription settle before publishing
			resp, err := http.Post(ts.URL+tc.path, "application/octet-stream", strings.NewReader(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 200 || body["message"] != "OK" || len(body["traceId"]) != 36 {
				t.Fatalf("answer %d %v", resp.StatusCode, body)
			}
			if err := sub.Wait(); err != nil {
				t.Fatalf("mosquitto_sub: %v (%q)", err, out.String())
			}
			if got := strings.TrimSpace(out.String()); got != tc.topic+" "+tc.payload {
				t.Fatalf("subscriber got %q", got)
			}
		})
	}

	// The retained message is there for a later subscriber.
	out, err := exec.Command("mosquitto_sub", "-h", host, "-p", port, "-t", "devices/d1/state", "-C", "1", "-W", "1", "-R").Output()
	if err == nil && len(out) > 0 {
		t.Errorf("-R skips retained messages, yet got %q", out)
	}
	out, err = exec.Command("mosquitto_sub", "-h", host, "-p", port, "-t", "devices/d1/state", "-C", "1", "-W", "3").Output()
	if err != nil || strings.TrimSpace(string(out)) != "on" {
		t.Errorf("retained message: %q %v", out, err)
	}

	resp, _ := http.Get(ts.URL + "/received")
	var got []message
	json.NewDecoder(resp.Body).Decode(&got)
	if len(got) != 2 || got[1] != (message{Topic: "devices/d1/state", Payload: "on", QoS: 1, Retain: true}) {
		t.Errorf("/received = %+v", got)
	}
}

func TestReceiver_BadRequests(t *testing.T) {
	ts := httptest.NewServer(&receiver{})
	defer ts.Close()
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/topics/a", 405},
		{"POST", "/topics/", 400},
		{"POST", "/topics/a%2F%23", 400},
		{"POST", "/topics/a?qos=2", 400},
		{"POST", "/topics/a?retain=maybe", 400},
		{"POST", "/elsewhere", 404},
		{"POST", "/topics/a?qos=1&retain=TRUE", 200},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
		}
	}
	// Without a broker the publish is only recorded.
	big := bytes.Repeat([]byte("x"), maxPayload+1)
	resp, _ := http.Post(ts.URL+"/topics/a", "", bytes.NewReader(big))
	if resp.StatusCode != 413 {
		t.Errorf("oversize payload: %d", resp.StatusCode)
	}
}

func TestPublishMQTT_BrokerDown(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if err := publishMQTT(addr, "x", message{Topic: "t"}, time.Second); err == nil {
		t.Fatal("publish to a closed port succeeded")
	}
	rc := &receiver{broker: addr}
	ts := httptest.NewServer(rc)
	defer ts.Close()
	resp, _ := http.Post(ts.URL+"/topics/a", "", strings.NewReader("x"))
	if resp.StatusCode != 500 {
		t.Errorf("broker down: %d, want 500", resp.StatusCode)
	}
}
