#!/usr/bin/env bash
# Fails on a format or clang-tidy finding in src/ or include/, or on a C library included
# outside the one module allowed to use it (docs/ARCHITECTURE.md). Run by ctest as "lint".
# Usage: scripts/lint.sh [build-dir]   (the build dir holds compile_commands.json)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$root"
status=0

mapfile -t sources < <(find src include -name '*.cc' -o -name '*.h' | sort)
if ! clang-format --dry-run --Werror "${sources[@]}" 2>/tmp/edgebench-lint-format.$$; then
  sed 's/^/lint: /' /tmp/edgebench-lint-format.$$ | head -40
  echo "lint: clang-format finds the files above unformatted; run: clang-format -i \$(find src include -name '*.cc' -o -name '*.h')"
  status=1
fi
rm -f /tmp/edgebench-lint-format.$$

# Each C library (and CLI11) in one module only.
check_module() {  # <include regex> <the folder allowed to include it>
  local hits
  hits=$(grep -rlE "^#include <($1)" src include | grep -v "^src/$2/" || true)
  if [ -n "$hits" ]; then
    echo "lint: <$1...> may be included only in src/$2/, but is in: $hits"
    status=1
  fi
}
check_module 'mosquitto\.h' mqtt
check_module 'pcap' measure
check_module 'openssl/' mqtt
check_module 'yaml-cpp/' scenario
check_module 'CLI/' cli

if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing; configure with CMake first"
  exit 1
fi
# clang-tidy with .clang-tidy; its WarningsAsErrors (function size, use after move,
# thread-unsafe calls) fail the lint. Other checks only print.
mapfile -t units < <(find src -name '*.cc' | sort)
out=$(printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>&1 || true)
errors=$(grep -E ': error: ' <<<"$out" | sort -u || true)
if [ -n "$errors" ]; then
  sed 's/^/lint: /' <<<"$errors"
  status=1
fi
exit $status
