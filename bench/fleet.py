#!/usr/bin/env python3
"""Fleet benchmark: a large scheduled fleet through edgebench, and one this machine cannot carry.

The default run is target (d) of docs/PERFORMANCE.md ("The instrument is not the bottleneck"): 10,000 devices at 1 msg/s each,
`workers: 2`, QoS 0, 32-byte payloads, a warm-up and a 20 s window, the capture on as in a
normal run, against edgebench's embedded mosquitto (or, with --broker mosquitto, one this
script starts on a free 127.0.0.1 port). It reads the run's summary.json and prints the
scheduled and the sent rate, the generator lag and the latency, the unsent and skipped
counts, each process's peak RSS and CPU, and whether (d) is met:

  - schedule held: the window's sent rate within 1 % of devices x rate, and at least 99 % of
    the scheduled messages sent over the whole run,
  - generator lag p99 < 1 ms, latency p99 < 2 ms,
  - peak RSS of the orchestrator plus all workers < 64 MiB.

--overload runs a fleet this machine cannot carry (by default the same fleet at 10 msg/s per
device, 100,000 msg/s in all, for 15 s) and prints what edgebench reported, status, lag,
unsent count, notes, so target (e) can be judged: that it says the generator fell behind and
does not show a good latency.

    python3 bench/fleet.py [--edgebench PATH] [--overload] [--devices N] [--rate R]
                           [--workers W] [--duration-s S] [--warmup-s S] [--no-capture]
                           [--broker embedded|mosquitto] [--json OUT] [--keep]

Only the Python standard library is used; processes are started and stopped as bench/run.py
does (PR_SET_PDEATHSIG, pidfds, stopped and reaped by PID, every wait with a timeout).
"""
import argparse
import csv
import json
import math
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
import run as harness  # noqa: E402  (bench/run.py: Procs, Broker, HarnessError)

FDS_PER_CLIENT = 3     # libmosquitto 2.0: the socket and a wake-up socket pair
FDS_SPARE = 64         # a worker's other descriptors (pipes, logs, the pidfds)
LAG_P99_MAX_US = 1000
LATENCY_P99_MAX_US = 2000
RSS_MAX_KB = 64 * 1024
SCHEDULE_TOLERANCE = 0.01

OVERLOAD = {"devices": 10000, "rate": 10.0, "duration_s": 15.0, "warmup_s": 2.0}
NORMAL = {"devices": 10000, "rate": 1.0, "duration_s": 20.0, "warmup_s": 3.0}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edgebench", default=os.path.join(REPO_DIR, "build", "edgebench"),
                    help="the edgebench binary (default build/edgebench)")
    ap.add_argument("--overload", action="store_true",
                    help="run a fleet this machine cannot carry (default 10,000 devices x 10 "
                         "msg/s for 15 s) and show what edgebench reports: target (e)")
    ap.add_argument("--devices", type=int, help="devices.count (default 10000)")
    ap.add_argument("--rate", type=float, help="publish.rate per device in msg/s (default 1; "
                                               "10 with --overload)")
    ap.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    ap.add_argument("--qos", type=int, default=0, choices=[0, 1, 2], help="QoS (default 0)")
    ap.add_argument("--size", type=int, default=32, help="payload bytes (default 32)")
    ap.add_argument("--warmup-s", type=float, help="warmup_s (default 3; 2 with --overload)")
    ap.add_argument("--duration-s", type=float,
                    help="the measured window, duration_s (default 20; 15 with --overload)")
    ap.add_argument("--drain-s", type=float, default=2, help="drain_s (default 2)")
    ap.add_argument("--no-capture", action="store_true",
                    help="capture: {enabled: false} (default: the capture on, as a user runs it)")
    ap.add_argument("--broker", choices=["embedded", "mosquitto"], default="embedded",
                    help="embedded: edgebench starts its mosquitto (broker: {embedded: true}); "
                         "mosquitto: this script starts one on a free 127.0.0.1 port")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="passed on to edgebench run as --set KEY=VALUE (repeatable), e.g. "
                         "broker.connect_timeout_s=15")
    ap.add_argument("--timeout-s", type=float, default=300,
                    help="longest edgebench may run beyond warm-up, window and drain (default 300)")
    ap.add_argument("--wait-idle-s", type=float, default=60,
                    help="before the run, wait up to this long for the machine to be idle "
                         "(other processes using at most 0.25 cores); 0 = do not wait (default 60)")
    ap.add_argument("--json", help="write the figures and the checks to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    base = OVERLOAD if args.overload else NORMAL
    for key in ("devices", "rate", "duration_s", "warmup_s"):
        if getattr(args, key) is None:
            setattr(args, key, base[key])
    if args.devices < 1 or args.workers < 1 or args.workers > args.devices:
        ap.error("need devices >= 1 and 1 <= workers <= devices")
    args.edgebench = os.path.abspath(args.edgebench)
    return args


def fd_check(args):
    """What the open-files limit allows: the figures and a warning when it gets in the way."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    per_worker = math.ceil(args.devices / args.workers)
    need_worker = per_worker * FDS_PER_CLIENT + FDS_SPARE
    need_broker = args.devices + FDS_SPARE  # one socket per device, the collector, its files
    out = {"soft": soft, "hard": hard, "devices_per_worker": per_worker,
           "worker_needs": need_worker, "broker_needs": need_broker, "warnings": []}
    limit = lambda v: "unlimited" if v == resource.RLIM_INFINITY else str(v)
    if hard != resource.RLIM_INFINITY and need_worker > hard:
        out["warnings"].append(
            "open files: a worker needs about %d descriptors (%d devices x %d + %d) but the hard "
            "limit is %s: edgebench will refuse the share; use more workers (--workers %d), or "
            "raise the hard limit" % (need_worker, per_worker, FDS_PER_CLIENT, FDS_SPARE,
                                      limit(hard), math.ceil(args.devices * FDS_PER_CLIENT /
                                                             max(1, hard - FDS_SPARE))))
    if soft != resource.RLIM_INFINITY and need_broker > soft:
        out["warnings"].append(
            "open files: the broker needs about %d descriptors (one per device) and starts with "
            "the soft limit %s (ulimit -n): it may refuse connections" % (need_broker, limit(soft)))
    return out


def write_scenario(path, args, port, name="fleet"):
    """The scenario of a fleet run (bench/soak.py writes its own through this, name "soak")."""
    with open(path, "w") as f:
        f.write("name: %s\n" % name)
        if port is None:
            f.write("broker: {embedded: true}\n")
        else:
            f.write("broker: {embedded: false, host: %s, port: %d}\n" % (harness.HOST, port))
        f.write("devices: {count: %d}\n" % args.devices)
        f.write('topics: ["%s/{device}"]\n' % name)
        f.write("publish: {rate: %s, qos: %d, payload: {size: %d, kind: random}}\n"
                % (repr(args.rate), args.qos, args.size))
        f.write("latency: true\n")
        f.write("workers: %d\n" % args.workers)
        f.write("warmup_s: %s\nduration_s: %s\ndrain_s: %s\n" % (
            args.warmup_s, args.duration_s, args.drain_s))
        f.write("capture: {enabled: %s}\n" % ("false" if args.no_capture else "true"))


def run_edgebench(procs, args, workdir, port, name="fleet", every_s=None, on_tick=None):
    """Runs edgebench once; returns (exit code, summary or None, run directory, stderr tail).
    With on_tick, calls on_tick(child) when edgebench has started and then every every_s
    seconds while it runs (bench/soak.py samples /proc that way)."""
    scenario = os.path.join(workdir, name + ".yaml")
    write_scenario(scenario, args, port, name)
    outdir = os.path.join(workdir, "results")
    out_path, err_path = os.path.join(workdir, "edgebench.out"), os.path.join(workdir, "edgebench.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        argv = [args.edgebench, "run", scenario, "--out", outdir, "--log-level", "warn"]
        for kv in args.set:
            argv += ["--set", kv]
        child = procs.start("edgebench", argv, stdout=out, stderr=err)
        limit = args.warmup_s + args.duration_s + args.drain_s + args.timeout_s
        if not wait_ticking(procs, child, limit, every_s, on_tick):
            procs.stop(child, term_timeout_s=10)
            raise harness.HarnessError("edgebench did not finish in %.0f s" % limit)
    summary, rundir = harness.edgebench_summary(outdir)
    if summary is None and child.returncode != 0:
        raise harness.HarnessError("edgebench exited %s without a summary: %s" % (
            child.returncode, harness.tail(err_path, 3)))
    return child.returncode, summary, rundir, harness.tail(err_path, 5)


def wait_ticking(procs, child, limit_s, every_s, on_tick):
    """procs.wait([child], limit_s), calling on_tick(child) every every_s seconds meanwhile
    (on a fixed grid from the start, so a slow tick does not shift the next ones)."""
    if on_tick is None:
        return procs.wait([child], limit_s)
    start = time.monotonic()
    deadline = start + limit_s
    while True:
        on_tick(child)
        now = time.monotonic()
        if now >= deadline:
            return child.try_reap()
        next_tick = start + (math.floor((now - start) / every_s) + 1) * every_s  # skips missed ones
        if procs.wait([child], min(next_tick, deadline) - now):
            return True


def num(v, fmt="%.3f"):
    return "-" if v is None else fmt % v


def figures(summary, args):
    """The figures of (d) and (e) from one summary.json."""
    msgs = summary.get("messages") or {}
    thr = summary.get("throughput") or {}
    lag = summary.get("generator_lag_us") or {}
    lat = summary.get("latency_us") or {}
    procs = summary.get("processes") or {}
    orch = procs.get("orchestrator") or {}
    worker = procs.get("worker") or {}
    nominal = args.devices * args.rate
    sent_rate = thr.get("sent_per_s")
    f = {
        "status": summary.get("status"), "error": summary.get("error"),
        "notes": summary.get("notes") or [],
        "nominal_per_s": nominal, "sent_per_s": sent_rate,
        "received_per_s": thr.get("received_per_s"),
        "rate_deviation_pct": None if sent_rate is None else 100.0 * (sent_rate / nominal - 1),
        "scheduled": msgs.get("scheduled"), "sent": msgs.get("sent"),
        "unsent": msgs.get("unsent"), "skipped_disconnected": msgs.get("skipped_disconnected"),
        "received": msgs.get("received"), "lost": msgs.get("lost"),
        "in_flight_at_end": msgs.get("in_flight_at_end"),
        "lag_count": lag.get("count") or 0, "latency_count": lat.get("count") or 0,
        "lag_p50_us": lag.get("p50"), "lag_p99_us": lag.get("p99"), "lag_max_us": lag.get("max"),
        "latency_p50_us": lat.get("p50"), "latency_p99_us": lat.get("p99"),
        "latency_max_us": lat.get("max"),
        "orchestrator_rss_kb": orch.get("rss_peak_kb"), "workers_rss_kb": worker.get("rss_peak_kb"),
        # A whole-life figure when there is one; a worker that did not report has 0 there.
        "orchestrator_cpu_s": orch.get("cpu_s_total") or orch.get("cpu_s"),
        "orchestrator_cpu_pct": orch.get("cpu_pct_mean"),
        "workers_cpu_s": worker.get("cpu_s_total") or worker.get("cpu_s"),
        "workers_cpu_pct": worker.get("cpu_pct_mean"),
        "per_worker": [{"pid": w.get("pid"), "rss_kb": w.get("rss_peak_kb"),
                        "cpu_s": w.get("cpu_s"), "cpu_pct": w.get("cpu_pct_mean")}
                       for w in (procs.get("workers") or [worker])],
        "broker": procs.get("broker"),
        "capture": (summary.get("network") or {}).get("capture"),
    }
    if f["orchestrator_rss_kb"] is not None and f["workers_rss_kb"] is not None:
        f["total_rss_kb"] = f["orchestrator_rss_kb"] + f["workers_rss_kb"]
    else:
        f["total_rss_kb"] = None
    f["sent_of_scheduled"] = (None if not f["scheduled"] or f["sent"] is None
                              else f["sent"] / f["scheduled"])
    return f


def check_fleet(f):
    """Target (d): (name, measured, met) rows."""
    dev = f["rate_deviation_pct"]
    sos = f["sent_of_scheduled"]
    rows = [
        ("window sent rate within 1 % of devices x rate", "%s %%" % num(dev, "%+.2f"),
         dev is not None and abs(dev) <= 100 * SCHEDULE_TOLERANCE),
        ("sent >= 99 % of scheduled (whole run)", "%s %%" % num(None if sos is None else 100 * sos,
                                                             "%.2f"),
         sos is not None and sos >= 1 - SCHEDULE_TOLERANCE),
        ("generator lag p99 < 1 ms",
         "%s ms" % num(ms(f["lag_p99_us"])) if f["lag_count"] else "none recorded",
         f["lag_count"] > 0 and f["lag_p99_us"] is not None and f["lag_p99_us"] < LAG_P99_MAX_US),
        ("latency p99 < 2 ms",
         "%s ms" % num(ms(f["latency_p99_us"])) if f["latency_count"] else "none recorded",
         f["latency_count"] > 0 and f["latency_p99_us"] is not None
         and f["latency_p99_us"] < LATENCY_P99_MAX_US),
        ("RSS orchestrator + workers < 64 MiB", "%s MiB" % num(mib(f["total_rss_kb"]), "%.1f"),
         f["total_rss_kb"] is not None and f["total_rss_kb"] < RSS_MAX_KB),
        ("run status ok", str(f["status"]), f["status"] == "ok"),
    ]
    return rows


# What a note that names the fall-behind says ("the generator fell behind its schedule ...").
BEHIND_WORDS = ("behind", "overload", "could not carry", "could not keep up")


def check_overload(f):
    """Target (e): does the summary say the generator fell behind, and does it keep a bad
    latency from looking good? (name, measured, met) rows."""
    behind_notes = [n for n in f["notes"] if any(w in n.lower() for w in BEHIND_WORDS)]
    lag_bad = f["lag_count"] > 0 and (f["lag_p99_us"] or 0) >= LAG_P99_MAX_US
    unsent = f["unsent"] or 0
    lat = f["latency_p99_us"]
    rows = [
        ("generator lag p99 shows it (>= 1 ms)",
         "%s ms" % num(ms(f["lag_p99_us"])) if f["lag_count"] else "none recorded", lag_bad),
        ("unsent messages counted", "%d of %s scheduled" % (unsent, f["scheduled"]), unsent > 0),
        ("a note names the fall-behind", "%d of %d notes (status %s)" % (
            len(behind_notes), len(f["notes"]), f["status"]), bool(behind_notes)),
        ("latency p99 not shown as good (>= 2 ms, or none)",
         "%s ms" % num(ms(lat)) if f["latency_count"] else "none recorded",
         not f["latency_count"] or lat is None or lat >= LATENCY_P99_MAX_US),
    ]
    return rows, behind_notes


def ms(us):
    return None if us is None else us / 1000.0


def mib(kb):
    return None if kb is None else kb / 1024.0


def seconds_of(rundir):
    """timeline.csv's measured seconds: the median and the worst of their latency p99, which
    tells a steady p99 from one bad second (the start or the end of the window)."""
    rows = []
    try:
        with open(os.path.join(rundir, "timeline.csv")) as fp:
            for row in csv.DictReader(fp):
                if row["phase"] == "measure" and int(row["received"] or 0) > 0:
                    rows.append((int(row["p99_us"]), int(row["second"]), int(row["sent"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not rows:
        return None
    worst = sorted(rows, reverse=True)[:3]
    return {"seconds": len(rows), "p99_median_us": statistics.median(r[0] for r in rows),
            "worst": [{"second": sec, "p99_us": p99, "sent": sent} for p99, sec, sent in worst]}


def dist_text(f, key):
    if not f[key + "_count"]:
        return "none recorded (count 0)"
    return "p50 %s ms, p99 %s ms, max %s ms (%d messages)" % (
        num(ms(f[key + "_p50_us"])), num(ms(f[key + "_p99_us"])), num(ms(f[key + "_max_us"])),
        f[key + "_count"])


def print_figures(f, args, rc):
    print()
    print("edgebench exit code %s, status %s%s" % (rc, f["status"],
                                                   ", error: " + f["error"] if f["error"] else ""))
    if not f["sent"]:
        print("summary.json counts no message sent: the workers' reports are missing (the run "
              "stopped before the load, or a worker did not report; see the error above)")
    print("fleet          %d devices x %s msg/s = %s msg/s, %d workers, QoS %d, capture %s" % (
        args.devices, args.rate, num(f["nominal_per_s"], "%.0f"), args.workers, args.qos,
        f["capture"]))
    print("rate           scheduled %s msg/s, sent %s msg/s (%s %%), received %s msg/s "
          "(the window)" % (num(f["nominal_per_s"], "%.1f"), num(f["sent_per_s"], "%.1f"),
                            num(f["rate_deviation_pct"], "%+.2f"),
                            num(f["received_per_s"], "%.1f")))
    print("messages       scheduled %s, sent %s, unsent %s (skipped while disconnected %s), "
          "received %s, lost %s, in flight at end %s (the whole run)" % (
              f["scheduled"], f["sent"], f["unsent"], f["skipped_disconnected"], f["received"],
              f["lost"], f["in_flight_at_end"]))
    print("generator lag  " + dist_text(f, "lag"))
    print("latency        " + dist_text(f, "latency") + " (from the intended send time)")
    b = f.get("by_second")
    if b:
        print("by second      latency p99 of each measured second: median %s ms; worst %s" % (
            num(ms(b["p99_median_us"])), ", ".join("%s ms (second %d)" % (num(ms(w["p99_us"])),
                                                                        w["second"])
                                                   for w in b["worst"])))
    print("peak RSS       orchestrator %s MiB + workers %s MiB = %s MiB" % (
        num(mib(f["orchestrator_rss_kb"]), "%.1f"), num(mib(f["workers_rss_kb"]), "%.1f"),
        num(mib(f["total_rss_kb"]), "%.1f")))
    print("CPU            orchestrator %s s (%s %% of a core), workers %s s (%s %%)" % (
        num(f["orchestrator_cpu_s"], "%.2f"), num(f["orchestrator_cpu_pct"], "%.1f"),
        num(f["workers_cpu_s"], "%.2f"), num(f["workers_cpu_pct"], "%.1f")))
    for i, w in enumerate(f["per_worker"]):
        print("  worker %d     pid %s: %s s CPU (%s %%), peak RSS %s MiB" % (
            i, w["pid"], num(w["cpu_s"], "%.2f"), num(w["cpu_pct"], "%.1f"),
            num(mib(w["rss_kb"]), "%.1f")))
    b = f["broker"]
    if b:
        print("broker         %s s CPU (%s %% of a core), peak RSS %s MiB" % (
            num(b.get("cpu_s"), "%.2f"), num(b.get("cpu_pct_mean"), "%.1f"),
            num(mib(b.get("rss_peak_kb")), "%.1f")))
    for note in f["notes"]:
        print("note           " + note)
    print("other CPU      %.2f s used by other processes during the run%s" % (
        f["other_cpu_s"], ": figures may be disturbed" if f["other_cpu_s"] > 1.0 else ""))


def print_checks(title, rows):
    print()
    print("%s: %s" % (title, "met" if all(r[2] for r in rows) else "NOT MET"))
    for name, measured, met in rows:
        print("  %-50s %-24s %s" % (name, measured, "met" if met else "not met"))


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, harness._on_signal)
    signal.signal(signal.SIGINT, harness._on_signal)
    if not (os.path.isfile(args.edgebench) and os.access(args.edgebench, os.X_OK)):
        print("error: no edgebench executable at %s (--edgebench PATH)" % args.edgebench,
              file=sys.stderr)
        return 2
    fds = fd_check(args)
    print("open files: soft %s, hard %s; %d devices per worker need about %d each, the broker "
          "about %d" % (fds["soft"], fds["hard"], fds["devices_per_worker"], fds["worker_needs"],
                        fds["broker_needs"]))
    for w in fds["warnings"]:
        print("warning: " + w)
    workdir = tempfile.mkdtemp(prefix="edgebench-fleet-")
    procs = harness.Procs()
    rc = 0
    try:
        rc = run_and_report(procs, args, workdir, fds)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
        rc = 130
    except harness.HarnessError as e:
        print("error: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        procs.stop_all()
        if args.keep:
            print("kept %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return rc


def run_and_report(procs, args, workdir, fds):
    broker = None
    if args.broker == "mosquitto":
        broker = harness.Broker(procs, workdir, "fleet")
    print("running %s: %d devices x %s msg/s, %d workers, %s s warm-up + %s s window, capture "
          "%s, %s broker" % ("the overload" if args.overload else "the fleet", args.devices,
                             args.rate, args.workers, args.warmup_s, args.duration_s,
                             "off" if args.no_capture else "on", args.broker), flush=True)
    if args.wait_idle_s > 0:
        harness.wait_until_quiet(args.wait_idle_s)
    busy0, own0 = harness.busy_cpu_s(), harness.own_cpu_s()
    try:
        rc, summary, rundir, err_tail = run_edgebench(procs, args, workdir,
                                                      broker.port if broker else None)
    finally:
        broker_cpu = broker.stop() if broker else None
    # CPU the machine spent outside this script and the processes it started (all reaped).
    other_cpu_s = (harness.busy_cpu_s() - busy0) - (harness.own_cpu_s() - own0)
    if summary is None:
        print("edgebench exited %s and wrote no summary.json: %s" % (rc, err_tail))
        return 1
    f = figures(summary, args)
    f["edgebench"] = harness.edgebench_revision(rundir)
    f["by_second"] = seconds_of(rundir)
    f["other_cpu_s"] = round(other_cpu_s, 2)
    print("edgebench %s at %s" % (f["edgebench"], args.edgebench))
    if broker_cpu is not None:
        f["broker"] = {"cpu_s": broker_cpu}
    print_figures(f, args, rc)
    if rc != 0 and err_tail and not f["error"]:
        print("edgebench stderr: " + err_tail)
    out = {"args": vars(args), "open_files": fds, "exit_code": rc, "figures": f,
           "run_dir": rundir if args.keep else None}
    if args.overload:
        rows, behind = check_overload(f)
        print_checks("target (e), the overload is reported as such", rows)
        out["target_e"] = [{"check": n, "measured": m, "met": ok} for n, m, ok in rows]
        out["behind_notes"] = behind
    else:
        rows = check_fleet(f)
        print_checks("target (d), %d devices x %s msg/s" % (args.devices, args.rate), rows)
        out["target_d"] = [{"check": n, "measured": m, "met": ok} for n, m, ok in rows]
    if args.json:
        with open(args.json, "w") as fp:
            json.dump(out, fp, indent=1)
        print("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
