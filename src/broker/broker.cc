// Starting, probing and stopping the embedded mosquitto broker.
#include "edgebench/broker/broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "edgebench/base/fd.h"

namespace edgebench {
namespace {

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// The last `n` lines of a log file, to show why a broker did not start.
std::string TailOfFile(const std::string& path, int n) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return "";
  std::string s = *text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  size_t start = s.size();
  for (int i = 0; i < n && start > 0; ++i) {
    size_t nl = s.rfind('\n', start - 1);
    start = nl == std::string::npos ? 0 : nl;
  }
  if (start < s.size() && s[start] == '\n') ++start;
  std::string tail = s.substr(start);
  for (char& c : tail) {
    if (c == '\n') c = ' ';  // one line in the error message
  }
  return tail.empty() ? "(no output)" : tail;
}

std::string CurrentUserName() {
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found) return pw.pw_name;
  return std::to_string(::geteuid());
}

}  // namespace

Result<int> FindFreeLoopbackPort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{std::string("cannot create socket: ") + ErrnoMessage(errno)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error{std::string("cannot bind to 127.0.0.1: ") + ErrnoMessage(errno)};
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Error{std::string("getsockname: ") + ErrnoMessage(errno)};
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

bool CanConnect(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (addrinfo* ai = res; ai && !ok; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      ok = true;
      break;
    }
    if (errno != EINPROGRESS) continue;
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  ::freeaddrinfo(res);
  return ok;
}

std::string MosquittoVersion(const std::string& program) {
  std::optional<std::string> path = FindProgram(program);
  if (!path) return "";
  // `mosquitto -h` prints "mosquitto version 2.0.11" and exits with status 3.
  std::string cmd = "'" + *path + "' -h 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");  // before any thread starts; see broker.h
  if (!f) return "";
  char line[256] = {};
  std::string version;
  while (::fgets(line, sizeof line, f)) {
    const char* key = strstr(line, "version ");
    if (key) {
      version = key + 8;
      while (!version.empty() && (version.back() == '\n' || version.back() == ' '))
        version.pop_back();
      break;
    }
  }
  ::pclose(f);
  return version;
}

Result<EmbeddedBroker> EmbeddedBroker::Start(const EmbeddedBrokerOptions& options) {
  std::optional<std::string> program = FindProgram(options.program);
  if (!program) {
    return Error{"cannot start the embedded broker: '" + options.program +
                 "' not found in PATH or /usr/sbin (install it with: apt-get install mosquitto)"};
  }
  Result<std::string> tmpl = ReadFile(options.config_template, kConfigFileLimit);
  if (!tmpl.ok()) return tmpl.error();

  // The port can be taken between probing and mosquitto's bind; then try another.
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<int> port = FindFreeLoopbackPort();
    if (!port.ok()) return port.error();
    std::string conf_path = options.run_dir + "/mosquitto.conf";
    std::string log_path = options.run_dir + "/broker.log";
    std::string conf = ReplaceAll(*tmpl, "@PORT@", std::to_string(*port));
    for (const std::string& address : options.extra_listen_addresses) {
      conf +=
          "\n# Added by edgebench: the devices' network namespace reaches the broker here.\n"
          "listener " +
          std::to_string(*port) + " " + address + "\n";
    }
    Status st = WriteFile(conf_path, ReplaceAll(conf, "@USER@", CurrentUserName()));
    if (!st) return st.error();
    Result<ChildProcess> child =
        SpawnProgram({*program, "-c", conf_path}, log_path, options.join_fds);
    if (!child.ok()) return child.error();

    EmbeddedBroker broker;
    broker.process_ = std::move(child.value());
    broker.port_ = *port;
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options.start_timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::optional<int> status = broker.process_.Poll()) {
        last_error = "mosquitto " + DescribeWaitStatus(*status) + ": " + TailOfFile(log_path, 2);
        break;
      }
      if (CanConnect("127.0.0.1", *port, 100)) {
        broker.version_ = MosquittoVersion(*program);
        return broker;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (last_error.empty()) {
      last_error = "mosquitto did not accept connections on 127.0.0.1:" + std::to_string(*port) +
                   " within " + std::to_string(options.start_timeout_ms) + " ms";
      return Error{"cannot start the embedded broker: " + last_error + " (see " + log_path + ")"};
    }
  }
  return Error{"cannot start the embedded broker: " + last_error};
}

bool EmbeddedBroker::Running() { return process_.started() && !process_.Poll(); }

std::string EmbeddedBroker::Stop() {
  if (!process_.started()) return "not started";
  if (std::optional<int> status = process_.Poll()) return DescribeWaitStatus(*status);
  return DescribeWaitStatus(process_.Terminate(3000));
}

}  // namespace edgebench
