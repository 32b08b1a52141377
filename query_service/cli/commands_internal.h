#pragma once

// The subcommands of `cratedig`, dispatched by RunCli(). Only this folder includes this
// file.

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/access.h"
#include "query_service/cli/cli.h"

namespace cratedig::cli {

/// What one subcommand runs with. Borrows everything; lives for the duration of the
/// command.
struct CommandContext {
  /// The subcommand name ("search"), used in error lines.
  std::string name;
  /// Positional arguments after the subcommand (validated in number by RunCli()).
  std::vector<std::string> args;
  const CliOptions& options;
  /// Deadline per RPC.
  absl::Duration timeout;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

/// The TLS settings of `options` with `token`.
ClientAccess ClientAccessOf(const CliOptions& options, const std::string& token);

/// Print "cratedig: MESSAGE" on ctx.err. Returns kExitFailure.
int Fail(const CommandContext& ctx, absl::string_view message);

int RunImport(const CommandContext& ctx);
int RunTrain(const CommandContext& ctx);
int RunRollback(const CommandContext& ctx);
/// `cratedig status trainer`: the catalog and what the builder does.
int RunTrainerStatus(const CommandContext& ctx);
int RunStatus(const CommandContext& ctx);
int RunSearch(const CommandContext& ctx);
int RunRecommend(const CommandContext& ctx);
int RunTracks(const CommandContext& ctx);
int RunPredict(const CommandContext& ctx);

}  // namespace cratedig::cli
