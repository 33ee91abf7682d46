// A search in compare's formats: its heading, a table of steps per group with the group's
// answer (table and markdown), one row per step (CSV), and the whole of it (JSON).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compare/internal.h"

namespace edgebench::compare_internal {
namespace {

using nlohmann::json;

std::string GroupHeading(const SearchCurve& g) {
  return g.label == g.id ? g.label : g.label + " (" + g.id + ")";
}

// A header, then one row per step in value order.
std::vector<std::vector<std::string>> StepRows(const SearchCurves& s, const SearchCurve& g) {
  std::vector<std::vector<std::string>> rows(1, {s.key, "verdict", "runs held"});
  for (Metric m : s.metrics) rows[0].push_back(MetricHeader(m));
  for (const SearchStepSummary& step : g.steps) {
    std::vector<std::string> row = {
        FormatSearchValue(step.value), step.verdict,
        std::to_string(step.holds) + " of " + std::to_string(step.runs)};
    for (const MetricSummary& m : step.metrics) row.push_back(SummaryText(m));
    rows.push_back(std::move(row));
  }
  return rows;
}

json StepJson(const SearchStepSummary& step) {
  json metrics = json::object();
  for (const MetricSummary& m : step.metrics) {
    metrics[std::string(InfoOf(m.metric).name)] = {
        {"values", m.values},
        {"median", OptionalJson(m.median)},
        {"lo", m.interval ? json(m.interval->lo) : json(nullptr)},
        {"hi", m.interval ? json(m.interval->hi) : json(nullptr)}};
  }
  return {{"value", step.value}, {"cell", step.cell},   {"verdict", step.verdict},
          {"runs", step.runs},   {"holds", step.holds}, {"metrics", metrics}};
}

json GroupJson(const SearchCurve& g) {
  json values = json::array();
  for (const auto& [key, value] : g.values) values.push_back({{"key", key}, {"value", value}});
  json steps = json::array();
  for (const SearchStepSummary& step : g.steps) steps.push_back(StepJson(step));
  return {{"label", g.label},
          {"id", g.id},
          {"values", values},
          {"holds", OptionalJson(g.holds)},
          {"fails", OptionalJson(g.fails)},
          {"stop_reason", g.stop_reason},
          {"answer", g.answer},
          {"broker_cpus", OptionalJson(g.broker_cpus)},
          {"steps", steps}};
}

}  // namespace

std::string SearchTable(const Comparison& c) {
  const SearchCurves& s = *c.search;
  std::string out = s.heading + "\n";
  for (const SearchCurve& g : s.groups) {
    out += "\n" + GroupHeading(g) + ":\n" + AlignedTable(StepRows(s, g), "  ");
    out += "  answer: " + g.answer + "\n";
  }
  return out + "\n";
}

std::string SearchMarkdown(const Comparison& c) {
  const SearchCurves& s = *c.search;
  std::string out = s.heading + "\n";
  for (const SearchCurve& g : s.groups) {
    out += "\n### " + GroupHeading(g) + "\n\n" + MarkdownTable(StepRows(s, g), 3);
    out += "\nAnswer: " + g.answer + "\n";
  }
  return out + "\n";
}

std::string SearchCsv(const SearchCurves& s) {
  std::string out = "group,key,value,cell,verdict,runs,runs_held";
  for (Metric m : s.metrics) {
    std::string name(InfoOf(m).name);
    out += "," + name + "," + name + "_lo," + name + "_hi";
  }
  out += ",holds,fails,stop_reason,answer\n";
  for (const SearchCurve& g : s.groups) {
    for (const SearchStepSummary& step : g.steps) {
      out += CsvField(g.label) + "," + CsvField(s.key) + "," + ExactText(step.value) + "," +
             CsvField(step.cell) + "," + step.verdict + "," + std::to_string(step.runs) + "," +
             std::to_string(step.holds);
      for (const MetricSummary& m : step.metrics) {
        out += "," + ExactText(m.median) + "," +
               ExactText(m.interval ? std::optional(m.interval->lo) : std::nullopt) + "," +
               ExactText(m.interval ? std::optional(m.interval->hi) : std::nullopt);
      }
      out += "," + ExactText(g.holds) + "," + ExactText(g.fails) + "," + g.stop_reason + "," +
             CsvField(g.answer) + "\n";
    }
  }
  return out;
}

json SearchJson(const SearchCurves& s) {
  json thresholds = json::array();
  for (const Threshold& t : s.thresholds) {
    thresholds.push_back(
        {{"metric", t.metric}, {"min", OptionalJson(t.min)}, {"max", OptionalJson(t.max)}});
  }
  json metrics = json::array();
  for (Metric m : s.metrics) metrics.push_back(InfoOf(m).name);
  json groups = json::array();
  for (const SearchCurve& g : s.groups) groups.push_back(GroupJson(g));
  return {{"heading", s.heading},
          {"key", s.key},
          {"unit", s.unit},
          {"from", s.from},
          {"to", s.to},
          {"repeat", s.repeat},
          {"expect", s.expect},
          {"thresholds", thresholds},
          {"metrics", metrics},
          {"groups", groups},
          {"sentence", s.sentence}};
}

}  // namespace edgebench::compare_internal
