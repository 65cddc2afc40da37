package host_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/iotauthz/iotauthz/host"
)

// The module's metrics as Envoy's /stats/prometheus and /stats show them
// (source/server/admin/prometheus_stats.cc: the wasmcustom namespace
// stripped, no envoy_ prefix, names sanitized, a name starting with a digit
// dropped, counters then gauges then histograms, Envoy's default buckets),
// read back with Prometheus' own text parser.
func TestStats_Prometheus(t *testing.T) {
	for _, profile := range []host.Profile{host.Envoy133, host.Envoy139} {
		t.Run(string(profile), func(t *testing.T) {
			p, _ := newPlugin(t, host.Config{Profile: profile})
			op := func(kind, name string, extra ...string) {
				h := append([]string{"x-kind", kind, "x-name", name}, extra...)
				if b := localBody(t, p.Worker(0), reqHeaders("metric-op", h...)); !strings.HasPrefix(b, "def=0") {
					t.Fatalf("%s: %s", name, b)
				}
			}
			op("0", "iot.connects", "x-inc", "3 4")
			op("0", "9lives", "x-inc", "1")
			op("1", "live-conns now", "x-inc", "5 -2")
			op("1", "below_zero", "x-inc", "-1")
			op("2", "lat_ms", "x-rec", "0 1 7 600000 5000000")
			op("2", "empty_hist")

			var out bytes.Buffer
			if err := p.WritePrometheus(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			want := strings.Join([]string{
				"# TYPE iot_connects counter", "iot_connects{} 7",
				"# TYPE ticks counter", "ticks{} 0", // the guest defines it at start
				"# TYPE below_zero gauge", "below_zero{} 18446744073709551615",
				"# TYPE live_conns_now gauge", "live_conns_now{} 3",
				"# TYPE empty_hist histogram",
			}, "\n")
			if !strings.HasPrefix(text, want) {
				t.Fatalf("prometheus output:\n%s\nwant prefix:\n%s", text, want)
			}
			if strings.Contains(text, "9lives") || strings.Contains(text, "wasmcustom") || strings.Contains(text, "envoy_") {
				t.Fatalf("a name Envoy drops or rewrites:\n%s", text)
			}
			for _, line := range []string{
				`lat_ms_bucket{le="0.5"} 1`, `lat_ms_bucket{le="1"} 2`, `lat_ms_bucket{le="5"} 2`, `lat_ms_bucket{le="10"} 3`,
				`lat_ms_bucket{le="300000"} 3`, `lat_ms_bucket{le="600000"} 4`, `lat_ms_bucket{le="3600000"} 4`,
				`lat_ms_bucket{le="+Inf"} 5`, `lat_ms_sum{} 5600008`, `lat_ms_count{} 5`,
				`empty_hist_bucket{le="+Inf"} 0`, `empty_hist_sum{} 0`,
			} {
				if !strings.Contains(text, line+"\n") {
					t.Fatalf("missing %q in\n%s", line, text)
				}
			}

			// What Prometheus scrapes.
			fams, err := (&expfmt.TextParser{}).TextToMetricFamilies(strings.NewReader(text))
			if err != nil {
				t.Fatalf("Prometheus' parser: %v\n%s", err, text)
			}
			if len(fams) != 6 {
				t.Fatalf("%d families: %v", len(fams), fams)
			}
			for name, typ := range map[string]dto.MetricType{
				"iot_connects": dto.MetricType_COUNTER, "live_conns_now": dto.MetricType_GAUGE,
				"below_zero": dto.MetricType_GAUGE, "lat_ms": dto.MetricType_HISTOGRAM, "empty_hist": dto.MetricType_HISTOGRAM,
			} {
				f := fams[name]
				if f == nil || f.GetType() != typ || !model.IsValidLegacyMetricName(name) {
					t.Fatalf("%s: %v", name, f)
				}
			}
			if v := fams["iot_connects"].Metric[0].GetCounter().GetValue(); v != 7 {
				t.Fatalf("iot_connects = %v", v)
			}
			h := fams["lat_ms"].Metric[0].GetHistogram()
			if h.GetSampleCount() != 5 || h.GetSampleSum() != 5600008 || len(h.Bucket) != 20 { // 19 bounds and +Inf
				t.Fatalf("lat_ms = %v", h)
			}

			// /stats: counters and gauges by full name, sorted.
			out.Reset()
			if err := p.WriteStats(&out); err != nil {
				t.Fatal(err)
			}
			wantStats := "wasmcustom.9lives: 1\nwasmcustom.below_zero: 18446744073709551615\n" +
				"wasmcustom.iot.connects: 7\nwasmcustom.live-conns now: 3\nwasmcustom.ticks: 0\n"
			if out.String() != wantStats {
				t.Fatalf("/stats\n got %q\nwant %q", out.String(), wantStats)
			}
		})
	}
}

// The admin handler a gateway mounts on its --admin listener.
func TestStats_AdminHandler(t *testing.T) {
	p, _ := newPlugin(t, host.Config{})
	if b := localBody(t, p.Worker(0), reqHeaders("metric-op", "x-kind", "0", "x-name", "iot.connects", "x-inc", "2")); b != "def=0 inc=0" {
		t.Fatal(b)
	}
	state := "PRE_INITIALIZING"
	var mu sync.Mutex
	srv := httptest.NewServer(p.AdminHandler(func() string { mu.Lock(); defer mu.Unlock(); return state }))
	defer srv.Close()
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("GET", "/ready"); code != 503 || body != "PRE_INITIALIZING\n" {
		t.Fatalf("/ready before: %d %q", code, body)
	}
	mu.Lock()
	state = "LIVE"
	mu.Unlock()
	if code, body := get("GET", "/ready"); code != 200 || body != "LIVE\n" {
		t.Fatalf("/ready: %d %q", code, body)
	}
	code, body := get("GET", "/stats/prometheus")
	fams, err := (&expfmt.TextParser{}).TextToMetricFamilies(strings.NewReader(body))
	if code != 200 || err != nil || fams["iot_connects"].GetMetric()[0].GetCounter().GetValue() != 2 {
		t.Fatalf("/stats/prometheus: %d %v\n%s", code, err, body)
	}
	if code, body := get("GET", "/stats"); code != 200 || !strings.Contains(body, "wasmcustom.iot.connects: 2\n") {
		t.Fatalf("/stats: %d %q", code, body)
	}
	if code, _ := get("GET", "/nope"); code != 404 {
		t.Fatalf("/nope: %d", code)
	}
	if code, _ := get("POST", "/stats"); code != 405 {
		t.Fatalf("POST /stats: %d", code)
	}
}

// Plugins in separate VMs show one stat per name, as Envoy's stat store
// keeps it: counters and gauges add up, histograms pool their samples; a
// plugin joined to another's VMs shares its stats and counts once.
func TestStats_Merged(t *testing.T) {
	a, _ := newPlugin(t, host.Config{})
	b, _ := newPlugin(t, host.Config{})
	joined, err := a.Join(context.Background(), host.Config{RootID: "second", PluginName: "second"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { joined.Close() })
	op := func(p *host.Plugin, kind, name string, extra ...string) {
		t.Helper()
		h := append([]string{"x-kind", kind, "x-name", name}, extra...)
		if body := localBody(t, p.Worker(0), reqHeaders("metric-op", h...)); !strings.HasPrefix(body, "def=0") {
			t.Fatalf("%s: %s", name, body)
		}
	}
	op(a, "0", "iot.connects", "x-inc", "2")
	op(b, "0", "iot.connects", "x-inc", "3")
	op(joined, "0", "iot.connects", "x-inc", "4") // a's stat
	op(a, "1", "open", "x-inc", "5")
	op(b, "1", "open", "x-inc", "-1")
	op(a, "2", "lat_ms", "x-rec", "1 700")
	op(b, "2", "lat_ms", "x-rec", "3")

	var out bytes.Buffer
	if err := host.WritePrometheusMerged(&out, a, b, joined); err != nil {
		t.Fatal(err)
	}
	fams, err := (&expfmt.TextParser{}).TextToMetricFamilies(strings.NewReader(out.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if v := fams["iot_connects"].GetMetric()[0].GetCounter().GetValue(); v != 9 {
		t.Errorf("iot_connects = %v, want 2+4 (a and the plugin joined to it) + 3 (b) = 9\n%s", v, out.String())
	}
	if v := fams["open"].GetMetric()[0].GetGauge().GetValue(); v != 4 {
		t.Errorf("open = %v, want 5-1 = 4", v)
	}
	h := fams["lat_ms"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 3 || h.GetSampleSum() != 704 {
		t.Errorf("lat_ms: %d samples, sum %v; want 3, 704", h.GetSampleCount(), h.GetSampleSum())
	}
	if v := fams["ticks"].GetMetric()[0].GetCounter().GetValue(); v != 0 || len(fams["ticks"].GetMetric()) != 1 {
		t.Errorf("ticks: %v", fams["ticks"])
	}
	out.Reset()
	if err := host.WriteStatsMerged(&out, a, b, joined); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wasmcustom.iot.connects: 9\nwasmcustom.open: 4\n") {
		t.Errorf("/stats merged:\n%s", out.String())
	}
	rec := httptest.NewRecorder()
	host.MergedAdminHandler(nil, a, b).ServeHTTP(rec, httptest.NewRequest("GET", "/stats/prometheus", nil))
	if !strings.Contains(rec.Body.String(), "iot_connects{} 9\n") {
		t.Errorf("MergedAdminHandler /stats/prometheus:\n%s", rec.Body.String())
	}
}

// Bucket rules as Envoy's stats_config.histogram_bucket_settings: the first
// prefix that matches the full name gives the bounds; other histograms keep
// Envoy's defaults; invalid bounds are refused as Envoy's validation does.
func TestStats_HistogramBuckets(t *testing.T) {
	p, _ := newPlugin(t, host.Config{})
	for _, bad := range [][]float64{nil, {0, 1}, {1, 1}, {-2}} {
		if err := p.SetHistogramBuckets(host.HistogramBuckets{Prefix: "wasmcustom.x", Buckets: bad}); err == nil {
			t.Errorf("buckets %v accepted", bad)
		}
	}
	if err := p.SetHistogramBuckets(
		host.HistogramBuckets{Prefix: "wasmcustom.lat", Buckets: []float64{10, 1, 5}},
		host.HistogramBuckets{Prefix: "wasmcustom.lat_ms", Buckets: []float64{1000}}, // shadowed by the first
	); err != nil {
		t.Fatal(err)
	}
	for _, op := range [][]string{{"x-name", "lat_ms", "x-rec", "1 7"}, {"x-name", "other", "x-rec", "7"}} {
		if b := localBody(t, p.Worker(0), reqHeaders("metric-op", append([]string{"x-kind", "2"}, op...)...)); !strings.HasPrefix(b, "def=0") {
			t.Fatal(b)
		}
	}
	var out bytes.Buffer
	if err := p.WritePrometheus(&out); err != nil {
		t.Fatal(err)
	}
	fams, err := (&expfmt.TextParser{}).TextToMetricFamilies(strings.NewReader(out.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	bounds := func(name string) (les []float64, counts []uint64) {
		for _, b := range fams[name].GetMetric()[0].GetHistogram().GetBucket() {
			les, counts = append(les, b.GetUpperBound()), append(counts, b.GetCumulativeCount())
		}
		return
	}
	if les, counts := bounds("lat_ms"); fmt.Sprint(les, counts) != "[1 5 10 +Inf] [1 1 2 2]" {
		t.Errorf("lat_ms buckets %v counts %v, want [1 5 10 +Inf] [1 1 2 2]\n%s", les, counts, out.String())
	}
	if les, _ := bounds("other"); len(les) != 20 || les[0] != 0.5 || les[18] != 3600000 {
		t.Errorf("other: buckets %v, want Envoy's 19 defaults and +Inf", les)
	}
}
