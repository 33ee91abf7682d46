#!/usr/bin/env python3
"""Soak benchmark: a fleet through edgebench for minutes; memory stays flat, counts add up.

The default run (issue 13, "Soak"; docs/PERFORMANCE.md, "Soak") is 1,000 devices at 1 msg/s
each, QoS 1, 32-byte payloads, one worker, a 10 s warm-up and a 10-minute window, the capture
on as in a normal run, against edgebench's embedded mosquitto. The scenario is bench/fleet.py's
(written into a temporary directory, `--set` applies on top). While edgebench runs, the script
reads VmRSS from /proc/<pid>/status every second for the orchestrator (the edgebench process it
started), its worker(s) and the embedded broker (the orchestrator's children; each pid takes
its role from samples.csv after the run), and afterwards reads summary.json, samples.csv
(edgebench's own samples, 100 ms apart by default) and timeline.csv (one row per second) of the
run. It prints:

  - RSS: per process, the value at every minute of the window, the least-squares slope over
    the window's last 80 % (the last 8 minutes of 10) and the growth: the largest value from
    10 % of the window on (1 minute of 10) minus the value at that point; from the script's
    samples and, as a cross-check, from samples.csv;
  - counts: scheduled = received + lost + in flight + unsent, duplicates, status;
  - latency per minute: the median of the per-second p50 and p99 (timeline.csv), the largest
    per-second p99, and the slope of the per-second p50 over the same 80 %;

and a targets block. Exit code: 0 every target met, 1 a target missed, 2 usage, 3 the run could
not be made (no summary.json, a harness error), 130 interrupted.

    python3 bench/soak.py [--minutes 10] [--devices 1000] [--rate 1] [--qos 1] [--set k=v]
                          [--edgebench PATH] [--json OUT] [--keep]

Only the Python standard library is used; processes are started, stopped and reaped as
bench/run.py does (bench/fleet.py's run_edgebench, harness.Procs).
"""
import argparse
import bisect
import csv
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
import fleet  # noqa: E402  (bench/fleet.py: the scenario, run_edgebench, figures, print_checks)

harness = fleet.harness  # bench/run.py: Procs, HarnessError, wait_until_quiet

# "Flat": a leak of one byte per message at 1,000 msg/s is 58.6 KiB/min; the slope limit is
# about that, the growth limit a few allocator arenas' worth.
MAX_SLOPE_KIB_PER_MIN = 64.0
MAX_GROWTH_MIB = 2.0
# No drift: the per-second p50 rises by less than 0.1 ms a minute (1 ms over 10 minutes).
MAX_P50_SLOPE_MS_PER_MIN = 0.1
SETTLE_FRACTION = 0.1  # the first 10 % of the window is warm-up for RSS; the fit starts at 20 %
ROLES = ("worker", "orchestrator", "broker")
TARGET_ROLES = ("worker", "orchestrator")  # edgebench's own; the broker is mosquitto's
EXIT_MISSED, EXIT_FAILED = 1, 3


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edgebench", default=os.path.join(REPO_DIR, "build", "edgebench"),
                    help="the edgebench binary (default build/edgebench)")
    ap.add_argument("--minutes", type=float, default=10, help="the measured window (default 10)")
    ap.add_argument("--devices", type=int, default=1000, help="devices.count (default 1000)")
    ap.add_argument("--rate", type=float, default=1.0,
                    help="publish.rate per device in msg/s (default 1)")
    ap.add_argument("--qos", type=int, default=1, choices=[0, 1, 2], help="QoS (default 1)")
    ap.add_argument("--workers", type=int, default=1, help="workers (default 1)")
    ap.add_argument("--size", type=int, default=32, help="payload bytes (default 32)")
    ap.add_argument("--warmup-s", type=float, default=10, help="warmup_s (default 10)")
    ap.add_argument("--drain-s", type=float, default=5, help="drain_s (default 5)")
    ap.add_argument("--no-capture", action="store_true",
                    help="capture: {enabled: false} (default: the capture on, as a user runs it)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="passed on to edgebench run as --set KEY=VALUE (repeatable)")
    ap.add_argument("--interval-s", type=float, default=1.0,
                    help="how often the script reads VmRSS (default 1)")
    ap.add_argument("--max-slope-kib-min", type=float, default=MAX_SLOPE_KIB_PER_MIN,
                    help="RSS slope limit, KiB/min (default %(default)g)")
    ap.add_argument("--max-growth-mib", type=float, default=MAX_GROWTH_MIB,
                    help="RSS growth limit after the first 10 %% of the window, MiB "
                         "(default %(default)g)")
    ap.add_argument("--max-p50-slope-ms-min", type=float, default=MAX_P50_SLOPE_MS_PER_MIN,
                    help="latency p50 slope limit, ms/min (default %(default)g)")
    ap.add_argument("--timeout-s", type=float, default=300,
                    help="longest edgebench may run beyond warm-up, window and drain (default 300)")
    ap.add_argument("--wait-idle-s", type=float, default=0,
                    help="before the run, wait up to this long for the machine to be idle "
                         "(as fleet.py; default 0: a soak is about memory, not the tail)")
    ap.add_argument("--json", help="write the series, the figures and the checks to this file")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (run directory, capture included)")
    args = ap.parse_args(argv)
    if args.minutes <= 0 or args.devices < 1 or not 1 <= args.workers <= args.devices:
        ap.error("need --minutes > 0, --devices >= 1 and 1 <= --workers <= --devices")
    if args.interval_s <= 0:
        ap.error("need --interval-s > 0")
    args.duration_s = args.minutes * 60.0
    args.edgebench = os.path.abspath(args.edgebench)
    return args


# ---------------------------------------------------------------------------------------
# Sampling /proc while edgebench runs.

def children_of(pid):
    """The pids whose parent is pid: /proc/<pid>/task/*/children, or a scan of /proc."""
    kids, found_file = set(), False
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids.update(int(x) for x in f.read().split())
                found_file = True
            except OSError:
                pass
    except OSError:
        return []
    if found_file:
        return sorted(kids)
    for entry in os.listdir("/proc"):  # kernels without CONFIG_PROC_CHILDREN
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return sorted(kids)


def read_proc(pid):
    """(comm, VmRSS in kB) of pid, or None when it is gone (or a zombie: no VmRSS)."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return comm, int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class RssSampler:
    """on_tick(child): one sample per process (orchestrator, its children) into rows."""

    def __init__(self):
        self.rows = []  # (wall time s, role, pid, rss_kb)

    def on_tick(self, child):
        wall = time.time()
        procs = [("orchestrator", child.pid)]
        for pid in children_of(child.pid):
            r = read_proc(pid)
            if r is not None:  # a first guess; relabel() takes edgebench's own roles after
                procs.append(("broker" if r[0] == "mosquitto" else "worker", pid))
        for role, pid in procs:
            r = read_proc(pid)
            if r is not None:
                self.rows.append((wall, role, pid, r[1]))


def csv_role(role):
    return "worker" if role.startswith("worker") else role  # worker.0, worker.1, ...


def relabel(rows, rundir):
    """The script's rows with the role samples.csv gives each pid (a link proxy is a forked
    edgebench, as the workers are: only edgebench knows which is which)."""
    roles = {}
    try:
        with open(os.path.join(rundir, "samples.csv")) as f:
            for row in csv.DictReader(f):
                roles[int(row["pid"])] = csv_role(row["role"])
    except (OSError, ValueError, KeyError, TypeError):
        return rows
    return [(wall, roles.get(pid, role), pid, rss) for wall, role, pid, rss in rows]


def summed(per_pid):
    """{role: {pid: [(x, kb)]}} -> {role: [(x, kb summed over the role's pids)]}: at each x of
    the role's most sampled pid, every pid's latest value up to 50 ms later (the samples of
    one pass over the processes are taken a little apart)."""
    out = {}
    for role, pids in per_pid.items():
        lists = [sorted(v) for v in pids.values()]
        ref = max(lists, key=len)
        xs = [[p[0] for p in lst] for lst in lists]
        pts = []
        for x, _ in ref:
            total = 0
            for lst, lx in zip(lists, xs):
                i = bisect.bisect_right(lx, x + 0.05) - 1
                total += lst[i][1] if i >= 0 else 0
            pts.append((x, total))
        out[role] = pts
    return out


def series(rows, window_start, duration_s):
    """{role: [(s into the window, rss_kb summed over that role's pids)]} of the script's rows
    inside the window [0, duration_s) (its end, where the worker builds its report, is left
    out)."""
    per_pid = {}
    for wall, role, pid, rss in rows:
        x = wall - window_start
        if 0 <= x < duration_s:
            per_pid.setdefault(role, {}).setdefault(pid, []).append((x, rss))
    return summed(per_pid)


def samples_csv_series(rundir, warmup_s, duration_s):
    """The same from edgebench's samples.csv (t_run_ms: ms since t0; several workers are
    worker.0, worker.1, ...), or {}."""
    per_pid = {}
    try:
        with open(os.path.join(rundir, "samples.csv")) as f:
            for row in csv.DictReader(f):
                x = int(row["t_run_ms"]) / 1000.0 - warmup_s
                if 0 <= x < duration_s:
                    per_pid.setdefault(csv_role(row["role"]), {}).setdefault(row["pid"], []).append(
                        (x, int(row["rss_kb"])))
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return summed(per_pid)


# ---------------------------------------------------------------------------------------
# Figures.

def slope(points):
    """Least-squares slope of [(x, y)], or None with fewer than 2 distinct x."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def flatness(points, duration_s):
    """RSS figures of one process: slope over [20 %, 100 %] of the window in KiB/min, growth
    = max over [10 %, 100 %] - the value at 10 %, in MiB, and the value at every minute."""
    settle = SETTLE_FRACTION * duration_s
    fit = [(x / 60.0, kb) for x, kb in points if x >= 2 * settle]
    after = [(x, kb) for x, kb in points if x >= settle]
    f = {"samples": len(points), "slope_kib_per_min": slope(fit), "fit_samples": len(fit),
         "growth_mib": None, "at_settle_kb": None, "max_kb": None, "first_kb": None,
         "last_kb": None, "by_minute_kb": []}
    if points:
        f["first_kb"], f["last_kb"] = points[0][1], points[-1][1]
        minute = 0
        for x, kb in points:
            if x >= minute * 60:
                f["by_minute_kb"].append(kb)
                minute = int(x // 60) + 1
    if after:
        f["at_settle_kb"], f["max_kb"] = after[0][1], max(kb for _, kb in after)
        f["growth_mib"] = (f["max_kb"] - f["at_settle_kb"]) / 1024.0
    return f


def latency_minutes(rundir, warmup_s):
    """Per minute of the window from timeline.csv: seconds, received, the median per-second
    p50 and p99 and the largest per-second p99 (us); and the per-second (minute, p50) points."""
    minutes, points = {}, []
    try:
        with open(os.path.join(rundir, "timeline.csv")) as f:
            for row in csv.DictReader(f):
                if row["phase"] != "measure" or int(row["received"] or 0) == 0:
                    continue
                s = int(row["second"]) - int(warmup_s)
                m = minutes.setdefault(s // 60, {"p50": [], "p99": [], "received": 0})
                m["p50"].append(int(row["p50_us"]))
                m["p99"].append(int(row["p99_us"]))
                m["received"] += int(row["received"])
                points.append((s / 60.0, int(row["p50_us"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None, []
    rows = [{"minute": k, "seconds": len(v["p50"]), "received": v["received"],
             "p50_median_us": statistics.median(v["p50"]),
             "p99_median_us": statistics.median(v["p99"]), "p99_max_us": max(v["p99"])}
            for k, v in sorted(minutes.items())]
    return rows, points


def counts(summary, rc):
    m = summary.get("messages") or {}
    keys = ("scheduled", "sent", "unsent", "received", "lost", "in_flight_at_end", "duplicated",
            "acked", "unacked", "skipped_disconnected", "publish_errors", "reordered")
    c = {k: m.get(k) for k in keys}
    c["status"], c["exit_code"], c["error"] = summary.get("status"), rc, summary.get("error")
    parts = [c[k] for k in ("received", "lost", "in_flight_at_end", "unsent")]
    c["accounted"] = None if None in parts else sum(parts)
    return c


def num(v, fmt="%.1f"):
    return fleet.num(v, fmt)


def flat_rows(role, f, args, source):
    s, g = f["slope_kib_per_min"], f["growth_mib"]
    return [
        ("%s RSS slope < %g KiB/min (%s)" % (role, args.max_slope_kib_min, source),
         "%s KiB/min" % num(s), s is not None and s < args.max_slope_kib_min),
        ("%s RSS growth < %g MiB (%s)" % (role, args.max_growth_mib, source),
         "%s MiB" % num(g, "%.2f"), g is not None and g < args.max_growth_mib),
    ]


def check_rows(fig, args):
    c = fig["counts"]
    rows = [("run status ok, exit code 0", "%s, exit %s" % (c["status"], c["exit_code"]),
             c["status"] == "ok" and c["exit_code"] == 0)]
    sched = c["scheduled"]
    rows.append(("scheduled = received + lost + in flight + unsent",
                 "%s = %s" % (sched, c["accounted"]),
                 sched is not None and sched > 0 and sched == c["accounted"]))
    rows.append(("sent >= 99 % of scheduled", "%s of %s" % (c["sent"], sched),
                 bool(sched) and c["sent"] is not None and c["sent"] >= 0.99 * sched))
    rows.append(("lost 0", str(c["lost"]), c["lost"] == 0))
    rows.append(("duplicates 0", "not measured" if c["duplicated"] is None else
                 str(c["duplicated"]), c["duplicated"] == 0))
    for role in TARGET_ROLES:
        f = fig["rss"].get(role)
        if f is None:
            rows.append(("%s RSS sampled" % role, "no samples", False))
        else:
            rows += flat_rows(role, f, args, "script")
    p = fig["latency_p50_slope_ms_per_min"]
    rows.append(("latency p50 slope < %g ms/min" % args.max_p50_slope_ms_min,
                 "%s ms/min" % num(p, "%+.3f"), p is not None and p < args.max_p50_slope_ms_min))
    return rows


# ---------------------------------------------------------------------------------------
# Output.

def mib(kb):
    return None if kb is None else kb / 1024.0


def print_rss(fig, csv_rss, args):
    print()
    print("RSS (MiB) at each minute of the window, from the script's 1 s samples of VmRSS;")
    print("slope over the last 80 %% of the window (from %.0f s), growth = max from %.0f s on "
          "- value at %.0f s" % (2 * SETTLE_FRACTION * args.duration_s,
                                 SETTLE_FRACTION * args.duration_s,
                                 SETTLE_FRACTION * args.duration_s))
    for role in ROLES + ("link",):
        f = fig["rss"].get(role)
        if f is None:
            continue
        print("  %-13s %s" % (role, " ".join(num(mib(kb)) for kb in f["by_minute_kb"])))
        c = csv_rss.get(role)
        per_h = None if f["slope_kib_per_min"] is None else f["slope_kib_per_min"] * 60 / 1024
        print("  %-13s slope %s KiB/min (%s MiB an hour), growth %s MiB (%d samples); "
              "samples.csv: slope %s KiB/min, growth %s MiB (%s samples); peak %s MiB "
              "(VmHWM, whole run)" % (
                  "", num(f["slope_kib_per_min"]), num(per_h), num(f["growth_mib"], "%.2f"),
                  f["samples"], num(c and c["slope_kib_per_min"]),
                  num(c and c["growth_mib"], "%.2f"), c["samples"] if c else "no",
                  num(mib(fig["peak_kb"].get(role)))))


def print_latency(fig):
    print()
    rows = fig["latency_by_minute"]
    if not rows:
        print("latency        no per-second series (timeline.csv missing or no arrivals)")
        return
    print("latency by minute of the window (timeline.csv: medians of the per-second p50/p99, "
          "ms)")
    print("  %-6s %-8s %-10s %-8s %-8s %s" % ("minute", "seconds", "received", "p50", "p99",
                                             "worst second's p99"))
    for r in rows:
        print("  %-6d %-8d %-10d %-8s %-8s %s" % (
            r["minute"], r["seconds"], r["received"], num(r["p50_median_us"] / 1000.0, "%.2f"),
            num(r["p99_median_us"] / 1000.0, "%.2f"), num(r["p99_max_us"] / 1000.0, "%.2f")))
    print("  per-second p50 slope %s ms/min, p99 slope %s ms/min (last 80 %% of the window)" % (
        num(fig["latency_p50_slope_ms_per_min"], "%+.3f"),
        num(fig["latency_p99_slope_ms_per_min"], "%+.3f")))


def print_counts(c, f):
    print()
    print("edgebench exit code %s, status %s%s" % (c["exit_code"], c["status"],
                                                   ", error: " + c["error"] if c["error"] else ""))
    print("messages       scheduled %s = received %s + lost %s + in flight %s + unsent %s "
          "(= %s); sent %s, acked %s, unacked %s, duplicated %s, reordered %s" % (
              c["scheduled"], c["received"], c["lost"], c["in_flight_at_end"], c["unsent"],
              c["accounted"], c["sent"], c["acked"], c["unacked"], c["duplicated"],
              c["reordered"]))
    print("rate           sent %s msg/s in the window against %s scheduled" % (
        num(f["sent_per_s"]), num(f["nominal_per_s"], "%.0f")))
    print("whole window   latency %s" % fleet.dist_text(f, "latency"))
    print("               generator lag %s" % fleet.dist_text(f, "lag"))
    for note in f["notes"]:
        print("note           " + note)


# ---------------------------------------------------------------------------------------

def p99_points(rundir, warmup_s):
    pts = []
    try:
        with open(os.path.join(rundir, "timeline.csv")) as f:
            for row in csv.DictReader(f):
                if row["phase"] == "measure" and int(row["received"] or 0) > 0:
                    pts.append(((int(row["second"]) - int(warmup_s)) / 60.0, int(row["p99_us"])))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return pts


def build_figures(summary, rc, rundir, sampler, args):
    window_start = summary.get("t0_unix_ms", 0) / 1000.0 + args.warmup_s
    own = series(relabel(sampler.rows, rundir), window_start, args.duration_s)
    from_csv = samples_csv_series(rundir, args.warmup_s, args.duration_s)
    lat_rows, p50_points = latency_minutes(rundir, args.warmup_s)
    fit_from = 2 * SETTLE_FRACTION * args.duration_s / 60.0
    p50_slope = slope([p for p in p50_points if p[0] >= fit_from])
    p99_slope = slope([p for p in p99_points(rundir, args.warmup_s) if p[0] >= fit_from])
    ticks = sorted({r[0] for r in sampler.rows})
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return {
        "counts": counts(summary, rc),
        "rss": {role: flatness(pts, args.duration_s) for role, pts in own.items()},
        "rss_samples_csv": {role: flatness(pts, args.duration_s)
                            for role, pts in from_csv.items()},
        "latency_by_minute": lat_rows,
        "latency_p50_slope_ms_per_min": None if p50_slope is None else p50_slope / 1000.0,
        "latency_p99_slope_ms_per_min": None if p99_slope is None else p99_slope / 1000.0,
        "window_start_unix_s": window_start,
        "sample_ticks": len(ticks), "sample_gap_max_s": max(gaps) if gaps else None,
        "peak_kb": {role: p.get("rss_peak_kb")
                    for role, p in (summary.get("processes") or {}).items()
                    if isinstance(p, dict)},
    }


def run_and_report(procs, args, workdir):
    fds = fleet.fd_check(args)
    for w in fds["warnings"]:
        print("warning: " + w)
    print("soak: %d devices x %s msg/s, QoS %d, %d worker(s), %s s warm-up + %s min window + "
          "%s s drain, capture %s, embedded broker; RSS read every %s s" % (
              args.devices, args.rate, args.qos, args.workers, args.warmup_s, args.minutes,
              args.drain_s, "off" if args.no_capture else "on", args.interval_s), flush=True)
    if args.wait_idle_s > 0:
        harness.wait_until_quiet(args.wait_idle_s)
    busy0, own0, start = harness.busy_cpu_s(), harness.own_cpu_s(), time.monotonic()
    sampler = RssSampler()
    rc, summary, rundir, err_tail = fleet.run_edgebench(
        procs, args, workdir, None, name="soak", every_s=args.interval_s, on_tick=sampler.on_tick)
    wall_s = time.monotonic() - start
    other_cores = ((harness.busy_cpu_s() - busy0) - (harness.own_cpu_s() - own0)) / wall_s
    if summary is None:
        print("edgebench exited %s and wrote no summary.json: %s" % (rc, err_tail))
        return EXIT_FAILED
    f = fleet.figures(summary, args)
    fig = build_figures(summary, rc, rundir, sampler, args)
    fig["edgebench"] = harness.edgebench_revision(rundir)
    fig["other_cores"] = round(other_cores, 2)
    print("edgebench %s at %s" % (fig["edgebench"], args.edgebench))
    print_counts(fig["counts"], f)
    if rc != 0 and err_tail and not f["error"]:
        print("edgebench stderr: " + err_tail)
    print_rss(fig, fig["rss_samples_csv"], args)
    print("  (%d ticks of the script, largest gap %s s)" % (fig["sample_ticks"],
                                                         num(fig["sample_gap_max_s"], "%.2f")))
    print_latency(fig)
    print()
    print("other load     %.2f cores used by other processes on average during the run (the "
          "machine is shared: the latency figures are disturbed by it, RSS is not)" % other_cores)
    rows = check_rows(fig, args)
    fleet.print_checks("soak targets, %d devices x %s msg/s for %s min, QoS %d" % (
        args.devices, args.rate, args.minutes, args.qos), rows)
    if args.json:
        out = {"args": vars(args), "figures": fig, "fleet_figures": f,
               "checks": [{"check": n, "measured": m, "met": ok} for n, m, ok in rows],
               "samples": sampler.rows, "run_dir": rundir if args.keep else None}
        with open(args.json, "w") as fp:
            json.dump(out, fp, indent=1)
        print("wrote %s" % args.json)
    if args.keep:
        print("run directory  %s" % rundir)
    return 0 if all(r[2] for r in rows) else EXIT_MISSED


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, harness._on_signal)
    signal.signal(signal.SIGINT, harness._on_signal)
    if not (os.path.isfile(args.edgebench) and os.access(args.edgebench, os.X_OK)):
        print("error: no edgebench executable at %s (--edgebench PATH)" % args.edgebench,
              file=sys.stderr)
        return 2
    workdir = tempfile.mkdtemp(prefix="edgebench-soak-")
    procs = harness.Procs()
    try:
        return run_and_report(procs, args, workdir)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
        return 130
    except harness.HarnessError as e:
        print("error: %s" % e, file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        procs.stop_all()
        if args.keep:
            print("kept %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
