// Command benchreport turns the raw output of `go test -bench` (several runs per benchmark)
// into BENCHMARKS.md: the machine, every benchmark's median, the performance goals of
// DESIGN.md with the ratio against the native baseline measured in the same run.
//
//	go run ./scripts/benchreport [-wasm dist/iotauthz.wasm] dist/bench.txt > BENCHMARKS.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// samples[benchmark][unit] = values over the runs.
type samples map[string]map[string][]float64

func parse(path string) (samples, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	s := samples{}
	var order []string
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pkg: ") {
			pkg = strings.TrimPrefix(line, "pkg: ")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		name = strings.TrimPrefix(name, "Benchmark")
		if _, ok := s[name]; !ok {
			s[name] = map[string][]float64{"pkg:" + pkg: nil}
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			s[name][fields[i+1]] = append(s[name][fields[i+1]], v)
		}
	}
	return s, order, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s samples) get(name, unit string) (float64, int, bool) {
	m, ok := s[name]
	if !ok {
		return 0, 0, false
	}
	v, ok := m[unit]
	if !ok || len(v) == 0 {
		return 0, 0, false
	}
	return median(v), len(v), true
}

func pkgOf(s samples, name string) string {
	for k := range s[name] {
		if strings.HasPrefix(k, "pkg:") {
			return strings.TrimPrefix(k, "pkg:")
		}
	}
	return ""
}

type goal struct {
	id, what        string
	bench, unit     string
	limit           float64
	baseline        string // benchmark to divide by ("" = none)
	ratioLimit      float64
	baselineUnit    string
	allocsMustBe0   bool
	fromFileSizeMiB bool
}

var goals = []goal{
	{id: "P1", what: "cached HTTP publish decision through the .wasm in host/", bench: "HTTPPublishCached", unit: "ns/op", limit: 5000, baseline: "HTTPPublishCachedNative", baselineUnit: "ns/op", ratioLimit: 3},
	{id: "P2", what: "MQTT PUBLISH authorization inside the .wasm, per packet", bench: "MQTTPublishAuthorize", unit: "ns/packet", limit: 1000, baseline: "MQTTPublishAuthorizeNative", baselineUnit: "ns/packet"},
	{id: "P3a", what: "cold authorization (signature, call, compile), authorizer time excluded", bench: "ColdAuthorization", unit: "ns/op", limit: 1e6},
	{id: "P3b", what: "RSA-2048 verify inside wasm vs native (our verifier)", bench: "RSAVerifyWasm", unit: "ns/op", baseline: "RSAVerifyNative", baselineUnit: "ns/op", ratioLimit: 4},
	{id: "P3c", what: "RSA-2048 verify, stdlib crypto/rsa inside wasm vs native (reference)", bench: "RSAVerifyStdlibWasm", unit: "ns/op", baseline: "RSAVerifyStdlibNative", baselineUnit: "ns/op"},
	{id: "P4", what: "linear memory per VM after 1 M requests over 10 k tokens", bench: "MemoryPerVM", unit: "linear-MiB", limit: 16},
	{id: "P5", what: "iotauthz.wasm size", unit: "MiB", limit: 4, fromFileSizeMiB: true},
	{id: "P6a", what: "authorizer calls for 100 concurrent first requests of one token, connection scope, per VM", bench: "ConcurrentFirstRequests", unit: "calls/VM", limit: 1},
	{id: "P6b", what: "the same, token scope, after the first answer, in all", bench: "ConcurrentFirstRequests", unit: "calls-after-first", limit: 0},
	{id: "policy", what: "policy Evaluate, 10 statements in 3 documents with variables", bench: "Evaluate", unit: "ns/op", limit: 200, allocsMustBe0: true},
	{id: "host", what: "headers-only request through a pass-through plugin", bench: "HostHTTPRoundTrip", unit: "ns/op", limit: 2000},
}

func fmtVal(v float64, unit string) string {
	switch {
	case unit == "ns/op" || unit == "ns/packet":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.2f µs", v/1e3)
		default:
			return fmt.Sprintf("%.0f ns", v)
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}

// method is the report's last section, how the figures are made.
const method = `
## Method

- ` + "`make bench` runs `go test -run '^$' -bench . -benchmem -count $BENCH_COUNT`" + ` (default 6)
  in policy/, plugin/token/, plugin/session/, host/ and plugin/; the raw output is
  dist/bench.txt and a benchstat summary dist/benchstat.txt.
- Wasm figures run the real dist/iotauthz.wasm (or, for RSA, a small guest built from the same
  package) inside wazero's compiler through host/, with Envoy's WASI profile envoy-1.33.
- Native baselines run the same Go code compiled natively: the decision engine (plugin/authz)
  on its in-memory ports (authztest), the token verifier and the session processor directly.
- "median CPU time" is the benchmark's own cpu-ns metric (getrusage of the process per
  op) where it reports one: on a shared machine it moves less than wall time. Goals are
  judged on wall time.
- Envoy runs modules in V8 by default, which was measured faster than wazero for RSA verify
  (DESIGN.md); these figures are a conservative stand-in, not Envoy's.
`

// tableHead starts a section titled title with a Markdown table of the columns cols.
func tableHead(w io.Writer, title string, cols ...string) {
	fmt.Fprintf(w, "\n## %s\n\n", title)
	fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(cols)))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.IndexByte(l, ':'); i > 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOARCH
}

func main() {
	wasm := flag.String("wasm", "dist/iotauthz.wasm", "the built plugin, for its size")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchreport [-wasm FILE] bench.txt")
		os.Exit(2)
	}
	s, order, err := parse(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	goVersion, _ := exec.Command("go", "version").Output()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "# Benchmarks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `make bench` (scripts/bench.sh → scripts/benchreport); do not edit by hand.")
	fmt.Fprintln(w, "Each figure is the **median** of the runs listed; ratios divide medians measured in the")
	fmt.Fprintln(w, "same run, so they hold better than absolute figures on a shared, noisy machine.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- machine: %s, %d logical CPUs, %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "- toolchain: %s", strings.TrimSpace(string(goVersion)))
	fmt.Fprintln(w, "; wasm engine: wazero compiler (host/), profile envoy-1.33")
	tableHead(w, "Goals (DESIGN.md)", "id", "what", "benchmark", "median (wall)", "median CPU time", "goal", "native baseline", "ratio", "met")
	for _, g := range goals {
		var v float64
		var n int
		ok := true
		if g.fromFileSizeMiB {
			st, err := os.Stat(*wasm)
			if err != nil {
				ok = false
			} else {
				v, n = float64(st.Size())/(1<<20), 1
				v = float64(int(v*100)) / 100
			}
		} else {
			v, n, ok = s.get(g.bench, g.unit)
		}
		if !ok {
			fmt.Fprintf(w, "| %s | %s | %s | not measured | | | | | no |\n", g.id, g.what, g.bench)
			continue
		}
		cpuText := ""
		if strings.HasPrefix(g.unit, "ns/") {
			if c, _, cok := s.get(g.bench, "cpu-"+g.unit); cok {
				cpuText = fmtVal(c, g.unit)
			}
		}
		met := true
		goalText := ""
		if g.limit > 0 || g.unit == "calls-after-first" {
			goalText = "≤ " + fmtVal(g.limit, g.unit)
			met = v <= g.limit
		}
		if g.allocsMustBe0 {
			a, _, aok := s.get(g.bench, "allocs/op")
			goalText += ", 0 allocs/op"
			if !aok || a != 0 {
				met = false
			}
		}
		baseText, ratioText := "", ""
		if g.baseline != "" {
			if b, _, bok := s.get(g.baseline, g.baselineUnit); bok && b > 0 {
				r := v / b
				baseText = fmt.Sprintf("%s = %s", g.baseline, fmtVal(b, g.baselineUnit))
				ratioText = fmt.Sprintf("%.2f×", r)
				if g.ratioLimit > 0 {
					ratioText += fmt.Sprintf(" (goal ≤ %.0f×)", g.ratioLimit)
					if r > g.ratioLimit {
						met = false
					}
				}
			} else {
				baseText = g.baseline + ": not measured"
			}
		}
		mark := "yes"
		if !met {
			mark = "**no**"
		}
		name := g.bench
		if name == "" {
			name = *wasm
		}
		fmt.Fprintf(w, "| %s | %s | %s (n=%d) | %s | %s | %s | %s | %s | %s |\n", g.id, g.what, name, n, fmtVal(v, g.unit), cpuText, goalText, baseText, ratioText, mark)
	}
	tableHead(w, "Every benchmark (medians)", "package", "benchmark", "runs", "ns/op", "B/op", "allocs/op", "other")
	for _, name := range order {
		ns, n, _ := s.get(name, "ns/op")
		b, _, _ := s.get(name, "B/op")
		a, _, _ := s.get(name, "allocs/op")
		var other []string
		units := make([]string, 0)
		for u := range s[name] {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" && !strings.HasPrefix(u, "pkg:") {
				units = append(units, u)
			}
		}
		sort.Strings(units)
		for _, u := range units {
			m, _, _ := s.get(name, u)
			other = append(other, strconv.FormatFloat(m, 'g', 5, 64)+" "+u)
		}
		pkg := strings.TrimPrefix(pkgOf(s, name), "github.com/iotauthz/iotauthz/")
		fmt.Fprintf(w, "| %s | %s | %d | %s | %.0f | %.0f | %s |\n", pkg, name, n, strconv.FormatFloat(ns, 'f', 1, 64), b, a, strings.Join(other, ", "))
	}
	fmt.Fprint(w, method)
}
