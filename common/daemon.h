#pragma once

// What every daemon's main shares: a gRPC server with the health service and reflection
// on, TLS and bearer tokens when configured, a bound on the calls served at once, the
// "listening on HOST:PORT" line tests read, and a graceful shutdown on SIGTERM or SIGINT.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "common/access.h"

namespace cratedig {

struct DaemonOptions {
  /// Program name for the log ("trainerd").
  std::string name;
  /// Address to listen on, "HOST:PORT"; port 0 picks a free one.
  std::string listen;
  /// Services to register (not owned; they outlive Run).
  std::vector<grpc::Service*> services;
  /// Called once the server listens, with the server (e.g. to set health).
  std::function<void(grpc::Server*)> on_started;
  /// Called after the signal, before the server shuts down (stop background loops).
  std::function<void()> on_stopping;
  /// Largest request accepted, bytes.
  int max_receive_message_bytes = 64 << 20;
  /// TLS and bearer tokens (common/access.h); default: plaintext, no tokens.
  ServerAccess access;
  /// Calls served at once (streams included); a call beyond it is refused at once with
  /// RESOURCE_EXHAUSTED instead of waiting. 0: no limit.
  int max_concurrent_calls = 0;
};

/// Block SIGTERM and SIGINT and wait for them on a thread of their own. Call first thing
/// in main, before any thread starts, so that every thread inherits the mask. Idempotent.
void WatchShutdownSignals();

/// Notified when SIGTERM or SIGINT arrives (or by RequestShutdown).
absl::Notification& ShutdownNotification();
void RequestShutdown();

/// Serve until SIGTERM or SIGINT, then shut down gracefully (in-flight calls get 5 s).
/// Returns an error when the address cannot be bound or the access settings are wrong.
absl::Status RunDaemon(const DaemonOptions& options);

/// Hands the heap memory freed so far back to the system. glibc keeps freed memory in its
/// arenas, so a daemon that builds or loads a large structure and frees it would
/// otherwise stay at its peak (trainerd held 3.4 GB after a 3M-track build, 43 MB once
/// trimmed). Call after a build or a snapshot swap; a no-op with another C library.
void ReleaseFreedMemory();

/// Creates a channel to `address` with the message limits cratedig uses.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

}  // namespace cratedig
