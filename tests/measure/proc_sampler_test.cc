// Tests for src/proc_sampler.cc: /proc parsing, SampleOnce, ProcSampler and SummarizeSamples.
#include "edgebench/measure/proc_sampler.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"

namespace edgebench {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const std::string kFixtureRoot = EDGEBENCH_SOURCE_DIR "/tests/data/proc";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

double Ticks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

int64_t MsSince(steady_clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
}

// A stat line whose field i (1-based, i >= 3) holds the text "i", with field `field`
// replaced by `value`.
std::string StatWithField(int field, const std::string& value) {
  std::string line = "1234 (a)";
  for (int i = 3; i <= 24; ++i) line += " " + (i == field ? value : std::to_string(i));
  return line + "\n";
}

std::string StatText(int pid, uint64_t utime, uint64_t stime) {
  return std::to_string(pid) + " (fake proc) S 1 " + std::to_string(pid) + " " +
         std::to_string(pid) + " 0 -1 4194560 100 0 0 0 " + std::to_string(utime) + " " +
         std::to_string(stime) + " 0 0 20 0 2 0 5000 325451776 2560 18446744073709551615 0 0\n";
}

std::string StatusText(int64_t rss_kb, int64_t hwm_kb) {
  return "Name:\tfake proc\nState:\tS (sleeping)\nVmHWM:\t" + std::to_string(hwm_kb) +
         " kB\nVmRSS:\t" + std::to_string(rss_kb) +
         " kB\nThreads:\t2\nvoluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t1\n";
}

// A fresh directory under the system temp dir, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "proc_sampler.XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Kills and reaps a forked child unless the test already did, so a failing check never
// leaves a process behind.
struct ChildGuard {
  pid_t pid = 0;
  ~ChildGuard() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

// Forks a child that spins on the CPU until it is killed.
pid_t ForkSpinner() {
  const pid_t pid = fork();
  if (pid == 0) {
    volatile uint64_t spins = 0;
    for (;;) spins = spins + 1;
  }
  return pid;
}

// Waits until process `pid` has used `cpu_s` seconds of CPU. False after 20 s or when it
// cannot be read.
bool WaitForCpu(int pid, double cpu_s) {
  const steady_clock::time_point t0 = steady_clock::now();
  while (MsSince(t0) < 20000) {
    Result<ProcSample> sample = SampleOnce("/proc", pid);
    if (!sample.ok()) return false;
    if (sample->cpu_s >= cpu_s) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

TEST_CASE("ParseProcStat reads a normal process", "[proc]") {
  Result<ProcStat> stat = ParseProcStat(ReadText(kFixtureRoot + "/1234/stat"));
  REQUIRE(stat.ok());
  CHECK(stat->pid == 1234);
  CHECK(stat->comm == "edgebench");
  CHECK(stat->state == 'S');
  CHECK(stat->utime_ticks == 4521);
  CHECK(stat->stime_ticks == 1377);
  CHECK(stat->num_threads == 5);
  CHECK(stat->rss_pages == 2560);
}

TEST_CASE("ParseProcStat takes comm up to the last ')'", "[proc]") {
  Result<ProcStat> stat = ParseProcStat(ReadText(kFixtureRoot + "/4321/stat"));
  REQUIRE(stat.ok());
  CHECK(stat->pid == 4321);
  CHECK(stat->comm == "my (weird) proc");
  CHECK(stat->state == 'R');
  CHECK(stat->utime_ticks == 250);
  CHECK(stat->stime_ticks == 50);
  CHECK(stat->num_threads == 3);
  CHECK(stat->rss_pages == 393);
}

TEST_CASE("ParseProcStat reads a kernel thread", "[proc]") {
  Result<ProcStat> stat = ParseProcStat(ReadText(kFixtureRoot + "/2/stat"));
  REQUIRE(stat.ok());
  CHECK(stat->pid == 2);
  CHECK(stat->comm == "kthreadd");
  CHECK(stat->state == 'S');
  CHECK(stat->utime_ticks == 0);
  CHECK(stat->stime_ticks == 7);
  CHECK(stat->num_threads == 1);
  CHECK(stat->rss_pages == 0);
}

TEST_CASE("ParseProcStat accepts exactly 24 fields without a newline", "[proc]") {
  std::string line = StatWithField(3, "Z");
  line.pop_back();
  Result<ProcStat> stat = ParseProcStat(line);
  REQUIRE(stat.ok());
  CHECK(stat->comm == "a");
  CHECK(stat->state == 'Z');
  CHECK(stat->utime_ticks == 14);
  CHECK(stat->stime_ticks == 15);
  CHECK(stat->num_threads == 20);
  CHECK(stat->rss_pages == 24);
}

TEST_CASE("ParseProcStat errors", "[proc]") {
  auto error_of = [](const std::string& text) {
    Result<ProcStat> stat = ParseProcStat(text);
    REQUIRE_FALSE(stat.ok());
    CHECK_FALSE(stat.error().where.has_value());
    return stat.error().ToString();
  };
  CHECK(error_of("") == "/proc stat: no '(' before comm");
  CHECK(error_of("1234 (abc S 1 2 3") == "/proc stat: no ')' after comm");
  CHECK(error_of("1234 ) (abc S 1 2 3") == "/proc stat: no ')' after comm");
  CHECK(error_of("1234 (a) S 1 2 3 4 5 6 7\n") ==
        "/proc stat: expected at least 24 fields, got 10");
  CHECK(error_of("1234 (a b) S\n") == "/proc stat: expected at least 24 fields, got 3");
  CHECK(error_of("abc" + StatWithField(3, "S").substr(4)) ==
        "/proc stat: field 1 (pid) is not a number: 'abc'");
  CHECK(error_of(StatWithField(3, "SS")) ==
        "/proc stat: field 3 (state) is not a single character: 'SS'");
  CHECK(error_of(StatWithField(14, "x")) == "/proc stat: field 14 (utime) is not a number: 'x'");
  CHECK(error_of(StatWithField(15, "-1")) ==
        "/proc stat: field 15 (stime) is not a number: '-1'");
  CHECK(error_of(StatWithField(20, "3.5")) ==
        "/proc stat: field 20 (num_threads) is not a number: '3.5'");
  CHECK(error_of(StatWithField(24, "12kB")) ==
        "/proc stat: field 24 (rss) is not a number: '12kB'");
}

TEST_CASE("ParseProcStatus reads a normal process", "[proc]") {
  Result<ProcStatus> status = ParseProcStatus(ReadText(kFixtureRoot + "/1234/status"));
  REQUIRE(status.ok());
  CHECK(status->vm_rss_kb == 10240);
  CHECK(status->vm_hwm_kb == 12288);
  CHECK(status->threads == 5);
  CHECK(status->voluntary_ctxt_switches == 8123);
  CHECK(status->nonvoluntary_ctxt_switches == 457);
}

TEST_CASE("ParseProcStatus gives 0 memory for a kernel thread", "[proc]") {
  Result<ProcStatus> status = ParseProcStatus(ReadText(kFixtureRoot + "/2/status"));
  REQUIRE(status.ok());
  CHECK(status->vm_rss_kb == 0);
  CHECK(status->vm_hwm_kb == 0);
  CHECK(status->threads == 1);
  CHECK(status->voluntary_ctxt_switches == 55);
  CHECK(status->nonvoluntary_ctxt_switches == 0);
}

TEST_CASE("ParseProcStatus errors", "[proc]") {
  Result<ProcStatus> missing = ParseProcStatus("Name:\tx\nVmRSS:\t    10 kB\n");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToString() == "/proc status: missing 'Threads'");

  Result<ProcStatus> empty = ParseProcStatus("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().ToString() == "/proc status: missing 'Threads'");

  Result<ProcStatus> bad = ParseProcStatus("VmRSS:\tabc kB\nThreads:\t1");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().ToString() == "/proc status: 'VmRSS' is not a number: 'abc kB'");

  Result<ProcStatus> bad_threads = ParseProcStatus("Threads:\t\n");
  REQUIRE_FALSE(bad_threads.ok());
  CHECK(bad_threads.error().ToString() == "/proc status: 'Threads' is not a number: ''");
}

TEST_CASE("SampleOnce reads a fixture process", "[proc]") {
  Result<ProcSample> sample = SampleOnce(kFixtureRoot, 1234);
  REQUIRE(sample.ok());
  CHECK(sample->t_ms == 0);
  CHECK(sample->role.empty());
  CHECK(sample->pid == 1234);
  CHECK(sample->cpu_s == Approx((4521 + 1377) / Ticks()));
  CHECK(sample->cpu_pct == 0);
  CHECK(sample->rss_kb == 10240);
  CHECK(sample->rss_peak_kb == 12288);
  CHECK(sample->threads == 5);
  CHECK(sample->voluntary_ctxt_switches == 8123);
  CHECK(sample->nonvoluntary_ctxt_switches == 457);
}

TEST_CASE("SampleOnce takes CPU from schedstat where it exists, else from stat ticks",
          "[proc][proc_sampler]") {
  // 5678 is single-threaded: its own schedstat is the process's (stat says 1334 ticks).
  const uint64_t before_ns = MonotonicNowNs();
  Result<ProcSample> single = SampleOnce(kFixtureRoot, 5678);
  const uint64_t after_ns = MonotonicNowNs();
  REQUIRE(single.ok());
  CHECK(single->cpu_from_schedstat);
  CHECK(single->cpu_s == Approx(13.345678901).epsilon(0).margin(1e-9));
  CHECK(single->mono_ns >= before_ns);
  CHECK(single->mono_ns <= after_ns);

  // 5680 has two threads: the sum of task/*/schedstat, not the leader's own 9 s, and more
  // than stat's 1500 ticks.
  Result<ProcSample> threads = SampleOnce(kFixtureRoot, 5680);
  REQUIRE(threads.ok());
  CHECK(threads->cpu_from_schedstat);
  CHECK(threads->cpu_s == Approx(15.5).epsilon(0).margin(1e-9));

  // 1234 has no schedstat files: the ticks of stat.
  Result<ProcSample> ticks = SampleOnce(kFixtureRoot, 1234);
  REQUIRE(ticks.ok());
  CHECK_FALSE(ticks->cpu_from_schedstat);
  CHECK(ticks->cpu_s == Approx((4521 + 1377) / Ticks()));
}

TEST_CASE("SampleOnce reports a missing process", "[proc]") {
  Result<ProcSample> sample = SampleOnce(kFixtureRoot, 999999);
  REQUIRE_FALSE(sample.ok());
  CHECK(sample.error().ToString() ==
        "cannot read " + kFixtureRoot + "/999999/stat: No such file or directory");
}

TEST_CASE("SampleOnce reads the test process itself", "[proc]") {
  Result<ProcSample> sample = SampleOnce("/proc", getpid());
  REQUIRE(sample.ok());
  CHECK(sample->pid == getpid());
  CHECK(sample->cpu_s >= 0);
  CHECK(sample->threads >= 1);
  CHECK(sample->rss_kb > 0);
  CHECK(sample->rss_peak_kb >= sample->rss_kb);
  // This kernel keeps schedstat files, and the test process has run for more than a tick.
  if (std::filesystem::exists("/proc/self/schedstat")) CHECK(sample->cpu_from_schedstat);
}

TEST_CASE("SummarizeSamples groups by role in first-appearance order", "[proc]") {
  auto make = [](const char* role, int pid, int64_t t_ms, double cpu_s, int64_t peak_kb) {
    ProcSample sample;
    sample.role = role;
    sample.pid = pid;
    sample.t_ms = t_ms;
    sample.cpu_s = cpu_s;
    sample.rss_peak_kb = peak_kb;
    return sample;
  };
  const std::vector<ProcSample> samples = {
      make("worker", 10, 0, 1.0, 500),    make("broker", 20, 0, 3.0, 900),
      make("worker", 10, 1000, 1.5, 700), make("broker", 20, 1000, 3.1, 800),
      make("worker", 10, 2000, 2.0, 600), make("orchestrator", 30, 2000, 0.4, 100),
  };
  const std::vector<ProcessSummary> summaries = SummarizeSamples(samples);
  REQUIRE(summaries.size() == 3);

  CHECK(summaries[0].role == "worker");
  CHECK(summaries[0].pid == 10);
  CHECK(summaries[0].samples == 3);
  CHECK(summaries[0].cpu_s == Approx(1.0));
  CHECK(summaries[0].cpu_pct_mean == Approx(50.0));
  CHECK(summaries[0].rss_peak_kb == 700);

  CHECK(summaries[1].role == "broker");
  CHECK(summaries[1].pid == 20);
  CHECK(summaries[1].samples == 2);
  CHECK(summaries[1].cpu_s == Approx(0.1));
  CHECK(summaries[1].cpu_pct_mean == Approx(10.0));
  CHECK(summaries[1].rss_peak_kb == 900);

  CHECK(summaries[2].role == "orchestrator");
  CHECK(summaries[2].samples == 1);
  CHECK(summaries[2].cpu_s == 0);
  CHECK(summaries[2].cpu_pct_mean == 0);
  CHECK(summaries[2].rss_peak_kb == 100);

  CHECK(SummarizeSamples({}).empty());
}

TEST_CASE("ProcSampler samples fixture processes at Start and Stop", "[proc]") {
  ProcSampler sampler(kFixtureRoot, 60000);
  sampler.AddTarget("worker", 1234);
  sampler.AddTarget("gone", 999999);
  sampler.AddTarget("kernel", 2);
  sampler.Start();
  sampler.Stop();
  sampler.Stop();  // a second Stop() is a no-op

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() == 4);
  CHECK(samples[0].role == "worker");
  CHECK(samples[1].role == "kernel");
  CHECK(samples[2].role == "worker");
  CHECK(samples[3].role == "kernel");
  for (const ProcSample& sample : samples) CHECK(sample.cpu_pct == 0);  // files do not change
  CHECK(samples[1].rss_kb == 0);
  CHECK(samples[1].cpu_s == Approx(7 / Ticks()));

  const std::vector<ProcessSummary> summaries = SummarizeSamples(samples);
  REQUIRE(summaries.size() == 2);
  CHECK(summaries[0].role == "worker");
  CHECK(summaries[0].samples == 2);
  CHECK(summaries[0].rss_peak_kb == 12288);
  CHECK(summaries[1].role == "kernel");
  CHECK(summaries[1].rss_peak_kb == 0);
}

TEST_CASE("ProcSampler computes CPU from the change between samples", "[proc]") {
  TempDir root;
  REQUIRE(!root.path().empty());
  const std::string dir = root.path() + "/77";
  std::filesystem::create_directory(dir);
  WriteText(dir + "/stat", StatText(77, 1000, 200));
  WriteText(dir + "/status", StatusText(4000, 5000));

  // The interval is far longer than the test: only Start() and Stop() sample.
  ProcSampler sampler(root.path(), 60000);
  sampler.AddTarget("worker", 77);
  sampler.Start();
  std::this_thread::sleep_for(milliseconds(20));
  WriteText(dir + "/stat", StatText(77, 1080, 220));
  WriteText(dir + "/status", StatusText(3000, 6000));
  const steady_clock::time_point stop_start = steady_clock::now();
  sampler.Stop();
  CHECK(MsSince(stop_start) < 5000);  // Stop() wakes the thread instead of waiting 60 s

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() == 2);
  CHECK(samples[0].cpu_s == Approx(1200 / Ticks()));
  CHECK(samples[0].cpu_pct == 0);
  CHECK(samples[0].rss_kb == 4000);
  CHECK(samples[0].threads == 2);
  CHECK(samples[1].cpu_s == Approx(1300 / Ticks()));
  CHECK(samples[1].rss_kb == 3000);
  CHECK(samples[1].voluntary_ctxt_switches == 10);
  CHECK(samples[1].nonvoluntary_ctxt_switches == 1);
  CHECK(samples[1].t_ms >= samples[0].t_ms + 19);

  // 100 ticks over at least 20 ms of wall time; how much more depends on the scheduler.
  const double cpu_delta_s = 100 / Ticks();
  CHECK(samples[1].cpu_pct > 0);
  CHECK(samples[1].cpu_pct <= cpu_delta_s / 0.020 * 100);

  const std::vector<ProcessSummary> summaries = SummarizeSamples(samples);
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].pid == 77);
  CHECK(summaries[0].samples == 2);
  CHECK(summaries[0].cpu_s == Approx(cpu_delta_s));
  CHECK(summaries[0].rss_peak_kb == 6000);
  CHECK(summaries[0].cpu_pct_mean > 0);
  CHECK(summaries[0].cpu_pct_mean <= cpu_delta_s / 0.019 * 100);
}

TEST_CASE("ProcSampler CPU from schedstat has nanosecond resolution", "[proc][proc_sampler]") {
  TempDir root;
  REQUIRE(!root.path().empty());
  const std::string dir = root.path() + "/91";
  std::filesystem::create_directory(dir);
  WriteText(dir + "/stat", StatWithField(20, "1").replace(0, 4, "91  "));
  WriteText(dir + "/status", StatusText(100, 100));
  WriteText(dir + "/schedstat", "1000000000 5 1\n");

  ProcSampler sampler(root.path(), 60000);  // only Start() and Stop() sample
  sampler.AddTarget("broker", 91);
  const uint64_t before_ns = MonotonicNowNs();
  sampler.Start();
  std::this_thread::sleep_for(milliseconds(20));
  WriteText(dir + "/schedstat", "1012345678 5 2\n");
  sampler.Stop();
  const uint64_t after_ns = MonotonicNowNs();

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() == 2);
  CHECK(samples[0].cpu_s == Approx(1.0).epsilon(0).margin(1e-9));
  // 12.345678 ms: no multiple of the 10 ms tick.
  CHECK(samples[1].cpu_s - samples[0].cpu_s == Approx(0.012345678).epsilon(0).margin(1e-9));
  CHECK(samples[1].cpu_pct > 0);
  CHECK(samples[0].mono_ns >= before_ns);
  CHECK(samples[1].mono_ns > samples[0].mono_ns);
  CHECK(samples[1].mono_ns <= after_ns);
  // mono_ns and t_ms are two views of one instant: t_ms counts from the first sample.
  CHECK(static_cast<int64_t>((samples[1].mono_ns - samples[0].mono_ns) / 1'000'000) >=
        samples[1].t_ms - samples[0].t_ms - 1);
}

TEST_CASE("ProcSampler keeps the CPU of a thread that has exited", "[proc][proc_sampler]") {
  TempDir root;
  REQUIRE(!root.path().empty());
  const std::string dir = root.path() + "/92";
  std::filesystem::create_directories(dir + "/task/92");
  std::filesystem::create_directories(dir + "/task/93");
  WriteText(dir + "/stat", StatText(92, 100, 0));  // two threads, 1.00 s in ticks
  WriteText(dir + "/status", StatusText(100, 100));
  WriteText(dir + "/task/92/schedstat", "600000000 0 1\n");
  WriteText(dir + "/task/93/schedstat", "500000000 0 1\n");

  ProcSampler sampler(root.path(), 60000);
  sampler.AddTarget("orchestrator", 92);
  sampler.Start();
  // Thread 93 ends: its 0.5 s is now only in stat's ticks (1.12 s in all).
  std::filesystem::remove_all(dir + "/task/93");
  WriteText(dir + "/stat", StatText(92, 112, 0));
  WriteText(dir + "/task/92/schedstat", "610000000 0 2\n");
  sampler.Stop();

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() == 2);
  CHECK(samples[0].cpu_s == Approx(1.1).epsilon(0).margin(1e-9));  // 0.6 + 0.5
  // The live thread's 0.61 s and, for the ended one, what stat shows beyond it.
  CHECK(samples[1].cpu_s == Approx(1.12).epsilon(0).margin(1e-9));
  CHECK(samples[1].cpu_pct >= 0);
}

TEST_CASE("ProcSampler stops sampling a target whose files vanish", "[proc]") {
  TempDir root;
  REQUIRE(!root.path().empty());
  const std::string dir = root.path() + "/88";
  std::filesystem::create_directory(dir);
  WriteText(dir + "/stat", StatText(88, 10, 10));
  WriteText(dir + "/status", StatusText(100, 100));

  ProcSampler sampler(root.path(), 20);
  sampler.AddTarget("worker", 88);
  sampler.Start();
  std::filesystem::remove_all(dir);
  // Many intervals pass, so the thread finds the files gone and marks the target dead.
  std::this_thread::sleep_for(milliseconds(500));
  std::filesystem::create_directory(dir);
  WriteText(dir + "/stat", StatText(88, 20, 20));
  WriteText(dir + "/status", StatusText(100, 100));
  sampler.Stop();

  REQUIRE(sampler.samples().size() == 1);
  CHECK(sampler.samples()[0].cpu_s == Approx(20 / Ticks()));
}

TEST_CASE("ProcSampler samples the test process on a schedule", "[proc]") {
  ProcSampler sampler("/proc", 20);
  sampler.AddTarget("self", getpid());
  sampler.Start();
  std::this_thread::sleep_for(milliseconds(200));
  sampler.Stop();

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() >= 3);
  CHECK(samples.front().t_ms < 20);
  for (size_t i = 0; i < samples.size(); ++i) {
    CHECK(samples[i].pid == getpid());
    CHECK(samples[i].threads >= 1);
    CHECK(samples[i].rss_kb > 0);
    CHECK(samples[i].cpu_pct >= 0);
    if (i > 0) CHECK(samples[i].t_ms >= samples[i - 1].t_ms);
  }
}

TEST_CASE("ProcSampler destructor stops a running sampler", "[proc]") {
  const steady_clock::time_point t0 = steady_clock::now();
  {
    ProcSampler sampler("/proc", 60000);
    sampler.AddTarget("self", getpid());
    sampler.Start();
  }
  CHECK(MsSince(t0) < 5000);

  ProcSampler never_started("/proc", 100);
  never_started.Stop();
  CHECK(never_started.samples().empty());
}

TEST_CASE("ProcSampler follows a busy child and stops when it dies", "[proc]") {
  ChildGuard child;
  child.pid = ForkSpinner();
  REQUIRE(child.pid > 0);

  ProcSampler sampler("/proc", 50);
  sampler.AddTarget("child", child.pid);
  const steady_clock::time_point t0 = steady_clock::now();
  sampler.Start();
  // Spin for about 0.3 s of CPU, however loaded the machine is, then give the sampler
  // two more intervals so its last sample sees it.
  REQUIRE(WaitForCpu(child.pid, 0.3));
  std::this_thread::sleep_for(milliseconds(100));
  const pid_t pid = child.pid;
  REQUIRE(kill(pid, SIGKILL) == 0);
  REQUIRE(waitpid(pid, nullptr, 0) == pid);
  child.pid = 0;
  const int64_t reaped_ms = MsSince(t0);
  // Several more intervals with the target gone; then Stop() samples it once more.
  std::this_thread::sleep_for(milliseconds(200));
  sampler.Stop();

  const std::vector<ProcSample>& samples = sampler.samples();
  REQUIRE(samples.size() >= 3);
  double max_cpu_pct = 0;
  for (const ProcSample& sample : samples) {
    CHECK(sample.role == "child");
    CHECK(sample.pid == pid);
    CHECK(sample.t_ms <= reaped_ms);  // nothing sampled after the child died
    CHECK(sample.cpu_pct >= 0);
    max_cpu_pct = std::max(max_cpu_pct, sample.cpu_pct);
  }
  CHECK(max_cpu_pct > 0);

  const std::vector<ProcessSummary> summaries = SummarizeSamples(samples);
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].cpu_s > 0.1);  // it spun for at least 0.3 s
  CHECK(summaries[0].cpu_pct_mean > 0);
  CHECK(summaries[0].cpu_pct_mean <= 200);  // one thread, plus tick rounding

  Result<ProcSample> gone = SampleOnce("/proc", pid);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().ToString() ==
        "cannot read /proc/" + std::to_string(pid) + "/stat: No such file or directory");
}

}  // namespace
}  // namespace edgebench
