#pragma once

// The trainer: the durable catalog, snapshot builds and the publication of snapshots to
// watchers. Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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
  BuildOptions build;
};

class Trainer {
 public:
  /// Open the catalog, clean up interrupted builds and find the newest snapshot.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const TrainerOptions& options);

  absl::Status Ingest(const v1::IngestCatalogRequest& batch,
                      v1::IngestCatalogResponse* ack) {
    return store_->Upsert(batch, ack);
  }
  /// Build and publish a snapshot of the whole catalog; one build at a time. Stops with
  /// Cancelled, publishing nothing, once `cancelled` (asked between steps) returns true.
  absl::StatusOr<v1::TrainResponse> Train(const std::function<bool()>& cancelled = {});
  v1::GetCatalogStatusResponse Status() const;
  /// Publish the kept snapshot `version` (empty: the newest one older than the current)
  /// as current again. Waits for a running build to finish first.
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

  const TrainerOptions options_;
  std::unique_ptr<CatalogStore> store_;
  absl::Mutex build_mu_;  // Held for the whole of a build.
  mutable absl::Mutex mu_;
  std::optional<v1::SnapshotManifest> latest_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cratedig::trainer
