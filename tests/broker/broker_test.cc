// Tests for src/broker.cc against a real mosquitto on a free loopback port.
#include "edgebench/broker/broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"
#include "test_support.h"

namespace edgebench {
namespace {

using testing::ProcessGone;
using testing::TempDir;
using testing::WriteText;

const std::string kTemplate = EDGEBENCH_SOURCE_DIR "/config/mosquitto.conf.in";

EmbeddedBrokerOptions OptionsIn(const TempDir& dir) {
  EmbeddedBrokerOptions options;
  options.config_template = kTemplate;
  options.run_dir = dir.path();
  return options;
}

// Listens on 127.0.0.1:port; false when the port cannot be bound.
bool Listen(const Fd& fd, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
         ::listen(fd.get(), 4) == 0;
}

}  // namespace

TEST_CASE("EmbeddedBroker starts, serves and stops mosquitto", "[broker]") {
  TempDir dir;
  Result<EmbeddedBroker> broker = EmbeddedBroker::Start(OptionsIn(dir));
  INFO((broker.ok() ? std::string() : broker.error().message));
  REQUIRE(broker.ok());
  int pid = broker->pid();
  CHECK(pid > 0);
  CHECK(broker->port() > 0);
  CHECK(broker->Running());
  CHECK(CanConnect("127.0.0.1", broker->port(), 1000));
  CHECK(broker->version() == "2.0.11");
  CHECK(std::filesystem::is_regular_file(dir.File("broker.log")));
  std::string conf = testing::ReadText(dir.File("mosquitto.conf"));
  CHECK(conf.find("listener " + std::to_string(broker->port()) + " 127.0.0.1\n") !=
        std::string::npos);
  CHECK(conf.find("@PORT@") == std::string::npos);

  // mosquitto leaves cleanly on SIGTERM.
  CHECK(broker->Stop() == "exited with status 0");
  CHECK(!broker->Running());
  CHECK(ProcessGone(pid));
  CHECK(!CanConnect("127.0.0.1", broker->port(), 200));
  CHECK(broker->Stop() == "exited with status 0");  // idempotent
}

TEST_CASE("EmbeddedBroker destructor stops mosquitto", "[broker]") {
  TempDir dir;
  int pid = 0;
  {
    Result<EmbeddedBroker> broker = EmbeddedBroker::Start(OptionsIn(dir));
    REQUIRE(broker.ok());
    pid = broker->pid();
    CHECK(!ProcessGone(pid));
  }
  CHECK(ProcessGone(pid));
}

TEST_CASE("EmbeddedBroker with a missing program", "[broker]") {
  TempDir dir;
  EmbeddedBrokerOptions options = OptionsIn(dir);
  options.program = "no-such-mosquitto";
  Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
  REQUIRE(!broker.ok());
  CHECK(broker.error().ToString() ==
        "cannot start the embedded broker: 'no-such-mosquitto' not found in PATH or /usr/sbin "
        "(install it with: apt-get install mosquitto)");
}

TEST_CASE("EmbeddedBroker with a missing config template", "[broker]") {
  TempDir dir;
  EmbeddedBrokerOptions options = OptionsIn(dir);
  options.config_template = dir.File("missing.conf.in");
  Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
  REQUIRE(!broker.ok());
  CHECK(broker.error().ToString() ==
        "cannot read " + dir.File("missing.conf.in") + ": No such file or directory");
}

TEST_CASE("EmbeddedBroker with an invalid config template", "[broker]") {
  TempDir dir;
  std::string tmpl = dir.File("bad.conf.in");
  WriteText(tmpl, "listener @PORT@ 127.0.0.1\nbogus_directive 1\n");
  EmbeddedBrokerOptions options = OptionsIn(dir);
  options.config_template = tmpl;
  Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
  REQUIRE(!broker.ok());
  // The last two lines of broker.log, joined into one; mosquitto stamps them with the
  // epoch seconds.
  CHECK_THAT(broker.error().ToString(),
             Catch::Matchers::Matches(
                 "cannot start the embedded broker: mosquitto exited with status 3: "
                 "[0-9]+: Error: Unknown configuration variable \"bogus_directive\"\\. "
                 "[0-9]+: Error found at " +
                 dir.File("mosquitto.conf") + ":2\\."));
}

// An empty broker.log once made TailOfFile() throw std::out_of_range out of Start().
TEST_CASE("EmbeddedBroker whose program exits silently", "[broker]") {
  TempDir dir;
  EmbeddedBrokerOptions options = OptionsIn(dir);
  options.program = "false";  // exits with status 1 and prints nothing
  std::optional<Result<EmbeddedBroker>> broker;
  REQUIRE_NOTHROW(broker.emplace(EmbeddedBroker::Start(options)));
  REQUIRE(!broker->ok());
  CHECK(broker->error().ToString() ==
        "cannot start the embedded broker: mosquitto exited with status 1: (no output)");
}

TEST_CASE("FindFreeLoopbackPort returns distinct usable ports", "[broker]") {
  std::set<int> ports;
  std::vector<Fd> listeners;
  for (int i = 0; i < 3; ++i) {
    Result<int> port = FindFreeLoopbackPort();
    REQUIRE(port.ok());
    CHECK(*port > 0);
    CHECK(*port < 65536);
    ports.insert(*port);
    // Usable: we can listen on it, and then connect to it.
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd.valid());
    CHECK(Listen(fd, *port));
    CHECK(CanConnect("127.0.0.1", *port, 1000));
    listeners.push_back(std::move(fd));  // held, so the next call cannot return it
  }
  CHECK(ports.size() == 3);
}

TEST_CASE("CanConnect is false on a closed port", "[broker]") {
  int port = testing::ClosedLoopbackPort();
  CHECK(!CanConnect("127.0.0.1", port, 500));
}

TEST_CASE("MosquittoVersion", "[broker]") {
  CHECK(MosquittoVersion("mosquitto") == "2.0.11");
  CHECK(MosquittoVersion("no-such-mosquitto").empty());
}

}  // namespace edgebench
