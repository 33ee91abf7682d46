#!/usr/bin/env python3
"""Capacity benchmark: edgebench against other MQTT publishers on the same local mosquitto.

For every load and tool, and every repeat, the harness

  1. starts a fresh mosquitto on a free 127.0.0.1 port from a minimal config,
  2. starts the independent counter, bench/raw_count (its own MQTT code, no library; or
     bench/count_sub, libmosquitto, with --counter count_sub), subscribed to bench/# at the
     load's QoS, and waits until it prints "ready" (its subscription is acknowledged),
  3. starts the publisher under measurement through bench/measure (fork, exec, wait4()),
     which gives the publisher's own user+sys CPU and peak RSS (children included); for
     edgebench the worker's CPU and RSS come from its summary.json,
  4. collects the counter's count and rate (messages / (last - first)), stops the
     broker, and throws the broker away.

It prints one line per load and tool: delivered msg/s, client CPU s per 100k messages and
client peak RSS (median and min..max over the repeats). See docs/PERFORMANCE.md.

With --side-by-side it runs bare_pub (the counter its only subscriber) and edgebench (no
counter: its own collector is the broker's only subscriber, and its delivered msg/s comes from
summary.json's counters), and prints both per load with the targets (a)-(c) of
docs/PERFORMANCE.md ("The instrument is not the bottleneck").

    python3 bench/run.py [--repeat K] [--loads A,B,C] [--tools bare,mosquitto_pub,paho,mqttjs,edgebench]
                         [--counter raw|count_sub] [--side-by-side]
                         [--edgebench PATH] [--json OUT]

Only the Python standard library is used. Every process the harness starts is killed and
reaped by PID on exit, on errors and on Ctrl-C; every wait has a timeout. Traffic goes to
127.0.0.1 only.
"""
import argparse
import ctypes
import datetime
import glob
import json
import os
import platform
import pwd
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
HOST = "127.0.0.1"  # the only address the harness ever talks to
PAYLOAD_SIZE = 32

# name: (connections, messages per connection, qos)
LOADS = {
    "A": (10, 10000, 0),
    "B": (10, 10000, 1),
    "C0": (100, 1000, 0),
    "C1": (100, 1000, 1),
}
LOAD_ALIASES = {"C": ["C0", "C1"]}
TOOLS = ["bare", "mosquitto_pub", "paho", "mqttjs", "edgebench"]
EDGEBENCH_NA = "edgebench: n/a (rate: max not available in this build)"


class HarnessError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Processes: every child is registered here and killed and reaped by PID at the end.

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup():
    # The child dies with the harness even if the harness is killed with SIGKILL.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _child_setup_on(cpus):
    def setup():
        _child_setup()
        os.sched_setaffinity(0, cpus)
    return setup


class Child:
    """A started process, reaped with wait4() so its rusage is known."""

    def __init__(self, name, popen, measure_file=None):
        self.name = name
        self.popen = popen
        self.measure_file = measure_file
        self.pid = popen.pid
        self.status = None      # wait status once reaped
        self.rusage = None
        self.pidfd = None
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self.pidfd = None

    @property
    def reaped(self):
        return self.status is not None

    @property
    def returncode(self):
        if self.status is None:
            return None
        return os.waitstatus_to_exitcode(self.status)

    def try_reap(self):
        if self.reaped:
            return True
        pid, status, ru = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        self._reaped(status, ru)
        return True

    def _reaped(self, status, ru):
        self.status = status
        self.rusage = ru
        self.popen.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def _measured(self):
        """The command's own rusage as bench/measure wrote it, or None."""
        if self.measure_file is None or not self.reaped:
            return None
        try:
            with open(self.measure_file) as f:
                fields = dict(kv.split("=", 1) for kv in f.read().split())
            return {"status": int(fields["status"]),
                    "cpu_s": float(fields["user_s"]) + float(fields["sys_s"]),
                    "maxrss_kb": int(fields["maxrss_kb"])}
        except (OSError, ValueError, KeyError):
            return None

    def cpu_s(self):
        """User+sys CPU seconds of the command and its reaped children (wait4)."""
        if self.measure_file is not None:
            m = self._measured()
            return m["cpu_s"] if m else None
        return self.rusage.ru_utime + self.rusage.ru_stime if self.rusage else None

    def maxrss_kb(self):
        if self.measure_file is not None:
            m = self._measured()
            return m["maxrss_kb"] if m else None
        return self.rusage.ru_maxrss if self.rusage else None


class Procs:
    def __init__(self):
        self.children = []
        self.broker_cpus = None  # --pin: the broker's CPU, and everybody else's
        self.client_cpus = None
        self.measure = None      # bench/measure, built by prepare()
        self.measure_dir = None
        self.measure_seq = 0

    def start(self, name, argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL, cwd=None, measured=False, cpus=None):
        """Starts argv. measured: through bench/measure, so that cpu_s() and maxrss_kb()
        are the command's own (see measure.c); used for every publisher."""
        if cpus is None:
            cpus = self.client_cpus
        measure_file = None
        if measured:
            self.measure_seq += 1
            measure_file = os.path.join(self.measure_dir, "rusage-%d.txt" % self.measure_seq)
            argv = [self.measure, measure_file] + list(argv)
        try:
            popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd,
                                     start_new_session=True,
                                     preexec_fn=_child_setup_on(cpus) if cpus else _child_setup,
                                     close_fds=True)
        except OSError as e:
            raise HarnessError("cannot start %s: %s" % (argv[0], e))
        child = Child(name, popen, measure_file)
        self.children.append(child)
        return child

    def wait(self, children, timeout_s):
        """Waits until every child has exited or timeout_s passed. Returns True if all did."""
        deadline = time.monotonic() + timeout_s
        while True:
            pending = [c for c in children if not c.try_reap()]
            if not pending:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            fds = [c.pidfd for c in pending if c.pidfd is not None]
            if fds and len(fds) == len(pending):
                select.select(fds, [], [], min(left, 5.0))  # sleeps: no CPU while a tool runs
            else:
                time.sleep(min(left, 0.02))

    def stop(self, child, term_timeout_s=5.0, sig=signal.SIGTERM):
        """Stops one child: sig, then SIGKILL after term_timeout_s; always reaps it."""
        if child.try_reap():
            return
        try:
            os.kill(child.pid, sig)
        except ProcessLookupError:
            pass
        if self.wait([child], term_timeout_s):
            return
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not self.wait([child], 10.0):
            print("warning: %s (pid %d) did not exit after SIGKILL" % (child.name, child.pid),
                  file=sys.stderr)

    def stop_all(self):
        live = [c for c in self.children if not c.reaped]
        for c in live:
            try:
                os.kill(c.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.wait(live, 3.0)
        for c in live:
            self.stop(c, term_timeout_s=0.1, sig=signal.SIGKILL)
        for c in self.children:
            for f in (c.popen.stdout, c.popen.stderr):
                if f is not None:
                    f.close()
        self.children = [c for c in self.children if not c.reaped]

    def forget_reaped(self):
        """Closes the pipes of reaped children and drops them from the list."""
        keep = []
        for c in self.children:
            if not c.reaped:
                keep.append(c)
                continue
            for f in (c.popen.stdout, c.popen.stderr):
                if f is not None:
                    f.close()
        self.children = keep


def _on_signal(signum, frame):
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------
# Broker and subscriber.

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, procs, workdir, tag):
        self.procs = procs
        self.port = free_port()
        self.conf = os.path.join(workdir, "mosquitto-%s.conf" % tag)
        self.log = os.path.join(workdir, "broker-%s.log" % tag)
        user = pwd.getpwuid(os.getuid()).pw_name
        with open(self.conf, "w") as f:
            f.write("listener %d %s\n" % (self.port, HOST))
            f.write("allow_anonymous true\n")
            f.write("max_queued_messages 0\n")
            f.write("set_tcp_nodelay true\n")
            f.write("user %s\n" % user)
            f.write("persistence false\n")
            f.write("log_dest stdout\nlog_type error\nlog_type warning\n")
        with open(self.log, "w") as logf:
            self.child = procs.start("mosquitto", ["mosquitto", "-c", self.conf], stdout=logf,
                                     stderr=subprocess.STDOUT, cpus=procs.broker_cpus)
        deadline = time.monotonic() + 10
        while True:
            if self.child.try_reap():
                raise HarnessError("mosquitto exited at start: %s" % tail(self.log))
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise HarnessError("mosquitto does not accept on %s:%d" % (HOST, self.port))
                time.sleep(0.02)

    def stop(self):
        """Stops the broker; returns its CPU seconds (wait4) or None."""
        self.procs.stop(self.child, term_timeout_s=5.0)
        return self.child.cpu_s() if self.child.rusage else None


class Subscriber:
    """The independent counter: bench/raw_count (no MQTT library) or bench/count_sub
    (libmosquitto). Both take the same flags and print the same result line."""

    def __init__(self, procs, counter, port, qos, expected, idle_s):
        self.procs = procs
        self.name, binary = counter
        self.child = procs.start(self.name,
                                 [binary, "--host", HOST, "--port", str(port), "--qos", str(qos),
                                  "--topic", "bench/#", "--expected", str(expected),
                                  "--idle-s", str(idle_s), "--start-timeout-s", "300"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""

    def wait_ready(self, timeout_s=10.0):
        deadline = time.monotonic() + timeout_s
        fd = self.child.popen.stdout.fileno()
        while b"ready\n" not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("%s not ready after %.0f s" % (self.name, timeout_s))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise HarnessError("%s exited before ready: %s" % (self.name,
                                                                       self.stderr_text()))
                self.out += chunk

    def finish(self, timeout_s, stop_now=False):
        """Waits for the subscriber's result line (SIGTERM first when stop_now) and parses it."""
        if stop_now:
            try:
                os.kill(self.child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not self.procs.wait([self.child], timeout_s):
            self.procs.stop(self.child, term_timeout_s=2.0)
        self.out += self.child.popen.stdout.read()
        text = self.out.decode(errors="replace")
        m = re.search(r"%s (.*)" % self.name, text)
        if not m:
            raise HarnessError("%s printed no result: %s" % (self.name, self.stderr_text()))
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        return {
            "count": int(fields["count"]),
            "rate": float(fields["rate"]),
            "first_to_last_s": float(fields["first_to_last_s"]),
            "failed": fields.get("failed") == "1",
            "cpu_s": self.child.cpu_s() if self.child.rusage else None,
        }

    def stderr_text(self):
        try:
            return self.child.popen.stderr.read().decode(errors="replace").strip()[-500:]
        except (OSError, ValueError):
            return ""


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------
# Tools. Each runner starts the publisher(s), waits, and returns a dict with cpu_s and
# rss_kb (the publishing process(es)), ok, and notes.

class Context:
    def __init__(self, args, workdir, procs):
        self.args = args
        self.workdir = workdir
        self.procs = procs
        self.bin = {}
        self.python_paho = None
        self.unavailable = {}   # tool -> reason
        self.lines_files = {}
        self.counter = None     # (name, binary) of the independent subscriber
        self.edgebench_revision = None


def out_files(ctx, tag):
    return (open(os.path.join(ctx.workdir, tag + ".out"), "w"),
            open(os.path.join(ctx.workdir, tag + ".err"), "w"))


def run_single(ctx, name, argv, tag, cwd=None):
    out, err = out_files(ctx, tag)
    with out, err:
        child = ctx.procs.start(name, argv, stdout=out, stderr=err, cwd=cwd, measured=True)
        finished = ctx.procs.wait([child], ctx.args.timeout_s)
    if not finished:
        ctx.procs.stop(child)
        return {"ok": False, "note": "%s timed out after %.0f s" % (name, ctx.args.timeout_s),
                "cpu_s": child.cpu_s(), "rss_kb": child.maxrss_kb(), "rc": child.returncode}
    ok = child.returncode == 0
    note = "" if ok else "%s exited %s: %s" % (name, child.returncode,
                                               tail(os.path.join(ctx.workdir, tag + ".err"), 2))
    return {"ok": ok, "note": note, "cpu_s": child.cpu_s(), "rss_kb": child.maxrss_kb(),
            "rc": child.returncode}


def common_flags(port, conns, messages, qos, inflight):
    return ["--host", HOST, "--port", str(port), "--conns", str(conns), "--messages", str(messages),
            "--qos", str(qos), "--size", str(PAYLOAD_SIZE), "--inflight", str(inflight)]


def run_bare(ctx, port, load, tag):
    conns, messages, qos = LOADS[load]
    argv = [ctx.bin["bare_pub"]] + common_flags(port, conns, messages, qos, ctx.args.inflight)
    return run_single(ctx, "bare_pub", argv, tag)


def run_paho(ctx, port, load, tag):
    conns, messages, qos = LOADS[load]
    argv = [ctx.python_paho, os.path.join(BENCH_DIR, "paho_pub.py")] + common_flags(
        port, conns, messages, qos, ctx.args.inflight)
    return run_single(ctx, "paho_pub", argv, tag)


def run_mqttjs(ctx, port, load, tag):
    conns, messages, qos = LOADS[load]
    argv = ["node", os.path.join(BENCH_DIR, "mqttjs_pub.js")] + common_flags(
        port, conns, messages, qos, ctx.args.inflight)
    return run_single(ctx, "mqttjs_pub", argv, tag, cwd=BENCH_DIR)


def run_mosquitto_pub(ctx, port, load, tag):
    conns, messages, qos = LOADS[load]
    lines = ctx.lines_files[messages]
    children = []
    err = open(os.path.join(ctx.workdir, tag + ".err"), "w")
    with err:
        for i in range(conns):
            with open(lines, "rb") as stdin:
                children.append(ctx.procs.start(
                    "mosquitto_pub",
                    ["mosquitto_pub", "-h", HOST, "-p", str(port), "-q", str(qos),
                     "-t", "bench/%d" % i, "-i", "mosquitto_pub-%d-%d" % (os.getpid(), i), "-l"],
                    stdin=stdin, stdout=subprocess.DEVNULL, stderr=err, measured=True))
        finished = ctx.procs.wait(children, ctx.args.timeout_s)
        if not finished:
            for c in children:
                ctx.procs.stop(c)
    failed = [c for c in children if c.returncode != 0]
    note = ""
    if not finished:
        note = "mosquitto_pub timed out after %.0f s" % ctx.args.timeout_s
    elif failed:
        note = "%d mosquitto_pub exited non-zero: %s" % (
            len(failed), tail(os.path.join(ctx.workdir, tag + ".err"), 2))
    return {"ok": finished and not failed, "note": note,
            "cpu_s": sum_or_none(c.cpu_s() for c in children),
            # N processes: their footprint is the sum of their peaks.
            "rss_kb": sum_or_none(c.maxrss_kb() for c in children),
            "rss_note": "sum over %d processes" % conns}


def sum_or_none(values):
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def edgebench_scenario(path, name, port, conns, messages, qos, duration_s, drain_s):
    with open(path, "w") as f:
        f.write("name: %s\n" % name)
        f.write("broker: {embedded: false, host: %s, port: %d}\n" % (HOST, port))
        f.write("devices: {count: %d}\n" % conns)
        f.write('topics: ["bench/{device}"]\n')
        f.write("publish: {rate: max, count: %d, qos: %d, payload: {size: %d, kind: random}}\n"
                % (messages, qos, PAYLOAD_SIZE))
        f.write("latency: true\n")
        f.write("warmup_s: 0\n")
        f.write("duration_s: %s\n" % duration_s)
        f.write("drain_s: %s\n" % drain_s)
        f.write("capture: {enabled: false}\n")


def edgebench_summary(outdir):
    found = glob.glob(os.path.join(outdir, "*", "*", "summary.json"))
    if not found:
        return None, None
    with open(found[0]) as f:
        return json.load(f), os.path.dirname(found[0])


def edgebench_revision(rundir):
    """The build that ran (manifest.json's git_revision and version), or None."""
    try:
        with open(os.path.join(rundir, "manifest.json")) as f:
            m = json.load(f)
        return "%s (git %s)" % (m.get("edgebench_version"), m.get("git_revision"))
    except (OSError, ValueError, TypeError):
        return None


def run_edgebench(ctx, port, load, tag):
    conns, messages, qos = LOADS[load]
    scenario = os.path.join(ctx.workdir, tag + ".yaml")
    outdir = os.path.join(ctx.workdir, tag + "-results")
    edgebench_scenario(scenario, "bench-" + load, port, conns, messages, qos,
                       ctx.args.edgebench_duration_s, 5)
    argv = [ctx.args.edgebench, "run", scenario, "--out", outdir, "--log-level", "warn"]
    r = run_single(ctx, "edgebench", argv, tag)
    if r["rc"] == 2:
        ctx.unavailable["edgebench"] = EDGEBENCH_NA
        return {"ok": False, "na": True, "note": EDGEBENCH_NA}
    summary, rundir = edgebench_summary(outdir)
    r["whole_cpu_s"] = r["cpu_s"]       # wait4: orchestrator + worker (+ its collector)
    r["whole_rss_kb"] = r["rss_kb"]
    if summary is None:
        r["ok"] = False
        r["note"] = (r["note"] or "edgebench wrote no summary.json")
        return r
    r.update(edgebench_figures(summary, r["whole_cpu_s"]))
    r["rundir"] = rundir
    r["edgebench_revision"] = edgebench_revision(rundir)
    if r["ok"] and r["sent"] != conns * messages:
        r["ok"] = False
        r["note"] = "edgebench sent %s of %d messages (publish.count not honoured?)" % (
            r["sent"], conns * messages)
    return r


def edgebench_figures(summary, whole_cpu_s):
    """What a trial keeps of edgebench's summary.json: the worker's and the orchestrator's
    whole-life CPU, the worker's peak RSS, and what its collector received, when."""
    procs = summary.get("processes") or {}
    worker = procs.get("worker") or {}
    orch = procs.get("orchestrator") or {}
    counters = summary.get("counters") or {}
    # cpu_s_total: the worker's own getrusage() over its whole life, as wait4() gives for the
    # other tools; cpu_s: between the first and the last /proc sample (older builds only).
    worker_cpu = worker.get("cpu_s_total", worker.get("cpu_s"))
    f = {"cpu_s": worker_cpu, "worker_cpu_s_sampled": worker.get("cpu_s"),
         "rss_kb": worker.get("rss_peak_kb"),
         "orchestrator_cpu_s_sampled": orch.get("cpu_s"),
         "orchestrator_rss_kb": orch.get("rss_peak_kb"),
         "sent": (summary.get("messages") or {}).get("sent"),
         "eb_received": counters.get("received"),
         "eb_first_receive_ns": counters.get("first_receive_ns"),
         "eb_last_receive_ns": counters.get("last_receive_ns"),
         "eb_received_per_s_window": (summary.get("throughput") or {}).get("received_per_s")}
    # The orchestrator's whole life: its own figure when summary.json has one; else the
    # process tree (wait4: the orchestrator and the worker it reaped) less the worker's own.
    if orch.get("cpu_s_total") is not None:
        f["orchestrator_cpu_s"], f["orchestrator_cpu_from"] = orch["cpu_s_total"], "cpu_s_total"
    elif whole_cpu_s is not None and worker.get("cpu_s_total") is not None:
        f["orchestrator_cpu_s"] = whole_cpu_s - worker["cpu_s_total"]
        f["orchestrator_cpu_from"] = "tree - worker"
    else:
        f["orchestrator_cpu_s"], f["orchestrator_cpu_from"] = orch.get("cpu_s"), "sampled"
    return f


def collector_delivery(r):
    """edgebench's delivered msg/s with no other subscriber: what its collector received,
    defined as the counters define it, messages / (last receive - first receive)."""
    received = r.get("eb_received")
    first, last = r.get("eb_first_receive_ns"), r.get("eb_last_receive_ns")
    if received and first and last and last > first:
        return {"delivered": received, "first_to_last_s": (last - first) / 1e9,
                "delivered_per_s": received / ((last - first) / 1e9), "delivered_from": "counters"}
    # Older builds have no first_receive_ns. throughput.received_per_s divides the window's
    # messages by the time from the window's start (t0, before the first send) to the last
    # arrival: the same messages over a longer span, so it can only understate the rate.
    return {"delivered": received, "first_to_last_s": None,
            "delivered_per_s": r.get("eb_received_per_s_window"), "delivered_from": "window",
            "delivered_note": "no counters.first_receive_ns in summary.json: delivered msg/s is "
                              "throughput.received_per_s (from t0 to the last arrival; a lower "
                              "bound of received / (last - first receive))"}


RUNNERS = {
    "bare": run_bare,
    "mosquitto_pub": run_mosquitto_pub,
    "paho": run_paho,
    "mqttjs": run_mqttjs,
    "edgebench": run_edgebench,
}


# ---------------------------------------------------------------------------------------
# Preparation: build the C programs, install what is missing, probe edgebench.

def sh(argv, timeout_s=600, cwd=None):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                           timeout=timeout_s, preexec_fn=_child_setup)
        return p.returncode, p.stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, str(e)


def apt_install(package):
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env_argv = prefix + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                         "--no-install-recommends", package]
    rc, out = sh(env_argv, timeout_s=600)
    if rc != 0:
        sh(prefix + ["apt-get", "update"], timeout_s=600)
        rc, out = sh(env_argv, timeout_s=600)
    return rc == 0, out.strip().splitlines()[-1:] if out else ""


def prepare(ctx, tools, loads):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise HarnessError("no C compiler (cc) found")
    if not shutil.which("mosquitto"):
        raise HarnessError("mosquitto is not installed (apt-get install mosquitto)")
    for prog in ("measure", "count_sub", "raw_count", "bare_pub"):
        exe = os.path.join(ctx.workdir, prog)
        # raw_count must not use any MQTT library: it is built without one.
        libs = [] if prog in ("measure", "raw_count") else ["-lmosquitto"]
        rc, out = sh([cc, "-O2", "-Wall", "-o", exe, os.path.join(BENCH_DIR, prog + ".c")] + libs)
        if rc != 0:
            raise HarnessError("building %s failed (libmosquitto-dev installed?):\n%s" % (prog, out))
        ctx.bin[prog] = exe
    name = "raw_count" if ctx.args.counter == "raw" else "count_sub"
    ctx.counter = (name, ctx.bin[name])
    ctx.procs.measure = ctx.bin["measure"]
    ctx.procs.measure_dir = ctx.workdir

    if "mosquitto_pub" in tools:
        if not shutil.which("mosquitto_pub"):
            ok, msg = apt_install("mosquitto-clients")
            if not ok or not shutil.which("mosquitto_pub"):
                ctx.unavailable["mosquitto_pub"] = "mosquitto_pub: n/a (installing mosquitto-clients failed: %s)" % msg
        for load in loads:
            messages = LOADS[load][1]
            if messages not in ctx.lines_files:
                path = os.path.join(ctx.workdir, "lines-%d.txt" % messages)
                with open(path, "w") as f:
                    for k in range(messages):
                        f.write("%0*d\n" % (PAYLOAD_SIZE, k))  # 32 bytes + newline
                ctx.lines_files[messages] = path

    if "paho" in tools:
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        check = [py, "-c", "import paho.mqtt.client"]
        if sh(check)[0] != 0:
            ok, msg = apt_install("python3-paho-mqtt")
            if not ok or sh(check)[0] != 0:
                ctx.unavailable["paho"] = "paho: n/a (installing python3-paho-mqtt failed: %s)" % msg
        ctx.python_paho = py

    if "mqttjs" in tools:
        if not shutil.which("node") or not shutil.which("npm"):
            ctx.unavailable["mqttjs"] = "mqttjs: n/a (node or npm missing)"
        elif not os.path.exists(os.path.join(BENCH_DIR, "node_modules", "mqtt", "package.json")):
            rc, out = sh(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH_DIR)
            if rc != 0:
                ctx.unavailable["mqttjs"] = "mqttjs: n/a (npm ci failed: %s)" % out.strip()[-300:]

    if "edgebench" in tools:
        probe_edgebench(ctx)


def probe_edgebench(ctx):
    """A short run that tells whether this build honours rate: max and publish.count.

    A build that rejects them exits 2; a build that parses them but still paces the load
    sends only a few messages within duration_s. Either way edgebench is reported n/a."""
    eb = ctx.args.edgebench
    if not (os.path.isfile(eb) and os.access(eb, os.X_OK)):
        ctx.unavailable["edgebench"] = "edgebench: n/a (no executable at %s)" % eb
        return
    broker = Broker(ctx.procs, ctx.workdir, "probe")
    try:
        scenario = os.path.join(ctx.workdir, "probe.yaml")
        outdir = os.path.join(ctx.workdir, "probe-results")
        expected = 2000
        edgebench_scenario(scenario, "bench-probe", broker.port, 2, expected // 2, 0, 3, 1)
        out, err = out_files(ctx, "probe")
        with out, err:
            child = ctx.procs.start("edgebench", [eb, "run", scenario, "--out", outdir,
                                                  "--log-level", "warn"], stdout=out, stderr=err)
            if not ctx.procs.wait([child], 60):
                ctx.procs.stop(child)
                ctx.unavailable["edgebench"] = "edgebench: n/a (the probe run did not finish in 60 s)"
                return
        if child.returncode == 2:
            ctx.unavailable["edgebench"] = EDGEBENCH_NA
            return
        summary, rundir = edgebench_summary(outdir)
        ctx.edgebench_revision = edgebench_revision(rundir)
        sent = (summary or {}).get("messages", {}).get("sent")
        if child.returncode != 0 or sent != expected:
            why = tail(os.path.join(ctx.workdir, "probe.err"), 1)
            ctx.unavailable["edgebench"] = (
                "edgebench: n/a (rate: max not available in this build: a probe of 2 devices x "
                "1000 messages at rate: max exited %s having sent %s of %d in duration_s 3%s)"
                % (child.returncode, sent, expected, ": " + why if why else ""))
    finally:
        broker.stop()


# ---------------------------------------------------------------------------------------
# One trial and the report.

def run_trial(ctx, tool, load, rep):
    conns, messages, qos = LOADS[load]
    expected = conns * messages
    tag = "%s-%s-%d" % (load, tool, rep)
    busy0, own0, wall0 = busy_cpu_s(), own_cpu_s(), time.monotonic()
    broker = Broker(ctx.procs, ctx.workdir, tag)
    # --side-by-side: edgebench's collector is the broker's only subscriber.
    alone = ctx.args.side_by_side and tool == "edgebench"
    subs = []
    try:
        if not alone:
            subs.append(Subscriber(ctx.procs, ctx.counter, broker.port, qos, expected,
                                   ctx.args.idle_s))
        if ctx.args.match_fanout and tool != "edgebench":
            # edgebench's own collector is a second subscriber: give the others one too.
            subs.append(Subscriber(ctx.procs, ctx.counter, broker.port, qos, expected,
                                   ctx.args.idle_s))
        for s in subs:
            s.wait_ready()
        r = RUNNERS[tool](ctx, broker.port, load, tag)
        if r.get("na"):
            for s in subs:
                s.finish(5, stop_now=True)
            return r
        r["expected"] = expected
        if alone:
            r.update(collector_delivery(r))
        else:
            # The subscriber stops by itself at the expected count or after idle_s without messages.
            results = [s.finish(ctx.args.idle_s + 60, stop_now=not r["ok"]) for s in subs]
            r.update(counted_delivery(results[0]))
            if results[0]["failed"]:
                r["note"] = (r.get("note") or "") + " %s lost its connection" % ctx.counter[0]
        if (r.get("delivered") or 0) < expected:
            r["note"] = (r.get("note") or "") + (" delivered %s of %d" % (r.get("delivered"),
                                                                          expected))
    finally:
        for s in subs:
            if not s.child.reaped:
                ctx.procs.stop(s.child, term_timeout_s=2.0)
        broker_cpu = broker.stop()
        ctx.procs.forget_reaped()
    r["broker_cpu_s"] = broker_cpu
    # CPU the machine spent on anything but the harness and the processes it started (all
    # reaped by now): a check that nobody else was using the cores. Near 0 when quiet; the
    # kernel's tick accounting makes it wobble by about +-0.1 s.
    wall = time.monotonic() - wall0
    other = (busy_cpu_s() - busy0) - (own_cpu_s() - own0)
    r["other_cpu_s"] = round(other, 3)
    r["trial_wall_s"] = round(wall, 3)
    return r


def counted_delivery(sres):
    return {"delivered": sres["count"], "delivered_per_s": sres["rate"],
            "first_to_last_s": sres["first_to_last_s"], "subscriber_cpu_s": sres["cpu_s"],
            "delivered_from": "counter"}


def busy_cpu_s():
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / float(os.sysconf("SC_CLK_TCK"))


def own_cpu_s():
    """CPU seconds of the harness and of every child it has reaped (and theirs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_until_quiet(max_wait_s, busy_cores=0.25):
    """Waits (up to max_wait_s) until the machine is nearly idle, so that another user's
    build does not share the cores with a trial. Returns the busy cores last seen."""
    deadline = time.monotonic() + max_wait_s
    announced = False
    while True:
        b0, t0 = busy_cpu_s(), time.monotonic()
        time.sleep(0.5)
        cores = (busy_cpu_s() - b0) / (time.monotonic() - t0)
        if cores <= busy_cores or time.monotonic() >= deadline:
            return cores
        if not announced:
            print("  (machine busy: %.2f cores in use by other processes; waiting up to %.0f s)"
                  % (cores, max_wait_s), flush=True)
            announced = True


def per_100k(cpu_s, messages):
    return None if cpu_s is None else cpu_s / messages * 100000.0


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt_stat(s, fmt):
    if s is None:
        return "-"
    if s["n"] == 1:
        return fmt % s["median"]
    return (fmt + " [" + fmt + "-" + fmt + "]") % (s["median"], s["min"], s["max"])


def summarise(trials, load, tool):
    conns, messages, qos = LOADS[load]
    total = conns * messages
    rows = [t for t in trials if t["load"] == load and t["tool"] == tool]
    good = [t for t in rows if t.get("ok")]
    out = {
        "load": load, "tool": tool, "connections": conns, "messages_per_connection": messages,
        "qos": qos, "repeats": len(rows), "ok_repeats": len(good),
        "delivered_per_s": stats([t.get("delivered_per_s") for t in good]),
        "cpu_s_per_100k": stats([per_100k(t.get("cpu_s"), total) for t in good]),
        "rss_mb": stats([t["rss_kb"] / 1024.0 if t.get("rss_kb") is not None else None for t in good]),
        "broker_cpu_s_per_100k": stats([per_100k(t.get("broker_cpu_s"), total) for t in good]),
        "subscriber_cpu_s_per_100k": stats([per_100k(t.get("subscriber_cpu_s"), total) for t in good]),
        "other_cpu_s": stats([t.get("other_cpu_s") for t in good]),
        "notes": sorted({t["note"].strip() for t in rows if t.get("note")}),
    }
    if out["other_cpu_s"] and out["other_cpu_s"]["max"] > 0.3:
        out["notes"].append("other processes used up to %.2f CPU s during a trial: figures may be "
                            "disturbed" % out["other_cpu_s"]["max"])
    if tool == "edgebench":
        out["orchestrator_cpu_s_per_100k"] = stats(
            [per_100k(t.get("orchestrator_cpu_s"), total) for t in good])
        out["orchestrator_cpu_s_sampled_per_100k"] = stats(
            [per_100k(t.get("orchestrator_cpu_s_sampled"), total) for t in good])
        out["orchestrator_cpu_from"] = sorted({t["orchestrator_cpu_from"] for t in good
                                               if t.get("orchestrator_cpu_from")})
        out["whole_process_cpu_s_per_100k"] = stats(
            [per_100k(t.get("whole_cpu_s"), total) for t in good])
    if tool == "mosquitto_pub":
        out["rss_note"] = "sum of the %d processes' peaks" % conns
    return out


def print_table(summaries, unavailable, tools, loads):
    head = "%-5s %-14s %-30s %-24s %-22s %-20s %s" % (
        "load", "tool", "delivered msg/s", "client CPU s/100k", "client peak RSS MB",
        "broker CPU s/100k", "ok")
    print()
    print(head)
    print("-" * len(head))
    for load in loads:
        conns, messages, qos = LOADS[load]
        for tool in tools:
            s = next((x for x in summaries if x["load"] == load and x["tool"] == tool), None)
            if tool in unavailable and (s is None or s["ok_repeats"] == 0):
                print("%-5s %-14s %s" % (load, tool, unavailable[tool]))
                continue
            if s is None:
                continue
            print("%-5s %-14s %-30s %-24s %-22s %-20s %d/%d" % (
                load, tool, fmt_stat(s["delivered_per_s"], "%.0f"),
                fmt_stat(s["cpu_s_per_100k"], "%.3f"), fmt_stat(s["rss_mb"], "%.1f"),
                fmt_stat(s["broker_cpu_s_per_100k"], "%.3f"), s["ok_repeats"], s["repeats"]))
            if tool == "edgebench" and s["ok_repeats"]:
                print("%-5s %-14s orchestrator CPU s/100k %s; whole process (wait4) %s" % (
                    "", "", fmt_stat(s.get("orchestrator_cpu_s_per_100k"), "%.3f"),
                    fmt_stat(s.get("whole_process_cpu_s_per_100k"), "%.3f")))
            for note in s["notes"][:3]:
                print("%-5s %-14s note: %s" % ("", "", note))
    print()
    print("Loads: " + "; ".join("%s = %d conns x %d msgs, %d B, QoS %d" % (
        l, LOADS[l][0], LOADS[l][1], PAYLOAD_SIZE, LOADS[l][2]) for l in loads))
    print("Figures: median [min-max] over the repeats that completed (ok). Delivered msg/s: "
          "the counter's count / (last - first message); with --side-by-side, edgebench's is "
          "its collector's (summary.json counters). Client CPU: user+sys of the publishing "
          "process(es) from wait4 (edgebench: its worker, from summary.json). Orchestrator: "
          "whole life (cpu_s_total, or the wait4 tree less the worker).")


# ---------------------------------------------------------------------------------------
# --side-by-side: bare_pub + the counter against edgebench alone, and the targets.

ORCH_LIMIT_PER_100K = {0: 0.15, 1: 0.30}   # (a) orchestrator CPU s per 100k, by QoS
DELIVERED_RATIO_MIN = 0.95                 # (b) edgebench / bare_pub delivered msg/s
TREE_RATIO_MAX = 1.2                       # (c) edgebench tree / (bare_pub + counter) CPU


def median_of(s):
    return None if s is None else s["median"]


def ratio(a, b):
    return None if a is None or not b else a / b


def side_by_side(trials, load):
    """One load's pairs: the bare trial (bare_pub + counter) and the edgebench trial of each
    repeat. Ratios are of the medians; *_paired are the ratios within each repeat."""
    total = LOADS[load][0] * LOADS[load][1]
    pick = lambda tool: {t["repeat"]: t for t in trials
                         if t["load"] == load and t["tool"] == tool and t.get("ok")}
    bare, eb = pick("bare"), pick("edgebench")
    pc = lambda t, key: per_100k(t.get(key), total)
    both = lambda t: (None if t.get("cpu_s") is None or t.get("subscriber_cpu_s") is None
                      else per_100k(t["cpu_s"] + t["subscriber_cpu_s"], total))
    common = sorted(set(bare) & set(eb))
    out = {
        "load": load, "qos": LOADS[load][2], "bare_ok": len(bare), "edgebench_ok": len(eb),
        "repeats": len({t["repeat"] for t in trials if t["load"] == load}),
        "bare_delivered_per_s": stats([t.get("delivered_per_s") for t in bare.values()]),
        "edgebench_delivered_per_s": stats([t.get("delivered_per_s") for t in eb.values()]),
        "delivered_ratio_paired": stats([ratio(eb[k].get("delivered_per_s"),
                                               bare[k].get("delivered_per_s")) for k in common]),
        "counter_cpu_s_per_100k": stats([pc(t, "subscriber_cpu_s") for t in bare.values()]),
        "bare_cpu_s_per_100k": stats([pc(t, "cpu_s") for t in bare.values()]),
        "bare_plus_counter_cpu_s_per_100k": stats([both(t) for t in bare.values()]),
        "worker_cpu_s_per_100k": stats([pc(t, "cpu_s") for t in eb.values()]),
        "orchestrator_cpu_s_per_100k": stats([pc(t, "orchestrator_cpu_s") for t in eb.values()]),
        "tree_cpu_s_per_100k": stats([pc(t, "whole_cpu_s") for t in eb.values()]),
        "tree_ratio_paired": stats([ratio(pc(eb[k], "whole_cpu_s"), both(bare[k]))
                                    for k in common]),
        "bare_broker_cpu_s_per_100k": stats([pc(t, "broker_cpu_s") for t in bare.values()]),
        "edgebench_broker_cpu_s_per_100k": stats([pc(t, "broker_cpu_s") for t in eb.values()]),
        "edgebench_delivered_from": sorted({t.get("delivered_from") for t in eb.values()}),
        "orchestrator_cpu_from": sorted({t.get("orchestrator_cpu_from") for t in eb.values()}),
        "notes": sorted({t["delivered_note"] for t in eb.values() if t.get("delivered_note")}),
    }
    builds = sorted({t.get("edgebench_revision") or "?" for t in eb.values()})
    if len(builds) > 1:
        out["notes"].append("the edgebench binary changed during the run: " + ", ".join(builds))
    out["delivered_ratio"] = ratio(median_of(out["edgebench_delivered_per_s"]),
                                   median_of(out["bare_delivered_per_s"]))
    out["tree_ratio"] = ratio(median_of(out["tree_cpu_s_per_100k"]),
                              median_of(out["bare_plus_counter_cpu_s_per_100k"]))
    return out


def print_side_by_side(sbs, counter_name):
    print()
    print("Side by side: bare_pub with %s as the only subscriber, against edgebench with its "
          "collector as the only subscriber (CPU in s per 100k messages)" % counter_name)
    for s in sbs:
        conns, messages, qos = LOADS[s["load"]]
        f = lambda key, fmt="%.3f": fmt_stat(s[key], fmt)
        r = lambda v: "-" if v is None else "%.2f" % v
        print("%s (%d x %d, QoS %d), ok: bare %d/%d, edgebench %d/%d" % (
            s["load"], conns, messages, qos, s["bare_ok"], s["repeats"], s["edgebench_ok"],
            s["repeats"]))
        print("  delivered msg/s   bare %s   edgebench %s   ratio %s (per repeat %s)" % (
            f("bare_delivered_per_s", "%.0f"), f("edgebench_delivered_per_s", "%.0f"),
            r(s["delivered_ratio"]), f("delivered_ratio_paired", "%.2f")))
        print("  bare              %s %s   bare_pub %s   bare+counter %s" % (
            counter_name, f("counter_cpu_s_per_100k"), f("bare_cpu_s_per_100k"),
            f("bare_plus_counter_cpu_s_per_100k")))
        print("  edgebench         worker %s   orchestrator %s   tree %s" % (
            f("worker_cpu_s_per_100k"), f("orchestrator_cpu_s_per_100k"),
            f("tree_cpu_s_per_100k")))
        print("  tree/(bare+counter) %s (per repeat %s)   broker: bare trial %s, edgebench "
              "trial %s" % (r(s["tree_ratio"]), f("tree_ratio_paired", "%.2f"),
                            f("bare_broker_cpu_s_per_100k"),
                            f("edgebench_broker_cpu_s_per_100k")))
        if s["orchestrator_cpu_from"] and s["orchestrator_cpu_from"] != ["cpu_s_total"]:
            print("  note: orchestrator CPU from %s" % ", ".join(s["orchestrator_cpu_from"]))
        for note in s["notes"]:
            print("  note: " + note)


def target_rows(sbs):
    """(target, load, measured text, met) for (a)-(c), from the medians of side_by_side()."""
    rows = []
    for s in sbs:
        limit = ORCH_LIMIT_PER_100K[s["qos"]]
        orch = median_of(s["orchestrator_cpu_s_per_100k"])
        worker = median_of(s["worker_cpu_s_per_100k"])
        met = orch is not None and worker is not None and orch <= limit and orch < worker
        rows.append(("a", s["load"], "orchestrator %s <= %.2f and < worker %s" % (
            "-" if orch is None else "%.3f" % orch, limit,
            "-" if worker is None else "%.3f" % worker), met))
    for s in sbs:
        v = s["delivered_ratio"]
        rows.append(("b", s["load"], "edgebench / bare delivered %s >= %.2f" % (
            "-" if v is None else "%.3f" % v, DELIVERED_RATIO_MIN),
            v is not None and v >= DELIVERED_RATIO_MIN))
    for s in sbs:
        v = s["tree_ratio"]
        rows.append(("c", s["load"], "tree / (bare+counter) %s <= %.2f" % (
            "-" if v is None else "%.3f" % v, TREE_RATIO_MAX),
            v is not None and v <= TREE_RATIO_MAX))
    return rows


def print_targets(rows):
    names = {"a": "orchestrator CPU per 100k <= 0.15 s (QoS 0) / 0.30 s (QoS 1), below the worker's",
             "b": "edgebench delivered msg/s >= 0.95 x bare_pub's (each with one subscriber)",
             "c": "edgebench tree CPU per 100k <= 1.2 x (bare_pub + counter)"}
    print()
    print("targets (medians over the repeats; a target is met when it holds at every load)")
    for key in ("a", "b", "c"):
        mine = [r for r in rows if r[0] == key]
        print("  (%s) %s: %s" % (key, names[key],
                                 "met" if mine and all(r[3] for r in mine) else "NOT MET"))
        for _, load, text, met in mine:
            print("      %-3s %-60s %s" % (load, text, "met" if met else "not met"))


def machine_info(ctx):
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "nproc": os.cpu_count(), "kernel": platform.release(), "cpu_model": None}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu_model"] = m.group(1).strip() if m else None
    except OSError:
        pass
    rc, out = sh(["mosquitto", "-h"], timeout_s=10)
    m = re.search(r"mosquitto version (\S+)", out)
    info["mosquitto_version"] = m.group(1) if m else None
    if shutil.which("node"):
        info["node_version"] = sh(["node", "--version"], timeout_s=10)[1].strip()
    try:
        with open(os.path.join(BENCH_DIR, "node_modules", "mqtt", "package.json")) as f:
            info["mqttjs_version"] = json.load(f).get("version")
    except (OSError, ValueError):
        pass
    if ctx.python_paho:
        rc, out = sh([ctx.python_paho, "-c", "import paho.mqtt; print(paho.mqtt.__version__)"],
                     timeout_s=10)
        info["paho_version"] = out.strip() if rc == 0 else None
    return info


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per load and tool (default 3)")
    ap.add_argument("--loads", default="A,B,C",
                    help="comma list of A, B, C (= C0,C1), C0, C1 (default A,B,C)")
    ap.add_argument("--tools", default=None,
                    help="comma list of " + ", ".join(TOOLS) + " (default all)")
    ap.add_argument("--counter", choices=["raw", "count_sub"], default="raw",
                    help="the independent subscriber that counts for the tools: raw = "
                         "bench/raw_count.c (no MQTT library), count_sub = bench/count_sub.c "
                         "(libmosquitto) (default raw)")
    ap.add_argument("--side-by-side", action="store_true",
                    help="bare and edgebench only: bare_pub with the counter as the broker's only "
                         "subscriber, edgebench with no other subscriber than its own collector; "
                         "prints both per load and the targets (a)-(c)")
    ap.add_argument("--edgebench", default=os.path.join(REPO_DIR, "build", "edgebench"),
                    help="the edgebench binary (default build/edgebench)")
    ap.add_argument("--json", help="write every trial and the summary to this file")
    ap.add_argument("--inflight", type=int, default=20,
                    help="QoS 1 in-flight window per connection for bare, paho and mqttjs (default 20)")
    ap.add_argument("--timeout-s", type=float, default=300,
                    help="longest a publisher may run (default 300)")
    ap.add_argument("--idle-s", type=float, default=3,
                    help="the subscriber stops after this long without a message (default 3)")
    ap.add_argument("--edgebench-duration-s", type=float, default=60,
                    help="duration_s of edgebench's scenario; the run ends once publish.count is "
                         "sent and drained (default 60)")
    ap.add_argument("--match-fanout", action="store_true",
                    help="give every tool but edgebench a second subscriber, since edgebench's own "
                         "collector makes the broker deliver each message twice")
    ap.add_argument("--wait-idle-s", type=float, default=60,
                    help="before each trial, wait up to this long for the machine to be idle "
                         "(other processes using at most 0.25 cores); 0 = do not wait (default 60)")
    ap.add_argument("--max-other-cpu-s", type=float, default=0.3,
                    help="a trial during which other processes used more CPU than this is run "
                         "again (default 0.3)")
    ap.add_argument("--retries", type=int, default=3,
                    help="how often a disturbed trial is run again (default 3)")
    ap.add_argument("--pin", action="store_true",
                    help="pin the broker to the first CPU and the subscriber and the publishers to "
                         "the others (less run-to-run variance on a 2-core machine)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    loads = []
    for name in args.loads.split(","):
        name = name.strip()
        for l in LOAD_ALIASES.get(name, [name]):
            if l not in LOADS:
                ap.error("unknown load %r (A, B, C, C0, C1)" % name)
            if l not in loads:
                loads.append(l)
    if args.side_by_side:
        if args.tools is not None and args.tools.replace(" ", "") not in ("bare,edgebench",
                                                                          "edgebench,bare"):
            ap.error("--side-by-side runs bare and edgebench; leave out --tools")
        if args.match_fanout:
            ap.error("--side-by-side and --match-fanout exclude each other")
        args.tools = "bare,edgebench"
    tools = []
    for name in (args.tools or ",".join(TOOLS)).split(","):
        name = name.strip()
        if name not in TOOLS:
            ap.error("unknown tool %r (%s)" % (name, ", ".join(TOOLS)))
        if name not in tools:
            tools.append(name)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    args.edgebench = os.path.abspath(args.edgebench)
    return args, loads, tools


def trial_line(r, load, tool, rep, wall_s):
    total = LOADS[load][0] * LOADS[load][1]
    num = lambda v, fmt: "-" if v is None else fmt % v
    line = "  %s %-13s #%d: %s msg/s delivered %s/%d, CPU %s s/100k, RSS %s MB, %.1f s, other CPU %s s" % (
        load, tool, rep + 1, num(r.get("delivered_per_s"), "%.0f"), r.get("delivered", "-"), total,
        num(per_100k(r.get("cpu_s"), total), "%.3f"),
        num(r["rss_kb"] / 1024.0 if r.get("rss_kb") is not None else None, "%.1f"),
        wall_s, r.get("other_cpu_s", "-"))
    if r.get("subscriber_cpu_s") is not None:
        line += ", counter %s" % num(per_100k(r["subscriber_cpu_s"], total), "%.3f")
    if tool == "edgebench" and r.get("orchestrator_cpu_s") is not None:
        line += ", orchestrator %s, tree %s" % (
            num(per_100k(r["orchestrator_cpu_s"], total), "%.3f"),
            num(per_100k(r.get("whole_cpu_s"), total), "%.3f"))
    if not r.get("ok"):
        line += "  FAILED: " + r.get("note", "")
    return line


def main(argv):
    args, loads, tools = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    workdir = tempfile.mkdtemp(prefix="edgebench-bench-")
    procs = Procs()
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            print("error: --pin needs at least 2 CPUs", file=sys.stderr)
            return 2
        procs.broker_cpus, procs.client_cpus = {cpus[0]}, set(cpus[1:])
    ctx = Context(args, workdir, procs)
    trials = []
    rc = 0
    try:
        prepare(ctx, tools, loads)
        info = machine_info(ctx)
        print("machine: %s x %s, kernel %s, mosquitto %s; work dir %s" % (
            info["nproc"], info["cpu_model"], info["kernel"], info["mosquitto_version"], workdir),
            flush=True)
        info["edgebench"] = ctx.edgebench_revision
        if ctx.edgebench_revision:
            print("edgebench %s at %s; counter %s" % (ctx.edgebench_revision, args.edgebench,
                                                      ctx.counter[0]), flush=True)
        for tool in tools:
            if tool in ctx.unavailable:
                print(ctx.unavailable[tool], flush=True)
        for load in loads:
            for rep in range(args.repeat):
                # Tools take turns within a repeat, so drift on the machine hits all alike.
                for tool in tools:
                    if tool in ctx.unavailable:
                        continue
                    for attempt in range(args.retries + 1):
                        if args.wait_idle_s > 0:
                            wait_until_quiet(args.wait_idle_s)
                        t0 = time.monotonic()
                        try:
                            r = run_trial(ctx, tool, load, rep)
                        except HarnessError as e:
                            r = {"ok": False, "note": str(e)}
                        other = r.get("other_cpu_s")
                        if other is None or other <= args.max_other_cpu_s or attempt == args.retries:
                            break
                        print("  %s %-13s #%d: disturbed (other processes used %.2f CPU s); "
                              "running it again" % (load, tool, rep + 1, other), flush=True)
                    r["attempts"] = attempt + 1
                    r.update({"load": load, "tool": tool, "repeat": rep})
                    trials.append(r)
                    if r.get("na"):
                        print(r["note"], flush=True)
                        continue
                    print(trial_line(r, load, tool, rep, time.monotonic() - t0), flush=True)
        summaries = [summarise(trials, l, t) for l in loads for t in tools]
        print_table(summaries, ctx.unavailable, tools, loads)
        sbs, targets = [], []
        if args.side_by_side:
            sbs = [side_by_side(trials, l) for l in loads]
            targets = target_rows(sbs)
            print_side_by_side(sbs, ctx.counter[0])
            print_targets(targets)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": info, "loads": {l: LOADS[l] for l in loads},
                           "payload_bytes": PAYLOAD_SIZE, "tools": tools, "repeat": args.repeat,
                           "inflight": args.inflight, "match_fanout": args.match_fanout,
                           "counter": ctx.counter[0], "side_by_side": args.side_by_side,
                           "side_by_side_summary": sbs,
                           "targets": [{"target": t, "load": l, "measured": m, "met": ok}
                                       for t, l, m, ok in targets],
                           "unavailable": ctx.unavailable, "summary": summaries,
                           "trials": trials}, f, indent=1)
            print("wrote %s" % args.json)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
        rc = 130
    except HarnessError as e:
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
