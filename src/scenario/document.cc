// The checks of a whole YAML file before its keys are read: UTF-8 text, one document, no
// tags, nesting, the size with aliases expanded, long values, and quoted strings that
// swallow the lines after them (contract in internal.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "scenario/internal.h"

namespace edgebench::scenario_internal {
namespace {

// The length of the UTF-8 sequence that starts at text[i], or 0 when it is not valid there
// (overlong forms, surrogates and code points above U+10FFFF are not valid UTF-8).
size_t Utf8SequenceAt(std::string_view text, size_t i) {
  auto byte = [&text](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n = b >= 0xc2 && b <= 0xdf   ? 2
             : b >= 0xe0 && b <= 0xef ? 3
             : b >= 0xf0 && b <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if (b == 0xe0 && second < 0xa0) return 0;  // overlong
  if (b == 0xed && second > 0x9f) return 0;  // surrogates
  if (b == 0xf0 && second < 0x90) return 0;  // overlong
  if (b == 0xf4 && second > 0x8f) return 0;  // above U+10FFFF
  return n;
}

// A key of a block map at the start of a line: "  duration_s:" or "- name: x".
bool LooksLikeKeyLine(std::string_view line, std::string* key) {
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos) return false;
  if (line[i] == '-' && i + 1 < line.size() && line[i + 1] == ' ') {
    i = line.find_first_not_of(' ', i + 1);
    if (i == std::string_view::npos) return false;
  }
  size_t end = i;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  while (end < line.size() && word(line[end])) ++end;
  if (end == i || end >= line.size() || line[end] != ':') return false;
  if (end + 1 < line.size() && line[end + 1] != ' ' && line[end + 1] != '\t') return false;
  *key = std::string(line.substr(i, end - i + 1));
  return true;
}

class DocumentCheck {
 public:
  DocumentCheck(Reader& r, const std::vector<std::string>& lines) : r_(r), lines_(lines) {}

  void Walk(const YAML::Node& node, int depth) {
    if (r_.failed()) return;
    if (++nodes_ > kMaxYamlNodes) {
      r_.Fail("", node.Mark(),
              "the document has more than " + std::to_string(kMaxYamlNodes) +
                  " values with its aliases expanded (aliases that repeat aliases?)");
      return;
    }
    if (depth > kMaxYamlDepth) {
      r_.Fail("", node.Mark(),
              "YAML nesting is deeper than " + std::to_string(kMaxYamlDepth) + " levels");
      return;
    }
    // An alias is the node it names: check each node once, count every visit.
    std::pair<int, int> at{node.Mark().line, node.Mark().column};
    if (seen_.insert(at).second) CheckNode(node);
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end() && !r_.failed(); ++it) {
        Walk(it->first, depth + 1);
        Walk(it->second, depth + 1);
      }
    } else if (node.IsSequence()) {
      for (auto it = node.begin(); it != node.end() && !r_.failed(); ++it) Walk(*it, depth + 1);
    }
  }

 private:
  // The source text from the node's mark, after an anchor ("&name ").
  std::string_view SourceAt(YAML::Mark mark) const {
    if (mark.is_null() || mark.line < 0 || static_cast<size_t>(mark.line) >= lines_.size()) {
      return {};
    }
    std::string_view line = lines_[static_cast<size_t>(mark.line)];
    if (static_cast<size_t>(mark.column) >= line.size()) return {};
    std::string_view rest = line.substr(static_cast<size_t>(mark.column));
    if (rest.starts_with('&')) {
      size_t space = rest.find_first_of(" \t");
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space);
      rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
    }
    return rest;
  }

  void CheckNode(const YAML::Node& node) {
    std::string_view source = SourceAt(node.Mark());
    if (source.starts_with('!')) {
      // A verbatim tag (!<tag:yaml.org,2002:str>) ends at its '>', others at a separator.
      size_t end = source.starts_with("!<") ? source.find('>') + 1 : source.find_first_of(" \t,]}");
      std::string_view tag = source.substr(0, end);
      r_.Fail("", node.Mark(),
              "YAML tag '" + std::string(tag) +
                  "' is not accepted: values are read as plain text, so remove the tag");
      return;
    }
    if (!node.IsScalar()) return;
    if (node.Scalar().size() > kMaxScalarBytes) {
      r_.Fail("", node.Mark(),
              "a value longer than " + std::to_string(kMaxScalarBytes) + " bytes (got " +
                  std::to_string(node.Scalar().size()) + ")");
      return;
    }
    if (source.starts_with('"') || source.starts_with('\'')) CheckQuoted(node.Mark(), source[0]);
  }

  // yaml-cpp takes a quote that is never closed as running to the end of the file, so the
  // keys after it would silently become part of the string. Find where the quote closes.
  void CheckQuoted(YAML::Mark mark, char quote) {
    auto line_no = static_cast<size_t>(mark.line);
    size_t i = static_cast<size_t>(mark.column) + 1;
    std::string swallowed;
    size_t swallowed_line = 0;
    for (size_t l = line_no; l < lines_.size(); ++l, i = 0) {
      const std::string& line = lines_[l];
      std::string key;
      if (l > line_no && swallowed.empty() && LooksLikeKeyLine(line, &key)) {
        swallowed = key;
        swallowed_line = l + 1;
      }
      for (; i < line.size(); ++i) {
        bool escaped = (quote == '"' && line[i] == '\\') ||
                       (quote == '\'' && line[i] == '\'' && i + 1 < line.size() &&
                        line[i + 1] == '\'');  // \" in double quotes, '' in single ones
        if (escaped) {
          ++i;
        } else if (line[i] == quote) {
          if (!swallowed.empty()) {
            r_.Fail("", mark,
                    "this quoted string runs over " + std::to_string(l - line_no + 1) +
                        " lines and takes in '" + swallowed + "' of line " +
                        std::to_string(swallowed_line) + ": is its closing quote missing?");
          }
          return;
        }
      }
    }
    r_.Fail("", mark, "this quoted string is never closed: it runs to the end of the file");
  }

  Reader& r_;
  const std::vector<std::string>& lines_;
  int64_t nodes_ = 0;
  std::set<std::pair<int, int>> seen_;
};

// A control character YAML does not allow in a stream (YAML 1.2 c-printable: of C0 and DEL
// only tab, line feed and carriage return).
bool IsForbiddenControl(char c) {
  auto b = static_cast<unsigned char>(c);
  return (b < 0x20 && c != '\t' && c != '\n' && c != '\r') || b == 0x7f;
}

// The first byte of `text` that is not valid UTF-8 (or, with `controls`, is a control
// character YAML forbids), with its line and column (0-based).
bool FindInvalidUtf8(std::string_view text, YAML::Mark* at, unsigned char* byte,
                     bool controls = false) {
  int line = 0;
  int column = 0;
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceAt(text, i);
    if (n == 0 || (controls && IsForbiddenControl(text[i]))) {
      at->line = line;
      at->column = column;
      *byte = static_cast<unsigned char>(text[i]);
      return true;
    }
    if (text[i] == '\n') {
      ++line;
      column = 0;
    } else {
      column += static_cast<int>(n);  // columns count bytes, as yaml-cpp's marks do
    }
    i += n;
  }
  return false;
}

}  // namespace

bool IsUtf8(std::string_view text) {
  YAML::Mark at;
  unsigned char byte = 0;
  return !FindInvalidUtf8(text, &at, &byte);
}

std::optional<uint32_t> ForbiddenTopicCodePoint(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = std::max<size_t>(Utf8SequenceAt(text, i), 1);
    auto b = static_cast<unsigned char>(text[i]);
    uint32_t cp = n == 1 ? b : b & (0xff >> (n + 1));
    for (size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    bool control = cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
    bool noncharacter = (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
    if (control || noncharacter) return cp;
    i += n;
  }
  return std::nullopt;
}

// Notes where each document of a stream starts and whether it is nothing but a null, without
// building nodes: the check for a second document and for yaml-cpp 0.7's stuck parser.
class DocumentProbe : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;       // the mark of its first node
    bool lone_null = true;  // no node but one null
  };
  std::vector<Document> documents;

  void OnDocumentStart(const YAML::Mark&) override {
    documents.emplace_back();
    events_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark, false);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark, bool null) {
    if (events_++ == 0) documents.back().start = mark;
    if (!null || events_ > 1) documents.back().lone_null = false;
  }
  int events_ = 0;
};

// Reads at most the first three documents of `text`. yaml-cpp 0.7 (Debian 12) never consumes
// a token that cannot start a node, such as a ',' at the start of a document: it reports a
// null document at that token again and again, and YAML::LoadAll loops until memory runs out
// (jbeder/yaml-cpp#1040, fixed in 0.8.0). Returns the mark of such a token, if any.
std::optional<YAML::Mark> ProbeDocuments(std::string_view text, DocumentProbe* probe) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  while (probe->documents.size() < 3 && parser.HandleNextDocument(*probe)) {
    const auto& d = probe->documents;
    if (d.size() < 2) continue;
    const auto& last = d.back();
    const auto& before = d[d.size() - 2];
    if (last.lone_null && before.lone_null && last.start.pos == before.start.pos) return last.start;
  }
  return std::nullopt;
}

// Parses `text`, which must be a YAML map; on a syntax error or another shape, fails `r`.
YAML::Node LoadMap(Reader& r, std::string_view text, const std::string& not_a_map) {
  YAML::Mark bad;
  unsigned char byte = 0;
  if (FindInvalidUtf8(text, &bad, &byte, /*controls=*/true)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", byte);
    bool control = byte < 0x80;
    r.Fail("", bad,
           std::string(control ? "a control character (byte " : "not valid UTF-8 (byte ") + hex +
               "): the file must be UTF-8 text" + (control ? " without control characters" : ""));
    return YAML::Node();
  }
  DocumentProbe probe;
  YAML::Node root;
  try {
    if (auto stuck = ProbeDocuments(text, &probe)) {
      auto at = static_cast<size_t>(stuck->pos);
      std::string token = at < text.size() ? "'" + std::string(1, text[at]) + "'" : "this";
      r.Fail("", *stuck, "YAML syntax error: " + token + " cannot start a value here");
      return YAML::Node();
    }
    root = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    r.Fail("", e.mark, "YAML nesting is deeper than " + std::to_string(kMaxYamlDepth) + " levels");
    return YAML::Node();
  } catch (const YAML::Exception& e) {
    r.Fail("", e.mark, "YAML syntax error: " + e.msg);
    return YAML::Node();
  }
  for (size_t i = 1; i < probe.documents.size(); ++i) {
    if (!probe.documents[i].lone_null) {
      r.Fail("", probe.documents[i].start,
             "a second YAML document starts here: the file must hold one (remove the '---' "
             "line and what follows it)");
      return YAML::Node();
    }
  }
  if (!root.IsMap()) {
    // An empty file has no mark at all; point at its start.
    r.Fail("", root.Mark().is_null() ? YAML::Mark() : root.Mark(), not_a_map);
    return root;
  }
  std::vector<std::string> lines = SplitLines(text);
  DocumentCheck(r, lines).Walk(root, 1);
  return root;
}

}  // namespace edgebench::scenario_internal
