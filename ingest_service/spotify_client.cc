#include "ingest_service/spotify_client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "ingest_service/spotify_json.h"

namespace cratedig::ingest {
namespace {

using Json = nlohmann::json;

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%",
                      absl::BytesToHexString(
                          absl::string_view(reinterpret_cast<const char*>(&c), 1)));
    }
  }
  return out;
}

// What one failed attempt means for the next.
enum class Next { kRetry, kRefreshToken, kRateLimited, kFail };

// The error message of a Spotify answer, without the body's other content.
std::string ErrorMessage(const HttpResponse& r) {
  Json json = Json::parse(r.body, nullptr, false);
  std::string message;
  if (json.is_object() && json.contains("error")) {
    const Json& e = json["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      message = e["message"].get<std::string>();
    } else if (e.is_string()) {
      message = e.get<std::string>();
    }
  }
  return absl::StrCat("HTTP ", r.status, message.empty() ? "" : ": ", message);
}

bool IsQuotaExceeded(const HttpResponse& r) {
  return absl::StrContains(r.body, "QUOTA_EXCEEDED");
}

class HttpSpotifyClient final : public SpotifyClient {
 public:
  HttpSpotifyClient(std::unique_ptr<HttpClient> http, SpotifyCredentials credentials,
                    SpotifyClientOptions options)
      : http_(std::move(http)),
        credentials_(std::move(credentials)),
        options_(std::move(options)),
        limiter_(options_.max_rps) {}

  absl::StatusOr<SpotifyPage<v1::Artist>> SearchArtists(const std::string& query,
                                                        int offset, int limit) override {
    absl::StatusOr<Json> json =
        Get(absl::StrCat("/v1/search?q=", UrlEncode(query),
                         "&type=artist&offset=", offset, "&limit=", limit));
    if (!json.ok()) return json.status();
    if (!json->contains("artists"))
      return absl::DataLossError("search answer lacks artists");
    return ParsePage<v1::Artist>((*json)["artists"], ParseArtist);
  }

  absl::StatusOr<SpotifyPage<v1::AlbumRef>> ArtistAlbums(
      const std::string& artist_id, const std::string& include_groups, int offset,
      int limit) override {
    absl::StatusOr<Json> json = Get(absl::StrCat(
        "/v1/artists/", artist_id, "/albums?include_groups=", UrlEncode(include_groups),
        "&offset=", offset, "&limit=", limit));
    if (!json.ok()) return json.status();
    return ParsePage<v1::AlbumRef>(*json, ParseAlbum);
  }

  absl::StatusOr<SpotifyPage<v1::Track>> AlbumTracks(const std::string& album_id,
                                                     int offset, int limit) override {
    absl::StatusOr<Json> json = Get(absl::StrCat(
        "/v1/albums/", album_id, "/tracks?offset=", offset, "&limit=", limit));
    if (!json.ok()) return json.status();
    return ParsePage<v1::Track>(*json, ParseTrack);
  }

  absl::StatusOr<SpotifyPage<v1::Track>> PlaylistTracks(const std::string& playlist_id,
                                                        int offset, int limit) override {
    for (;;) {
      const bool items = playlist_items_route_.load();
      absl::StatusOr<Json> json =
          Get(absl::StrCat("/v1/playlists/", playlist_id, items ? "/items" : "/tracks",
                           "?offset=", offset, "&limit=", limit));
      if (!items && absl::IsPermissionDenied(json.status())) {
        CD_LOG(INFO) << "/v1/playlists/{id}/tracks answers 403 (2026 development mode): "
                        "using /v1/playlists/{id}/items";
        playlist_items_route_ = true;
        continue;
      }
      if (!json.ok()) return json.status();
      return ParsePage<v1::Track>(*json, ParsePlaylistItem);
    }
  }

  absl::StatusOr<std::string> PlaylistName(const std::string& playlist_id) override {
    absl::StatusOr<Json> json =
        Get(absl::StrCat("/v1/playlists/", playlist_id, "?fields=name"));
    if (!json.ok()) return json.status();
    return ParsePlaylistName(*json);
  }

  absl::StatusOr<std::vector<std::optional<v1::Track>>> GetTracks(
      const std::vector<std::string>& ids) override {
    return GetMany<v1::Track>("tracks", "tracks", ids, ParseTrack);
  }
  absl::StatusOr<std::vector<std::optional<v1::Artist>>> GetArtists(
      const std::vector<std::string>& ids) override {
    return GetMany<v1::Artist>("artists", "artists", ids, ParseArtist);
  }
  absl::StatusOr<std::vector<std::optional<v1::AudioFeatures>>> GetAudioFeatures(
      const std::vector<std::string>& ids) override {
    return GetMany<v1::AudioFeatures>("audio-features", "audio_features", ids,
                                      ParseAudioFeatures);
  }

  const SpotifyClientStats& stats() const override { return stats_; }

 private:
  // One id: /v1/<path>/{id} (404 gives an empty entry); more: /v1/<path>?ids=.
  template <typename T, typename Parse>
  absl::StatusOr<std::vector<std::optional<T>>> GetMany(
      const char* path, const char* key, const std::vector<std::string>& ids,
      Parse parse) {
    std::vector<std::optional<T>> out;
    if (ids.empty()) return out;
    if (ids.size() == 1) {
      absl::StatusOr<Json> json = Get(absl::StrCat("/v1/", path, "/", ids[0]));
      if (absl::IsNotFound(json.status())) return std::vector<std::optional<T>>(1);
      if (!json.ok()) return json.status();
      if (json->is_object()) {
        out.emplace_back(parse(*json));
      } else {
        out.emplace_back();  // null: nothing known
      }
      return out;
    }
    absl::StatusOr<Json> json =
        Get(absl::StrCat("/v1/", path, "?ids=", absl::StrJoin(ids, ",")));
    if (!json.ok()) return json.status();
    if (!json->contains(key) || !(*json)[key].is_array() ||
        (*json)[key].size() != ids.size()) {
      return absl::DataLossError(
          absl::StrCat("batch answer of /v1/", path, " is malformed"));
    }
    for (const Json& item : (*json)[key]) {
      if (item.is_object()) {
        out.emplace_back(parse(item));
      } else {
        out.emplace_back();
      }
    }
    return out;
  }

  absl::StatusOr<Json> Get(const std::string& path_and_query);
  absl::StatusOr<std::string> Token();
  absl::StatusOr<std::string> FetchToken() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_mu_);
  void DropToken(const std::string& token);
  Next Classify(const absl::StatusOr<HttpResponse>& response, absl::Status* error);
  // Pauses every request for the answer's Retry-After; ResourceExhausted when giving up.
  absl::Status OnRateLimited(const std::string& path_and_query,
                             const HttpResponse& response, int times);
  bool Backoff(int attempt);

  std::unique_ptr<HttpClient> http_;
  const SpotifyCredentials credentials_;
  const SpotifyClientOptions options_;
  RateLimiter limiter_;
  SpotifyClientStats stats_;
  std::atomic<bool> playlist_items_route_{false};
  absl::Mutex token_mu_;
  std::string token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_refresh_at_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
  absl::Mutex rng_mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(rng_mu_){std::random_device{}()};
};

absl::StatusOr<Json> HttpSpotifyClient::Get(const std::string& path_and_query) {
  absl::Status last = absl::UnavailableError("no attempt made");
  int attempts = 0;
  int rate_limited = 0;
  while (attempts < options_.max_attempts) {
    absl::StatusOr<std::string> token = Token();
    if (!token.ok()) return token.status();
    if (!limiter_.Acquire(options_.cancel)) return absl::CancelledError("crawl stopped");
    HttpRequest request;
    request.url = options_.api_url + path_and_query;
    request.headers = {absl::StrCat("Authorization: Bearer ", *token)};
    request.timeout = options_.request_timeout;
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    ++stats_.requests;
    absl::Status error;
    Next next = Classify(response, &error);
    if (error.ok()) {
      absl::StatusOr<Json> json = ParseJsonBody(response->body);
      if (json.ok()) return json;
      error = json.status();
    }
    last = error;
    ++stats_.errors;
    if (next == Next::kFail) return error;
    if (next == Next::kRefreshToken) {
      DropToken(*token);
      ++attempts;
    } else if (next == Next::kRateLimited) {
      absl::Status give_up = OnRateLimited(path_and_query, *response, ++rate_limited);
      if (!give_up.ok()) return give_up;
    } else if (!Backoff(++attempts)) {
      return absl::CancelledError("crawl stopped");
    }
    ++stats_.retries;
  }
  return absl::Status(last.code() == absl::StatusCode::kDataLoss
                          ? absl::StatusCode::kDataLoss
                          : absl::StatusCode::kUnavailable,
                      absl::StrCat(path_and_query, ": gave up after ", attempts,
                                   " attempts: ", last.message()));
}

absl::Status HttpSpotifyClient::OnRateLimited(const std::string& path_and_query,
                                              const HttpResponse& response, int times) {
  if (times > options_.max_rate_limited || IsQuotaExceeded(response)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path_and_query, ": rate limited ", times, " times: ", ErrorMessage(response),
        IsQuotaExceeded(response) ? " (QUOTA_EXCEEDED)" : ""));
  }
  absl::Duration wait = response.retry_after_seconds.value_or(0) > 0
                            ? absl::Seconds(*response.retry_after_seconds)
                            : options_.default_retry_after;
  ++stats_.rate_limited;
  stats_.rate_limit_wait_ms += absl::ToInt64Milliseconds(wait);
  limiter_.PauseFor(wait);  // holds back every thread's next request
  return absl::OkStatus();
}

Next HttpSpotifyClient::Classify(const absl::StatusOr<HttpResponse>& response,
                                 absl::Status* error) {
  if (!response.ok()) {
    *error = response.status();
    return Next::kRetry;
  }
  int status = response->status;
  if (status >= 200 && status < 300) return Next::kRetry;  // error stays OK
  std::string message = ErrorMessage(*response);
  if (status == 401) {
    *error = absl::UnauthenticatedError(message);
    return Next::kRefreshToken;
  }
  if (status == 429) {
    *error = absl::ResourceExhaustedError(message);
    return Next::kRateLimited;
  }
  if (status >= 500) {
    *error = absl::UnavailableError(message);
    return Next::kRetry;
  }
  if (status == 403) {
    *error = absl::PermissionDeniedError(message);
  } else if (status == 404) {
    *error = absl::NotFoundError(message);
  } else {
    *error = absl::InvalidArgumentError(message);
  }
  return Next::kFail;
}

bool HttpSpotifyClient::Backoff(int attempt) {
  absl::Duration cap =
      std::min(options_.max_backoff,
               options_.initial_backoff * (int64_t{1} << std::min(attempt - 1, 20)));
  double jitter;
  {
    absl::MutexLock lock(&rng_mu_);
    jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  }
  return SleepUnlessCancelled(cap * jitter, options_.cancel);
}

absl::StatusOr<std::string> HttpSpotifyClient::Token() {
  absl::MutexLock lock(&token_mu_);
  if (!token_.empty() && absl::Now() < token_refresh_at_) return token_;
  absl::StatusOr<std::string> token = FetchToken();
  if (!token.ok()) return token.status();
  token_ = *token;
  return token_;
}

void HttpSpotifyClient::DropToken(const std::string& token) {
  absl::MutexLock lock(&token_mu_);
  if (token_ == token) token_.clear();
}

// REQUIRES: token_mu_ held (one fetch at a time).
absl::StatusOr<std::string> HttpSpotifyClient::FetchToken() {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.accounts_url + "/api/token";
  request.headers = {
      absl::StrCat("Authorization: Basic ",
                   absl::Base64Escape(absl::StrCat(credentials_.client_id, ":",
                                                   credentials_.client_secret))),
      "Content-Type: application/x-www-form-urlencoded"};
  request.body = "grant_type=client_credentials";
  request.timeout = options_.request_timeout;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (!limiter_.Acquire(options_.cancel)) return absl::CancelledError("crawl stopped");
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    ++stats_.token_fetches;
    if (response.ok() && response->status == 200) {
      absl::StatusOr<Json> json = ParseJsonBody(response->body);
      if (json.ok() && json->contains("access_token") &&
          (*json)["access_token"].is_string()) {
        // Spotify's lifetime when the answer gives none or a useless one (a string, say:
        // json::value would throw); at most a day.
        const std::optional<double> given = NumberField(*json, "expires_in");
        const double expires = given ? std::clamp(*given, 1.0, 86400.0) : 3600.0;
        // Refresh a little before expiry: a quarter of the lifetime, at most a minute.
        absl::Duration life = absl::Seconds(expires);
        token_refresh_at_ = absl::Now() + life - std::min(absl::Minutes(1), life / 4);
        return (*json)["access_token"].get<std::string>();
      }
      last = absl::DataLossError("token answer is malformed");
    } else if (response.ok() && response->status >= 400 && response->status < 500 &&
               response->status != 429) {
      return absl::UnauthenticatedError(absl::StrCat(
          "Spotify refused the client credentials (", ErrorMessage(*response),
          "); check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET or --credentials_file"));
    } else {
      last = response.ok() ? absl::UnavailableError(ErrorMessage(*response))
                           : response.status();
    }
    if (!Backoff(attempt)) return absl::CancelledError("crawl stopped");
  }
  return absl::UnavailableError(
      absl::StrCat("cannot get a Spotify token: ", last.message()));
}

absl::StatusOr<SpotifyCredentials> FromFile(const std::string& file) {
  std::ifstream in(file);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read credentials file ", file));
  SpotifyCredentials c;
  std::vector<std::string> plain;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = absl::StripAsciiWhitespace(line);
    if (v.empty() || absl::StartsWith(v, "#")) continue;
    if (absl::ConsumePrefix(&v, "SPOTIFY_CLIENT_ID=")) {
      c.client_id = std::string(v);
    } else if (absl::ConsumePrefix(&v, "SPOTIFY_CLIENT_SECRET=")) {
      c.client_secret = std::string(v);
    } else {
      plain.emplace_back(v);
    }
  }
  if (c.client_id.empty() && plain.size() >= 2) {
    c.client_id = plain[0];
    c.client_secret = plain[1];
  }
  if (c.client_id.empty() || c.client_secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "credentials file ", file,
        " must hold SPOTIFY_CLIENT_ID=... and SPOTIFY_CLIENT_SECRET=... lines"));
  }
  return c;
}

}  // namespace

absl::Status SpotifyClientOptions::Validate() const {
  if (api_url.empty() || accounts_url.empty()) {
    return absl::InvalidArgumentError("Spotify API and accounts URLs must not be empty");
  }
  if (max_attempts < 1 || max_rate_limited < 0) {
    return absl::InvalidArgumentError("max_attempts must be at least 1");
  }
  if (request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("request_timeout must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<SpotifyCredentials> LoadSpotifyCredentials(const std::string& file) {
  if (!file.empty()) return FromFile(file);
  const char* id = std::getenv("SPOTIFY_CLIENT_ID");
  const char* secret = std::getenv("SPOTIFY_CLIENT_SECRET");
  if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0') {
    return absl::NotFoundError(
        "no Spotify credentials: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET or pass "
        "--credentials_file");
  }
  return SpotifyCredentials{id, secret};
}

std::unique_ptr<SpotifyClient> NewSpotifyClient(std::unique_ptr<HttpClient> http,
                                                SpotifyCredentials credentials,
                                                SpotifyClientOptions options) {
  return std::make_unique<HttpSpotifyClient>(std::move(http), std::move(credentials),
                                             std::move(options));
}

}  // namespace cratedig::ingest
