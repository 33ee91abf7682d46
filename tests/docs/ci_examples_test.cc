// The CI examples of docs/ci.md: both files parse as YAML and have the shape the page
// describes (a Debian 12 container, setup, the matrix run, the report, artifacts kept when
// the gate fails, the job failing on the run's exit code). Each check is also run on a
// broken copy, to show that it fails when the file is wrong.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using Problems = std::vector<std::string>;

const char kGithubFile[] = "docs/examples/github-actions.yml";
const char kGitlabFile[] = "docs/examples/gitlab-ci.yml";
const char kRunCommand[] = "edgebench run scenarios/edge-vs-cloud.yaml";

std::string SourcePath(const std::string& relative) {
  return std::string(EDGEBENCH_SOURCE_DIR) + "/" + relative;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// map[key] without inserting it, or an undefined node (also when `map` is not a map).
YAML::Node Get(const YAML::Node& map, const std::string& key) {
  if (!map.IsDefined() || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node value = map[key];
  return value.IsDefined() ? value : YAML::Node(YAML::NodeType::Undefined);
}

std::string Text(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar() ? node.Scalar() : std::string();
}

// "debian:12", or a map with image: or name: debian:12 (GitHub's container, GitLab's image).
bool IsDebian12(const YAML::Node& image) {
  if (Text(image) == "debian:12") return true;
  return Text(Get(image, "image")) == "debian:12" || Text(Get(image, "name")) == "debian:12";
}

// The index of the first element of `items` for which `match` holds, or -1.
int FindIndex(const YAML::Node& items, const std::function<bool(const YAML::Node&)>& match) {
  if (!items.IsDefined() || !items.IsSequence()) return -1;
  for (size_t i = 0; i < items.size(); ++i) {
    if (match(items[i])) return static_cast<int>(i);
  }
  return -1;
}

bool HasAlways(const YAML::Node& step) { return Contains(Text(Get(step, "if")), "always()"); }

std::string RunOf(const YAML::Node& step) { return Text(Get(step, "run")); }

// The workflow's triggers and its Debian 12 job; the steps are checked separately.
YAML::Node GithubJob(const YAML::Node& root, Problems& problems) {
  YAML::Node on = Get(root, "on");
  if (!on.IsDefined()) problems.push_back("the workflow has no 'on' (no trigger)");
  YAML::Node jobs = Get(root, "jobs");
  if (jobs.IsDefined() && jobs.IsMap()) {
    for (const auto& entry : jobs) {
      if (IsDebian12(Get(entry.second, "container"))) return entry.second;
    }
  }
  problems.push_back("no job runs in container debian:12");
  return YAML::Node(YAML::NodeType::Undefined);
}

// The upload step: actions/upload-artifact, also after a failure, with the report and results.
void CheckGithubUpload(const YAML::Node& step, Problems& problems) {
  if (!HasAlways(step)) problems.push_back("the upload step has no 'if: always()'");
  std::string paths = Text(Get(Get(step, "with"), "path"));
  if (!Contains(paths, "report.html") || !Contains(paths, "results/edge-vs-cloud")) {
    problems.push_back("the upload step does not upload report.html and results/edge-vs-cloud");
  }
}

// The last step fails the job with the run step's exit code (read from its output).
void CheckGithubGate(const YAML::Node& steps, int run_index, Problems& problems) {
  const YAML::Node last = steps[steps.size() - 1];
  std::string id = Text(Get(steps[static_cast<size_t>(run_index)], "id"));
  std::string env;
  for (const auto& e : Get(last, "env")) env += Text(e.second) + "\n";
  bool reads_code = !id.empty() && Contains(env + Text(Get(last, "if")) + RunOf(last),
                                            "steps." + id + ".outputs.exit_code");
  if (!HasAlways(last) || !reads_code || !Contains(RunOf(last), "exit")) {
    problems.push_back("the last step does not fail the job on the run's exit code");
  }
}

void CheckGithubSteps(const YAML::Node& steps, Problems& problems) {
  auto runs = [](const std::string& part) {
    return [part](const YAML::Node& s) { return Contains(RunOf(s), part); };
  };
  int setup = FindIndex(steps, runs("scripts/setup.sh"));
  int run = FindIndex(steps, runs(kRunCommand));
  int report = FindIndex(steps, [](const YAML::Node& s) {
    return Contains(RunOf(s), "edgebench report") && Contains(RunOf(s), "report.html");
  });
  int upload = FindIndex(steps, [](const YAML::Node& s) {
    return Text(Get(s, "uses")).starts_with("actions/upload-artifact@");
  });
  if (setup < 0) problems.push_back("no step runs scripts/setup.sh");
  if (run < 0) problems.push_back(std::string("no step runs '") + kRunCommand + "'");
  if (report < 0) problems.push_back("no step runs 'edgebench report ... report.html'");
  if (upload < 0) problems.push_back("no step uses actions/upload-artifact");
  if (setup < 0 || run < 0 || report < 0 || upload < 0) return;
  if (!(setup < run && run < report && report < upload)) {
    problems.push_back("the steps are not in the order setup, run, report, upload");
  }
  std::string run_text = RunOf(steps[static_cast<size_t>(run)]);
  if (!Contains(run_text, "set +e") || !Contains(run_text, "GITHUB_OUTPUT")) {
    problems.push_back("the run step does not keep its exit code (set +e, $GITHUB_OUTPUT)");
  }
  int summary = FindIndex(steps, [](const YAML::Node& s) {
    return Contains(RunOf(s), "edgebench compare") && Contains(RunOf(s), "GITHUB_STEP_SUMMARY");
  });
  if (summary < 0 || !HasAlways(steps[static_cast<size_t>(summary)])) {
    problems.push_back("no 'if: always()' step writes edgebench compare to $GITHUB_STEP_SUMMARY");
  }
  if (!HasAlways(steps[static_cast<size_t>(report)])) {
    problems.push_back("the report step has no 'if: always()'");
  }
  CheckGithubUpload(steps[static_cast<size_t>(upload)], problems);
  CheckGithubGate(steps, run, problems);
}

Problems CheckGithubWorkflow(const YAML::Node& root) {
  Problems problems;
  YAML::Node job = GithubJob(root, problems);
  if (!job.IsDefined()) return problems;
  std::string options = Text(Get(Get(job, "container"), "options"));
  if (!Contains(options, "--cap-add NET_ADMIN") || !Contains(options, "--cap-add NET_RAW")) {
    problems.push_back("the container does not add NET_ADMIN and NET_RAW");
  }
  YAML::Node steps = Get(job, "steps");
  if (!steps.IsDefined() || !steps.IsSequence() || steps.size() == 0) {
    problems.push_back("the job has no steps");
    return problems;
  }
  CheckGithubSteps(steps, problems);
  return problems;
}

void CheckGitlabArtifacts(const YAML::Node& artifacts, Problems& problems) {
  if (Text(Get(artifacts, "when")) != "always") {
    problems.push_back("artifacts: when is not 'always'");
  }
  YAML::Node paths = Get(artifacts, "paths");
  if (FindIndex(paths, [](const YAML::Node& p) { return Text(p) == "report.html"; }) < 0) {
    problems.push_back("artifacts: paths has no report.html");
  }
  if (FindIndex(paths, [](const YAML::Node& p) {
        return Text(p).starts_with("results/edge-vs-cloud");
      }) < 0) {
    problems.push_back("artifacts: paths has no results/edge-vs-cloud");
  }
  if (Text(Get(artifacts, "expose_as")).empty()) {
    problems.push_back("artifacts: no expose_as (the report is not linked from merge requests)");
  }
}

void CheckGitlabScript(const YAML::Node& script, Problems& problems) {
  auto line = [](const std::string& part) {
    return [part](const YAML::Node& l) { return Contains(Text(l), part); };
  };
  int setup = FindIndex(script, line("scripts/setup.sh"));
  int run = FindIndex(script, line(kRunCommand));
  int report = FindIndex(script, [](const YAML::Node& l) {
    return Contains(Text(l), "edgebench report") && Contains(Text(l), "report.html");
  });
  if (setup < 0) problems.push_back("the script does not run scripts/setup.sh");
  if (run < 0) problems.push_back(std::string("the script does not run '") + kRunCommand + "'");
  if (report < 0) problems.push_back("the script does not run 'edgebench report ... report.html'");
  if (setup < 0 || run < 0 || report < 0) return;
  if (!(setup < run && run < report)) {
    problems.push_back("the script is not in the order setup, run, report");
  }
  std::string run_line = Text(script[static_cast<size_t>(run)]);
  std::string last = Text(script[script.size() - 1]);
  if (!Contains(run_line, "|| run_status=$?") || !Contains(last, "exit \"$run_status\"")) {
    problems.push_back("the script does not keep the run's exit code and exit with it last");
  }
}

Problems CheckGitlabJob(const YAML::Node& root) {
  Problems problems;
  YAML::Node job(YAML::NodeType::Undefined);
  if (root.IsDefined() && root.IsMap()) {
    for (const auto& entry : root) {
      if (Get(entry.second, "script").IsDefined() && IsDebian12(Get(entry.second, "image"))) {
        job = entry.second;
      }
    }
  }
  if (!job.IsDefined()) return {"no job with a script runs in image debian:12"};
  CheckGitlabScript(Get(job, "script"), problems);
  CheckGitlabArtifacts(Get(job, "artifacts"), problems);
  return problems;
}

YAML::Node LoadExample(const char* relative) { return YAML::LoadFile(SourcePath(relative)); }

// The GitHub job of the shipped workflow, for the broken copies below.
YAML::Node ShippedGithubJob(YAML::Node& root) { return root["jobs"]["edge-vs-cloud"]; }

// Removes the first step whose run: contains `part` (or whose uses: does).
void RemoveStep(YAML::Node steps, const std::string& part) {
  YAML::Node kept(YAML::NodeType::Sequence);
  bool removed = false;
  for (const auto& step : steps) {
    bool match = Contains(RunOf(step), part) || Contains(Text(Get(step, "uses")), part);
    if (match && !removed) {
      removed = true;
    } else {
      kept.push_back(step);
    }
  }
  REQUIRE(removed);
  steps = kept;
}

}  // namespace

TEST_CASE("docs: the GitHub Actions example parses and has the documented steps", "[docs]") {
  YAML::Node root = LoadExample(kGithubFile);
  CHECK(CheckGithubWorkflow(root) == Problems{});
  YAML::Node job = ShippedGithubJob(root);
  REQUIRE(job.IsMap());
  CHECK(Text(Get(job, "runs-on")) == "ubuntu-latest");
  // The triggers docs/ci.md names: pull requests and pushes (and nightly, by hand).
  YAML::Node on = Get(root, "on");
  CHECK(Get(on, "pull_request").IsDefined());
  CHECK(Get(on, "push").IsDefined());
}

TEST_CASE("docs: each check of the GitHub example fails on a broken copy", "[docs]") {
  struct Case {
    std::string name;
    std::function<void(YAML::Node&)> breakit;
    Problems expected;
  };
  const std::vector<Case> cases = {
      {"no on", [](YAML::Node& r) { r.remove("on"); }, {"the workflow has no 'on' (no trigger)"}},
      {"ubuntu container",
       [](YAML::Node& r) { ShippedGithubJob(r)["container"]["image"] = "ubuntu:24.04"; },
       {"no job runs in container debian:12"}},
      {"no capabilities",
       [](YAML::Node& r) { ShippedGithubJob(r)["container"].remove("options"); },
       {"the container does not add NET_ADMIN and NET_RAW"}},
      {"no setup",
       [](YAML::Node& r) { RemoveStep(ShippedGithubJob(r)["steps"], "setup.sh"); },
       {"no step runs scripts/setup.sh"}},
      {"no run",
       [](YAML::Node& r) { RemoveStep(ShippedGithubJob(r)["steps"], kRunCommand); },
       {"no step runs 'edgebench run scenarios/edge-vs-cloud.yaml'"}},
      {"no report",
       [](YAML::Node& r) { RemoveStep(ShippedGithubJob(r)["steps"], "edgebench report"); },
       {"no step runs 'edgebench report ... report.html'"}},
      {"no summary",
       [](YAML::Node& r) { RemoveStep(ShippedGithubJob(r)["steps"], "GITHUB_STEP_SUMMARY"); },
       {"no 'if: always()' step writes edgebench compare to $GITHUB_STEP_SUMMARY"}},
      {"run fails the job at once",
       [](YAML::Node& r) {
         for (YAML::Node step : ShippedGithubJob(r)["steps"]) {
           if (Contains(RunOf(step), kRunCommand)) {
             step["run"] = "build/edgebench run scenarios/edge-vs-cloud.yaml";
           }
         }
       },
       {"the run step does not keep its exit code (set +e, $GITHUB_OUTPUT)"}},
      {"gate before the upload",
       [](YAML::Node& r) {
         YAML::Node steps = ShippedGithubJob(r)["steps"];
         YAML::Node gate = YAML::Clone(steps[steps.size() - 1]);
         steps.remove(steps.size() - 1);
         YAML::Node upload = YAML::Clone(steps[steps.size() - 1]);
         steps.remove(steps.size() - 1);
         steps.push_back(gate);
         steps.push_back(upload);
       },
       {"the last step does not fail the job on the run's exit code"}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      YAML::Node root = LoadExample(kGithubFile);
      c.breakit(root);
      CHECK(CheckGithubWorkflow(root) == c.expected);
    }
  }
}

TEST_CASE("docs: the upload and the gate of the GitHub example are checked", "[docs]") {
  YAML::Node root = LoadExample(kGithubFile);
  YAML::Node steps = ShippedGithubJob(root)["steps"];
  SECTION("upload only on success") {
    for (YAML::Node step : steps) {
      if (Contains(Text(Get(step, "uses")), "upload-artifact")) step.remove("if");
    }
    CHECK(CheckGithubWorkflow(root) == Problems{"the upload step has no 'if: always()'"});
  }
  SECTION("upload without the report") {
    for (YAML::Node step : steps) {
      if (Contains(Text(Get(step, "uses")), "upload-artifact")) {
        step["with"]["path"] = "results/edge-vs-cloud/";
      }
    }
    CHECK(CheckGithubWorkflow(root) ==
          Problems{"the upload step does not upload report.html and results/edge-vs-cloud"});
  }
  SECTION("no gate at the end") {
    steps.remove(steps.size() - 1);
    CHECK(CheckGithubWorkflow(root) ==
          Problems{"the last step does not fail the job on the run's exit code"});
  }
  SECTION("report only on success") {
    for (YAML::Node step : steps) {
      if (Contains(RunOf(step), "edgebench report")) step.remove("if");
    }
    CHECK(CheckGithubWorkflow(root) == Problems{"the report step has no 'if: always()'"});
  }
}

TEST_CASE("docs: the GitLab CI example parses and keeps the report always", "[docs]") {
  YAML::Node root = LoadExample(kGitlabFile);
  CHECK(CheckGitlabJob(root) == Problems{});
  YAML::Node job = root["edgebench-edge-vs-cloud"];
  REQUIRE(job.IsMap());
  YAML::Node before = Get(job, "before_script");
  CHECK(FindIndex(before, [](const YAML::Node& l) { return Contains(Text(l), "git"); }) >= 0);

  SECTION("artifacts only on success") {
    job["artifacts"]["when"] = "on_success";
    CHECK(CheckGitlabJob(root) == Problems{"artifacts: when is not 'always'"});
  }
  SECTION("artifacts without the report or the results") {
    job["artifacts"]["paths"] = YAML::Load("[compare.md]");
    CHECK(CheckGitlabJob(root) == Problems{"artifacts: paths has no report.html",
                                           "artifacts: paths has no results/edge-vs-cloud"});
  }
  SECTION("report not exposed") {
    job["artifacts"].remove("expose_as");
    CHECK(CheckGitlabJob(root) ==
          Problems{"artifacts: no expose_as (the report is not linked from merge requests)"});
  }
  SECTION("another image") {
    job["image"] = "ubuntu:24.04";
    CHECK(CheckGitlabJob(root) == Problems{"no job with a script runs in image debian:12"});
  }
  SECTION("a script that stops at the gate") {
    job["script"] = YAML::Load(
        "[scripts/setup.sh, build/edgebench run scenarios/edge-vs-cloud.yaml, "
        "build/edgebench report results/edge-vs-cloud/latest -o report.html]");
    CHECK(CheckGitlabJob(root) ==
          Problems{"the script does not keep the run's exit code and exit with it last"});
  }
  SECTION("a script without setup and report") {
    job["script"] = YAML::Load("[build/edgebench run scenarios/edge-vs-cloud.yaml]");
    CHECK(CheckGitlabJob(root) ==
          Problems{"the script does not run scripts/setup.sh",
                   "the script does not run 'edgebench report ... report.html'"});
  }
}

TEST_CASE("docs: ci.md includes both examples by path, and they exist", "[docs]") {
  std::string page = cli_support::Slurp(SourcePath("docs/ci.md"));
  REQUIRE_FALSE(page.empty());
  for (const char* example : {kGithubFile, kGitlabFile}) {
    CAPTURE(example);
    CHECK(Contains(page, example));
    CHECK(fs::is_regular_file(SourcePath(example)));
  }
  std::string readme = cli_support::Slurp(SourcePath("README.md"));
  CHECK(Contains(readme, "(docs/ci.md)"));
}

TEST_CASE("docs: the CI examples' commands exist in this edgebench", "[docs]") {
  // The matrix scenario and the compare and report commands come with issue 10; until they
  // are in this tree the examples cannot be checked against the binary.
  if (!fs::exists(SourcePath("scenarios/edge-vs-cloud.yaml"))) {
    WARN("skipped: scenarios/edge-vs-cloud.yaml is not in this tree yet");
    return;
  }
  cli_support::TempDir tmp;
  cli_support::CommandResult r =
      cli_support::RunEdgebench({"validate", SourcePath("scenarios/edge-vs-cloud.yaml")}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = cli_support::RunEdgebench({"compare", "--help"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "--format"));
  r = cli_support::RunEdgebench({"report", "--help"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "-o"));
}
