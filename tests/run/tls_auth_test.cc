// Tests for TLS, username/password and the MQTT 5 options of MqttClient (src/mqtt_client.cc)
// and for src/credentials.cc, against real mosquitto brokers on free loopback ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"
#include "edgebench/mqtt/credentials.h"
#include "edgebench/mqtt/mqtt_client.h"

#include "cli_support.h"
#include "test_support.h"
#include "tls_support.h"

namespace edgebench {
namespace {

using testing::Pki;
using testing::ReadText;
using testing::RunProgram;
using testing::ScenarioFromYaml;
using testing::TempDir;
using testing::TestBroker;
using testing::TlsSettings;
using testing::WriteText;

// Records what the client reports.
struct Recorder : MqttHandler {
  int connect_rc = -1;  // the last CONNACK code
  int connects = 0;
  int disconnects = 0;
  int subscribed = 0;
  int published = 0;
  std::vector<std::string> messages;  // payloads, in order

  void OnConnect(int rc) override {
    connect_rc = rc;
    ++connects;
  }
  void OnDisconnect(int) override { ++disconnects; }
  void OnPublish(int) override { ++published; }
  void OnSubscribe(int, int) override { ++subscribed; }
  void OnMessage(const char*, const void* payload, size_t size) override {
    messages.emplace_back(static_cast<const char*>(payload), size);
  }
};

// Calls client.Loop() until `done`, a loop error (returned) or timeout_ms (returns 0).
template <class F>
int LoopUntil(MqttClient& client, F done, int timeout_ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return 0;
    int rc = client.Loop(20);
    if (rc != 0) return rc;
  }
  return 0;
}

MqttClientOptions Options(const std::string& client_id, int port) {
  MqttClientOptions o;
  o.client_id = client_id;
  o.port = port;
  return o;
}

MqttClientOptions TlsOptions(const std::string& client_id, int port, const std::string& ca) {
  MqttClientOptions o = Options(client_id, port);
  o.tls = true;
  o.ca_file = ca;
  return o;
}

std::unique_ptr<MqttClient> MakeClient(const MqttClientOptions& o, Recorder* h) {
  Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, h);
  INFO((c.ok() ? std::string() : c.error().message));
  REQUIRE(c.ok());
  return std::move(c.value());
}

// Starts a connection and runs the loop until the CONNACK or a loop error (returned).
int ConnectAndWait(MqttClient& client, Recorder& h) {
  Status st = client.ConnectAsync();
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  return LoopUntil(client, [&] { return h.connects > 0; });
}

// Connects, subscribes to a topic, publishes to it at QoS 1 and receives the message back.
void CheckRoundTrip(const MqttClientOptions& o) {
  Recorder h;
  std::unique_ptr<MqttClient> client = MakeClient(o, &h);
  int rc = ConnectAndWait(*client, h);
  INFO("loop: " << client->DescribeError(rc));
  REQUIRE(rc == 0);
  REQUIRE(h.connect_rc == 0);
  CHECK(client->tls_error().empty());
  const std::string topic = "edgebench/" + o.client_id;
  REQUIRE(client->Subscribe(topic.c_str(), 1, nullptr) == 0);
  REQUIRE(LoopUntil(*client, [&] { return h.subscribed == 1; }) == 0);
  REQUIRE(client->Publish(topic.c_str(), "hello", 5, 1, false, nullptr) == 0);
  REQUIRE(LoopUntil(*client, [&] { return !h.messages.empty() && h.published == 1; }) == 0);
  CHECK(h.messages == std::vector<std::string>{"hello"});
  client->Disconnect();
}

// Starts a connection that must fail and returns why. A failed TLS handshake shows up in
// ConnectAsync() when the handshake finishes while it writes CONNECT, else in a loop call.
std::string FailureOf(MqttClient& client, Recorder& h, bool reconnect = false) {
  Status st = reconnect ? client.ReconnectAsync() : client.ConnectAsync();
  if (!st.ok()) {
    std::string prefix = std::string(reconnect ? "cannot reconnect" : "cannot connect") +
                         " to the broker at " + client.Address() + ": ";
    const std::string& message = st.error().message;
    REQUIRE(message.starts_with(prefix));
    return message.substr(prefix.size());
  }
  int rc = LoopUntil(client, [&] { return h.connects > 0; });
  CHECK(h.connects == 0);
  CHECK(rc != 0);
  return client.DescribeError(rc);
}

std::string FailedConnection(const MqttClientOptions& o) {
  Recorder h;
  std::unique_ptr<MqttClient> client = MakeClient(o, &h);
  return FailureOf(*client, h);
}

// A listening socket on a free loopback port, for a fake broker that reads CONNECT.
Fd ListenLoopback(int* port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd.get(), 4) == 0);
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// Drives `client` until the fake broker on `listener` has read one whole MQTT packet; its
// bytes. The accepted connection is closed on return, so the client sees it drop.
std::string ReadFirstPacket(MqttClient& client, const Fd& listener) {
  Fd conn;
  std::string bytes;
  auto complete = [&] {
    // Fixed header: type byte, then the remaining length as a variable-length integer.
    size_t length = 0;
    for (size_t i = 1, shift = 0; i < bytes.size() && i <= 4; ++i, shift += 7) {
      length |= (static_cast<size_t>(bytes[i]) & 0x7f) << shift;
      if ((bytes[i] & 0x80) == 0) return bytes.size() >= i + 1 + length;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!complete() && std::chrono::steady_clock::now() < deadline) {
    client.Loop(10);
    if (!conn.valid()) conn.Reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) continue;
    pollfd p{conn.get(), POLLIN, 0};
    if (::poll(&p, 1, 10) != 1) continue;
    char buf[1024];
    ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  return bytes;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("ReadPassword reads the environment or the first line of a file", "[tls]") {
  TempDir dir;
  BrokerSpec b;
  REQUIRE(ReadPassword(b).ok());
  CHECK(ReadPassword(b).value().empty());

  b.username = "user";
  b.password_env = "EDGEBENCH_TEST_PASSWORD";
  ::setenv("EDGEBENCH_TEST_PASSWORD", "from env", 1);  // NOLINT(concurrency-mt-unsafe)
  Result<std::string> pw = ReadPassword(b);
  REQUIRE(pw.ok());
  CHECK(*pw == "from env");
  ::unsetenv("EDGEBENCH_TEST_PASSWORD");  // NOLINT(concurrency-mt-unsafe)
  pw = ReadPassword(b);
  REQUIRE(!pw.ok());
  CHECK(pw.error().ToString() ==
        "broker.password_env: environment variable 'EDGEBENCH_TEST_PASSWORD' is not set");

  b.password_env.clear();
  b.password_file = dir.File("password");
  WriteText(b.password_file, "s3cret word\nsecond line\n");
  pw = ReadPassword(b);
  REQUIRE(pw.ok());
  CHECK(*pw == "s3cret word");
  WriteText(b.password_file, "crlf\r\n");
  CHECK(ReadPassword(b).value() == "crlf");
  WriteText(b.password_file, "no newline");
  CHECK(ReadPassword(b).value() == "no newline");

  b.password_file = dir.File("missing");
  pw = ReadPassword(b);
  REQUIRE(!pw.ok());
  CHECK(pw.error().ToString() ==
        "cannot read " + dir.File("missing") + ": No such file or directory");
}

TEST_CASE("ClientOptionsFor takes every option from the scenario", "[tls]") {
  TempDir dir;
  for (const char* f : {"ca.crt", "client.crt", "client.key", "password"}) {
    WriteText(dir.File(f), "x\n");
  }
  Scenario s = ScenarioFromYaml(
      "name: opts\nbroker:\n  embedded: false\n  host: broker.lan\n"
      "  port: 8883\n  protocol: 5\n  keepalive_s: 30\n"
      "  clean_session: false\n  tls:\n    ca_file: " +
      dir.File("ca.crt") + "\n    cert_file: " + dir.File("client.crt") +
      "\n    key_file: " + dir.File("client.key") +
      "\n    insecure: true\n  username: dev\n  password_file: " + dir.File("password") +
      "\n  session_expiry_s: 120\n  user_properties:\n"
      "    site: lab\n    rack: \"7\"\npublish:\n  qos: 1\n"
      "  max_inflight: 50\n");
  MqttClientOptions o = ClientOptionsFor(s, "eb-1-0", "10.0.0.9", 18883, "pw");
  CHECK(o.client_id == "eb-1-0");
  CHECK(o.host == "10.0.0.9");
  CHECK(o.port == 18883);
  CHECK(o.protocol == 5);
  CHECK(o.keepalive_s == 30);
  CHECK(!o.clean_session);
  CHECK(o.tcp_nodelay);
  CHECK(o.max_inflight == 50);
  CHECK(o.tls);
  CHECK(o.ca_file == dir.File("ca.crt"));
  CHECK(o.cert_file == dir.File("client.crt"));
  CHECK(o.key_file == dir.File("client.key"));
  CHECK(o.tls_insecure);
  CHECK(o.username == "dev");
  CHECK(o.password == "pw");
  CHECK(o.session_expiry_s == 120);
  using Pair = std::pair<std::string, std::string>;
  CHECK(o.user_properties == std::vector<Pair>{{"site", "lab"}, {"rack", "7"}});

  // Defaults: plain TCP, MQTT 3.1.1, no credentials, no MQTT 5 options.
  MqttClientOptions d =
      ClientOptionsFor(ScenarioFromYaml("name: plain\n"), "c", "127.0.0.1", 1883, "");
  CHECK(d.protocol == 4);
  CHECK(d.keepalive_s == 60);
  CHECK(d.clean_session);
  CHECK(d.max_inflight == 20);
  CHECK(!d.tls);
  CHECK(d.ca_file.empty());
  CHECK(!d.tls_insecure);
  CHECK(d.username.empty());
  CHECK(d.password.empty());
  CHECK(d.session_expiry_s == 0);
  CHECK(d.user_properties.empty());
}

TEST_CASE("TLS with the broker's CA connects, publishes and receives", "[tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  CheckRoundTrip(TlsOptions("eb-tls", broker.port(), pki.Crt("ca")));
  // The host name check accepts "localhost" too (a DNS name in the certificate).
  MqttClientOptions o = TlsOptions("eb-tls-name", broker.port(), pki.Crt("ca"));
  o.host = "localhost";
  CheckRoundTrip(o);
}

TEST_CASE("TLS with another CA fails with a clear error", "[tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  Recorder h;
  std::unique_ptr<MqttClient> client =
      MakeClient(TlsOptions("eb-wrong-ca", broker.port(), pki.Crt("other-ca")), &h);
  CHECK(FailureOf(*client, h) == "TLS error: certificate verify failed");
  CHECK(client->tls_error() == "certificate verify failed");
  // Each attempt starts afresh (no "certificate verify failed; certificate verify failed").
  CHECK(FailureOf(*client, h, true) == "TLS error: certificate verify failed");
  CHECK(h.connects == 0);
}

TEST_CASE("TLS checks the broker's host name unless insecure", "[tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "elsewhere", false));
  MqttClientOptions o = TlsOptions("eb-host", broker.port(), pki.Crt("ca"));
  CHECK(FailedConnection(o) ==
        "TLS error: host name verification failed; certificate verify failed");
  o.tls_insecure = true;
  CheckRoundTrip(o);
  // insecure skips the name, never the chain.
  o.ca_file = pki.Crt("other-ca");
  CHECK(FailedConnection(o) == "TLS error: certificate verify failed");
}

TEST_CASE("Mutual TLS works with the client certificate and fails without", "[tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", true));
  MqttClientOptions o = TlsOptions("eb-mtls", broker.port(), pki.Crt("ca"));
  o.cert_file = pki.Crt("client");
  o.key_file = pki.Key("client");
  CheckRoundTrip(o);
  // TLS 1.3: the client finishes its handshake first and then reads the broker's alert,
  // unless the broker's reset (it closes with our CONNECT unread) comes first.
  std::string why = FailedConnection(TlsOptions("eb-no-cert", broker.port(), pki.Crt("ca")));
  CHECK((why == "TLS error: tlsv13 alert certificate required" ||
         why == "TLS error: the broker closed the connection"));
}

TEST_CASE("TLS file errors name the file", "[tls]") {
  TempDir dir;
  Recorder h;
  MqttClientOptions o = TlsOptions("eb-files", 1883, dir.File("missing.crt"));
  Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, &h);
  REQUIRE(!c.ok());
  CHECK(c.error().ToString() ==
        "cannot read TLS file " + dir.File("missing.crt") + ": No such file or directory");

  o.ca_file.clear();
  c = MqttClient::Create(o, &h);
  REQUIRE(!c.ok());
  CHECK(c.error().ToString() == "cannot load TLS files: TLS needs a CA file");

  // Files are loaded when the connection starts (after TCP connects): a CA file that is
  // not PEM, and a key with a passphrase (refused rather than prompted for).
  testing::BrokerFixture plain;
  const std::string prefix =
      "cannot connect to the broker at 127.0.0.1:" + std::to_string(plain.port()) + ": ";
  WriteText(dir.File("junk.crt"), "not a certificate\n");
  o = TlsOptions("eb-junk", plain.port(), dir.File("junk.crt"));
  std::unique_ptr<MqttClient> client = MakeClient(o, &h);
  Status st = client->ConnectAsync();
  REQUIRE(!st.ok());
  CHECK(st.error().ToString() == prefix +
                                     "TLS error: Unable to load CA certificates, check cafile \"" +
                                     dir.File("junk.crt") + "\"; no certificate or crl found");

  Pki pki(dir);
  RunProgram({"openssl", "pkey", "-in", pki.Key("client"), "-aes-128-cbc", "-passout",
              "pass:secret", "-out", dir.File("encrypted.key")},
             dir.File("openssl.log"));
  o = TlsOptions("eb-encrypted", plain.port(), pki.Crt("ca"));
  o.cert_file = pki.Crt("client");
  o.key_file = dir.File("encrypted.key");
  client = MakeClient(o, &h);
  st = client->ConnectAsync();
  REQUIRE(!st.ok());
  CHECK(st.error().ToString() == prefix + "TLS error: Unable to load client key file \"" +
                                     dir.File("encrypted.key") +
                                     "\"; bad decrypt; pkcs12 cipherfinal error; PEM lib");
}

TEST_CASE("Plain TCP connect errors keep their format", "[tls]") {
  Recorder h;
  int port = testing::ClosedLoopbackPort();
  std::unique_ptr<MqttClient> client = MakeClient(Options("eb-closed", port), &h);
  Status st = client->ConnectAsync();
  REQUIRE(!st.ok());
  CHECK(st.error().ToString() == "cannot connect to the broker at 127.0.0.1:" +
                                     std::to_string(port) + ": Connection refused");
}

TEST_CASE("Username and password are checked by the broker", "[tls]") {
  TempDir dir;
  std::string passwords = dir.File("passwords");
  RunProgram({"mosquitto_passwd", "-c", "-b", passwords, "user", "secret"},
             dir.File("mosquitto_passwd.log"));
  TestBroker broker(dir, "broker", "password_file " + passwords + "\nallow_anonymous false\n");

  MqttClientOptions o = Options("eb-auth", broker.port());
  o.username = "user";
  o.password = "secret";
  CheckRoundTrip(o);

  for (int protocol : {4, 5}) {
    INFO("protocol " << protocol);
    Recorder h;
    o.protocol = protocol;
    o.password = "wrong";
    std::unique_ptr<MqttClient> client = MakeClient(o, &h);
    ConnectAndWait(*client, h);
    REQUIRE(h.connects == 1);
    if (protocol == 4) {
      CHECK(h.connect_rc == 5);
      CHECK(MqttClient::ConnackString(4, h.connect_rc) == "Connection Refused: not authorised.");
    } else {
      CHECK(h.connect_rc == 135);
      CHECK(MqttClient::ConnackString(5, h.connect_rc) == "Not authorized");
    }
  }

  Recorder anonymous;
  std::unique_ptr<MqttClient> client = MakeClient(Options("eb-anon", broker.port()), &anonymous);
  ConnectAndWait(*client, anonymous);
  CHECK(anonymous.connect_rc == 5);
}

TEST_CASE("A scenario's TLS and credentials give a working client", "[tls]") {
  TempDir dir;
  Pki pki(dir);
  std::string passwords = dir.File("passwords");
  RunProgram({"mosquitto_passwd", "-c", "-b", passwords, "dev", "pass word"},
             dir.File("mosquitto_passwd.log"));
  WriteText(dir.File("password.txt"), "pass word\n");
  TestBroker broker(dir, "broker",
                    TlsSettings(pki, "server", true) + "password_file " + passwords +
                        "\nallow_anonymous false\n");
  Scenario s = ScenarioFromYaml(
      "name: secure\nbroker:\n  embedded: false\n  port: " + std::to_string(broker.port()) +
      "\n  protocol: 5\n  tls:\n"
      "    ca_file: " +
      pki.Crt("ca") + "\n    cert_file: " + pki.Crt("client") + "\n    key_file: " +
      pki.Key("client") + "\n  username: dev\n  password_file: " + dir.File("password.txt") +
      "\n  session_expiry_s: 30\n"
      "  user_properties:\n    site: lab\n");
  Result<std::string> password = ReadPassword(s.broker);
  REQUIRE(password.ok());
  CheckRoundTrip(ClientOptionsFor(s, "eb-scenario", s.broker.host, s.broker.port, *password));
}

TEST_CASE("MQTT 5 user properties reach the subscriber with every message", "[tls]") {
  testing::BrokerFixture broker;
  const std::string out = broker.dir().File("sub.out");
  Result<ChildProcess> sub =
      SpawnProgram({"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-V",
                    "5", "-t", "edgebench/props", "-C", "1", "-W", "10", "-F", "%P|%p"},
                   out);
  REQUIRE(sub.ok());

  Recorder h;
  MqttClientOptions o = Options("eb-props", broker.port());
  o.protocol = 5;
  o.user_properties = {{"site", "lab"}, {"rack", "7"}};
  std::unique_ptr<MqttClient> client = MakeClient(o, &h);
  REQUIRE(ConnectAndWait(*client, h) == 0);
  REQUIRE(h.connect_rc == 0);
  // mosquitto_sub has no "subscribed" signal: publish every 50 ms until it has one message.
  std::optional<int> status;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(status = sub->Poll()) && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(client->Publish("edgebench/props", "m", 1, 0, false, nullptr) == 0);
    LoopUntil(
        *client, [] { return false; }, 50);
  }
  INFO("mosquitto_sub said: " << ReadText(out));
  REQUIRE(status);
  CHECK(DescribeWaitStatus(*status) == "exited with status 0");
  CHECK(ReadText(out) == "site:lab rack:7|m\n");
}

TEST_CASE("MQTT 5 session expiry keeps the session across a reconnect", "[tls]") {
  testing::BrokerFixture broker;
  for (int expiry_s : {60, 0}) {
    INFO("session_expiry_s " << expiry_s);
    const std::string topic = "edgebench/session" + std::to_string(expiry_s);
    Recorder h;
    MqttClientOptions o = Options("eb-session-" + std::to_string(expiry_s), broker.port());
    o.protocol = 5;
    o.clean_session = false;
    o.session_expiry_s = expiry_s;
    std::unique_ptr<MqttClient> client = MakeClient(o, &h);
    REQUIRE(ConnectAndWait(*client, h) == 0);
    REQUIRE(client->Subscribe(topic.c_str(), 1, nullptr) == 0);
    REQUIRE(LoopUntil(*client, [&] { return h.subscribed == 1; }) == 0);
    client->Disconnect();
    LoopUntil(*client, [&] { return h.disconnects == 1; });
    REQUIRE(h.disconnects == 1);

    Recorder ph;
    std::unique_ptr<MqttClient> publisher = MakeClient(Options("eb-pub", broker.port()), &ph);
    REQUIRE(ConnectAndWait(*publisher, ph) == 0);
    REQUIRE(publisher->Publish(topic.c_str(), "kept", 4, 1, false, nullptr) == 0);
    REQUIRE(LoopUntil(*publisher, [&] { return ph.published == 1; }) == 0);

    // The broker sends a kept session's messages right after CONNACK, so they arrive before
    // a marker published after the new SUBACK.
    REQUIRE(client->ReconnectAsync().ok());
    REQUIRE(LoopUntil(*client, [&] { return h.connects == 2; }) == 0);
    REQUIRE(client->Subscribe("edgebench/marker", 1, nullptr) == 0);
    REQUIRE(LoopUntil(*client, [&] { return h.subscribed == 2; }) == 0);
    REQUIRE(publisher->Publish("edgebench/marker", "marker", 6, 1, false, nullptr) == 0);
    REQUIRE(LoopUntil(*publisher, [&] { return ph.published == 2; }) == 0);
    REQUIRE(LoopUntil(*client,
                      [&] { return !h.messages.empty() && h.messages.back() == "marker"; }) == 0);
    if (expiry_s > 0) {
      CHECK(h.messages == std::vector<std::string>{"kept", "marker"});
    } else {
      CHECK(h.messages == std::vector<std::string>{"marker"});
    }
    client->Disconnect();
    publisher->Disconnect();
  }
}

TEST_CASE("MQTT 5 CONNECT properties are sent on connect and on reconnect", "[tls]") {
  int port = 0;
  Fd listener = ListenLoopback(&port);
  Recorder h;
  MqttClientOptions o = Options("eb-wire", port);
  o.protocol = 5;
  o.session_expiry_s = 300;
  o.user_properties = {{"site", "lab"}};
  std::unique_ptr<MqttClient> client = MakeClient(o, &h);
  // Session expiry interval (0x11) = 300 s; user property (0x26) "site" = "lab".
  const std::string expiry("\x11\x00\x00\x01\x2c", 5);
  const std::string property("\x26\x00\x04site\x00\x03lab", 12);

  REQUIRE(client->ConnectAsync().ok());
  std::string first = ReadFirstPacket(*client, listener);
  REQUIRE(!first.empty());
  CHECK(first[0] == '\x10');  // CONNECT
  CHECK(Contains(first, expiry));
  CHECK(Contains(first, property));

  LoopUntil(*client, [&] { return client->socket() < 0; });
  REQUIRE(client->ReconnectAsync().ok());
  std::string second = ReadFirstPacket(*client, listener);
  CHECK(second == first);

  // MQTT 3.1.1 has no properties: the MQTT 5 options are ignored.
  Recorder h4;
  o.protocol = 4;
  std::unique_ptr<MqttClient> v4 = MakeClient(o, &h4);
  REQUIRE(v4->ConnectAsync().ok());
  std::string plain = ReadFirstPacket(*v4, listener);
  REQUIRE(!plain.empty());
  CHECK(!Contains(plain, "site"));
}

// The whole command against secured brokers: what a user pointing edgebench at a real
// broker sees.
namespace {

cli_support::CommandResult RunAgainst(const TempDir& dir, const std::string& broker_yaml,
                                      const std::string& name) {
  std::string yaml = "name: " + name + "\nbroker:\n  embedded: false\n" + broker_yaml +
                     "devices: {count: 5}\npublish: {rate: 20, qos: 1}\nduration_s: 1\n"
                     "drain_s: 2\n";
  WriteText(dir.File(name + ".yaml"), yaml);
  return cli_support::RunEdgebench(
      {"run", dir.File(name + ".yaml"), "--out", dir.File("results"), "--log-level", "off"},
      dir.File(""));
}

}  // namespace

TEST_CASE("edgebench run over mutual TLS with a password file", "[tls][integration]") {
  TempDir dir;
  Pki pki(dir);
  std::string passwords = dir.File("passwords");
  RunProgram({"mosquitto_passwd", "-c", "-b", passwords, "dev", "s3cret"},
             dir.File("mosquitto_passwd.log"));
  WriteText(dir.File("password.txt"), "s3cret\n");
  // Owner-only, as a password file should be (others' access would add a warning).
  ::chmod(dir.File("password.txt").c_str(), 0600);
  TestBroker broker(dir, "broker",
                    TlsSettings(pki, "server", true) + "password_file " + passwords +
                        "\nallow_anonymous false\n");
  std::string tls = "  port: " + std::to_string(broker.port()) +
                    "\n  tls:\n    ca_file: " + pki.Crt("ca") +
                    "\n    cert_file: " + pki.Crt("client") +
                    "\n    key_file: " + pki.Key("client") + "\n  username: dev\n";
  cli_support::CommandResult r =
      RunAgainst(dir, tls + "  password_file: " + dir.File("password.txt") + "\n", "secure");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json s = cli_support::SummaryOf(r.out);
  CHECK(s["messages"]["sent"] == 100);
  CHECK(s["messages"]["received"] == 100);
  if (s["network"]["capture"] == "ok") {  // as root: the capture sees TLS records only
    CHECK(s["network"]["tls"] == true);
    CHECK(s["network"]["mqtt_packets"].is_null());
    CHECK(s["network"]["bytes_to_broker"].get<uint64_t>() > 100 * 32);
  }
  // The password is in no file of the results.
  for (const auto& f : std::filesystem::directory_iterator(cli_support::LastLine(r.out))) {
    CHECK(cli_support::Slurp(f.path()).find("s3cret") == std::string::npos);
  }

  // A wrong password: exit 3 and the broker's answer.
  WriteText(dir.File("wrong.txt"), "guess\n");
  ::chmod(dir.File("wrong.txt").c_str(), 0600);
  r = RunAgainst(dir, tls + "  password_file: " + dir.File("wrong.txt") + "\n", "wrong");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "edgebench: error: the broker at 127.0.0.1:" + std::to_string(broker.port()) +
                     " refused the collector's connection: Connection Refused: not authorised.\n");
}

TEST_CASE("a whole-packet capture without TLS holds the password: owner-only, with a warning",
          "[tls][integration]") {
  TempDir dir;
  std::string passwords = dir.File("passwords");
  RunProgram({"mosquitto_passwd", "-c", "-b", passwords, "dev", "s3cret"},
             dir.File("mosquitto_passwd.log"));
  WriteText(dir.File("password.txt"), "s3cret\n");
  ::chmod(dir.File("password.txt").c_str(), 0600);
  TestBroker broker(dir, "broker", "password_file " + passwords + "\nallow_anonymous false\n");
  std::string yaml = "  port: " + std::to_string(broker.port()) + "\n  username: dev\n" +
                     "  password_file: " + dir.File("password.txt") + "\n" +
                     "capture: {snaplen: 0}\n";
  cli_support::CommandResult r = RunAgainst(dir, yaml, "clear");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "edgebench: warning: " + dir.File("clear.yaml") +
                     ": capture.snaplen keeps packet payloads of a connection without TLS, so "
                     "capture.pcap holds broker.username's password in clear; the results "
                     "directory is readable by its owner only\n");
  const std::string run_dir = cli_support::LastLine(r.out);
  struct stat st {};
  REQUIRE(::stat(run_dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  nlohmann::json s = cli_support::SummaryOf(r.out);
  if (s["network"]["capture"] != "ok") {
    WARN("skipped the check of capture.pcap: the capture is " << s["network"]["capture"]);
    return;
  }
  // What the warning says: the CONNECT packets carry the password in clear.
  CHECK(cli_support::Slurp(run_dir + "/capture.pcap").find("s3cret") != std::string::npos);

  // With the default snaplen (headers and 16 bytes) the directory is as usual.
  r = RunAgainst(dir,
                 "  port: " + std::to_string(broker.port()) + "\n  username: dev\n" +
                     "  password_file: " + dir.File("password.txt") + "\n",
                 "headers");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  REQUIRE(::stat(cli_support::LastLine(r.out).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) != 0700);
}

TEST_CASE("edgebench run with the wrong CA exits 3 and says why", "[tls][integration]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  cli_support::CommandResult r =
      RunAgainst(dir,
                 "  port: " + std::to_string(broker.port()) +
                     "\n  tls:\n    ca_file: " + pki.Crt("other-ca") + "\n",
                 "badca");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "edgebench: error: cannot connect to the broker at 127.0.0.1:" +
                     std::to_string(broker.port()) + ": TLS error: certificate verify failed\n");
}
}  // namespace edgebench
