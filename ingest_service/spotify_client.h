#pragma once

// The Spotify Web API as the crawl uses it: client-credentials auth, one rate limiter,
// 429/5xx/timeout/broken-JSON retries with backoff, and the typed calls of the crawl.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cratedig/v1/track.pb.h"
#include "ingest_service/http_client.h"
#include "ingest_service/rate_limiter.h"

namespace cratedig::ingest {

/// Client-credentials of a Spotify app. Never logged.
struct SpotifyCredentials {
  std::string client_id;
  std::string client_secret;
};

/// Reads SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET, or, when `file` is not empty, a file
/// of lines "SPOTIFY_CLIENT_ID=..." and "SPOTIFY_CLIENT_SECRET=..." (or id and secret on
/// the first two lines). NotFound when neither gives both.
absl::StatusOr<SpotifyCredentials> LoadSpotifyCredentials(const std::string& file);

struct SpotifyClientOptions {
  std::string api_url = "https://api.spotify.com";
  std::string accounts_url = "https://accounts.spotify.com";
  /// Requests per second over the whole daemon; <= 0 for no limit.
  double max_rps = 5;
  /// Attempts per call for 5xx, timeouts and broken answers (and 401 refreshes).
  int max_attempts = 6;
  /// 429 answers tolerated per call before giving up with ResourceExhausted.
  int max_rate_limited = 30;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  /// Wait after a 429 without (or with a zero) Retry-After.
  absl::Duration default_retry_after = absl::Seconds(1);
  absl::Duration request_timeout = absl::Seconds(30);
  /// Stops sleeps and retries early (shutdown); may be null. Not owned.
  const absl::Notification* cancel = nullptr;

  absl::Status Validate() const;
};

/// Counters of what the client did. Thread-safe (atomics).
struct SpotifyClientStats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> rate_limited{0};
  std::atomic<int64_t> rate_limit_wait_ms{0};
  std::atomic<int64_t> token_fetches{0};
};

/// One page of a paging object.
template <typename T>
struct SpotifyPage {
  std::vector<T> items;
  int64_t total = 0;
  /// The answer had a `next` URL.
  bool has_next = false;
};

/// The calls of the crawl. Implementations are thread-safe.
class SpotifyClient {
 public:
  virtual ~SpotifyClient() = default;
  /// GET /v1/search?type=artist.
  virtual absl::StatusOr<SpotifyPage<v1::Artist>> SearchArtists(const std::string& query,
                                                                int offset,
                                                                int limit) = 0;
  /// GET /v1/artists/{id}/albums; albums carry id, name and release date.
  virtual absl::StatusOr<SpotifyPage<v1::AlbumRef>> ArtistAlbums(
      const std::string& artist_id, const std::string& include_groups, int offset,
      int limit) = 0;
  /// GET /v1/albums/{id}/tracks; tracks carry id, name, artists, duration and explicit.
  virtual absl::StatusOr<SpotifyPage<v1::Track>> AlbumTracks(const std::string& album_id,
                                                             int offset, int limit) = 0;
  /// One page of playlist `playlist_id`'s tracks: GET /v1/playlists/{id}/tracks, or
  /// /v1/playlists/{id}/items from the first 403 of /tracks on (the 2026 development
  /// mode moved the route). Full tracks with their album; an entry that is not a Spotify
  /// track (episode, local file, removed) comes back without id.
  virtual absl::StatusOr<SpotifyPage<v1::Track>> PlaylistTracks(
      const std::string& playlist_id, int offset, int limit) = 0;
  /// The name of playlist `playlist_id`: GET /v1/playlists/{id}?fields=name.
  virtual absl::StatusOr<std::string> PlaylistName(const std::string& playlist_id) = 0;
  /// GET /v1/tracks/{id} for one id, /v1/tracks?ids= for more; one entry per id, empty
  /// for ids Spotify does not know.
  virtual absl::StatusOr<std::vector<std::optional<v1::Track>>> GetTracks(
      const std::vector<std::string>& ids) = 0;
  /// GET /v1/artists/{id} or /v1/artists?ids=.
  virtual absl::StatusOr<std::vector<std::optional<v1::Artist>>> GetArtists(
      const std::vector<std::string>& ids) = 0;
  /// GET /v1/audio-features/{id} or ?ids= (at most 100). PermissionDenied on a 403.
  virtual absl::StatusOr<std::vector<std::optional<v1::AudioFeatures>>> GetAudioFeatures(
      const std::vector<std::string>& ids) = 0;
  virtual const SpotifyClientStats& stats() const = 0;
};

/// Returns the HTTP implementation. Errors of its calls: Unauthenticated when the
/// accounts service refused the credentials, PermissionDenied (403), NotFound (404),
/// InvalidArgument (400), ResourceExhausted (429s past the bound or QUOTA_EXCEEDED),
/// Unavailable (5xx/timeouts/broken answers past max_attempts), Cancelled.
std::unique_ptr<SpotifyClient> NewSpotifyClient(std::unique_ptr<HttpClient> http,
                                                SpotifyCredentials credentials,
                                                SpotifyClientOptions options);

}  // namespace cratedig::ingest
