// Test support for TLS: a throwaway PKI made with the openssl command, and a real mosquitto
// with given settings on a free loopback port. Used by the TLS tests of the devices' client
// (tests/run/tls_auth_test.cc) and of the collector (tests/measure/collector_tls_test.cc).
#ifndef EDGEBENCH_TESTS_TLS_SUPPORT_H_
#define EDGEBENCH_TESTS_TLS_SUPPORT_H_

#include <sys/stat.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"

#include "test_support.h"

namespace edgebench {
namespace testing {

// Runs argv to its end (output to `log`) and requires exit status 0.
inline void RunProgram(const std::vector<std::string>& argv, const std::string& log) {
  Result<ChildProcess> child = SpawnProgram(argv, log);
  INFO((child.ok() ? std::string() : child.error().message));
  REQUIRE(child.ok());
  std::optional<int> status = child->Wait(30000);  // the destructor kills it after a timeout
  INFO(argv[0] << " said: " << ReadText(log));
  REQUIRE(status);
  REQUIRE(DescribeWaitStatus(*status) == "exited with status 0");
}

// A test PKI made with the openssl command: a CA; a server certificate for localhost and
// 127.0.0.1 and a client certificate, both signed by it; an unrelated CA; and a server
// certificate from the CA for another host name. EC keys, so it takes milliseconds.
struct Pki {
  explicit Pki(const TempDir& dir) : dir_(dir) {
    NewCa("ca", "edgebench test CA");
    NewCa("other-ca", "unrelated CA");
    Issue("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", 2);
    Issue("client", "edgebench-client", "extendedKeyUsage=clientAuth", 3);
    Issue("elsewhere", "elsewhere.example", "subjectAltName=DNS:elsewhere.example", 4);
  }
  std::string Crt(const std::string& name) const { return dir_.File(name + ".crt"); }
  std::string Key(const std::string& name) const { return dir_.File(name + ".key"); }

 private:
  void NewCa(const std::string& name, const std::string& cn) {
    RunProgram(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", Key(name), "-out", Crt(name), "-days", "2", "-subj", "/CN=" + cn},
        dir_.File("openssl.log"));
  }
  void Issue(const std::string& name, const std::string& cn, const std::string& extension,
             int serial) {
    std::string csr = dir_.File(name + ".csr");
    std::string ext = dir_.File(name + ".ext");
    WriteText(ext, extension + "\n");
    RunProgram(
        {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", Key(name), "-out", csr, "-subj", "/CN=" + cn},
        dir_.File("openssl.log"));
    RunProgram(
        {"openssl", "x509", "-req", "-in", csr, "-CA", Crt("ca"), "-CAkey", Key("ca"),
         "-set_serial", std::to_string(serial), "-days", "2", "-out", Crt(name), "-extfile", ext},
        dir_.File("openssl.log"));
  }
  const TempDir& dir_;
};

// A mosquitto with `settings` below its loopback listener, run from its own directory
// dir/name through EmbeddedBroker, and stopped (and reaped) on destruction.
class TestBroker {
 public:
  TestBroker(const TempDir& dir, const std::string& name, const std::string& settings) {
    std::string run_dir = dir.File(name);
    REQUIRE(::mkdir(run_dir.c_str(), 0700) == 0);
    EmbeddedBrokerOptions options;
    options.config_template = run_dir + "/mosquitto.conf.in";
    options.run_dir = run_dir;
    WriteText(options.config_template,
              "listener @PORT@ 127.0.0.1\nuser @USER@\npersistence false\n"
              "log_dest stdout\nlog_type all\n" +
                  settings);
    Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
    INFO((broker.ok() ? std::string() : broker.error().message));
    REQUIRE(broker.ok());
    broker_.emplace(std::move(broker.value()));
  }
  ~TestBroker() {
    if (broker_) broker_->Stop();
  }
  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  int port() const { return broker_->port(); }

 private:
  std::optional<EmbeddedBroker> broker_;
};

inline std::string TlsSettings(const Pki& pki, const std::string& server,
                               bool require_certificate) {
  return "cafile " + pki.Crt("ca") + "\ncertfile " + pki.Crt(server) + "\nkeyfile " +
         pki.Key(server) + "\nrequire_certificate " + (require_certificate ? "true" : "false") +
         "\nallow_anonymous true\n";
}

}  // namespace testing
}  // namespace edgebench

#endif  // EDGEBENCH_TESTS_TLS_SUPPORT_H_
