// The report's search section: what was searched, each group's answer and the sentence
// comparing them, one table of steps per group, and the search's charts.
#include <string>
#include <vector>

#include "edgebench/results/metrics.h"

#include "report/internal.h"

namespace edgebench::report_internal {
namespace {

std::string Td(const std::string& html, const char* cls = nullptr) {
  return std::string(cls ? "<td class=\"" + std::string(cls) + "\">" : "<td>") + html + "</td>";
}

std::string Th(const std::string& html, const char* cls = nullptr) {
  return std::string(cls ? "<th class=\"" + std::string(cls) + "\">" : "<th>") + html + "</th>";
}

std::string VerdictHtml(const std::string& verdict) {
  if (verdict == "holds") return "<span class=\"pass\">holds</span>";
  if (verdict == "fails") return "<span class=\"fail\">fails</span>";
  return HtmlEscape(verdict);
}

// The median, and below it the bootstrap interval when the step has two runs or more.
std::string FigureHtml(const MetricSummary& m) {
  std::string text = FormatFigure(m.median);
  if (m.interval) {
    text += "<br><small>" + FormatFigure(m.interval->lo) + ".." + FormatFigure(m.interval->hi) +
            "</small>";
  }
  return text;
}

std::string StepsTable(const SearchCurves& s, const SearchCurve& g) {
  std::string html = "<div class=\"scroll\">\n<table class=\"search-steps\" data-group=\"" +
                     HtmlEscape(g.id) + "\">\n<tr>" + Th(HtmlEscape(s.key)) + Th("verdict") +
                     Th("runs held");
  for (Metric m : s.metrics) {
    const MetricInfo& info = InfoOf(m);
    html +=
        Th(HtmlEscape(info.label) + (info.unit.empty() ? "" : " (" + HtmlEscape(info.unit) + ")"));
  }
  html += Th("cell", "label") + "</tr>\n";
  for (const SearchStepSummary& step : g.steps) {
    html += "<tr>" + Td(FormatSearchValue(step.value)) + Td(VerdictHtml(step.verdict)) +
            Td(std::to_string(step.holds) + " of " + std::to_string(step.runs));
    for (const MetricSummary& m : step.metrics) html += Td(FigureHtml(m));
    html += Td(HtmlEscape(step.cell), "label") + "</tr>\n";
  }
  return html + "</table>\n</div>\n";
}

}  // namespace

std::string SearchSection(const SearchCurves& s, const std::string& charts) {
  std::string html = "<section id=\"search\">\n<h2>The search: " + HtmlEscape(s.key) +
                     "</h2>\n<p>" + HtmlEscape(s.heading) + "</p>\n";
  html += "<div class=\"answer\" id=\"search-answer\">\n";
  for (const SearchCurve& g : s.groups) {
    html += "<p><b>" + HtmlEscape(g.label) + "</b>: " + HtmlEscape(g.answer) + "</p>\n";
  }
  if (!s.sentence.empty()) html += "<p>" + HtmlEscape(s.sentence) + "</p>\n";
  html += "</div>\n";
  for (const SearchCurve& g : s.groups) {
    std::string heading = g.label == g.id ? g.label : g.label + " (" + g.id + ")";
    html += "<h3>" + HtmlEscape(heading) + "</h3>\n" + StepsTable(s, g);
  }
  html +=
      "<p>Each figure is the median over the step's runs, with the bootstrap interval of "
      "the median below it from two runs on. Each step is also a cell of the tables "
      "and charts below.</p>\n";
  return html + charts + "</section>\n";
}

}  // namespace edgebench::report_internal
