// Formatting of Error values.
#include "edgebench/base/error.h"

#include <string>
#include <system_error>

#include <fmt/format.h>

namespace edgebench {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kScenario:
      return "scenario";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kRunFailed:
      return "run-failed";
    case ErrorKind::kInterrupted:
      return "interrupted";
    case ErrorKind::kThreshold:
      return "threshold";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

std::string ErrnoMessage(int err) { return std::generic_category().message(err); }

std::string Error::ToString() const {
  if (!where) return message;
  std::string s = where->file;
  if (where->line > 0) {
    s += ":" + std::to_string(where->line);
    if (where->column > 0) s += ":" + std::to_string(where->column);
  }
  return s + ": " + message;
}

std::string EscapeControlCharacters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\n') || b == 0x7F) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Error::ToStringWithContext() const {
  if (context.empty()) return ToString();
  return ToString() + "\n" + context;
}

}  // namespace edgebench
