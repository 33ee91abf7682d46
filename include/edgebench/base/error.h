// Error values and Result<T>: how every module reports a failure to its caller.
#ifndef EDGEBENCH_BASE_ERROR_H_
#define EDGEBENCH_BASE_ERROR_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgebench {

// A place in a source file. Lines and columns are 1-based.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// What kind of failure an Error is. Only main() turns a kind into an exit code
// (docs/cli.md): kUsage and kScenario 2, kUnavailable, kRunFailed and kInternal 3,
// kThreshold 1, kInterrupted 130.
enum class ErrorKind {
  kUsage,        // bad flags or arguments; nothing started
  kScenario,     // a scenario (or profiles) file is wrong; nothing started
  kUnavailable,  // something the run needs is missing here (netem, capture rights, a broker)
  kRunFailed,    // the run started and could not be completed (worker died, disk full)
  kInterrupted,  // SIGINT/SIGTERM: stopped early, partial results kept
  kThreshold,    // the run completed but an `expect:` threshold failed
  kInternal,     // a bug in edgebench
};

// `text` with every control character but the line break (and DEL) as \xNN, so an error
// that quotes a file never drives the terminal ("a\x1b[31mb"). main() prints through it.
std::string EscapeControlCharacters(std::string_view text);

// "usage", "scenario", "unavailable", "run-failed", "interrupted", "threshold", "internal".
const char* ErrorKindName(ErrorKind kind);

// What went wrong and, for input files, where. `context` is optional extra text
// shown below the message (for YAML: the offending source line and a caret).
struct Error {
  Error() = default;
  explicit Error(std::string msg) : message(std::move(msg)) {}
  Error(std::string msg, std::optional<SourceLocation> loc, std::string ctx = "")
      : message(std::move(msg)), where(std::move(loc)), context(std::move(ctx)) {}
  Error(ErrorKind k, std::string msg) : message(std::move(msg)), kind(k) {}

  std::string message;
  std::optional<SourceLocation> where;
  std::string context;
  // Errors without a stated kind are run failures; scenario and usage errors say so.
  ErrorKind kind = ErrorKind::kRunFailed;

  // The same error with another kind (for a caller that knows better, e.g. that a
  // file it read was the user's input).
  Error WithKind(ErrorKind k) const& {
    Error e = *this;
    e.kind = k;
    return e;
  }

  // "file:line:column: message", or just "message" without a location.
  // The context (if any) is not part of it; see ToStringWithContext().
  std::string ToString() const;
  // ToString() followed by "\n" + context when there is a context.
  std::string ToStringWithContext() const;
};

// The text of errno value `err` ("No such file or directory"), like strerror() but safe
// from any thread.
std::string ErrnoMessage(int err);

// A T or an Error, the shape of std::expected (which g++ 12 does not have).
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // Requires: !ok().
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that return nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_ERROR_H_
