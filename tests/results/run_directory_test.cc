// Tests for src/results_writer.cc: the run directory's life from .partial to its final name.
#include "edgebench/results/run_directory.h"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "test_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

}  // namespace

TEST_CASE("RunDirectory is created as .partial and renamed when finished", "[results]") {
  TempDir tmp;
  const std::string out = tmp.File("out");  // missing: Create makes it
  Result<RunDirectory> dir = RunDirectory::Create(out, "edge");
  INFO((dir.ok() ? std::string() : dir.error().message));
  REQUIRE(dir.ok());
  const std::string name = dir->run_name();
  CHECK_THAT(name, Catch::Matchers::Matches("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}"));
  CHECK(dir->path() == out + "/edge/" + name + ".partial");
  CHECK(fs::is_directory(dir->path()));
  CHECK(dir->File("summary.json") == dir->path() + "/summary.json");

  REQUIRE(dir->Write("summary.json", "{\"status\":\"ok\"}\n").ok());
  CHECK(ReadText(dir->File("summary.json")) == "{\"status\":\"ok\"}\n");
  REQUIRE(dir->Write("summary.json", "{}").ok());  // whole file: replaced, not appended
  CHECK(ReadText(dir->File("summary.json")) == "{}");

  SECTION("complete") {
    Result<std::string> final_path = dir->Finish("");
    REQUIRE(final_path.ok());
    CHECK(*final_path == out + "/edge/" + name);
    CHECK(dir->path() == *final_path);
    CHECK(!fs::exists(out + "/edge/" + name + ".partial"));
    CHECK(ReadText(*final_path + "/summary.json") == "{}");
  }
  SECTION("failed") {
    Result<std::string> final_path = dir->Finish("failed");
    REQUIRE(final_path.ok());
    CHECK(*final_path == out + "/edge/" + name + ".failed");
    CHECK(fs::is_directory(*final_path));
    CHECK(!fs::exists(out + "/edge/" + name + ".partial"));
    CHECK(!fs::exists(out + "/edge/" + name));
  }
  SECTION("never overwrites") {
    fs::create_directory(out + "/edge/" + name + ".interrupted");
    Result<std::string> final_path = dir->Finish("interrupted");
    REQUIRE(!final_path.ok());
    CHECK(final_path.error().ToString() == "cannot rename " + out + "/edge/" + name +
                                               ".partial: " + out + "/edge/" + name +
                                               ".interrupted already exists");
    CHECK(fs::is_directory(dir->path()));  // still there, still .partial
  }
}

TEST_CASE("two RunDirectories in the same second get different names", "[results]") {
  TempDir tmp;
  Result<RunDirectory> a = RunDirectory::Create(tmp.path(), "edge");
  Result<RunDirectory> b = RunDirectory::Create(tmp.path(), "edge");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->path() != b->path());
  CHECK(fs::is_directory(a->path()));
  CHECK(fs::is_directory(b->path()));
}

TEST_CASE("RunDirectory under a regular file", "[results]") {
  TempDir tmp;
  const std::string file = tmp.File("not-a-dir");
  WriteText(file, "x");
  Result<RunDirectory> dir = RunDirectory::Create(file, "edge");
  REQUIRE(!dir.ok());
  CHECK(dir.error().ToString() ==
        "cannot create results directory " + file + "/edge: Not a directory");
}

TEST_CASE("RunDirectory Write into a removed directory", "[results]") {
  TempDir tmp;
  Result<RunDirectory> dir = RunDirectory::Create(tmp.path(), "edge");
  REQUIRE(dir.ok());
  fs::remove_all(dir->path());
  Status st = dir->Write("summary.json", "{}");
  REQUIRE(!st.ok());
  CHECK(st.error().ToString() ==
        "cannot write " + dir->path() + "/summary.json: No such file or directory");
}

TEST_CASE("UtcStamp and UtcIso8601 formats", "[results]") {
  using Catch::Matchers::Matches;
  CHECK_THAT(UtcStamp(), Matches("20[0-9]{2}[01][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-6][0-9]Z"));
  CHECK_THAT(UtcIso8601(), Matches("20[0-9]{2}-[01][0-9]-[0-3][0-9]"
                                   "T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z"));
}

}  // namespace edgebench
