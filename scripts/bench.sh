#!/usr/bin/env bash
# make bench: every benchmark of the project, BENCH_COUNT runs each (default 6), then
# BENCHMARKS.md is regenerated from the raw output (medians, goals, ratios against the native
# baselines measured in the same run). The V8 figures (bench/v8) run in node, after the check
# that V8 and host/ decide alike on their scenarios. The raw output stays in dist/bench.txt and a benchstat
# summary in dist/benchstat.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${BENCH_COUNT:-6}"
benchtime="${BENCH_TIME:-1s}"
mkdir -p dist
out=dist/bench.txt
: > "$out"
for pkg in ./policy ./plugin/token ./plugin/session ./host ./plugin; do
  echo "== $pkg" >&2
  go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" -timeout 60m "$pkg" | tee -a "$out"
done
# The gateway against direct TLS to the same mosquitto (G1-G3, bench/gateway): QoS 1 throughput
# (3 ops of 20 000 messages) and 200 simultaneous connects (3 rounds), BENCH_COUNT runs, each a
# go test of its own so that direct and gateway alternate (-count would run each one's runs in a
# row); then one storm of 10 000 connections through `iotauthz gateway` for its RSS per idle
# connection. Needs mosquitto (make deps); skipped without it.
echo "== ./bench/gateway" >&2
gwargs=(-args -gateway.wasm "$PWD/dist/iotauthz.wasm")
for _ in $(seq "$count"); do
  go test -run '^$' -bench '^BenchmarkGateway(Throughput|Connect200)$' -benchmem -count 1 -benchtime 3x -timeout 30m ./bench/gateway "${gwargs[@]}" | tee -a "$out"
done
go test -run '^$' -bench '^BenchmarkGatewayIdle10k$' -benchmem -count 1 -benchtime 1x -timeout 30m ./bench/gateway "${gwargs[@]}" | tee -a "$out"
# V8: the same scenarios through dist/iotauthz.wasm in node's V8 (bench/v8/host.mjs). The Go test
# first proves that V8 and host/ reach the same decisions on them, and writes them out.
if command -v node >/dev/null 2>&1; then
  echo "== bench/v8 (node $(node --version))" >&2
  secs="${benchtime%s}"
  case "$secs" in ''|*[!0-9.]*) secs=1 ;; esac
  mkdir -p dist/v8-rsa
  GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o dist/v8-rsa/verify.wasm ./plugin/token/testdata/verifyguest
  go test -count=1 -run '^TestV8SameDecisions$' ./plugin -args \
    -v8.scenarios "$PWD/dist/v8-scenarios.json" -v8.rsa "$PWD/dist/v8-rsa" >&2
  node bench/v8/host.mjs bench dist/iotauthz.wasm dist/v8-scenarios.json -count "$count" -benchtime "$secs" | tee -a "$out"
  node --no-warnings bench/v8/host.mjs rsa dist/v8-rsa/verify.wasm dist/v8-rsa -count "$count" -benchtime "$secs" | tee -a "$out"
else
  echo "node is not on PATH: BENCHMARKS.md gets no V8 figures (make deps installs nodejs)" >&2
fi
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20251208221838-04cf7a2dca90 "$out" > dist/benchstat.txt || true
go run ./scripts/benchreport -wasm dist/iotauthz.wasm "$out" > BENCHMARKS.md
./scripts/benchreadme.sh
echo "wrote BENCHMARKS.md (raw: $out, benchstat: dist/benchstat.txt)" >&2
