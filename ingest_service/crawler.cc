#include "ingest_service/crawler.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/track_ids.h"

namespace cratedig::ingest {
namespace {

// Album tracks pages are not limited to 10 in development mode.
constexpr int kAlbumTracksPage = 50;
// Playlist items pages: 50 at most in Spotify's own definition (100 in corrected ones).
constexpr int kPlaylistPage = 50;
constexpr int kFeaturesBatch = 100;

bool IsFatal(const absl::Status& s) {
  return absl::IsUnauthenticated(s) || absl::IsCancelled(s) || absl::IsInternal(s);
}

template <typename T>
std::vector<std::vector<T>> Chunks(const std::vector<T>& items, size_t size) {
  std::vector<std::vector<T>> out;
  for (size_t i = 0; i < items.size(); i += size) {
    out.emplace_back(items.begin() + i, items.begin() + std::min(items.size(), i + size));
  }
  return out;
}

}  // namespace

std::vector<std::string> SplitQueries(const std::string& text) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  std::vector<std::string> queries;
  for (std::string& q : out) {
    if (!q.empty()) queries.push_back(std::move(q));
  }
  return queries;
}

absl::StatusOr<std::vector<std::string>> ParsePlaylistIds(const std::string& text) {
  std::vector<std::string> ids;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar(",\n"))) {
    ++number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    constexpr absl::string_view kLink = "/playlist/";
    absl::string_view id = line;
    if (!absl::ConsumePrefix(&id, "spotify:playlist:")) {
      if (size_t at = id.find(kLink); at != absl::string_view::npos) {
        id = id.substr(at + kLink.size());
        id = id.substr(0, id.find_first_of("?/"));
      }
    }
    if (!IsSpotifyId(id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "playlist ", number, " '", line.substr(0, 80),
          "' is not a Spotify playlist id (22 base62 characters, a spotify:playlist: "
          "uri or an open.spotify.com link)"));
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.emplace_back(id);
  }
  return ids;
}

absl::Status CrawlOptions::Validate() const {
  if (queries.empty() && playlists.empty()) {
    return absl::InvalidArgumentError("queries and playlists must not both be empty");
  }
  for (const std::string& id : playlists) {
    if (!IsSpotifyId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("playlists: '", id.substr(0, 80), "' is not a Spotify id"));
    }
  }
  if (pages < 1) return absl::InvalidArgumentError("pages must be at least 1");
  if (page_size < 1 || page_size > 50) {
    return absl::InvalidArgumentError("page_size must be 1..50 (10 in development mode)");
  }
  if (batch_ids < 1 || batch_ids > 50) {
    return absl::InvalidArgumentError("batch_ids must be 1..50");
  }
  return absl::OkStatus();
}

Crawler::Crawler(SpotifyClient* client, CrawlState* state, CrawlOptions options,
                 const absl::Notification* cancel)
    : client_(client), state_(state), options_(std::move(options)), cancel_(cancel) {}

bool Crawler::Stopped() const { return cancel_ != nullptr && cancel_->HasBeenNotified(); }

std::string Crawler::phase() const {
  static const char* const kNames[] = {"idle", "searching", "artists", "albums",
                                       "playlists"};
  return kNames[phase_];
}

absl::StatusOr<int64_t> Crawler::Run() {
  absl::StatusOr<int64_t> run = state_->BeginRun(options_.queries, options_.playlists);
  if (!run.ok()) return run.status();
  source_ = absl::StrCat("spotify crawl run ", *run);
  CD_LOG(INFO) << "crawl run " << *run << " started queries=" << options_.queries.size()
               << " pages=" << options_.pages << " page_size=" << options_.page_size
               << " batch_ids=" << options_.batch_ids
               << " playlists=" << options_.playlists.size();
  absl::Status status = SearchAll();
  if (status.ok()) status = CrawlArtists();
  if (status.ok()) status = CrawlAlbums();
  if (status.ok()) status = CrawlPlaylists();
  phase_ = 0;
  if (!status.ok()) return status;
  return state_->FinishRun();
}

absl::Status Crawler::Fail(const std::string& table, const std::string& key,
                           const absl::Status& error) {
  if (IsFatal(error)) return error;
  CD_LOG(WARNING) << "crawl: " << table << " " << key
                  << " failed, retried next run: " << error;
  return state_->MarkFailed(table, key, std::string(error.message()));
}

absl::Status Crawler::SearchAll() {
  phase_ = 1;
  for (;;) {
    if (Stopped()) return absl::CancelledError("crawl stopped");
    absl::StatusOr<std::optional<QueryCursor>> cursor = state_->NextQuery();
    if (!cursor.ok()) return cursor.status();
    if (!cursor->has_value()) return absl::OkStatus();
    absl::Status status = SearchQuery(**cursor);
    if (!status.ok()) status = Fail("queries", (*cursor)->query, status);
    if (!status.ok()) return status;
  }
}

// One page per step: the cursor moves by a whole page (the prototype moved it by 1).
absl::Status Crawler::SearchQuery(QueryCursor cursor) {
  for (;;) {
    int limit = std::min<int64_t>(options_.page_size, kSearchWindow - cursor.next_offset);
    bool last = limit <= 0 || cursor.pages_done >= options_.pages;
    std::vector<v1::Artist> artists;
    if (!last) {
      absl::StatusOr<SpotifyPage<v1::Artist>> page = client_->SearchArtists(
          cursor.query, static_cast<int>(cursor.next_offset), limit);
      if (absl::IsInvalidArgument(page.status()) || absl::IsNotFound(page.status())) {
        last = true;  // past the end of the search window
      } else if (!page.ok()) {
        return page.status();
      } else {
        artists = std::move(page->items);
        cursor.next_offset += limit;
        ++cursor.pages_done;
        last = !page->has_next || cursor.pages_done >= options_.pages ||
               cursor.next_offset >= kSearchWindow;
      }
    }
    absl::Status status = state_->SaveSearchPage(cursor, last, artists);
    if (!status.ok() || last) return status;
  }
}

absl::Status Crawler::CrawlArtists() {
  phase_ = 2;
  for (;;) {
    if (Stopped()) return absl::CancelledError("crawl stopped");
    absl::StatusOr<std::vector<std::string>> ids =
        state_->NextArtists(options_.batch_ids);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return absl::OkStatus();
    absl::Status status = CrawlArtistGroup(*ids);
    if (!status.ok()) return status;
  }
}

absl::Status Crawler::CrawlArtistGroup(const std::vector<std::string>& ids) {
  std::vector<std::string> listed;
  std::vector<std::vector<v1::AlbumRef>> albums;
  for (const std::string& id : ids) {
    absl::StatusOr<std::vector<v1::AlbumRef>> found = ListAlbums(id);
    if (!found.ok()) {
      absl::Status status = Fail("artists", id, found.status());
      if (!status.ok()) return status;
      continue;
    }
    listed.push_back(id);
    albums.push_back(*std::move(found));
  }
  if (listed.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<std::optional<v1::Artist>>> details =
      client_->GetArtists(listed);
  for (size_t i = 0; i < listed.size(); ++i) {
    absl::Status status;
    if (!details.ok()) {
      status = Fail("artists", listed[i], details.status());
    } else {
      status = state_->SaveArtist(listed[i], albums[i], (*details)[i], source_);
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AlbumRef>> Crawler::ListAlbums(
    const std::string& artist_id) {
  std::vector<v1::AlbumRef> albums;
  for (int offset = 0;; offset += options_.page_size) {
    absl::StatusOr<SpotifyPage<v1::AlbumRef>> page = client_->ArtistAlbums(
        artist_id, options_.include_groups, offset, options_.page_size);
    if (absl::IsNotFound(page.status())) return albums;
    if (!page.ok()) return page.status();
    for (v1::AlbumRef& album : page->items) albums.push_back(std::move(album));
    if (!page->has_next || page->items.empty()) return albums;
  }
}

absl::Status Crawler::CrawlAlbums() {
  phase_ = 3;
  for (;;) {
    if (Stopped()) return absl::CancelledError("crawl stopped");
    // With batch endpoints, the details and features of several albums share requests.
    absl::StatusOr<std::vector<v1::AlbumRef>> albums =
        state_->NextAlbums(options_.batch_ids);
    if (!albums.ok()) return albums.status();
    if (albums->empty()) return absl::OkStatus();
    absl::Status status = CrawlAlbumGroup(*albums);
    if (!status.ok()) return status;
  }
}

absl::Status Crawler::CrawlAlbumGroup(const std::vector<v1::AlbumRef>& albums) {
  std::vector<CrawlState::AlbumTracks> listed;
  std::vector<v1::Track> all;
  for (const v1::AlbumRef& album : albums) {
    absl::StatusOr<std::vector<v1::Track>> tracks = ListTracks(album);
    if (!tracks.ok()) {
      absl::Status status = Fail("albums", album.id(), tracks.status());
      if (!status.ok()) return status;
      continue;
    }
    all.insert(all.end(), tracks->begin(), tracks->end());
    listed.emplace_back(album.id(), *std::move(tracks));
  }
  absl::Status status = AddDetails(&all);
  if (status.ok()) status = AddFeatures(&all);
  if (!status.ok()) {
    for (const CrawlState::AlbumTracks& album : listed) {
      absl::Status s = Fail("albums", album.first, status);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  size_t next = 0;
  for (CrawlState::AlbumTracks& album : listed) {
    for (v1::Track& track : album.second) track = std::move(all[next++]);
  }
  status = state_->SaveAlbums(listed, source_);
  if (status.ok()) tracks_fetched_ += all.size();
  return status;
}

absl::StatusOr<std::vector<v1::Track>> Crawler::ListTracks(const v1::AlbumRef& album) {
  std::vector<v1::Track> tracks;
  for (int offset = 0;; offset += kAlbumTracksPage) {
    absl::StatusOr<SpotifyPage<v1::Track>> page =
        client_->AlbumTracks(album.id(), offset, kAlbumTracksPage);
    if (absl::IsNotFound(page.status())) return tracks;
    if (!page.ok()) return page.status();
    for (v1::Track& track : page->items) {
      if (track.id().empty()) continue;  // local files have no id
      *track.mutable_album() = album;
      tracks.push_back(std::move(track));
    }
    if (!page->has_next || page->items.empty()) return tracks;
  }
}

absl::Status Crawler::CrawlPlaylists() {
  phase_ = 4;
  for (;;) {
    if (Stopped()) return absl::CancelledError("crawl stopped");
    absl::StatusOr<std::optional<std::string>> id = state_->NextPlaylist();
    if (!id.ok()) return id.status();
    if (!id->has_value()) return absl::OkStatus();
    absl::Status status = CrawlPlaylist(**id);
    if (!status.ok()) status = Fail("playlists", **id, status);
    if (!status.ok()) return status;
  }
}

// The playlist's name, all its pages, its tracks' audio features, then one batch: the
// tracks (each once, with album and artists as the playlist answer has them) and the
// playlist.
absl::Status Crawler::CrawlPlaylist(const std::string& playlist_id) {
  auto not_found = [&] {
    return absl::NotFoundError(absl::StrCat(
        "playlist ", playlist_id,
        " not found (private, deleted, or Spotify-owned: development-mode apps get 404 "
        "for editorial playlists)"));
  };
  absl::StatusOr<std::string> name = client_->PlaylistName(playlist_id);
  if (absl::IsNotFound(name.status())) return not_found();
  if (!name.ok()) return name.status();
  std::vector<v1::Track> tracks;
  absl::flat_hash_set<std::string> seen;
  for (int offset = 0;; offset += kPlaylistPage) {
    absl::StatusOr<SpotifyPage<v1::Track>> page =
        client_->PlaylistTracks(playlist_id, offset, kPlaylistPage);
    if (absl::IsNotFound(page.status())) return not_found();
    if (!page.ok()) return page.status();
    for (v1::Track& track : page->items) {
      if (track.id().empty() || !seen.insert(track.id()).second) continue;
      tracks.push_back(std::move(track));
    }
    if (!page->has_next || page->items.empty()) break;
  }
  if (absl::Status s = AddFeatures(&tracks); !s.ok()) return s;
  v1::Playlist playlist;
  playlist.set_id(playlist_id);
  playlist.set_name(*std::move(name));
  playlist.set_source("spotify");
  for (const v1::Track& t : tracks) playlist.add_track_ids(t.id());
  absl::Status status = state_->SavePlaylist(playlist, tracks, source_);
  if (status.ok()) tracks_fetched_ += tracks.size();
  return status;
}

absl::Status Crawler::AddDetails(std::vector<v1::Track>* tracks) {
  if (!options_.track_details) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const v1::Track& t : *tracks) ids.push_back(t.id());
  size_t next = 0;
  for (const std::vector<std::string>& chunk : Chunks(ids, options_.batch_ids)) {
    absl::StatusOr<std::vector<std::optional<v1::Track>>> details =
        client_->GetTracks(chunk);
    if (!details.ok()) return details.status();
    for (const std::optional<v1::Track>& d : *details) {
      v1::Track& track = (*tracks)[next++];
      if (!d.has_value()) continue;
      if (d->has_popularity()) track.set_popularity(d->popularity());
      if (d->has_explicit_()) track.set_explicit_(d->explicit_());
      if (d->has_duration_ms()) track.set_duration_ms(d->duration_ms());
    }
  }
  return absl::OkStatus();
}

absl::Status Crawler::AddFeatures(std::vector<v1::Track>* tracks) {
  if (features_forbidden_) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const v1::Track& t : *tracks) ids.push_back(t.id());
  size_t batch = options_.batch_ids == 1 ? 1 : kFeaturesBatch;
  size_t next = 0;
  for (const std::vector<std::string>& chunk : Chunks(ids, batch)) {
    absl::StatusOr<std::vector<std::optional<v1::AudioFeatures>>> features =
        client_->GetAudioFeatures(chunk);
    if (absl::IsPermissionDenied(features.status())) {
      features_forbidden_ = true;
      CD_LOG(WARNING) << "audio features answer 403 (closed to apps registered after "
                         "2024-11-27): tracks are stored without audio features";
      return absl::OkStatus();
    }
    if (!features.ok()) return features.status();
    for (std::optional<v1::AudioFeatures>& f : *features) {
      v1::Track& track = (*tracks)[next++];
      if (f.has_value()) *track.mutable_audio_features() = std::move(*f);
    }
  }
  return absl::OkStatus();
}

}  // namespace cratedig::ingest
