#!/usr/bin/env bash
# Installs the Debian 12 packages edgebench needs (only those missing), builds it and
# installs the Node packages of the report's browser test (tests/report).
# Safe to run again. Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libmosquitto-dev mosquitto mosquitto-clients
  libyaml-cpp-dev libspdlog-dev libfmt-dev libpcap-dev
  catch2 libcli11-dev nlohmann-json3-dev libbenchmark-dev libssl-dev
  libcap2-bin iproute2 tcpdump openssl
  clang-format clang-tidy
  clang libclang-rt-14-dev llvm ccache
  gnuplot-nox chromium nodejs
  rabbitmq-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs comes without npm; a nodejs from elsewhere may bring its own.
if ! command -v npm >/dev/null; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  # rabbitmq-server (the second broker of tests/run/broker_protocol_test.cc, which starts its
  # own on a free loopback port) must not start a system service on install: a policy-rc.d
  # that says no (exit 101) while apt runs, unless the machine has one already (containers do).
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod 755 "$policy"
    made_policy=1
    trap '"${sudo_cmd[@]}" rm -f "$policy"' EXIT  # also when the install fails
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$made_policy" ]; then
    "${sudo_cmd[@]}" rm -f "$policy"
    trap - EXIT
  fi
  # Nor start at the next boot, where systemd runs.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    "${sudo_cmd[@]}" systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  fi
fi

build_dir=${1:-build}
src_dir=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$src_dir" -B "$src_dir/$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$src_dir/$build_dir" -j"$(nproc)"
# The report's browser test drives chromium with puppeteer-core (no browser download),
# installed exactly as tests/report/package-lock.json says.
if ! (cd "$src_dir/tests/report" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "setup: npm ci in tests/report failed: the report_browser test will be skipped"
fi
