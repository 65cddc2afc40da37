package gateway_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/iotauthz/iotauthz/host/gateway/demostack"
)

var (
	pluginOnce sync.Once
	pluginWasm []byte
	pluginErr  error
)

// realPlugin is the plugin built from ../../plugin, once per test binary.
func realPlugin(t *testing.T) []byte {
	t.Helper()
	pluginOnce.Do(func() { pluginWasm, pluginErr = demostack.BuildPlugin("../../plugin") })
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginWasm
}

func startDemo(t *testing.T, o demostack.Options) *demostack.Stack {
	t.Helper()
	s, err := demostack.Start(realPlugin(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// scrape GETs /stats/prometheus and parses it with Prometheus' text parser.
func scrape(t *testing.T, s *demostack.Stack) map[string]*dto.MetricFamily {
	t.Helper()
	code, body, err := s.Admin("/stats/prometheus")
	if err != nil || code != 200 {
		t.Fatalf("GET /stats/prometheus: %d %v", code, err)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus' text parser refuses /stats/prometheus: %v\n%s", err, body)
	}
	return fams
}

// values flattens the families: counters and gauges by name, histograms by name_count and one
// entry per bucket (the sums hold latencies, which differ from run to run).
func values(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[name] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// decisions are the plugin's decision log lines (JSON objects), with what differs from run to
// run (times, ids, latencies, addresses) left out, sorted.
func decisions(t *testing.T, s *demostack.Stack) []string {
	t.Helper()
	var out []string
	for _, e := range s.Logs() {
		i := strings.IndexByte(e.Message, '{')
		if i < 0 {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(e.Message[i:]), &m) != nil {
			continue
		}
		for k := range m {
			switch strings.ToLower(k) {
			case "timestamp", "time", "traceid", "connectionid", "sessionid", "latencyms", "authorizerlatencyms",
				"sourceip", "sourceport", "durationms", "requestid":
				delete(m, k)
			}
		}
		b, _ := json.Marshal(m)
		out = append(out, e.Message[:i]+string(b))
	}
	sort.Strings(out)
	return out
}

// The acceptance of issue 15 for the gateway: iotauthz runs as envoy/envoy.yaml configures it,
// its network filter and its HTTP filter in one VM per worker (same vm_id and code, two root
// contexts), with MQTT over TLS, MQTT over WSS and HTTPS publishes at once; every decision and
// metric is as with separate VMs.
func TestGateway_SharedVMAsSeparateVMs(t *testing.T) {
	shared := startDemo(t, demostack.Options{})
	separate := startDemo(t, demostack.Options{SeparateVMs: true})

	run := func(s *demostack.Stack) []demostack.Outcome {
		out, err := s.Traffic()
		if err != nil {
			t.Fatalf("traffic: %v\n%v", err, out)
		}
		return out
	}
	sharedOut, separateOut := run(shared), run(separate)
	if !reflect.DeepEqual(sharedOut, separateOut) {
		t.Errorf("clients saw\n%v\nwith one shared VM, and\n%v\nwith separate VMs", sharedOut, separateOut)
	}
	t.Logf("clients: %v", sharedOut)

	// One VM: the network filter's plugin counts the HTTP filter's decisions (one stats scope);
	// with separate VMs it counts only its own.
	denied := func(s *demostack.Stack) int64 {
		v, _ := s.GW.Plugin().Metric("wasmcustom.iotauthz.decisions.denied")
		return v
	}
	httpDenied, _ := separate.GW.HTTPPlugin().Metric("wasmcustom.iotauthz.decisions.denied")
	if httpDenied == 0 || denied(shared) != denied(separate)+httpDenied {
		t.Errorf("decisions.denied: shared VM's network plugin %d, separate network %d + HTTP %d: the shared VM does not hold both filters",
			denied(shared), denied(separate), httpDenied)
	}

	sv, pv := values(scrape(t, shared)), values(scrape(t, separate))
	if !reflect.DeepEqual(sv, pv) {
		t.Errorf("metrics with one shared VM\n%v\nwith separate VMs\n%v", sv, pv)
	}
	t.Logf("metrics: %v", sv)

	sd, pd := decisions(t, shared), decisions(t, separate)
	if len(sd) == 0 {
		t.Fatalf("no decision log lines; plugin logs: %v", shared.Logs())
	}
	if !reflect.DeepEqual(sd, pd) {
		t.Errorf("decisions with one shared VM:\n%s\nwith separate VMs:\n%s", strings.Join(sd, "\n"), strings.Join(pd, "\n"))
	}
}
