#!/bin/sh
# compare_bench.sh: the time `edgebench compare` takes over a set of 100 runs (issue 10's
# target: under 2 s). Makes one real run (scenarios/edge.yaml for 10 s, or the run directory
# given as $2), copies it 100 times into a set of two cells of 50 with an index.json written
# by WriteSetIndex (the hidden test case "[.compare-bench-set]"), then times compare in each
# format, best of 3.
#
#   bench/compare_bench.sh BUILD_DIR [RUN_DIR]
set -eu
build=${1:?usage: bench/compare_bench.sh BUILD_DIR [RUN_DIR]}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/edgebench-compare-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ $# -ge 2 ]; then
  run=$2
else
  "$build/edgebench" run "$src/scenarios/edge.yaml" --set duration_s=10 --out "$work/out" \
    --log-level warn >"$work/run.txt"
  run=$(tail -n 1 "$work/run.txt")
fi
echo "run directory: $run ($(du -sk "$run" | cut -f1) KB)"

EDGEBENCH_BENCH_SET="$work/set" EDGEBENCH_BENCH_RUN="$run" \
  "$build/edgebench_tests" "[.compare-bench-set]" >/dev/null
echo "set: $(find "$work/set" -name summary.json | wc -l) runs, $(du -sk "$work/set" | cut -f1) KB"

for format in table json; do
  best=
  for i in 1 2 3; do
    start=$(date +%s.%N)
    "$build/edgebench" compare "$work/set" --format "$format" \
      --config-dir "$src/config" >"$work/out.$format"
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  echo "compare --format $format over 100 runs: best of 3 ${best} s"
done
