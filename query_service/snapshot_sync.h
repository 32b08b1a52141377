#pragma once

// Keeps a query daemon's snapshot current: loads the newest snapshot on local disk at
// start, then watches the trainer, fetches each newly published snapshot in chunks
// (resuming a cut transfer), verifies it, installs it atomically on disk and swaps it in.
// A snapshot that fails verification or loading is refused with a log line and the old
// one keeps serving.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cratedig/v1/query_service.pb.h"
#include "cratedig/v1/snapshot_service.grpc.pb.h"
#include "query_service/snapshot_holder.h"

namespace cratedig::query {

struct SnapshotSyncOptions {
  /// The trainer's address; empty serves local snapshots only.
  std::string trainer;
  /// The channel to the trainer (TLS, token); null: a plaintext channel to `trainer`.
  std::shared_ptr<grpc::Channel> trainer_channel;
  /// Directory of this daemon's copy of the snapshots.
  std::string data_dir;
  /// Snapshots kept on disk.
  int keep_snapshots = 3;
};

/// Owns one background thread (joined by Stop or the destructor). Thread-safe.
class SnapshotSync {
 public:
  /// `on_installed` runs for each loaded snapshot just before it is served (e.g. to
  /// report SERVING on the health service).
  SnapshotSync(SnapshotSyncOptions options, SnapshotHolder* holder,
               std::function<void(const Snapshot&)> on_installed);
  ~SnapshotSync();

  /// Load the snapshot CURRENT names on local disk, if any (NotFound when there is none).
  absl::Status LoadLocal();
  /// Start watching the trainer.
  void Start();
  void Stop();

  /// Fetch, verify, install and load one published snapshot (used by the watch loop).
  /// CURRENT on disk names it only once it loaded; one that fails is deleted and recorded
  /// as refused.
  absl::Status Sync(const v1::SnapshotManifest& manifest);

  /// Fill the replication fields of a status answer: the served snapshot's origin and
  /// load time, the trainer's address and connection state, the last refused snapshot.
  void DescribeTo(v1::GetQueryStatusResponse* status) const;

 private:
  void Run();
  void WatchOnce();
  absl::Status FetchFile(const std::string& version, const v1::SnapshotFile& file,
                         const std::string& path);
  /// Load `dir`, point CURRENT at it when asked, report it (on_installed) and serve it.
  /// `verified`: the files were checked against their CRC-32 just before, so loading
  /// skips that pass.
  absl::Status LoadAndInstall(const std::string& dir, bool point_current,
                              bool verified = false);
  void RecordRefusal(const std::string& version, const absl::Status& status);
  std::string root() const { return options_.data_dir + "/snapshots"; }

  const SnapshotSyncOptions options_;
  SnapshotHolder* holder_;  // Not owned.
  std::function<void(const Snapshot&)> on_installed_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SnapshotService::Stub> stub_;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t loaded_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::string refused_version_ ABSL_GUARDED_BY(mu_);
  std::string refused_error_ ABSL_GUARDED_BY(mu_);
  int64_t refused_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace cratedig::query
