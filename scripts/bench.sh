#!/usr/bin/env bash
# make bench: every benchmark of the project, BENCH_COUNT runs each (default 6), then
# BENCHMARKS.md is regenerated from the raw output (medians, goals, ratios against the native
# baselines measured in the same run). The raw output stays in dist/bench.txt and a benchstat
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
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20251208221838-04cf7a2dca90 "$out" > dist/benchstat.txt || true
go run ./scripts/benchreport -wasm dist/iotauthz.wasm "$out" > BENCHMARKS.md
echo "wrote BENCHMARKS.md (raw: $out, benchstat: dist/benchstat.txt)" >&2
