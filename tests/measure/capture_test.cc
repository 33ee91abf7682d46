// Packet capture, end to end: real runs on lo, the pcap file read back with libpcap, and the
// error paths (bad filter, bad interface, no capture permission).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pcap/pcap.h>

#include "cli_support.h"
#include "edgebench/measure/packet_capture.h"

namespace {

using namespace cli_support;

// Runs `command` through /bin/sh, so tests can wrap edgebench in capsh.
CommandResult Shell(const std::string& command, const fs::path& dir) {
  return RunCommand({"/bin/sh", "-c", command}, dir);
}

std::string Edgebench() { return std::string(EDGEBENCH_BINARY); }

// Bytes 16..19 of a pcap file's global header, little-endian: the snap length, the most
// bytes any packet in the file holds. Also checks the magic of a nanosecond, little-endian
// file (0xa1b23c4d). 0 when the file cannot be read.
uint32_t PcapHeaderSnaplen(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char h[24] = {};
  if (!in.read(reinterpret_cast<char*>(h), sizeof h)) return 0;
  if (!(h[0] == 0x4d && h[1] == 0x3c && h[2] == 0xb2 && h[3] == 0xa1)) return 0;
  return uint32_t{h[16]} | uint32_t{h[17]} << 8 | uint32_t{h[18]} << 16 | uint32_t{h[19]} << 24;
}

// The largest caplen of the packets in a pcap file, and how many there are.
std::pair<uint64_t, uint64_t> LargestStored(const fs::path& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) return {0, 0};
  uint64_t largest = 0, packets = 0;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) {
    largest = std::max<uint64_t>(largest, h->caplen);
    ++packets;
  }
  pcap_close(p);
  return {largest, packets};
}

// 20 devices x 50 messages at QoS 1: rate 25/s for 2 s, no warm-up.
constexpr const char* kKnownRun =
    "name: known\n"
    "devices:\n  count: 20\n"
    "topics: [sensor1]\n"
    "publish:\n  rate: 25\n  qos: 1\n  payload:\n    size: 48\n"
    "duration_s: 2\nwarmup_s: 0\ndrain_s: 2\n";

}  // namespace

TEST_CASE("capture counts every MQTT packet of a run of known size", "[capture][integration]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("known.yaml", kKnownRun);
  CommandResult r = Shell(Edgebench() + " run " + scenario.string() + " --out " +
                        (tmp.path / "results").string(), tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path dir = LastLine(r.out);
  nlohmann::json s = nlohmann::json::parse(Slurp(dir / "summary.json"));
  const nlohmann::json& n = s["network"];
  REQUIRE(n["capture"] == "ok");
  CHECK(n["interface"] == "lo");
  const uint64_t sent = s["messages"]["sent"];
  REQUIRE(sent == 1000);
  CHECK(n["mqtt_packets"]["to_broker"]["PUBLISH"] == sent);
  CHECK(n["mqtt_packets"]["from_broker"]["PUBACK"] == s["messages"]["acked"]);
  // The broker delivers each message to the collector, which acknowledges it.
  CHECK(n["mqtt_packets"]["from_broker"]["PUBLISH"] == s["messages"]["received"]);
  CHECK(n["mqtt_packets"]["to_broker"]["PUBACK"] == s["messages"]["received"]);
  CHECK(n["mqtt_packets"]["to_broker"]["CONNECT"] == 21);  // 20 devices and the collector
  CHECK(n["mqtt_packets"]["from_broker"]["CONNACK"] == 21);
  CHECK(n["dropped"] == 0);
  CHECK(n["mqtt_malformed"] == 0);
  CHECK(n["unparsed_streams"] == 0);

  // A QoS 1 PUBLISH to "sensor1" with 48 bytes: 1 + 1 (fixed header) + 2 + 7 (topic)
  // + 2 (packet id) + 48 = 61 bytes of MQTT, plus at least 40 of TCP/IP when alone.
  const uint64_t to_bytes = n["bytes_to_broker"];
  const uint64_t payload_to = n["tcp_payload_bytes_to_broker"];
  CHECK(payload_to >= sent * 61);
  CHECK(to_bytes >= payload_to + 40 * n["packets_to_broker"].get<uint64_t>());
  double per_message = n["wire_bytes_per_message"];
  CHECK(per_message > 2 * 61);   // the PUBLISH in and out at least
  CHECK(per_message < 1500);     // a handful of small segments, not a runaway count

  // Read the file back with libpcap: same packets, same bytes.
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision((dir / "capture.pcap").c_str(),
                                                      PCAP_TSTAMP_PRECISION_NANO, err);
  REQUIRE(p != nullptr);
  REQUIRE(pcap_datalink(p) == DLT_EN10MB);
  uint64_t packets = 0, ip_bytes = 0, max_stored = 0;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++packets;
    ip_bytes += h->len - 14;  // minus the Ethernet header lo carries
    max_stored = std::max<uint64_t>(max_stored, h->caplen);
  }
  pcap_close(p);
  CHECK(packets == n["packets_to_broker"].get<uint64_t>() + n["packets_from_broker"].get<uint64_t>());
  CHECK(packets == n["packets_seen"].get<uint64_t>());
  CHECK(ip_bytes == to_bytes + n["bytes_from_broker"].get<uint64_t>());
  // snaplen auto: Ethernet 14 + IP 20 + TCP with options 32 + 16 bytes of TCP payload.
  CHECK(max_stored <= 14 + 60 + 60 + 16);
  // The header states the most auto can store: SLL2 20 + IPv4 60 + TCP 60 + 16.
  CHECK(PcapHeaderSnaplen(dir / "capture.pcap") == 156);

  std::string timeline = Slurp(dir / "timeline.csv");
  CHECK(timeline.find(",bytes_to_broker,bytes_from_broker,wall_time\n") != std::string::npos);
}

TEST_CASE("capture.snaplen 0 stores whole packets; enabled false captures nothing",
          "[capture][integration]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("known.yaml", kKnownRun);
  CommandResult r = Shell(Edgebench() + " run " + scenario.string() + " --set capture.snaplen=0 --set duration_s=1 --out " +
                        (tmp.path / "results").string(), tmp.path);
  REQUIRE(r.exit_code == 0);
  fs::path dir = LastLine(r.out);
  nlohmann::json n = nlohmann::json::parse(Slurp(dir / "summary.json"))["network"];
  // Whole Ethernet frames: the stored bytes are the IP bytes plus 14 per packet.
  CHECK(n["pcap_bytes"].get<uint64_t>() ==
        n["bytes_to_broker"].get<uint64_t>() + n["bytes_from_broker"].get<uint64_t>() +
            14 * n["packets_seen"].get<uint64_t>());
  CHECK(PcapHeaderSnaplen(dir / "capture.pcap") == 262144);  // libpcap's whole-packet maximum

  r = Shell(Edgebench() + " run " + scenario.string() + " --set capture.enabled=false --set duration_s=1 --out " +
                (tmp.path / "results").string(), tmp.path);
  REQUIRE(r.exit_code == 0);
  dir = LastLine(r.out);
  n = nlohmann::json::parse(Slurp(dir / "summary.json"))["network"];
  CHECK(n == nlohmann::json{{"capture", "disabled"}, {"reason", "capture.enabled is false"}});
  CHECK_FALSE(fs::exists(dir / "capture.pcap"));
}

TEST_CASE("a bad capture filter or interface exits 2 before anything starts", "[capture]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("bad.yaml", "name: bad\ncapture:\n  filter: \"tcp port\"\n");
  fs::path out = tmp.path / "results";
  CommandResult r = Shell(Edgebench() + " run " + scenario.string() + " --out " + out.string(), tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + scenario.string() +
                     ":3:11: capture.filter is not a valid BPF filter: can't parse filter expression: syntax error\n"
                     "  filter: \"tcp port\"\n          ^\n");
  CHECK_FALSE(fs::exists(out));

  scenario = tmp.Write("iface.yaml", "name: bad\ncapture:\n  interface: nosuch0\n");
  r = Shell(Edgebench() + " validate " + scenario.string(), tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("edgebench: error: " + scenario.string() +
                        ":3:14: capture.interface 'nosuch0' does not exist (capture devices: ",
                    0) == 0);
}

TEST_CASE("without the right to capture, a run goes on or stops as capture.required says",
          "[capture][integration]") {
  if (::geteuid() != 0) {
    // Dropping a capability needs one to drop; an unprivileged run cannot capture anyway.
    WARN("not root: the no-permission path is covered by the default run below");
  }
  TempDir tmp;
  fs::path scenario = tmp.Write("known.yaml", kKnownRun);
  std::string drop = ::geteuid() == 0 ? "capsh --drop=cap_net_raw -- -c '" : "sh -c '";
  CommandResult r = Shell(drop + Edgebench() + " run " + scenario.string() +
                        " --set duration_s=1 --log-level warn --out " + (tmp.path / "results").string() + "'",
                    tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json s = nlohmann::json::parse(Slurp(fs::path(LastLine(r.out)) / "summary.json"));
  CHECK(s["status"] == "ok");
  CHECK(s["network"]["capture"] == "unavailable");
  // The advice names this very binary, so it works as shown (no $(command -v edgebench),
  // which is empty when edgebench is not on PATH).
  const std::string setcap = "sudo setcap cap_net_raw,cap_net_admin+eip " +
                             fs::canonical(Edgebench()).string();
  const std::string reason = s["network"]["reason"];
  if (::geteuid() == 0) {
    CHECK(reason == "no permission to capture packets on lo (socket: Operation not permitted); "
                    "run as root, or grant the capability once: " + setcap);
  } else {
    CHECK(reason.rfind("no permission to capture packets on lo (", 0) == 0);
    CHECK(reason.ends_with("); run as root, or grant the capability once: " + setcap));
  }
  // One warning line, and the run's numbers are all there.
  CHECK(r.err.find("running without packet capture: no permission") != std::string::npos);
  CHECK(s["messages"]["received"] == s["messages"]["sent"]);

  r = Shell(drop + Edgebench() + " run " + scenario.string() +
                " --set capture.required=true --log-level off --out " + (tmp.path / "results2").string() + "'",
            tmp.path);
  CHECK(r.exit_code == 3);
  if (::geteuid() == 0) {
    CHECK(r.err == "edgebench: error: no permission to capture packets on lo (socket: Operation "
                   "not permitted); run as root, or grant the capability once: " + setcap + "\n");
  } else {
    CHECK(r.err.rfind("edgebench: error: no permission to capture packets on lo (", 0) == 0);
  }
  nlohmann::json failed = nlohmann::json::parse(Slurp(fs::path(LastLine(r.out)) / "summary.json"));
  CHECK(failed["status"] == "failed");
  CHECK(failed["messages"]["sent"] == 0);  // stopped before the load
}

TEST_CASE("capture.snaplen N: the pcap header says N and no packet holds more",
          "[capture][integration]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("known.yaml", kKnownRun);
  CommandResult r = Shell(Edgebench() + " run " + scenario.string() +
                              " --set capture.snaplen=70 --set duration_s=1 --out " +
                              (tmp.path / "results").string(), tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path dir = LastLine(r.out);
  nlohmann::json n = nlohmann::json::parse(Slurp(dir / "summary.json"))["network"];
  REQUIRE(n["capture"] == "ok");
  CHECK(PcapHeaderSnaplen(dir / "capture.pcap") == 70);
  auto [largest, packets] = LargestStored(dir / "capture.pcap");
  CHECK(packets == n["packets_seen"].get<uint64_t>());
  CHECK(largest == 70);  // a PUBLISH of 48 bytes is longer than 70 bytes on the wire
}

// A capture opened directly: its report says which buffer and snaplen it set, and the file
// header agrees. Needs the right to capture (root in CI).
TEST_CASE("CaptureReport states the buffer size and snaplen set", "[capture][integration]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot open a capture here");
    return;
  }
  TempDir tmp;
  edgebench::CaptureOptions o;
  o.spec.interface = "lo";
  o.spec.snaplen = 100;
  o.spec.buffer_mb = 3;
  o.broker_host = "127.0.0.1";
  o.broker_port = 1;  // the default filter matches nothing here; the header is written anyway
  o.pcap_path = (tmp.path / "capture.pcap").string();
  edgebench::CaptureFailure failure = edgebench::CaptureFailure::kOther;
  auto capture = edgebench::PacketCapture::Open(o, &failure);
  REQUIRE(capture.ok());
  CHECK(failure == edgebench::CaptureFailure::kNone);
  (*capture)->Start();
  (*capture)->Stop();
  edgebench::CaptureReport report = (*capture)->TakeReport();
  CHECK(report.buffer_bytes == 3u * 1024 * 1024);
  CHECK(report.snaplen == 100);
  CHECK(report.interface == "lo");
  CHECK(PcapHeaderSnaplen(o.pcap_path) == 100);

  o.spec.snaplen = -1;  // auto
  o.pcap_path = (tmp.path / "auto.pcap").string();
  auto automatic = edgebench::PacketCapture::Open(o, &failure);
  REQUIRE(automatic.ok());
  (*automatic)->Start();
  (*automatic)->Stop();
  report = (*automatic)->TakeReport();
  CHECK(report.snaplen == 156);
  CHECK(report.buffer_bytes == 3u * 1024 * 1024);
  CHECK(PcapHeaderSnaplen(o.pcap_path) == 156);
}

TEST_CASE("capture helpers: filter check, default filter, interface of a route", "[capture]") {
  CHECK(edgebench::CheckCaptureFilter("tcp port 1883").empty());
  CHECK(edgebench::CheckCaptureFilter("tcp port") ==
        "capture.filter is not a valid BPF filter: can't parse filter expression: syntax error");
  CHECK(edgebench::CheckCaptureInterface("auto").empty());
  CHECK(edgebench::CheckCaptureInterface("lo").empty());
  CHECK(*edgebench::DefaultCaptureFilter("127.0.0.1", 1883) == "tcp and host 127.0.0.1 and port 1883");
  CHECK(*edgebench::InterfaceForHost("127.0.0.1") == "lo");
  CHECK(*edgebench::InterfaceForHost("127.3.4.5") == "lo");
  edgebench::Result<std::string> bad = edgebench::InterfaceForHost("no-such-host.invalid");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind("cannot resolve broker host 'no-such-host.invalid': ", 0) == 0);
}
