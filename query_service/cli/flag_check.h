#pragma once

// A check of the command line's flags before absl::ParseCommandLine(), which exits 1 on
// an unknown flag or a bad value: `cratedig` reports those as usage errors (exit 2)
// instead.

#include <string>
#include <vector>

namespace cratedig::cli {

/// Return "unknown flag --NAME", "missing value for --NAME" or "invalid value ... for
/// --NAME" for the first bad flag in `args` (argv without the program name); empty when
/// all are valid. Flags end at "--". Valid values are parsed into the flags, which
/// ParseCommandLine() then sets again. Leaves the check to absl from the first help flag,
/// --flagfile, --fromenv or --undefok on.
std::string CheckFlags(const std::vector<std::string>& args);

}  // namespace cratedig::cli
