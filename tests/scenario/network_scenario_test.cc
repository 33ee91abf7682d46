// Tests for the network: and subscribe: keys of src/scenario.cc and for LoadProfiles().
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"
#include "test_support.h"

#ifndef EDGEBENCH_SOURCE_DIR
#error "EDGEBENCH_SOURCE_DIR must name the project source directory"
#endif

namespace edgebench {
namespace {

using testing::TempDir;
using testing::WriteText;

const LinkProfile kCloudNear{15, 1.5, 0.01, 100, 100};
const LinkProfile kEdgeLan{0.3, 0.1, 0, 1000, 1000};
const LinkProfile kSlowSite{15, 1.5, 0.01, 5, 16};

// Three profiles, as if read from "p.yaml".
ExternalChecks Profiles() {
  ExternalChecks checks;
  checks.profiles_file = "p.yaml";
  checks.profiles = {{"cloud-near", kCloudNear}, {"edge-lan", kEdgeLan}, {"slow-site", kSlowSite}};
  return checks;
}

std::vector<Override> Overrides(const std::vector<std::string>& sets) {
  std::vector<Override> overrides;
  for (const std::string& set : sets) {
    Result<Override> o = ParseOverride(set);
    REQUIRE(o.ok());
    overrides.push_back(o.value());
  }
  return overrides;
}

// Parses `yaml` as "s.yaml" with the profiles above; fails the test when it does not parse.
Scenario Parse(std::string_view yaml, const std::vector<std::string>& sets = {},
               const ExternalChecks& checks = Profiles()) {
  Result<Scenario> s = ParseScenario(yaml, "s.yaml", Overrides(sets), checks);
  if (!s) FAIL(s.error().ToStringWithContext());
  return s.value();
}

// The whole error text (location, message and the source line with its caret), or "ok".
std::string ErrorOf(std::string_view yaml, const std::vector<std::string>& sets = {},
                    const ExternalChecks& checks = Profiles()) {
  Result<Scenario> s = ParseScenario(yaml, "s.yaml", Overrides(sets), checks);
  return s ? "ok" : s.error().ToStringWithContext();
}

TEST_CASE("network: a profile name takes the profile's values", "[network]") {
  Scenario s = Parse("name: x\nnetwork: cloud-near\n");
  CHECK(s.network.emulated);
  CHECK(s.network.profile == "cloud-near");
  CHECK(s.network.link == kCloudNear);
  CHECK(s.network.backend == LinkBackend::kAuto);
  CHECK_FALSE(s.subscribe.at_devices);

  Scenario in_map = Parse("name: x\nnetwork: {profile: edge-lan, backend: netem}\n");
  CHECK(in_map.network.emulated);
  CHECK(in_map.network.profile == "edge-lan");
  CHECK(in_map.network.link == kEdgeLan);
  CHECK(in_map.network.backend == LinkBackend::kNetem);
}

TEST_CASE("network: values given inline", "[network]") {
  Scenario s = Parse(
      "name: x\n"
      "network:\n"
      "  rtt_ms: 40\n"
      "  jitter_ms: 2.5\n"
      "  loss_pct: 0.5\n"
      "  uplink_mbit: 10\n"
      "  downlink_mbit: 20\n"
      "  backend: proxy\n");
  CHECK(s.network.emulated);
  CHECK(s.network.profile.empty());
  CHECK(s.network.link == LinkProfile{40, 2.5, 0.5, 10, 20});
  CHECK(s.network.backend == LinkBackend::kProxy);

  // What is not given is 0: no delay, no limit.
  Scenario rate_only = Parse("name: x\nnetwork: {uplink_mbit: 50, backend: auto}\n");
  CHECK(rate_only.network.emulated);
  CHECK(rate_only.network.link == LinkProfile{0, 0, 0, 50, 0});
  CHECK(rate_only.network.backend == LinkBackend::kAuto);
}

TEST_CASE("network: a profile with one value changed keeps the others", "[network]") {
  Scenario s = Parse("name: x\nnetwork: {profile: cloud-near, rtt_ms: 30}\n");
  CHECK(s.network.emulated);
  CHECK(s.network.profile == "cloud-near");
  LinkProfile expected = kCloudNear;
  expected.rtt_ms = 30;
  CHECK(s.network.link == expected);
  CHECK(s.network.backend == LinkBackend::kAuto);

  Scenario slower = Parse("name: x\nnetwork: {profile: slow-site, uplink_mbit: 2}\n");
  CHECK(slower.network.link == LinkProfile{15, 1.5, 0.01, 2, 16});
}

TEST_CASE("network: none, null and absent mean no emulation", "[network]") {
  for (const char* yaml : {"name: x\n", "name: x\nnetwork: none\n", "name: x\nnetwork:\n",
                           "name: x\nnetwork: ~\n"}) {
    INFO(yaml);
    Scenario s = Parse(yaml);
    CHECK_FALSE(s.network.emulated);
    CHECK(s.network == NetworkSpec{});
    CHECK(s.subscribe == SubscribeSpec{});
  }
  // No profiles loaded at all: `none` still needs none.
  CHECK_FALSE(Parse("name: x\nnetwork: none\n", {}, ExternalChecks{}).network.emulated);
}

TEST_CASE("network: an unknown profile names the file, a near miss and every profile",
          "[network]") {
  CHECK(ErrorOf("name: x\nnetwork: cloud-nera\n") ==
        "s.yaml:2:10: unknown network profile 'cloud-nera' (did you mean 'cloud-near'?); "
        "p.yaml has cloud-near, edge-lan, slow-site\n"
        "network: cloud-nera\n"
        "         ^");
  CHECK(ErrorOf("name: x\nnetwork: mars\n") ==
        "s.yaml:2:10: unknown network profile 'mars'; p.yaml has cloud-near, edge-lan, "
        "slow-site\n"
        "network: mars\n"
        "         ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  profile: edge-lam\n  backend: proxy\n") ==
        "s.yaml:3:12: unknown network profile 'edge-lam' (did you mean 'edge-lan'?); "
        "p.yaml has cloud-near, edge-lan, slow-site\n"
        "  profile: edge-lam\n"
        "           ^");
  // Without any profiles (a caller that loaded none), only inline values work.
  CHECK(ErrorOf("name: x\nnetwork: cloud-near\n", {}, ExternalChecks{}) ==
        "s.yaml:2:10: unknown network profile 'cloud-near'; no profiles were loaded\n"
        "network: cloud-near\n"
        "         ^");
  CHECK(ErrorOf("name: x\nnetwork: {profile: [a]}\n") ==
        "s.yaml:2:20: network.profile must be a profile name, got a list\n"
        "network: {profile: [a]}\n"
        "                   ^");
}

TEST_CASE("network: a bad backend, and netem without the embedded broker", "[network]") {
  CHECK(ErrorOf("name: x\nnetwork: {rtt_ms: 10, backend: tc}\n") ==
        "s.yaml:2:32: network.backend must be auto, netem or proxy, got 'tc'\n"
        "network: {rtt_ms: 10, backend: tc}\n"
        "                               ^");
  CHECK(ErrorOf("name: x\nbroker: {embedded: false}\n"
                "network: {profile: cloud-near, backend: netem}\n") ==
        "s.yaml:3:41: network.backend netem needs the embedded broker (the devices' namespace "
        "reaches only this host); use proxy for a remote broker\n"
        "network: {profile: cloud-near, backend: netem}\n"
        "                                        ^");
  // The proxy and auto work with any broker.
  Scenario remote = Parse("name: x\nbroker: {embedded: false, host: mqtt.example}\n"
                          "network: {profile: cloud-near, backend: proxy}\n");
  CHECK(remote.network.backend == LinkBackend::kProxy);
  CHECK(Parse("name: x\nbroker: {embedded: false}\nnetwork: cloud-near\n").network.backend ==
        LinkBackend::kAuto);
}

TEST_CASE("network: jitter must not exceed the round trip", "[network]") {
  CHECK(ErrorOf("name: x\nnetwork: {rtt_ms: 10, jitter_ms: 12}\n") ==
        "s.yaml:2:34: network.jitter_ms must be at most network.rtt_ms (10), got 12\n"
        "network: {rtt_ms: 10, jitter_ms: 12}\n"
        "                                 ^");
  // Against a profile's round trip...
  CHECK(ErrorOf("name: x\nnetwork: {profile: cloud-near, jitter_ms: 20}\n") ==
        "s.yaml:2:43: network.jitter_ms must be at most network.rtt_ms (15), got 20\n"
        "network: {profile: cloud-near, jitter_ms: 20}\n"
        "                                          ^");
  // ... and a round trip cut below the profile's jitter points at the round trip.
  CHECK(ErrorOf("name: x\nnetwork: {profile: cloud-near, rtt_ms: 1}\n") ==
        "s.yaml:2:40: network.jitter_ms must be at most network.rtt_ms (1), got 1.5\n"
        "network: {profile: cloud-near, rtt_ms: 1}\n"
        "                                       ^");
  CHECK(Parse("name: x\nnetwork: {rtt_ms: 10, jitter_ms: 10}\n").network.link.jitter_ms == 10);
}

TEST_CASE("network: values out of range or of the wrong type", "[network]") {
  CHECK(ErrorOf("name: x\nnetwork:\n  rtt_ms: -1\n") ==
        "s.yaml:3:11: network.rtt_ms must be at least 0, got -1\n  rtt_ms: -1\n          ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  rtt_ms: 10001\n") ==
        "s.yaml:3:11: network.rtt_ms must be at most 10000, got 10001\n"
        "  rtt_ms: 10001\n          ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  rtt_ms: 20\n  jitter_ms: -0.5\n") ==
        "s.yaml:4:14: network.jitter_ms must be at least 0, got -0.5\n"
        "  jitter_ms: -0.5\n             ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  loss_pct: 100\n") ==
        "s.yaml:3:13: network.loss_pct must be at most 99, got 100\n"
        "  loss_pct: 100\n            ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  uplink_mbit: 100001\n") ==
        "s.yaml:3:16: network.uplink_mbit must be at most 100000, got 100001\n"
        "  uplink_mbit: 100001\n               ^");
  CHECK(ErrorOf("name: x\nnetwork:\n  downlink_mbit: fast\n") ==
        "s.yaml:3:18: network.downlink_mbit must be a number, got 'fast'\n"
        "  downlink_mbit: fast\n                 ^");
  CHECK(ErrorOf("name: x\nnetwork: [cloud-near]\n") ==
        "s.yaml:2:10: network must be a map\nnetwork: [cloud-near]\n         ^");
  // The limits themselves are allowed.
  Scenario edge = Parse("name: x\nnetwork: {rtt_ms: 10000, jitter_ms: 0, loss_pct: 99, "
                        "uplink_mbit: 100000, downlink_mbit: 0}\n");
  CHECK(edge.network.link == LinkProfile{10000, 0, 99, 100000, 0});
}

TEST_CASE("network: unknown keys suggest the closest one", "[network]") {
  CHECK(ErrorOf("name: x\nnetwork:\n  rtt: 40\n") ==
        "s.yaml:3:3: unknown key 'rtt' in network (did you mean 'rtt_ms'?)\n  rtt: 40\n  ^");
  CHECK(ErrorOf("name: x\nnetwork: {profil: cloud-near}\n") ==
        "s.yaml:2:11: unknown key 'profil' in network (did you mean 'profile'?)\n"
        "network: {profil: cloud-near}\n"
        "          ^");
  CHECK(ErrorOf("name: x\nnetwork: {rtt_ms: 5, uplink: 10}\n") ==
        "s.yaml:2:22: unknown key 'uplink' in network (did you mean 'uplink_mbit'?)\n"
        "network: {rtt_ms: 5, uplink: 10}\n"
        "                     ^");
  // A profile's description belongs in profiles.yaml, not in a scenario.
  CHECK(ErrorOf("name: x\nnetwork: {zone: eu}\n") ==
        "s.yaml:2:11: unknown key 'zone' in network\nnetwork: {zone: eu}\n          ^");
  CHECK(ErrorOf("name: x\nnetwork: {description: far}\n") ==
        "s.yaml:2:11: unknown key 'description' in network\n"
        "network: {description: far}\n"
        "          ^");
}

TEST_CASE("subscribe.at: broker, devices, or an error", "[network]") {
  CHECK_FALSE(Parse("name: x\nsubscribe: {at: broker}\n").subscribe.at_devices);
  CHECK(Parse("name: x\nsubscribe:\n  at: devices\nnetwork: cloud-near\n").subscribe.at_devices);
  CHECK_FALSE(Parse("name: x\nsubscribe:\n").subscribe.at_devices);
  CHECK(ErrorOf("name: x\nsubscribe: {at: cloud}\n") ==
        "s.yaml:2:17: subscribe.at must be broker or devices, got 'cloud'\n"
        "subscribe: {at: cloud}\n"
        "                ^");
  CHECK(ErrorOf("name: x\nsubscribe: {at: [devices]}\n") ==
        "s.yaml:2:17: subscribe.at must be broker or devices, got a list\n"
        "subscribe: {at: [devices]}\n"
        "                ^");
  CHECK(ErrorOf("name: x\nsubscribe: {where: devices}\n") ==
        "s.yaml:2:13: unknown key 'where' in subscribe\n"
        "subscribe: {where: devices}\n"
        "            ^");
  CHECK(ErrorOf("name: x\nsubscribe: devices\n") ==
        "s.yaml:2:12: subscribe must be a map\nsubscribe: devices\n           ^");
}

TEST_CASE("overrides: --set network=... and network.*=... over a file", "[network]") {
  Scenario added = Parse("name: x\n", {"network=cloud-near"});
  CHECK(added.network.emulated);
  CHECK(added.network.profile == "cloud-near");
  CHECK(added.network.link == kCloudNear);

  Scenario off = Parse("name: x\nnetwork: cloud-near\n", {"network=none"});
  CHECK_FALSE(off.network.emulated);
  CHECK(off.network == NetworkSpec{});

  // A key below network: the profile named in the file stays.
  Scenario proxied = Parse("name: x\nnetwork: cloud-near\n", {"network.backend=proxy"});
  CHECK(proxied.network.emulated);
  CHECK(proxied.network.profile == "cloud-near");
  CHECK(proxied.network.link == kCloudNear);
  CHECK(proxied.network.backend == LinkBackend::kProxy);

  Scenario slower = Parse("name: x\nnetwork: cloud-near\n", {"network.rtt_ms=50"});
  CHECK(slower.network.profile == "cloud-near");
  CHECK(slower.network.link == LinkProfile{50, 1.5, 0.01, 100, 100});
  CHECK(slower.network.backend == LinkBackend::kAuto);

  Scenario swapped = Parse("name: x\nnetwork: {profile: cloud-near, backend: proxy}\n",
                           {"network.profile=edge-lan"});
  CHECK(swapped.network.profile == "edge-lan");
  CHECK(swapped.network.link == kEdgeLan);
  CHECK(swapped.network.backend == LinkBackend::kProxy);

  Scenario behind = Parse("name: x\nnetwork: cloud-near\n", {"subscribe.at=devices"});
  CHECK(behind.subscribe.at_devices);

  // Errors name the --set.
  CHECK(ErrorOf("name: x\n", {"network=mars"}) ==
        "--set network=mars: unknown network profile 'mars'; p.yaml has cloud-near, edge-lan, "
        "slow-site");
  CHECK(ErrorOf("name: x\nnetwork: cloud-near\n", {"network.backend=tc"}) ==
        "--set network.backend=tc: network.backend must be auto, netem or proxy, got 'tc'");
  CHECK(ErrorOf("name: x\nnetwork: cloud-near\n", {"network.rtt=5"}) ==
        "--set network.rtt=5: unknown key 'rtt' in network (did you mean 'rtt_ms'?)");
  CHECK(ErrorOf("name: x\n", {"subscribe.at=cloud"}) ==
        "--set subscribe.at=cloud: subscribe.at must be broker or devices, got 'cloud'");
}

TEST_CASE("ScenarioToYaml round-trips network and subscribe", "[network]") {
  for (const char* yaml :
       {"name: x\nnetwork: {profile: cloud-near, rtt_ms: 30, backend: proxy}\n"
        "subscribe: {at: devices}\n",
        "name: x\nnetwork: {rtt_ms: 0.3, jitter_ms: 0.1, loss_pct: 0.05, uplink_mbit: 2.5, "
        "downlink_mbit: 16, backend: netem}\n",
        "name: x\nnetwork: edge-lan\nsubscribe: {at: broker}\n",
        "name: x\nnetwork: none\n"}) {
    INFO(yaml);
    Scenario s = Parse(yaml);
    std::string dumped = ScenarioToYaml(s);
    INFO(dumped);
    Result<Scenario> back = ParseScenario(dumped, "s.yaml", {}, Profiles());
    if (!back) FAIL(back.error().ToStringWithContext());
    CHECK(back.value() == s);
  }
  Scenario s = Parse("name: x\nnetwork: {profile: cloud-near, rtt_ms: 30, backend: proxy}\n"
                     "subscribe: {at: devices}\n");
  CHECK(ScenarioToYaml(s).find("network:\n  profile: cloud-near\n  backend: proxy\n"
                               "  rtt_ms: 30\n  jitter_ms: 1.5\n  loss_pct: 0.01\n"
                               "  uplink_mbit: 100\n  downlink_mbit: 100\n"
                               "subscribe:\n  at: devices\n") != std::string::npos);
  CHECK(ScenarioToYaml(Parse("name: x\n")).find("network: none\nsubscribe:\n  at: broker\n") !=
        std::string::npos);
}

TEST_CASE("LinkBackendName", "[network]") {
  CHECK(LinkBackendName(LinkBackend::kAuto) == "auto");
  CHECK(LinkBackendName(LinkBackend::kNetem) == "netem");
  CHECK(LinkBackendName(LinkBackend::kProxy) == "proxy");
}

TEST_CASE("the shipped config/profiles.yaml has the six documented profiles", "[network]") {
  Result<std::map<std::string, LinkProfile>> p =
      LoadProfiles(std::string(EDGEBENCH_SOURCE_DIR) + "/config/profiles.yaml");
  if (!p) FAIL(p.error().ToStringWithContext());
  std::vector<std::string> names;
  for (const auto& [name, profile] : *p) names.push_back(name);
  CHECK(names == std::vector<std::string>{"cloud-far", "cloud-near", "cloud-public-5g",
                                          "constrained-site", "edge-5g-campus", "edge-lan"});
  struct Expected {
    const char* name;
    double rtt_ms, jitter_ms, loss_pct, uplink_mbit;
  };
  for (const Expected& e : {Expected{"edge-lan", 0.3, 0.1, 0, 1000},
                            Expected{"edge-5g-campus", 10, 2, 0.05, 100},
                            Expected{"cloud-near", 15, 1.5, 0.01, 100},
                            Expected{"cloud-far", 30, 3, 0.1, 50},
                            Expected{"cloud-public-5g", 45, 8, 0.3, 20},
                            Expected{"constrained-site", 15, 1.5, 0.01, 5}}) {
    INFO(e.name);
    REQUIRE(p->count(e.name) == 1);
    const LinkProfile& l = p->at(e.name);
    CHECK(l.rtt_ms == e.rtt_ms);
    CHECK(l.jitter_ms == e.jitter_ms);
    CHECK(l.loss_pct == e.loss_pct);
    CHECK(l.uplink_mbit == e.uplink_mbit);
    CHECK(l.downlink_mbit > 0);
    CHECK(l.jitter_ms <= l.rtt_ms);
  }
}

// LoadProfiles() on `text` written to a temporary file; the whole error text with the
// file's path shown as "P", or "ok".
std::string ProfilesErrorOf(std::string_view text) {
  TempDir dir;
  std::string path = dir.File("profiles.yaml");
  WriteText(path, text);
  Result<std::map<std::string, LinkProfile>> p = LoadProfiles(path);
  if (p) return "ok";
  std::string message = p.error().ToStringWithContext();
  if (message.starts_with(path)) message = "P" + message.substr(path.size());
  return message;
}

TEST_CASE("LoadProfiles reads names and values", "[network]") {
  TempDir dir;
  std::string path = dir.File("profiles.yaml");
  WriteText(path,
            "# two sites\n"
            "plant-7:\n"
            "  description: the plant's own line\n"
            "  rtt_ms: 12\n"
            "  jitter_ms: 3\n"
            "  loss_pct: 0.2\n"
            "  uplink_mbit: 8\n"
            "  downlink_mbit: 40\n"
            "lab_2.b: {rtt_ms: 1}\n");
  Result<std::map<std::string, LinkProfile>> p = LoadProfiles(path);
  if (!p) FAIL(p.error().ToStringWithContext());
  REQUIRE(p->size() == 2);
  CHECK(p->at("plant-7") == LinkProfile{12, 3, 0.2, 8, 40});
  CHECK(p->at("lab_2.b") == LinkProfile{1, 0, 0, 0, 0});

  // A scenario can then use them, and a typo lists them with the file's path.
  ExternalChecks checks;
  checks.profiles_file = path;
  checks.profiles = *p;
  Result<Scenario> s = ParseScenario("name: x\nnetwork: plant-7\n", "s.yaml", {}, checks);
  REQUIRE(s.ok());
  CHECK(s->network.link == LinkProfile{12, 3, 0.2, 8, 40});
  Result<Scenario> typo = ParseScenario("name: x\nnetwork: plant-8\n", "s.yaml", {}, checks);
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().ToString() == "s.yaml:2:10: unknown network profile 'plant-8' (did you "
                                   "mean 'plant-7'?); " + path + " has lab_2.b, plant-7");
}

TEST_CASE("LoadProfiles errors say where and what", "[network]") {
  CHECK(ProfilesErrorOf("fast:\n  rtt_ms: 1\n  jiter_ms: 0.5\n") ==
        "P:3:3: unknown key 'jiter_ms' in fast (did you mean 'jitter_ms'?)\n"
        "  jiter_ms: 0.5\n  ^");
  CHECK(ProfilesErrorOf("fast:\n  rtt_ms: 1\n  backend: proxy\n") ==
        "P:3:3: unknown key 'backend' in fast\n  backend: proxy\n  ^");
  CHECK(ProfilesErrorOf("edge-lan:\n  rtt_ms: 1\nCloud-Near:\n  rtt_ms: 15\n") ==
        "P:3:1: profile names must be lower-case letters, digits, '-', '_' and '.' (and not "
        "'none'), got 'Cloud-Near'\nCloud-Near:\n^");
  CHECK(ProfilesErrorOf("none:\n  rtt_ms: 1\n") ==
        "P:1:1: profile names must be lower-case letters, digits, '-', '_' and '.' (and not "
        "'none'), got 'none'\nnone:\n^");
  CHECK(ProfilesErrorOf("cloud near:\n  rtt_ms: 1\n") ==
        "P:1:1: profile names must be lower-case letters, digits, '-', '_' and '.' (and not "
        "'none'), got 'cloud near'\ncloud near:\n^");
  CHECK(ProfilesErrorOf("lan:\n  rtt_ms: 1\n  jitter_ms: 2\n") ==
        "P:1:1: lan.jitter_ms must be at most its rtt_ms\nlan:\n^");
  CHECK(ProfilesErrorOf("lan:\n  loss_pct: 100\n") ==
        "P:2:13: lan.loss_pct must be at most 99, got 100\n  loss_pct: 100\n            ^");
  CHECK(ProfilesErrorOf("lan:\n  rtt_ms: slow\n") ==
        "P:2:11: lan.rtt_ms must be a number, got 'slow'\n  rtt_ms: slow\n          ^");
  CHECK(ProfilesErrorOf("lan: 5\n") == "P:1:6: lan must be a map\nlan: 5\n     ^");
  CHECK(ProfilesErrorOf("- lan\n") ==
        "P:1:1: a profiles file must be a YAML map of profile names\n- lan\n^");
  CHECK(ProfilesErrorOf("lan: {rtt_ms: 1\n") ==
        "P:2:1: YAML syntax error: end of map flow not found");
  CHECK(ProfilesErrorOf("lan:\n  rtt_ms: 1\nlan:\n  rtt_ms: 2\n") ==
        "P:3:1: duplicate profile 'lan'\nlan:\n^");

  Result<std::map<std::string, LinkProfile>> missing = LoadProfiles("/nonexistent/profiles.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToStringWithContext() ==
        "/nonexistent/profiles.yaml: cannot read file: No such file or directory");
}

}  // namespace
}  // namespace edgebench
