// `edgebench validate` and `run` on bad input, as a user meets them: every scenario of
// tests/data/malformed/ exits 2 with the message of its NAME.expect, within 256 MB of address
// space and 1 s of CPU; the scenario file, broker.password_file and broker.tls.ca_file given
// as /dev/zero, a FIFO, a directory or an oversized file exit 2 without hanging; a password
// file others can read gets a warning.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "test_support.h"

#ifndef EDGEBENCH_BINARY
#error "EDGEBENCH_BINARY must name the edgebench program"
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDGEBENCH_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EDGEBENCH_TEST_SANITIZED 1
#endif
#endif

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using testing::ClosedLoopbackPort;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

constexpr rlim_t kAddressSpaceBytes = 256ull << 20;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
  double cpu_s = 0;  // user + system of the child, from wait4()
};

// Runs edgebench with `args` in directory `cwd`, its stdout and stderr in files of `scratch`.
// The child gets RLIMIT_AS 256 MB (not under a sanitizer, whose shadow memory needs terabytes
// of address space) and RLIMIT_CPU 10 s. A child still there after 60 s is killed: that is
// a hang, and the test fails on its exit code rather than never ending.
Outcome RunIn(const std::string& cwd, const std::vector<std::string>& args,
              const std::string& scratch) {
  std::vector<std::string> argv = {EDGEBENCH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::string out_path = scratch + "/stdout.txt";
  std::string err_path = scratch + "/stderr.txt";
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0 || ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
#ifndef EDGEBENCH_TEST_SANITIZED
    rlimit as{kAddressSpaceBytes, kAddressSpaceBytes};
    ::setrlimit(RLIMIT_AS, &as);
#endif
    rlimit cpu{10, 10};
    ::setrlimit(RLIMIT_CPU, &cpu);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  int status = 0;
  rusage usage{};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::wait4(pid, &status, WNOHANG, &usage) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Outcome r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  r.out = ReadText(out_path);
  r.err = ReadText(err_path);
  return r;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

TEST_CASE("every malformed scenario exits 2 from validate, with its message, in bounds",
          "[scenario][cli]") {
  const std::string corpus = std::string(EDGEBENCH_SOURCE_DIR) + "/tests/data/malformed";
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 60);
  TempDir scratch;
  for (const std::string& name : names) {
    std::string expect_file = corpus + "/" + fs::path(name).stem().string() + ".expect";
    REQUIRE(fs::exists(expect_file));
    Outcome r = RunIn(corpus, {"validate", name}, scratch.path());
    INFO(name << ":\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK(FirstLine(r.err) == FirstLine(ReadText(expect_file)));
    CHECK(r.out.empty());
    CHECK(r.cpu_s < 1.0);
  }
}

// The three files a scenario makes edgebench read, each given as `path`.
std::vector<std::pair<std::string, std::string>> ScenariosNaming(const std::string& path) {
  return {
      {"scenario", ""},
      {"password_file", "name: x\nbroker:\n  username: u\n  password_file: \"" + path + "\"\n"},
      {"ca_file", "name: x\nbroker:\n  tls:\n    ca_file: \"" + path + "\"\n"},
  };
}

// The message of validate and run for a scenario whose `key` names `path`, which is `what`.
std::string ExpectedError(const std::string& key, const std::string& scenario,
                          const std::string& path, const std::string& what) {
  if (key == "scenario") return "edgebench: error: " + path + ": " + what + "\n";
  std::string line =
      key == "ca_file" ? "    ca_file: \"" + path + "\"" : "  password_file: \"" + path + "\"";
  std::string location =
      key == "ca_file" ? ":4:14: broker.tls.ca_file: '" : ":4:18: broker.password_file: '";
  size_t column = line.find('"');
  return "edgebench: error: " + scenario + location + path + "' " + what + "\n" + line + "\n" +
         std::string(column, ' ') + "^\n";
}

TEST_CASE("validate and run refuse /dev/zero, a FIFO, a directory and an oversized file",
          "[scenario][cli]") {
  TempDir dir;
  std::string fifo = dir.File("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string huge = dir.File("huge");
  WriteText(huge, std::string((4 << 20) + 1, 'x'));  // above every limit a scenario names
  struct Case {
    std::string path;
    std::string what;  // for the scenario file itself; password and TLS differ in the limit
  };
  const std::vector<Case> cases = {
      {"/dev/zero", "is not a regular file (a character device)"},
      {fifo, "is not a regular file (a FIFO)"},
      {dir.path(), "is not a regular file (a directory)"},
      {huge, "is larger than the 1 MiB limit for a scenario file"},
  };
  for (const Case& c : cases) {
    for (const auto& [key, text] : ScenariosNaming(c.path)) {
      std::string scenario = key == "scenario" ? c.path : dir.File(key + ".yaml");
      if (key != "scenario") WriteText(scenario, text);
      std::string what = c.what;
      if (c.path == huge && key == "password_file") {
        what = "is larger than the 64 KiB limit for a password file";
      } else if (c.path == huge && key == "ca_file") {
        what = "is larger than the 4 MiB limit for a TLS file";
      }
      std::string expected = ExpectedError(key, scenario, c.path, what);
      for (const char* command : {"validate", "run"}) {
        std::vector<std::string> args = {command, scenario};
        if (std::string(command) == "run") {
          args.insert(args.end(), {"--out", dir.File("results")});
        }
        Outcome r = RunIn(dir.path(), args, dir.path());
        INFO(command << " " << key << " = " << c.path);
        CHECK(r.exit_code == 2);
        CHECK(r.err == expected);
        CHECK_FALSE(fs::exists(dir.File("results")));
      }
    }
  }
}

TEST_CASE("validate and run warn of a password file that others can read", "[scenario][cli]") {
  TempDir dir;
  std::string pw = dir.File("password");
  WriteText(pw, "secret\n");
  REQUIRE(::chmod(pw.c_str(), 0644) == 0);
  std::string scenario = dir.File("s.yaml");
  WriteText(scenario, "name: x\nbroker:\n  username: u\n  password_file: \"" + pw + "\"\n");
  std::string warning = "edgebench: warning: " + scenario + ":4:18: broker.password_file: '" + pw +
                        "' is accessible by group or others (mode 0644); make it private with: "
                        "chmod 600 '" +
                        pw + "'\n  password_file: \"" + pw + "\"\n" + std::string(17, ' ') + "^\n";
  Outcome v = RunIn(dir.path(), {"validate", scenario}, dir.path());
  CHECK(v.exit_code == 0);
  CHECK(v.out == scenario + ": ok (1 warning)\n");
  CHECK(v.err == warning);
  Outcome run =
      RunIn(dir.path(), {"run", "--dry-run", scenario, "--out", dir.File("r")}, dir.path());
  CHECK(run.exit_code == 0);
  CHECK(run.err == warning);
  // A real run says it before it starts, not with its outcome (here: no broker listens).
  std::string real = dir.File("real.yaml");
  WriteText(real,
            "name: x\nbroker:\n  host: 127.0.0.1\n  port: " + std::to_string(ClosedLoopbackPort()) +
                "\n  username: u\n  password_file: \"" + pw + "\"\nduration_s: 1\n");
  run = RunIn(dir.path(), {"run", real, "--out", dir.File("r")}, dir.path());
  CHECK(run.exit_code == 3);
  CHECK(run.err.starts_with("edgebench: warning: " + real + ":6:18: broker.password_file: '" + pw +
                            "' is accessible by group or others (mode 0644)"));
  CHECK(run.err.find(" run started scenario=x ") > run.err.find("edgebench: warning: "));
  CHECK(run.err.find("edgebench: warning: ", 1) == std::string::npos);  // said once
  REQUIRE(::chmod(pw.c_str(), 0600) == 0);
  v = RunIn(dir.path(), {"validate", scenario}, dir.path());
  CHECK(v.exit_code == 0);
  CHECK(v.out == scenario + ": ok\n");
  CHECK(v.err.empty());
}

}  // namespace
}  // namespace edgebench
