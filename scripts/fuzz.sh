#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (-fsanitize=fuzzer,address,undefined, in
# build-asan, which scripts/sanitize.sh address shares), replays every kept crash of
# fuzz/regressions/<target>/ and then fuzzes each target for FUZZ_SECONDS (default 30) from
# its seed corpus fuzz/corpus/<target>/. Run by ctest as "fuzz" (docs/TESTING.md).
# Usage: scripts/fuzz.sh [target...]      (default: every target of fuzz/CMakeLists.txt)
# Env: FUZZ_SECONDS; FUZZ_SEED (default 1, so that ctest's runs explore the same inputs each
# time and a failure reproduces; 0 lets libFuzzer pick one, for longer searches by hand);
# EDGEBENCH_ASAN_DIR (default: build-asan at the repository root).
# One input may take 25 s (-timeout) before it counts as a hang: on this 2-core machine, shared
# with other builds, a 12-cell matrix once took over 10 s.
# Exit: 0 nothing found; 1 a crash (the input is in <build>/fuzz/artifacts/<target>/: fix it
# and add the input to fuzz/regressions/<target>/); 77 without clang or libFuzzer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=clang_build.sh
source "$root/scripts/clang_build.sh"
build=${EDGEBENCH_ASAN_DIR:-$root/build-asan}
seconds=${FUZZ_SECONDS:-30}
seed=${FUZZ_SEED:-1}
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(scenario mqtt_frame payload); fi

clang_build_check fuzzer,address
clang_build_configure "$build" address
jobs=$(nproc)
cmake --build "$build" -j"$jobs" --target "${targets[@]/%/_fuzzer}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -50 "$build/fuzz-build.log"; exit 1; }

# Abort at the first report, so that libFuzzer keeps the input; leaks count as crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/${t}_fuzzer
  log=$build/fuzz/$t.log
  regressions=("$root/fuzz/regressions/$t"/*)
  if [ -e "${regressions[0]}" ]; then
    if ! "$bin" "${regressions[@]}" >"$log" 2>&1; then
      tail -60 "$log"
      echo "fuzz: $t fails on a kept regression input of fuzz/regressions/$t/ (log: $log)"
      status=1
      continue
    fi
    echo "fuzz: $t: ${#regressions[@]} regression inputs pass"
  fi
  work=$build/fuzz/corpus/$t
  artifacts=$build/fuzz/artifacts/$t
  mkdir -p "$work" "$artifacts"
  # The first directory gets the new inputs; the seeds of the repository are only read.
  if "$bin" -max_total_time="$seconds" -seed="$seed" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    echo "fuzz: $t: ${runs:-?} inputs in ${seconds}s, $cov, nothing found"
  else
    tail -60 "$log"
    echo "fuzz: $t found a crash; the input is in $artifacts/ (log: $log)."
    echo "fuzz: replay it with $bin <input>; fix it and keep the input in fuzz/regressions/$t/"
    status=1
  fi
done
exit $status
