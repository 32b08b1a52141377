#pragma once

// The `cratedig` command line: `cratedig SUBCOMMAND [flags] [args]`. main.cc parses the
// flags into CliOptions and calls RunCli(); everything else lives here so tests can run
// it in-process.

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "query_service/cli/recommend_args.h"

namespace cratedig::cli {

/// Exit codes: success, a failed command (RPC or input error), a usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// The flags of `cratedig`, copied from main.cc.
struct CliOptions {
  /// Trainer (CatalogService) address, for import and train.
  std::string trainer = "127.0.0.1:50052";
  /// Query daemon (QueryService) address, for status, search, recommend, tracks, predict.
  std::string server = "127.0.0.1:50053";
  /// Results wanted (search, recommend); the server validates the range.
  int k = 10;
  /// Search: results to skip before the k printed (the next page starts at offset + k).
  int offset = 0;
  /// Print one JSON document instead of tables.
  bool json = false;
  /// Deadline per RPC in seconds; unset means 30, or 1800 for import and train.
  std::optional<double> timeout_seconds;
  /// Strategy, negatives, seeds, filters, targets (recommend); the filters (genre, years,
  /// explicit, excluded artists, min_X / max_X) also restrict search.
  RecommendFlags recommend;
  /// PEM certificate of the CA that signed the daemons' certificates; empty: plaintext.
  std::string tls_ca_file;
  /// Name the daemons' certificates are checked against; empty: the address's host.
  std::string tls_server_name;
  /// Bearer tokens sent to the query daemon and to the trainer (they need TLS).
  std::string query_token;
  std::string internal_token;
};

/// Return the multi-line usage text (for --help).
std::string UsageText();

/// Print "cratedig: MESSAGE (usage: ...)" on `err`. Returns kExitUsage.
int ReportUsageError(std::ostream& err, const std::string& message);

/// Run `args` (the subcommand, then its positional arguments). Writes results on `out`,
/// errors as one "cratedig: ..." line each on `err`; reads batch input and "-" files from
/// `in`. Returns the process exit code (kExitOk, kExitFailure or kExitUsage).
int RunCli(const std::vector<std::string>& args, const CliOptions& options,
           std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace cratedig::cli
