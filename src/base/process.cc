// Forking, spawning, waiting for and killing child processes.
#include "edgebench/base/process.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace edgebench {
namespace {

// Signals stay blocked across fork(), so the child cannot run one of the parent's handlers
// before PrepareChild() has reset them (a SIGTERM there would be lost in a flag).
class BlockSignals {
 public:
  BlockSignals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;
  const sigset_t& saved() const { return saved_; }

 private:
  sigset_t saved_;
};

// In the child right after fork: default signal handling, die with the parent, leave the
// terminal's process group.
void PrepareChild(pid_t parent, const sigset_t& mask) {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  ::pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  ::setpgid(0, 0);
}

// What a child of SpawnProgram() needs between fork and exec, gathered before the fork so
// that the child only makes system calls.
struct SpawnSetup {
  pid_t parent;
  int out;         // stdout and stderr
  int exec_check;  // write end, O_CLOEXEC: a SpawnFailure arrives on it when exec fails
  const char* program;
  char* const* args;
  const std::vector<int>* join_fds;
};

// The child's report of a failed start; written in one write(), so read whole or not at all.
struct SpawnFailure {
  int joining = 0;  // 1: writing the pid to a join fd failed; 0: execv() failed
  int err = 0;
};

// Writes the calling process's pid in decimal to `fd`. Async-signal-safe (no snprintf), for
// the child between fork and exec. Returns 0 or the errno.
int WriteOwnPid(int fd) {
  char digits[24];
  char* end = digits + sizeof digits;
  char* p = end;
  auto pid = static_cast<unsigned long>(::getpid());
  do {
    *--p = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid != 0);
  ssize_t n;
  do {
    n = ::write(fd, p, static_cast<size_t>(end - p));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  return n == end - p ? 0 : EIO;
}

// The child of SpawnProgram(): joins the cgroups first, so that everything it does after
// counts against their limits, then execs. Never returns.
[[noreturn]] void ExecChild(const SpawnSetup& setup, const sigset_t& mask) {
  PrepareChild(setup.parent, mask);
  SpawnFailure failure;
  for (int fd : *setup.join_fds) {
    failure.err = WriteOwnPid(fd);
    if (failure.err != 0) {
      failure.joining = 1;
      (void)!::write(setup.exec_check, &failure, sizeof failure);
      ::_exit(127);
    }
  }
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::dup2(setup.out, 1);
  ::dup2(setup.out, 2);
  ::execv(setup.program, setup.args);
  failure.err = errno;
  (void)!::write(setup.exec_check, &failure, sizeof failure);
  ::_exit(127);
}

}  // namespace

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

std::optional<int> ChildProcess::Poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) status_ = status;
  return status_;
}

std::optional<int> ChildProcess::Wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (Poll()) return status_;
    if (pid_ <= 0) return std::nullopt;
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int ChildProcess::Terminate(int grace_ms) {
  if (pid_ <= 0) return status_.value_or(0);
  if (!Poll()) {
    ::kill(pid_, SIGTERM);
    if (!Wait(grace_ms)) Kill();
  }
  return status_.value_or(0);
}

void ChildProcess::Kill() {
  if (pid_ <= 0 || Poll()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) status_ = status;
}

OwnUsage OwnResourceUsage() {
  rusage ru{};
  OwnUsage u;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return u;
  u.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  u.rss_peak_kb = ru.ru_maxrss;
  return u;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* what = ::sigdescr_np(sig);  // strsignal() without its static buffer
    return "killed by signal " + std::to_string(sig) + " (" + (what ? what : "unknown") + ")";
  }
  return "stopped (wait status " + std::to_string(status) + ")";
}

std::optional<std::string> FindProgram(const std::string& name) {
  auto executable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    return std::nullopt;
  }
  std::string path =
      std::getenv("PATH") ? std::getenv("PATH") : "";  // NOLINT(concurrency-mt-unsafe)
  path += ":/usr/local/sbin:/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return std::nullopt;
}

Result<ChildProcess> SpawnProgram(const std::vector<std::string>& argv,
                                  const std::string& output_path,
                                  const std::vector<int>& join_fds) {
  std::optional<std::string> program = FindProgram(argv.at(0));
  if (!program) return Error{"cannot start " + argv[0] + ": not found in PATH or /usr/sbin"};
  int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return Error{"cannot write " + output_path + ": " + ErrnoMessage(errno)};
  // A pipe whose write end closes on exec tells the parent whether exec worked.
  int exec_check[2];
  if (::pipe2(exec_check, O_CLOEXEC) != 0) {
    ::close(out);
    return Error{std::string("cannot create pipe: ") + ErrnoMessage(errno)};
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  SpawnSetup setup{::getpid(), out, exec_check[1], program->c_str(), args.data(), &join_fds};
  BlockSignals blocked;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    ::close(exec_check[0]);
    ::close(exec_check[1]);
    return Error{std::string("cannot fork: ") + ErrnoMessage(errno)};
  }
  if (pid == 0) ExecChild(setup, blocked.saved());
  ::close(out);
  ::close(exec_check[1]);
  ChildProcess child(pid);
  SpawnFailure failure;
  ssize_t n;
  do {
    n = ::read(exec_check[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(exec_check[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    child.Wait(-1);
    std::string step = failure.joining ? "cannot join its cgroup: " : "";
    return Error{"cannot start " + *program + ": " + step + ErrnoMessage(failure.err)};
  }
  return child;
}

Result<ChildProcess> ForkFunction(const std::function<int()>& child_main) {
  pid_t parent = ::getpid();
  BlockSignals blocked;
  pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("cannot fork: ") + ErrnoMessage(errno)};
  if (pid == 0) {
    PrepareChild(parent, blocked.saved());
    // Nothing may unwind out of the child into the parent's code (its destructors would
    // stop the parent's processes): an escaping exception ends the child here.
    int rc = 70;
    try {
      rc = child_main();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "edgebench: error: internal error in the worker: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "edgebench: error: internal error in the worker\n");
    }
    ::_exit(rc);
  }
  return ChildProcess(pid);
}

}  // namespace edgebench
