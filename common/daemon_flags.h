#pragma once

// The flags every daemon shares: TLS, bearer tokens and the concurrency limit. Linked
// only into the daemons (cratedig_daemon_flags), so that the client keeps its own flag
// set.

#include "absl/status/statusor.h"
#include "common/access.h"

namespace cratedig {

struct DaemonFlags {
  /// What this daemon asks of its callers.
  ServerAccess server;
  /// How it reaches trainerd (ingestd and queryd): the CA, the internal token.
  ClientAccess trainer;
  /// DaemonOptions::max_concurrent_calls.
  int max_concurrent_calls = 0;
};

/// Reads the shared flags and the secrets they name. InvalidArgument or NotFound naming
/// the flag or file (never the secret) when they do not fit together or cannot be read.
absl::StatusOr<DaemonFlags> DaemonFlagsFromCommandLine();

}  // namespace cratedig
