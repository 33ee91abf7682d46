// ChildProcess: a forked child that is killed and reaped on every path, never leaked.
//
// Contract: a ChildProcess owns one child pid. Its destructor sends SIGKILL (if the child
// still runs) and reaps it, so no error path leaves a process behind. Children are started
// with PR_SET_PDEATHSIG=SIGKILL, so they also die when edgebench itself is killed, and in
// their own process group, so a terminal's Ctrl-C reaches only edgebench, which then stops
// them in order. Move-only. Not thread-safe; use from the thread that started it. The
// parent-death signal follows the *thread* that forked: start children from a thread that
// lives as long as they should (edgebench uses its main thread).
#ifndef EDGEBENCH_BASE_PROCESS_H_
#define EDGEBENCH_BASE_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"

namespace edgebench {

class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess() { Kill(); }
  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Non-blocking: reaps the child if it has exited. Returns its wait status then.
  std::optional<int> Poll();
  // Waits up to timeout_ms (-1: forever) for the child to exit; the wait status or nullopt.
  std::optional<int> Wait(int timeout_ms);
  // SIGTERM, up to grace_ms for it to exit, then SIGKILL; always reaps. Returns the status.
  int Terminate(int grace_ms);
  // SIGKILL and reap, if still running.
  void Kill();

  // The wait status once reaped.
  std::optional<int> status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// "exited with status 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

// This process's own resource use so far (getrusage(RUSAGE_SELF): every thread, no child).
struct OwnUsage {
  double cpu_s = 0;      // user + system CPU seconds
  long rss_peak_kb = 0;  // ru_maxrss
};
OwnUsage OwnResourceUsage();

// Starts `argv` (argv[0] looked up in PATH) with stdin from /dev/null and stdout and
// stderr appended to `output_path`. Error: "cannot start mosquitto: No such file or directory".
// Between fork and exec the child writes its own pid (decimal) to each of `join_fds`, e.g.
// the cgroup.procs files of a Cgroup, so that it runs in that cgroup from its first
// instruction. A failed write fails the start: "cannot start /usr/sbin/mosquitto: cannot
// join its cgroup: Permission denied". The fds stay the caller's (the child's copies close
// at exec when they are O_CLOEXEC).
Result<ChildProcess> SpawnProgram(const std::vector<std::string>& argv,
                                  const std::string& output_path,
                                  const std::vector<int>& join_fds = {});

// Forks; the child runs `child_main` and leaves with _exit(its return value).
// Requires: no thread other than the caller's is running (fork copies only the caller).
Result<ChildProcess> ForkFunction(const std::function<int()>& child_main);

// Finds `name` in $PATH, then in /usr/sbin and /sbin (where Debian puts mosquitto).
std::optional<std::string> FindProgram(const std::string& name);

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_PROCESS_H_
