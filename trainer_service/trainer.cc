#include "trainer_service/trainer.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/daemon.h"
#include "common/logging.h"
#include "common/snapshot.h"

namespace cratedig::trainer {

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const TrainerOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir must be set");
  auto store = CatalogStore::Open(options.data_dir);
  if (!store.ok()) return store.status();
  std::unique_ptr<Trainer> trainer(new Trainer(options, std::move(*store)));
  RemoveTemporaryDirs(trainer->root());
  if (auto current = ReadCurrent(trainer->root()); current.ok()) {
    auto manifest = ReadManifest(trainer->SnapshotDir(*current));
    if (manifest.ok()) {
      absl::MutexLock lock(&trainer->mu_);
      trainer->latest_ = *manifest;
    } else {
      CD_LOG(WARNING) << "ignoring snapshot " << *current << ": " << manifest.status();
    }
  }
  if (options.train_debounce > absl::ZeroDuration()) {
    Trainer* t = trainer.get();
    {
      // Data ingested before a restart and never built: build it (a heuristic: the track
      // count differs from the current snapshot's).
      const int64_t tracks = t->store_->track_count();
      absl::MutexLock lock(&t->mu_);
      if (tracks > 0 && (!t->latest_ || t->latest_->counts().tracks() != tracks)) {
        t->pending_ = true;
        t->first_change_ = t->last_change_ = absl::Now();
      }
    }
    t->builder_ = std::thread([t] { t->BuildWhenDue(); });
  }
  return trainer;
}

Trainer::~Trainer() {
  stop_requested_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (builder_.joinable()) builder_.join();
}

absl::Status Trainer::Ingest(const v1::IngestCatalogRequest& batch,
                             v1::IngestCatalogResponse* ack) {
  if (auto s = store_->Upsert(batch, ack); !s.ok()) return s;
  if (ack->tracks_inserted() + ack->tracks_updated() + ack->artists_upserted() > 0) {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (!pending_) first_change_ = now;
    last_change_ = now;
    pending_ = true;
  }
  return absl::OkStatus();
}

absl::Time Trainer::DueLocked() const {
  const absl::Duration d = options_.train_debounce;
  return std::min(last_change_ + d, first_change_ + 10 * d);
}

void Trainer::BuildWhenDue() {
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (pending_ && !paused_);
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      const absl::Time due = DueLocked();
      if (absl::Now() < due) {
        mu_.AwaitWithDeadline(absl::Condition(&stopping_), due);
        continue;  // Look again: more data may have moved the time.
      }
    }
    auto built = Build([this] { return stop_requested_.load(); }, /*automatic=*/true);
    if (!built.ok() && !absl::IsCancelled(built.status())) {
      CD_LOG(WARNING) << "automatic build failed, retrying in "
                      << absl::FormatDuration(options_.train_debounce) << ": "
                      << built.status();
    }
  }
}

absl::StatusOr<v1::TrainResponse> Trainer::Train(const std::function<bool()>& cancelled) {
  return Build(cancelled, /*automatic=*/false);
}

absl::StatusOr<v1::TrainResponse> Trainer::Build(const std::function<bool()>& cancelled,
                                                 bool automatic) {
  absl::MutexLock build_lock(&build_mu_);
  bool was_pending;
  {
    absl::MutexLock lock(&mu_);
    // An explicit Train may have built everything while this one waited for build_mu_.
    if (automatic && (!pending_ || paused_)) return v1::TrainResponse();
    if (!automatic) paused_ = false;  // Here, so the automatic builder cannot go first.
    was_pending = pending_;
    pending_ = false;  // Changes committed from now on are for the next build.
    building_ = true;
    build_automatic_ = automatic;
    build_started_ = absl::Now();
  }
  auto result = BuildLocked(cancelled);
  absl::MutexLock lock(&mu_);
  building_ = false;
  last_finished_ = absl::Now();
  last_duration_ = last_finished_ - build_started_;
  last_error_ = result.ok() ? "" : result.status().ToString();
  if (!result.ok() && was_pending) {
    if (!pending_)
      first_change_ = last_change_ = absl::Now();  // Retry after the debounce.
    pending_ = true;
  }
  return result;
}

std::string Trainer::SnapshotDir(const std::string& version) const {
  return absl::StrCat(root(), "/", version);
}

absl::StatusOr<v1::TrainResponse> Trainer::BuildLocked(
    const std::function<bool()>& cancelled) {
  absl::Time start = absl::Now();
  std::vector<v1::Track> tracks;
  std::vector<v1::Artist> artists;
  std::vector<v1::Playlist> playlists;
  if (auto s = store_->ReadCatalog(
          [&](v1::Track&& t) { tracks.push_back(std::move(t)); },
          [&](v1::Artist&& a) { artists.push_back(std::move(a)); },
          [&](v1::Playlist&& p) { playlists.push_back(std::move(p)); });
      !s.ok()) {
    return s;
  }
  if (tracks.empty()) {
    return absl::FailedPreconditionError("the catalog is empty; import tracks first");
  }
  if (cancelled && cancelled()) {
    return absl::CancelledError("the build was cancelled; nothing was published");
  }
  const std::string version = NextSnapshotVersion(root());
  BuildOptions build = options_.build;
  build.cancelled = cancelled;
  auto manifest =
      BuildSnapshot(std::move(tracks), artists, build, root(), version, playlists);
  ReleaseFreedMemory();  // the build's tracks, vectors and index, all freed by now
  if (!manifest.ok()) {
    RemoveTemporaryDirs(root());  // The failed build's; build_mu_ keeps out any other.
    return manifest.status();
  }
  PruneSnapshots(root(), options_.keep_snapshots);
  {
    absl::MutexLock lock(&mu_);
    latest_ = *manifest;
  }
  int64_t ms = absl::ToInt64Milliseconds(absl::Now() - start);
  const v1::SnapshotCounts& c = manifest->counts();
  CD_LOG(INFO) << "snapshot published version=" << version << " tracks=" << c.tracks()
               << " search_indexed=" << c.search_indexed()
               << " recommend_indexed=" << c.recommend_indexed()
               << " duplicates=" << c.duplicates()
               << " missing_audio_features=" << c.missing_audio_features()
               << " genres=" << manifest->preprocessing().genres_size()
               << " playlists=" << manifest->cooccurrence().playlists()
               << " cooccurrence_tracks=" << manifest->cooccurrence().tracks()
               << " build_ms=" << ms;
  v1::TrainResponse response;
  response.set_snapshot_version(version);
  response.set_tracks(c.tracks());
  response.set_build_ms(ms);
  return response;
}

absl::StatusOr<v1::RollbackSnapshotResponse> Trainer::Rollback(
    const std::string& version) {
  absl::MutexLock build_lock(&build_mu_);  // A build publishing meanwhile would win.
  std::optional<v1::SnapshotManifest> current = Latest();
  if (!current) {
    return absl::FailedPreconditionError("no snapshot is published yet; train first");
  }
  const std::vector<std::string> kept = ListSnapshots(root());
  const std::string kept_list =
      absl::StrCat("kept: ", absl::StrJoin(kept, ", "),
                   "; --keep_snapshots=", options_.keep_snapshots);
  std::string target;
  if (version.empty()) {
    for (const std::string& v : kept) {
      if (SnapshotVersionLess(v, current->version())) target = v;
    }
    if (target.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no kept snapshot is older than the current ", current->version(),
                       " (", kept_list, ")"));
    }
  } else {
    int64_t number = 0;
    if (!IsSnapshotVersion(version) || !absl::SimpleAtoi(version, &number)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "version: '", version, "' is not a snapshot version (digits, e.g. 000002)"));
    }
    target = absl::StrFormat("%06d", number);
    if (std::find(kept.begin(), kept.end(), target) == kept.end()) {
      return absl::NotFoundError(absl::StrCat("version: snapshot ", target,
                                              " is not kept by this trainer (", kept_list,
                                              ")"));
    }
  }
  v1::RollbackSnapshotResponse response;
  response.set_previous_version(current->version());
  *response.mutable_kept_versions() = {kept.begin(), kept.end()};
  if (target != current->version()) {
    auto manifest = ReadManifest(SnapshotDir(target));
    if (!manifest.ok()) return manifest.status();
    if (auto s = VerifySnapshotFiles(SnapshotDir(target), *manifest); !s.ok()) return s;
    if (auto s = WriteCurrent(root(), target); !s.ok()) return s;
    {
      absl::MutexLock lock(&mu_);
      latest_ = *manifest;
    }
    CD_LOG(INFO) << "snapshot rolled back version=" << target
                 << " previous=" << current->version()
                 << " tracks=" << manifest->counts().tracks();
    current = *std::move(manifest);
  }
  {
    absl::MutexLock lock(&mu_);
    paused_ = true;
  }
  response.set_snapshot_version(current->version());
  response.set_tracks(current->counts().tracks());
  return response;
}

v1::GetCatalogStatusResponse Trainer::Status() const {
  v1::GetCatalogStatusResponse status;
  status.set_tracks(store_->track_count());
  status.set_artists(store_->artist_count());
  status.set_playlists(store_->playlist_count());
  for (const std::string& v : ListSnapshots(root())) status.add_kept_versions(v);
  status.set_train_debounce_ms(absl::ToInt64Milliseconds(options_.train_debounce));
  const bool automatic = options_.train_debounce > absl::ZeroDuration();
  absl::MutexLock lock(&mu_);
  if (latest_) status.set_snapshot_version(latest_->version());
  if (building_) {
    status.set_build_state(v1::BUILD_STATE_BUILDING);
    status.set_build_started_at_ms(absl::ToUnixMillis(build_started_));
    status.set_build_automatic(build_automatic_);
  } else if (automatic && paused_) {
    status.set_build_state(v1::BUILD_STATE_PAUSED);
  } else if (automatic && pending_) {
    status.set_build_state(v1::BUILD_STATE_WAITING);
    status.set_build_due_at_ms(absl::ToUnixMillis(DueLocked()));
  } else {
    status.set_build_state(v1::BUILD_STATE_IDLE);
  }
  if (last_finished_ != absl::InfinitePast()) {
    status.set_last_build_finished_at_ms(absl::ToUnixMillis(last_finished_));
    status.set_last_build_ms(absl::ToInt64Milliseconds(last_duration_));
    status.set_last_build_error(last_error_);
  }
  return status;
}

std::optional<v1::SnapshotManifest> Trainer::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

std::optional<v1::SnapshotManifest> Trainer::WaitForNewer(const std::string& known,
                                                          absl::Duration timeout) const {
  auto newer = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return latest_.has_value() && latest_->version() != known;
  };
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&newer), timeout);
  if (newer()) return latest_;
  return std::nullopt;
}

}  // namespace cratedig::trainer
