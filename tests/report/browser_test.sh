#!/bin/sh
# ctest report_browser: fixture runs -> `edgebench report` -> the page opened in headless
# Chromium (browser_check.mjs), which checks the charts and that nothing was fetched, and
# leaves a screenshot in BUILD_DIR/report-browser/report.png; the same for a search's report
# (search.png).
# usage: browser_test.sh EDGEBENCH REPORT_FIXTURE BUILD_DIR
# Exit 77 (ctest SKIP_RETURN_CODE) with the reason when a tool it needs is missing.
set -eu
edgebench=$1
fixture=$2
build_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() {
  echo "SKIP: $1"
  exit 77
}
[ -x "$chromium" ] || skip "no $chromium (apt-get install chromium; scripts/setup.sh does)"
command -v node >/dev/null || skip "no node (apt-get install nodejs; scripts/setup.sh does)"
command -v gnuplot >/dev/null || skip "no gnuplot: the report has no charts to check (apt-get install gnuplot-nox)"
[ -d "$here/node_modules/puppeteer-core" ] ||
  skip "no $here/node_modules (npm ci --prefix tests/report; scripts/setup.sh does)"

out=$build_dir/report-browser
rm -rf "$out"
mkdir -p "$out"
# Two placements, three runs each.
"$fixture" "$out/runs" 2 3 >/dev/null
"$edgebench" report "$out/runs/edge-lan/"* "$out/runs/cloud-near/"* -o "$out/report.html"
charts="latency wire cost timeline-1 resources-1 timeline-2 resources-2"
# shellcheck disable=SC2086 # one word per chart id
CHROMIUM=$chromium node "$here/browser_check.mjs" "$out/report.html" "$out/report.png" 6 $charts

# A search: its three charts first, in its section, then each step's timeline and resources.
"$fixture" --search "$out/search" >/dev/null
"$edgebench" report "$out/search" -o "$out/search.html"
search_charts="search-latency search-delivered search-cpu"
step=1
while [ $step -le 10 ]; do
  search_charts="$search_charts timeline-$step resources-$step"
  step=$((step + 1))
done
# shellcheck disable=SC2086 # one word per chart id
CHROMIUM=$chromium node "$here/browser_check.mjs" "$out/search.html" "$out/search.png" 10 \
  $search_charts

# The check itself must be able to fail: the same page with an outside image (blocked by the
# page's Content-Security-Policy, and on loopback anyway) must fail it, for that reason.
sed 's|<h1>|<img src="http://127.0.0.1:9/logo.png"><h1>|' "$out/report.html" >"$out/tampered.html"
# shellcheck disable=SC2086
if CHROMIUM=$chromium node "$here/browser_check.mjs" "$out/tampered.html" "$out/tampered.png" 6 \
  $charts >"$out/tampered.log" 2>&1; then
  echo "FAIL: the browser check passed a page that requests http://127.0.0.1:9/logo.png"
  exit 1
fi
grep -q "network requests: http://127.0.0.1:9/logo.png" "$out/tampered.log" || {
  echo "FAIL: the browser check failed the tampered page for another reason:"
  cat "$out/tampered.log"
  exit 1
}
echo "the browser check fails a page that requests something: ok"
