#pragma once

// The crawl's durable state in SQLite (<state_dir>/crawl.sqlite): which search pages,
// artists and albums of the current run are done or failed, and the outbox of batches
// fetched but not yet acknowledged by the trainer. Every step of the crawl commits its
// results and its "done" mark in one transaction, so a SIGKILL at any moment loses at
// most the step in flight, which is fetched again on restart.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cratedig/v1/catalog_service.pb.h"
#include "cratedig/v1/track.pb.h"

struct sqlite3;

namespace cratedig::ingest {

/// Where a search query stands in the current run.
struct QueryCursor {
  std::string query;
  int64_t next_offset = 0;
  int64_t pages_done = 0;
};

/// Counts for the status RPC and the progress log.
struct CrawlCounts {
  int64_t run = 0;
  int64_t queries_done = 0, queries_total = 0;
  int64_t artists_done = 0, artists_total = 0;
  int64_t albums_done = 0, albums_total = 0;
  int64_t tracks = 0;
  int64_t failed = 0;
  int64_t outbox_batches = 0;
  int64_t playlists_done = 0, playlists_total = 0;
};

/// The crawl state. Thread-safe (one connection behind a mutex): the crawler and the
/// outbox sender share it.
class CrawlState {
 public:
  /// Opens (creating) <dir>/crawl.sqlite; creates `dir` when missing.
  static absl::StatusOr<std::unique_ptr<CrawlState>> Open(const std::string& dir);
  ~CrawlState();

  /// Continues the unfinished run, or starts a new one (everything pending again) when
  /// the last run completed. Items that failed are pending again either way. `queries`
  /// and `playlists` (Spotify playlist ids) become the run's. Returns the run number.
  absl::StatusOr<int64_t> BeginRun(const std::vector<std::string>& queries,
                                   const std::vector<std::string>& playlists = {});
  /// Marks the run complete when nothing failed; returns the number of failed items.
  absl::StatusOr<int64_t> FinishRun();
  /// Seconds since the epoch when the last run completed; 0 when none did, or when the
  /// current run is unfinished.
  absl::StatusOr<int64_t> LastCompletion();

  absl::StatusOr<std::optional<QueryCursor>> NextQuery();
  /// Stores the artists a search page found and moves the query on (done when `last`).
  absl::Status SaveSearchPage(const QueryCursor& next, bool last,
                              const std::vector<v1::Artist>& artists);

  /// Up to `limit` pending artist ids.
  absl::StatusOr<std::vector<std::string>> NextArtists(int limit);
  /// Stores an artist's albums (pending) and its details (to the outbox) and marks it
  /// done.
  absl::Status SaveArtist(const std::string& artist_id,
                          const std::vector<v1::AlbumRef>& albums,
                          const std::optional<v1::Artist>& details,
                          const std::string& source);

  /// Up to `limit` pending albums.
  absl::StatusOr<std::vector<v1::AlbumRef>> NextAlbums(int limit);
  /// An album id with its tracks.
  using AlbumTracks = std::pair<std::string, std::vector<v1::Track>>;
  /// Puts each album's tracks in the outbox (one batch per album) and marks the albums
  /// done, all in one transaction.
  absl::Status SaveAlbums(const std::vector<AlbumTracks>& albums,
                          const std::string& source);
  absl::Status SaveAlbum(const std::string& album_id,
                         const std::vector<v1::Track>& tracks,
                         const std::string& source) {
    return SaveAlbums({{album_id, tracks}}, source);
  }

  /// A pending playlist id of the run, if any.
  absl::StatusOr<std::optional<std::string>> NextPlaylist();
  /// Puts the playlist (its tracks, then the playlist) in the outbox as one batch and
  /// marks it done, in one transaction.
  absl::Status SavePlaylist(const v1::Playlist& playlist,
                            const std::vector<v1::Track>& tracks,
                            const std::string& source);

  /// Records that a query, artist, album or playlist failed for this run ("queries",
  /// "artists", "albums", "playlists").
  absl::Status MarkFailed(const std::string& table, const std::string& key,
                          const std::string& error);

  /// The oldest `limit` outbox batches, each with its batch_id set to its sequence.
  absl::StatusOr<std::vector<v1::IngestCatalogRequest>> PeekOutbox(int limit);
  /// Removes an acknowledged batch.
  absl::Status AckOutbox(int64_t batch_id);

  absl::StatusOr<CrawlCounts> Counts();

 private:
  explicit CrawlState(sqlite3* db) : db_(db) {}
  absl::Status Exec(const std::string& sql);
  // The private helpers REQUIRE mu_. Runs `body` in one transaction; rolls back when it
  // fails.
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  absl::Status PutOutbox(const v1::IngestCatalogRequest& batch);
  absl::StatusOr<int64_t> Int(const std::string& sql);
  absl::Status ExecAll(const std::vector<std::string>& statements);
  // Makes `keys` the active rows of `table` ("queries" by query, "playlists" by id),
  // adding those not known yet.
  absl::Status SetActive(const std::string& table, const std::string& column,
                         const std::vector<std::string>& keys);

  // Serialises every use of db_ (not annotated: the transactions' lambdas use it under
  // the lock taken by their caller, which -Wthread-safety cannot follow).
  absl::Mutex mu_;
  sqlite3* db_;
};

}  // namespace cratedig::ingest
