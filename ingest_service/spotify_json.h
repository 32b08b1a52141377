#pragma once

// Spotify JSON answers to cratedig.v1 messages. Fields missing or null in the answer (the
// ones the 2026 development mode no longer sends) stay absent, never zero.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cratedig/v1/track.pb.h"
#include "ingest_service/spotify_client.h"

namespace cratedig::ingest {

/// The number in field `name` of an object; absent when missing, null or not a number.
std::optional<double> NumberField(const nlohmann::json& json, const char* name);

/// Returns the parsed body; InternalError-free: DataLoss when it is not JSON (e.g. cut).
absl::StatusOr<nlohmann::json> ParseJsonBody(const std::string& body);

/// Parses an artist object (full or simplified).
v1::Artist ParseArtist(const nlohmann::json& json);
/// Parses a (simplified) album object.
v1::AlbumRef ParseAlbum(const nlohmann::json& json);
/// Parses a (simplified) track object; its album when it has one.
v1::Track ParseTrack(const nlohmann::json& json);
/// Parses a playlist item ({"added_at", "track": {...}}, or "item" since the 2026 route
/// /v1/playlists/{id}/items): its track, or a track without id when the item is not a
/// Spotify track (an episode, a local file, a removed track: null).
v1::Track ParsePlaylistItem(const nlohmann::json& json);
/// The name of a playlist object (GET /v1/playlists/{id}?fields=name); DataLoss when
/// the answer is not an object with a string name.
absl::StatusOr<std::string> ParsePlaylistName(const nlohmann::json& json);
/// Parses an audio-features object.
v1::AudioFeatures ParseAudioFeatures(const nlohmann::json& json);

/// Parses a paging object with `parse` for each non-null item. DataLoss when `json` is
/// not a paging object.
template <typename T, typename Parse>
absl::StatusOr<SpotifyPage<T>> ParsePage(const nlohmann::json& json, Parse parse) {
  if (!json.is_object() || !json.contains("items") || !json["items"].is_array()) {
    return absl::DataLossError("Spotify answer is not a paging object");
  }
  SpotifyPage<T> page;
  for (const nlohmann::json& item : json["items"]) {
    if (item.is_object()) page.items.push_back(parse(item));
  }
  if (json.contains("total") && json["total"].is_number_integer()) {
    page.total = json["total"].get<int64_t>();
  }
  page.has_next = json.contains("next") && json["next"].is_string();
  return page;
}

}  // namespace cratedig::ingest
