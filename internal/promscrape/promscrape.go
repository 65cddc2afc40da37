// Package promscrape is the tests' Prometheus scraper: it GETs an admin interface's
// /stats/prometheus and parses the answer with Prometheus' own text parser, so a test reads the
// metrics the way a Prometheus server would and fails on anything that server would refuse.
package promscrape

import (
	"bytes"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Scrape GETs /stats/prometheus through admin (for example demostack's Stack.Admin) and returns
// the metric families by name. It fails t when the status is not 200 or the parser refuses the
// body.
func Scrape(t testing.TB, admin func(path string) (int, []byte, error)) map[string]*dto.MetricFamily {
	t.Helper()
	code, body, err := admin("/stats/prometheus")
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
