// search.json of a set that searched a key: the one place that knows its keys, and the
// sentence that states a search's answer.
#include "edgebench/results/search_result.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/fd.h"

#include "results/internal.h"

namespace edgebench {

using nlohmann::json;

namespace {

json OptionalJson(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> OptionalOf(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}

json StepJson(const SearchResultStep& s) {
  return {{"step", s.step}, {"value", s.value}, {"cell", s.cell},
          {"runs", s.runs}, {"holds", s.holds}, {"verdict", s.verdict}};
}

json GroupJson(const SearchGroup& g) {
  json values = json::array();
  for (const auto& [key, value] : g.values) values.push_back({{"key", key}, {"value", value}});
  json steps = json::array();
  for (const SearchResultStep& s : g.steps) steps.push_back(StepJson(s));
  return {{"id", g.id},
          {"values", values},
          {"holds", OptionalJson(g.holds)},
          {"fails", OptionalJson(g.fails)},
          {"stop_reason", g.stop_reason},
          {"runs_used", g.runs_used},
          {"steps", steps}};
}

SearchResultStep StepOf(const json& j) {
  SearchResultStep s;
  s.step = j.at("step").get<int>();
  s.value = j.at("value").get<double>();
  s.cell = j.at("cell").get<std::string>();
  s.runs = j.at("runs").get<int>();
  s.holds = j.at("holds").get<int>();
  s.verdict = j.at("verdict").get<std::string>();
  return s;
}

SearchGroup GroupOf(const json& j) {
  SearchGroup g;
  g.id = j.at("id").get<std::string>();
  for (const json& v : j.at("values")) {
    g.values.emplace_back(v.at("key").get<std::string>(), v.at("value").get<std::string>());
  }
  g.holds = OptionalOf(j.at("holds"));
  g.fails = OptionalOf(j.at("fails"));
  g.stop_reason = j.at("stop_reason").get<std::string>();
  g.runs_used = j.at("runs_used").get<int>();
  for (const json& s : j.at("steps")) g.steps.push_back(StepOf(s));
  return g;
}

Status CheckVerdicts(const SearchResult& result) {
  for (const SearchGroup& g : result.groups) {
    for (const SearchResultStep& s : g.steps) {
      if (s.verdict == "holds" || s.verdict == "fails" || s.verdict == "mixed") continue;
      return Error{"group " + g.id + " step " + std::to_string(s.step) +
                   ": verdict must be holds, fails or mixed, got '" + s.verdict + "'"};
    }
  }
  return Ok{};
}

bool Complete(const SearchResult& result) {
  for (const SearchGroup& g : result.groups) {
    if (g.stop_reason.empty()) return false;
  }
  return true;
}

}  // namespace

json SearchResultToJson(const SearchResult& result) {
  json groups = json::array();
  for (const SearchGroup& g : result.groups) groups.push_back(GroupJson(g));
  return {{"format", result.format},
          {"key", result.key},
          {"from", result.from},
          {"to", result.to},
          {"resolution", result.resolution},
          {"resolution_pct", result.resolution_pct},
          {"max_runs", result.max_runs},
          {"max_mixed", result.max_mixed},
          {"repeat", result.repeat},
          {"expect", result.expect},
          {"complete", Complete(result)},
          {"groups", groups}};
}

Result<SearchResult> SearchResultFromJson(const json& j) {
  if (!j.is_object()) return Error{"search result must be a JSON object"};
  try {
    int format = j.value("format", 0);
    if (format > kSearchResultFormat) {
      return Error{"search result format " + std::to_string(format) +
                   " is newer than this edgebench reads (" + std::to_string(kSearchResultFormat) +
                   ")"};
    }
    SearchResult r;
    r.format = j.at("format").get<int>();
    r.key = j.at("key").get<std::string>();
    r.from = j.at("from").get<double>();
    r.to = j.at("to").get<double>();
    r.resolution = j.at("resolution").get<double>();
    r.resolution_pct = j.at("resolution_pct").get<bool>();
    r.max_runs = j.at("max_runs").get<int>();
    r.max_mixed = j.at("max_mixed").get<int>();
    r.repeat = j.at("repeat").get<int>();
    r.expect = j.at("expect").get<std::vector<std::string>>();
    for (const json& g : j.at("groups")) r.groups.push_back(GroupOf(g));
    if (Status st = CheckVerdicts(r); !st) return st.error();
    return r;
  } catch (const json::exception& e) {
    return Error{std::string("malformed search result: ") + e.what()};
  }
}

Result<SearchResult> ReadSearchResult(const std::string& set_dir) {
  std::string path = set_dir + "/search.json";
  Result<json> j = results_internal::ReadJsonFile(path);
  if (!j.ok()) return j.error();
  Result<SearchResult> result = SearchResultFromJson(*j);
  if (!result.ok()) return Error{path + ": " + result.error().message};
  return result;
}

Status WriteSearchResult(const std::string& set_dir, const SearchResult& result) {
  return results_internal::WriteJsonAtomically(set_dir + "/search.json",
                                               SearchResultToJson(result));
}

std::string FormatSearchValue(double value) {
  char buf[400];  // room for any double in fixed notation
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

namespace {

std::string Count(int n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

int MixedSteps(const SearchGroup& g) {
  int n = 0;
  for (const SearchResultStep& s : g.steps) n += s.verdict == "mixed" ? 1 : 0;
  return n;
}

std::string DescribeFromFails(const SearchResult& r, const SearchGroup& g) {
  std::string from =
      FormatSearchValue(g.steps.empty() ? g.fails.value_or(r.from) : g.steps.front().value);
  std::string head = r.key + ": " + from + " (from) ";
  if (!g.steps.empty() && g.steps.front().verdict == "mixed") {
    const SearchResultStep& s = g.steps.front();
    return head + "held in only " + std::to_string(s.holds) + " of " + Count(s.runs, "run");
  }
  return head + "does not hold (" + Count(g.runs_used, "run") + ")";
}

// No value held: the budget allowed no step, or the search has not got anywhere yet.
std::string DescribeNothingHeld(const SearchResult& r, const SearchGroup& g) {
  if (g.stop_reason == "budget") {
    return r.key + ": not tried (max_runs " + std::to_string(r.max_runs) +
           " is less than one step of " + Count(r.repeat, "run") + ")";
  }
  if (g.stop_reason.empty()) {
    if (g.steps.empty()) return r.key + ": searching (no step done yet)";
    return r.key + ": nothing held so far (searching; " + Count(g.runs_used, "run") + ")";
  }
  return r.key + ": nothing held (stopped: " + g.stop_reason + "; " + Count(g.runs_used, "run") +
         ")";
}

// Why the search stopped short of (or at) the bracket it reports.
std::string StopNote(const SearchResult& r, const SearchGroup& g) {
  const std::string& reason = g.stop_reason;
  if (reason == "resolution") {
    // Mixed steps inside the bracket say the edge is blurred: a reader should know.
    int mixed = MixedSteps(g);
    return "resolution " + FormatSearchValue(r.resolution) + (r.resolution_pct ? "%" : "") +
           (mixed > 0 ? ", " + Count(mixed, "step") + " held in only some runs" : "");
  }
  if (reason == "noisy")
    return "noisy: " + Count(MixedSteps(g), "step") + " held in only some runs";
  if (reason == "budget") return "out of budget: max_runs " + std::to_string(r.max_runs);
  if (reason.empty()) return "searching";
  return "stopped: " + reason;
}

}  // namespace

std::string DescribeAnswer(const SearchResult& result, const SearchGroup& group) {
  std::string runs = Count(group.runs_used, "run");
  if (group.stop_reason == "from_fails") return DescribeFromFails(result, group);
  if (!group.holds) return DescribeNothingHeld(result, group);
  std::string holds = FormatSearchValue(*group.holds);
  if (group.stop_reason == "range_holds") {
    return result.key + " holds across the whole range up to " + holds + " (" + runs + ")";
  }
  std::string bracket =
      group.fails ? "fails at " + FormatSearchValue(*group.fails) : std::string("not tried higher");
  return result.key + " holds up to " + holds + (group.stop_reason.empty() ? " so far" : "") +
         " (" + bracket + "; " + StopNote(result, group) + "; " + runs + ")";
}

}  // namespace edgebench
