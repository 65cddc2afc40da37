package host

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/host/internal/abi"
)

// The module's metrics as Envoy's admin endpoints show them.
//
// Envoy registers "wasmcustom" as a custom stat namespace for Wasm metrics
// (source/extensions/common/wasm/wasm.cc), so /stats/prometheus shows them
// without the "envoy_" prefix and without the namespace: the rest of the
// name with every character outside [a-zA-Z0-9_] replaced by "_", dropped
// if the result does not start with a letter or "_"
// (PrometheusStatsFormatter::metricName and sanitizeName in
// source/server/admin/prometheus_stats.cc). Counters first, then gauges,
// then histograms, each sorted by name; a metric without tags prints "{}"
// (statsAsPrometheus, generateNumericOutput, generateHistogramOutput).

// defaultBuckets are Envoy's default histogram bucket bounds
// (Stats::HistogramSettingsImpl::defaultBuckets).
var defaultBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000}

// promName is the Prometheus name of a wasmcustom stat ("" when Envoy drops it).
func promName(name string) string {
	rest, ok := strings.CutPrefix(name, "wasmcustom.")
	if !ok {
		return ""
	}
	b := []byte(rest)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		return ""
	}
	return string(b)
}

// promFloat formats a double as Envoy's fmt "{:.32g}" does for bucket
// bounds and sums (generateHistogramOutput in prometheus_stats.cc).
func promFloat(v float64) string { return strconv.FormatFloat(v, 'g', 32, 64) }

// HistogramBuckets is one of Envoy's stats_config.histogram_bucket_settings
// with a prefix match: the histograms whose full name ("wasmcustom.<name>")
// starts with Prefix have Buckets as their bounds instead of Envoy's
// defaults. The first rule that matches applies, as in Envoy
// (Stats::HistogramSettingsImpl::buckets).
type HistogramBuckets struct {
	Prefix  string
	Buckets []float64
}

// SetHistogramBuckets sets the bucket rules of the plugin's stats scope (the
// plugins sharing its VMs included), as envoy.yaml's stats_config does for
// the process. Each rule needs at least one bound, each bound above zero and
// unique (Envoy's validation of the field); they are sorted as Envoy sorts
// them. No rule: Envoy's default bounds.
func (p *Plugin) SetHistogramBuckets(rules ...HistogramBuckets) error {
	out := make([]HistogramBuckets, 0, len(rules))
	for i, r := range rules {
		if len(r.Buckets) == 0 {
			return fmt.Errorf("host: histogram bucket rule %d (%q): no buckets", i, r.Prefix)
		}
		b := append([]float64(nil), r.Buckets...)
		sort.Float64s(b)
		for j, v := range b {
			if !(v > 0) || j > 0 && v == b[j-1] {
				return fmt.Errorf("host: histogram bucket rule %d (%q): bounds must be unique and above 0, got %v", i, r.Prefix, r.Buckets)
			}
		}
		out = append(out, HistogramBuckets{Prefix: r.Prefix, Buckets: b})
	}
	p.metrics.mu.Lock()
	p.metrics.buckets = out
	p.metrics.mu.Unlock()
	return nil
}

type statSnapshot struct {
	name    string
	kind    int
	value   int64
	hist    []uint64
	buckets []float64 // histograms: the bounds
}

func (s *metricStore) snapshot() []statSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]statSnapshot, 0, len(s.byName))
	for n, m := range s.byName {
		st := statSnapshot{name: n, kind: m.kind, value: m.value, hist: append([]uint64(nil), m.hist...)}
		if m.kind == abi.MetricHistogram {
			st.buckets = defaultBuckets
			for _, r := range s.buckets {
				if strings.HasPrefix(n, r.Prefix) {
					st.buckets = r.Buckets
					break
				}
			}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// WritePrometheus writes the plugin's metrics as Envoy's /stats/prometheus
// shows them (text format 0.0.4). Counter and gauge values are Envoy's
// unsigned 64-bit values (a gauge below zero wraps, as Envoy's does).
// Histogram buckets are cumulative counts of the recorded values at
// Envoy's default bounds (or SetHistogramBuckets'), with their sum and count; Envoy computes them
// from an approximated histogram, so a value close to a bound may fall in
// the next bucket there.
func (p *Plugin) WritePrometheus(w io.Writer) error {
	return writePrometheus(w, p.metrics.snapshot())
}

// WritePrometheusMerged writes the metrics of several plugins as one
// Envoy's /stats/prometheus shows them. Envoy's stat store keeps one stat
// per name, so plugins in different VMs that define the same name add to
// one counter or gauge (a gauge is the sum of what each plugin's VMs
// added, or of what each last set) and record into one histogram. Plugins
// sharing VMs (Join) share their stats and count once.
func WritePrometheusMerged(w io.Writer, plugins ...*Plugin) error {
	return writePrometheus(w, mergedSnapshot(plugins))
}

// WriteStatsMerged is WriteStats for several plugins, merged as
// WritePrometheusMerged merges them.
func WriteStatsMerged(w io.Writer, plugins ...*Plugin) error {
	return writeStats(w, mergedSnapshot(plugins))
}

// mergedSnapshot is the plugins' stats by name, each stats scope once.
func mergedSnapshot(plugins []*Plugin) []statSnapshot {
	seen := map[*metricStore]bool{}
	byName := map[string]*statSnapshot{}
	var names []string
	for _, p := range plugins {
		if p == nil || seen[&p.metrics] {
			continue
		}
		seen[&p.metrics] = true
		for _, st := range p.metrics.snapshot() {
			m, ok := byName[st.name]
			if !ok {
				st := st
				byName[st.name] = &st
				names = append(names, st.name)
				continue
			}
			if m.kind != st.kind {
				continue // Envoy refuses a name already defined with another type; the first stays
			}
			m.value += st.value
			m.hist = append(m.hist, st.hist...)
		}
	}
	sort.Strings(names)
	out := make([]statSnapshot, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}

func writePrometheus(w io.Writer, stats []statSnapshot) error {
	var b strings.Builder
	for _, kind := range []int{abi.MetricCounter, abi.MetricGauge, abi.MetricHistogram} {
		for _, st := range stats {
			name := promName(st.name)
			if st.kind != kind || name == "" {
				continue
			}
			switch kind {
			case abi.MetricCounter:
				fmt.Fprintf(&b, "# TYPE %s counter\n%s{} %d\n", name, name, uint64(st.value))
			case abi.MetricGauge:
				fmt.Fprintf(&b, "# TYPE %s gauge\n%s{} %d\n", name, name, uint64(st.value))
			default:
				fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
				var sum float64
				for _, v := range st.hist {
					sum += float64(v)
				}
				for _, le := range st.buckets {
					n := 0
					for _, v := range st.hist {
						if float64(v) <= le {
							n++
						}
					}
					fmt.Fprintf(&b, "%s_bucket{le=\"%s\"} %d\n", name, promFloat(le), n)
				}
				fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n", name, len(st.hist))
				fmt.Fprintf(&b, "%s_sum{} %s\n", name, promFloat(sum))
				fmt.Fprintf(&b, "%s_count{} %d\n", name, len(st.hist))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteStats writes the plugin's counters and gauges as Envoy's /stats
// text shows them: "name: value" lines sorted by full name
// ("wasmcustom.<name>"). Histograms, which Envoy shows as interval and
// cumulative quantiles of its approximated histogram, are not written.
func (p *Plugin) WriteStats(w io.Writer) error {
	return writeStats(w, p.metrics.snapshot())
}

func writeStats(w io.Writer, stats []statSnapshot) error {
	var b strings.Builder
	for _, st := range stats {
		if st.kind == abi.MetricHistogram {
			continue
		}
		fmt.Fprintf(&b, "%s: %d\n", st.name, uint64(st.value))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// AdminHandler serves the part of Envoy's admin interface a scraper and a
// load balancer use, for the plugin's VMs (and every plugin joined to them):
// GET /stats (WriteStats), GET /stats/prometheus (WritePrometheus) and
// GET /ready, which answers 200 "LIVE" when state returns "LIVE" and 503
// with the state otherwise, as Envoy's /ready does with the server state
// (nil state: always LIVE). Other paths are 404, other methods 405.
func (p *Plugin) AdminHandler(state func() string) http.Handler {
	return MergedAdminHandler(state, p)
}

// MergedAdminHandler is AdminHandler for several plugins: /stats and
// /stats/prometheus show their metrics merged as WritePrometheusMerged
// does, as one Envoy process shows the stats of all its plugins.
func MergedAdminHandler(state func() string, plugins ...*Plugin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var b bytes.Buffer
		switch r.URL.Path {
		case "/stats":
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			_ = WriteStatsMerged(&b, plugins...)
		case "/stats/prometheus":
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=UTF-8")
			_ = WritePrometheusMerged(&b, plugins...)
		case "/ready":
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			s := "LIVE"
			if state != nil {
				s = state()
			}
			if s != "LIVE" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			b.WriteString(s + "\n")
		default:
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b.Bytes())
	})
}
