#!/bin/sh
# The install rule end to end (ctest: install_rule): installs into a temporary prefix, then
# runs the installed binary from another directory, as a user who has only the prefix would.
# Usage: install_test.sh CMAKE BUILD_DIR. Removes the prefix and the directory it made.
set -eu
cmake=$1
build=$2
prefix=$(mktemp -d /tmp/edgebench-install-XXXXXX)
elsewhere=$(mktemp -d /tmp/edgebench-cwd-XXXXXX)
trap 'rm -rf "$prefix" "$elsewhere"' EXIT INT TERM
prefix=$(cd "$prefix" && pwd -P)  # the binary finds its config by its resolved path

fail() {
  echo "install_test: $*" >&2
  exit 1
}

# $1 = what, $2 = expected, $3 = got
same() {
  [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
}

"$cmake" --install "$build" --prefix "$prefix" >/dev/null
for f in bin/edgebench share/edgebench/config/mosquitto.conf.in \
         share/edgebench/config/profiles.yaml share/edgebench/scenarios/edge.yaml; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done

cd "$elsewhere"
# No EDGEBENCH_CONFIG_DIR, no password: only what the prefix holds.
eb() { env -u EDGEBENCH_CONFIG_DIR -u EDGEBENCH_PASSWORD "$prefix/bin/edgebench" "$@"; }

out=$(eb version) || fail "version exited $?"
case "$out" in
  "edgebench "*" (git "*", libmosquitto "*")") ;;
  *) fail "version printed [$out]" ;;
esac

scenarios="$prefix/share/edgebench/scenarios"
out=$(eb validate "$scenarios/edge.yaml") || fail "validate edge.yaml exited $?"
same "validate edge.yaml" "$scenarios/edge.yaml: ok" "$out"
# cloud.yaml names a network profile: it is found in the installed config.
out=$(eb validate "$scenarios/cloud.yaml" 2>&1) || fail "validate cloud.yaml exited $?: $out"
same "validate cloud.yaml" "$scenarios/cloud.yaml: ok" "$out"
# Every installed scenario validates (the example warns about the CA file it names).
eb validate "$scenarios"/*.yaml >/dev/null 2>&1 || fail "validate scenarios/*.yaml exited $?"

# run uses the installed config, not the source tree's.
eb run --help | grep -q -- "--config-dir TEXT=$prefix/share/edgebench/config\$" ||
  fail "run --help does not default --config-dir to $prefix/share/edgebench/config"

# Relative paths from the share directory work too.
cd "$prefix/share/edgebench"
out=$(env -u EDGEBENCH_CONFIG_DIR ../../bin/edgebench validate scenarios/edge.yaml) ||
  fail "relative validate exited $?"
same "relative validate" "scenarios/edge.yaml: ok" "$out"
cd /
echo "install_test: ok ($prefix)"
