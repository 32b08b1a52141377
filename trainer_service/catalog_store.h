#pragma once

// The trainer's durable catalog: tracks and artists in SQLite, upserted by Spotify id,
// and playlists, replaced by id.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cratedig/v1/catalog_service.pb.h"
#include "cratedig/v1/track.pb.h"

struct sqlite3;

namespace cratedig::trainer {

/// Returns `stored` updated with `incoming`: fields `incoming` has replace stored ones
/// (audio features field by field), genres are united, artist ids missing from `incoming`
/// are kept from `stored` where the names match.
v1::Track MergeTrack(const v1::Track& stored, const v1::Track& incoming);
/// The same for artists: genres united, present fields replaced.
v1::Artist MergeArtist(const v1::Artist& stored, const v1::Artist& incoming);

/// The catalog. Thread-safe: writes are serialised; each batch is one transaction,
/// committed with synchronous=FULL before Upsert returns, so an acknowledged batch
/// survives a crash.
class CatalogStore {
 public:
  ~CatalogStore();
  /// Open or create `<dir>/catalog.sqlite`.
  static absl::StatusOr<std::unique_ptr<CatalogStore>> Open(const std::string& dir);

  /// Store one batch; fills the counts of `ack` (batch_id is left alone).
  absl::Status Upsert(const v1::IngestCatalogRequest& batch,
                      v1::IngestCatalogResponse* ack);

  /// Calls `on_track` for every track in insertion order (stable snapshot positions),
  /// then `on_artist` for every artist, then `on_playlist` for every playlist (each may
  /// be empty), from one read transaction on a connection of its own: one consistent
  /// state of the catalog, read without holding up Upsert (WAL mode lets writers commit
  /// meanwhile).
  absl::Status ReadCatalog(
      const std::function<void(v1::Track&&)>& on_track,
      const std::function<void(v1::Artist&&)>& on_artist,
      const std::function<void(v1::Playlist&&)>& on_playlist = nullptr) const;
  absl::Status ForEachTrack(const std::function<void(v1::Track&&)>& fn) const;
  absl::Status ForEachArtist(const std::function<void(v1::Artist&&)>& fn) const;
  /// Calls `fn` for every playlist in the order they were first stored.
  absl::Status ForEachPlaylist(const std::function<void(v1::Playlist&&)>& fn) const;

  int64_t track_count() const;
  int64_t artist_count() const;
  int64_t playlist_count() const;
  /// Increases with every batch that changed something.
  int64_t generation() const;

 private:
  CatalogStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status UpsertTrack(const v1::Track& track, v1::IngestCatalogResponse* ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UpsertArtist(const v1::Artist& artist, v1::IngestCatalogResponse* ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UpsertPlaylist(const v1::Playlist& playlist,
                              v1::IngestCatalogResponse* ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) const;
  int64_t Count(const char* table) const;

  mutable absl::Mutex mu_;
  sqlite3* db_;
  const std::string path_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cratedig::trainer
