// Tests for src/netem_link.cc: the exact ip and tc command lines, and (as root) real
// namespaces, veth pairs and tbf, cleanup after a failed setup, the probe and stale links.
#include "edgebench/link/netem_link.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "test_support.h"

namespace edgebench {
namespace {

using std::chrono::steady_clock;

// Each command on one line, so a mismatch shows readably. No argument may hold a space.
std::vector<std::string> Lines(const std::vector<CommandLine>& commands) {
  std::vector<std::string> lines;
  std::vector<std::string> bad_args;
  for (const CommandLine& argv : commands) {
    std::string line;
    for (const std::string& a : argv) {
      if (a.empty() || a.find(' ') != std::string::npos) bad_args.push_back(a);
      line += (line.empty() ? "" : " ") + a;
    }
    lines.push_back(line);
  }
  CHECK(bad_args.empty());
  return lines;
}

NetemLinkConfig UnitConfig(const LinkProfile& profile) {
  NetemLinkConfig config;
  config.id = "42x1";
  config.profile = profile;
  return config;
}

// The seven ip commands every link starts with, for UnitConfig().
std::vector<std::string> IpLines(const NetemLinkConfig& c) {
  std::string ns = NetemNamespaceName(c);
  std::string h = NetemHostInterface(c);
  std::string d = NetemDeviceInterface(c);
  return {"ip netns add " + ns,
          "ip link add " + h + " type veth peer name " + d + " netns " + ns,
          "ip addr add " + c.host_address + "/30 dev " + h,
          "ip link set " + h + " up",
          "ip -n " + ns + " addr add " + c.device_address + "/30 dev " + d,
          "ip -n " + ns + " link set " + d + " up",
          "ip -n " + ns + " link set lo up"};
}

std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool Exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool RunningAsRoot() {
  if (::geteuid() == 0) return true;
  WARN("skipped: network namespaces, veth and tc need root; run the tests as root");
  return false;
}

// A link id and a /30 in 169.254.0.0/16 of this test process's own (n < 4), so that test
// runs at the same time on one host do not collide with each other.
NetemLinkConfig RootConfig(unsigned n, const LinkProfile& profile) {
  unsigned block = (static_cast<unsigned>(::getpid()) * 4 + n) % (200 * 64);
  std::string net = "169.254." + std::to_string(1 + block / 64) + ".";
  NetemLinkConfig config;
  config.id = NetemLinkId(::getpid(), 0x7e570 + n);
  config.profile = profile;
  config.host_address = net + std::to_string((block % 64) * 4 + 1);
  config.device_address = net + std::to_string((block % 64) * 4 + 2);
  return config;
}

// Removes these interfaces, then these namespaces, if they exist when the test ends,
// whichever way it ends.
class Leftovers {
 public:
  Leftovers(std::vector<std::string> namespaces, std::vector<std::string> interfaces)
      : namespaces_(std::move(namespaces)), interfaces_(std::move(interfaces)) {}
  explicit Leftovers(const NetemLinkConfig& c)
      : Leftovers({NetemNamespaceName(c)}, {NetemHostInterface(c)}) {}
  ~Leftovers() {
    for (const std::string& name : interfaces_) {
      if (::if_nametoindex(name.c_str()) != 0) (void)RunNetworkTool({"ip", "link", "del", name});
    }
    for (const std::string& name : namespaces_) {
      if (Exists("/run/netns/" + name)) (void)RunNetworkTool({"ip", "netns", "del", name});
    }
  }
  Leftovers(const Leftovers&) = delete;
  Leftovers& operator=(const Leftovers&) = delete;

 private:
  std::vector<std::string> namespaces_;
  std::vector<std::string> interfaces_;
};

std::string Tool(const CommandLine& argv) {
  Result<std::string> out = RunNetworkTool(argv);
  INFO((out.ok() ? std::string() : out.error().message));
  REQUIRE(out.ok());
  return *out;
}

ino_t Inode(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

sockaddr_in Ipv4(const std::string& address, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) == 1);
  return sa;
}

void SetTimeouts(int fd) {
  timeval tv{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A TCP listener on address:<ephemeral> in the calling thread's namespace; sets *port.
Fd ListenOn(const std::string& address, int* port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in sa = Ipv4(address, 0);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd.get(), 4) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  *port = ntohs(sa.sin_port);
  return fd;
}

// A TCP socket made inside namespace `ns`, connected (from there) to address:port.
Fd ConnectFrom(const std::string& ns, const std::string& address, int port) {
  Fd fd;
  {
    Result<ScopedNetworkNamespace> inside = ScopedNetworkNamespace::Enter(ns);
    INFO((inside.ok() ? std::string() : inside.error().message));
    REQUIRE(inside.ok());
    fd.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  }
  REQUIRE(fd.valid());
  SetTimeouts(fd.get());
  sockaddr_in sa = Ipv4(address, port);
  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  INFO("connect: " << std::error_code(errno, std::generic_category()).message());
  REQUIRE(rc == 0);
  return fd;
}

TEST_CASE("netem: names derive from the id, fit IFNAMSIZ and stay stable", "[netem]") {
  CHECK(NetemLinkId(4242, 0x1f) == "4242x1f");
  NetemLinkConfig a;
  a.id = NetemLinkId(4242, 0x1f);
  NetemLinkConfig b;
  b.id = NetemLinkId(4243, 0x1f);
  CHECK(NetemNamespaceName(a) == "edgebench-4242x1f");
  // Fixed values: a later edgebench must find the interfaces of an older run's namespace.
  CHECK(NetemHostInterface(a) == "ebhde499f979c4c");
  CHECK(NetemDeviceInterface(a) == "ebdde499f979c4c");
  for (const NetemLinkConfig& c : {a, b}) {
    CHECK(NetemHostInterface(c).size() == 15);
    CHECK(NetemDeviceInterface(c).size() == 15);
  }
  CHECK(NetemHostInterface(a) != NetemHostInterface(b));
  CHECK(NetemDeviceInterface(a) != NetemDeviceInterface(b));
  CHECK(NetemNamespaceName(a) != NetemNamespaceName(b));
}

TEST_CASE("netem: delay, jitter, loss and rates put netem at the root and tbf below it",
          "[netem]") {
  LinkProfile p;
  p.rtt_ms = 15;
  p.jitter_ms = 1.5;
  p.loss_pct = 0.05;
  p.uplink_mbit = 8;
  p.downlink_mbit = 100;
  NetemLinkConfig c = UnitConfig(p);
  std::string ns = "edgebench-42x1";
  std::string h = NetemHostInterface(c);
  std::string d = NetemDeviceInterface(c);
  CHECK(Lines(NetemSetupCommands(c)) ==
        Plus(IpLines(c),
             {"tc qdisc add dev " + h + " root handle 1: netem limit 100000 delay 7.5ms 0.75ms loss 0.05%",
              // 100 Mbit/s = 12.5 MB/s: 4 ms of it (50000 bytes) beats the 15140 floor.
              "tc qdisc add dev " + h +
                  " parent 1:1 handle 10: tbf rate 100mbit burst 50000 latency 50ms",
              "tc -n " + ns + " qdisc add dev " + d +
                  " root handle 1: netem limit 100000 delay 7.5ms 0.75ms loss 0.05%",
              "tc -n " + ns + " qdisc add dev " + d +
                  " parent 1:1 handle 10: tbf rate 8mbit burst 15140 latency 50ms"}));
}

TEST_CASE("netem: rates alone are a tbf root on each end, with the given addresses", "[netem]") {
  LinkProfile p;
  p.uplink_mbit = 8;
  p.downlink_mbit = 2.5;
  NetemLinkConfig c = UnitConfig(p);
  c.host_address = "169.254.7.5";
  c.device_address = "169.254.7.6";
  std::string h = NetemHostInterface(c);
  std::string d = NetemDeviceInterface(c);
  std::vector<std::string> lines = Lines(NetemSetupCommands(c));
  CHECK(lines == Plus(IpLines(c),
                      {"tc qdisc add dev " + h + " root tbf rate 2.5mbit burst 15140 latency 50ms",
                       "tc -n edgebench-42x1 qdisc add dev " + d +
                           " root tbf rate 8mbit burst 15140 latency 50ms"}));
  CHECK(lines.at(2) == "ip addr add 169.254.7.5/30 dev " + h);
  CHECK(lines.at(4) == "ip -n edgebench-42x1 addr add 169.254.7.6/30 dev " + d);

  SECTION("an uplink rate alone shapes only the device end") {
    c.profile.downlink_mbit = 0;
    CHECK(Lines(NetemSetupCommands(c)) ==
          Plus(IpLines(c), {"tc -n edgebench-42x1 qdisc add dev " + d +
                            " root tbf rate 8mbit burst 15140 latency 50ms"}));
  }
}

TEST_CASE("netem: delay alone is a netem root on each end, without jitter or loss", "[netem]") {
  LinkProfile p;
  p.rtt_ms = 1.5;
  NetemLinkConfig c = UnitConfig(p);
  std::string h = NetemHostInterface(c);
  std::string d = NetemDeviceInterface(c);
  CHECK(Lines(NetemSetupCommands(c)) ==
        Plus(IpLines(c), {"tc qdisc add dev " + h + " root netem limit 100000 delay 0.75ms",
                          "tc -n edgebench-42x1 qdisc add dev " + d + " root netem limit 100000 delay 0.75ms"}));

  SECTION("loss alone adds no delay") {
    c.profile = LinkProfile{};
    c.profile.loss_pct = 1;
    CHECK(Lines(NetemSetupCommands(c)) ==
          Plus(IpLines(c), {"tc qdisc add dev " + h + " root netem limit 100000 loss 1%",
                            "tc -n edgebench-42x1 qdisc add dev " + d + " root netem limit 100000 loss 1%"}));
  }
}

TEST_CASE("netem: an unshaped link has no qdisc; teardown removes veth then namespace", "[netem]") {
  NetemLinkConfig c = UnitConfig(LinkProfile{});
  CHECK(Lines(NetemSetupCommands(c)) == IpLines(c));
  CHECK(Lines(NetemTeardownCommands(c)) ==
        std::vector<std::string>{"ip link del " + NetemHostInterface(c),
                                 "ip netns del edgebench-42x1"});
}

TEST_CASE("netem: bad ids and missing namespaces are errors with the whole text", "[netem]") {
  for (const std::string& id :
       std::vector<std::string>{"", "Ab1", "4242x-1", std::string(65, 'a')}) {
    NetemLinkConfig c = UnitConfig(LinkProfile{});
    c.id = id;
    Result<NetemLink> link = NetemLink::Create(c);
    REQUIRE_FALSE(link.ok());
    CHECK(link.error().ToString() == "network.backend netem: link id '" + id +
                                         "' must be 1 to 64 lower-case letters and digits");
  }
  std::string ns = "edgebench-nosuch" + std::to_string(::getpid());
  Status joined = JoinNetworkNamespace(ns);
  REQUIRE_FALSE(joined.ok());
  CHECK(joined.error().ToString() ==
        "cannot enter network namespace " + ns + ": No such file or directory");
  Result<ScopedNetworkNamespace> entered = ScopedNetworkNamespace::Enter(ns);
  REQUIRE_FALSE(entered.ok());
  CHECK(entered.error().ToString() ==
        "cannot enter network namespace " + ns + ": No such file or directory");
  Result<std::string> ran = RunNetworkTool({"ip", "link", "del", "ebnosuchdevice"});
  REQUIRE_FALSE(ran.ok());
  CHECK(ran.error().ToString() ==
        "`ip link del ebnosuchdevice` failed: Cannot find device \"ebnosuchdevice\"");
}

TEST_CASE("netem: a rate-only link is built, shapes both ends, carries TCP and is removed",
          "[netem]") {
  if (!RunningAsRoot()) return;
  LinkProfile p;
  p.uplink_mbit = 8;
  p.downlink_mbit = 20;
  NetemLinkConfig config = RootConfig(0, p);
  Leftovers leftovers(config);
  std::string ns = NetemNamespaceName(config);
  std::string h = NetemHostInterface(config);
  std::string d = NetemDeviceInterface(config);

  Result<NetemLink> link = NetemLink::Create(config);
  INFO((link.ok() ? std::string() : link.error().message));
  REQUIRE(link.ok());
  CHECK(link->namespace_name() == ns);
  CHECK(link->host_interface() == h);
  CHECK(link->device_interface() == d);
  CHECK(Exists("/run/netns/" + ns));
  CHECK(Exists("/sys/class/net/" + h));
  CHECK_FALSE(Exists("/sys/class/net/" + d));  // it lives in the namespace
  CHECK(Contains(Tool({"ip", "addr", "show", "dev", h}), "inet " + config.host_address + "/30"));
  CHECK(Contains(Tool({"ip", "-n", ns, "addr", "show", "dev", d}),
                 "inet " + config.device_address + "/30"));
  std::string up_qdisc = Tool({"tc", "-n", ns, "qdisc", "show", "dev", d});
  std::string down_qdisc = Tool({"tc", "qdisc", "show", "dev", h});
  CHECK(Contains(up_qdisc, "qdisc tbf"));
  CHECK(Contains(up_qdisc, "rate 8Mbit"));
  CHECK(Contains(down_qdisc, "qdisc tbf"));
  CHECK(Contains(down_qdisc, "rate 20Mbit"));

  SECTION("2 MB from the devices take about 2 s over the 8 Mbit/s uplink") {
    int port = 0;
    Fd listener = ListenOn(config.host_address, &port);
    constexpr size_t kBytes = 2 << 20;
    size_t received = 0;
    steady_clock::time_point received_at;
    // Declared before the client, so that the client closes (ending the server's read)
    // before this thread is joined on any exit from the test.
    std::jthread server([&] {
      pollfd pfd{listener.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 10000) != 1) return;
      Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn.valid()) return;
      SetTimeouts(conn.get());
      std::vector<char> buf(1 << 16);
      ssize_t n;
      while ((n = ::read(conn.get(), buf.data(), buf.size())) > 0) {
        received += static_cast<size_t>(n);
      }
      received_at = steady_clock::now();
      (void)!::write(conn.get(), "done", 4);
    });
    Fd client = ConnectFrom(ns, config.host_address, port);
    std::string payload(kBytes, 'x');
    steady_clock::time_point start = steady_clock::now();
    size_t sent = 0;
    while (sent < payload.size()) {
      ssize_t n = ::send(client.get(), payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
      INFO("send: " << std::error_code(errno, std::generic_category()).message());
      REQUIRE(n > 0);
      sent += static_cast<size_t>(n);
    }
    REQUIRE(::shutdown(client.get(), SHUT_WR) == 0);
    char reply[8] = {};
    CHECK(::recv(client.get(), reply, sizeof reply, MSG_WAITALL) == 4);
    CHECK(std::string(reply) == "done");
    server.join();
    CHECK(received == kBytes);
    double seconds = std::chrono::duration<double>(received_at - start).count();
    INFO("2 MB took " << seconds << " s");
    CHECK(seconds >= 1.2);  // 16.8 Mbit at 8 Mbit/s: 2.1 s
    CHECK(seconds < 10);
  }

  Status down = link->Teardown();
  INFO((down.ok() ? std::string() : down.error().message));
  CHECK(down.ok());
  CHECK_FALSE(Exists("/run/netns/" + ns));
  CHECK_FALSE(Exists("/sys/class/net/" + h));
  CHECK(link->Teardown().ok());  // idempotent
}

TEST_CASE("netem: ScopedNetworkNamespace enters a namespace and returns", "[netem]") {
  if (!RunningAsRoot()) return;
  std::string ns = "edgebench-" + NetemLinkId(::getpid(), 0x5c0e);
  Leftovers leftovers({ns}, {});
  Tool({"ip", "netns", "add", ns});
  ino_t target = Inode("/run/netns/" + ns);
  ino_t before = 0, inside = 0, after = 0, joined = 0;
  std::string error;
  std::thread([&] {
    before = Inode("/proc/thread-self/ns/net");
    {
      Result<ScopedNetworkNamespace> scope = ScopedNetworkNamespace::Enter(ns);
      if (!scope.ok()) error = scope.error().message;
      inside = Inode("/proc/thread-self/ns/net");
    }
    after = Inode("/proc/thread-self/ns/net");
    Status st = JoinNetworkNamespace(ns);  // for good: this thread ends here
    if (!st.ok()) error += st.error().message;
    joined = Inode("/proc/thread-self/ns/net");
  }).join();
  CHECK(error == "");
  CHECK(target != 0);
  CHECK(before != target);
  CHECK(inside == target);
  CHECK(after == before);
  CHECK(joined == target);
  CHECK(Inode("/proc/thread-self/ns/net") == before);
}

TEST_CASE("netem: a profile that needs netem fails cleanly on a kernel without it", "[netem]") {
  if (!RunningAsRoot()) return;
  LinkProfile p;
  p.rtt_ms = 20;
  NetemLinkConfig config = RootConfig(1, p);
  Leftovers leftovers(config);
  std::string ns = NetemNamespaceName(config);
  std::string h = NetemHostInterface(config);

  Result<NetemLink> link = NetemLink::Create(config);
  if (!link.ok()) {
    CHECK(link.error().ToString() == "network.backend netem: `tc qdisc add dev " + h +
                                         " root netem limit 100000 delay 10ms` failed: Error: Specified qdisc "
                                         "kind is unknown.");
    CHECK_FALSE(Exists("/run/netns/" + ns));
    CHECK_FALSE(Exists("/sys/class/net/" + h));
  } else {
    WARN("this kernel has netem: checking the qdisc and the teardown instead");
    CHECK(Contains(Tool({"tc", "qdisc", "show", "dev", h}), "delay 10ms"));
    CHECK(link->Teardown().ok());
    CHECK_FALSE(Exists("/run/netns/" + ns));
    CHECK_FALSE(Exists("/sys/class/net/" + h));
  }
}

TEST_CASE("netem: a failed create leaves a namespace it did not make alone", "[netem]") {
  if (!RunningAsRoot()) return;
  NetemLinkConfig config = RootConfig(2, LinkProfile{});
  Leftovers leftovers(config);
  std::string ns = NetemNamespaceName(config);
  Tool({"ip", "netns", "add", ns});

  Result<NetemLink> link = NetemLink::Create(config);
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().ToString() == "network.backend netem: `ip netns add " + ns +
                                       "` failed: Cannot create namespace file \"/run/netns/" + ns +
                                       "\": File exists");
  CHECK(Exists("/run/netns/" + ns));
  CHECK_FALSE(Exists("/sys/class/net/" + NetemHostInterface(config)));
}

TEST_CASE("netem: NetemUnavailableReason probes for real and leaves nothing behind", "[netem]") {
  if (!RunningAsRoot()) return;
  std::string probe = "edgebench-probe-" + std::to_string(::getpid());
  Leftovers leftovers({probe}, {});
  std::string reason = NetemUnavailableReason();
  CHECK_FALSE(Exists("/run/netns/" + probe));

  LinkProfile p;
  p.rtt_ms = 20;
  NetemLinkConfig config = RootConfig(3, p);
  Leftovers link_leftovers(config);
  Result<NetemLink> link = NetemLink::Create(config);
  if (reason.empty()) {
    WARN("this kernel has netem");
    INFO((link.ok() ? std::string() : link.error().message));
    CHECK(link.ok());
  } else {
    CHECK(reason == "the kernel has no netem qdisc (tc: Error: Specified qdisc kind is unknown.)");
    CHECK_FALSE(link.ok());
  }
}

TEST_CASE("netem: RemoveStaleNetemLinks removes the links of dead pids only", "[netem]") {
  if (!RunningAsRoot()) return;
  Result<ChildProcess> child = ForkFunction([] { return 0; });
  REQUIRE(child.ok());
  pid_t dead = child->pid();
  REQUIRE(child->Wait(-1));
  REQUIRE(testing::ProcessGone(dead));

  NetemLinkConfig stale;
  stale.id = NetemLinkId(dead, 0x57a1e);
  NetemLinkConfig live;
  live.id = NetemLinkId(::getpid(), 0x57a1e);
  std::string stale_ns = NetemNamespaceName(stale);
  std::string stale_host = NetemHostInterface(stale);
  std::string stale_probe = "edgebench-probe-" + std::to_string(dead);
  std::string live_ns = NetemNamespaceName(live);
  std::string no_run_id = "edgebench-" + std::to_string(dead);
  std::string upper_case = "edgebench-" + std::to_string(dead) + "xA";
  Leftovers leftovers({stale_ns, stale_probe, live_ns, no_run_id, upper_case}, {stale_host});
  std::vector<CommandLine> setup = NetemSetupCommands(stale);
  Tool(setup.at(0));  // ip netns add
  Tool(setup.at(1));  // ip link add (the veth pair)
  for (const std::string& ns : {stale_probe, live_ns, no_run_id, upper_case}) {
    Tool({"ip", "netns", "add", ns});
  }
  REQUIRE(Exists("/sys/class/net/" + stale_host));

  std::vector<std::string> removed = RemoveStaleNetemLinks();
  auto was_removed = [&](const std::string& name) {
    return std::count(removed.begin(), removed.end(), name) == 1;
  };
  CHECK(was_removed(stale_ns));
  CHECK(was_removed(stale_probe));
  CHECK_FALSE(was_removed(live_ns));
  CHECK_FALSE(was_removed(no_run_id));
  CHECK_FALSE(was_removed(upper_case));
  CHECK_FALSE(Exists("/run/netns/" + stale_ns));
  CHECK_FALSE(Exists("/run/netns/" + stale_probe));
  CHECK_FALSE(Exists("/sys/class/net/" + stale_host));
  CHECK(Exists("/run/netns/" + live_ns));
  CHECK(Exists("/run/netns/" + no_run_id));
  CHECK(Exists("/run/netns/" + upper_case));
}

}  // namespace
}  // namespace edgebench
