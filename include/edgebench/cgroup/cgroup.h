// Cgroup: a CPU quota and a memory limit for a process edgebench starts (the embedded broker).
//
// Contract: a Cgroup owns the cgroup directories it made, one per hierarchy: on cgroup v1 one
// under our own cgroup of the cpu controller and one under our own cgroup of the memory
// controller (a single one when both are mounted together), so edgebench stays inside
// whatever v1 budget it was itself given ("our own" is the mount point plus our path from
// /proc/self/cgroup). On cgroup v2 one directly under the top of the hierarchy: v2's "no
// internal processes" rule lets a cgroup other than the root hand cpu and memory to its
// children only while it holds no process, and our own cgroup holds edgebench (on a systemd
// host, a session scope with the shell in it too); the root is exempt.
// Limits: cpus as a CFS quota per 100 ms period (0.25 cpus = 25 ms of CPU time per 100 ms,
// on any number of cores), memory_bytes as a hard limit with swap shut off, so that the
// process is OOM-killed instead of swapping around the limit. Processes join by pid
// (AddProcess) or, from their first instruction, by writing their own pid to procs_fds()
// between fork and exec (SpawnProgram's join_fds). The destructor removes the directories;
// it cannot remove a cgroup that still holds a process, so stop those first.
//
// Needs root. Every error names the file and the errno text: "cannot write
// /sys/fs/cgroup/cpu/edgebench-123-1/cpu.cfs_quota_us: Permission denied".
//
// Threads: the free functions may be called from any thread; a Cgroup from one thread at a
// time. Names carry the creator's pid (CgroupName), so RemoveStaleCgroups() can find the
// cgroups of an edgebench that was killed; it assumes edgebench's runs share a pid namespace.
#ifndef EDGEBENCH_CGROUP_CGROUP_H_
#define EDGEBENCH_CGROUP_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"

namespace edgebench {

// 0 means no limit of that kind.
struct CgroupLimits {
  double cpus = 0;            // 0, or at least 0.01 (the kernel's 1 ms minimum quota)
  uint64_t memory_bytes = 0;  // RAM; swap is not allowed on top of it
};

enum class CgroupVersion { kV1, kV2 };

// Where our cgroups go. On v2 cpu_parent == memory_parent.
struct CgroupLayout {
  CgroupVersion version = CgroupVersion::kV2;
  std::string cpu_parent;     // directory under which the cpu cgroup is made
  std::string memory_parent;  // directory under which the memory cgroup is made
  // For tests: a tree of ordinary files and directories stands in for cgroupfs. Then
  // Create() makes each control file it writes (the kernel would have made it with the
  // directory), takes an optional file (memory.memsw.limit_in_bytes, memory.swap.max) to
  // exist when the parent has it, and Remove() deletes the files before rmdir. A cgroup
  // "holds processes" when its cgroup.procs has any text.
  bool regular_files = false;
};

// Pure but for reading `<root_prefix><our v2 cgroup>/cgroup.controllers`: the layout from
// the text of /proc/self/mountinfo and of /proc/self/cgroup. Prefers cgroup v2 when our
// cgroup there offers both cpu and memory (cgroup.controllers), else the v1 hierarchies of
// the cpu and memory controllers (co-mounted ones like "cpu,cpuacct" count). root_prefix
// goes before every path (tests point it at a temporary tree); regular_files stays false.
// Error (kUnavailable), saying what each version lacks: "no cgroup hierarchy with the cpu
// and memory controllers: cgroup v2 at /sys/fs/cgroup/unified has 'hugetlb'; cgroup v1 has
// no memory controller mounted".
Result<CgroupLayout> FindCgroupLayout(std::string_view mountinfo, std::string_view self_cgroup,
                                      const std::string& root_prefix = "");
// FindCgroupLayout() of this process's /proc/self/mountinfo and /proc/self/cgroup.
Result<CgroupLayout> DetectCgroupLayout();

// What the kernel counted for a cgroup since it was made.
struct CgroupStats {
  uint64_t nr_periods = 0;    // CFS periods in which the cgroup ran
  uint64_t nr_throttled = 0;  // periods in which it used up its quota and was stopped
  uint64_t throttled_ns = 0;  // time stopped (v2: throttled_usec * 1000)
  // The most memory it used: v1 memory.max_usage_in_bytes, v2 memory.peak (Linux >= 5.19;
  // none when the file is absent).
  std::optional<uint64_t> memory_peak_bytes;
  uint64_t oom_kills = 0;  // processes the OOM killer killed in it (oom_kill)
};

// One cgroup with limits, removed on destruction. Move-only.
class Cgroup {
 public:
  // Makes the cgroup `name` (one path component) under the layout's parents and writes the
  // limits. v1: cpu.cfs_period_us 100000 and cpu.cfs_quota_us round(cpus * 100000);
  // memory.limit_in_bytes and, when the file exists, memory.memsw.limit_in_bytes (the same
  // value). v2: first "+cpu +memory" (what is missing) into the parent's
  // cgroup.subtree_control, then cpu.max "<quota> 100000", memory.max, and memory.swap.max 0
  // when that file exists. Opens the cgroup.procs files for procs_fds().
  // On error nothing it made is left (a controller it enabled in the parent stays enabled).
  // Errors: bad limits (kUsage) "cgroup cpus must be 0 (no limit) or at least 0.01, not
  // 0.001"; the rest kUnavailable, naming the file: "cannot create cgroup
  // /sys/fs/cgroup/cpu/edgebench-1-1: File exists".
  static Result<Cgroup> Create(const CgroupLayout& layout, const std::string& name,
                               const CgroupLimits& limits);

  ~Cgroup();  // Remove(), logging a warning when that fails
  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // The cgroup.procs files, open O_WRONLY | O_CLOEXEC, one per directory: a child writes
  // its own pid to each between fork and exec to join (SpawnProgram's join_fds). Owned by
  // the Cgroup; valid until Remove() or destruction. Empty after Remove().
  std::vector<int> procs_fds() const;

  // Moves process `pid` (all its threads) into the cgroup, in every directory.
  // Error: "cannot add pid 123 to /sys/fs/cgroup/cpu/edgebench-1-1/cgroup.procs: No such
  // process". Requires: not removed.
  Status AddProcess(pid_t pid);

  // The counters of cpu.stat and the memory files. Requires: not removed.
  // Error: "cannot read D/cpu.stat: ...", "D/cpu.stat has no nr_throttled line".
  Result<CgroupStats> ReadStats() const;

  // Closes procs_fds() and removes the directories. A cgroup that still holds processes is
  // not removed: "cannot remove cgroup D: it still holds processes 12, 34". Idempotent: a
  // second call does what is left; a directory someone else removed counts as removed.
  Status Remove();

  // The directories it made and has not removed yet: v1 {cpu, memory} (one when the two
  // controllers share a hierarchy), v2 one.
  const std::vector<std::string>& dirs() const { return dirs_; }
  const CgroupLimits& limits() const { return limits_; }
  CgroupVersion version() const { return layout_.version; }

 private:
  Cgroup(CgroupLayout layout, const std::string& name, CgroupLimits limits);

  Status MakeDirs(const std::string& name);
  Status WriteV1Limits() const;
  Status WriteV2Limits() const;
  Status WriteControl(const std::string& dir, const std::string& file,
                      const std::string& value) const;
  bool HasControl(const std::string& dir, const std::string& parent, const std::string& file) const;
  Status OpenProcs();

  CgroupLayout layout_;
  CgroupLimits limits_;
  std::string cpu_dir_;            // where cpu.* is
  std::string memory_dir_;         // where memory.* is (== cpu_dir_ on v2)
  std::vector<std::string> dirs_;  // made and not removed yet
  std::vector<Fd> procs_;          // cgroup.procs of each of dirs_
};

// "edgebench-<creator>-<seq>", e.g. CgroupName(4242, 1) == "edgebench-4242-1".
std::string CgroupName(pid_t creator, int seq);

// Removes the cgroups "edgebench-<pid>-<anything>" under the layout's parents whose <pid>
// no longer runs and that hold no process: leftovers of an edgebench killed with SIGKILL.
// One that still holds processes is left, with a warning. Returns the directories it
// removed; failures are logged and skipped. Never touches another cgroup.
std::vector<std::string> RemoveStaleCgroups(const CgroupLayout& layout);

// "" when this host can give edgebench's processes a cgroup; otherwise why not, in one line:
// "it needs root; edgebench runs as uid 1000 (cannot create cgroup ...: Permission denied)",
// or FindCgroupLayout()'s error. Probes for real: makes and removes an empty cgroup
// "edgebench-<pid>-probe" (on v2 that enables cpu and memory in our cgroup's
// cgroup.subtree_control, as Create() would).
std::string CgroupUnavailableReason();

}  // namespace edgebench

#endif  // EDGEBENCH_CGROUP_CGROUP_H_
