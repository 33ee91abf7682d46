// The scenario module's reader machinery, shared by its files (scenario.cc reads the
// scenario's sections, network.cc the network and the profiles file): the schema
// of the keys each map accepts, the Reader that keeps the first error with its
// file:line:column (or the --set that put the value there), the checked sections, and the
// scalar readers. Internal: nothing outside src/scenario/ includes this header.
//
// Contract: every Read* function is a no-op once the Reader has failed, so section readers
// run straight through and test r.failed() once at the end. Values are judged by their
// text, not by YAML's guess at their type.
#ifndef EDGEBENCH_SRC_SCENARIO_INTERNAL_H_
#define EDGEBENCH_SRC_SCENARIO_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench::scenario_internal {

// ---------------------------------------------------------------------------
// Schema: which keys each map accepts, and which are reserved for later work.

struct SectionSchema {
  std::string_view path;  // "" for the top level
  std::span<const std::string_view> known;
  std::span<const std::string_view> reserved;
};

// The schema of the map at `path` ("" = the top level, "broker.tls", "<profile>" for one
// entry of a profiles file), or nullptr when there is none.
const SectionSchema* FindSection(std::string_view path);
std::string JoinPath(std::string_view section, std::string_view key);
// " in publish" for messages; nothing at the top level.
std::string InSection(std::string_view section);
// The known key a typo most likely meant, or "".
std::string SuggestKey(std::string_view key, std::span<const std::string_view> known);
// Why `key` is not acceptable in `section` (named `shown` in messages), or nullopt.
std::optional<std::string> CheckKey(const SectionSchema& section, std::string_view key,
                                    std::string_view shown);

// ---------------------------------------------------------------------------
// Reader: the first error, where it is, and which --set put the offending value there.

std::vector<std::string> SplitLines(std::string_view text);
// True when `path` is `prefix` or lies below it ("publish" covers "publish.qos").
bool Covers(std::string_view prefix, std::string_view path);
// Every error of this module is ErrorKind::kScenario: the input is wrong, nothing started.
Error ScenarioError(std::string message, std::optional<SourceLocation> where = std::nullopt,
                    std::string context = "");
Error OverrideError(const Override& o, std::string message);

// One key/value pair of a YAML map, with the dotted path of the key.
struct Entry {
  std::string path;
  YAML::Node key;
  YAML::Node value;

  // An empty value ("qos:") has its mark on the next token, so point at the key instead.
  YAML::Mark mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// Collects the first validation error; every later check is a no-op, so the readers
// below can run straight through without testing a status after each call.
class Reader {
 public:
  // `run_time_warnings`: see ExternalChecks::run_time_warnings (nullptr: errors);
  // `warnings`: see ExternalChecks::warnings (nullptr: none kept).
  Reader(std::string file, std::string_view text, const std::vector<Override>& overrides,
         std::vector<Error>* run_time_warnings = nullptr, std::vector<Error>* warnings = nullptr)
      : file_(std::move(file)),
        lines_(SplitLines(text)),
        overrides_(overrides),
        run_time_warnings_(run_time_warnings),
        warnings_(warnings) {}

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }

  void Fail(std::string_view path, YAML::Mark mark, std::string message) {
    if (!error_) error_ = MakeError(path, mark, std::move(message));
  }
  void Fail(const Entry& entry, std::string message) {
    Fail(entry.path, entry.mark(), std::move(message));
  }
  // A problem with something only a run reads (a certificate file, a password variable):
  // an error, or under `validate` a warning that says `run` needs it.
  void FailForRun(const Entry& entry, std::string message, std::string_view needed) {
    if (run_time_warnings_ == nullptr) {
      Fail(entry, std::move(message));
    } else if (!error_) {
      run_time_warnings_->push_back(
          MakeError(entry.path, entry.mark(),
                    message + " (edgebench run needs " + std::string(needed) + ")"));
    }
  }
  // Something that does not stop a run but that the user should hear of (a password file
  // others can read); kept only while the scenario has no error.
  void Warn(const Entry& entry, std::string message) {
    if (warnings_ != nullptr && !error_) {
      warnings_->push_back(MakeError(entry.path, entry.mark(), std::move(message)));
    }
  }
  bool Overridden(std::string_view path) const { return FindOverride(path, false) != nullptr; }

 private:
  Error MakeError(std::string_view path, YAML::Mark mark, std::string message) const {
    if (const Override* o = FindOverride(path, mark.is_null())) {
      return OverrideError(*o, std::move(message));
    }
    if (mark.is_null()) return ScenarioError(std::move(message), SourceLocation{file_});
    SourceLocation where{file_, mark.line + 1, mark.column + 1};
    return ScenarioError(std::move(message), where, Caret(mark));
  }

  // The last --set that wrote `path` or a map above it. Nodes that a --set created on the
  // way (intermediate maps) have no mark, so for those a --set below `path` counts too.
  const Override* FindOverride(std::string_view path, bool created) const {
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      if (Covers(it->path, path)) return &*it;
    }
    if (!created) return nullptr;
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      if (Covers(path, it->path)) return &*it;
    }
    return nullptr;
  }

  // The line and a caret under the column; a line longer than 160 characters is cut to the
  // 60 before the column and the 60 after it, with "..." where it was cut.
  std::string Caret(YAML::Mark mark) const {
    if (mark.line < 0 || static_cast<size_t>(mark.line) >= lines_.size()) return "";
    const std::string& line = lines_[static_cast<size_t>(mark.line)];
    size_t column = static_cast<size_t>(std::max(0, mark.column));
    if (line.size() <= 160) return line + "\n" + std::string(column, ' ') + "^";
    const size_t from = column > 60 ? column - 60 : 0;
    std::string shown = (from > 0 ? "..." : "") + line.substr(from, 120);
    if (from + 120 < line.size()) shown += "...";
    column = column - from + (from > 0 ? 3 : 0);
    return shown + "\n" + std::string(column, ' ') + "^";
  }

  std::string file_;
  std::vector<std::string> lines_;
  const std::vector<Override>& overrides_;
  std::vector<Error>* run_time_warnings_;
  std::vector<Error>* warnings_;
  std::optional<Error> error_;
};

// "'high'", "a list", "a map" or "nothing": how a wrong value is shown after "got".
std::string Describe(const YAML::Node& node);

// ---------------------------------------------------------------------------
// Sections: the checked entries of one map.

struct Section {
  std::string path;
  std::vector<Entry> entries;

  const Entry* Find(std::string_view key) const {
    std::string path_of_key = JoinPath(path, key);
    for (const Entry& e : entries) {
      if (e.path == path_of_key) return &e;
    }
    return nullptr;
  }
};

// Checks every key of `node` against the schema of `path`. A missing or empty section
// ("broker:" with nothing below) means all defaults. `shown` (default: `path`) is the
// path used in messages.
Section OpenSection(Reader& r, const YAML::Node& node, YAML::Mark mark, std::string_view path,
                    std::string_view shown = {});
Section OpenSection(Reader& r, const Entry* entry, std::string_view path);
// The same with a schema of the caller's own (a file other than a scenario: price sheets).
Section OpenSectionWith(Reader& r, const YAML::Node& node, YAML::Mark mark,
                        const SectionSchema& schema, std::string_view shown);

// ---------------------------------------------------------------------------
// Scalar values.

// Shortest text that reads back as the same double, without an exponent.
std::string FormatNumber(double value);
std::string ScalarText(const Entry& e);
// The integer at `e`, or nullopt after reporting a type or range error.
std::optional<int64_t> IntegerValue(Reader& r, const Entry& e, int64_t min, int64_t max);
void ReadInt(Reader& r, const Section& s, std::string_view key, int min, int max, int* out);

struct NumberRange {
  double min;
  bool min_exclusive;  // "greater than min" rather than "at least min"
  double max;
};

void ReadNumber(Reader& r, const Section& s, std::string_view key, NumberRange range, double* out);
// Only the YAML 1.2 spellings of true and false.
void ReadBool(Reader& r, const Section& s, std::string_view key, bool* out);
void ReadString(Reader& r, const Section& s, std::string_view key, std::string* out);
void ReadSeed(Reader& r, const Section& s, uint64_t* out);

// ---------------------------------------------------------------------------
// Files.

// The whole file, a regular one within `limit` (base/fd.h). Errors: "PATH: cannot read file:
// No such file or directory", "PATH: is not a regular file (a FIFO)", "PATH: is larger than
// the 1 MiB limit for a scenario file".
Result<std::string> ReadScenarioFile(const std::string& path, FileLimit limit = kScenarioFileLimit);
// Parses `text`, which must be one YAML document holding a map; fails `r` on a syntax
// error or another shape, and on what yaml-cpp takes without a word (document.cc): bytes
// that are not UTF-8, a second document, an explicit tag (any: values are judged by their
// text), nesting deeper than kMaxYamlDepth, more than kMaxYamlNodes values with aliases
// expanded, a value longer than kMaxScalarBytes, and a quoted string that is never closed
// or that takes in lines that look like keys.
YAML::Node LoadMap(Reader& r, std::string_view text, const std::string& not_a_map);
bool IsUtf8(std::string_view text);
// The first code point of UTF-8 `text` that an MQTT topic must not hold (MQTT 5 1.5.4, as
// mosquitto checks it: U+0000..U+001F, U+007F..U+009F, the non-characters), or nullopt.
std::optional<uint32_t> ForbiddenTopicCodePoint(std::string_view text);

// ---------------------------------------------------------------------------
// The network sections (scenario_network.cc).

// network: none, a profile name, or a map of a profile and/or values and the backend.
void ReadNetwork(Reader& r, const Entry* entry, const ExternalChecks& checks, bool embedded,
                 NetworkSpec* out);
void ReadSubscribe(Reader& r, const Entry* entry, SubscribeSpec* out);
void EmitNetwork(YAML::Emitter& out, const NetworkSpec& n);

// ---------------------------------------------------------------------------
// broker.resources (resources.cc) and search: (search.cc).

void ReadResources(Reader& r, const Entry* entry, const ExternalChecks& checks, bool embedded,
                   ResourcesSpec* out);
void EmitResources(YAML::Emitter& out, const ResourcesSpec& res);
// search: (needs expect: read into `s` first).
void ReadSearch(Reader& r, const Entry* entry, Scenario* s);
void EmitSearch(YAML::Emitter& out, const SearchSpec& search);
// Each end of the search range applied to the cell's YAML `root` must give a valid
// scenario; fails at search.from or search.to with the reason.
void CheckSearchRange(Reader& r, const YAML::Node& root, const std::string& file,
                      const ExternalChecks& checks, const SearchSpec& search);

// ---------------------------------------------------------------------------
// The whole scenario (scenario.cc), and the keys of sets (experiment.cc).

// Every section of the map `root`, checked; the Scenario or the first error.
Result<Scenario> Validate(Reader& r, const YAML::Node& root, const std::string& file_name,
                          const ExternalChecks& checks);
// "a.b.c" -> {"a", "b", "c"}.
std::vector<std::string> SplitPath(std::string_view path);
// Why a key path cannot be set (unknown or reserved key, not a map), or nullopt.
std::optional<std::string> KeyPathProblem(const std::vector<std::string>& keys);
// Writes `value` at `keys` below `root`, turning what is in the way into maps.
void PutValue(const YAML::Node& root, const std::vector<std::string>& keys,
              const YAML::Node& value);
Status ApplyOverride(const YAML::Node& root, const Override& o);

// expect: (needs the rest of the scenario read into `s`), cost:, repeat:, cooldown_s:.
void ReadSetKeys(Reader& r, const Section& top, const ExternalChecks& checks, Scenario* s);
void EmitSetKeys(YAML::Emitter& out, const Scenario& s);

}  // namespace edgebench::scenario_internal

#endif  // EDGEBENCH_SRC_SCENARIO_INTERNAL_H_
