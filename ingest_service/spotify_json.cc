#include "ingest_service/spotify_json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace cratedig::ingest {
namespace {

using Json = nlohmann::json;

const Json* Field(const Json& json, const char* name) {
  if (!json.is_object()) return nullptr;
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string String(const Json& json, const char* name) {
  const Json* f = Field(json, name);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

// A whole number; absent when the field is missing, not a number, or beyond int64's range
// (converting such a double is undefined behaviour).
std::optional<int64_t> Integer(const Json& json, const char* name) {
  const Json* f = Field(json, name);
  if (f == nullptr || !f->is_number()) return std::nullopt;
  if (f->is_number_unsigned()) {
    const uint64_t v = f->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (f->is_number_integer()) return f->get<int64_t>();
  const double v = f->get<double>();
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (!(v >= -kLimit && v < kLimit)) return std::nullopt;
  return static_cast<int64_t>(v);
}

v1::ReleaseDate ParseReleaseDate(const std::string& text, const std::string& precision) {
  v1::ReleaseDate date;
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int value = 0;
  if (!parts.empty() && absl::SimpleAtoi(parts[0], &value)) date.set_year(value);
  if (parts.size() > 1 && absl::SimpleAtoi(parts[1], &value)) date.set_month(value);
  if (parts.size() > 2 && absl::SimpleAtoi(parts[2], &value)) date.set_day(value);
  if (precision == "day") {
    date.set_precision(v1::RELEASE_DATE_PRECISION_DAY);
  } else if (precision == "month") {
    date.set_precision(v1::RELEASE_DATE_PRECISION_MONTH);
  } else if (precision == "year") {
    date.set_precision(v1::RELEASE_DATE_PRECISION_YEAR);
  }
  return date;
}

}  // namespace

std::optional<double> NumberField(const Json& json, const char* name) {
  const Json* f = Field(json, name);
  if (f == nullptr || !f->is_number()) return std::nullopt;
  return f->get<double>();
}

absl::StatusOr<Json> ParseJsonBody(const std::string& body) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError("Spotify answer is not valid JSON (cut short?)");
  }
  return json;
}

v1::Artist ParseArtist(const Json& json) {
  v1::Artist artist;
  artist.set_id(String(json, "id"));
  artist.set_name(String(json, "name"));
  if (const Json* genres = Field(json, "genres");
      genres != nullptr && genres->is_array()) {
    for (const Json& g : *genres) {
      if (g.is_string()) artist.add_genres(g.get<std::string>());
    }
  }
  if (std::optional<int64_t> p = Integer(json, "popularity")) {
    artist.set_popularity(static_cast<int32_t>(*p));
  }
  if (const Json* followers = Field(json, "followers")) {
    if (std::optional<int64_t> total = Integer(*followers, "total")) {
      artist.set_followers(*total);
    }
  }
  return artist;
}

v1::AlbumRef ParseAlbum(const Json& json) {
  v1::AlbumRef album;
  album.set_id(String(json, "id"));
  album.set_name(String(json, "name"));
  std::string date = String(json, "release_date");
  if (!date.empty()) {
    *album.mutable_release_date() =
        ParseReleaseDate(date, String(json, "release_date_precision"));
  }
  return album;
}

v1::Track ParseTrack(const Json& json) {
  v1::Track track;
  track.set_id(String(json, "id"));
  track.set_name(String(json, "name"));
  if (const Json* artists = Field(json, "artists");
      artists != nullptr && artists->is_array()) {
    for (const Json& a : *artists) {
      v1::ArtistRef* ref = track.add_artists();
      ref->set_id(String(a, "id"));
      ref->set_name(String(a, "name"));
    }
  }
  if (const Json* album = Field(json, "album"); album != nullptr && album->is_object()) {
    *track.mutable_album() = ParseAlbum(*album);
  }
  if (std::optional<int64_t> p = Integer(json, "popularity")) {
    track.set_popularity(static_cast<int32_t>(*p));
  }
  if (const Json* e = Field(json, "explicit"); e != nullptr && e->is_boolean()) {
    track.set_explicit_(e->get<bool>());
  }
  if (std::optional<int64_t> d = Integer(json, "duration_ms")) track.set_duration_ms(*d);
  return track;
}

absl::StatusOr<std::string> ParsePlaylistName(const Json& json) {
  const Json* name = json.is_object() ? Field(json, "name") : nullptr;
  if (name == nullptr || !name->is_string()) {
    return absl::DataLossError("Spotify playlist answer has no name");
  }
  return name->get<std::string>();
}

v1::Track ParsePlaylistItem(const Json& json) {
  for (const char* key : {"track", "item"}) {
    const Json* t = Field(json, key);
    if (t == nullptr || !t->is_object()) continue;
    const Json* local = Field(*t, "is_local");
    if (String(*t, "type") == "episode" ||
        (local != nullptr && local->is_boolean() && local->get<bool>())) {
      return v1::Track();
    }
    return ParseTrack(*t);
  }
  return v1::Track();
}

v1::AudioFeatures ParseAudioFeatures(const Json& json) {
  v1::AudioFeatures f;
  if (auto v = NumberField(json, "acousticness")) f.set_acousticness(*v);
  if (auto v = NumberField(json, "danceability")) f.set_danceability(*v);
  if (auto v = NumberField(json, "energy")) f.set_energy(*v);
  if (auto v = NumberField(json, "instrumentalness")) f.set_instrumentalness(*v);
  if (auto v = Integer(json, "key")) f.set_key(static_cast<int32_t>(*v));
  if (auto v = NumberField(json, "liveness")) f.set_liveness(*v);
  if (auto v = NumberField(json, "loudness")) f.set_loudness(*v);
  if (auto v = Integer(json, "mode")) f.set_mode(static_cast<int32_t>(*v));
  if (auto v = NumberField(json, "speechiness")) f.set_speechiness(*v);
  if (auto v = NumberField(json, "tempo")) f.set_tempo(*v);
  if (auto v = Integer(json, "time_signature"))
    f.set_time_signature(static_cast<int32_t>(*v));
  if (auto v = NumberField(json, "valence")) f.set_valence(*v);
  return f;
}

}  // namespace cratedig::ingest
