// The formatters of a Comparison: terminal table, markdown, CSV and JSON.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/compare/compare.h"

#include "compare/internal.h"

namespace edgebench {

using nlohmann::json;

namespace compare_internal {

std::string MetricHeader(Metric m) {
  const MetricInfo& info = InfoOf(m);
  return std::string(info.label) + (info.unit.empty() ? "" : " (" + std::string(info.unit) + ")");
}

std::string SummaryText(const MetricSummary& s) {
  std::string text = FormatFigure(s.median);
  if (s.interval) {
    text += " [" + FormatFigure(s.interval->lo) + ".." + FormatFigure(s.interval->hi) + "]";
  }
  return text;
}

std::string AlignedTable(const std::vector<std::vector<std::string>>& rows,
                         const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i] + std::string(widths[i] + 2 - row[i].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string MarkdownTable(const std::vector<std::vector<std::string>>& rows, size_t text_columns) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "|";
    for (const std::string& field : rows[r]) out += " " + field + " |";
    out += "\n";
    if (r == 0) {
      out += "|";
      for (size_t i = 0; i < rows[0].size(); ++i) out += i < text_columns ? " --- |" : " ---: |";
      out += "\n";
    }
  }
  return out;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

std::string ExactText(std::optional<double> v) {
  if (!v) return "";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
  return ec == std::errc() ? std::string(buf, end) : "";
}

json OptionalJson(std::optional<double> v) { return v ? json(*v) : json(nullptr); }

}  // namespace compare_internal

namespace {

using namespace compare_internal;  // NOLINT(google-build-using-namespace)

// The metrics at least one cell measured: the table leaves out columns of dashes.
std::vector<size_t> MeasuredColumns(const Comparison& c) {
  std::vector<size_t> columns;
  for (size_t m = 0; m < CompareMetrics().size(); ++m) {
    bool any = std::any_of(c.summaries.begin(), c.summaries.end(),
                           [m](const CellSummary& s) { return s.metrics[m].median.has_value(); });
    if (any) columns.push_back(m);
  }
  return columns;
}

// The rows of the cell table: a header, then one row per cell.
std::vector<std::vector<std::string>> TableRows(const Comparison& c) {
  std::vector<size_t> columns = MeasuredColumns(c);
  std::vector<std::vector<std::string>> rows(1, {"cell", "runs"});
  for (size_t m : columns) rows[0].push_back(MetricHeader(CompareMetrics()[m]));
  for (const CellSummary& s : c.summaries) {
    std::vector<std::string> row = {s.label, std::to_string(s.runs)};
    for (size_t m : columns) row.push_back(SummaryText(s.metrics[m]));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string MethodNote(const Comparison& c) {
  return std::string("Each figure: the median over the ") + (c.search ? "step" : "cell") +
         "'s runs [" + FormatFigure(c.confidence * 100) +
         "% CI: percentile bootstrap of the median, seed " + std::to_string(c.seed) +
         "; none with one run].";
}

// Every sentence after the table, under its heading.
struct Section {
  std::string heading;
  std::vector<std::string> lines;
};

std::vector<Section> Sections(const Comparison& c) {
  std::vector<Section> out;
  if (c.difference) {
    Section s{c.difference->b + " against " + c.difference->a, {}};
    for (const MetricDifference& d : c.difference->metrics) {
      if (!d.sentence.empty()) s.lines.push_back(d.sentence);
    }
    if (c.difference->distributions) s.lines.push_back(c.difference->distributions->sentence);
    out.push_back(std::move(s));
  }
  if (c.decision) out.push_back({"The answer", c.decision->sentences});
  if (c.search) {
    Section s{"The answer", {}};
    for (const SearchCurve& g : c.search->groups) s.lines.push_back(g.label + ": " + g.answer);
    if (!c.search->sentence.empty()) s.lines.push_back(c.search->sentence);
    out.push_back(std::move(s));
  }
  if (!c.notes.empty()) out.push_back({"Notes", c.notes});
  return out;
}

json Opt(std::optional<double> v) { return OptionalJson(v); }

json CellJson(const CompareCell& cell, const CellSummary& s) {
  json values = json::array();
  for (const auto& [key, value] : cell.values) values.push_back({{"key", key}, {"value", value}});
  json runs = json::array();
  for (const CompareRun& r : cell.runs) {
    runs.push_back({{"dir", r.dir},
                    {"repeat", r.repeat ? json(*r.repeat) : json(nullptr)},
                    {"status", RunStatusName(r.result.status)}});
  }
  json metrics = json::object();
  for (const MetricSummary& m : s.metrics) {
    metrics[std::string(InfoOf(m.metric).name)] = {
        {"values", m.values},
        {"median", Opt(m.median)},
        {"lo", m.interval ? json(m.interval->lo) : json(nullptr)},
        {"hi", m.interval ? json(m.interval->hi) : json(nullptr)}};
  }
  return {{"label", cell.label}, {"id", cell.id}, {"scenario", cell.scenario},
          {"values", values},    {"runs", runs},  {"metrics", metrics}};
}

json DifferenceJson(const Difference& d) {
  json metrics = json::array();
  for (const MetricDifference& m : d.metrics) {
    json test = nullptr;
    if (m.test)
      test = {{"u", m.test->u}, {"p_two_sided", m.test->p_two_sided}, {"exact", m.test->exact}};
    metrics.push_back({{"metric", InfoOf(m.metric).name},
                       {"n_a", m.n_a},
                       {"n_b", m.n_b},
                       {"median_a", Opt(m.median_a)},
                       {"median_b", Opt(m.median_b)},
                       {"estimate", m.difference ? json(m.difference->estimate) : json(nullptr)},
                       {"lo", m.difference ? json(m.difference->lo) : json(nullptr)},
                       {"hi", m.difference ? json(m.difference->hi) : json(nullptr)},
                       {"mann_whitney", test},
                       {"sentence", m.sentence}});
  }
  json out = {{"a", d.a}, {"b", d.b}, {"metrics", metrics}, {"distributions", nullptr}};
  if (d.distributions) {
    json points = json::array();
    for (const PercentilePair& p : d.distributions->percentiles) {
      points.push_back({{"percentile", p.percentile}, {"a_ms", p.a_ms}, {"b_ms", p.b_ms}});
    }
    out["distributions"] = {{"percentiles", points},
                            {"count_a", d.distributions->count_a},
                            {"count_b", d.distributions->count_b},
                            {"sentence", d.distributions->sentence}};
  }
  return out;
}

json DecisionJson(const Decision& d) {
  json cells = json::array();
  for (const CellVerdict& v : d.cells) {
    json thresholds = json::array();
    for (const ThresholdMargin& t : v.thresholds) {
      thresholds.push_back({{"metric", t.metric},
                            {"min", Opt(t.min)},
                            {"max", Opt(t.max)},
                            {"runs", t.runs},
                            {"runs_passed", t.runs_passed},
                            {"worst", Opt(t.worst)},
                            {"margin", Opt(t.margin)},
                            {"met", t.met()},
                            {"reason", t.reason}});
    }
    cells.push_back({{"label", v.label},
                     {"meets_all", v.meets_all},
                     {"cost_per_month_usd", Opt(v.cost_per_month_usd)},
                     {"thresholds", thresholds}});
  }
  auto label = [&](std::optional<size_t> i) { return i ? json(d.cells[*i].label) : json(nullptr); };
  return {{"cells", cells},
          {"cheapest", label(d.cheapest)},
          {"runner_up", label(d.runner_up)},
          {"ratio", Opt(d.ratio)},
          {"sentences", d.sentences}};
}

}  // namespace

Result<CompareFormat> ParseCompareFormat(std::string_view name) {
  if (name == "table") return CompareFormat::kTable;
  if (name == "markdown") return CompareFormat::kMarkdown;
  if (name == "csv") return CompareFormat::kCsv;
  if (name == "json") return CompareFormat::kJson;
  return Error{ErrorKind::kUsage, "unknown format '" + std::string(name) +
                                      "' (expected table, markdown, csv or json)"};
}

std::string CompareTable(const Comparison& c) {
  std::string out = c.search ? SearchTable(c) : AlignedTable(TableRows(c), "");
  out += MethodNote(c) + "\n";
  for (const Section& s : Sections(c)) {
    out += "\n" + s.heading + ":\n";
    for (const std::string& line : s.lines) out += "  " + line + "\n";
  }
  return out;
}

std::string CompareMarkdown(const Comparison& c) {
  std::string out = c.search ? SearchMarkdown(c) : MarkdownTable(TableRows(c), 2) + "\n";
  out += MethodNote(c) + "\n";
  for (const Section& s : Sections(c)) {
    out += "\n### " + s.heading + "\n\n";
    for (const std::string& line : s.lines) out += "- " + line + "\n";
  }
  return out;
}

std::string CompareCsv(const Comparison& c) {
  if (c.search) return SearchCsv(*c.search);
  std::string out = "cell,metric,unit,runs,median,lo,hi\n";
  for (const CellSummary& s : c.summaries) {
    for (const MetricSummary& m : s.metrics) {
      const MetricInfo& info = InfoOf(m.metric);
      out += CsvField(s.label) + "," + std::string(info.name) + "," + std::string(info.unit) + "," +
             std::to_string(m.values.size()) + "," + ExactText(m.median) + "," +
             ExactText(m.interval ? std::optional(m.interval->lo) : std::nullopt) + "," +
             ExactText(m.interval ? std::optional(m.interval->hi) : std::nullopt) + "\n";
    }
  }
  return out;
}

std::string CompareJson(const Comparison& c) {
  json cells = json::array();
  for (size_t i = 0; i < c.cells.size(); ++i) cells.push_back(CellJson(c.cells[i], c.summaries[i]));
  json out = {{"format", 1},
              {"confidence", c.confidence},
              {"seed", c.seed},
              {"keys", c.keys},
              {"cells", cells},
              {"difference", c.difference ? DifferenceJson(*c.difference) : json(nullptr)},
              {"decision", c.decision ? DecisionJson(*c.decision) : json(nullptr)},
              {"search", c.search ? SearchJson(*c.search) : json(nullptr)},
              {"notes", c.notes}};
  return out.dump(2) + "\n";
}

std::string FormatComparison(const Comparison& c, CompareFormat format) {
  switch (format) {
    case CompareFormat::kTable:
      return CompareTable(c);
    case CompareFormat::kMarkdown:
      return CompareMarkdown(c);
    case CompareFormat::kCsv:
      return CompareCsv(c);
    case CompareFormat::kJson:
      return CompareJson(c);
  }
  return CompareTable(c);
}

}  // namespace edgebench
