#!/usr/bin/env bash
# Installs the Debian 12 packages edgebench needs (only those missing) and builds it.
# Safe to run again. Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libmosquitto-dev mosquitto mosquitto-clients
  libyaml-cpp-dev libspdlog-dev libfmt-dev libpcap-dev
  catch2 libcli11-dev nlohmann-json3-dev
  libcap2-bin iproute2 tcpdump openssl
  clang-format clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${1:-build}
src_dir=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$src_dir" -B "$src_dir/$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$src_dir/$build_dir" -j"$(nproc)"
