#!/usr/bin/env bash
# `edgebench report` over a set of synthetic runs (tests/report/fixture_runs.h: 100 devices,
# 1 msg/s, latency histograms, per-second timelines, /proc samples of four processes every
# 100 ms, capture and cost): CELLS x REPEATS runs of DURATION_S seconds each, timed.
# Usage: bench/report_bench.sh [build-dir] [cells] [repeats] [duration_s]
#        (default: build 4 25 60, i.e. 100 runs of one minute; docs/PERFORMANCE.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cells=${2:-4}
repeats=${3:-25}
duration=${4:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/edgebench_report_fixture" "$tmp/runs" "$cells" "$repeats" "$duration" >/dev/null
echo "runs: $((cells * repeats)) ($cells cells x $repeats, ${duration} s each), $(du -sh "$tmp/runs" | cut -f1) on disk"
for i in 1 2 3; do
  start=$(date +%s%N)
  "$build/edgebench" --log-level warn report "$tmp"/runs/*/* -o "$tmp/report.html" >/dev/null
  end=$(date +%s%N)
  echo "report $i: $(((end - start) / 1000000)) ms, $(wc -c <"$tmp/report.html") bytes"
done
