// EditDistance: how far apart two words are, for "did you mean" suggestions.
#ifndef EDGEBENCH_BASE_EDIT_DISTANCE_H_
#define EDGEBENCH_BASE_EDIT_DISTANCE_H_

#include <cstddef>
#include <string_view>

namespace edgebench {

// Levenshtein distance where swapping two adjacent letters counts as one edit
// ("qso" -> "qos" is 1). Case-sensitive. Pure; thread-safe.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_EDIT_DISTANCE_H_
