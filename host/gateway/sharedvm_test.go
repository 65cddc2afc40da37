package gateway_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/internal/promscrape"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

func startDemo(t *testing.T, o demostack.Options) *demostack.Stack {
	t.Helper()
	s, err := demostack.Start(wasmbuild.Module(t, wasmbuild.Plugin), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
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

// The acceptance of issue 15 for the gateway: iotauthz runs with its network filter and its HTTP
// filter in one VM per worker, with one root context for both (gateway.SharedRootContext, what
// Envoy does for envoy.yaml, whose two filters' plugin keys are equal) or two
// (gateway.SharedVM), with MQTT over TLS, MQTT over WSS and HTTPS publishes at once; every
// decision and metric is as with separate VMs.
func TestGateway_SharedVMAsSeparateVMs(t *testing.T) {
	modes := []struct {
		name string
		mode gateway.FilterMode
	}{{"shared VM", gateway.SharedVM}, {"shared root context", gateway.SharedRootContext}, {"separate VMs", gateway.SeparateVMs}}
	stacks := make([]*demostack.Stack, len(modes))
	outs := make([][]demostack.Outcome, len(modes))
	for i, m := range modes {
		stacks[i] = startDemo(t, demostack.Options{Filters: m.mode})
		out, err := stacks[i].Traffic()
		if err != nil {
			t.Fatalf("%s: traffic: %v\n%v", m.name, err, out)
		}
		outs[i] = out
	}
	t.Logf("clients: %v", outs[0])
	shared, separate := stacks[0], stacks[2]

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
	if shared.GW.HTTPPlugin() == shared.GW.Plugin() || stacks[1].GW.HTTPPlugin() != stacks[1].GW.Plugin() {
		t.Error("SharedVM must give the HTTP filter a plugin (root context) of its own, SharedRootContext the network filter's")
	}

	metrics0 := values(promscrape.Scrape(t, shared.Admin))
	decisions0 := decisions(t, shared)
	if len(decisions0) == 0 {
		t.Fatalf("no decision log lines; plugin logs: %v", shared.Logs())
	}
	t.Logf("metrics: %v", metrics0)
	for i := 1; i < len(modes); i++ {
		if !reflect.DeepEqual(outs[0], outs[i]) {
			t.Errorf("clients saw\n%v\nwith %s, and\n%v\nwith %s", outs[0], modes[0].name, outs[i], modes[i].name)
		}
		if m := values(promscrape.Scrape(t, stacks[i].Admin)); !reflect.DeepEqual(metrics0, m) {
			t.Errorf("metrics with %s\n%v\nwith %s\n%v", modes[0].name, metrics0, modes[i].name, m)
		}
		if d := decisions(t, stacks[i]); !reflect.DeepEqual(decisions0, d) {
			t.Errorf("decisions with %s:\n%s\nwith %s:\n%s", modes[0].name, strings.Join(decisions0, "\n"), modes[i].name, strings.Join(d, "\n"))
		}
	}
}
