#include "query_service/cli/cli.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "query_service/cli/commands_internal.h"

namespace cratedig::cli {
namespace {

constexpr double kDefaultTimeoutSeconds = 30;
// Import, train and rollback (which waits for a running build) take as long as the
// catalog needs.
constexpr double kLongTimeoutSeconds = 1800;
constexpr int kUnlimited = -1;
constexpr char kShortUsage[] = "cratedig SUBCOMMAND [flags] [args]; see --help";

struct Subcommand {
  const char* name;
  const char* usage;
  int min_args;
  int max_args;
  int (*run)(const CommandContext&);
};

constexpr Subcommand kSubcommands[] = {
    {"import", "cratedig import [--trainer=ADDR] [--json] FILE...", 1, kUnlimited,
     RunImport},
    {"train", "cratedig train [--trainer=ADDR] [--json]", 0, 0, RunTrain},
    {"rollback", "cratedig rollback [--trainer=ADDR] [--json] [VERSION]", 0, 1,
     RunRollback},
    {"status", "cratedig status [--server=ADDR | --trainer=ADDR trainer] [--json]", 0, 1,
     RunStatus},
    // One line: it ends the usage error of a search without a query.
    {"search",
     "cratedig search [--server=ADDR] [--k=N] [--offset=N] [--json] [--genre=G]... "
     "[--year_min=Y] [--year_max=Y] [--explicit=true|false] "
     "[--exclude_artist=ID|NAME]... "
     "[--min_X=V] [--max_X=V] QUERY...|-",
     1, kUnlimited, RunSearch},
    {"recommend",
     "cratedig recommend [--server=ADDR] [--k=N] [--json] "
     "[--strategy=blend|centroid|rrf|best]\n"
     "      [--negative=ID]... [--seed_track=ID]... [--seed_artist=ID|NAME]...\n"
     "      [--seed_genre=G]... [--genre=G]... [--year_min=Y] [--year_max=Y]\n"
     "      [--explicit=true|false] [--exclude_artist=ID|NAME]... [--max_per_artist=N]\n"
     "      [--mmr_lambda=L] [--exact] [--min_X=V] [--max_X=V] [--target_X=V]... "
     "[ID...|-]",
     0, kUnlimited, RunRecommend},
    {"tracks", "cratedig tracks [--server=ADDR] [--json] ID...|-", 1, kUnlimited,
     RunTracks},
    {"predict", "cratedig predict [--server=ADDR] [--json] REQUEST.json|-", 1, 1,
     RunPredict},
};

const Subcommand* FindSubcommand(const std::string& name) {
  for (const Subcommand& subcommand : kSubcommands) {
    if (name == subcommand.name) return &subcommand;
  }
  return nullptr;
}

// `cratedig status trainer` asks the trainer instead of the query daemon.
bool IsTrainerStatus(const std::vector<std::string>& args) {
  return args.size() == 2 && args[0] == "status" && args[1] == "trainer";
}

int UsageError(std::ostream& err, const std::string& message, const std::string& usage) {
  err << "cratedig: " << message << " (usage: " << usage << ")\n";
  return kExitUsage;
}

// Returns an empty string when the argument count suits `subcommand`, else the complaint.
std::string CheckArgCount(const Subcommand& subcommand, size_t count) {
  if (static_cast<int>(count) < subcommand.min_args) {
    return absl::StrCat(subcommand.name, ": missing argument");
  }
  if (subcommand.max_args != kUnlimited &&
      static_cast<int>(count) > subcommand.max_args) {
    return absl::StrCat(subcommand.name, ": too many arguments");
  }
  return "";
}

}  // namespace

std::string UsageText() {
  std::string text = "Client of the cratedig daemons.\n\nUsage:\n";
  for (const Subcommand& subcommand : kSubcommands) {
    absl::StrAppend(&text, "  ", subcommand.usage, "\n");
  }
  absl::StrAppend(
      &text,
      "\nIds may be bare Spotify ids, spotify:track:ID or open.spotify.com URLs.\n"
      "Recommend's X: acousticness, danceability, duration_ms, energy,\n"
      "instrumentalness, key, liveness, loudness (dB), mode, popularity, speechiness,\n"
      "tempo (BPM), time_signature, valence (docs/recommend.md).\n"
      "A lone \"-\" for QUERY or IDs reads one request per line from standard\n"
      "input and prints one JSON document per line. --timeout=SECONDS bounds each\n"
      "RPC (default 30; import, train and rollback 1800). rollback without VERSION\n"
      "goes back to the newest kept snapshot older than the current one.\n"
      "--tls_ca_file turns TLS on; tokens come from --query_token_file and\n"
      "--internal_token_file or $CRATEDIG_QUERY_TOKEN and $CRATEDIG_INTERNAL_TOKEN\n"
      "(see docs/operations.md).");
  return text;
}

int ReportUsageError(std::ostream& err, const std::string& message) {
  return UsageError(err, message, kShortUsage);
}

ClientAccess ClientAccessOf(const CliOptions& options, const std::string& token) {
  ClientAccess access;
  access.tls_ca_file = options.tls_ca_file;
  access.tls_server_name = options.tls_server_name;
  access.token = token;
  return access;
}

int Fail(const CommandContext& ctx, absl::string_view message) {
  ctx.err << "cratedig: " << message << '\n';
  return kExitFailure;
}

int RunCli(const std::vector<std::string>& args, const CliOptions& options,
           std::istream& in, std::ostream& out, std::ostream& err) {
  if (args.empty()) return UsageError(err, "missing subcommand", kShortUsage);
  const Subcommand* subcommand = FindSubcommand(args[0]);
  if (subcommand == nullptr) {
    return UsageError(err, absl::StrCat("unknown subcommand '", args[0], "'"),
                      kShortUsage);
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  std::string complaint = CheckArgCount(*subcommand, rest.size());
  if (complaint.empty() && args[0] == "status" && !rest.empty() &&
      !IsTrainerStatus(args)) {
    complaint = absl::StrCat("status: unknown argument '", rest[0], "' (only 'trainer')");
  }
  if (!complaint.empty()) return UsageError(err, complaint, subcommand->usage);

  // Import, train and rollback go to the trainer and take as long as the catalog needs.
  const bool to_trainer = args[0] == "import" || args[0] == "train" ||
                          args[0] == "rollback" || IsTrainerStatus(args);
  double seconds = options.timeout_seconds.value_or(to_trainer ? kLongTimeoutSeconds
                                                               : kDefaultTimeoutSeconds);
  if (!std::isfinite(seconds) || seconds <= 0) {
    return UsageError(err, "--timeout must be a positive number of seconds",
                      subcommand->usage);
  }
  ClientAccess access =
      ClientAccessOf(options, to_trainer ? options.internal_token : options.query_token);
  if (absl::Status s = Validate(access); !s.ok()) {
    err << "cratedig: " << s.message() << '\n';
    return kExitFailure;
  }
  CommandContext ctx{args[0], std::move(rest), options, absl::Seconds(seconds), in, out,
                     err};
  return subcommand->run(ctx);
}

}  // namespace cratedig::cli
