#include "query_service/cli/flag_check.h"

#include <optional>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

}  // namespace cratedig::cli
