// cratedig: the command-line client of the cratedig daemons. Flags and wiring only; the
// commands live in cli_lib (cli.h).

#include <iostream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "common/access.h"
#include "query_service/cli/cli.h"
#include "query_service/cli/flag_check.h"

ABSL_FLAG(std::string, trainer, "127.0.0.1:50052",
          "Address of the trainer (CatalogService), for import and train.");
ABSL_FLAG(std::string, server, "127.0.0.1:50053",
          "Address of the query daemon (QueryService), for status, search, recommend, "
          "tracks and predict.");
ABSL_FLAG(int, k, 10, "Number of results (search, recommend).");
ABSL_FLAG(bool, json, false, "Print one JSON document instead of a table.");
ABSL_FLAG(std::optional<double>, timeout, std::nullopt,
          "Deadline per RPC in seconds (default 30; import and train 1800).");

ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM certificate of the CA that signed the daemons' certificates: use TLS.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the daemon's certificate is checked against (default: the address's "
          "host).");
ABSL_FLAG(std::string, query_token_file, "",
          "File holding the query daemon's bearer token (default: "
          "$CRATEDIG_QUERY_TOKEN).");
ABSL_FLAG(std::string, internal_token_file, "",
          "File holding the trainer's bearer token, for import and train (default: "
          "$CRATEDIG_INTERNAL_TOKEN).");

namespace {

// Lists this file's flags under --help (absl's default expects a file named cratedig.cc).
void ConfigureHelp() {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "query_service/cli/main.cc");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(cratedig::cli::UsageText());
}

}  // namespace

int main(int argc, char** argv) {
  ConfigureHelp();
  std::string complaint = cratedig::cli::CheckFlags({argv + 1, argv + argc});
  if (!complaint.empty()) return cratedig::cli::ReportUsageError(std::cerr, complaint);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());

  cratedig::cli::CliOptions options;
  options.trainer = absl::GetFlag(FLAGS_trainer);
  options.server = absl::GetFlag(FLAGS_server);
  options.k = absl::GetFlag(FLAGS_k);
  options.json = absl::GetFlag(FLAGS_json);
  options.timeout_seconds = absl::GetFlag(FLAGS_timeout);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  for (auto [flag, env, token] :
       {std::tuple(&FLAGS_query_token_file, cratedig::kQueryTokenEnv,
                   &options.query_token),
        std::tuple(&FLAGS_internal_token_file, cratedig::kInternalTokenEnv,
                   &options.internal_token)}) {
    absl::StatusOr<std::string> secret = cratedig::ReadSecret(absl::GetFlag(*flag), env);
    if (!secret.ok()) {
      std::cerr << "cratedig: " << secret.status().message() << '\n';
      return cratedig::cli::kExitFailure;
    }
    *token = *secret;
  }
  return cratedig::cli::RunCli(args, options, std::cin, std::cout, std::cerr);
}
