#!/usr/bin/env bash
# A set's own overhead between runs: the gap from one run's end_time to the next run's
# start_time (manifest.json), with cooldown_s 0, over a set of short runs. Each gap holds
# what the set does between runs (index.json, the progress line, the next run's setup up to
# its results directory), not the runs' own start and stop.
# Usage: bench/set_overhead.sh [build-dir] [runs]     (loopback only; writes under a temp dir)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${2:-6}
out=$(mktemp -d /tmp/edgebench-set-overhead.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$build/edgebench" run "$root/scenarios/edge.yaml" --out "$out" --log-level warn \
  --set repeat="$runs" --set cooldown_s=0 --set duration_s=1 --set warmup_s=0 --set drain_s=0.5 \
  --set network=none --set devices.count=10 >/dev/null
set_dir=$(readlink -f "$out"/edge/latest)
python3 - "$set_dir" <<'PY'
import json, sys, datetime, os
d = sys.argv[1]
index = json.load(open(os.path.join(d, "index.json")))
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
spans = []
for cell, repeat in index["order"]:
    run = index["cells"][cell]["runs"][repeat]
    m = json.load(open(os.path.join(d, run["dir"], "manifest.json")))
    spans.append((t(m["start_time"]), t(m["end_time"])))
gaps = [(spans[i + 1][0] - spans[i][1]).total_seconds() for i in range(len(spans) - 1)]
print(f"runs {len(spans)}  gaps between runs (s): " + " ".join(f"{g:.3f}" for g in gaps))
print(f"max gap {max(gaps):.3f} s, mean {sum(gaps)/len(gaps):.3f} s")
PY
