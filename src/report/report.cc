// The report page: gnuplot run once for every chart in a temporary directory, its SVG
// inlined, around compare's tables and the runs' files; a search's section first.
#include "edgebench/report/report.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "edgebench/results/run_directory.h"

#include "report/internal.h"

namespace edgebench {
namespace {

// The styles of the page: inline, like everything else, so it requests nothing.
constexpr const char* kStyle = R"(
body { font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1d1d1f; margin: 0 auto;
       max-width: 1180px; padding: 8px 24px 48px; }
h1 { font-size: 26px; margin: 16px 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px;
  border-bottom: 1px solid #d6d6d6; padding-bottom: 4px; } h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: #666; margin: 0 0 12px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; }
th, td { border: 1px solid #d6d6d6; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f4f5f7; } td.label, th.label { text-align: left; }
td small { color: #666; white-space: nowrap; }
.scroll { overflow-x: auto; } table.cells td.label { white-space: nowrap; }
td.values { font-size: 12.5px; color: #444; }
.answer { background: #f1f8f1; border: 1px solid #b9dcb9; padding: 8px 14px; border-radius: 6px; }
.notice { background: #fff8e6; border: 1px solid #f0d68a; padding: 8px 14px; border-radius: 6px; }
.pass { color: #17702a; } .fail { color: #b3261e; font-weight: 600; }
figure.chart { margin: 18px 0 26px; } figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 13.5px; margin: 2px 0 0; max-width: 900px; }
details { border: 1px solid #d6d6d6; border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
summary { cursor: pointer; } pre { background: #f7f7f9; padding: 8px; overflow-x: auto; font-size: 12.5px; }
)";

constexpr const char* kNoGnuplot =
    "Charts are not drawn: gnuplot was not found. Install it (Debian and Ubuntu: "
    "<code>apt-get install gnuplot-nox</code>) and run <code>edgebench report</code> again.";

// A mkdtemp directory, removed with its contents on destruction.
class ScratchDir {
 public:
  static Result<ScratchDir> Make() {
    const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read only
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/edgebench-report-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Error{"cannot create a directory like " + pattern + ": " + ErrnoMessage(errno)};
    }
    ScratchDir dir;
    dir.path_ = pattern;
    return dir;
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  ScratchDir() = default;
  std::string path_;
};

// The last line gnuplot printed that says what went wrong.
std::string LastLine(const std::string& log) {
  std::string_view text = log;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  size_t start = text.rfind('\n');
  return std::string(start == std::string_view::npos ? text : text.substr(start + 1));
}

// Runs gnuplot on the plan's script. An error is a warning for the page (why no charts).
Status RunGnuplot(const ChartPlan& plan, const ReportOptions& options, const std::string& dir) {
  std::string script = dir + "/charts.gp";
  if (Status st = WriteFile(script, plan.script); !st) return st;
  std::string log = dir + "/gnuplot.log";
  Result<ChildProcess> child = SpawnProgram({options.gnuplot, script}, log);
  if (!child.ok()) return child.error();
  std::optional<int> status = child->Wait(options.gnuplot_timeout_ms);
  if (!status) {
    child->Kill();
    return Error{"gnuplot did not finish within " +
                 std::to_string(options.gnuplot_timeout_ms / 1000) + " s"};
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    Result<std::string> text = ReadFile(log);
    return Error{"gnuplot " + DescribeWaitStatus(*status) +
                 (text.ok() && !text->empty() ? ": " + LastLine(*text) : "")};
  }
  return Ok{};
}

// Each chart's SVG inlined in a <figure>, the search's apart from the rest; or a notice
// why there are none.
struct Figures {
  std::string notice;  // "" when gnuplot drew the charts
  std::string search;  // the search's charts (ChartSpec::search)
  std::string other;
};

Figures DrawCharts(const ChartPlan& plan, const ReportOptions& options, const std::string& dir,
                   Report& report) {
  Figures figures;
  if (options.gnuplot.empty() || !FindProgram(options.gnuplot)) {
    report.warnings.emplace_back(
        "gnuplot not found: the report has no charts (install "
        "gnuplot-nox)");
    figures.notice = std::string("<p class=\"notice\">") + kNoGnuplot + "</p>\n";
    return figures;
  }
  if (Status st = RunGnuplot(plan, options, dir); !st) {
    report.warnings.push_back(st.error().ToString() + "; the report has no charts");
    figures.notice =
        "<p class=\"notice\">Charts are not drawn: " + HtmlEscape(report.warnings.back()) +
        ".</p>\n";
    return figures;
  }
  for (const ChartSpec& chart : plan.charts) {
    Result<std::string> svg = ReadFile(chart.file);
    std::string inlined = svg.ok() ? InlineSvg(*svg, chart.id + "-") : "";
    if (inlined.empty()) {
      report.warnings.push_back("gnuplot wrote no chart " + chart.id);
      continue;
    }
    // gnuplot draws the title; the caption under the chart says how to read it.
    (chart.search ? figures.search : figures.other) +=
        "<figure class=\"chart\" id=\"chart-" + chart.id + "\" data-chart=\"" + chart.id + "\">\n" +
        inlined + "<figcaption>" + HtmlEscape(chart.caption) + "</figcaption>\n</figure>\n";
    report.charts.push_back(chart.id);
  }
  return figures;
}

bool HasSearchCharts(const ChartPlan& plan) {
  for (const ChartSpec& chart : plan.charts) {
    if (chart.search) return true;
  }
  return false;
}

std::string NotesList(const std::vector<std::string>& notes) {
  if (notes.empty()) return "";
  std::string html = "<ul class=\"chart-notes\">\n";
  for (const std::string& n : notes) html += "<li>" + HtmlEscape(n) + "</li>\n";
  return html + "</ul>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Only attributes change: ids and the references to them (href='#x', url(#x)).
std::string InlineSvg(std::string_view svg, std::string_view id_prefix) {
  size_t start = svg.find("<svg");
  if (start == std::string_view::npos) return "";
  std::string out(svg.substr(start));
  const std::string_view patterns[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
  for (std::string_view pattern : patterns) {
    size_t at = out.find(pattern);
    while (at != std::string::npos) {
      // " id=" only: not the end of another attribute's name.
      bool whole =
          pattern[0] != 'i' || (at > 0 && std::isspace(static_cast<unsigned char>(out[at - 1])));
      at += pattern.size();
      if (whole) {
        out.insert(at, id_prefix);
        at += id_prefix.size();
      }
      at = out.find(pattern, at);
    }
  }
  return out;
}

Result<Report> RenderReport(const Comparison& comparison, const ReportOptions& options) {
  Result<ScratchDir> dir = ScratchDir::Make();
  if (!dir.ok()) return dir.error();
  ChartPlan plan = PlanCharts(comparison, dir->path());
  Report report;
  size_t runs = 0;
  for (const CompareCell& cell : comparison.cells) runs += cell.runs.size();
  // The search's charts come first in the plan, so report.charts is in page order.
  Figures figures = DrawCharts(plan, options, dir->path(), report);
  std::string& html = report.html;
  html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>" +
      HtmlEscape(options.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>" + HtmlEscape(options.title) + "</h1>\n<p class=\"meta\">" +
          std::to_string(comparison.cells.size()) + " cell" +
          (comparison.cells.size() == 1 ? "" : "s") + ", " + std::to_string(runs) + " run" +
          (runs == 1 ? "" : "s") + "; edgebench " + HtmlEscape(EdgebenchVersion()) + "</p>\n";
  if (comparison.search) {
    std::string notice = HasSearchCharts(plan) ? figures.notice : "";
    html += report_internal::SearchSection(*comparison.search, notice + figures.search);
  }
  html += report_internal::ComparisonSection(comparison);
  html +=
      "<h2 id=\"charts\">Charts</h2>\n" + figures.notice + figures.other + NotesList(plan.notes);
  html += report_internal::RunsSection(comparison);
  html += "</body>\n</html>\n";
  return report;
}

}  // namespace edgebench
