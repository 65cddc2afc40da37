package envoy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/iotauthz/iotauthz/host/gateway"
	"github.com/iotauthz/iotauthz/host/gateway/demostack"
	"github.com/iotauthz/iotauthz/internal/promscrape"
	"github.com/iotauthz/iotauthz/internal/wasmbuild"
)

// dashboard is the part of grafana-dashboard.json the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	return d
}

// grafanaVars are what Grafana puts in place of the dashboard's variables before it sends a
// query to Prometheus: the built-in intervals and the template variables (multi-value ones as
// a regular expression alternative).
var grafanaVars = map[string]string{
	"$__rate_interval": "1m",
	"$__range":         "1h",
	"$job":             "(iotauthz|envoy)",
	"$instance":        ".*",
}

var varRef = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// interpolate replaces the dashboard's variables as Grafana would; a variable it does not know
// is an error (the dashboard would send it to Prometheus as is).
func interpolate(expr string) (string, []string) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(expr, func(v string) string {
		if r, ok := grafanaVars[v]; ok {
			return r
		}
		unknown = append(unknown, v)
		return v
	})
	return out, unknown
}

// queries are the dashboard's PromQL queries by "panel title/refId", rows' panels included.
func queries(t *testing.T, d dashboard) map[string]string {
	t.Helper()
	out := map[string]string{}
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
			}
			ids[p.ID] = true
			if p.Title == "" {
				t.Errorf("panel %d has no title", p.ID)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: datasource %+v, want the prometheus ${datasource} variable", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				out[p.Title+"/"+q.RefID] = q.Expr
			}
		}
	}
	walk(d.Panels)
	return out
}

// metricNames parses expr with Prometheus' own PromQL parser and returns the metric names its
// selectors name.
func metricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names, nil
}

// Every query of every panel is PromQL that Prometheus' parser accepts once Grafana has put in
// the variables, and names its metric.
func TestDashboard_QueriesParse(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: want both", d.UID, d.Title)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars["$"+v.Name] = true
		if v.Type == "query" {
			// label_values(SELECTOR, label): SELECTOR is PromQL.
			inner := strings.TrimSuffix(strings.TrimPrefix(v.Definition, "label_values("), ")")
			i := strings.LastIndex(inner, ",")
			if i < 0 {
				t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
				continue
			}
			sel, unknown := interpolate(inner[:i])
			if _, err := metricNames(sel); err != nil || len(unknown) > 0 {
				t.Errorf("variable %s: %q: %v %v", v.Name, v.Definition, err, unknown)
			}
		}
	}
	for _, v := range []string{"$datasource", "$job", "$instance"} {
		if !vars[v] {
			t.Errorf("dashboard has no variable %s", v)
		}
	}
	qs := queries(t, d)
	if len(qs) < 10 {
		t.Fatalf("%d queries, want the dashboard's panels", len(qs))
	}
	for where, q := range qs {
		expr, unknown := interpolate(q)
		if len(unknown) > 0 {
			t.Errorf("%s: unknown variables %v in %q", where, unknown, q)
		}
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: Prometheus' parser refuses %q: %v", where, expr, err)
			continue
		}
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", where, q)
		}
		if !strings.Contains(q, `job=~"$job"`) || !strings.Contains(q, `instance=~"$instance"`) {
			t.Errorf("%s: %q does not filter on $job and $instance", where, q)
		}
	}
}

// The metrics the dashboard names are what the gateway's /stats/prometheus shows after a
// demo-like run (MQTT over TLS and WSS: CONNECT, SUBSCRIBE, PUBLISH allowed and denied, a denied
// CONNECT; HTTPS publishes allowed and denied), with the type the query expects (a _bucket
// series of a histogram); and every metric the plugin exports has a panel. The names are the
// ones Envoy shows for the same stats: package host renders them as Envoy's
// PrometheusStatsFormatter does (host/stats_test.go).
func TestDashboard_MetricsInGatewayScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin and runs the gateway")
	}
	s, err := demostack.Start(wasmbuild.Module(t, wasmbuild.Plugin), demostack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if out, err := s.Traffic(); err != nil {
		t.Fatalf("demo traffic: %v\n%v", err, out)
	}
	fams := promscrape.Scrape(t, s.Admin)
	// The series names a query may select: a counter or gauge by its name, a histogram by
	// name_bucket, name_sum and name_count.
	series := map[string]string{}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				series[name+suffix] = name
			}
			continue
		}
		series[name] = name
	}
	used := map[string]bool{}
	for where, q := range queries(t, loadDashboard(t)) {
		expr, _ := interpolate(q)
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		for _, n := range names {
			fam, ok := series[n]
			if !ok {
				t.Errorf("%s: %s is not in the gateway's /stats/prometheus", where, n)
				continue
			}
			used[fam] = true
		}
	}
	var unused []string
	for name := range fams {
		if !used[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("no panel shows %v", unused)
	}
	if len(fams) < 16 {
		t.Errorf("/stats/prometheus has %d families, want the plugin's 16", len(fams))
	}
	// The latency quantiles come from the same buckets as Envoy's with envoy.yaml.
	var les []string
	for _, b := range fams["iotauthz_authorizer_latency_ms"].GetMetric()[0].GetHistogram().GetBucket() {
		les = append(les, fmt.Sprint(b.GetUpperBound()))
	}
	if got, want := strings.Join(les, " "), "1 2 5 10 25 50 100 250 500 1000 2500 5000 +Inf"; got != want {
		t.Errorf("gateway's latency buckets %s, want envoy.yaml's %s", got, want)
	}
}

// The gateway's default histogram buckets are the stats_config.histogram_bucket_settings of every
// Envoy configuration here, so a dashboard panel computes its quantiles from the same bounds
// whichever runs the plugin.
func TestDashboard_GatewayBucketsAsEnvoy(t *testing.T) {
	want := fmt.Sprint(gateway.DefaultHistogramBuckets())
	for _, f := range []string{"envoy.yaml", "envoy-compose.yaml", "envoy-lambda.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var b bootstrapv3.Bootstrap
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(js, &b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var got []string
		for _, s := range b.GetStatsConfig().GetHistogramBucketSettings() {
			got = append(got, fmt.Sprintf("{%s %v}", s.GetMatch().GetPrefix(), s.GetBuckets()))
		}
		if g := "[" + strings.Join(got, " ") + "]"; g != want {
			t.Errorf("%s: histogram_bucket_settings %s, gateway.DefaultHistogramBuckets %s", f, g, want)
		}
	}
}
