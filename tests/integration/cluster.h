#pragma once

// The three cratedig daemons started from their binaries on free loopback ports, each
// with a data directory under one temporary directory, plus stubs to each of them, the
// `cratedig` client run as a subprocess, and health and reflection probes that need no
// generated code.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/access.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/ingest_service.grpc.pb.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "tests/integration/daemon_process.h"

namespace cratedig::subprocess {

/// Deadline of every RPC the tests make, unless a test says otherwise.
inline constexpr absl::Duration kRpcDeadline = absl::Seconds(15);

/// Returns a path in the source tree (CRATEDIG_SOURCE_DIR), e.g. "tests/testdata/x.csv".
std::string SourcePath(const std::string& relative);
/// Returns the path of a built binary (CRATEDIG_BIN_DIR), e.g. "queryd".
std::string BinaryPath(const std::string& name);

/// Sets the deadline now + `timeout` on `context`.
void SetDeadline(grpc::ClientContext* context, absl::Duration timeout = kRpcDeadline);

/// Calls `rpc(context)` (a stub method bound to its request and response) with a fresh
/// context and the deadline kRpcDeadline.
template <typename Rpc>
grpc::Status CallWithDeadline(Rpc rpc) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return rpc(&context);
}

/// grpc.health.v1 serving statuses.
enum class Health { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

/// Calls grpc.health.v1.Health/Check for `service` ("" for the whole server), with
/// hand-encoded messages through a generic stub.
absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service);

/// Asks grpc.reflection.v1alpha.ServerReflection to list the services; returns the raw
/// response bytes (they hold the service names as plain strings).
absl::StatusOr<std::string> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel);

/// How a Cluster starts: extra flags per daemon and for the client, and how the test's
/// own channels reach the daemons (TLS, tokens).
struct ClusterOptions {
  std::vector<std::string> trainer_args, query_args, ingest_args, cli_args;
  ClientAccess trainer_access, query_access, ingest_access;
};

/// A running trainerd, queryd and ingestd. Not thread-safe. The destructor stops the
/// daemons and deletes the temporary directory (kept when CRATEDIG_KEEP_TEST_DIR is set).
class Cluster {
 public:
  /// Starts trainerd, then queryd and ingestd pointed at it.
  static absl::StatusOr<std::unique_ptr<Cluster>> Start(
      const ClusterOptions& options = {});
  ~Cluster();

  const std::string& dir() const { return dir_; }
  std::string trainer_data_dir() const { return dir_ + "/trainer"; }
  std::string query_data_dir() const { return dir_ + "/query"; }

  DaemonProcess& trainer() { return *trainer_; }
  DaemonProcess& query() { return *query_; }
  DaemonProcess& ingest() { return *ingest_; }

  v1::CatalogService::Stub& catalog() { return *catalog_; }
  v1::QueryService::Stub& queries() { return *queries_; }
  v1::IngestService::Stub& importer() { return *importer_; }
  std::shared_ptr<grpc::Channel> query_channel() const { return query_channel_; }
  std::shared_ptr<grpc::Channel> trainer_channel() const { return trainer_channel_; }
  std::shared_ptr<grpc::Channel> ingest_channel() const { return ingest_channel_; }

  /// Runs `cratedig --trainer=... --server=... ARGS` with `input` on stdin.
  absl::StatusOr<CommandResult> Cli(const std::vector<std::string>& args,
                                    const std::string& input = "");

  /// Polls queryd's GetQueryStatus until it serves `version`, for at most `timeout`.
  absl::StatusOr<v1::GetQueryStatusResponse> WaitUntilServing(
      const std::string& version, absl::Duration timeout = absl::Seconds(30));

  /// The tails of the three daemons' logs, for failure messages.
  std::string Logs() const;

  /// Drop the stubs and channels to the daemons, closing the test's connections. A
  /// daemon's graceful shutdown waits for its clients to close their connections, and a
  /// process that only makes synchronous calls notices the server's GOAWAY only when
  /// gRPC's backup poller runs (every 5 s), so the destructor calls this before stopping
  /// the daemons.
  void CloseChannels();

  /// Keep the temporary directory (e.g. after a failure, to look at it).
  void KeepDir() { keep_dir_ = true; }

 private:
  Cluster() = default;

  std::string dir_;
  bool keep_dir_ = false;
  ClusterOptions options_;
  std::unique_ptr<DaemonProcess> trainer_, query_, ingest_;
  std::shared_ptr<grpc::Channel> trainer_channel_, query_channel_, ingest_channel_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
  std::unique_ptr<v1::QueryService::Stub> queries_;
  std::unique_ptr<v1::IngestService::Stub> importer_;
};

}  // namespace cratedig::subprocess
