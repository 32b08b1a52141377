#include "query_service/cli/flag_check.h"

#include <optional>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "query_service/cli/recommend_args.h"

namespace cratedig::cli {
namespace {

// Flags that change how absl reads the rest of the command line, and the help flags,
// which absl handles itself (not all are registered for FindCommandLineFlag()).
bool LeftToAbsl(absl::string_view name) {
  for (const char* special :
       {"flagfile", "fromenv", "tryfromenv", "undefok", "help", "helpfull", "helpshort",
        "helppackage", "helpon", "helpmatch", "version", "only_check_args"}) {
    if (name == special) return true;
  }
  return false;
}

// Returns the flag named `name`, or for "noNAME" the boolean flag NAME when no value is
// given.
absl::CommandLineFlag* FindFlag(absl::string_view name, bool has_value) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && !has_value && name.substr(0, 2) == "no") {
    flag = absl::FindCommandLineFlag(name.substr(2));
    if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
  }
  if (flag != nullptr && flag->IsRetired()) return nullptr;
  return flag;
}

}  // namespace

std::string CheckFlags(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    size_t equals = arg.find('=');
    absl::string_view name = arg.substr(0, equals);
    if (LeftToAbsl(name)) return "";
    absl::CommandLineFlag* flag = FindFlag(name, equals != absl::string_view::npos);
    if (flag == nullptr) return absl::StrCat("unknown flag --", name);
    std::optional<std::string> value;
    if (equals != absl::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::StrCat("missing value for --", name);
    }
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return absl::StrCat("invalid value '", *value, "' for --", name);
    }
  }
  return "";
}

bool BoolFlagGiven(const std::vector<std::string>& args, absl::string_view name) {
  for (absl::string_view arg : args) {
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    arg = arg.substr(0, arg.find('='));
    if (arg == name || (absl::ConsumePrefix(&arg, "no") && arg == name)) return true;
  }
  return false;
}

std::vector<std::string> RepeatedFlagValues(const std::vector<std::string>& args,
                                            const std::string& name) {
  std::vector<std::string> values;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    if (arg.substr(0, equals) != name) continue;
    if (equals != absl::string_view::npos) {
      values.emplace_back(arg.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      values.push_back(args[++i]);
    }
  }
  return values;
}

std::vector<std::pair<std::string, std::string>> ExtractKnobs(
    std::vector<std::string>* args, std::string* error) {
  std::vector<std::pair<std::string, std::string>> knobs;
  std::vector<std::string> kept;
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& original = (*args)[i];
    if (original == "--") {
      kept.insert(kept.end(), args->begin() + i, args->end());
      break;
    }
    absl::string_view arg = original;
    if (arg.size() < 2 || arg[0] != '-') {
      kept.push_back(original);
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    const std::string name(arg.substr(0, equals));
    if (!IsKnobName(name) || absl::FindCommandLineFlag(name) != nullptr) {
      kept.push_back(original);
      continue;
    }
    if (equals != absl::string_view::npos) {
      knobs.emplace_back(name, std::string(arg.substr(equals + 1)));
    } else if (i + 1 < args->size()) {
      knobs.emplace_back(name, (*args)[++i]);
    } else {
      *error = absl::StrCat("missing value for --", name);
      return knobs;
    }
  }
  *args = std::move(kept);
  return knobs;
}

}  // namespace cratedig::cli
