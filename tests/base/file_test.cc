// Tests for the bounded file reading of src/base/fd.cc: regular files within a limit are read,
// a FIFO, a device, a directory and a file above the limit are refused without blocking.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"

#include "test_support.h"

namespace edgebench {
namespace {

using testing::TempDir;
using testing::WriteText;

constexpr FileLimit kTiny{16, "a tiny file"};

TEST_CASE("ReadFile reads a regular file within its limit, and /proc files", "[base]") {
  TempDir dir;
  WriteText(dir.File("a"), "0123456789abcdef");  // exactly the limit
  Result<std::string> text = ReadFile(dir.File("a"), kTiny);
  REQUIRE(text.ok());
  CHECK(*text == "0123456789abcdef");
  // /proc files say they are empty; their size shows only when read.
  Result<std::string> stat = ReadFile("/proc/self/stat");
  REQUIRE(stat.ok());
  CHECK(stat->find(std::to_string(::getpid()) + " (") == 0);
}

TEST_CASE("ReadFile refuses a file above its limit, by its size or by what it holds", "[base]") {
  TempDir dir;
  WriteText(dir.File("big"), "0123456789abcdefX");
  Result<std::string> text = ReadFile(dir.File("big"), kTiny);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().ToString() ==
        dir.File("big") + ": is larger than the 16 bytes limit for a tiny file");
  // A /proc file claims size 0 but holds more than 16 bytes: the read stops at the limit.
  Result<std::string> proc = ReadFile("/proc/self/status", kTiny);
  REQUIRE_FALSE(proc.ok());
  CHECK(proc.error().ToString() ==
        "/proc/self/status: is larger than the 16 bytes limit for a tiny file");
}

TEST_CASE("ReadFile refuses a FIFO, a device and a directory without blocking", "[base]") {
  TempDir dir;
  std::string fifo = dir.File("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Nobody writes to the FIFO: a plain open() for reading would block here for ever.
  Result<std::string> f = ReadFile(fifo, kPasswordFileLimit);
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().ToString() == fifo + ": is not a regular file (a FIFO)");
  Result<std::string> zero = ReadFile("/dev/zero", kPasswordFileLimit);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().ToString() == "/dev/zero: is not a regular file (a character device)");
  Result<std::string> d = ReadFile(dir.path(), kPasswordFileLimit);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().ToString() == dir.path() + ": is not a regular file (a directory)");
  Result<std::string> missing = ReadFile(dir.File("none"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToString() ==
        "cannot read " + dir.File("none") + ": No such file or directory");
}

TEST_CASE("ReadInputFile and CheckFile name the file the way input errors do", "[base]") {
  TempDir dir;
  WriteText(dir.File("big.yaml"), std::string(2 << 20, 'x'));
  Result<std::string> big = ReadInputFile(dir.File("big.yaml"), kScenarioFileLimit);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().ToString() ==
        dir.File("big.yaml") + ": is larger than the 1 MiB limit for a scenario file");
  Result<std::string> missing = ReadInputFile(dir.File("none.yaml"), kScenarioFileLimit);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToString() ==
        dir.File("none.yaml") + ": cannot read file: No such file or directory");
  std::optional<FileProblem> p = CheckFile("/dev/null", kTlsFileLimit);
  REQUIRE(p.has_value());
  CHECK(p->error_number == 0);
  CHECK(p->text == "is not a regular file (a character device)");
  CHECK_FALSE(CheckFile(dir.File("big.yaml"), FileLimit{4 << 20, "x"}).has_value());
  std::optional<FileProblem> none = CheckFile(dir.File("none"), kTlsFileLimit);
  REQUIRE(none.has_value());
  CHECK(none->error_number == ENOENT);
  CHECK(none->text == "No such file or directory");
}

TEST_CASE("FormatByteLimit shows whole MiB and KiB", "[base]") {
  CHECK(FormatByteLimit(1 << 20) == "1 MiB");
  CHECK(FormatByteLimit(64 << 10) == "64 KiB");
  CHECK(FormatByteLimit(1536) == "1536 bytes");
  CHECK(FormatByteLimit(16) == "16 bytes");
}

}  // namespace
}  // namespace edgebench
