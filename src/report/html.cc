// The report's HTML sections: compare's tables and sentences (the answer, one row per cell,
// the difference of two cells, notes) and each run's scenario.yaml and manifest.json.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/fd.h"
#include "edgebench/results/metrics.h"

#include "report/internal.h"

namespace edgebench::report_internal {
namespace {

std::string Cell(const std::string& text, const char* cls = nullptr) {
  return std::string(cls ? "<td class=\"" + std::string(cls) + "\">" : "<td>") + text + "</td>";
}

std::string Header(const std::string& text, const char* cls = nullptr) {
  return std::string(cls ? "<th class=\"" + std::string(cls) + "\">" : "<th>") + text + "</th>";
}

std::string MetricHeader(Metric metric) {
  const MetricInfo& info = InfoOf(metric);
  std::string text = HtmlEscape(info.label);
  if (!info.unit.empty()) text += " (" + HtmlEscape(info.unit) + ")";
  return Header(text);
}

std::string Paragraphs(const std::vector<std::string>& lines) {
  std::string html;
  for (const std::string& line : lines) {
    if (!line.empty()) html += "<p>" + HtmlEscape(line) + "</p>\n";
  }
  return html;
}

// "latency_p99_ms &le; 50", "received_per_s &ge; 95".
std::string ThresholdText(const ThresholdMargin& t) {
  std::string text = HtmlEscape(t.metric);
  if (t.min) text += " &ge; " + FormatFigure(t.min);
  if (t.min && t.max) text += " and";
  if (t.max) text += " &le; " + FormatFigure(t.max);
  return text;
}

// <td ATTRIBUTES SPAN>text</td>, for a cell that spans the rows of a cell's thresholds.
std::string SpannedCell(const std::string& text, const std::string& span, const char* attributes) {
  std::string html = "<td";
  html += attributes;
  html += span;
  html += ">";
  html += text;
  html += "</td>";
  return html;
}

std::string AnswerSection(const Decision& decision) {
  std::string html = "<section class=\"answer\" id=\"answer\">\n<h2>The answer</h2>\n" +
                     Paragraphs(decision.sentences);
  html += "<table>\n<tr>" + Header("cell", "label") + Header("meets every threshold") +
          Header("cost per month (USD)") + Header("threshold", "label") + Header("runs passed") +
          Header("worst run") + Header("margin") + "</tr>\n";
  for (const CellVerdict& v : decision.cells) {
    std::string verdict =
        v.meets_all ? "<span class=\"pass\">yes</span>" : "<span class=\"fail\">no</span>";
    size_t rows = std::max<size_t>(1, v.thresholds.size());
    std::string span = rows > 1 ? " rowspan=\"" + std::to_string(rows) + "\"" : "";
    html += "<tr>";
    html += SpannedCell(HtmlEscape(v.label), span, " class=\"label\"");
    html += SpannedCell(verdict, span, "");
    html += SpannedCell(FormatFigure(v.cost_per_month_usd), span, "");
    if (v.thresholds.empty()) html += Cell("-", "label") + Cell("-") + Cell("-") + Cell("-");
    for (size_t i = 0; i < v.thresholds.size(); ++i) {
      const ThresholdMargin& t = v.thresholds[i];
      if (i > 0) html += "<tr>";
      std::string passed = std::to_string(t.runs_passed) + " of " + std::to_string(t.runs);
      html += Cell(ThresholdText(t), "label") +
              Cell(t.met() ? passed : "<span class=\"fail\">" + passed + "</span>") +
              Cell(FormatFigure(t.worst)) + Cell(FormatFigure(t.margin)) + "</tr>\n";
    }
    if (v.thresholds.empty()) html += "</tr>\n";
  }
  return html + "</table>\n</section>\n";
}

std::string ValueOf(const CompareCell& cell, const std::string& key) {
  for (const auto& [k, v] : cell.values) {
    if (k == key) return v;
  }
  return "-";
}

// Up to this many keys get a column each; more go into one "values" column, a line each.
constexpr size_t kMaxKeyColumns = 3;

// The cell's value of each key: a cell per key, or one cell of "key = value" lines.
std::string ValueCells(const Comparison& c, const CompareCell& cell) {
  if (c.keys.size() <= kMaxKeyColumns) {
    std::string html;
    for (const std::string& key : c.keys) html += Cell(HtmlEscape(ValueOf(cell, key)), "label");
    return html;
  }
  std::string lines;
  for (const std::string& key : c.keys) {
    lines +=
        (lines.empty() ? "" : "<br>") + HtmlEscape(key) + " = " + HtmlEscape(ValueOf(cell, key));
  }
  return Cell(lines, "label values");
}

std::string MetricCell(const CellSummary* summary, Metric metric) {
  const MetricSummary* m = summary ? FindMetric(*summary, metric) : nullptr;
  std::string text = FormatFigure(m ? m->median : std::nullopt);
  if (m && m->interval) {
    text += "<br><small>" + FormatFigure(m->interval->lo) + ".." + FormatFigure(m->interval->hi) +
            "</small>";
  }
  return Cell(text);
}

// One row per cell: its matrix values, its runs, and each metric's median with its interval.
std::string CellsTable(const Comparison& c) {
  std::string html = "<h2 id=\"cells\">Cells</h2>\n<p>Median over each cell's runs; below it the " +
                     FormatFigure(c.confidence * 100) +
                     "% bootstrap interval of the median (two runs or more).</p>\n<div "
                     "class=\"scroll\">\n<table class=\"cells\">\n<tr>" +
                     Header("cell", "label");
  if (c.keys.size() <= kMaxKeyColumns) {
    for (const std::string& key : c.keys) html += Header(HtmlEscape(key), "label");
  } else {
    html += Header("values", "label");
  }
  html += Header("runs");
  for (Metric m : CompareMetrics()) html += MetricHeader(m);
  html += "</tr>\n";
  for (size_t i = 0; i < c.cells.size(); ++i) {
    const CompareCell& cell = c.cells[i];
    html += "<tr>" + Cell(HtmlEscape(cell.label), "label") + ValueCells(c, cell) +
            Cell(std::to_string(cell.runs.size()));
    for (Metric metric : CompareMetrics()) {
      html += MetricCell(i < c.summaries.size() ? &c.summaries[i] : nullptr, metric);
    }
    html += "</tr>\n";
  }
  return html + "</table>\n</div>\n";
}

std::string DifferenceSection(const Difference& d) {
  std::string html =
      "<h2 id=\"difference\">" + HtmlEscape(d.b) + " against " + HtmlEscape(d.a) + "</h2>\n<ul>\n";
  for (const MetricDifference& m : d.metrics) {
    if (!m.sentence.empty()) html += "<li>" + HtmlEscape(m.sentence) + "</li>\n";
  }
  html += "</ul>\n";
  if (!d.distributions) return html;
  const DistributionComparison& dist = *d.distributions;
  html += Paragraphs({dist.sentence}) + "<table>\n<tr>" + Header("percentile") +
          Header(HtmlEscape(d.a) + " (ms)") + Header(HtmlEscape(d.b) + " (ms)") + "</tr>\n";
  for (const PercentilePair& p : dist.percentiles) {
    std::string name = p.percentile >= 100 ? "max" : "p" + FormatFigure(p.percentile);
    html +=
        "<tr>" + Cell(name) + Cell(FormatFigure(p.a_ms)) + Cell(FormatFigure(p.b_ms)) + "</tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace

std::string ComparisonSection(const Comparison& comparison) {
  std::string html;
  if (comparison.decision) html += AnswerSection(*comparison.decision);
  html += CellsTable(comparison);
  if (comparison.difference) html += DifferenceSection(*comparison.difference);
  if (!comparison.notes.empty()) {
    html += "<h3>Notes</h3>\n<ul>\n";
    for (const std::string& n : comparison.notes) html += "<li>" + HtmlEscape(n) + "</li>\n";
    html += "</ul>\n";
  }
  return html;
}

namespace {

// A file of the run shown as text; a file that cannot be read says so in its place.
std::string FileBlock(const std::string& dir, const char* name) {
  Result<std::string> text = ReadFile(dir + "/" + name);
  return std::string("<h4>") + name + "</h4>\n<pre>" +
         HtmlEscape(text.ok() ? *text : text.error().ToString()) + "</pre>\n";
}

std::string RunSummary(const CompareRun& run, size_t index) {
  const RunResult& r = run.result;
  std::string text = "<b>" + HtmlEscape(RunName(run, index)) + "</b> " + HtmlEscape(run.dir) +
                     " &middot; " + RunStatusName(r.status) + " &middot; " +
                     FormatFigure(r.received_per_s) + " msg/s delivered";
  if (r.latency_us.summary.count > 0) {
    text += " &middot; p99 " + FormatFigure(static_cast<double>(r.latency_us.summary.p99) / 1000) +
            " ms";
  }
  return text;
}

}  // namespace

std::string RunsSection(const Comparison& comparison) {
  std::string html =
      "<h2 id=\"runs\">Runs</h2>\n<p>Each run's resolved scenario and manifest "
      "(host, versions, command line), as the run wrote them.</p>\n";
  for (const CompareCell& cell : comparison.cells) {
    html += "<h3>" + HtmlEscape(cell.label) + "</h3>\n";
    for (size_t i = 0; i < cell.runs.size(); ++i) {
      const CompareRun& run = cell.runs[i];
      html += "<details class=\"run\">\n<summary>" + RunSummary(run, i) + "</summary>\n" +
              FileBlock(run.dir, "scenario.yaml") + FileBlock(run.dir, "manifest.json") +
              "</details>\n";
    }
  }
  return html;
}

}  // namespace edgebench::report_internal
