// A full output file system, for real: --out on a small tmpfs that the run fills with its
// capture. The run must fail (exit 3) and say so, and no directory may look complete: the
// status in summary.json always matches the directory's suffix. Needs root (mount);
// otherwise it skips and says why.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using cli_support::RunEdgebench;
using cli_support::TempDir;

// A tmpfs of `size` at `dir`, unmounted when it goes.
class SmallFilesystem {
 public:
  SmallFilesystem(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    const std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      why_not_ = std::strerror(errno);
    }
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace

TEST_CASE("a disk that fills during the run fails it; no directory looks complete",
          "[run][integration]") {
  TempDir tmp;
  SmallFilesystem small(tmp.path / "small", "512k");
  if (!small.mounted()) {
    WARN("skipped: cannot mount a tmpfs here (" << small.why_not() << "; needs root)");
    return;
  }
  // Whole packets of 20 devices x 50 msg/s of 1 KiB: megabytes of capture.pcap in 3 s.
  fs::path s = tmp.Write("fill.yaml",
                         "name: fill\ndevices: {count: 20}\n"
                         "publish: {rate: 50, qos: 0, payload: {size: 1024}}\n"
                         "warmup_s: 0\nduration_s: 3\ncapture: {snaplen: 0, required: true}\n");
  fs::path out = tmp.path / "small" / "results";
  cli_support::CommandResult r = RunEdgebench({"run", s.string(), "--out", out.string()}, tmp.path);
  INFO(r.err);
  if (r.err.find("no permission to capture") != std::string::npos) {
    WARN("skipped: no capture rights here");
    return;
  }
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(out / "fill")) {
    ++dirs;
    const fs::path dir = e.path();
    INFO(dir.string());
    CHECK(dir.extension() != "");  // never a name that says complete
    CHECK_FALSE(fs::exists(dir / "capture.pcap.partial.tmp"));
    const fs::path summary = dir / "summary.json";
    if (dir.extension() == ".partial") {
      if (fs::exists(summary)) {
        CHECK(nlohmann::json::parse(cli_support::Slurp(summary)).at("status") == "failed");
      }
    } else {
      REQUIRE(dir.extension() == ".failed");
      REQUIRE(fs::exists(summary));
      nlohmann::json j = nlohmann::json::parse(cli_support::Slurp(summary));
      CHECK(j.at("status") == "failed");
      CHECK(j.at("error").get<std::string>().find("No space left on device") != std::string::npos);
      // The capture is kept under the name that says it is incomplete.
      CHECK_FALSE(fs::exists(dir / "capture.pcap"));
    }
  }
  CHECK(dirs == 1);
}
