// The output filesystem failing under a run: full (a 2 MB tmpfs filled by the capture, or by
// the test while the run measures) and unwritable (read-only from the start, the run directory
// turned read-only mid-run, the final rename refused). Each ends with exit 3 (2 when refused up
// front), a directory whose suffix matches the status in it, and nothing else left. The mounts
// need root (CAP_SYS_ADMIN); where mount(2) is refused the tests skip and say why. Every mount
// is undone, also when a check fails.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fault/fault_support.h"

namespace {

using namespace fault;  // NOLINT(google-build-using-namespace)

// A mount made by the test, detached (MNT_DETACH) by Unmount() or the destructor.
class ScopedMount {
 public:
  ScopedMount(const char* source, const fs::path& target, const char* type, unsigned long flags,
              const char* data = nullptr)
      : target_(target) {
    if (::mount(source, target.c_str(), type, flags, data) == 0) {
      mounted_ = true;
    } else {
      errno_ = errno;
    }
  }
  // `path` bound over itself; read-only when `read_only` (a bind is read-write at first, and
  // made read-only by a second, remounting call).
  static ScopedMount BindOver(const fs::path& path, bool read_only) {
    ScopedMount m(path.c_str(), path, nullptr, MS_BIND);
    if (m.mounted_ && read_only &&
        ::mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      m.errno_ = errno;
    }
    return m;
  }
  ScopedMount(ScopedMount&& other) noexcept
      : target_(std::move(other.target_)), mounted_(other.mounted_), errno_(other.errno_) {
    other.mounted_ = false;
  }
  ~ScopedMount() { Unmount(); }
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  ScopedMount& operator=(ScopedMount&&) = delete;

  bool ok() const { return mounted_ && errno_ == 0; }
  // Why mount(2) failed ("" when it did not).
  std::string why() const {
    return errno_ == 0 ? "" : "mount " + target_.string() + ": " + std::strerror(errno_);  // NOLINT
  }
  void Unmount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
    mounted_ = false;
  }

 private:
  fs::path target_;
  bool mounted_ = false;
  int errno_ = 0;
};

#define SKIP_UNLESS_MOUNTED(m)                                                        \
  do {                                                                                \
    if (!(m).ok()) {                                                                  \
      WARN("skipped: this test mounts a filesystem and may not here: " << (m).why()); \
      return;                                                                         \
    }                                                                                 \
  } while (false)

// A 2 MiB tmpfs at DIR/out, where EdgebenchRun writes its results.
ScopedMount SmallTmpfs(const TempDir& dir, unsigned long flags = 0) {
  fs::create_directories(dir.path / "out");
  return ScopedMount("tmpfs", dir.path / "out", "tmpfs", flags, "size=2m,mode=0755");
}

// The test's own file in DIR/out, there to take space.
fs::path OutFiller(const TempDir& dir) { return dir.path / "out" / "filler"; }

// Writes `bytes` (rounded up to 64 KiB) into a new file, or until the disk is full; the errno
// of the write that failed, 0 when none did.
int WriteFile(const fs::path& path, size_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  std::vector<char> block(size_t{64} * 1024, 'x');
  int failed = 0;
  for (size_t done = 0; done < bytes && failed == 0; done += block.size()) {
    if (::write(fd, block.data(), block.size()) < 0) failed = errno;
  }
  ::close(fd);
  return failed;
}

// The bytes an unprivileged writer may still put on the filesystem of `path`.
uint64_t FreeBytes(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// The run's results directory once it exists (still .partial: the run goes on).
fs::path WaitForRunDir(EdgebenchRun& run) {
  REQUIRE(run.WaitForLog("progress [measuring"));
  std::vector<fs::path> dirs = RunDirs(run.out());
  REQUIRE(dirs.size() == 1);
  REQUIRE(dirs[0].extension() == ".partial");
  return dirs[0];
}

// A run whose output failed with `errno_text`: exit 3 with that reason, and its directory
// either .failed with status failed (the counts adding up) or still .partial without a summary
// that claims anything else; nothing else left. Requires: the fault's mounts are undone.
void CheckOutputFailure(EdgebenchRun& run, const std::string& errno_text) {
  INFO("stderr: " << run.Stderr());
  CHECK(run.Wait() == 3);
  const std::string last = cli_support::LastLine(run.Stderr());
  CHECK(last.starts_with("edgebench: error: "));
  CHECK(last.find(errno_text) != std::string::npos);
  std::vector<fs::path> dirs = RunDirs(run.out());
  REQUIRE(dirs.size() == 1);
  INFO("run directory " << dirs[0]);
  if (dirs[0].extension() == ".partial") {
    // Files are whole or absent: a reader never finds half a file (or an empty one).
    for (const auto& e : fs::directory_iterator(dirs[0])) {
      if (e.path().extension() != ".json") continue;
      INFO(e.path());
      CHECK(nlohmann::json::accept(Slurp(e.path())));
    }
    if (nlohmann::json::accept(Slurp(dirs[0] / "summary.json"))) {
      nlohmann::json summary = nlohmann::json::parse(Slurp(dirs[0] / "summary.json"));
      CHECK(summary.at("status") == "failed");
    }
  } else {
    CheckRunDir(dirs[0], "failed");
  }
  CheckNothingLeft(run, /*allow_partial=*/true);
}

}  // namespace

TEST_CASE("--out on a read-only filesystem is refused before anything starts",
          "[fault][integration]") {
  TempDir dir;
  ScopedMount ro = SmallTmpfs(dir, MS_RDONLY);
  SKIP_UNLESS_MOUNTED(ro);
  fs::path file = dir.Write("ro.yaml", SmallScenario{"ro"}.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  CHECK(run.Wait() == 2);
  const std::string out = run.out().string();
  CHECK(run.Stderr() == "edgebench: error: --out '" + out + "': cannot write in " + out +
                            ": Read-only file system\n");
  CHECK(fs::is_empty(run.out()));
  CheckNothingLeft(run);
}

// Issue 13, item 8: the results written into a full disk left manifest.json empty in the
// .partial directory (every write checked, but not written to a temporary name first).
TEST_CASE("a disk that fills while the run measures: exit 3, no half-written file",
          "[fault][integration]") {
  TempDir dir;
  ScopedMount tmpfs = SmallTmpfs(dir);
  SKIP_UNLESS_MOUNTED(tmpfs);
  SmallScenario s{"full"};
  s.extra = "capture: {enabled: false}\n";
  fs::path file = dir.Write("full.yaml", s.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  WaitForRunDir(run);
  CHECK(WriteFile(OutFiller(dir), SIZE_MAX) == ENOSPC);  // fills the disk up
  (void)run.Wait();
  CheckOutputFailure(run, "No space left on device");
  tmpfs.Unmount();
}

// Issue 13, item 8: a capture cut short by a full disk went unnoticed (no suffix, status ok)
// when the disk had room again for the results.
TEST_CASE("a capture cut short by a full disk: exit 3, the directory says so",
          "[fault][integration]") {
  TempDir dir;
  ScopedMount tmpfs = SmallTmpfs(dir);
  SKIP_UNLESS_MOUNTED(tmpfs);
  // 1.5 MiB of the 2 taken by the test, given back once the capture has filled the rest.
  REQUIRE(WriteFile(OutFiller(dir), size_t{1536} * 1024) == 0);
  SmallScenario s{"pcap"};
  // 100 messages a second of 4 KiB, each captured twice (to and from the broker) with
  // whole packets: about 800 KB/s into capture.pcap.
  s.publish = "{rate: 20, qos: 0, payload: {size: 4096}}";
  s.extra = "capture: {snaplen: 0}\n";
  fs::path file = dir.Write("pcap.yaml", s.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  REQUIRE(run.WaitUntil([&] { return FreeBytes(run.out()) == 0; }));
  // The disk being full is not yet a failed write: give the capture (about 800 KB/s) a
  // second of writes into the full disk first. A wait, not a timing assertion.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  fs::remove(OutFiller(dir));
  CheckOutputFailure(run, "No space left on device");
  tmpfs.Unmount();
}

// samples.csv is written as the samples come (a run of hours keeps none in memory): one cut
// short by a full disk fails the run, even when the disk has room again for the rest.
TEST_CASE("samples cut short by a full disk: exit 3, the directory says so",
          "[fault][integration]") {
  TempDir dir;
  ScopedMount tmpfs = SmallTmpfs(dir);
  SKIP_UNLESS_MOUNTED(tmpfs);
  SmallScenario s{"samples"};
  s.duration_s = 8;
  s.extra = "capture: {enabled: false}\n";
  fs::path file = dir.Write("samples.yaml", s.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  WaitForRunDir(run);
  CHECK(WriteFile(OutFiller(dir), SIZE_MAX) == ENOSPC);
  // About 2 KB of rows a second: stdio's 4 KiB buffer fails to go out within a few seconds.
  const std::string lost = "the samples from here on are lost, and the run will be failed";
  CHECK(run.WaitUntil([&] { return run.Stderr().find(lost) != std::string::npos; }));
  fs::remove(OutFiller(dir));
  CheckOutputFailure(run, "No space left on device");
  CHECK(cli_support::LastLine(run.Stderr()).find("the samples are incomplete: cannot write ") !=
        std::string::npos);
  std::vector<fs::path> dirs = RunDirs(run.out());
  REQUIRE(dirs.size() == 1);
  CHECK(dirs[0].extension() == ".failed");
  CHECK(fs::exists(dirs[0] / "samples.csv.partial"));  // what it holds, under its true name
  CHECK_FALSE(fs::exists(dirs[0] / "samples.csv"));
  tmpfs.Unmount();
}

TEST_CASE("a run directory turned read-only while the run measures: exit 3, .partial",
          "[fault][integration]") {
  TempDir dir;
  fs::path file = dir.Write("rodir.yaml", SmallScenario{"rodir"}.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  fs::path partial = WaitForRunDir(run);
  ScopedMount ro = ScopedMount::BindOver(partial, /*read_only=*/true);
  SKIP_UNLESS_MOUNTED(ro);
  (void)run.Wait();
  ro.Unmount();
  CheckOutputFailure(run, "Read-only file system");
}

// Issue 13, item 8: after a failed final rename the .partial directory held a summary.json
// that said ok.
TEST_CASE("a final rename that fails: exit 3, no summary that says ok", "[fault][integration]") {
  TempDir dir;
  fs::path file = dir.Write("rename.yaml", SmallScenario{"rename"}.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  fs::path partial = WaitForRunDir(run);
  // A mount point cannot be renamed (EBUSY); everything inside stays writable.
  ScopedMount busy = ScopedMount::BindOver(partial, /*read_only=*/false);
  SKIP_UNLESS_MOUNTED(busy);
  (void)run.Wait();
  busy.Unmount();
  CheckOutputFailure(run, "Device or resource busy");
}
