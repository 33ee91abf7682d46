// Tests for src/process.cc with real forked children: kill-and-reap, Terminate, Poll/Wait,
// SpawnProgram and the parent-death signal.
#include "edgebench/base/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"

#include "test_support.h"

namespace edgebench {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::ProcessGone;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

// Reads one int from `fd`, waiting up to timeout_ms; -1 on timeout or EOF.
int ReadInt(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return -1;
  int value = -1;
  if (::read(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) return -1;
  return value;
}

void WriteInt(int fd, int value) { (void)!::write(fd, &value, sizeof value); }

// A child that sleeps (at most 30 s, so a broken test cannot leave it forever).
ChildProcess ForkSleeper() {
  Result<ChildProcess> child = ForkFunction([] {
    ::sleep(30);
    return 0;
  });
  REQUIRE(child.ok());
  return std::move(child.value());
}

// Sets PR_SET_CHILD_SUBREAPER for the test's lifetime, so that orphaned grandchildren
// become our children and we can reap them (and see how they died).
class SubreaperScope {
 public:
  SubreaperScope() { REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) == 0); }
  ~SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 0UL, 0UL, 0UL, 0UL); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;
};

}  // namespace

TEST_CASE("ChildProcess destructor kills and reaps a running child", "[process]") {
  pid_t pid = -1;
  {
    ChildProcess child = ForkSleeper();
    pid = child.pid();
    REQUIRE(pid > 0);
    CHECK(child.started());
    CHECK(!ProcessGone(pid));
    CHECK(!child.Poll());  // still sleeping
  }
  CHECK(ProcessGone(pid));  // not even a zombie is left
}

TEST_CASE("ChildProcess move hands over the child", "[process]") {
  ChildProcess a = ForkSleeper();
  pid_t pid = a.pid();
  ChildProcess b(std::move(a));
  CHECK(a.pid() == -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(!a.started());
  CHECK(b.pid() == pid);
  ChildProcess c;
  c = std::move(b);
  CHECK(c.pid() == pid);
  CHECK(!ProcessGone(pid));
  c.Kill();
  REQUIRE(c.status());
  CHECK(DescribeWaitStatus(*c.status()) == "killed by signal 9 (Killed)");
  CHECK(ProcessGone(pid));
}

TEST_CASE("ChildProcess Poll and Wait report how the child ended", "[process]") {
  SECTION("exit status") {
    Result<ChildProcess> child = ForkFunction([] { return 3; });
    REQUIRE(child.ok());
    std::optional<int> status = child->Wait(5000);
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 3);
    CHECK(DescribeWaitStatus(*status) == "exited with status 3");
    CHECK(child->status() == status);
    CHECK(child->Poll() == status);  // reaped once, remembered after
    CHECK(ProcessGone(child->pid()));
  }
  SECTION("a running child times out, then is killed") {
    ChildProcess child = ForkSleeper();
    CHECK(!child.Poll());
    auto start = steady_clock::now();
    CHECK(!child.Wait(100));
    CHECK(steady_clock::now() - start >= milliseconds(100));
    CHECK(!child.status());
    child.Kill();
    REQUIRE(child.status());
    CHECK(WIFSIGNALED(*child.status()));
    CHECK(DescribeWaitStatus(*child.status()) == "killed by signal 9 (Killed)");
    CHECK(ProcessGone(child.pid()));
  }
}

TEST_CASE("ChildProcess Terminate sends SIGTERM first", "[process]") {
  Result<PipeEnds> ready = MakePipe();
  REQUIRE(ready.ok());
  int ready_fd = ready->write.get();
  Result<ChildProcess> child = ForkFunction([ready_fd] {
    WriteInt(ready_fd, 1);
    ::sleep(30);
    return 0;
  });
  REQUIRE(child.ok());
  ready->write.Reset();
  REQUIRE(ReadInt(ready->read.get(), 5000) == 1);  // past its setup
  pid_t pid = child->pid();
  auto start = steady_clock::now();
  int status = child->Terminate(2000);
  CHECK(steady_clock::now() - start < milliseconds(1000));  // did not need the grace period
  CHECK(DescribeWaitStatus(status) == "killed by signal 15 (Terminated)");
  CHECK(child->status() == status);
  CHECK(ProcessGone(pid));
  CHECK(child->Terminate(2000) == status);  // again: nothing left to do
}

// A SIGTERM sent right after fork() must not reach a handler the child inherited from the
// parent (main() installs one): signals stay blocked until the child has reset them.
TEST_CASE("ChildProcess Terminate right after the start", "[process]") {
  struct sigaction handler {};
  handler.sa_handler = [](int) {};  // like main()'s handler that sets StopRequested()
  struct sigaction previous {};
  REQUIRE(::sigaction(SIGTERM, &handler, &previous) == 0);
  std::vector<std::string> outcomes;
  for (int i = 0; i < 3; ++i) {
    ChildProcess child = ForkSleeper();
    outcomes.push_back(DescribeWaitStatus(child.Terminate(300)));
  }
  ::sigaction(SIGTERM, &previous, nullptr);
  CHECK(outcomes == std::vector<std::string>(3, "killed by signal 15 (Terminated)"));
}

TEST_CASE("ChildProcess Terminate kills a child that ignores SIGTERM", "[process]") {
  Result<PipeEnds> ready = MakePipe();
  REQUIRE(ready.ok());
  int ready_fd = ready->write.get();
  Result<ChildProcess> child = ForkFunction([ready_fd] {
    ::signal(SIGTERM, SIG_IGN);
    WriteInt(ready_fd, static_cast<int>(::getpgrp()));
    ::sleep(30);
    return 0;
  });
  REQUIRE(child.ok());
  ready->write.Reset();
  int pgrp = ReadInt(ready->read.get(), 5000);
  // Started in its own process group, so a terminal's Ctrl-C does not reach it.
  CHECK(pgrp == child->pid());
  auto start = steady_clock::now();
  int status = child->Terminate(200);
  CHECK(steady_clock::now() - start >= milliseconds(200));
  CHECK(DescribeWaitStatus(status) == "killed by signal 9 (Killed)");
  CHECK(ProcessGone(child->pid()));
}

TEST_CASE("DescribeWaitStatus", "[process]") {
  CHECK(DescribeWaitStatus(0) == "exited with status 0");
  CHECK(DescribeWaitStatus(3 << 8) == "exited with status 3");
  CHECK(DescribeWaitStatus(SIGKILL) == "killed by signal 9 (Killed)");
  CHECK(DescribeWaitStatus(SIGSEGV) == "killed by signal 11 (Segmentation fault)");
  CHECK(DescribeWaitStatus((SIGSTOP << 8) | 0x7f) == "stopped (wait status 4991)");
}

TEST_CASE("SpawnProgram of a missing program", "[process]") {
  TempDir dir;
  Result<ChildProcess> child = SpawnProgram({"no-such-program-edgebench"}, dir.File("out.log"));
  REQUIRE(!child.ok());
  CHECK(child.error().ToString() ==
        "cannot start no-such-program-edgebench: not found in PATH or /usr/sbin");
}

TEST_CASE("SpawnProgram reports a failed exec", "[process]") {
  TempDir dir;
  // Executable, but its interpreter does not exist: execv() itself fails with ENOENT.
  std::string script = dir.File("script");
  WriteText(script, "#!/nonexistent/edgebench-interpreter\n");
  REQUIRE(::chmod(script.c_str(), 0755) == 0);
  Result<ChildProcess> child = SpawnProgram({script}, dir.File("out.log"));
  REQUIRE(!child.ok());
  CHECK(child.error().ToString() == "cannot start " + script + ": No such file or directory");
}

TEST_CASE("SpawnProgram appends the program's output to the file", "[process]") {
  TempDir dir;
  std::string out = dir.File("out.log");
  WriteText(out, "before\n");
  // `cat` copies stdin: it ends at once only when stdin is /dev/null.
  Result<ChildProcess> child =
      SpawnProgram({"sh", "-c", "echo out; echo err >&2; cat; exit 4"}, out);
  REQUIRE(child.ok());
  std::optional<int> status = child->Wait(5000);
  REQUIRE(status);
  CHECK(DescribeWaitStatus(*status) == "exited with status 4");
  CHECK(ReadText(out) == "before\nout\nerr\n");
}

TEST_CASE("SpawnProgram writes the child's pid to each join fd before exec", "[process]") {
  TempDir dir;
  std::string first = dir.File("first.procs");
  std::string second = dir.File("second.procs");
  Fd a(::open(first.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  Fd b(::open(second.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(a.valid());
  REQUIRE(b.valid());
  // The program prints its own pid: the one written must be the exec'd program's.
  Result<ChildProcess> child =
      SpawnProgram({"sh", "-c", "echo $$"}, dir.File("out.log"), {a.get(), b.get()});
  REQUIRE(child.ok());
  std::optional<int> status = child->Wait(5000);
  REQUIRE(status);
  CHECK(DescribeWaitStatus(*status) == "exited with status 0");
  std::string pid = std::to_string(child->pid());
  CHECK(ReadText(first) == pid);
  CHECK(ReadText(second) == pid);
  CHECK(ReadText(dir.File("out.log")) == pid + "\n");
}

TEST_CASE("SpawnProgram fails when the child cannot write a join fd", "[process]") {
  TempDir dir;
  std::string path = dir.File("procs");
  WriteText(path, "");
  Fd read_only(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(read_only.valid());
  std::optional<std::string> sh = FindProgram("sh");
  REQUIRE(sh);
  Result<ChildProcess> child =
      SpawnProgram({"sh", "-c", "echo ran"}, dir.File("out.log"), {read_only.get()});
  REQUIRE(!child.ok());
  CHECK(child.error().ToString() ==
        "cannot start " + *sh + ": cannot join its cgroup: Bad file descriptor");
  CHECK(ReadText(dir.File("out.log")).empty());  // it never ran
}

TEST_CASE("a child started by ForkFunction dies with its parent", "[process]") {
  SubreaperScope subreaper;
  Result<PipeEnds> pids = MakePipe();
  REQUIRE(pids.ok());
  int pid_fd = pids->write.get();
  Result<ChildProcess> middle = ForkFunction([pid_fd] {
    Result<ChildProcess> grandchild = ForkFunction([pid_fd] {
      WriteInt(pid_fd, static_cast<int>(::getpid()));
      ::sleep(10);
      return 0;
    });
    if (!grandchild.ok()) return 1;
    ::sleep(30);  // until the test kills us; `grandchild` is never destroyed
    return 0;
  });
  REQUIRE(middle.ok());
  pids->write.Reset();
  pid_t grandchild = ReadInt(pids->read.get(), 5000);
  REQUIRE(grandchild > 0);
  CHECK(!ProcessGone(grandchild));

  REQUIRE(::kill(middle->pid(), SIGKILL) == 0);
  std::optional<int> middle_status = middle->Wait(5000);
  REQUIRE(middle_status);
  CHECK(DescribeWaitStatus(*middle_status) == "killed by signal 9 (Killed)");

  // The orphan is now our child (subreaper): reap it as soon as it dies.
  int status = 0;
  bool reaped =
      testing::WaitFor([&] { return ::waitpid(grandchild, &status, WNOHANG) == grandchild; }, 1000);
  if (!reaped) {  // PR_SET_PDEATHSIG did not work: clean up before failing
    ::kill(grandchild, SIGKILL);
    ::waitpid(grandchild, &status, 0);
  }
  CHECK(reaped);
  CHECK(DescribeWaitStatus(status) == "killed by signal 9 (Killed)");
  CHECK(ProcessGone(grandchild));
}

}  // namespace edgebench
