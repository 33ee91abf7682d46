// Tests for what a scenario file may not be, beyond its keys (src/scenario/document.cc and
// the limits of scenario.h): UTF-8, one document, no tags, nesting and alias bombs, quotes
// that swallow keys, the caps on lists and strings, names, hosts and topics, the files a
// scenario names (a FIFO, a device, too large) and the password file's permissions.
#include <sys/stat.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"

#include "test_support.h"

namespace edgebench {
namespace {

using testing::TempDir;
using testing::WriteText;

// The whole first error of `yaml` read as "t.yaml" (with its caret line), or "ok".
std::string ErrorOf(const std::string& yaml, const ExternalChecks& checks = {}) {
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", {}, checks);
  return e ? "ok" : e.error().ToString();
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST_CASE("a file that is not UTF-8 is refused at the first bad byte", "[scenario]") {
  CHECK(ErrorOf("name: x\ndescription: caf\xe9 au lait\n") ==
        "t.yaml:2:17: not valid UTF-8 (byte 0xe9): the file must be UTF-8 text");
  // yaml-cpp would have turned the byte into U+FFFD; a valid file keeps its text.
  Result<Scenario> s = ParseScenario("name: x\ndescription: caf\xc3\xa9\n", "t.yaml");
  REQUIRE(s.ok());
  CHECK(s->description == "caf\xc3\xa9");
  CHECK(ErrorOf("name: x\ntopics: [\"a/\xed\xa0\x80\"]\n") ==
        "t.yaml:2:13: not valid UTF-8 (byte 0xed): the file must be UTF-8 text");
  Result<Override> o = ParseOverride("description=\xff");
  REQUIRE(o.ok());
  Result<Scenario> over = ParseScenario("name: x\n", "t.yaml", {*o});
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().ToString() == "--set description=\xff: the value is not valid UTF-8");
}

TEST_CASE("a second YAML document is refused where it starts", "[scenario]") {
  CHECK(ErrorOf("name: x\n---\nname: y\n") ==
        "t.yaml:3:1: a second YAML document starts here: the file must hold one (remove the "
        "'---' line and what follows it)");
  CHECK(ErrorOf("---\nname: x\n...\n") == "ok");  // one document with its markers
}

TEST_CASE("a quoted string that is never closed or takes in keys is refused", "[scenario]") {
  CHECK(ErrorOf("name: x\ndescription: \"test run\nduration_s: 30\nwarmup_s: 5\n") ==
        "t.yaml:2:14: this quoted string is never closed: it runs to the end of the file");
  CHECK(ErrorOf("name: x\ndescription: 'it''s\nduration_s: 30\nwarmup_s: 5'\n") ==
        "t.yaml:2:14: this quoted string runs over 3 lines and takes in 'duration_s:' of line "
        "3: is its closing quote missing?");
  // A quoted string may span lines when they do not look like keys.
  Result<Scenario> s =
      ParseScenario("name: x\ndescription: \"one\n  two \\\" three\"\nduration_s: 3\n", "t.yaml");
  REQUIRE(s.ok());
  CHECK(s->description == "one two \" three");
  CHECK(s->duration_s == 3);
}

TEST_CASE("explicit YAML tags are refused, core schema ones too", "[scenario]") {
  CHECK(ErrorOf("name: !!python/object:os.system x\n") ==
        "t.yaml:1:7: YAML tag '!!python/object:os.system' is not accepted: values are read as "
        "plain text, so remove the tag");
  CHECK(ErrorOf("name: x\nduration_s: &d !!float 5\n") ==
        "t.yaml:2:13: YAML tag '!!float' is not accepted: values are read as plain text, so "
        "remove the tag");
  CHECK(ErrorOf("name: x\npublish: !custom {qos: 1}\n") ==
        "t.yaml:2:10: YAML tag '!custom' is not accepted: values are read as plain text, so "
        "remove the tag");
}

TEST_CASE("deep nesting and alias bombs are refused quickly", "[scenario]") {
  CHECK(ErrorOf("name: x\ndescription: " + Repeat("[", 40) + Repeat("]", 40) + "\n") ==
        "t.yaml:2:45: YAML nesting is deeper than 32 levels");
  // yaml-cpp's own guard stops its parser before our walk.
  CHECK(ErrorOf("name: x\ndescription: " + Repeat("[", 100000) + "\n")
            .ends_with(": YAML nesting is deeper than 32 levels"));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + std::string(1, c) + " [" + Repeat("*" + prev + ", ", 9) +
            "*" + prev + "]\n";
  }
  std::string error = ErrorOf("name: x\nmatrix:\n  seed: [1]\n" + bomb);
  CHECK(
      error.ends_with(": the document has more than 100000 values with its aliases expanded "
                      "(aliases that repeat aliases?)"));
}

TEST_CASE("one value may not be longer than 65535 bytes", "[scenario]") {
  CHECK(ErrorOf("name: x\ndescription: " + std::string(70000, 'a') + "\n") ==
        "t.yaml:2:14: a value longer than 65535 bytes (got 70000)");
  CHECK(ErrorOf("name: x\ndescription: " + std::string(5000, 'a') + "\n") ==
        "t.yaml:2:14: description must be at most 4096 bytes long, got 5000");
}

TEST_CASE("a name must fit a directory name", "[scenario]") {
  CHECK(ErrorOf("name: " + std::string(129, 'n') + "\n") ==
        "t.yaml:1:7: name must be at most 128 characters (it names the results directory), "
        "got 129");
  CHECK(ErrorOf("name: " + std::string(128, 'n') + "\n") == "ok");
  CHECK(ErrorOf("name: a/b\n") ==
        "t.yaml:1:7: name must contain only letters, digits, '.', '_' and '-', got 'a/b'");
}

TEST_CASE("broker.host is one host name or address, without a port", "[scenario]") {
  CHECK(ErrorOf("name: x\nbroker: {host: \"broker:1883\"}\n") ==
        "t.yaml:2:16: broker.host must be a host name or address without a port (the port goes "
        "in broker.port), got 'broker:1883'");
  CHECK(ErrorOf("name: x\nbroker: {host: \"[::1]:1883\"}\n") ==
        "t.yaml:2:16: broker.host must be a host name or address without a port (the port goes "
        "in broker.port), got '[::1]:1883'");
  CHECK(ErrorOf("name: x\nbroker: {host: \"   \"}\n") ==
        "t.yaml:2:16: broker.host must not be empty, got '   '");
  CHECK(ErrorOf("name: x\nbroker: {host: \"my broker\"}\n") ==
        "t.yaml:2:16: broker.host must not contain spaces, got 'my broker'");
  CHECK(ErrorOf("name: x\nbroker: {host: \"mqtt://broker\"}\n") ==
        "t.yaml:2:16: broker.host must be a host name or address, not a URL, got "
        "'mqtt://broker'");
  CHECK(ErrorOf("name: x\nbroker: {host: " + std::string(254, 'h') + "}\n") ==
        "t.yaml:2:16: broker.host must be at most 253 characters, got 254");
  CHECK(ErrorOf("name: x\nbroker: {host: \"::1\"}\n") == "ok");
  CHECK(ErrorOf("name: x\nbroker: {host: broker.example.org}\n") == "ok");
}

TEST_CASE("topics: MQTT's rules for topic names and at most 1000 of them", "[scenario]") {
  CHECK(ErrorOf("name: x\ntopics: [\"a/\\x01\"]\n") ==
        "t.yaml:2:10: topics entry 1 must not contain control characters or non-characters, "
        "got U+0001");
  CHECK(ErrorOf("name: x\ntopics: [\"a/\\uFFFF\"]\n") ==
        "t.yaml:2:10: topics entry 1 must not contain control characters or non-characters, "
        "got U+FFFF");
  CHECK(ErrorOf("name: x\ntopics: [\"a/\\0\"]\n") ==
        "t.yaml:2:10: topics entry 1 must not contain a NUL character");
  CHECK(ErrorOf("name: x\ntopics: [\"a/#\"]\n") ==
        "t.yaml:2:10: topics entry 1 must not contain '+' or '#', got 'a/#'");
  CHECK(ErrorOf("name: x\ntopics: [" + std::string(1025, 't') + "]\n") ==
        "t.yaml:2:10: topics entry 1 must be at most 1024 bytes long, got 1025");
  std::string many = "name: x\ntopics:\n";
  for (int i = 0; i < 1001; ++i) many += "  - t/" + std::to_string(i) + "\n";
  CHECK(ErrorOf(many) == "t.yaml:3:3: topics must list at most 1000 topics, got 1001");
  CHECK(ErrorOf("name: x\ntopics: {pattern: \"t/{index}\", count: 1001}\n") ==
        "t.yaml:2:39: topics.count must be at most 1000, got 1001");
  // A topic that is valid UTF-8 and not a control character passes.
  CHECK(ErrorOf("name: x\ntopics: [\"capteur/temp\xc3\xa9rature\"]\n") == "ok");
}

TEST_CASE("lists and maps of a scenario have maximums", "[scenario]") {
  std::string props = "name: x\nbroker:\n  protocol: 5\n  user_properties:\n";
  for (int i = 0; i < 101; ++i) props += "    k" + std::to_string(i) + ": v\n";
  CHECK(ErrorOf(props) ==
        "t.yaml:5:5: broker.user_properties must have at most 100 entries, got 101");
  CHECK(ErrorOf("name: x\nbroker:\n  protocol: 5\n  user_properties: {k: " +
                std::string(1025, 'v') + "}\n") ==
        "t.yaml:4:21: broker.user_properties: names and values must be at most 1024 bytes long");
  std::string expect = "name: x\nexpect:\n";
  for (int i = 0; i < 101; ++i) expect += "  m" + std::to_string(i) + ": {max: 1}\n";
  CHECK(ErrorOf(expect) == "t.yaml:3:3: expect must have at most 100 entries, got 101");
  std::string sheets = "name: x\ncost:\n  sheets: [";
  for (int i = 0; i < 33; ++i) sheets += (i ? ", s" : "s") + std::to_string(i);
  CHECK(ErrorOf(sheets + "]\n") == "t.yaml:3:11: cost.sheets must name at most 32 sheets, got 33");
  std::string values = "name: x\nmatrix:\n  seed: [";
  for (int i = 0; i < 1001; ++i) values += (i ? ", " : "") + std::to_string(i + 1);
  CHECK(ErrorOf(values + "]\n") ==
        "t.yaml:3:9: matrix.seed must have at most 1000 values, got 1001");
  std::string axes = "name: x\nmatrix:\n";
  for (int i = 0; i < 17; ++i) axes += "  a" + std::to_string(i) + ": [1]\n";
  CHECK(ErrorOf(axes) == "t.yaml:3:3: matrix must have at most 16 axes, got 17");
}

TEST_CASE("a matrix reads its file once per cell, so a big file gets fewer cells", "[scenario]") {
  std::string yaml = "name: x\ntopics:\n";
  for (int i = 0; i < 900; ++i)
    yaml += "  - \"t/" + std::to_string(i) + "/" + std::string(30, 'x') + "\"\n";
  yaml += "matrix:\n  seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  devices.count: [";
  for (int i = 0; i < 100; ++i) yaml += (i ? ", " : "") + std::to_string(i + 1);
  yaml += "]\n";
  CHECK(ErrorOf(yaml) ==
        "t.yaml:904:3: a matrix of 1000 cells reads this file once per cell, so "
        "it must be at most 16777 bytes, got " +
            std::to_string(yaml.size()) + " bytes");
}

TEST_CASE("the scenario file itself must be a regular file within 1 MiB", "[scenario]") {
  TempDir dir;
  std::string fifo = dir.File("s.yaml");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Result<Experiment> f = LoadExperiment(fifo);
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().ToString() == fifo + ": is not a regular file (a FIFO)");
  CHECK(f.error().kind == ErrorKind::kScenario);
  Result<Scenario> zero = LoadScenario("/dev/zero");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().ToString() == "/dev/zero: is not a regular file (a character device)");
  WriteText(dir.File("big.yaml"), "name: x\ndescription: " + std::string(50 << 20, 'x') + "\n");
  Result<Experiment> big = LoadExperiment(dir.File("big.yaml"));
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().ToString() ==
        dir.File("big.yaml") + ": is larger than the 1 MiB limit for a scenario file");
}

TEST_CASE("a password file or TLS file that is no file to read is an error, under validate too",
          "[scenario]") {
  TempDir dir;
  std::string fifo = dir.File("pw");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::vector<Error> run_time;
  ExternalChecks checks;
  checks.run_time_warnings = &run_time;  // as validate does: a missing file only warns
  CHECK(ErrorOf("name: x\nbroker: {username: u, password_file: \"" + fifo + "\"}\n", checks) ==
        "t.yaml:2:38: broker.password_file: '" + fifo + "' is not a regular file (a FIFO)");
  CHECK(ErrorOf("name: x\nbroker:\n  tls: {ca_file: /dev/zero}\n", checks) ==
        "t.yaml:3:18: broker.tls.ca_file: '/dev/zero' is not a regular file (a character "
        "device)");
  WriteText(dir.File("ca.pem"), std::string((4 << 20) + 1, '-'));
  CHECK(ErrorOf("name: x\nbroker:\n  tls: {ca_file: \"" + dir.File("ca.pem") + "\"}\n", checks) ==
        "t.yaml:3:18: broker.tls.ca_file: '" + dir.File("ca.pem") +
            "' is larger than the 4 MiB limit for a TLS file");
  CHECK(run_time.empty());
}

TEST_CASE("a password file that group or others can access gets a warning", "[scenario]") {
  TempDir dir;
  std::string pw = dir.File("pw");
  WriteText(pw, "secret\n");
  REQUIRE(::chmod(pw.c_str(), 0640) == 0);
  std::vector<Error> warnings;
  ExternalChecks checks;
  checks.warnings = &warnings;
  std::string yaml = "name: x\nbroker: {username: u, password_file: \"" + pw + "\"}\n";
  CHECK(ErrorOf(yaml, checks) == "ok");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].ToString() == "t.yaml:2:38: broker.password_file: '" + pw +
                                      "' is accessible by group or others (mode 0640); make it "
                                      "private with: chmod 600 '" +
                                      pw + "'");
  warnings.clear();
  REQUIRE(::chmod(pw.c_str(), 0600) == 0);
  CHECK(ErrorOf(yaml, checks) == "ok");
  CHECK(warnings.empty());
  // A scenario with an error gives the error alone.
  REQUIRE(::chmod(pw.c_str(), 0644) == 0);
  CHECK(ErrorOf(yaml + "publish: {qos: 3}\n", checks) ==
        "t.yaml:3:16: publish.qos must be 0, 1 or 2, got 3");
  CHECK(warnings.empty());
}

}  // namespace
}  // namespace edgebench
