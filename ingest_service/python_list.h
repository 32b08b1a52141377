#pragma once

// Python-style string lists as pandas writes them into CSV cells: ['A', 'B'],
// ["Guns N' Roses", 'X'] and [], with Python string escapes (\\ \' \" \n \t \xhh \uhhhh
// \Uhhhhhhhh).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cratedig::ingest {

/// Returns the strings of a Python list literal of string literals. InvalidArgumentError
/// (saying where) when `text` is not one; surrounding whitespace is allowed.
absl::StatusOr<std::vector<std::string>> ParsePythonList(absl::string_view text);

/// Append the UTF-8 encoding of `code_point` to `out`; false for surrogates and values
/// above U+10FFFF.
bool AppendUtf8(char32_t code_point, std::string* out);

}  // namespace cratedig::ingest
