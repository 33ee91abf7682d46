// The fault tests' harness: the real edgebench binary run in the background, a phase awaited
// by what edgebench itself writes (edgebench.log, stdout), and the checks every fault must
// pass: exit code, status and directory suffix agree (docs/results.md), every scheduled message
// is accounted for, and nothing the run started is left (process, network namespace, cgroup,
// temporary file).
#ifndef EDGEBENCH_TESTS_FAULT_FAULT_SUPPORT_H_
#define EDGEBENCH_TESTS_FAULT_FAULT_SUPPORT_H_

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace fault {

namespace fs = std::filesystem;
using cli_support::Slurp;
using cli_support::TempDir;

// How long any awaited phase may take on a loaded 2-core machine before the test gives up.
constexpr int kPhaseTimeoutMs = 60'000;

// A small scenario for the embedded broker, as YAML: 5 devices at 10 msg/s, QoS 1, a 3 s
// window. `extra` is more top-level YAML, keys other than these.
struct SmallScenario {
  explicit SmallScenario(std::string n) : name(std::move(n)) {}

  std::string name;
  std::string devices = "{count: 5}";
  std::string publish = "{rate: 10, qos: 1}";
  double warmup_s = 0.5;
  double duration_s = 3;
  double drain_s = 2;
  std::string extra;

  std::string Yaml() const {
    char window[160];
    std::snprintf(window, sizeof window, "warmup_s: %g\nduration_s: %g\ndrain_s: %g\n", warmup_s,
                  duration_s, drain_s);
    return "name: " + name + "\ndevices: " + devices + "\npublish: " + publish + "\n" + window +
           extra;
  }
};

// The pids of this process's children, with their state letter (Z: exited, not reaped).
inline std::vector<std::pair<pid_t, char>> ChildrenOf(pid_t parent) {
  std::vector<std::pair<pid_t, char>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = Slurp(e.path() / "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    char state = stat[close + 2];
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 4, "%d", &ppid) != 1) continue;
    if (ppid == parent) out.emplace_back(static_cast<pid_t>(std::stoi(name)), state);
  }
  return out;
}

// The command name of a process ("" once it is gone).
inline std::string CommandName(pid_t pid) {
  std::string comm = Slurp("/proc/" + std::to_string(pid) + "/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

// The run directories under `out` (a single run has one, a set one per run): every directory
// that holds an edgebench.log.
inline std::vector<fs::path> RunDirs(const fs::path& out) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().filename() == "edgebench.log") dirs.push_back(it->path().parent_path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// Every "KEY<digits>" in `text`, as numbers ("broker started pid=" -> the broker's pids).
inline std::vector<pid_t> NumbersAfter(const std::string& text, const std::string& key) {
  std::vector<pid_t> out;
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    size_t from = at + key.size();
    size_t end = text.find_first_not_of("0123456789", from);
    if (end == from) continue;
    out.push_back(static_cast<pid_t>(std::stol(text.substr(from, end - from))));
  }
  return out;
}

// `edgebench ARGS --out DIR/out` in the background: stdout and stderr to DIR/stdout.txt and
// DIR/stderr.txt, TMPDIR=DIR/tmp (checked empty at the end). While it lives this process is a
// child subreaper, so whatever edgebench leaves running when it exits becomes our child and
// is seen. The destructor kills (SIGKILL) and reaps edgebench and any such leftover, by pid.
class EdgebenchRun {
 public:
  EdgebenchRun(const fs::path& dir, const std::vector<std::string>& args)
      : dir_(dir), out_(dir / "out"), tmp_(dir / "tmp") {
    fs::create_directories(tmp_);
    for (const auto& [pid, state] : ChildrenOf(::getpid())) before_.insert(pid);
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) == 0);
    std::vector<std::string> argv = {EDGEBENCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--out", out_.string()});
    std::vector<std::string> env = {"TMPDIR=" + tmp_.string()};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("TMPDIR=", 0) != 0) env.emplace_back(*e);
    }
    std::vector<char*> cargv;
    std::vector<char*> cenv;
    for (std::string& a : argv) cargv.push_back(a.data());
    for (std::string& e : env) cenv.push_back(e.data());
    cargv.push_back(nullptr);
    cenv.push_back(nullptr);
    std::string out_path = (dir / "stdout.txt").string();
    std::string err_path = (dir / "stderr.txt").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execve(cargv[0], cargv.data(), cenv.data());
      ::_exit(127);
    }
    REQUIRE(pid_ > 0);
  }
  ~EdgebenchRun() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);  // our own child: a test that failed before waiting for it
      (void)Wait();
    }
    (void)ReapLeftovers();
    ::prctl(PR_SET_CHILD_SUBREAPER, 0UL, 0UL, 0UL, 0UL);
  }
  EdgebenchRun(const EdgebenchRun&) = delete;
  EdgebenchRun& operator=(const EdgebenchRun&) = delete;

  pid_t pid() const { return pid_; }
  const fs::path& out() const { return out_; }
  const fs::path& tmp() const { return tmp_; }
  std::string Stdout() const { return Slurp(dir_ / "stdout.txt"); }
  std::string Stderr() const { return Slurp(dir_ / "stderr.txt"); }

  // Every edgebench.log under out, one after the other.
  std::string Logs() const {
    std::string all;
    for (const fs::path& d : RunDirs(out_)) all += Slurp(d / "edgebench.log");
    return all;
  }

  // Polls every 20 ms until `done()` holds; false when edgebench exited or the time is up
  // first.
  template <class F>
  bool WaitUntil(F done, int timeout_ms = kPhaseTimeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (Exited() || std::chrono::steady_clock::now() >= deadline) return done();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  // Until `needle` is in an edgebench.log of this run.
  bool WaitForLog(const std::string& needle, int timeout_ms = kPhaseTimeoutMs) {
    return WaitUntil([&] { return Logs().find(needle) != std::string::npos; }, timeout_ms);
  }
  // The first number after `key` in the logs, waiting for the line ("broker started pid=").
  std::optional<pid_t> WaitForLoggedPid(const std::string& key) {
    if (!WaitForLog(key)) return std::nullopt;
    std::vector<pid_t> pids = NumbersAfter(Logs(), key);
    if (pids.empty()) return std::nullopt;
    return pids.front();
  }

  void Signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }

  // The exit code (128 + the signal when it was killed); reaps edgebench once.
  int Wait() {
    if (!exit_code_) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return *exit_code_;
  }

  // What of the processes the run started is still there after edgebench exited: the pids
  // its logs name (broker, workers, link proxy) that still exist, and every child of this
  // process that was not there before the run (edgebench's orphans, reparented to us). Those
  // are then killed and reaped, so the next test starts clean. Requires: Wait().
  std::vector<std::string> ReapLeftovers() {
    std::vector<std::string> left;
    const std::string logs = Logs();
    for (const char* key : {"broker started pid=", "forked pid=", " proxy pid="}) {
      for (pid_t pid : NumbersAfter(logs, key)) {
        if (::kill(pid, 0) == 0) left.push_back(key + std::to_string(pid) + " still exists");
      }
    }
    for (const auto& [pid, state] : ChildrenOf(::getpid())) {
      if (before_.count(pid) != 0) continue;
      left.push_back("pid " + std::to_string(pid) + " (" + CommandName(pid) + ", state " + state +
                     ") outlived edgebench");
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    return left;
  }

 private:
  bool Exited() {
    if (exit_code_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  fs::path dir_;
  fs::path out_;
  fs::path tmp_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::set<pid_t> before_;
};

// Network namespaces (/run/netns) named after edgebench's pid: edgebench-<pid>x<id> (a netem
// link) and edgebench-probe-<pid>.
inline std::vector<std::string> NamespacesOf(pid_t edgebench) {
  std::vector<std::string> out;
  const std::string link = "edgebench-" + std::to_string(edgebench) + "x";
  const std::string probe = "edgebench-probe-" + std::to_string(edgebench);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    std::string name = e.path().filename();
    if (name.rfind(link, 0) == 0 || name == probe) out.push_back(e.path());
  }
  return out;
}

// Cgroups edgebench-<pid>-* anywhere under /sys/fs/cgroup (v2: at the top; v1: under each
// controller's own cgroup of edgebench), up to `depth` levels down.
inline void CgroupsOf(pid_t edgebench, const fs::path& dir, int depth,
                      std::vector<std::string>* out) {
  const std::string prefix = "edgebench-" + std::to_string(edgebench) + "-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
    if (e.path().filename().string().rfind(prefix, 0) == 0) out->push_back(e.path());
    if (depth > 0) CgroupsOf(edgebench, e.path(), depth - 1, out);
  }
}

// Temporary files under `root`: names ending in .tmp (results' write-then-rename) or
// starting with a dot (the set's .latest-* link), and any .partial directory.
inline std::vector<std::string> TemporariesUnder(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename();
    bool temporary = name.ends_with(".tmp") || name.find(".tmp.") != std::string::npos ||
                     name.starts_with(".") || name.ends_with(".partial");
    if (temporary) out.push_back(it->path());
  }
  return out;
}

// After edgebench exited: no process, namespace, cgroup or temporary file of its run is left.
// `allow_partial`: the outcome is a .partial directory (a disk that filled), not a leftover.
inline void CheckNothingLeft(EdgebenchRun& run, bool allow_partial = false) {
  for (const std::string& p : run.ReapLeftovers()) FAIL_CHECK("process left: " << p);
  for (const std::string& ns : NamespacesOf(run.pid())) FAIL_CHECK("namespace left: " << ns);
  std::vector<std::string> cgroups;
  CgroupsOf(run.pid(), "/sys/fs/cgroup", 6, &cgroups);
  for (const std::string& cg : cgroups) FAIL_CHECK("cgroup left: " << cg);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run.tmp(), ec)) {
    FAIL_CHECK("left in TMPDIR: " << e.path());
  }
  for (const std::string& t : TemporariesUnder(run.out())) {
    if (allow_partial && t.ends_with(".partial")) continue;
    FAIL_CHECK("temporary left: " << t);
  }
}

// docs/results.md: a status and the directory suffix and exit code that go with it.
inline std::string SuffixOf(const std::string& status) {
  if (status == "ok") return "";
  return "." + status;
}
inline int ExitCodeOf(const std::string& status) {
  if (status == "ok") return 0;
  return status == "interrupted" ? 130 : 3;
}

// messages.scheduled == received + lost + in_flight_at_end + unsent, and its two halves.
inline void CheckAccounting(const nlohmann::json& summary) {
  const nlohmann::json& m = summary.at("messages");
  INFO("messages: " << m.dump());
  auto n = [&](const char* key) { return m.at(key).get<int64_t>(); };
  CHECK(n("scheduled") == n("sent") + n("unsent"));
  CHECK(n("sent") == n("received") + n("in_flight_at_end") + n("lost"));
  CHECK(n("scheduled") == n("received") + n("lost") + n("in_flight_at_end") + n("unsent"));
  for (const char* key : {"scheduled", "sent", "received", "lost", "in_flight_at_end", "unsent"}) {
    CHECK(n(key) >= 0);
  }
}

// One run directory: its suffix is the status's and summary.json says that status, with every
// message accounted for and a window no longer than asked.
inline nlohmann::json CheckRunDir(const fs::path& run_dir, const std::string& status) {
  INFO("run directory " << run_dir);
  CHECK(run_dir.extension() == SuffixOf(status));
  REQUIRE(fs::exists(run_dir / "summary.json"));
  nlohmann::json summary = nlohmann::json::parse(Slurp(run_dir / "summary.json"));
  CHECK(summary.at("status") == status);
  CheckAccounting(summary);
  const nlohmann::json& window = summary.at("window");
  CHECK(window.at("measured_s").get<double>() <= window.at("duration_s").get<double>() + 1e-6);
  return summary;
}

// A single run that ended with `status`: exit code, the one run directory (also the last
// line of stdout), its summary (and a failure's reason on stderr), and nothing left. Returns the summary.
inline nlohmann::json CheckOutcome(EdgebenchRun& run, const std::string& status) {
  const int code = run.Wait();
  INFO("stderr: " << run.Stderr());
  CHECK(code == ExitCodeOf(status));
  std::vector<fs::path> dirs = RunDirs(run.out());
  REQUIRE(dirs.size() == 1);
  CHECK(cli_support::LastLine(run.Stdout()) == dirs[0].string());
  nlohmann::json summary = CheckRunDir(dirs[0], status);
  if (status == "failed") {
    // The reason, in the one line the user sees, as summary.json has it.
    CHECK(run.Stderr().find("edgebench: error: " + summary.at("error").get<std::string>() +
                            "\n") != std::string::npos);
  }
  CheckNothingLeft(run);
  return summary;
}

}  // namespace fault

#endif  // EDGEBENCH_TESTS_FAULT_FAULT_SUPPORT_H_
