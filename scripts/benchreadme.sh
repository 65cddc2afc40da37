#!/usr/bin/env bash
# Copies the goals of BENCHMARKS.md (id, what, median, goal, ratio, met) into README.md between
# the lines "<!-- bench:begin -->" and "<!-- bench:end -->", so that the README quotes the latest
# make bench and nobody copies a figure by hand. Run by scripts/bench.sh after benchreport.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -q '^<!-- bench:begin -->$' README.md && grep -q '^<!-- bench:end -->$' README.md || {
  echo "benchreadme: README.md has no <!-- bench:begin --> / <!-- bench:end --> block" >&2; exit 1; }
table=$(awk -F' [|] ' '
  /^## Goals/ { on = 1; next }
  on && /^## / { exit }
  on && /^\| [A-Z][0-9]/ {
    id = substr($1, 3); met = $9; sub(/ \|$/, "", met)
    printf "| %s | %s | %s | %s | %s | %s |\n", id, $2, $4, $6, $8, met
  }' BENCHMARKS.md)
[ -n "$table" ] || { echo "benchreadme: no goals table in BENCHMARKS.md" >&2; exit 1; }
date=$(sed -n 's/^- date: //p' BENCHMARKS.md)
{
  awk '{ print } /^<!-- bench:begin -->$/ { exit }' README.md
  echo "Goals as the latest \`make bench\` measured them ($date; medians, ratios from the same run):"
  echo
  echo "| id | what | median | goal | ratio | met |"
  echo "|---|---|---|---|---|---|"
  echo "$table"
  awk 'f { print } /^<!-- bench:end -->$/ { f = 1; print }' README.md
} > README.md.new
mv README.md.new README.md
