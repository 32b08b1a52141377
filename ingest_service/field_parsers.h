#pragma once

// Parsers for the cells of catalog CSVs: numbers as pandas, R and Excel write them
// (1.84e-06, 1.27E-05, 4.0 for an integer column with gaps), booleans in their spellings,
// release dates of year, month or day precision, and a UTF-8 validity check.

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig::ingest {

/// Returns true when the cell means "no value": empty, or NA / NaN / nan as R and pandas
/// write.
bool IsMissingValue(absl::string_view cell);

/// Returns the finite number in `cell`; InvalidArgumentError otherwise.
absl::StatusOr<double> ParseDouble(absl::string_view cell);

/// Returns the integer in `cell`, also written as an integral float ("4.0", "1e3");
/// InvalidArgumentError otherwise.
absl::StatusOr<int64_t> ParseInt64(absl::string_view cell);

/// Returns the boolean True/False/TRUE/FALSE/true/false/1/0; InvalidArgumentError
/// otherwise.
absl::StatusOr<bool> ParseBool(absl::string_view cell);

/// Returns the date of "YYYY", "YYYY-MM" or "YYYY-MM-DD" with its precision; nullopt for
/// the "0000" placeholder some dumps use for an unknown year. InvalidArgumentError
/// otherwise.
absl::StatusOr<std::optional<v1::ReleaseDate>> ParseReleaseDate(absl::string_view cell);

/// Returns true when `text` is well-formed UTF-8 (no overlong forms, surrogates or values
/// above U+10FFFF).
bool IsValidUtf8(absl::string_view text);

}  // namespace cratedig::ingest
