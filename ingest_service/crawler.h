#pragma once

// The Spotify crawl: search each query for artists (--pages pages of --page_size), list
// each artist's albums over all pages, each album's tracks over all pages, then the
// tracks' and artists' details and audio features; then the tracks of each playlist
// asked for by id (all pages) with their audio features, sent with the playlist. Every
// step is committed to the crawl state with its results (see crawl_state.h), so a killed
// crawl goes on where it stopped.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "ingest_service/crawl_state.h"
#include "ingest_service/spotify_client.h"

namespace cratedig::ingest {

struct CrawlOptions {
  /// Search texts, e.g. "a" or genre:"latin".
  std::vector<std::string> queries;
  /// Public playlists to crawl, by Spotify id (22 base62 characters).
  std::vector<std::string> playlists;
  /// Search pages per query.
  int pages = 10;
  /// Page size of search and artist albums (10 at most for a 2026 development-mode app).
  int page_size = 10;
  /// Ids per details request: 1 uses /v1/tracks/{id} and /v1/artists/{id}; more uses the
  /// batch endpoints (extended quota only), and audio features then go 100 at a time.
  int batch_ids = 1;
  /// include_groups of the artist-albums call.
  std::string include_groups = "album";
  /// Fetch /v1/tracks details (popularity, explicit); album listings already carry the
  /// rest.
  bool track_details = true;

  absl::Status Validate() const;
};

/// Splits --queries at commas outside double quotes: `a,genre:"rock, pop"` is two
/// queries. Empty pieces are dropped.
std::vector<std::string> SplitQueries(const std::string& text);

/// Reads playlist ids, one a line ('#' starts a comment; blank lines skipped); each line
/// may be an id, a spotify:playlist:ID uri or an open.spotify.com/playlist/ID link.
/// InvalidArgument naming the line when one is none of them.
absl::StatusOr<std::vector<std::string>> ParsePlaylistIds(const std::string& text);

/// The most results a search can page through (offset + limit).
inline constexpr int kSearchWindow = 1000;

/// Runs crawl runs. Not thread-safe except the counters; `client` and `state` must
/// outlive it.
class Crawler {
 public:
  Crawler(SpotifyClient* client, CrawlState* state, CrawlOptions options,
          const absl::Notification* cancel);

  /// Continues the unfinished run or starts a new one, and crawls it to the end. Returns
  /// the number of items that failed (kept for the next run). Unauthenticated when
  /// Spotify refused the credentials, Cancelled when stopped, Internal for state errors.
  absl::StatusOr<int64_t> Run();

  int64_t tracks_fetched() const { return tracks_fetched_; }
  bool audio_features_forbidden() const { return features_forbidden_; }
  /// "searching", "artists", "albums", "playlists" or "idle".
  std::string phase() const;

 private:
  bool Stopped() const;
  absl::Status SearchAll();
  absl::Status SearchQuery(QueryCursor cursor);
  absl::Status CrawlArtists();
  absl::Status CrawlArtistGroup(const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<v1::AlbumRef>> ListAlbums(const std::string& artist_id);
  absl::Status CrawlAlbums();
  absl::Status CrawlAlbumGroup(const std::vector<v1::AlbumRef>& albums);
  absl::StatusOr<std::vector<v1::Track>> ListTracks(const v1::AlbumRef& album);
  absl::Status CrawlPlaylists();
  absl::Status CrawlPlaylist(const std::string& playlist_id);
  absl::Status AddDetails(std::vector<v1::Track>* tracks);
  absl::Status AddFeatures(std::vector<v1::Track>* tracks);
  // Records a non-fatal failure of one item; returns the fatal ones.
  absl::Status Fail(const std::string& table, const std::string& key,
                    const absl::Status& error);

  SpotifyClient* client_;
  CrawlState* state_;
  const CrawlOptions options_;
  const absl::Notification* cancel_;
  std::string source_;
  std::atomic<int64_t> tracks_fetched_{0};
  std::atomic<bool> features_forbidden_{false};
  std::atomic<int> phase_{0};
};

}  // namespace cratedig::ingest
