// Tests for src/cgroup/: the layout from mountinfo texts, Create/ReadStats/Remove on a tree of
// ordinary files standing in for cgroupfs, and (as root, with cgroups) a real CPU quota, a
// real OOM kill and the removal of stale cgroups.
#include "edgebench/cgroup/cgroup.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"

#include "test_support.h"

namespace edgebench {
namespace {

using testing::ReadText;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteText;

constexpr uint64_t kMiB = 1024 * 1024;

// /proc/self/mountinfo of the machine the module was written on: cgroup v1 controllers
// each in their own hierarchy, and a cgroup v2 hierarchy without cpu or memory.
constexpr const char* kV1Mountinfo =
    "25 1 0:23 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kV1SelfCgroup =
    "9:name=systemd:/\n"
    "4:memory:/process_api/0b4b\n"
    "2:cpuacct:/\n"
    "1:cpu:/\n"
    "0::/\n";

// Debian 12: only cgroup2, at /sys/fs/cgroup.
constexpr const char* kV2Mountinfo =
    "25 1 0:23 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr const char* kV2SelfCgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";

void MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  REQUIRE(!ec);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ErrorOf(const Status& st) { return st.ok() ? "(ok)" : st.error().ToString(); }

// A cgroup v1 tree of ordinary files: TMP/cpu and TMP/memory/sub as our own cgroups.
struct V1Tree {
  TempDir dir;
  CgroupLayout layout;
  explicit V1Tree(bool memsw = true) {
    layout.version = CgroupVersion::kV1;
    layout.cpu_parent = dir.File("cpu");
    layout.memory_parent = dir.File("memory/sub");
    layout.regular_files = true;
    MakeDirs(layout.cpu_parent);
    MakeDirs(layout.memory_parent);
    if (memsw) WriteText(layout.memory_parent + "/memory.memsw.limit_in_bytes", "max\n");
  }
};

// A cgroup v2 tree of ordinary files: TMP/own as our own cgroup.
struct V2Tree {
  TempDir dir;
  CgroupLayout layout;
  explicit V2Tree(const std::string& subtree_control = "", bool swap = true) {
    layout.version = CgroupVersion::kV2;
    layout.cpu_parent = dir.File("own");
    layout.memory_parent = layout.cpu_parent;
    layout.regular_files = true;
    MakeDirs(layout.cpu_parent);
    WriteText(layout.cpu_parent + "/cgroup.subtree_control", subtree_control);
    if (swap) WriteText(layout.cpu_parent + "/memory.swap.max", "max\n");
  }
  std::string subtree_control() const {
    return ReadText(layout.cpu_parent + "/cgroup.subtree_control");
  }
};

Cgroup MustCreate(const CgroupLayout& layout, const std::string& name, const CgroupLimits& limits) {
  Result<Cgroup> cgroup = Cgroup::Create(layout, name, limits);
  INFO((cgroup.ok() ? std::string() : cgroup.error().ToString()));
  REQUIRE(cgroup.ok());
  return std::move(cgroup.value());
}

// The layout of this host when the tests may make real cgroups; otherwise WARNs why not.
std::optional<CgroupLayout> RealLayout() {
  if (::geteuid() != 0) {
    WARN("skipped: real cgroups need root; run the tests as root");
    return std::nullopt;
  }
  std::string why = CgroupUnavailableReason();
  if (!why.empty()) {
    WARN("skipped: cgroups cannot be used here: " << why);
    return std::nullopt;
  }
  Result<CgroupLayout> layout = DetectCgroupLayout();
  REQUIRE(layout.ok());
  return *layout;
}

// The CPU time (user + system) process `pid` has used, in seconds, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  REQUIRE(paren != std::string::npos);
  std::istringstream in(stat.substr(paren + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state) of proc(5)
  for (std::string f; in >> f;) fields.push_back(f);
  REQUIRE(fields.size() > 12);
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// One byte from `fd`, waiting up to timeout_ms; 0 on timeout or EOF.
char ReadByte(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  char byte = 0;
  if (::poll(&p, 1, timeout_ms) != 1 || ::read(fd, &byte, 1) != 1) return 0;
  return byte;
}

// Removes these (empty) cgroup directories if they still exist when the test ends.
class RmdirAtEnd {
 public:
  explicit RmdirAtEnd(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
  ~RmdirAtEnd() {
    for (const std::string& dir : dirs_) ::rmdir(dir.c_str());
  }
  RmdirAtEnd(const RmdirAtEnd&) = delete;
  RmdirAtEnd& operator=(const RmdirAtEnd&) = delete;

 private:
  std::vector<std::string> dirs_;
};

}  // namespace

TEST_CASE("FindCgroupLayout on cgroup v1 controllers in separate hierarchies", "[cgroup]") {
  TempDir root;
  MakeDirs(root.File("sys/fs/cgroup/unified"));
  WriteText(root.File("sys/fs/cgroup/unified/cgroup.controllers"), "hugetlb\n");
  Result<CgroupLayout> layout = FindCgroupLayout(kV1Mountinfo, kV1SelfCgroup, root.path());
  INFO((layout.ok() ? std::string() : layout.error().ToString()));
  REQUIRE(layout.ok());
  CHECK(layout->version == CgroupVersion::kV1);
  CHECK(layout->cpu_parent == root.File("sys/fs/cgroup/cpu"));
  CHECK(layout->memory_parent == root.File("sys/fs/cgroup/memory/process_api/0b4b"));
  CHECK(!layout->regular_files);
}

TEST_CASE("FindCgroupLayout on co-mounted cpu,cpuacct", "[cgroup]") {
  std::string mountinfo =
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  std::string self = "5:memory:/user.slice\n3:cpu,cpuacct:/user.slice/a\n";
  Result<CgroupLayout> layout = FindCgroupLayout(mountinfo, self);
  INFO((layout.ok() ? std::string() : layout.error().ToString()));
  REQUIRE(layout.ok());
  CHECK(layout->version == CgroupVersion::kV1);
  CHECK(layout->cpu_parent == "/sys/fs/cgroup/cpu,cpuacct/user.slice/a");
  CHECK(layout->memory_parent == "/sys/fs/cgroup/memory/user.slice");
}

TEST_CASE("FindCgroupLayout takes our path below the mount's root, unescaped", "[cgroup]") {
  // A container's view without a cgroup namespace: /docker/abc is mounted, we are in it.
  std::string mountinfo =
      "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu\\040x rw - cgroup cgroup rw,cpu\n"
      "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  Result<CgroupLayout> layout =
      FindCgroupLayout(mountinfo, "2:memory:/docker/abc\n1:cpu:/docker/abc/worker\n");
  INFO((layout.ok() ? std::string() : layout.error().ToString()));
  REQUIRE(layout.ok());
  CHECK(layout->cpu_parent == "/sys/fs/cgroup/cpu x/worker");
  CHECK(layout->memory_parent == "/sys/fs/cgroup/memory");

  Result<CgroupLayout> outside =
      FindCgroupLayout(mountinfo, "2:memory:/docker/abc\n1:cpu:/docker/other\n");
  REQUIRE(!outside.ok());
  CHECK(outside.error().ToString() ==
        "no cgroup hierarchy with the cpu and memory controllers: cgroup v2 is not mounted; "
        "cgroup v1 cpu: our cgroup /docker/other is outside the root /docker/abc mounted at "
        "/sys/fs/cgroup/cpu x");
}

TEST_CASE("FindCgroupLayout prefers cgroup v2 with cpu and memory", "[cgroup]") {
  TempDir root;
  std::string own = root.File("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
  MakeDirs(own);
  WriteText(own + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  std::string both = std::string(kV2Mountinfo) +
                     "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                     "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
  Result<CgroupLayout> layout =
      FindCgroupLayout(both, std::string(kV2SelfCgroup) + "4:memory:/\n1:cpu:/\n", root.path());
  INFO((layout.ok() ? std::string() : layout.error().ToString()));
  REQUIRE(layout.ok());
  CHECK(layout->version == CgroupVersion::kV2);
  // The top of the hierarchy: our own cgroup holds processes, so v2 gives it no children
  // with controllers.
  CHECK(layout->cpu_parent == root.File("sys/fs/cgroup"));
  CHECK(layout->memory_parent == root.File("sys/fs/cgroup"));
}

TEST_CASE("FindCgroupLayout falls back to v1 when v2 lacks the controllers", "[cgroup]") {
  TempDir root;
  MakeDirs(root.File("sys/fs/cgroup/unified"));
  SECTION("no controllers at all") {
    WriteText(root.File("sys/fs/cgroup/unified/cgroup.controllers"), "");
  }
  SECTION("only cpu") { WriteText(root.File("sys/fs/cgroup/unified/cgroup.controllers"), "cpu\n"); }
  Result<CgroupLayout> layout = FindCgroupLayout(kV1Mountinfo, kV1SelfCgroup, root.path());
  INFO((layout.ok() ? std::string() : layout.error().ToString()));
  REQUIRE(layout.ok());
  CHECK(layout->version == CgroupVersion::kV1);
  CHECK(layout->cpu_parent == root.File("sys/fs/cgroup/cpu"));
}

TEST_CASE("FindCgroupLayout says what is missing", "[cgroup]") {
  TempDir root;
  std::string unified = root.File("sys/fs/cgroup/unified");
  MakeDirs(unified);
  WriteText(unified + "/cgroup.controllers", "hugetlb\n");
  std::string v2_and_cpu =
      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
  Result<CgroupLayout> layout = FindCgroupLayout(v2_and_cpu, "1:cpu:/\n0::/\n", root.path());
  REQUIRE(!layout.ok());
  CHECK(layout.error().kind == ErrorKind::kUnavailable);
  CHECK(layout.error().ToString() ==
        "no cgroup hierarchy with the cpu and memory controllers: cgroup v2 at " + unified +
            " has 'hugetlb'; cgroup v1 has no memory controller mounted");

  Result<CgroupLayout> nothing = FindCgroupLayout("", "");
  REQUIRE(!nothing.ok());
  CHECK(nothing.error().ToString() ==
        "no cgroup hierarchy with the cpu and memory controllers: cgroup v2 is not mounted; "
        "cgroup v1 has no cpu or memory controller mounted");

  // v2 mounted, but our cgroup's directory has no cgroup.controllers; v1 memory mounted but
  // we have no line for it.
  std::string mountinfo = std::string(kV2Mountinfo) +
                          "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  Result<CgroupLayout> unreadable = FindCgroupLayout(mountinfo, kV2SelfCgroup, root.path());
  REQUIRE(!unreadable.ok());
  std::string own = root.File("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
  CHECK(unreadable.error().ToString() ==
        "no cgroup hierarchy with the cpu and memory controllers: cgroup v2 at " + own +
            ": cannot read " + own +
            "/cgroup.controllers: No such file or directory; cgroup v1 has no cpu controller "
            "mounted; cgroup v1 memory controller at " +
            root.File("sys/fs/cgroup/memory") + " is not in /proc/self/cgroup");
}

TEST_CASE("DetectCgroupLayout reads this process's files", "[cgroup]") {
  Result<CgroupLayout> layout = DetectCgroupLayout();
  if (!layout.ok()) {
    CHECK(layout.error().message.starts_with("no cgroup hierarchy with the cpu and memory"));
    return;
  }
  CHECK(std::filesystem::is_directory(layout->cpu_parent));
  CHECK(std::filesystem::is_directory(layout->memory_parent));
}

TEST_CASE("CgroupUnavailableReason says why, or nothing", "[cgroup]") {
  std::string reason = CgroupUnavailableReason();
  Result<CgroupLayout> layout = DetectCgroupLayout();
  if (!layout.ok()) {
    CHECK(reason == layout.error().message);
  } else if (::geteuid() != 0 && ::access(layout->cpu_parent.c_str(), W_OK) != 0) {
    CHECK(reason.starts_with("it needs root; edgebench runs as uid " + std::to_string(::geteuid()) +
                             " (cannot create cgroup " + layout->cpu_parent + "/edgebench-"));
  } else {
    // Root (or a delegated cgroup): only a cgroupfs that refuses (read-only) says why.
    CHECK((reason.empty() || reason.starts_with("cannot ")));
  }
  if (layout.ok()) {  // the probe is gone
    std::string probe = "/edgebench-" + std::to_string(::getpid()) + "-probe";
    CHECK(!Exists(layout->cpu_parent + probe));
    CHECK(!Exists(layout->memory_parent + probe));
  }
}

TEST_CASE("CgroupName", "[cgroup]") { CHECK(CgroupName(4242, 1) == "edgebench-4242-1"); }

TEST_CASE("Cgroup on v1 writes the period, quota and memory limits", "[cgroup]") {
  V1Tree tree;
  std::string cpu = tree.layout.cpu_parent + "/edgebench-1-1";
  std::string memory = tree.layout.memory_parent + "/edgebench-1-1";
  {
    Cgroup cgroup = MustCreate(tree.layout, "edgebench-1-1", {0.25, 16 * kMiB});
    CHECK(cgroup.version() == CgroupVersion::kV1);
    CHECK(cgroup.limits().cpus == 0.25);
    CHECK(cgroup.dirs() == std::vector<std::string>{cpu, memory});
    CHECK(cgroup.procs_fds().size() == 2);
    CHECK(ReadText(cpu + "/cpu.cfs_period_us") == "100000");
    CHECK(ReadText(cpu + "/cpu.cfs_quota_us") == "25000");
    CHECK(ReadText(memory + "/memory.limit_in_bytes") == "16777216");
    CHECK(ReadText(memory + "/memory.memsw.limit_in_bytes") == "16777216");
    CHECK(Entries(cpu) ==
          std::vector<std::string>{"cgroup.procs", "cpu.cfs_period_us", "cpu.cfs_quota_us"});
  }
  CHECK(!Exists(cpu));  // the destructor removed both
  CHECK(!Exists(memory));
  CHECK(Entries(tree.layout.cpu_parent).empty());
}

TEST_CASE("Cgroup on v1 without swap accounting or limits writes only what applies", "[cgroup]") {
  V1Tree tree(/*memsw=*/false);
  SECTION("memory without memsw") {
    Cgroup cgroup = MustCreate(tree.layout, "g", {1.5, 4096});
    CHECK(ReadText(cgroup.dirs()[0] + "/cpu.cfs_quota_us") == "150000");
    CHECK(Entries(cgroup.dirs()[1]) ==
          std::vector<std::string>{"cgroup.procs", "memory.limit_in_bytes"});
  }
  SECTION("no limits") {
    Cgroup cgroup = MustCreate(tree.layout, "g", {});
    CHECK(Entries(cgroup.dirs()[0]) == std::vector<std::string>{"cgroup.procs"});
    CHECK(Entries(cgroup.dirs()[1]) == std::vector<std::string>{"cgroup.procs"});
  }
  SECTION("cpu and memory in one hierarchy") {
    tree.layout.memory_parent = tree.layout.cpu_parent;
    Cgroup cgroup = MustCreate(tree.layout, "g", {0.5, 8192});
    REQUIRE(cgroup.dirs() == std::vector<std::string>{tree.layout.cpu_parent + "/g"});
    CHECK(cgroup.procs_fds().size() == 1);
    CHECK(ReadText(cgroup.dirs()[0] + "/cpu.cfs_quota_us") == "50000");
    CHECK(ReadText(cgroup.dirs()[0] + "/memory.limit_in_bytes") == "8192");
  }
}

TEST_CASE("Cgroup on v2 enables the controllers and writes cpu.max and memory.max", "[cgroup]") {
  SECTION("nothing enabled yet, swap accounting on") {
    V2Tree tree("");
    Cgroup cgroup = MustCreate(tree.layout, "g", {1.5, 64 * kMiB});
    std::string dir = tree.layout.cpu_parent + "/g";
    CHECK(cgroup.version() == CgroupVersion::kV2);
    CHECK(cgroup.dirs() == std::vector<std::string>{dir});
    CHECK(tree.subtree_control() == "+cpu +memory");
    CHECK(ReadText(dir + "/cpu.max") == "150000 100000");
    CHECK(ReadText(dir + "/memory.max") == "67108864");
    CHECK(ReadText(dir + "/memory.swap.max") == "0");
  }
  SECTION("cpu already enabled, no swap accounting") {
    V2Tree tree("cpu\n", /*swap=*/false);
    Cgroup cgroup = MustCreate(tree.layout, "g", {0.01, 0});
    CHECK(tree.subtree_control() == "+memory");
    CHECK(Entries(cgroup.dirs()[0]) == std::vector<std::string>{"cgroup.procs", "cpu.max"});
    CHECK(ReadText(cgroup.dirs()[0] + "/cpu.max") == "1000 100000");
  }
  SECTION("both enabled: subtree_control is left as it is") {
    V2Tree tree("cpu io memory\n");
    Cgroup cgroup = MustCreate(tree.layout, "g", {0, 1024});
    CHECK(tree.subtree_control() == "cpu io memory\n");
    CHECK(Entries(cgroup.dirs()[0]) ==
          std::vector<std::string>{"cgroup.procs", "memory.max", "memory.swap.max"});
  }
}

TEST_CASE("Cgroup::ReadStats parses the v1 files", "[cgroup]") {
  V1Tree tree;
  Cgroup cgroup = MustCreate(tree.layout, "g", {0.5, 16 * kMiB});
  std::string cpu = cgroup.dirs()[0];
  std::string memory = cgroup.dirs()[1];
  WriteText(cpu + "/cpu.stat",
            "nr_periods 12\nnr_throttled 9\nthrottled_time 123456789\nnr_bursts 0\n"
            "burst_time 0\n");
  WriteText(memory + "/memory.max_usage_in_bytes", "4096000\n");
  WriteText(memory + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  Result<CgroupStats> stats = cgroup.ReadStats();
  INFO((stats.ok() ? std::string() : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(stats->nr_periods == 12);
  CHECK(stats->nr_throttled == 9);
  CHECK(stats->throttled_ns == 123456789);
  CHECK(stats->memory_peak_bytes == 4096000);
  CHECK(stats->oom_kills == 2);

  WriteText(cpu + "/cpu.stat", "nr_periods 12\nthrottled_time 5\n");
  Result<CgroupStats> missing = cgroup.ReadStats();
  REQUIRE(!missing.ok());
  CHECK(missing.error().ToString() == cpu + "/cpu.stat has no nr_throttled line");

  WriteText(cpu + "/cpu.stat", "nr_periods 12\nnr_throttled x\nthrottled_time 5\n");
  Result<CgroupStats> bad = cgroup.ReadStats();
  REQUIRE(!bad.ok());
  CHECK(bad.error().ToString() == cpu + "/cpu.stat: bad nr_throttled line 'nr_throttled x'");
}

TEST_CASE("Cgroup::ReadStats parses the v2 files", "[cgroup]") {
  V2Tree tree;
  Cgroup cgroup = MustCreate(tree.layout, "g", {0.5, 16 * kMiB});
  std::string dir = cgroup.dirs()[0];
  WriteText(dir + "/cpu.stat",
            "usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 7\nnr_throttled 3\n"
            "throttled_usec 2500\nnr_bursts 0\nburst_usec 0\n");
  WriteText(dir + "/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n");
  Result<CgroupStats> stats = cgroup.ReadStats();
  INFO((stats.ok() ? std::string() : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(stats->nr_periods == 7);
  CHECK(stats->nr_throttled == 3);
  CHECK(stats->throttled_ns == 2500000);
  CHECK(!stats->memory_peak_bytes);  // no memory.peak before Linux 5.19
  CHECK(stats->oom_kills == 1);

  WriteText(dir + "/memory.peak", "1234\n");
  stats = cgroup.ReadStats();
  REQUIRE(stats.ok());
  CHECK(stats->memory_peak_bytes == 1234);

  std::filesystem::remove(dir + "/memory.events");
  Result<CgroupStats> unreadable = cgroup.ReadStats();
  REQUIRE(!unreadable.ok());
  CHECK(unreadable.error().ToString() ==
        "cannot read " + dir + "/memory.events: No such file or directory");
}

TEST_CASE("Cgroup::AddProcess and Remove with processes left", "[cgroup]") {
  V1Tree tree;
  Cgroup cgroup = MustCreate(tree.layout, "g", {});
  std::vector<std::string> dirs = cgroup.dirs();
  REQUIRE(dirs.size() == 2);
  Status added = cgroup.AddProcess(4242);
  INFO(ErrorOf(added));
  REQUIRE(added.ok());
  CHECK(ReadText(dirs[0] + "/cgroup.procs") == "4242\n");
  CHECK(ReadText(dirs[1] + "/cgroup.procs") == "4242\n");
  WriteText(dirs[1] + "/cgroup.procs", "4242\n4243\n");

  Status removed = cgroup.Remove();
  REQUIRE(!removed.ok());
  CHECK(removed.error().ToString() ==
        "cannot remove cgroup " + dirs[0] + ": it still holds processes 4242");
  CHECK(cgroup.dirs() == dirs);  // nothing was removed
  CHECK(cgroup.procs_fds().empty());

  // The processes leave: the memory one first. Remove() then does what is left.
  WriteText(dirs[1] + "/cgroup.procs", "");
  removed = cgroup.Remove();
  REQUIRE(!removed.ok());
  CHECK(removed.error().ToString() ==
        "cannot remove cgroup " + dirs[0] + ": it still holds processes 4242");
  CHECK(cgroup.dirs() == std::vector<std::string>{dirs[0]});
  CHECK(!Exists(dirs[1]));
  WriteText(dirs[0] + "/cgroup.procs", "");
  CHECK(ErrorOf(cgroup.Remove()) == "(ok)");
  CHECK(cgroup.dirs().empty());
  CHECK(!Exists(dirs[0]));
  CHECK(ErrorOf(cgroup.Remove()) == "(ok)");  // idempotent
  CHECK(ErrorOf(cgroup.AddProcess(1)) == "cannot add pid 1 to a cgroup that was removed");
}

TEST_CASE("Cgroup move hands over the directories", "[cgroup]") {
  V2Tree tree;
  Cgroup a = MustCreate(tree.layout, "a", {});
  std::string dir = a.dirs()[0];
  Cgroup b(std::move(a));
  CHECK(a.dirs().empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(b.dirs() == std::vector<std::string>{dir});
  {
    Cgroup c = MustCreate(tree.layout, "c", {});
    c = std::move(b);  // removes c's own directory, takes over a's
    CHECK(!Exists(tree.layout.cpu_parent + "/c"));
    CHECK(c.dirs() == std::vector<std::string>{dir});
    CHECK(Exists(dir));
  }
  CHECK(!Exists(dir));
}

TEST_CASE("Cgroup::Create rejects bad arguments and makes nothing", "[cgroup]") {
  V1Tree tree;
  Result<Cgroup> small = Cgroup::Create(tree.layout, "g", {0.001, 0});
  REQUIRE(!small.ok());
  CHECK(small.error().kind == ErrorKind::kUsage);
  CHECK(small.error().ToString() == "cgroup cpus must be 0 (no limit) or at least 0.01, not 0.001");
  Result<Cgroup> negative = Cgroup::Create(tree.layout, "g", {-1, 0});
  REQUIRE(!negative.ok());
  CHECK(negative.error().ToString() == "cgroup cpus must be 0 (no limit) or at least 0.01, not -1");
  Result<Cgroup> name = Cgroup::Create(tree.layout, "a/b", {});
  REQUIRE(!name.ok());
  CHECK(name.error().ToString() == "cgroup name 'a/b' must be one path component");
  CHECK(Entries(tree.layout.cpu_parent).empty());
  CHECK(Entries(tree.layout.memory_parent) ==
        std::vector<std::string>{"memory.memsw.limit_in_bytes"});
}

TEST_CASE("Cgroup::Create that fails halfway leaves nothing behind", "[cgroup]") {
  V1Tree tree;
  SECTION("the memory parent is not a directory") {
    std::string file = tree.dir.File("not-a-dir");
    WriteText(file, "");
    tree.layout.memory_parent = file;
    Result<Cgroup> cgroup = Cgroup::Create(tree.layout, "g", {0.5, 16 * kMiB});
    REQUIRE(!cgroup.ok());
    CHECK(cgroup.error().kind == ErrorKind::kUnavailable);
    CHECK(cgroup.error().ToString() == "cannot create cgroup " + file + "/g: Not a directory");
    CHECK(Entries(tree.layout.cpu_parent).empty());  // the cpu cgroup, made first, is gone
  }
  SECTION("the name is taken in one hierarchy: the other cgroup is not touched") {
    Cgroup first = MustCreate(tree.layout, "g", {0.5, 0});
    CgroupLayout other = tree.layout;
    other.cpu_parent = tree.dir.File("cpu2");
    MakeDirs(other.cpu_parent);
    Result<Cgroup> second = Cgroup::Create(other, "g", {0.5, 0});
    REQUIRE(!second.ok());
    CHECK(second.error().ToString() ==
          "cannot create cgroup " + tree.layout.memory_parent + "/g: File exists");
    CHECK(Entries(other.cpu_parent).empty());
    CHECK(ReadText(first.dirs()[0] + "/cpu.cfs_quota_us") == "50000");
    CHECK(Exists(first.dirs()[1]));
  }
  SECTION("v2: the parent's cgroup.subtree_control cannot be read") {
    V2Tree v2;
    std::string control = v2.layout.cpu_parent + "/cgroup.subtree_control";
    std::filesystem::remove(control);
    MakeDirs(control);
    Result<Cgroup> cgroup = Cgroup::Create(v2.layout, "g", {0.5, 0});
    REQUIRE(!cgroup.ok());
    CHECK(cgroup.error().ToString() == control + ": is not a regular file (a directory)");
    CHECK(!Exists(v2.layout.cpu_parent + "/g"));
  }
}

TEST_CASE("RemoveStaleCgroups removes those of a dead creator only", "[cgroup]") {
  V1Tree tree;
  // A child makes a cgroup and dies without removing it (as with SIGKILL).
  Result<ChildProcess> child = ForkFunction([&tree] {
    Result<Cgroup> cgroup = Cgroup::Create(tree.layout, CgroupName(::getpid(), 1), {});
    ::_exit(cgroup.ok() ? 0 : 1);  // no destructor runs
    return 1;
  });
  REQUIRE(child.ok());
  std::optional<int> status = child->Wait(10000);
  REQUIRE(status);
  REQUIRE(DescribeWaitStatus(*status) == "exited with status 0");
  std::string stale = CgroupName(child->pid(), 1);
  REQUIRE(Exists(tree.layout.cpu_parent + "/" + stale));

  Cgroup ours = MustCreate(tree.layout, CgroupName(::getpid(), 2), {});
  std::string busy = tree.layout.cpu_parent + "/" + CgroupName(child->pid(), 3);
  MakeDirs(busy);
  WriteText(busy + "/cgroup.procs", "777\n");
  MakeDirs(tree.layout.cpu_parent + "/edgebench-x-1");
  MakeDirs(tree.layout.cpu_parent + "/other");

  std::vector<std::string> removed = RemoveStaleCgroups(tree.layout);
  CHECK(removed == std::vector<std::string>{tree.layout.cpu_parent + "/" + stale,
                                            tree.layout.memory_parent + "/" + stale});
  CHECK(!Exists(tree.layout.memory_parent + "/" + stale));
  CHECK(Exists(ours.dirs()[0]));
  CHECK(Exists(ours.dirs()[1]));
  CHECK(Exists(busy));  // still holds a process: left, with a warning
  CHECK(Exists(tree.layout.cpu_parent + "/edgebench-x-1"));
  CHECK(Exists(tree.layout.cpu_parent + "/other"));
  CHECK(RemoveStaleCgroups(tree.layout).empty());
}

TEST_CASE("a real cgroup holds a busy loop to its CPU quota", "[cgroup]") {
  std::optional<CgroupLayout> layout = RealLayout();
  if (!layout) return;
  TempDir dir;
  std::string name = CgroupName(::getpid(), 901);
  Cgroup cgroup = MustCreate(*layout, name, {0.25, 0});
  std::vector<std::string> dirs = cgroup.dirs();
  // Joins between fork and exec: all of the loop's CPU time counts against the quota.
  Result<ChildProcess> spawned =
      SpawnProgram({"sh", "-c", "while :; do :; done"}, dir.File("out.log"), cgroup.procs_fds());
  INFO((spawned.ok() ? std::string() : spawned.error().ToString()));
  REQUIRE(spawned.ok());
  ChildProcess child = std::move(spawned.value());  // destroyed (killed) before `cgroup`
  auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  CHECK(ReadText("/proc/" + std::to_string(child.pid()) + "/cgroup").find("/" + name + "\n") !=
        std::string::npos);
  // At least a second and ten CFS periods, however slow the machine is.
  CHECK(WaitFor(
      [&] {
        Result<CgroupStats> s = cgroup.ReadStats();
        return elapsed_s() >= 1.0 && s.ok() && s->nr_periods >= 10;
      },
      30000));
  double cpu_s = CpuSeconds(child.pid());
  double wall_s = elapsed_s();
  Status busy = cgroup.Remove();
  CHECK(ErrorOf(busy) == "cannot remove cgroup " + dirs[0] + ": it still holds processes " +
                             std::to_string(child.pid()));
  child.Kill();
  Result<CgroupStats> stats = cgroup.ReadStats();
  INFO((stats.ok() ? std::string() : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(stats->nr_throttled > 0);
  CHECK(stats->throttled_ns > 0);
  INFO("cpu_s=" << cpu_s << " wall_s=" << wall_s);
  CHECK(cpu_s <= 0.35 * wall_s);  // the kernel enforces 0.25; no lower bound on a busy host
  CHECK(ErrorOf(cgroup.Remove()) == "(ok)");
  for (const std::string& d : dirs) CHECK(!Exists(d));
}

TEST_CASE("a real cgroup OOM-kills a process that goes over its memory limit", "[cgroup]") {
  std::optional<CgroupLayout> layout = RealLayout();
  if (!layout) return;
  Cgroup cgroup = MustCreate(*layout, CgroupName(::getpid(), 902), {0, 16 * kMiB});
  std::vector<std::string> dirs = cgroup.dirs();
  Result<PipeEnds> go = MakePipe();
  REQUIRE(go.ok());
  int go_read = go->read.get();
  // Waits until it is in the cgroup, then touches 64 MiB, a page at a time.
  Result<ChildProcess> forked = ForkFunction([go_read] {
    if (ReadByte(go_read, 30000) != 'x') return 2;
    constexpr size_t kBytes = 64 * kMiB;
    auto* bytes = static_cast<volatile char*>(std::malloc(kBytes));
    if (bytes == nullptr) return 3;
    for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 1;
    return 0;
  });
  REQUIRE(forked.ok());
  ChildProcess child = std::move(forked.value());  // destroyed (killed) before `cgroup`
  Status added = cgroup.AddProcess(child.pid());
  INFO(ErrorOf(added));
  REQUIRE(added.ok());
  REQUIRE(::write(go->write.get(), "x", 1) == 1);
  std::optional<int> status = child.Wait(30000);
  REQUIRE(status);
  CHECK(DescribeWaitStatus(*status) == "killed by signal 9 (Killed)");
  Result<CgroupStats> stats = cgroup.ReadStats();
  INFO((stats.ok() ? std::string() : stats.error().ToString()));
  REQUIRE(stats.ok());
  CHECK(stats->oom_kills == 1);
  if (stats->memory_peak_bytes) CHECK(*stats->memory_peak_bytes <= 16 * kMiB);
  CHECK(ErrorOf(cgroup.Remove()) == "(ok)");
  for (const std::string& d : dirs) CHECK(!Exists(d));
}

TEST_CASE("a real cgroup's rejected limit leaves nothing behind", "[cgroup]") {
  std::optional<CgroupLayout> layout = RealLayout();
  if (!layout) return;
  std::string name = CgroupName(::getpid(), 903);
  // A quota far above the kernel's maximum: the directories exist when the write fails.
  Result<Cgroup> cgroup = Cgroup::Create(*layout, name, {1e9, 16 * kMiB});
  REQUIRE(!cgroup.ok());
  std::string file = layout->version == CgroupVersion::kV1 ? "cpu.cfs_quota_us" : "cpu.max";
  CHECK(cgroup.error().ToString() ==
        "cannot write " + layout->cpu_parent + "/" + name + "/" + file + ": Invalid argument");
  CHECK(!Exists(layout->cpu_parent + "/" + name));
  CHECK(!Exists(layout->memory_parent + "/" + name));
}

TEST_CASE("RemoveStaleCgroups removes a real cgroup whose creator was killed", "[cgroup]") {
  std::optional<CgroupLayout> layout = RealLayout();
  if (!layout) return;
  Result<PipeEnds> made = MakePipe();
  REQUIRE(made.ok());
  int made_write = made->write.get();
  const CgroupLayout& real = *layout;
  // Makes a cgroup with limits, says so, and waits to be killed with it still there.
  Result<ChildProcess> forked = ForkFunction([&real, made_write] {
    Result<Cgroup> cgroup = Cgroup::Create(real, CgroupName(::getpid(), 1), {0.5, 16 * kMiB});
    char answer = cgroup.ok() ? 'y' : 'n';
    (void)!::write(made_write, &answer, 1);
    for (;;) ::pause();
    return 0;
  });
  REQUIRE(forked.ok());
  ChildProcess child = std::move(forked.value());
  std::string name = CgroupName(child.pid(), 1);
  std::vector<std::string> stale{real.cpu_parent + "/" + name};
  if (real.memory_parent != real.cpu_parent) stale.push_back(real.memory_parent + "/" + name);
  RmdirAtEnd leftovers(stale);
  REQUIRE(ReadByte(made->read.get(), 10000) == 'y');
  child.Kill();
  for (const std::string& d : stale) REQUIRE(Exists(d));
  Cgroup ours = MustCreate(real, CgroupName(::getpid(), 904), {});

  std::vector<std::string> removed = RemoveStaleCgroups(real);
  for (const std::string& d : stale) {
    CHECK(std::find(removed.begin(), removed.end(), d) != removed.end());
    CHECK(!Exists(d));
  }
  for (const std::string& d : ours.dirs()) CHECK(Exists(d));
}

}  // namespace edgebench
