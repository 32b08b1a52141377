#include "query_service/track_filter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/track_ids.h"

namespace cratedig::query {
namespace {

constexpr float kUnknown = std::numeric_limits<float>::quiet_NaN();
constexpr int kMaxYear = 9999;

// How to read each feature of TrackFeatures() from a track (same order).
using Reader = std::function<std::optional<double>(const v1::Track&)>;

template <typename T>
Reader Audio(bool (v1::AudioFeatures::*has)() const,
             T (v1::AudioFeatures::*get)() const) {
  return [has, get](const v1::Track& t) -> std::optional<double> {
    if (!t.has_audio_features() || !(t.audio_features().*has)()) return std::nullopt;
    return static_cast<double>((t.audio_features().*get)());
  };
}

const std::vector<Reader>& Readers() {
  using A = v1::AudioFeatures;
  static const auto* const readers = new std::vector<Reader>{
      Audio(&A::has_acousticness, &A::acousticness),
      Audio(&A::has_danceability, &A::danceability),
      [](const v1::Track& t) -> std::optional<double> {
        if (!t.has_duration_ms()) return std::nullopt;
        return static_cast<double>(t.duration_ms());
      },
      Audio(&A::has_energy, &A::energy),
      Audio(&A::has_instrumentalness, &A::instrumentalness),
      Audio(&A::has_key, &A::key),
      Audio(&A::has_liveness, &A::liveness),
      Audio(&A::has_loudness, &A::loudness),
      Audio(&A::has_mode, &A::mode),
      [](const v1::Track& t) -> std::optional<double> {
        if (!t.has_popularity()) return std::nullopt;
        return static_cast<double>(t.popularity());
      },
      Audio(&A::has_speechiness, &A::speechiness),
      Audio(&A::has_tempo, &A::tempo),
      Audio(&A::has_time_signature, &A::time_signature),
      Audio(&A::has_valence, &A::valence),
  };
  return *readers;
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// The artist's identity within a snapshot: its Spotify id, or its name when the source
// had names only.
std::string ArtistKey(const v1::ArtistRef& artist) {
  return artist.id().empty() ? absl::StrCat("name:", Lower(artist.name())) : artist.id();
}

std::string FormatBound(double x) { return absl::StrCat(x); }

}  // namespace

const std::vector<TrackFeature>& TrackFeatures() {
  static const auto* const features = new std::vector<TrackFeature>{
      {"acousticness", 0, 1, ""},
      {"danceability", 0, 1, ""},
      {"duration_ms", 0, 24.0 * 3600 * 1000, "ms"},
      {"energy", 0, 1, ""},
      {"instrumentalness", 0, 1, ""},
      {"key", -1, 11, "pitch class"},
      {"liveness", 0, 1, ""},
      {"loudness", -100, 20, "dB"},
      {"mode", 0, 1, "1 major, 0 minor"},
      {"popularity", 0, 100, ""},
      {"speechiness", 0, 1, ""},
      {"tempo", 0, 1000, "BPM"},
      {"time_signature", 0, 16, "beats per bar"},
      {"valence", 0, 1, ""},
  };
  return *features;
}

std::optional<int> FindTrackFeature(absl::string_view name) {
  const std::vector<TrackFeature>& features = TrackFeatures();
  for (size_t i = 0; i < features.size(); ++i) {
    if (name == features[i].name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string TrackFeatureNames() {
  std::vector<std::string> names;
  for (const TrackFeature& f : TrackFeatures()) names.push_back(f.name);
  return absl::StrJoin(names, ", ");
}

std::optional<double> TrackFeatureValue(const v1::Track& track, int f) {
  return Readers()[f](track);
}

TrackColumns TrackColumns::Build(const v1::TrackTable& table) {
  Builder builder(table.tracks_size());
  for (int i = 0; i < table.tracks_size(); ++i) builder.AddNumeric(i, table.tracks(i));
  return std::move(builder).Finish(table);
}

TrackColumns::Builder::Builder(int64_t n) {
  c_.features_.assign(Readers().size(), std::vector<float>(n, kUnknown));
  c_.year_.assign(n, 0);
  c_.explicit_.assign(n, -1);
}

void TrackColumns::Builder::AddNumeric(int64_t i, const v1::Track& t) {
  const std::vector<Reader>& readers = Readers();
  for (size_t f = 0; f < readers.size(); ++f) {
    if (std::optional<double> v = readers[f](t)) c_.features_[f][i] = *v;
  }
  const int year = t.album().release_date().year();
  if (year > 0 && year <= kMaxYear) c_.year_[i] = static_cast<int16_t>(year);
  if (t.has_explicit_()) c_.explicit_[i] = t.explicit_() ? 1 : 0;
}

TrackColumns TrackColumns::Builder::Finish(const v1::TrackTable& table) && {
  TrackColumns& c = c_;
  // Genres and artists are numbered independently, on two threads.
  std::thread genres([&] { c.NumberGenres(table); });
  c.NumberArtists(table);
  genres.join();
  c.spread_.assign(c.features_.size(), 1.0);
  for (size_t f = 0; f < c.features_.size(); ++f) {
    double sum = 0, sum2 = 0;
    int64_t count = 0;
    for (float v : c.features_[f]) {
      if (std::isnan(v)) continue;
      sum += v;
      sum2 += static_cast<double>(v) * v;
      ++count;
    }
    if (count > 1) {
      const double mean = sum / count;
      const double var = std::max(0.0, sum2 / count - mean * mean);
      if (var > 0) c.spread_[f] = std::sqrt(var);
    }
  }
  return std::move(c_);
}

// Ids in order of first appearance. Genre names as the table spells them repeat across
// tracks: each distinct spelling is lowered once.
void TrackColumns::NumberGenres(const v1::TrackTable& table) {
  const int n = table.tracks_size();
  genres_.offsets.reserve(n + 1);
  absl::flat_hash_map<absl::string_view, int32_t> spellings;
  for (int i = 0; i < n; ++i) {
    for (const std::string& genre : table.tracks(i).genres()) {
      auto [spelling, fresh] = spellings.try_emplace(genre, 0);
      if (fresh) {
        spelling->second =
            genre_ids_.try_emplace(Lower(genre), static_cast<int32_t>(genre_ids_.size()))
                .first->second;
      }
      genres_.data.push_back(spelling->second);
    }
    genres_.offsets.push_back(static_cast<int64_t>(genres_.data.size()));
  }
  genre_tracks_ = Invert(genres_, static_cast<int32_t>(genre_ids_.size()),
                         features_[*FindTrackFeature("popularity")]);
}

// Ids in order of first appearance; each distinct Spotify id is keyed once.
void TrackColumns::NumberArtists(const v1::TrackTable& table) {
  const int n = table.tracks_size();
  artists_.offsets.reserve(n + 1);
  absl::flat_hash_map<absl::string_view, int32_t> spellings;
  for (int i = 0; i < n; ++i) {
    for (const v1::ArtistRef& artist : table.tracks(i).artists()) {
      // An artist known by name only has no spelling to cache: its key is its name.
      auto [spelling, fresh] = artist.id().empty()
                                   ? std::pair(spellings.end(), true)
                                   : spellings.try_emplace(artist.id(), 0);
      int32_t id;
      if (fresh) {
        auto [it, inserted] = artist_by_id_.emplace(
            ArtistKey(artist), static_cast<int32_t>(artist_by_id_.size()));
        if (inserted) artists_by_name_[Lower(artist.name())].push_back(it->second);
        id = it->second;
        if (spelling != spellings.end()) spelling->second = id;
      } else {
        id = spelling->second;
      }
      artists_.data.push_back(id);
    }
    artists_.offsets.push_back(static_cast<int64_t>(artists_.data.size()));
  }
  artist_tracks_ = Invert(artists_, static_cast<int32_t>(artist_by_id_.size()),
                          features_[*FindTrackFeature("popularity")]);
}

TrackColumns::Postings TrackColumns::Invert(const Rows& rows, int32_t ids,
                                            const std::vector<float>& popularity) {
  Postings p;
  p.offsets.assign(ids + 1, 0);
  for (int32_t id : rows.data) ++p.offsets[id + 1];
  std::partial_sum(p.offsets.begin(), p.offsets.end(), p.offsets.begin());
  p.data.resize(rows.data.size());
  std::vector<int64_t> next(p.offsets.begin(), p.offsets.end() - 1);
  const int64_t n = static_cast<int64_t>(rows.offsets.size()) - 1;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = rows.offsets[i]; j < rows.offsets[i + 1]; ++j) {
      p.data[next[rows.data[j]]++] = i;
    }
  }
  auto key = [&popularity](int64_t i) {
    return std::isnan(popularity[i]) ? -1.0f : popularity[i];
  };
  for (int32_t id = 0; id < ids; ++id) {
    std::stable_sort(p.data.begin() + p.offsets[id], p.data.begin() + p.offsets[id + 1],
                     [&](int64_t a, int64_t b) { return key(a) > key(b); });
  }
  return p;
}

absl::Span<const int32_t> TrackColumns::genres(int64_t position) const {
  const int64_t begin = genres_.offsets[position];
  return {genres_.data.data() + begin,
          static_cast<size_t>(genres_.offsets[position + 1] - begin)};
}

absl::Span<const int32_t> TrackColumns::artists(int64_t position) const {
  const int64_t begin = artists_.offsets[position];
  return {artists_.data.data() + begin,
          static_cast<size_t>(artists_.offsets[position + 1] - begin)};
}

absl::Span<const int64_t> TrackColumns::tracks_of_genre(int32_t genre) const {
  const int64_t begin = genre_tracks_.offsets[genre];
  return {genre_tracks_.data.data() + begin,
          static_cast<size_t>(genre_tracks_.offsets[genre + 1] - begin)};
}

absl::Span<const int64_t> TrackColumns::tracks_of_artist(int32_t artist) const {
  const int64_t begin = artist_tracks_.offsets[artist];
  return {artist_tracks_.data.data() + begin,
          static_cast<size_t>(artist_tracks_.offsets[artist + 1] - begin)};
}

std::optional<int32_t> TrackColumns::FindGenre(absl::string_view genre) const {
  auto it = genre_ids_.find(Lower(genre));
  if (it == genre_ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<int32_t> TrackColumns::FindArtists(absl::string_view id_or_name) const {
  if (IsSpotifyId(id_or_name)) {
    if (auto it = artist_by_id_.find(id_or_name); it != artist_by_id_.end()) {
      return {it->second};
    }
  }
  auto it = artists_by_name_.find(Lower(id_or_name));
  if (it == artists_by_name_.end()) return {};
  return it->second;
}

absl::StatusOr<TrackFilter> TrackFilter::Create(const v1::TrackFilter& proto,
                                                const TrackColumns& columns,
                                                absl::string_view field) {
  TrackFilter filter(&columns);
  if (!proto.genres().empty()) {
    filter.by_genre_ = true;
    for (const std::string& genre : proto.genres()) {
      if (std::optional<int32_t> id = columns.FindGenre(genre))
        filter.genres_.insert(*id);
    }
  }
  if (proto.has_year_min() || proto.has_year_max()) {
    filter.by_year_ = true;
    filter.year_min_ = proto.has_year_min() ? proto.year_min() : 0;
    filter.year_max_ = proto.has_year_max() ? proto.year_max() : kMaxYear;
    for (auto [name, year] : {std::pair{"year_min", proto.year_min()},
                              std::pair{"year_max", proto.year_max()}}) {
      if (year < 0 || year > kMaxYear) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".", name, " = ", year, " is outside 0..", kMaxYear));
      }
    }
    if (filter.year_min_ > filter.year_max_) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".year_min ", filter.year_min_, " is after ", field,
                       ".year_max ", filter.year_max_));
    }
  }
  if (proto.has_explicit_()) filter.explicit_ = proto.explicit_() ? 1 : 0;
  for (const std::string& artist : proto.exclude_artists()) {
    for (int32_t id : columns.FindArtists(artist)) filter.excluded_artists_.insert(id);
  }
  std::vector<bool> seen(TrackFeatures().size(), false);
  for (int i = 0; i < proto.features_size(); ++i) {
    const v1::FeatureRange& range = proto.features(i);
    std::optional<int> f = FindTrackFeature(range.feature());
    if (!f) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".features[", i, "].feature '", range.feature().substr(0, 64),
          "' is not a feature; features are ", TrackFeatureNames()));
    }
    const TrackFeature& info = TrackFeatures()[*f];
    if (seen[*f]) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".features[", i, "]: ", info.name, " is bounded twice"));
    }
    seen[*f] = true;
    if (!range.has_min() && !range.has_max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".features[", i, "]: ", info.name, " needs a min or a max"));
    }
    for (auto [prefix, has, value] : {std::tuple{"min_", range.has_min(), range.min()},
                                      std::tuple{"max_", range.has_max(), range.max()}}) {
      if (has && !(value >= info.lowest && value <= info.highest)) {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, info.name, " = ", FormatBound(value), " is outside ",
                         FormatBound(info.lowest), "..", FormatBound(info.highest)));
      }
    }
    if (range.has_min() && range.has_max() && range.min() > range.max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("min_", info.name, " = ", FormatBound(range.min()),
                       " is above max_", info.name, " = ", FormatBound(range.max())));
    }
    // Bounds widened to the nearest float outward so that a value stored as float and
    // equal to the bound in double still passes.
    const float lo = range.has_min()
                         ? std::nextafter(static_cast<float>(range.min()),
                                          -std::numeric_limits<float>::infinity())
                         : -std::numeric_limits<float>::infinity();
    const float hi = range.has_max()
                         ? std::nextafter(static_cast<float>(range.max()),
                                          std::numeric_limits<float>::infinity())
                         : std::numeric_limits<float>::infinity();
    filter.ranges_.push_back({*f, lo, hi});
  }
  filter.empty_ = !filter.by_genre_ && !filter.by_year_ && filter.explicit_ < 0 &&
                  filter.excluded_artists_.empty() && filter.ranges_.empty();
  return filter;
}

bool TrackFilter::Matches(int64_t position) const {
  if (empty_) return true;
  const TrackColumns& c = *columns_;
  for (const Range& r : ranges_) {
    const float v = c.feature(r.feature, position);
    // NaN (unknown) fails both comparisons.
    if (!(v >= r.lo && v <= r.hi)) return false;
  }
  if (by_year_) {
    const int year = c.year(position);
    if (year == 0 || year < year_min_ || year > year_max_) return false;
  }
  if (explicit_ >= 0 && c.explicit_flag(position) != explicit_) return false;
  if (by_genre_) {
    bool any = false;
    for (int32_t g : c.genres(position)) {
      if (genres_.contains(g)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!excluded_artists_.empty()) {
    for (int32_t a : c.artists(position)) {
      if (excluded_artists_.contains(a)) return false;
    }
  }
  return true;
}

int64_t TrackFilter::Count(absl::Span<const int64_t> positions) const {
  int64_t count = 0;
  for (int64_t p : positions) count += Matches(p);
  return count;
}

}  // namespace cratedig::query
