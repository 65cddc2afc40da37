package gateway_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/iotauthz/iotauthz/host"
	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/host/gateway/gatewaytest"
	"github.com/iotauthz/iotauthz/internal/promscrape"
)

// The admin listener after a demo-like run: /stats/prometheus is what Prometheus' own text parser
// reads, with the plugin's metric families, their types and the run's counts; /stats is Envoy's
// "wasmcustom.<name>: value" text; /ready is LIVE.
func TestGateway_AdminAfterDemoRun(t *testing.T) {
	s := startDemo(t, demostack.Options{})
	if _, err := s.Traffic(); err != nil {
		t.Fatal(err)
	}
	fams := promscrape.Scrape(t, s.Admin)
	want := map[string]dto.MetricType{
		"iotauthz_decisions_allowed":     dto.MetricType_COUNTER,
		"iotauthz_decisions_denied":      dto.MetricType_COUNTER,
		"iotauthz_authorizer_calls":      dto.MetricType_COUNTER,
		"iotauthz_authorizer_errors":     dto.MetricType_COUNTER,
		"iotauthz_cache_hits":            dto.MetricType_COUNTER,
		"iotauthz_cache_misses":          dto.MetricType_COUNTER,
		"iotauthz_cache_shared_hits":     dto.MetricType_COUNTER,
		"iotauthz_cache_stale_served":    dto.MetricType_COUNTER,
		"iotauthz_signature_failures":    dto.MetricType_COUNTER,
		"iotauthz_mqtt_denied_connect":   dto.MetricType_COUNTER,
		"iotauthz_mqtt_denied_publish":   dto.MetricType_COUNTER,
		"iotauthz_mqtt_denied_subscribe": dto.MetricType_COUNTER,
		"iotauthz_mqtt_denied_receive":   dto.MetricType_COUNTER,
		"iotauthz_mqtt_disconnects":      dto.MetricType_COUNTER,
		"iotauthz_authorizer_latency_ms": dto.MetricType_HISTOGRAM,
		"iotauthz_mqtt_connections":      dto.MetricType_GAUGE,
	}
	for name, typ := range want {
		f, ok := fams[name]
		if !ok {
			t.Errorf("/stats/prometheus has no family %s", name)
			continue
		}
		if f.GetType() != typ || len(f.GetMetric()) != 1 {
			t.Errorf("%s: type %v with %d series, want %v with 1", name, f.GetType(), len(f.GetMetric()), typ)
		}
	}
	if len(fams) != len(want) {
		t.Errorf("/stats/prometheus has %d families, want %d", len(fams), len(want))
	}
	v := values(fams)
	// Denied: the CONNECT with a stolen token, a PUBLISH to secret/plans over TLS and over WSS,
	// the HTTPS publish to secret/plans.
	for name, n := range map[string]float64{
		"iotauthz_decisions_denied":    4,
		"iotauthz_mqtt_denied_connect": 1,
		"iotauthz_mqtt_denied_publish": 2,
		"iotauthz_mqtt_connections":    0, // every MQTT connection has ended
	} {
		if v[name] != n {
			t.Errorf("%s = %v, want %v", name, v[name], n)
		}
	}
	if v["iotauthz_authorizer_calls"] < 4 || v["iotauthz_authorizer_latency_ms_count"] != v["iotauthz_authorizer_calls"] {
		t.Errorf("authorizer calls %v, latency samples %v: want at least 4 calls (three CONNECTs, an HTTPS publish), one sample each",
			v["iotauthz_authorizer_calls"], v["iotauthz_authorizer_latency_ms_count"])
	}
	// Allowed: over TLS and over WSS a CONNECT, a SUBSCRIBE, a PUBLISH and its delivery back
	// (iot:Receive); two HTTPS publishes.
	if v["iotauthz_decisions_allowed"] != 10 {
		t.Errorf("iotauthz_decisions_allowed = %v, want 10", v["iotauthz_decisions_allowed"])
	}
	if v["iotauthz_cache_hits"] < 1 {
		t.Errorf("iotauthz_cache_hits = %v, want the second HTTPS publish on the kept-alive connection at least", v["iotauthz_cache_hits"])
	}
	h := fams["iotauthz_authorizer_latency_ms"].GetMetric()[0].GetHistogram()
	if b := h.GetBucket(); len(b) == 0 || b[len(b)-1].GetCumulativeCount() > h.GetSampleCount() {
		t.Errorf("latency histogram buckets %v for %d samples", b, h.GetSampleCount())
	}

	code, body, err := s.Admin("/stats")
	if err != nil || code != 200 || !strings.Contains(string(body), "wasmcustom.iotauthz.decisions.denied: 4\n") {
		t.Errorf("GET /stats: %d %v\n%s", code, err, body)
	}
	code, body, err = s.Admin("/ready")
	if err != nil || code != 200 || string(body) != "LIVE\n" {
		t.Errorf("GET /ready: %d %q %v, want 200 LIVE", code, body, err)
	}
	if code, _, _ := s.Admin("/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", code)
	}
}

// /ready is 503 until a listener is served and once Close began, as Envoy's /ready is 503 until
// the server is LIVE.
func TestGateway_ReadyFollowsListeners(t *testing.T) {
	pki, err := gatewaytest.NewPKI("localhost")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(context.Background(), gateway.Config{Module: passthroughWasm, PluginConfig: []byte("{}"),
		TLS: pki.ServerTLS(), Broker: "tcp://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ready := func() (int, string) {
		rec := httptest.NewRecorder()
		gw.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/ready", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := ready(); code != 503 || body != "INITIALIZING\n" {
		t.Errorf("before Serve: /ready %d %q, want 503 INITIALIZING", code, body)
	}
	ln, err := newLoopbackListener()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()
	waitFor(t, func() bool { c, _ := ready(); return c == 200 }, "/ready 200 while serving")
	if code, body := ready(); code != 200 || body != "LIVE\n" {
		t.Errorf("serving: /ready %d %q, want 200 LIVE", code, body)
	}
	gw.Close()
	if err := <-served; err != gateway.ErrServerClosed {
		t.Errorf("Serve after Close: %v", err)
	}
	if code, body := ready(); code != 503 || body != "DRAINING\n" {
		t.Errorf("after Close: /ready %d %q, want 503 DRAINING", code, body)
	}
	// ServeAdmin after Close refuses at once.
	aln, err := newLoopbackListener()
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.ServeAdmin(aln); err != gateway.ErrServerClosed {
		t.Errorf("ServeAdmin after Close: %v, want ErrServerClosed", err)
	}
}

func newLoopbackListener() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5s", what)
		}
	}
}

// An unknown Config.Filters or invalid histogram bounds are refused by New, with nothing left
// running.
func TestGateway_FiltersAndBucketsChecked(t *testing.T) {
	pki, err := gatewaytest.NewPKI("localhost")
	if err != nil {
		t.Fatal(err)
	}
	base := gateway.Config{Module: passthroughWasm, PluginConfig: []byte("{}"), TLS: pki.ServerTLS(), Broker: "tcp://127.0.0.1:1"}
	bad := base
	bad.Filters = gateway.SeparateVMs + 1
	if gw, err := gateway.New(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "Config.Filters") {
		if gw != nil {
			gw.Close()
		}
		t.Errorf("Filters %d: %v, want an error naming Config.Filters", bad.Filters, err)
	}
	bad = base
	bad.HistogramBuckets = []host.HistogramBuckets{{Prefix: "wasmcustom.", Buckets: []float64{5, 0}}}
	if gw, err := gateway.New(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "HistogramBuckets") {
		if gw != nil {
			gw.Close()
		}
		t.Errorf("bounds {5, 0}: %v, want an error naming HistogramBuckets", err)
	}
	for _, m := range []gateway.FilterMode{gateway.SharedVM, gateway.SharedRootContext, gateway.SeparateVMs} {
		c := base
		c.Filters = m
		gw, err := gateway.New(context.Background(), c)
		if err != nil {
			t.Fatalf("Filters %d: %v", m, err)
		}
		if same := gw.Plugin() == gw.HTTPPlugin(); same != (m == gateway.SharedRootContext) {
			t.Errorf("Filters %d: HTTP filter's plugin is the network filter's: %v", m, same)
		}
		gw.Close()
	}
}
