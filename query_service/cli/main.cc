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
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/access.h"
#include "query_service/cli/cli.h"
#include "query_service/cli/flag_check.h"

ABSL_FLAG(std::string, trainer, "127.0.0.1:50052",
          "Address of the trainer (CatalogService), for import, train and rollback.");
ABSL_FLAG(std::string, server, "127.0.0.1:50053",
          "Address of the query daemon (QueryService), for status, search, recommend, "
          "tracks and predict.");
ABSL_FLAG(int, k, 10, "Number of results (search, recommend).");
ABSL_FLAG(int, offset, 0,
          "search: results to skip before the k printed (the next page: offset + k).");
ABSL_FLAG(bool, json, false, "Print one JSON document instead of a table.");
ABSL_FLAG(std::optional<double>, timeout, std::nullopt,
          "Deadline per RPC in seconds (default 30; import, train and rollback 1800).");
// recommend (docs/recommend.md). Flags marked repeatable may be given several times.
ABSL_FLAG(std::string, strategy, "",
          "recommend: blend, centroid, rrf or best (default: the daemon's).");
ABSL_FLAG(std::string, negative, "",
          "recommend: a track to steer away from (repeatable).");
ABSL_FLAG(std::string, seed_track, "",
          "recommend: a seed track (repeatable; 5 seeds at most).");
ABSL_FLAG(std::string, seed_artist, "",
          "recommend: a seed artist, Spotify id or name (repeatable).");
ABSL_FLAG(std::string, seed_genre, "", "recommend: a seed genre (repeatable).");
ABSL_FLAG(std::string, genre, "",
          "recommend, search: only tracks of this genre (repeatable: any of).");
ABSL_FLAG(std::string, exclude_artist, "",
          "recommend, search: leave out this artist, Spotify id or name (repeatable).");
ABSL_FLAG(std::optional<int>, year_min, std::nullopt,
          "recommend, search: released in or after.");
ABSL_FLAG(std::optional<int>, year_max, std::nullopt,
          "recommend, search: released in or before.");
ABSL_FLAG(std::optional<bool>, explicit, std::nullopt,
          "recommend, search: only explicit (true) or only clean (false) tracks.");
ABSL_FLAG(std::optional<int>, max_per_artist, std::nullopt,
          "recommend: at most N results per artist (0: no limit; default 3).");
ABSL_FLAG(std::optional<double>, mmr_lambda, std::nullopt,
          "recommend: diversify by maximal marginal relevance, 0..1 (relevance weight).");
ABSL_FLAG(bool, exact, false,
          "recommend: --exact: the exact nearest tracks (the default once the snapshot's "
          "blocks are built); --exact=false: the graph's approximation, faster under "
          "load (catalogs above the trainer's exhaustive-scan limit).");

ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM certificate of the CA that signed the daemons' certificates: use TLS.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the daemon's certificate is checked against (default: the address's "
          "host).");
ABSL_FLAG(std::string, query_token_file, "",
          "File holding the query daemon's bearer token (default: "
          "$CRATEDIG_QUERY_TOKEN).");
ABSL_FLAG(
    std::string, internal_token_file, "",
    "File holding the trainer's bearer token, for import, train and rollback (default: "
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
  // --min_X, --max_X and --target_X are taken out first: the daemon checks their names.
  std::vector<std::string> rest(argv + 1, argv + argc);
  std::string complaint;
  auto knobs = cratedig::cli::ExtractKnobs(&rest, &complaint);
  if (complaint.empty()) complaint = cratedig::cli::CheckFlags(rest);
  if (!complaint.empty()) return cratedig::cli::ReportUsageError(std::cerr, complaint);
  cratedig::cli::RecommendFlags recommend;
  for (const auto& [name, text] : knobs) {
    double value = 0;
    if (!absl::SimpleAtod(text, &value)) {
      return cratedig::cli::ReportUsageError(
          std::cerr, absl::StrCat("invalid value '", text, "' for --", name));
    }
    recommend.knobs.emplace_back(name, value);
  }
  std::vector<char*> kept = {argv[0]};
  for (std::string& arg : rest) kept.push_back(arg.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(kept.size()), kept.data());
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  recommend.strategy = absl::GetFlag(FLAGS_strategy);
  recommend.negatives = cratedig::cli::RepeatedFlagValues(rest, "negative");
  recommend.seed_tracks = cratedig::cli::RepeatedFlagValues(rest, "seed_track");
  recommend.seed_artists = cratedig::cli::RepeatedFlagValues(rest, "seed_artist");
  recommend.seed_genres = cratedig::cli::RepeatedFlagValues(rest, "seed_genre");
  recommend.genres = cratedig::cli::RepeatedFlagValues(rest, "genre");
  recommend.exclude_artists = cratedig::cli::RepeatedFlagValues(rest, "exclude_artist");
  recommend.year_min = absl::GetFlag(FLAGS_year_min);
  recommend.year_max = absl::GetFlag(FLAGS_year_max);
  recommend.explicit_ = absl::GetFlag(FLAGS_explicit);
  recommend.max_per_artist = absl::GetFlag(FLAGS_max_per_artist);
  recommend.mmr_lambda = absl::GetFlag(FLAGS_mmr_lambda);
  if (cratedig::cli::BoolFlagGiven(rest, "exact"))
    recommend.exact = absl::GetFlag(FLAGS_exact);

  cratedig::cli::CliOptions options;
  options.trainer = absl::GetFlag(FLAGS_trainer);
  options.server = absl::GetFlag(FLAGS_server);
  options.k = absl::GetFlag(FLAGS_k);
  options.offset = absl::GetFlag(FLAGS_offset);
  options.json = absl::GetFlag(FLAGS_json);
  options.timeout_seconds = absl::GetFlag(FLAGS_timeout);
  options.recommend = std::move(recommend);
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
