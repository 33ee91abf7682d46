// The fault harness itself: its leftover checks find what an edgebench killed with SIGKILL
// (no clean-up at all) leaves behind, so a pass of the other fault tests means something.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "fault/fault_support.h"

using namespace fault;  // NOLINT(google-build-using-namespace)

TEST_CASE("the fault checks see what an edgebench killed with SIGKILL leaves",
          "[fault][integration]") {
  TempDir dir;
  SmallScenario s{"killed"};
  s.duration_s = 60;
  s.extra = "broker: {resources: {cpus: 1, required: false}}\n";
  fs::path file = dir.Write("killed.yaml", s.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  REQUIRE(run.WaitForLog("progress [measuring"));
  run.Signal(SIGKILL);
  CHECK(run.Wait() == 128 + SIGKILL);
  // Its broker and worker die with it (PR_SET_PDEATHSIG), but nobody reaps them: they are
  // reparented to this process, the subreaper, and reported.
  std::vector<std::string> left = run.ReapLeftovers();
  CHECK(left.size() >= 2);
  // The results directory is still .partial.
  std::vector<std::string> temporaries = TemporariesUnder(run.out());
  // The directory, and in it the capture as far as it got (capture.pcap.partial).
  REQUIRE(!temporaries.empty());
  CHECK(temporaries[0].ends_with(".partial"));
  for (const std::string& t : temporaries) CHECK(t.starts_with(temporaries[0]));
  // Its cgroups stay (the next run would remove them); this test does, now that they are empty.
  std::vector<std::string> cgroups;
  CgroupsOf(run.pid(), "/sys/fs/cgroup", 6, &cgroups);
  if (run.Logs().find("cgroup created dirs=") == std::string::npos) {
    WARN("no cgroup made here (broker.resources not applied), so none to find");
  } else {
    CHECK_FALSE(cgroups.empty());
  }
  for (const std::string& cg : cgroups) CHECK(::rmdir(cg.c_str()) == 0);
}
