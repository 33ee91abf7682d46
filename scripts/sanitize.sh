#!/usr/bin/env bash
# Builds edgebench and its tests with clang under a sanitizer, in a build directory of their
# own, and runs the tests there. Run by ctest as sanitize_address and sanitize_thread
# (docs/TESTING.md says what each runs and how long it takes).
#   address: -fsanitize=address,undefined in build-asan (which also holds the fuzzers of
#            scripts/fuzz.sh); leaks count.
#   thread:  -fsanitize=thread in build-tsan.
# Every process the tests start inherits the options, so the sanitized `edgebench` binary
# (EDGEBENCH_BINARY) and its forked workers report too: each report goes to a file of
# <build>/sanitizer-logs/, and any file there fails the run, whatever the tests said.
# Usage: scripts/sanitize.sh address|thread [catch2 test spec...]
#   Default spec: EDGEBENCH_SANITIZE_TESTS if set, else for address the whole suite and for
#   thread all but the long end-to-end runs (thread_default below; docs/TESTING.md says why).
#   "*" runs the whole suite under either.
# Env: EDGEBENCH_ASAN_DIR, EDGEBENCH_TSAN_DIR (default build-asan, build-tsan at the root).
# Exit: 0 clean; 1 a test failed or a sanitizer reported; 2 usage; 77 without clang.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=clang_build.sh
source "$root/scripts/clang_build.sh"
kind=${1:-}
shift || true
case $kind in
  address) build=${EDGEBENCH_ASAN_DIR:-$root/build-asan} runtime=address,undefined ;;
  thread) build=${EDGEBENCH_TSAN_DIR:-$root/build-tsan} runtime=thread ;;
  *) echo "usage: scripts/sanitize.sh address|thread [catch2 test spec...]" >&2; exit 2 ;;
esac
# Their time goes to fixed-length runs; the threads they run (collector, sampler, capture,
# link proxy, worker) have unit tests of their own that TSan does run.
thread_default='~[integration]~[set_run]~[link_run]~[search_curves]~[netem]'
spec=("$@")
if ((${#spec[@]} == 0)); then
  if [ -n "${EDGEBENCH_SANITIZE_TESTS:-}" ]; then
    spec=("$EDGEBENCH_SANITIZE_TESTS")
  elif [ "$kind" = thread ]; then
    spec=("$thread_default")
  fi
fi

clang_build_check "$runtime"
start=$SECONDS
clang_build_configure "$build" "$kind"
cmake --build "$build" -j"$(nproc)" --target edgebench edgebench_tests >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log"; exit 1; }
built=$((SECONDS - start))

logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
supp=$root/scripts/sanitizers
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/ubsan:suppressions=$supp/ubsan.supp:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$supp/tsan.supp:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
status=0
(cd "$build" && ./edgebench_tests "${spec[@]}") || status=1
ran=$((SECONDS - start - built))

mapfile -t reports < <(find "$logs" -type f | sort)
for r in "${reports[@]}"; do
  echo "sanitize: report in $r:"
  head -80 "$r"
done
if ((${#reports[@]})); then status=1; fi
echo "sanitize: $kind: built in ${built}s, tests ran in ${ran}s, ${#reports[@]} sanitizer reports" \
  "(spec: ${spec[*]:-the whole suite})"
exit $status
