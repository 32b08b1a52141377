#pragma once

// A check of the command line's flags before absl::ParseCommandLine(), which exits 1 on
// an unknown flag or a bad value: `cratedig` reports those as usage errors (exit 2)
// instead.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace cratedig::cli {

/// Return "unknown flag --NAME", "missing value for --NAME" or "invalid value ... for
/// --NAME" for the first bad flag in `args` (argv without the program name); empty when
/// all are valid. Flags end at "--". Valid values are parsed into the flags, which
/// ParseCommandLine() then sets again. Leaves the check to absl from the first help flag,
/// --flagfile, --fromenv or --undefok on.
std::string CheckFlags(const std::vector<std::string>& args);

/// Whether the boolean flag `name` is given in `args` ("--name", "--name=V", "--noname"),
/// up to "--": this absl cannot tell an explicit false from the default.
bool BoolFlagGiven(const std::vector<std::string>& args, absl::string_view name);

/// Every value given to the flag `name` in `args`, in order ("--name=V", "--name V"), up
/// to "--": for flags that may be repeated (absl keeps only the last).
std::vector<std::string> RepeatedFlagValues(const std::vector<std::string>& args,
                                            const std::string& name);

/// Remove the knob arguments (--min_X, --max_X, --target_X, with "=V" or a separate V)
/// that are not flags of their own from `args` (argv without the program name) and
/// return them as (name, value) in order. Returns the complaint in `error` for a knob
/// without a value.
std::vector<std::pair<std::string, std::string>> ExtractKnobs(
    std::vector<std::string>* args, std::string* error);

}  // namespace cratedig::cli
