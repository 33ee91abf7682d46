// Whole JSON files of the results module: read with the path in every error, written
// atomically (contract in internal.h).
#include <cerrno>
#include <cstdio>
#include <string>

#include "edgebench/base/fd.h"

#include "results/internal.h"

namespace edgebench::results_internal {

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadInputFile(path, kResultsFileLimit);
  if (!text) return Error{text.error().ToString()};
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{path + ": not valid JSON"};
  return j;
}

// WriteFile() writes through a temporary name and renames it.
Status WriteJsonAtomically(const std::string& path, const nlohmann::json& j) {
  return WriteFile(path, j.dump(2) + "\n");
}

}  // namespace edgebench::results_internal
