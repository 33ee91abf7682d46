// The netem network backend: a namespace and veth pair built, shaped and removed with ip and tc.
#include "edgebench/link/netem_link.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/process.h"

namespace edgebench {
namespace {

const char kErrorPrefix[] = "network.backend netem: ";
const char kNetnsDir[] = "/run/netns/";
constexpr int kToolTimeoutMs = 10000;

// tbf releases a packet only when the bucket holds enough tokens for all of it, and it is
// woken by timers that may fire some milliseconds late. A bucket smaller than what the
// rate earns in one tick of a HZ=250 kernel (4 ms) therefore cannot sustain the rate, and
// one smaller than a few full frames stalls on every packet; 10 Ethernet frames (10 x 1514
// bytes) is the usual floor. The queue behind the bucket holds 50 ms at the rate: enough
// for TCP to keep the link busy, and no more delay than a modest router buffer adds.
constexpr uint64_t kMinBurstBytes = 15140;
constexpr double kBurstSeconds = 1.0 / 250;
const char kTbfLatency[] = "50ms";

// strerror() without its shared buffer: these functions may run on several threads.
std::string ErrnoText(int err) {
  char buf[256];
  return ::strerror_r(err, buf, sizeof buf);  // the GNU version: returns the text
}

// "7.5", "0.05", "20": no trailing zeros.
std::string Num(double v) { return fmt::format("{:g}", v); }

std::string JoinCommand(const CommandLine& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// A tool's stderr on one line: each line trimmed, empty ones dropped, joined with "; ".
std::string OneLine(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    out += (out.empty() ? "" : "; ") + std::string(line);
  }
  return out;
}

struct ToolOutput {
  int status = 0;   // wait status
  std::string out;  // stdout
  std::string err;  // stderr
};

// Drains both pipes until the child closes them or `deadline` passes. False on timeout.
bool DrainPipes(int out_fd, int err_fd, ToolOutput* output,
                std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&output->out, &output->err};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    int n = ::poll(fds, 2, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno != EINTR) return false;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;  // poll() skips negative descriptors
        --open_count;
      }
    }
  }
  return true;
}

// Runs argv with posix_spawn, which (unlike fork) is safe while other threads run, and
// collects its output. Error only when it cannot start or does not finish in time.
Result<ToolOutput> Spawn(const CommandLine& argv) {
  std::optional<std::string> program = FindProgram(argv.at(0));
  if (!program) return Error{"cannot run " + argv[0] + ": not found in PATH, /usr/sbin or /sbin"};
  Result<PipeEnds> out = MakePipe();
  if (!out) return out.error();
  Result<PipeEnds> err = MakePipe();
  if (!err) return err.error();

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out->write.get(), 1);
  ::posix_spawn_file_actions_adddup2(&actions, err->write.get(), 2);
  // The tool gets default signal handling and an empty mask, whatever edgebench set.
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program->c_str(), &actions, &attr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error{"cannot run " + *program + ": " + ErrnoText(rc)};

  out->write.Reset();
  err->write.Reset();
  ToolOutput output;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kToolTimeoutMs);
  bool finished = DrainPipes(out->read.get(), err->read.get(), &output, deadline);
  if (!finished) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &output.status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    return Error{"did not finish within " + std::to_string(kToolTimeoutMs / 1000) + " s"};
  }
  return output;
}

// Why a finished tool failed, in one line: its stderr, else how it exited.
std::string FailureText(const ToolOutput& output) {
  std::string err = OneLine(output.err);
  return err.empty() ? DescribeWaitStatus(output.status) : err;
}

bool ToolSucceeded(const ToolOutput& output) {
  return WIFEXITED(output.status) && WEXITSTATUS(output.status) == 0;
}

bool ValidId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// 12 hex digits of the id's FNV-1a hash: short enough for IFNAMSIZ with a 3-letter prefix,
// and fixed, so a later run can find the interfaces of a link from its namespace name.
std::string InterfaceSuffix(const std::string& id) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{:012x}", h & 0xffffffffffffULL);
}

bool InterfaceExists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

bool NamespaceExists(const std::string& name) {
  return ::access((kNetnsDir + name).c_str(), F_OK) == 0;
}

bool NeedsNetem(const LinkProfile& p) { return p.rtt_ms > 0 || p.jitter_ms > 0 || p.loss_pct > 0; }

CommandLine Concat(CommandLine a, const CommandLine& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// netem's own queue holds 1000 packets by default: at a high message rate over a long delay
// it overflows and drops silently, which would read as loss the profile never asked for.
constexpr const char* kNetemLimitPackets = "100000";

CommandLine NetemArgs(const LinkProfile& p) {
  CommandLine args = {"netem", "limit", kNetemLimitPackets};
  if (p.rtt_ms > 0 || p.jitter_ms > 0) {
    args.push_back("delay");
    args.push_back(Num(p.rtt_ms / 2) + "ms");
    if (p.jitter_ms > 0) args.push_back(Num(p.jitter_ms / 2) + "ms");
  }
  if (p.loss_pct > 0) {
    args.push_back("loss");
    args.push_back(Num(p.loss_pct) + "%");
  }
  return args;
}

CommandLine TbfArgs(double mbit) {
  double bytes_per_s = mbit * 1e6 / 8;
  uint64_t tick_bytes = static_cast<uint64_t>(std::ceil(bytes_per_s * kBurstSeconds));
  std::string burst = std::to_string(std::max(kMinBurstBytes, tick_bytes));
  return {"tbf", "rate", Num(mbit) + "mbit", "burst", burst, "latency", kTbfLatency};
}

// The qdiscs for one direction; `tc_dev` is "tc [-n NS] qdisc add dev IF".
void AddQdiscs(const CommandLine& tc_dev, const LinkProfile& p, double mbit,
               std::vector<CommandLine>* out) {
  bool netem = NeedsNetem(p);
  bool rate = mbit > 0;
  if (netem && rate) {
    out->push_back(Concat(Concat(tc_dev, {"root", "handle", "1:"}), NetemArgs(p)));
    out->push_back(Concat(Concat(tc_dev, {"parent", "1:1", "handle", "10:"}), TbfArgs(mbit)));
  } else if (netem) {
    out->push_back(Concat(Concat(tc_dev, {"root"}), NetemArgs(p)));
  } else if (rate) {
    out->push_back(Concat(Concat(tc_dev, {"root"}), TbfArgs(mbit)));
  }
}

bool IsIpCommand(const CommandLine& c, std::string_view object, std::string_view verb) {
  return c.size() >= 3 && c[0] == "ip" && c[1] == object && c[2] == verb;
}

// "" when the probe command worked, else "<tool>: <why>".
std::string ProbeStep(const CommandLine& argv) {
  Result<ToolOutput> output = Spawn(argv);
  if (!output) return argv[0] + ": " + output.error().message;
  if (!ToolSucceeded(*output)) return argv[0] + ": " + FailureText(*output);
  return "";
}

std::string QdiscFailure(const std::string& kind, const std::string& failure) {
  if (failure.find("qdisc kind is unknown") != std::string::npos) {
    return "the kernel has no " + kind + " qdisc (" + failure + ")";
  }
  return "tc cannot add a " + kind + " qdisc (" + failure + ")";
}

// Tries, inside the probe namespace, what NetemLink::Create() will need.
std::string ProbeInNamespace(const std::string& ns) {
  std::string failure = ProbeStep(
      {"ip", "-n", ns, "link", "add", "ebprobe0", "type", "veth", "peer", "name", "ebprobe1"});
  if (!failure.empty()) return "cannot create a veth pair (" + failure + ")";
  failure = ProbeStep({"tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "handle", "1:", "netem",
                       "delay", "1ms"});
  if (!failure.empty()) return QdiscFailure("netem", failure);
  failure = ProbeStep(Concat(
      {"tc", "-n", ns, "qdisc", "add", "dev", "lo", "parent", "1:1", "handle", "10:"}, TbfArgs(1)));
  if (!failure.empty()) return QdiscFailure("tbf", failure);
  return "";
}

// The pid in "edgebench-<pid>x<...>" (with the id in *id) or "edgebench-probe-<pid>".
std::optional<pid_t> CreatorPid(const std::string& name, std::string* id) {
  auto digits = [](std::string_view s) -> std::optional<pid_t> {
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
    if (ec != std::errc() || end != s.data() + s.size() || pid <= 0) return std::nullopt;
    return pid;
  };
  std::string_view probe_prefix = "edgebench-probe-";
  std::string_view link_prefix = "edgebench-";
  if (name.starts_with(probe_prefix)) {
    id->clear();
    return digits(std::string_view(name).substr(probe_prefix.size()));
  }
  if (!name.starts_with(link_prefix)) return std::nullopt;
  std::string rest = name.substr(link_prefix.size());
  size_t x = rest.find('x');
  if (!ValidId(rest) || x == std::string::npos || x + 1 == rest.size()) return std::nullopt;
  *id = rest;
  return digits(std::string_view(rest).substr(0, x));
}

bool ProcessRuns(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace

std::string NetemLinkId(pid_t pid, uint64_t run_id) { return fmt::format("{}x{:x}", pid, run_id); }

std::string NetemNamespaceName(const NetemLinkConfig& config) { return "edgebench-" + config.id; }

std::string NetemHostInterface(const NetemLinkConfig& config) {
  return "ebh" + InterfaceSuffix(config.id);
}

std::string NetemDeviceInterface(const NetemLinkConfig& config) {
  return "ebd" + InterfaceSuffix(config.id);
}

std::vector<CommandLine> NetemSetupCommands(const NetemLinkConfig& config) {
  std::string ns = NetemNamespaceName(config);
  std::string host = NetemHostInterface(config);
  std::string dev = NetemDeviceInterface(config);
  std::string prefix = "/" + std::to_string(config.prefix_len);
  std::vector<CommandLine> commands = {
      {"ip", "netns", "add", ns},
      {"ip", "link", "add", host, "type", "veth", "peer", "name", dev, "netns", ns},
      {"ip", "addr", "add", config.host_address + prefix, "dev", host},
      {"ip", "link", "set", host, "up"},
      {"ip", "-n", ns, "addr", "add", config.device_address + prefix, "dev", dev},
      {"ip", "-n", ns, "link", "set", dev, "up"},
      {"ip", "-n", ns, "link", "set", "lo", "up"},
  };
  AddQdiscs({"tc", "qdisc", "add", "dev", host}, config.profile, config.profile.downlink_mbit,
            &commands);
  AddQdiscs({"tc", "-n", ns, "qdisc", "add", "dev", dev}, config.profile,
            config.profile.uplink_mbit, &commands);
  return commands;
}

std::vector<CommandLine> NetemTeardownCommands(const NetemLinkConfig& config) {
  return {{"ip", "link", "del", NetemHostInterface(config)},
          {"ip", "netns", "del", NetemNamespaceName(config)}};
}

Result<std::string> RunNetworkTool(const CommandLine& argv) {
  Result<ToolOutput> output = Spawn(argv);
  if (!output) return Error{"`" + JoinCommand(argv) + "` failed: " + output.error().message};
  if (!ToolSucceeded(*output)) {
    return Error{"`" + JoinCommand(argv) + "` failed: " + FailureText(*output)};
  }
  return std::move(output->out);
}

Result<NetemLink> NetemLink::Create(const NetemLinkConfig& config) {
  if (!ValidId(config.id)) {
    return Error{kErrorPrefix + ("link id '" + config.id) +
                 "' must be 1 to 64 lower-case letters and digits"};
  }
  NetemLink link(config);
  for (const CommandLine& command : NetemSetupCommands(config)) {
    Result<std::string> ran = RunNetworkTool(command);
    if (!ran) {
      Status undone = link.Teardown();
      if (!undone) spdlog::warn("netem link cleanup failed: {}", undone.error().message);
      return Error{kErrorPrefix + ran.error().message};
    }
    // Only what this call made is removed again: a namespace or interface that already
    // existed (the add failed) belongs to someone else.
    if (IsIpCommand(command, "netns", "add")) link.namespace_created_ = true;
    if (IsIpCommand(command, "link", "add")) link.veth_created_ = true;
  }
  spdlog::debug("netem link up namespace={} host={} device={}", link.namespace_name(),
                link.host_interface(), link.device_interface());
  return link;
}

NetemLink::~NetemLink() {
  if (!namespace_created_ && !veth_created_) return;
  Status st = Teardown();
  if (!st) spdlog::warn("netem link teardown failed: {}", st.error().message);
}

NetemLink::NetemLink(NetemLink&& other) noexcept
    : config_(std::move(other.config_)),
      namespace_created_(std::exchange(other.namespace_created_, false)),
      veth_created_(std::exchange(other.veth_created_, false)) {}

NetemLink& NetemLink::operator=(NetemLink&& other) noexcept {
  if (this != &other) {
    if (namespace_created_ || veth_created_) {
      Status st = Teardown();
      if (!st) spdlog::warn("netem link teardown failed: {}", st.error().message);
    }
    config_ = std::move(other.config_);
    namespace_created_ = std::exchange(other.namespace_created_, false);
    veth_created_ = std::exchange(other.veth_created_, false);
  }
  return *this;
}

Status NetemLink::Teardown() {
  std::vector<CommandLine> commands = NetemTeardownCommands(config_);
  std::optional<Error> first;
  // Deleting the host end removes its peer at once; deleting the namespace would too, but
  // the kernel dismantles a namespace later, in the background.
  if (veth_created_) {
    Result<std::string> ran = std::string();
    if (InterfaceExists(host_interface())) ran = RunNetworkTool(commands[0]);
    if (ran) veth_created_ = false;
    if (!ran && !first) first = Error{kErrorPrefix + ran.error().message};
  }
  if (namespace_created_) {
    Result<std::string> ran = std::string();
    if (NamespaceExists(namespace_name())) ran = RunNetworkTool(commands[1]);
    if (ran) namespace_created_ = false;
    if (!ran && !first) first = Error{kErrorPrefix + ran.error().message};
  }
  if (first) return *first;
  return Ok{};
}

std::string NetemUnavailableReason() {
  if (::geteuid() != 0) {
    return fmt::format("it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); edgebench runs as uid {}",
                       ::geteuid());
  }
  for (const char* tool : {"ip", "tc"}) {
    if (!FindProgram(tool)) return fmt::format("the {} program (iproute2) is not installed", tool);
  }
  std::string ns = "edgebench-probe-" + std::to_string(::getpid());
  std::string failure = ProbeStep({"ip", "netns", "add", ns});
  if (!failure.empty()) return "cannot create a network namespace (" + failure + ")";
  std::string reason = ProbeInNamespace(ns);
  failure = ProbeStep({"ip", "netns", "del", ns});
  if (!failure.empty()) spdlog::warn("cannot remove probe namespace {}: {}", ns, failure);
  return reason;
}

std::vector<std::string> RemoveStaleNetemLinks() {
  // Collect first: removing entries while reading the directory could skip some.
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::vector<std::string> removed;
  for (const std::string& name : names) {
    std::string id;
    std::optional<pid_t> pid = CreatorPid(name, &id);
    if (!pid || ProcessRuns(*pid)) continue;
    if (!id.empty()) {
      NetemLinkConfig config;
      config.id = id;
      std::string host = NetemHostInterface(config);
      if (InterfaceExists(host)) {
        Result<std::string> ran = RunNetworkTool(NetemTeardownCommands(config)[0]);
        if (!ran) spdlog::warn("cannot remove stale netem link: {}", ran.error().message);
      }
    }
    Result<std::string> ran = RunNetworkTool({"ip", "netns", "del", name});
    if (!ran) {
      spdlog::warn("cannot remove stale netem namespace: {}", ran.error().message);
      continue;
    }
    spdlog::info("removed stale netem namespace name={} pid={}", name, *pid);
    removed.push_back(name);
  }
  return removed;
}

}  // namespace edgebench
