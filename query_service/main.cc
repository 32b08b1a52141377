// queryd: serves Search, Recommend, GetTracks and Predict from the newest snapshot.

#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "query_service/query_grpc_service.h"
#include "query_service/snapshot_sync.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50053",
          "Address to serve on (port 0: any free port)");
ABSL_FLAG(std::string, trainer, "", "The trainer to fetch snapshots from");
ABSL_FLAG(std::string, data_dir, "", "Directory for this daemon's snapshots (required)");
ABSL_FLAG(int, keep_snapshots, 3, "Snapshots kept on disk");

namespace {

std::atomic<grpc::Server*> g_server{nullptr};

void SetServing(bool serving) {
  grpc::Server* server = g_server.load();
  if (server == nullptr) return;
  for (const char* service : {"", "cratedig.v1.QueryService"}) {
    server->GetHealthCheckService()->SetServingStatus(service, serving);
  }
}

}  // namespace

int main(int argc, char** argv) {
  cratedig::WatchShutdownSignals();
  absl::SetProgramUsageMessage("queryd --listen=ADDR --trainer=ADDR --data_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  cratedig::SetLogProgramName("queryd");
  absl::StatusOr<cratedig::DaemonFlags> flags = cratedig::DaemonFlagsFromCommandLine();
  if (!flags.ok()) {
    CD_LOG(ERROR) << flags.status();
    return 2;
  }
  cratedig::query::SnapshotSyncOptions options;
  options.trainer = absl::GetFlag(FLAGS_trainer);
  if (!options.trainer.empty()) {
    auto channel = cratedig::MakeSecureChannel(options.trainer, flags->trainer);
    if (!channel.ok()) {
      CD_LOG(ERROR) << channel.status();
      return 2;
    }
    options.trainer_channel = *channel;
  }
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.keep_snapshots = absl::GetFlag(FLAGS_keep_snapshots);
  if (options.data_dir.empty()) {
    CD_LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  cratedig::query::SnapshotHolder holder;
  cratedig::query::SnapshotSync sync(
      options, &holder, [](const cratedig::query::Snapshot&) { SetServing(true); });
  sync.LoadLocal().IgnoreError();  // A refusal is logged and shown in GetQueryStatus.
  cratedig::query::QueryGrpcService service(&holder, &sync);
  cratedig::DaemonOptions daemon;
  daemon.name = "queryd";
  daemon.listen = absl::GetFlag(FLAGS_listen);
  daemon.services = {&service};
  daemon.access = flags->server;
  daemon.max_concurrent_calls = flags->max_concurrent_calls;
  // Queries are small: gRPC's default 4 MiB bounds the memory one request can take.
  daemon.max_receive_message_bytes = 4 << 20;
  daemon.on_started = [&](grpc::Server* server) {
    g_server = server;
    SetServing(holder.Get() != nullptr);
    sync.Start();
  };
  daemon.on_stopping = [&] { sync.Stop(); };
  absl::Status s = cratedig::RunDaemon(daemon);
  sync.Stop();
  g_server = nullptr;
  if (!s.ok()) {
    CD_LOG(ERROR) << s;
    return 1;
  }
  return 0;
}
