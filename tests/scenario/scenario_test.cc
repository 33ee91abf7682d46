// Tests for src/scenario.cc: defaults, every error message, overrides, the YAML dump and topics.
#include "edgebench/scenario/scenario.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#ifndef EDGEBENCH_SOURCE_DIR
#error "EDGEBENCH_SOURCE_DIR must name the project source directory"
#endif

namespace edgebench {
namespace {

// Parses `yaml` as "t.yaml" with the given --set texts; returns the whole error text,
// or "ok" when the scenario is valid.
std::string ErrorOf(std::string_view yaml, const std::vector<std::string>& sets = {}) {
  std::vector<Override> overrides;
  for (const std::string& set : sets) {
    Result<Override> o = ParseOverride(set);
    if (!o) return o.error().ToString();
    overrides.push_back(o.value());
  }
  Result<Scenario> s = ParseScenario(yaml, "t.yaml", overrides);
  return s ? "ok" : s.error().ToString();
}

Error ErrorValue(std::string_view yaml) {
  Result<Scenario> s = ParseScenario(yaml, "t.yaml");
  REQUIRE_FALSE(s.ok());
  return s.error();
}

Scenario Parse(std::string_view yaml, const std::vector<std::string>& sets = {}) {
  std::vector<Override> overrides;
  for (const std::string& set : sets) {
    Result<Override> o = ParseOverride(set);
    REQUIRE(o.ok());
    overrides.push_back(o.value());
  }
  Result<Scenario> s = ParseScenario(yaml, "t.yaml", overrides);
  if (!s) FAIL(s.error().ToStringWithContext());
  return s.value();
}

TEST_CASE("a scenario with only a name gets every default", "[scenario]") {
  Scenario s = Parse("name: minimal\n");
  Scenario expected;
  expected.source_file = "t.yaml";
  expected.name = "minimal";
  CHECK(s == expected);
  CHECK(s.broker.embedded);
  CHECK(s.broker.host == "127.0.0.1");
  CHECK(s.broker.port == 1883);
  CHECK(s.broker.protocol == 4);
  CHECK(s.broker.keepalive_s == 60);
  CHECK(s.broker.clean_session);
  CHECK(s.broker.connect_timeout_s == 5.0);
  CHECK(s.devices.count == 1);
  CHECK(s.topics.list == std::vector<std::string>{"edgebench/{device}"});
  CHECK(s.publish.rate == 1.0);
  CHECK(s.publish.qos == 0);
  CHECK_FALSE(s.publish.retain);
  CHECK(s.publish.payload.size == 64);
  CHECK(s.publish.payload.kind == PayloadKind::kDigits);
  CHECK(s.duration_s == 10.0);
  CHECK(s.warmup_s == 0.0);
  CHECK(s.drain_s == 2.0);
  CHECK(s.latency);
  CHECK(s.sample.interval_ms == 100);
  CHECK(s.seed == 1);
}

TEST_CASE("every key is read", "[scenario]") {
  Scenario s = Parse(R"(
name: full-1.0_x
description: "free text"
broker: {embedded: false, host: mqtt.local, port: 8883, protocol: 5, keepalive_s: 30,
         clean_session: false, connect_timeout_s: 2.5}
devices: {count: 250}
topics: ["a/{device}/t{index}", b]
publish: {rate: 0.5, qos: 2, retain: true, payload: {size: 1000, kind: json}}
duration_s: 60
warmup_s: 1.5
drain_s: 0
latency: true
sample: {interval_ms: 250}
seed: 18446744073709551615
)");
  CHECK(s.name == "full-1.0_x");
  CHECK(s.description == "free text");
  CHECK_FALSE(s.broker.embedded);
  CHECK(s.broker.host == "mqtt.local");
  CHECK(s.broker.port == 8883);
  CHECK(s.broker.protocol == 5);
  CHECK(s.broker.keepalive_s == 30);
  CHECK_FALSE(s.broker.clean_session);
  CHECK(s.broker.connect_timeout_s == 2.5);
  CHECK(s.devices.count == 250);
  CHECK(s.topics.list == std::vector<std::string>{"a/{device}/t1", "b"});
  CHECK(s.publish.rate == 0.5);
  CHECK(s.publish.qos == 2);
  CHECK(s.publish.retain);
  CHECK(s.publish.payload.size == 1000);
  CHECK(s.publish.payload.kind == PayloadKind::kJson);
  CHECK(s.duration_s == 60.0);
  CHECK(s.warmup_s == 1.5);
  CHECK(s.drain_s == 0.0);
  CHECK(s.sample.interval_ms == 250);
  CHECK(s.seed == 18446744073709551615ULL);
}

TEST_CASE("protocol spellings", "[scenario]") {
  CHECK(Parse("name: p\nbroker: {protocol: \"3.1.1\"}").broker.protocol == 4);
  CHECK(Parse("name: p\nbroker: {protocol: 3.1.1}").broker.protocol == 4);
  CHECK(Parse("name: p\nbroker: {protocol: 5}").broker.protocol == 5);
  CHECK(Parse("name: p\nbroker: {protocol: \"5\"}").broker.protocol == 5);
  CHECK(Parse("name: p\nbroker: {protocol: 5.0}").broker.protocol == 5);
  CHECK(ErrorOf("name: p\nbroker: {protocol: 4}") ==
        "t.yaml:2:20: broker.protocol must be 3.1.1 or 5, got '4'");
}

TEST_CASE("an empty section means its defaults", "[scenario]") {
  Scenario s = Parse("name: e\nbroker:\npublish:\n");
  CHECK(s.broker == BrokerSpec{});
  CHECK(s.publish == PublishSpec{});
}

TEST_CASE("missing file", "[scenario]") {
  Result<Scenario> s = LoadScenario("/nonexistent/x.yaml");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().ToString() == "/nonexistent/x.yaml: cannot read file: No such file or directory");
  CHECK(s.error().context.empty());
}

TEST_CASE("YAML syntax errors keep yaml-cpp's message and mark", "[scenario]") {
  CHECK(ErrorOf("name: x\npublish: [1, 2\n") ==
        "t.yaml:3:1: YAML syntax error: end of sequence flow not found");
  Error e = ErrorValue("name: x\n  qos: 1\n");
  CHECK(e.ToString() == "t.yaml:2:6: YAML syntax error: illegal map value");
  CHECK(e.context == "  qos: 1\n     ^");
}

TEST_CASE("the top level must be a map", "[scenario]") {
  CHECK(ErrorOf("- a\n- b\n") == "t.yaml:1:1: a scenario must be a YAML map of keys");
  CHECK(ErrorOf("") == "t.yaml:1:1: a scenario must be a YAML map of keys");
  CHECK(ErrorOf("just text") == "t.yaml:1:1: a scenario must be a YAML map of keys");
}

TEST_CASE("unknown keys suggest the closest known key", "[scenario]") {
  Error e = ErrorValue("name: x\npublish:\n  qso: 1\n");
  CHECK(e.ToString() == "t.yaml:3:3: unknown key 'qso' in publish (did you mean 'qos'?)");
  CHECK(e.context == "  qso: 1\n  ^");
  CHECK(ErrorOf("name: x\ndurations: 5\n") ==
        "t.yaml:2:1: unknown key 'durations' (did you mean 'duration_s'?)");
  CHECK(ErrorOf("name: x\npublish: {foo: 1}") == "t.yaml:2:11: unknown key 'foo' in publish");
  CHECK(ErrorOf("name: x\nsample: {interval: 5}") ==
        "t.yaml:2:10: unknown key 'interval' in sample (did you mean 'interval_ms'?)");
  CHECK(ErrorOf("name: x\npublish: {QoS: 1}") ==
        "t.yaml:2:11: unknown key 'QoS' in publish (did you mean 'qos'?)");
  CHECK(ErrorOf("name: x\npublish: {payload: {sise: 1}}") ==
        "t.yaml:2:21: unknown key 'sise' in publish.payload (did you mean 'size'?)");
}

TEST_CASE("duplicate keys", "[scenario]") {
  CHECK(ErrorOf("name: x\npublish:\n  rate: 2\n  qos: 1\n  qos: 2\n") ==
        "t.yaml:5:3: duplicate key 'qos' in publish (first at line 4)");
  CHECK(ErrorOf("name: x\nname: y\n") == "t.yaml:2:1: duplicate key 'name' (first at line 1)");
}

TEST_CASE("missing required keys", "[scenario]") {
  Error e = ErrorValue("# no name\ndevices: {count: 3}\n");
  CHECK(e.ToString() == "t.yaml:1:1: missing required key 'name'");
  CHECK(e.context == "# no name\n^");
  CHECK(ErrorOf("name: x\ntopics: {count: 3}") ==
        "t.yaml:2:9: missing required key 'pattern' in topics");
}

TEST_CASE("reserved keys are not supported yet", "[scenario]") {
  CHECK(ErrorOf("name: x\nagent: {}") == "t.yaml:2:1: key 'agent' is not supported yet");
  CHECK(ErrorOf("name: x\nshard: 2") == "t.yaml:2:1: key 'shard' is not supported yet");
  CHECK(ErrorOf("name: x\nmatrix: []") ==
        "t.yaml:2:9: this file has a matrix: read it as a set of cells");
}

TEST_CASE("fleet keys: gateways, connect_rate, arrival, rate max, count, workers", "[scenario]") {
  Scenario s = Parse(
      "name: x\ndevices: {count: 10, gateways: 2, connect_rate: 50}\n"
      "publish: {rate: max, arrival: poisson, max_inflight: 5, count: 100}\n"
      "workers: 2\n");
  CHECK(s.devices.gateways == 2);
  CHECK(s.devices.connect_rate == 50);
  CHECK(s.publish.rate_max);
  CHECK(s.publish.arrival == Arrival::kPoisson);
  CHECK(s.publish.max_inflight == 5);
  CHECK(s.publish.count == 100);
  CHECK(s.workers == 2);
  CHECK(Parse("name: x\nworkers: auto\n").workers == 0);
  CHECK(ErrorOf("name: x\ndevices: {gateways: 4}") ==
        "t.yaml:2:21: devices.gateways must be at most 1, got 4");
  CHECK(ErrorOf("name: x\nworkers: 3\n") ==
        "t.yaml:2:10: workers must be at most devices.count (1), got 3");
  CHECK(ErrorOf("name: x\npublish: {arrival: bursty}") ==
        "t.yaml:2:20: publish.arrival must be constant or poisson, got 'bursty'");
  CHECK(ErrorOf("name: x\npublish: {max_inflight: 0}") ==
        "t.yaml:2:25: publish.max_inflight must be at least 1, got 0");
  CHECK(ErrorOf("name: x\npublish: {rate: fast}") ==
        "t.yaml:2:17: publish.rate must be a number, got 'fast'");
}

TEST_CASE("TLS and credentials keys", "[scenario]") {
  CHECK(ErrorOf("name: x\nbroker:\n  tls: true\n") == "t.yaml:3:8: broker.tls must be a map");
  CHECK(ErrorOf("name: x\nbroker:\n  tls: {insecure: true}\n") ==
        "t.yaml:3:8: missing required key 'ca_file' in broker.tls");
  CHECK(ErrorOf("name: x\nbroker:\n  tls: {ca_file: /nonexistent/ca.pem}\n") ==
        "t.yaml:3:18: broker.tls.ca_file: cannot read '/nonexistent/ca.pem': No such file or "
        "directory");
  CHECK(ErrorOf("name: x\nbroker:\n  tls: {ca_file: /etc/hostname, cert_file: /etc/hostname}\n") ==
        "t.yaml:3:44: broker.tls.cert_file and broker.tls.key_file go together (mutual TLS)");
  Scenario tls = Parse("name: x\nbroker:\n  tls: {ca_file: /etc/hostname, insecure: true}\n");
  CHECK(tls.broker.tls.enabled);
  CHECK(tls.broker.tls.ca_file == "/etc/hostname");
  CHECK(tls.broker.tls.insecure);
  CHECK(ErrorOf("name: x\nbroker: {username: u, password: hunter2}") ==
        "t.yaml:2:33: broker.password is not accepted: put the password in an environment "
        "variable (broker.password_env) or a file (broker.password_file), so that it never "
        "stands in a scenario or its results");
  CHECK(ErrorOf("name: x\nbroker: {password_env: X}") ==
        "t.yaml:2:24: a password needs broker.username");
  CHECK(ErrorOf("name: x\nbroker: {username: u, password_env: EDGEBENCH_TEST_UNSET_VARIABLE}") ==
        "t.yaml:2:37: broker.password_env: environment variable 'EDGEBENCH_TEST_UNSET_VARIABLE' "
        "is not set");
  CHECK(ErrorOf("name: x\nbroker: {session_expiry_s: 60}") ==
        "t.yaml:2:28: broker.session_expiry_s needs broker.protocol: 5");
  Scenario v5 = Parse(
      "name: x\nbroker: {protocol: 5, session_expiry_s: 60, "
      "user_properties: {site: plant-7}}");
  CHECK(v5.broker.session_expiry_s == 60);
  REQUIRE(v5.broker.user_properties.size() == 1);
  CHECK(v5.broker.user_properties[0] == UserProperty{"site", "plant-7"});
  // The resolved scenario round-trips and names no secret.
  CHECK(Parse(ScenarioToYaml(v5)) == v5);
}

TEST_CASE("wrong types", "[scenario]") {
  Error e = ErrorValue("name: x\npublish:\n  qos: high\n");
  CHECK(e.ToString() == "t.yaml:3:8: publish.qos must be an integer, got 'high'");
  CHECK(e.context == "  qos: high\n       ^");
  CHECK(ErrorOf("name: x\npublish: {qos: 1.0}") ==
        "t.yaml:2:16: publish.qos must be an integer, got '1.0'");
  CHECK(ErrorOf("name: x\npublish: {qos: [1]}") ==
        "t.yaml:2:16: publish.qos must be an integer, got a list");
  CHECK(ErrorOf("name: x\npublish:\n  qos:\n  rate: 1\n") ==
        "t.yaml:3:3: publish.qos must be an integer, got nothing");
  CHECK(ErrorOf("name: x\npublish: {rate: fast}") ==
        "t.yaml:2:17: publish.rate must be a number, got 'fast'");
  CHECK(ErrorOf("name: x\npublish: {rate: +-5}") ==
        "t.yaml:2:17: publish.rate must be a number, got '+-5'");
  CHECK(ErrorOf("name: x\npublish: {rate: .inf}") ==
        "t.yaml:2:17: publish.rate must be a number, got '.inf'");
  CHECK(Parse("name: x\npublish: {rate: +2.5e1, qos: \"1\"}").publish.rate == 25.0);
  CHECK(ErrorOf("name: x\nbroker: {embedded: yes please}") ==
        "t.yaml:2:20: broker.embedded must be true or false, got 'yes please'");
  CHECK(ErrorOf("name: x\nlatency: yes") ==
        "t.yaml:2:10: latency must be true or false, got 'yes'");
  CHECK(ErrorOf("name: [a]") == "t.yaml:1:7: name must be a string");
  CHECK(ErrorOf("name: x\npublish: 5") == "t.yaml:2:10: publish must be a map");
  CHECK(ErrorOf("name: x\ntopics: sensor1") ==
        "t.yaml:2:9: topics must be a list of topic names or a map with 'pattern' and 'count'");
  CHECK(ErrorOf("name: x\nseed: abc") == "t.yaml:2:7: seed must be an integer, got 'abc'");
  CHECK(ErrorOf("name: x\ndescription: {a: 1}") == "t.yaml:2:14: description must be a string");
}

TEST_CASE("values out of range", "[scenario]") {
  CHECK(ErrorOf("name: x\npublish: {qos: 3}") ==
        "t.yaml:2:16: publish.qos must be 0, 1 or 2, got 3");
  CHECK(ErrorOf("name: x\ndevices: {count: 0}") ==
        "t.yaml:2:18: devices.count must be at least 1, got 0");
  CHECK(ErrorOf("name: x\ndevices: {count: 200000}") ==
        "t.yaml:2:18: devices.count must be at most 100000, got 200000");
  CHECK(ErrorOf("name: x\ndevices: {count: 99999999999999999999}") ==
        "t.yaml:2:18: devices.count must be at most 100000, got 99999999999999999999");
  CHECK(ErrorOf("name: x\npublish: {rate: -1}") ==
        "t.yaml:2:17: publish.rate must be greater than 0, got -1");
  CHECK(ErrorOf("name: x\npublish: {rate: 2000000}") ==
        "t.yaml:2:17: publish.rate must be at most 1000000, got 2000000");
  CHECK(ErrorOf("name: x\npublish: {payload: {kind: text}}") ==
        "t.yaml:2:27: publish.payload.kind must be digits, random or json, got 'text'");
  CHECK(ErrorOf("name: x\npublish: {payload: {size: 16777217}}") ==
        "t.yaml:2:27: publish.payload.size must be at most 16777216, got 16777217");
  CHECK(ErrorOf("name: my run") ==
        "t.yaml:1:7: name must contain only letters, digits, '.', '_' and '-', got 'my run'");
  CHECK(ErrorOf("name: ''") == "t.yaml:1:7: name must not be empty");
  CHECK(ErrorOf("name: ..") == "t.yaml:1:7: name must not be '.' or '..'");
  CHECK(ErrorOf("name: x\nbroker: {port: 0}") ==
        "t.yaml:2:16: broker.port must be at least 1, got 0");
  CHECK(ErrorOf("name: x\nbroker: {keepalive_s: 4}") ==
        "t.yaml:2:23: broker.keepalive_s must be at least 5, got 4");
  CHECK(ErrorOf("name: x\nbroker: {connect_timeout_s: 301}") ==
        "t.yaml:2:29: broker.connect_timeout_s must be at most 300, got 301");
  CHECK(ErrorOf("name: x\nbroker: {host: ''}") == "t.yaml:2:16: broker.host must not be empty");
  CHECK(ErrorOf("name: x\nduration_s: 0") ==
        "t.yaml:2:13: duration_s must be greater than 0, got 0");
  CHECK(ErrorOf("name: x\nwarmup_s: -1") == "t.yaml:2:11: warmup_s must be at least 0, got -1");
  CHECK(ErrorOf("name: x\ndrain_s: 3601") == "t.yaml:2:10: drain_s must be at most 3600, got 3601");
  CHECK(ErrorOf("name: x\nsample: {interval_ms: 5}") ==
        "t.yaml:2:23: sample.interval_ms must be at least 10, got 5");
  CHECK(ErrorOf("name: x\nseed: -1") == "t.yaml:2:7: seed must be at least 0, got -1");
  CHECK(ErrorOf("name: x\nseed: 18446744073709551616") ==
        "t.yaml:2:7: seed must be at most 18446744073709551615, got 18446744073709551616");
}

TEST_CASE("payload size against the latency header", "[scenario]") {
  const char* yaml = "name: x\npublish:\n  payload:\n    size: 10\n";
  Result<Scenario> s = ParseScenario(yaml, "t.yaml");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().ToString() ==
        "t.yaml:4:11: publish.payload.size must be at least 32 bytes (the latency header) when "
        "latency is on, got 10; set latency: false to send smaller payloads");
  CHECK(s.error().context == "    size: 10\n          ^");
  CHECK(Parse("name: x\nlatency: false\npublish: {payload: {size: 10}}").publish.payload.size ==
        10);
  CHECK(Parse("name: x\nlatency: false\npublish: {payload: {size: 0}}").publish.payload.size == 0);
  CHECK(Parse("name: x\npublish: {payload: {size: 32}}").publish.payload.size == 32);
}

TEST_CASE("topic templates are checked", "[scenario]") {
  CHECK(ErrorOf("name: x\ntopics: []") == "t.yaml:2:9: topics must list at least one topic");
  CHECK(ErrorOf("name: x\ntopics: [a, 'b/+']") ==
        "t.yaml:2:13: topics entry 2 must not contain '+' or '#', got 'b/+'");
  CHECK(ErrorOf("name: x\ntopics: [a/#]") ==
        "t.yaml:2:10: topics entry 1 must not contain '+' or '#', got 'a/#'");
  CHECK(ErrorOf("name: x\ntopics: ['']") == "t.yaml:2:10: topics entry 1 must not be empty");
  CHECK(ErrorOf("name: x\ntopics: [\"a\\0b\"]") ==
        "t.yaml:2:10: topics entry 1 must not contain a NUL character");
  CHECK(ErrorOf("name: x\ntopics: [$SYS/x]") ==
        "t.yaml:2:10: topics entry 1 must not start with '$', got '$SYS/x'");
  CHECK(ErrorOf("name: x\ntopics: ['a/{dev}']") ==
        "t.yaml:2:10: topics entry 1 must use only the placeholders {device} and {index}, "
        "got '{dev}'");
  CHECK(ErrorOf("name: x\ntopics: ['a/{device']") ==
        "t.yaml:2:10: topics entry 1 must close every '{' with '}', got 'a/{device'");
  CHECK(ErrorOf("name: x\ntopics: [[a]]") ==
        "t.yaml:2:10: topics entry 1 must be a string, got a list");
  CHECK(ErrorOf("name: x\ntopics: {pattern: 'f/{x}'}") ==
        "t.yaml:2:19: topics.pattern must use only the placeholders {device} and {index}, "
        "got '{x}'");
  CHECK(ErrorOf("name: x\ntopics: {pattern: a, count: 1001}") ==
        "t.yaml:2:29: topics.count must be at most 1000, got 1001");
  CHECK(ErrorOf("name: x\ntopics: {pattern: a, counts: 2}") ==
        "t.yaml:2:22: unknown key 'counts' in topics (did you mean 'count'?)");
}

TEST_CASE("topics in list form", "[scenario]") {
  Scenario s =
      Parse("name: x\ntopics: ['home/{device}/s{index}', 'all/s{index}', all/s2, plain]\n");
  CHECK(s.topics.list == std::vector<std::string>{"home/{device}/s1", "all/s2", "all/s2", "plain"});
  CHECK(DeviceTopics(s, 7) == std::vector<std::string>{"home/7/s1", "all/s2", "all/s2", "plain"});
  CHECK(SubscriptionFilters(s) == std::vector<std::string>{"home/+/s1", "all/s2", "plain"});
}

TEST_CASE("topics in pattern form", "[scenario]") {
  Scenario s =
      Parse("name: x\ntopics:\n  pattern: factory/dev-{device}/sensor{index}\n  count: 3\n");
  CHECK(s.topics.list == std::vector<std::string>{"factory/dev-{device}/sensor1",
                                                  "factory/dev-{device}/sensor2",
                                                  "factory/dev-{device}/sensor3"});
  CHECK(DeviceTopics(s, 0) == std::vector<std::string>{"factory/dev-0/sensor1",
                                                       "factory/dev-0/sensor2",
                                                       "factory/dev-0/sensor3"});
  CHECK(SubscriptionFilters(s) ==
        std::vector<std::string>{"factory/+/sensor1", "factory/+/sensor2", "factory/+/sensor3"});
  Scenario one = Parse("name: x\ntopics: {pattern: '{device}'}");
  CHECK(one.topics.list == std::vector<std::string>{"{device}"});
  CHECK(DeviceTopics(one, 42) == std::vector<std::string>{"42"});
  CHECK(SubscriptionFilters(one) == std::vector<std::string>{"+"});
}

TEST_CASE("ParseOverride", "[scenario]") {
  Result<Override> o = ParseOverride("publish.payload.size=42");
  REQUIRE(o.ok());
  CHECK(o->path == "publish.payload.size");
  CHECK(o->value == "42");
  Result<Override> with_equals = ParseOverride("description=a=b");
  REQUIRE(with_equals.ok());
  CHECK(with_equals->value == "a=b");
  CHECK(ParseOverride("noequals").error().ToString() ==
        "--set expects key.path=value, got 'noequals'");
  CHECK(ParseOverride("=5").error().ToString() == "--set expects key.path=value, got '=5'");
  CHECK(ParseOverride("publish..qos=1").error().ToString() ==
        "--set expects key.path=value, got 'publish..qos=1'");
}

TEST_CASE("overrides replace values and create maps", "[scenario]") {
  const char* yaml = "name: x\npublish:\n  qos: 0\n";
  Scenario s = Parse(yaml, {"publish.qos=2", "publish.payload.kind=random", "latency=false",
                            "broker.protocol=5", "topics=[a, 'b/{device}']", "name=other"});
  CHECK(s.publish.qos == 2);
  CHECK(s.publish.payload.kind == PayloadKind::kRandom);
  CHECK_FALSE(s.latency);
  CHECK(s.broker.protocol == 5);
  CHECK(s.topics.list == std::vector<std::string>{"a", "b/{device}"});
  CHECK(s.name == "other");
  CHECK(Parse(yaml, {"publish.qos=1", "publish.qos=2"}).publish.qos == 2);
  CHECK(Parse("name: x\ntopics: [a]", {"topics.pattern=p{index}", "topics.count=2"}).topics.list ==
        std::vector<std::string>{"p1", "p2"});
  CHECK(Parse("name: x\nsample:\n", {"sample.interval_ms=20"}).sample.interval_ms == 20);
  CHECK(Parse("name: x", {"publish={rate: 5, qos: 1}"}).publish.rate == 5.0);
}

TEST_CASE("errors in or caused by overrides name the --set", "[scenario]") {
  const char* yaml = "name: x\npublish:\n  qos: 0\n";
  CHECK(ErrorOf(yaml, {"publish.qos=3"}) ==
        "--set publish.qos=3: publish.qos must be 0, 1 or 2, got 3");
  CHECK(ErrorOf(yaml, {"publish.qso=1"}) ==
        "--set publish.qso=1: unknown key 'qso' in publish (did you mean 'qos'?)");
  CHECK(ErrorOf(yaml, {"publish.qos.x=1"}) ==
        "--set publish.qos.x=1: publish.qos is not a map, so it has no key 'x'");
  CHECK(ErrorOf(yaml, {"broker.tls=true"}) == "--set broker.tls=true: broker.tls must be a map");
  CHECK(ErrorOf(yaml, {"topics=[a"}) ==
        "--set topics=[a: YAML syntax error: end of sequence flow not found");
  CHECK(ErrorOf(yaml, {"publish={qos: 1, qso: 2}"}) ==
        "--set publish={qos: 1, qso: 2}: unknown key 'qso' in publish (did you mean 'qos'?)");
  CHECK(ErrorOf(yaml, {"topics.count=3"}) ==
        "--set topics.count=3: missing required key 'pattern' in topics");
  CHECK(ErrorOf(yaml, {"publish.payload.size=10"}) ==
        "--set publish.payload.size=10: publish.payload.size must be at least 32 bytes (the "
        "latency header) when latency is on, got 10; set latency: false to send smaller payloads");
  CHECK(ErrorOf("name: x\nlatency: false\npublish: {payload: {size: 10}}", {"latency=true"}) ==
        "--set latency=true: publish.payload.size must be at least 32 bytes (the latency header) "
        "when latency is on, got 10; set latency: false to send smaller payloads");
  CHECK(ErrorOf(yaml, {"publish.qos="}) ==
        "--set publish.qos=: publish.qos must be an integer, got nothing");
  Result<Override> o = ParseOverride("publish.qos=3");
  REQUIRE(o.ok());
  Result<Scenario> s = ParseScenario(yaml, "t.yaml", {o.value()});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().context.empty());
  // A file error elsewhere keeps its file location.
  CHECK(ErrorOf("name: x\npublish: {qos: 7}", {"publish.rate=2"}) ==
        "t.yaml:2:16: publish.qos must be 0, 1 or 2, got 7");
}

TEST_CASE("ScenarioToYaml round-trips", "[scenario]") {
  Scenario s = Parse(R"(
name: round.trip
description: "quotes \" colons: and yes"
broker: {embedded: false, host: example.org, port: 1884, protocol: 5, keepalive_s: 9,
         clean_session: false, connect_timeout_s: 0.1}
devices: {count: 12}
topics: {pattern: "x/{device}/{index}", count: 2}
publish: {rate: 0.3333333333333333, qos: 1, retain: true, payload: {size: 4096, kind: random}}
duration_s: 604800
warmup_s: 0.25
drain_s: 3600
latency: true
sample: {interval_ms: 10}
seed: 18446744073709551615
)");
  std::string yaml = ScenarioToYaml(s);
  Result<Scenario> back = ParseScenario(yaml, "t.yaml");
  if (!back) FAIL(back.error().ToStringWithContext() + "\n" + yaml);
  CHECK(back.value() == s);
  Scenario defaults = Parse("name: d");
  CHECK(Parse(ScenarioToYaml(defaults)) == defaults);
  CHECK(ScenarioToYaml(defaults).find("name: \"d\"\ndescription: \"\"\nbroker:\n") == 0);
}

TEST_CASE("broker.host or broker.port means an external broker", "[scenario]") {
  Scenario host = Parse("name: x\nbroker: {host: mqtt.example.org}\n");
  CHECK_FALSE(host.broker.embedded);
  CHECK(host.broker.host == "mqtt.example.org");
  CHECK(host.broker.port == 1883);
  Scenario port = Parse("name: x\nbroker:\n  port: 8883\n");
  CHECK_FALSE(port.broker.embedded);
  CHECK(port.broker.host == "127.0.0.1");
  CHECK(port.broker.port == 8883);
  CHECK_FALSE(Parse("name: x\nbroker: {embedded: false, host: h}\n").broker.embedded);
  CHECK_FALSE(Parse("name: x\n", {"broker.port=1884"}).broker.embedded);
  CHECK(Parse("name: x\nbroker: {embedded: true}\n").broker.embedded);

  // Written next to an explicit embedded: true, the address would be ignored: refused.
  Error e = ErrorValue("name: x\nbroker:\n  embedded: true\n  host: mqtt.example.org\n");
  CHECK(e.ToString() ==
        "t.yaml:4:9: broker.host is set, so the broker is external; remove broker.host or "
        "broker.embedded: true");
  CHECK(e.context == "  host: mqtt.example.org\n        ^");
  CHECK(ErrorOf("name: x\nbroker: {embedded: true, port: 1884}\n") ==
        "t.yaml:2:32: broker.port is set, so the broker is external; remove broker.port or "
        "broker.embedded: true");
  CHECK(ErrorOf("name: x\nbroker: {embedded: true}\n", {"broker.host=mqtt.example.org"}) ==
        "--set broker.host=mqtt.example.org: broker.host is set, so the broker is external; "
        "remove broker.host or broker.embedded: true");

  // The dump round-trips both ways: an embedded broker is written without an address.
  CHECK(Parse(ScenarioToYaml(host)) == host);
  CHECK(Parse(ScenarioToYaml(port)) == port);
  Scenario embedded = Parse("name: d\n");
  CHECK(ScenarioToYaml(embedded).find("broker:\n  embedded: true\n  protocol: \"3.1.1\"\n") !=
        std::string::npos);
  CHECK(ScenarioToYaml(host).find("broker:\n  embedded: false\n  host: \"mqtt.example.org\"\n"
                                  "  port: 1883\n") != std::string::npos);
}

TEST_CASE("capture keys: snaplen and the kernel buffer size", "[scenario]") {
  Scenario d = Parse("name: x\n");
  CHECK(d.capture.buffer_mb == 0);  // auto
  CHECK(d.capture.snaplen == -1);
  CHECK(Parse("name: x\ncapture: {buffer_mb: auto}").capture.buffer_mb == 0);
  CHECK(Parse(ScenarioToYaml(d)) == d);
  Scenario s = Parse("name: x\ncapture: {buffer_mb: 8, snaplen: 0, required: true}\n");
  CHECK(s.capture.buffer_mb == 8);
  CHECK(s.capture.snaplen == 0);
  CHECK(s.capture.required);
  CHECK(Parse("name: x\ncapture: {snaplen: 64}").capture.snaplen == 64);
  CHECK(Parse("name: x\ncapture: {snaplen: auto}").capture.snaplen == -1);
  CHECK(Parse(ScenarioToYaml(s)) == s);
  CHECK(ErrorOf("name: x\ncapture: {buffer_mb: 0}") ==
        "t.yaml:2:22: capture.buffer_mb must be at least 1, got 0");
  CHECK(ErrorOf("name: x\ncapture: {buffer_mb: 2048}") ==
        "t.yaml:2:22: capture.buffer_mb must be at most 1024, got 2048");
  CHECK(ErrorOf("name: x\ncapture: {buffer_mb: 1.5}") ==
        "t.yaml:2:22: capture.buffer_mb must be an integer, got '1.5'");
  CHECK(ErrorOf("name: x\ncapture: {snaplen: 10}") ==
        "t.yaml:2:20: capture.snaplen must be auto, 0 (whole packets) or at least 64, got 10");
  CHECK(ErrorOf("name: x\ncapture: {snaplen: 300000}") ==
        "t.yaml:2:20: capture.snaplen must be at most 262144, got 300000");
}

TEST_CASE("capture.buffer_mb auto holds about a second of the expected capture", "[scenario]") {
  // The defaults: 1 device at 1 msg/s, QoS 0, 64-byte payloads: the floor of 4 MiB.
  CHECK(CaptureBufferMb(Parse("name: x\n")) == 4);
  // 10,000 msg/s at QoS 0: 10,000 x (4 x 150 + 2 x (64 + 64)) bytes = 8.4 MB -> 9 MiB.
  CHECK(CaptureBufferMb(Parse("name: x\ndevices: {count: 10000}\n")) == 9);
  // QoS 1 packs 6 packets per message: 10,000 x (900 + 256) = 11.6 MB -> 12 MiB.
  CHECK(CaptureBufferMb(Parse("name: x\ndevices: {count: 10000}\npublish: {qos: 1}\n")) == 12);
  // The ceiling, and rate: max, which has no expected rate.
  CHECK(CaptureBufferMb(Parse("name: x\ndevices: {count: 1000}\npublish: {rate: 1000}\n")) == 64);
  CHECK(CaptureBufferMb(Parse("name: x\npublish: {rate: max}\n")) == 64);
  // An explicit size is taken as it is.
  CHECK(CaptureBufferMb(Parse("name: x\ncapture: {buffer_mb: 100}\n")) == 100);
}

TEST_CASE("every scenario error has the scenario kind", "[scenario]") {
  CHECK(ErrorValue("name: x\npublish: {qos: 3}").kind == ErrorKind::kScenario);
  CHECK(ErrorValue("name: x\npublish: [1, 2\n").kind == ErrorKind::kScenario);
  CHECK(ErrorValue("- a\n").kind == ErrorKind::kScenario);
  CHECK(LoadScenario("/nonexistent/x.yaml").error().kind == ErrorKind::kScenario);
  CHECK(ParseOverride("noequals").error().kind == ErrorKind::kScenario);
  Result<Scenario> by_set = ParseScenario("name: x\n", "t.yaml", {Override{"publish.qso", "1"}});
  REQUIRE_FALSE(by_set.ok());
  CHECK(by_set.error().kind == ErrorKind::kScenario);
  Result<Scenario> bad_value = ParseScenario("name: x\n", "t.yaml", {Override{"publish.qos", "9"}});
  REQUIRE_FALSE(bad_value.ok());
  CHECK(bad_value.error().kind == ErrorKind::kScenario);
  CHECK(LoadProfiles("/nonexistent/profiles.yaml").error().kind == ErrorKind::kScenario);
}

TEST_CASE("validate mode: what only a run reads is a warning, not an error", "[scenario]") {
  std::vector<Error> warnings;
  ExternalChecks checks;
  checks.run_time_warnings = &warnings;
  const char* tls = "name: x\nbroker:\n  tls: {ca_file: /nonexistent/ca.pem}\n";
  Result<Scenario> s = ParseScenario(tls, "t.yaml", {}, checks);
  REQUIRE(s.ok());
  CHECK(s->broker.tls.ca_file == "/nonexistent/ca.pem");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].ToString() ==
        "t.yaml:3:18: broker.tls.ca_file: cannot read '/nonexistent/ca.pem': No such file or "
        "directory (edgebench run needs this file)");
  CHECK(warnings[0].context == "  tls: {ca_file: /nonexistent/ca.pem}\n                 ^");
  CHECK(warnings[0].kind == ErrorKind::kScenario);

  warnings.clear();
  const char* env = "name: x\nbroker: {username: u, password_env: EDGEBENCH_TEST_UNSET_VARIABLE}";
  REQUIRE(ParseScenario(env, "t.yaml", {}, checks).ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].ToString() ==
        "t.yaml:2:37: broker.password_env: environment variable 'EDGEBENCH_TEST_UNSET_VARIABLE' "
        "is not set (edgebench run needs it set)");

  // Without the warnings list (as `run` reads a scenario), the same are errors.
  CHECK(ErrorOf(env) ==
        "t.yaml:2:37: broker.password_env: environment variable 'EDGEBENCH_TEST_UNSET_VARIABLE' "
        "is not set");

  // A real error wins, and then no warning is left behind.
  warnings.clear();
  Result<Scenario> both =
      ParseScenario(std::string(tls) + "publish: {qos: 3}\n", "t.yaml", {}, checks);
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().ToString() == "t.yaml:4:16: publish.qos must be 0, 1 or 2, got 3");
  CHECK(warnings.empty());
  // Other TLS mistakes stay errors.
  CHECK_FALSE(
      ParseScenario("name: x\nbroker:\n  tls: {insecure: true}\n", "t.yaml", {}, checks).ok());
}

TEST_CASE("ProtocolName and PayloadKindName", "[scenario]") {
  CHECK(ProtocolName(4) == "3.1.1");
  CHECK(ProtocolName(5) == "5");
  CHECK(PayloadKindName(PayloadKind::kDigits) == "digits");
  CHECK(PayloadKindName(PayloadKind::kRandom) == "random");
  CHECK(PayloadKindName(PayloadKind::kJson) == "json");
}

// The network and node profiles edgebench ships, as the CLI passes them to the parser.
ExternalChecks ShippedProfiles() {
  ExternalChecks checks;
  checks.profiles_file = std::string(EDGEBENCH_SOURCE_DIR) + "/config/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(checks.profiles_file);
  if (!profiles) FAIL(profiles.error().ToStringWithContext());
  checks.profiles = *profiles;
  checks.nodes_file = std::string(EDGEBENCH_SOURCE_DIR) + "/config/nodes.yaml";
  Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(checks.nodes_file);
  if (!nodes) FAIL(nodes.error().ToStringWithContext());
  checks.nodes = *nodes;
  return checks;
}

TEST_CASE("every file under scenarios/ is valid", "[scenario]") {
  std::filesystem::path dir = std::filesystem::path(EDGEBENCH_SOURCE_DIR) / "scenarios";
  ExternalChecks checks = ShippedProfiles();
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    // An *.example.yaml names files of the user's (a CA certificate): point it at one.
    std::vector<Override> fill;
    if (entry.path().string().ends_with(".example.yaml")) {
      // ... and its password variable must be set (the value is never used here).
      ::setenv("EDGEBENCH_PASSWORD", "not-used", 0);
      fill.push_back(Override{"broker.tls.ca_file", entry.path().string()});
    }
    Result<Experiment> e = LoadExperiment(entry.path().string(), fill, checks);
    if (!e) FAIL(e.error().ToStringWithContext());
    for (const ExperimentCell& cell : e->cells) {
      // "real-broker.example.yaml" is named real-broker.example.
      CHECK(cell.scenario.name == entry.path().stem().string());
      CHECK(cell.scenario.source_file == entry.path().string());
    }
    ++count;
  }
  CHECK(count >= 4);
}

TEST_CASE("the shipped scenarios say what the docs say", "[scenario]") {
  std::string dir = std::string(EDGEBENCH_SOURCE_DIR) + "/scenarios/";
  ExternalChecks checks = ShippedProfiles();
  Result<Scenario> edge = LoadScenario(dir + "edge.yaml", {}, checks);
  REQUIRE(edge.ok());
  CHECK(edge->network.emulated);
  CHECK(edge->network.profile == "edge-lan");
  CHECK(edge->network.link == checks.profiles.at("edge-lan"));
  CHECK_FALSE(edge->subscribe.at_devices);
  CHECK(edge->broker.embedded);
  CHECK(edge->devices.count == 100);
  CHECK(edge->topics.list == std::vector<std::string>{"sensor1", "sensor2", "sensor3"});
  CHECK(edge->publish.rate == 1.0);
  CHECK(edge->publish.qos == 1);
  CHECK(edge->publish.payload.size == 64);
  CHECK(edge->duration_s == 15.0);

  // cloud.yaml is edge.yaml with the cloud-near network and nothing else changed.
  Result<Scenario> cloud = LoadScenario(dir + "cloud.yaml", {}, checks);
  REQUIRE(cloud.ok());
  CHECK(cloud->network.profile == "cloud-near");
  CHECK(cloud->network.link == checks.profiles.at("cloud-near"));
  Scenario same = *cloud;
  same.name = edge->name;
  same.description = edge->description;
  same.source_file = edge->source_file;
  same.network = edge->network;
  CHECK(same == *edge);

  Result<Scenario> seed = LoadScenario(dir + "seed-replica.yaml");
  REQUIRE(seed.ok());
  CHECK(seed->devices.count == 1000);
  CHECK(seed->publish.rate == 3.0);
  CHECK(seed->publish.qos == 0);
  CHECK(seed->publish.payload.size == 10);
  CHECK_FALSE(seed->latency);
  CHECK(seed->duration_s == 30.0);
  Result<Scenario> with_latency =
      LoadScenario(dir + "seed-replica.yaml",
                   {Override{"latency", "true"}, Override{"publish.payload.size", "42"}});
  CHECK(with_latency.ok());
}

}  // namespace
}  // namespace edgebench
