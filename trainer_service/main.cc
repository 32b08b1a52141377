// trainerd: keeps the catalog, builds snapshots and publishes them to query daemons.

#include <algorithm>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "trainer_service/trainer.h"
#include "trainer_service/trainer_grpc_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052",
          "Address to serve on (port 0: any free port)");
ABSL_FLAG(std::string, data_dir, "",
          "Directory for the catalog and the snapshots (required)");
ABSL_FLAG(int, keep_snapshots, 5, "Snapshots kept on disk (and available to rollback)");
ABSL_FLAG(absl::Duration, train_debounce, absl::Seconds(30),
          "Build and publish a snapshot by itself once new data has been quiet this long "
          "(at the latest 10 times this long after the first change); 0 turns it off");
ABSL_FLAG(int, text_dim, 256, "Width of the track-name vectors");
ABSL_FLAG(double, min_genre_share, 0.01,
          "Genres held by a smaller share of tracks are left out of the feature vectors");
ABSL_FLAG(int, hnsw_m, 16, "hnswlib graph degree M of both indexes");
ABSL_FLAG(int, ef_construction, 200, "hnswlib construction breadth of both indexes");
ABSL_FLAG(int, ef_search, 256, "Search breadth the query daemons use (at least k)");
ABSL_FLAG(int64_t, recommend_exhaustive_below, 100000,
          "Recommendation indexes with at most this many tracks are searched exactly");
ABSL_FLAG(int, build_threads, 2, "Threads used to build the indexes");

int main(int argc, char** argv) {
  cratedig::WatchShutdownSignals();
  absl::SetProgramUsageMessage("trainerd --listen=ADDR --data_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  cratedig::SetLogProgramName("trainerd");
  absl::StatusOr<cratedig::DaemonFlags> flags = cratedig::DaemonFlagsFromCommandLine();
  if (!flags.ok()) {
    CD_LOG(ERROR) << flags.status();
    return 2;
  }
  cratedig::trainer::TrainerOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.keep_snapshots = absl::GetFlag(FLAGS_keep_snapshots);
  options.train_debounce =
      std::max(absl::GetFlag(FLAGS_train_debounce), absl::ZeroDuration());
  options.build.text_dim = absl::GetFlag(FLAGS_text_dim);
  options.build.min_genre_share = absl::GetFlag(FLAGS_min_genre_share);
  options.build.threads = absl::GetFlag(FLAGS_build_threads);
  options.build.m = absl::GetFlag(FLAGS_hnsw_m);
  options.build.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  options.build.ef_search = absl::GetFlag(FLAGS_ef_search);
  options.build.recommend_exhaustive_below =
      absl::GetFlag(FLAGS_recommend_exhaustive_below);
  if (options.data_dir.empty()) {
    CD_LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  auto trainer = cratedig::trainer::Trainer::Create(options);
  if (!trainer.ok()) {
    CD_LOG(ERROR) << "cannot start: " << trainer.status();
    return 1;
  }
  cratedig::trainer::CatalogGrpcService catalog(trainer->get());
  cratedig::trainer::SnapshotGrpcService snapshots(trainer->get(),
                                                   &cratedig::ShutdownNotification());
  cratedig::DaemonOptions daemon;
  daemon.name = "trainerd";
  daemon.listen = absl::GetFlag(FLAGS_listen);
  daemon.services = {&catalog, &snapshots};
  daemon.access = flags->server;
  daemon.max_concurrent_calls = flags->max_concurrent_calls;
  absl::Status s = cratedig::RunDaemon(daemon);
  if (!s.ok()) {
    CD_LOG(ERROR) << s;
    return 1;
  }
  return 0;
}
