// Tests for src/run/sample_stream.cc: samples.csv written row by row is the file SamplesCsv
// renders from the same samples, and a failed write is reported, never a short file as whole.
#include "edgebench/run/sample_stream.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/results/reporters.h"
#include "edgebench/run/result_builder.h"

#include "test_support.h"

using namespace edgebench;
using edgebench::testing::ReadText;
using edgebench::testing::TempDir;

namespace {

std::vector<ProcSample> SomeSamples() {
  std::vector<ProcSample> out;
  for (int i = 0; i < 50; ++i) {
    for (const char* role : {"worker", "broker", "orchestrator"}) {
      ProcSample s;
      s.role = role;
      s.pid = 100 + role[0];
      s.t_ms = i * 100;
      s.mono_ns = static_cast<uint64_t>(i) * 100'000'000;
      s.cpu_s = 0.0123456 * i;
      s.cpu_pct = 12.345;
      s.rss_kb = 4000 + i;
      s.rss_peak_kb = 4100 + i;
      s.threads = 3;
      s.voluntary_ctxt_switches = 7 * i;
      s.nonvoluntary_ctxt_switches = i;
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("SampleStream writes the samples.csv that SamplesCsv renders", "[run_output]") {
  TempDir dir;
  const std::string path = dir.File("samples.csv");
  const int64_t t0_unix_ms = 1'764'700'000'000;
  Result<std::unique_ptr<SampleStream>> stream = SampleStream::Open(path, t0_unix_ms, 200);
  REQUIRE(stream.ok());
  CHECK(std::filesystem::exists(path + ".partial"));
  CHECK_FALSE(std::filesystem::exists(path));

  RunResult expected;
  expected.info.t0_unix_ms = t0_unix_ms;
  for (const ProcSample& s : SomeSamples()) {
    (*stream)->Write(s);
    expected.samples.push_back(ProcessSampleOf(s, t0_unix_ms, 200));
  }
  CHECK((*stream)->rows() == 150);
  REQUIRE((*stream)->Finish().ok());
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  const std::string text = ReadText(path);
  CHECK(text == SamplesCsv(expected));
  Result<std::vector<ProcessSample>> back = ParseSamplesCsv(text);
  REQUIRE(back.ok());
  CHECK(*back == expected.samples);
  CHECK(back->front().t_run_ms == -200);
}

TEST_CASE("SampleStream: a directory that is not there", "[run_output]") {
  TempDir dir;
  const std::string path = dir.File("gone/samples.csv");
  Result<std::unique_ptr<SampleStream>> stream = SampleStream::Open(path, 0, 0);
  REQUIRE_FALSE(stream.ok());
  CHECK(stream.error().message == "cannot write " + path + ".partial: No such file or directory");
}

TEST_CASE("SampleStream: a failed write is reported and samples.csv never appears",
          "[run_output]") {
  TempDir dir;
  const std::string path = dir.File("samples.csv");
  // /dev/full fails every write with ENOSPC: a full disk, without filling one.
  REQUIRE(::symlink("/dev/full", (path + ".partial").c_str()) == 0);
  Result<std::unique_ptr<SampleStream>> stream = SampleStream::Open(path, 0, 0);
  REQUIRE(stream.ok());
  for (const ProcSample& s : SomeSamples()) (*stream)->Write(s);
  CHECK((*stream)->rows() < 150);  // stdio's buffer filled, its write failed, the rest skipped
  Status st = (*stream)->Finish();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message == "cannot write " + path + ".partial: No space left on device");
  CHECK_FALSE(std::filesystem::exists(path));
}
