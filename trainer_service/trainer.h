#pragma once

// The trainer: the durable catalog, snapshot builds and the publication of snapshots to
// watchers. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cratedig/v1/catalog_service.pb.h"
#include "cratedig/v1/snapshot.pb.h"
#include "trainer_service/catalog_store.h"
#include "trainer_service/snapshot_builder.h"

namespace cratedig::trainer {

struct TrainerOptions {
  /// Directory for catalog.sqlite and snapshots/.
  std::string data_dir;
  /// Snapshots kept on disk (the newest ones).
  int keep_snapshots = 5;
  /// Automatic builds: once new data has been quiet for this long (and at the latest ten
  /// times this long after the first change not in a snapshot, so a steady crawl still
  /// publishes), the trainer builds and publishes by itself. Zero: only Train builds.
  absl::Duration train_debounce = absl::ZeroDuration();
  BuildOptions build;
};

class Trainer {
 public:
  /// Open the catalog, clean up interrupted builds and find the newest snapshot.
  /// Starts the automatic builder when options.train_debounce is positive.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const TrainerOptions& options);
  /// Stops the automatic builder, cancelling a build it runs.
  ~Trainer();

  /// Store one batch; a batch that changed the catalog schedules an automatic build.
  absl::Status Ingest(const v1::IngestCatalogRequest& batch,
                      v1::IngestCatalogResponse* ack);
  /// Build and publish a snapshot of the whole catalog; one build at a time. Stops with
  /// Cancelled, publishing nothing, once `cancelled` (asked between steps) returns true.
  /// Resumes automatic builds paused by a rollback.
  absl::StatusOr<v1::TrainResponse> Train(const std::function<bool()>& cancelled = {});
  v1::GetCatalogStatusResponse Status() const;
  /// Publish the kept snapshot `version` (empty: the newest one older than the current)
  /// as current again. Waits for a running build to finish first. Automatic builds pause
  /// until the next Train, so that new data does not undo the rollback at once.
  absl::StatusOr<v1::RollbackSnapshotResponse> Rollback(const std::string& version);

  /// The newest published manifest, if any.
  std::optional<v1::SnapshotManifest> Latest() const;
  /// Wait until a manifest with a version other than `known` is published, or `timeout`.
  std::optional<v1::SnapshotManifest> WaitForNewer(const std::string& known,
                                                   absl::Duration timeout) const;
  /// Directory holding the files of snapshot `version`.
  std::string SnapshotDir(const std::string& version) const;

 private:
  Trainer(TrainerOptions options, std::unique_ptr<CatalogStore> store)
      : options_(std::move(options)), store_(std::move(store)) {}
  std::string root() const { return options_.data_dir + "/snapshots"; }
  /// One build, explicit (Train) or automatic; records what it did for Status.
  absl::StatusOr<v1::TrainResponse> Build(const std::function<bool()>& cancelled,
                                          bool automatic);
  absl::StatusOr<v1::TrainResponse> BuildLocked(const std::function<bool()>& cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(build_mu_);
  /// The automatic builder's thread.
  void BuildWhenDue();
  absl::Time DueLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TrainerOptions options_;
  std::unique_ptr<CatalogStore> store_;
  absl::Mutex build_mu_;  // Held for the whole of a build.
  mutable absl::Mutex mu_;
  std::optional<v1::SnapshotManifest> latest_ ABSL_GUARDED_BY(mu_);
  // Changes not in a build yet: since when, and the latest.
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time first_change_ ABSL_GUARDED_BY(mu_);
  absl::Time last_change_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;  // By a rollback, until Train.
  bool building_ ABSL_GUARDED_BY(mu_) = false;
  bool build_automatic_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time build_started_ ABSL_GUARDED_BY(mu_);
  absl::Time last_finished_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration last_duration_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_requested_{false};
  std::thread builder_;
};

}  // namespace cratedig::trainer
