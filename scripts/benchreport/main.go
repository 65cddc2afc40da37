// Command benchreport turns the raw output of `go test -bench` (several runs per benchmark)
// into BENCHMARKS.md: the machine, every benchmark's median, the performance goals of
// DESIGN.md with the ratio against the native baseline measured in the same run.
//
//	go run ./scripts/benchreport [-wasm dist/iotauthz.wasm] dist/bench.txt > BENCHMARKS.md
//
// The raw output may hold bench/v8's lines (BenchmarkV8…): the goals are then shown in V8 too,
// and a table sets each goal's path in V8, wazero and native side by side.
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

// v8Engine is the "engine:" line bench/v8/host.mjs writes (V8's and node's versions).
var v8Engine string

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
		if strings.HasPrefix(line, "engine: ") {
			v8Engine = strings.TrimPrefix(line, "engine: ")
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
	id, what     string
	bench, unit  string
	limit        float64
	baseline     string // benchmark to divide by ("" = none)
	ratioLimit   float64
	baselineUnit string
	// ratioMin, when set, is a floor on bench ÷ baseline (a figure where more is better: msg/s).
	ratioMin        float64
	allocsMustBe0   bool
	fromFileSizeMiB bool
	// minus, when set, is a benchmark (same unit) subtracted from bench: a figure derived from
	// two measured paths that differ only by the work the goal is about.
	minus string
}

// denyPaths are the P1d deny paths, each measured on the same warmed connection as the cached
// allow: <engine prefix>HTTPDeny<path>.
var denyPaths = []struct{ name, what string }{
	{"NoToken", "no token"},
	{"BadSignature", "signature by another key"},
	{"WrongHost", "Host not a data endpoint"},
	{"UnknownAuthorizer", "unknown authorizer"},
	{"Policy", "policy deny (cached decision, explicit Deny)"},
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
	{id: "P1 V8", what: "cached HTTP publish decision through the .wasm in node's V8 (bench/v8)", bench: "V8HTTPPublishCached", unit: "ns/op", baseline: "HTTPPublishCachedNative", baselineUnit: "ns/op", ratioLimit: 3},
	{id: "P2 V8", what: "MQTT PUBLISH authorization inside the .wasm in V8, per packet", bench: "V8MQTTPublishAuthorize", unit: "ns/packet", baseline: "MQTTPublishAuthorizeNative", baselineUnit: "ns/packet", ratioLimit: 3},
	{id: "P3a V8", what: "cold authorization in V8 (signature, call, compile; the authorizer answers at once)", bench: "V8ColdAuthorization", unit: "ns/op", limit: 1e6, baseline: "ColdAuthorizationNative", baselineUnit: "ns/op"},
	{id: "P3 V8", what: "RSA-2048 verify inside wasm in V8 (our verifier) vs the standard library's native verify", bench: "V8RSAVerifyWasm", unit: "ns/op", baseline: "RSAVerifyStdlibNative", baselineUnit: "ns/op", ratioLimit: 4},
	{id: "P3c V8", what: "RSA-2048 verify, stdlib crypto/rsa inside wasm in V8 vs native (reference)", bench: "V8RSAVerifyStdlibWasm", unit: "ns/op", baseline: "RSAVerifyStdlibNative", baselineUnit: "ns/op"},
	{id: "G1", what: "gateway sustained QoS 1 msg/s, 8 clients × 16 in flight, vs direct TLS to the same mosquitto", bench: "GatewayThroughput/gateway", unit: "msg/s", baseline: "GatewayThroughput/direct", baselineUnit: "msg/s", ratioMin: 0.8},
	{id: "G2", what: "gateway connect latency p50, 200 at once (TLS, CONNECT, CONNACK 0), vs direct TLS", bench: "GatewayConnect200/gateway", unit: "p50-ms", baseline: "GatewayConnect200/direct", baselineUnit: "p50-ms", ratioLimit: 1.5},
	{id: "G2 p99", what: "the same, p99", bench: "GatewayConnect200/gateway", unit: "p99-ms", baseline: "GatewayConnect200/direct", baselineUnit: "p99-ms"},
	{id: "G2 calls", what: "authorizer calls per gateway connect (connection-scope cache)", bench: "GatewayConnect200/gateway", unit: "authz-calls/connect"},
	{id: "G3", what: "gateway RSS per idle MQTT connection at 10 000 connections (iotauthz gateway, a child process; fewer when RLIMIT_NOFILE's hard limit is below 21 200: see G3 conns)", bench: "GatewayIdle10k", unit: "KiB/conn", limit: 32},
	{id: "G3 storm", what: "10 000 devices connecting at once through the gateway: time until all have CONNACK 0", bench: "GatewayIdle10k", unit: "s-to-all"},
	{id: "G3 conns", what: "the connections G3 opened", bench: "GatewayIdle10k", unit: "conns"},
	{id: "G3 retries", what: "the same storm: connects that failed (gateway or authorizer overloaded) and were tried again after 1-3 s, per device", bench: "GatewayIdle10k", unit: "retries/connect"},
	{id: "G3 calls", what: "the same storm: authorizer calls per connect", bench: "GatewayIdle10k", unit: "authz-calls/connect"},
	{id: "G3 CPU", what: "the same storm: the gateway's CPU time per connect", bench: "GatewayIdle10k", unit: "gateway-cpu-ms/connect"},
	{id: "policy", what: "policy Evaluate, 10 statements in 3 documents with variables", bench: "Evaluate", unit: "ns/op", limit: 200, allocsMustBe0: true},
	{id: "host", what: "headers-only request through a pass-through plugin", bench: "HostHTTPRoundTrip", unit: "ns/op", limit: 2000},
}

func init() {
	for _, e := range []struct{ prefix, where string }{{"V8", "V8"}, {"", "wazero"}} {
		for _, d := range denyPaths {
			goals = append(goals, goal{id: "P1d " + e.where, what: "deny, " + d.what + ", vs the cached allow, in " + e.where,
				bench: e.prefix + "HTTPDeny" + d.name, unit: "ns/op", baseline: e.prefix + "HTTPPublishCached", baselineUnit: "ns/op", ratioLimit: 1})
		}
	}
}

// value is a goal's figure: the median of bench, less the median of minus when set.
func (g goal) value(s samples) (float64, int, bool) {
	v, n, ok := s.get(g.bench, g.unit)
	if !ok || g.minus == "" {
		return v, n, ok
	}
	m, mn, mok := s.get(g.minus, g.unit)
	if !mok {
		return 0, 0, false
	}
	return v - m, min(n, mn), true
}

func fmtVal(v float64, unit string) string {
	switch {
	case unit == "msg/s":
		return fmt.Sprintf("%.0f msg/s", v)
	case unit == "KiB/conn" || unit == "authz-calls/connect" || unit == "retries/connect":
		return fmt.Sprintf("%.2f %s", v, unit)
	case strings.HasSuffix(unit, "-ms") || unit == "gateway-cpu-ms/connect":
		return fmt.Sprintf("%.1f ms", v)
	case unit == "s-to-all":
		return fmt.Sprintf("%.2f s", v)
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
- V8 figures (names starting with V8) run the same dist/iotauthz.wasm in node's V8 with Liftoff
  off, as Envoy's V8 runs it, through bench/v8/host.mjs: a small host of exactly the imports the
  plugin uses, with Envoy's semantics (deferred local replies and resumptions, the local reply
  passing back through the filter, one worker VM). It drives the scenarios plugin/v8_test.go
  builds from the wazero benchmarks' own helpers; TestV8SameDecisions first proves V8 and host/
  reach the same decisions on them, and every timed op is checked against its expected verdict.
  Its figures include the JavaScript host's own cost (about 13% of the cached publish's CPU
  profile when it was written), not Envoy's C++ host's; each run is a fresh VM, warmed up before the timer, N sized to
  $BENCH_TIME; "cpu-ns" is node's whole process CPU time (V8's compiler and GC threads too).
- G rows (bench/gateway) measure the embedded gateway against direct TLS to the same mosquitto
  in one run, interleaved (direct, gateway, direct, ...): a minimal MQTT 3.1.1 client that checks
  every CONNACK and PUBACK; the gateway is ` + "`iotauthz gateway`" + ` in a process of its own, as
  mosquitto is; for G3 a fresh one, whose RSS (/proc/PID/status VmRSS, settled) is read before
  and after 10 000 devices connect at once and stay idle. docs/performance.md says what bounds
  them.
- P3 in V8 runs plugin/token's verify guest (the same guest and exports as RSAVerifyWasm in
  wazero), its input files served from memory by the bench host's WASI; only the verify loop is
  timed.
  The engines table also shows the signature's share of the plugin's own cold path: the signed
  cold authorization minus the signing-disabled one, in V8 and in wazero.
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
	if v8Engine != "" {
		fmt.Fprintf(w, "- V8 figures: %s, Liftoff off as in Envoy (bench/v8/host.mjs)\n", v8Engine)
	}
	tableHead(w, "Goals (DESIGN.md)", "id", "what", "benchmark", "median (wall)", "median CPU time", "goal", "baseline (native; direct for G rows)", "ratio", "met")
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
			v, n, ok = g.value(s)
		}
		if !ok {
			fmt.Fprintf(w, "| %s | %s | %s | not measured | | | | | no |\n", g.id, g.what, g.bench)
			continue
		}
		cpuText := ""
		if strings.HasPrefix(g.unit, "ns/") && g.minus == "" {
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
					ratioText += fmt.Sprintf(" (goal ≤ %g×)", g.ratioLimit)
					if r > g.ratioLimit {
						met = false
					}
				}
				if g.ratioMin > 0 {
					ratioText += fmt.Sprintf(" (goal ≥ %g×)", g.ratioMin)
					if r < g.ratioMin {
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
		if g.minus != "" {
			name += " − " + g.minus
		}
		fmt.Fprintf(w, "| %s | %s | %s (n=%d) | %s | %s | %s | %s | %s | %s |\n", g.id, g.what, name, n, fmtVal(v, g.unit), cpuText, goalText, baseText, ratioText, mark)
	}
	enginesTable(w, s)
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

// enginesTable shows each goal's path in V8, wazero and natively, with the ratios, all medians
// of the same run.
func enginesTable(w io.Writer, s samples) {
	type row struct{ what, v8, v8minus, wz, wzminus, native, unit string }
	rows := []row{
		{what: "P1 cached HTTPS publish", v8: "V8HTTPPublishCached", wz: "HTTPPublishCached", native: "HTTPPublishCachedNative", unit: "ns/op"},
	}
	for _, d := range denyPaths {
		rows = append(rows, row{what: "P1d deny: " + d.what, v8: "V8HTTPDeny" + d.name, wz: "HTTPDeny" + d.name, unit: "ns/op"})
	}
	rows = append(rows,
		row{what: "P2 MQTT PUBLISH check, per packet", v8: "V8MQTTPublishAuthorize", wz: "MQTTPublishAuthorize", native: "MQTTPublishAuthorizeNative", unit: "ns/packet"},
		row{what: "P3a cold authorization", v8: "V8ColdAuthorization", wz: "ColdAuthorization", native: "ColdAuthorizationNative", unit: "ns/op"},
		row{what: "P3a cold authorization, signing disabled", v8: "V8ColdAuthorizationUnsigned", wz: "ColdAuthorizationUnsigned", unit: "ns/op"},
		row{what: "P3 RSA-2048 verify, our verifier in wasm (native: crypto/rsa, the honest baseline)", v8: "V8RSAVerifyWasm", wz: "RSAVerifyWasm", native: "RSAVerifyStdlibNative", unit: "ns/op"},
		row{what: "RSA-2048 verify, crypto/rsa in wasm", v8: "V8RSAVerifyStdlibWasm", wz: "RSAVerifyStdlibWasm", native: "RSAVerifyStdlibNative", unit: "ns/op"},
		// the signature's share of the plugin's cold path: decode, verify, the verified-signature cache
		row{what: "the signature's share of a cold authorization (signed − signing disabled)", v8: "V8ColdAuthorization", v8minus: "V8ColdAuthorizationUnsigned",
			wz: "ColdAuthorization", wzminus: "ColdAuthorizationUnsigned", native: "RSAVerifyStdlibNative", unit: "ns/op"},
	)
	get := func(name, minus, unit string) (float64, bool) {
		if name == "" {
			return 0, false
		}
		g := goal{bench: name, minus: minus, unit: unit}
		v, _, ok := g.value(s)
		return v, ok
	}
	// cell is the wall time, and the benchmark's CPU time per op where it reports one.
	cell := func(name, minus string, v float64, ok bool, unit string) string {
		if !ok {
			return "not measured"
		}
		text := fmtVal(v, unit)
		if c, cok := get(name, minus, "cpu-"+unit); cok {
			text += " (CPU " + fmtVal(c, unit) + ")"
		}
		return text
	}
	ratio := func(a float64, aok bool, b float64, bok bool) string {
		if !aok || !bok || b <= 0 {
			return ""
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	tableHead(w, "Each goal in V8, wazero and native (medians; ratios of wall time)", "path", "V8", "wazero", "native", "V8 ÷ native", "wazero ÷ native", "V8 ÷ wazero")
	for _, r := range rows {
		v8, v8ok := get(r.v8, r.v8minus, r.unit)
		wz, wzok := get(r.wz, r.wzminus, r.unit)
		nat, natok := get(r.native, "", r.unit)
		natText := ""
		if r.native != "" {
			natText = cell(r.native, "", nat, natok, r.unit)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.what, cell(r.v8, r.v8minus, v8, v8ok, r.unit), cell(r.wz, r.wzminus, wz, wzok, r.unit), natText,
			ratio(v8, v8ok, nat, natok), ratio(wz, wzok, nat, natok), ratio(v8, v8ok, wz, wzok))
	}
}
