package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// iotauthz gateway --admin serves the plugin's metrics as Envoy's admin does: /stats/prometheus
// is what Prometheus' text parser reads (every plugin metric, its type), /stats is Envoy's text,
// /ready is LIVE while the gateway serves; SIGINT (ctx) stops both listeners.
func TestGateway_AdminFlag(t *testing.T) {
	module := wasmbuild.ModuleOrSkip(t, wasmbuild.Plugin)
	dir := t.TempDir()
	pki, err := gatewaytest.NewPKI("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	_, cert, key, err := pki.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := gatewaytest.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	wasm, config := filepath.Join(dir, "iotauthz.wasm"), filepath.Join(dir, "plugin.json")
	if err := os.WriteFile(wasm, module, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, demostack.PluginConfig(sk.PublicPEM), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := make(chan string, 1)
	var stdout, stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- serveGateway(ctx, []string{"--wasm", wasm, "--config", config, "--cert", cert, "--key", key,
			"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--broker", "tcp://127.0.0.1:1",
			"--cluster", "authorizer=http://127.0.0.1:1"}, &stdout, &stderr, func(_, a string) { admin <- a })
	}()
	var base string
	select {
	case a := <-admin:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("iotauthz gateway exited %d\n%s%s", c, stdout.String(), stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("iotauthz gateway not listening after 30s")
	}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}

	st, ct, body := get("/stats/prometheus")
	if st != 200 || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET /stats/prometheus: %d %q", st, ct)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus' text parser: %v\n%s", err, body)
	}
	types := map[dto.MetricType]int{}
	for _, f := range fams {
		types[f.GetType()]++
	}
	if len(fams) != 16 || types[dto.MetricType_COUNTER] != 14 || types[dto.MetricType_GAUGE] != 1 || types[dto.MetricType_HISTOGRAM] != 1 {
		t.Errorf("/stats/prometheus: %d families %v, want the plugin's 14 counters, 1 gauge, 1 histogram\n%s", len(fams), types, body)
	}
	if f := fams["iotauthz_decisions_allowed"]; f == nil || f.GetType() != dto.MetricType_COUNTER || f.GetMetric()[0].GetCounter().GetValue() != 0 {
		t.Errorf("iotauthz_decisions_allowed: %v, want a counter at 0", f)
	}
	if st, _, body := get("/stats"); st != 200 || !strings.Contains(body, "wasmcustom.iotauthz.decisions.allowed: 0\n") {
		t.Errorf("GET /stats: %d\n%s", st, body)
	}
	if st, _, body := get("/ready"); st != 200 || body != "LIVE\n" {
		t.Errorf("GET /ready: %d %q, want 200 LIVE", st, body)
	}
	if !strings.Contains(stdout.String(), "admin on http://"+strings.TrimPrefix(base, "http://")) {
		t.Errorf("stdout does not name the admin listener:\n%s", stdout.String())
	}

	cancel()
	waitExit(t, code, 30*time.Second, &stderr)
	if _, err := http.Get(base + "/ready"); err == nil {
		t.Error("the admin listener still answers after the gateway stopped")
	}
}
