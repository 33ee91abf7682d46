// Helpers for tests that run the edgebench binary: a temporary directory, running the
// command with its output captured, reading results.
#ifndef EDGEBENCH_TESTS_CLI_SUPPORT_H_
#define EDGEBENCH_TESTS_CLI_SUPPORT_H_

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli_support {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
};

inline std::string Slurp(const fs::path& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string LastLine(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// The summary.json of the results directory named by the last line of `out`.
inline nlohmann::json SummaryOf(const std::string& out) {
  return nlohmann::json::parse(Slurp(fs::path(LastLine(out)) / "summary.json"));
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/edgebench-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path Write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

// Runs argv (argv[0] is a path); stdout and stderr go to files in `dir`. When
// interrupt_after_ms > 0, sends `signal` (SIGINT) after that long. Always reaps the child.
inline CommandResult RunCommand(const std::vector<std::string>& args, const fs::path& dir,
                                int interrupt_after_ms = 0, int signal = SIGINT) {
  std::vector<std::string> argv = args;
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::string out_path = (dir / "stdout.txt").string();
  std::string err_path = (dir / "stderr.txt").string();
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  if (interrupt_after_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(interrupt_after_ms));
    kill(pid, signal);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

inline CommandResult RunEdgebench(const std::vector<std::string>& args, const fs::path& dir,
                                  int interrupt_after_ms = 0, int signal = SIGINT) {
  std::vector<std::string> argv = {EDGEBENCH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir, interrupt_after_ms, signal);
}

}  // namespace cli_support

#endif  // EDGEBENCH_TESTS_CLI_SUPPORT_H_
