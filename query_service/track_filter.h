#pragma once

// Hard filters over the served tracks, shared by Search and Recommend: genre (any of),
// release year range, explicit, excluded artists and bounds on every audio feature,
// popularity and duration, in the units users know (tempo in BPM, loudness in dB).
//
// TrackColumns holds the filtered attributes as columns (one array per attribute, built
// once when a snapshot loads), so that a filter check reads a few numbers instead of a
// protobuf message: a pass over 1.2M tracks takes milliseconds. Values are held as
// floats, so bounds compare at 7 significant digits (a bound within a float's rounding of
// a value may fall either way).

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cratedig/v1/query_service.pb.h"
#include "cratedig/v1/snapshot.pb.h"

namespace cratedig::query {

/// A numeric track attribute users can bound (min_X, max_X) and aim at (target_X).
struct TrackFeature {
  /// Spotify's name: "energy", "tempo", "duration_ms", ...
  const char* name;
  /// Valid values of a bound or target, in the feature's own units.
  double lowest;
  double highest;
  /// The unit, for messages and docs ("BPM", "dB", "" for 0..1 scores).
  const char* unit;
};

/// The 14 features, in alphabetical order (as Spotify's /recommendations listed them).
const std::vector<TrackFeature>& TrackFeatures();
/// Index into TrackFeatures() of the feature named `name`, or nullopt.
std::optional<int> FindTrackFeature(absl::string_view name);
/// "acousticness, danceability, ..." for error messages.
std::string TrackFeatureNames();
/// The track's value of feature `f` (index into TrackFeatures()) as stored, in double.
std::optional<double> TrackFeatureValue(const v1::Track& track, int f);

/// The filtered attributes of every track of a snapshot, by position. Immutable.
class TrackColumns {
 public:
  TrackColumns() = default;
  /// Build the columns of `table` (a pass over every track).
  static TrackColumns Build(const v1::TrackTable& table);

  /// Build in two steps, so that the first runs while a table is being parsed: for n
  /// tracks, AddNumeric(i, track) once for every position i (from any thread, each i
  /// once), then Finish(table) numbers the genres and artists.
  class Builder;

  int64_t size() const { return static_cast<int64_t>(year_.size()); }
  /// The feature's value in its own units; NaN when the track lacks it.
  float feature(int f, int64_t position) const { return features_[f][position]; }
  /// Standard deviation of the feature over the tracks that have it (1 when none do).
  double spread(int f) const { return spread_[f]; }
  /// Release year, 0 when unknown.
  int year(int64_t position) const { return year_[position]; }
  /// 1 explicit, 0 clean, -1 unknown.
  int explicit_flag(int64_t position) const { return explicit_[position]; }
  /// Genre ids and artist ids of a track.
  absl::Span<const int32_t> genres(int64_t position) const;
  absl::Span<const int32_t> artists(int64_t position) const;
  /// Tracks of a genre / an artist, most popular first (unknown popularity last).
  absl::Span<const int64_t> tracks_of_genre(int32_t genre) const;
  absl::Span<const int64_t> tracks_of_artist(int32_t artist) const;

  /// Id of a genre (lower-cased before lookup), or nullopt when no track has it.
  std::optional<int32_t> FindGenre(absl::string_view genre) const;
  /// Ids of the artists a user means: the artist with this Spotify id, or every artist
  /// with this name (case-insensitive). Empty when none matches.
  std::vector<int32_t> FindArtists(absl::string_view id_or_name) const;

 private:
  // Compressed rows: values of row i are data[offsets[i] .. offsets[i+1]).
  struct Rows {
    std::vector<int64_t> offsets{0};
    std::vector<int32_t> data;
  };
  struct Postings {
    std::vector<int64_t> offsets;
    std::vector<int64_t> data;
  };
  static Postings Invert(const Rows& rows, int32_t ids,
                         const std::vector<float>& popularity);
  void NumberGenres(const v1::TrackTable& table);
  void NumberArtists(const v1::TrackTable& table);

  std::vector<std::vector<float>> features_;  // [feature][position]
  std::vector<double> spread_;
  std::vector<int16_t> year_;
  std::vector<int8_t> explicit_;
  Rows genres_;
  Rows artists_;
  Postings genre_tracks_;
  Postings artist_tracks_;
  absl::flat_hash_map<std::string, int32_t> genre_ids_;
  absl::flat_hash_map<std::string, int32_t> artist_by_id_;
  absl::flat_hash_map<std::string, std::vector<int32_t>> artists_by_name_;
};

class TrackColumns::Builder {
 public:
  explicit Builder(int64_t n);
  void AddNumeric(int64_t position, const v1::Track& track);
  TrackColumns Finish(const v1::TrackTable& table) &&;

 private:
  TrackColumns c_;
};

/// A validated TrackFilter bound to a snapshot's columns. Cheap to copy; borrows the
/// columns, which must outlive it. Matches() is thread-safe.
class TrackFilter {
 public:
  /// Check `proto` and bind it. InvalidArgument naming the field (under `field`, e.g.
  /// "filter") for an unknown feature, a bound outside the feature's range, min > max,
  /// a repeated feature, or a year range that is reversed or outside 0..9999. Genres
  /// and artists the catalog lacks are not errors: such a genre matches no track.
  static absl::StatusOr<TrackFilter> Create(const v1::TrackFilter& proto,
                                            const TrackColumns& columns,
                                            absl::string_view field = "filter");

  /// True when the filter sets no condition (every track passes).
  bool empty() const { return empty_; }
  /// Whether the track at `position` passes every condition.
  bool Matches(int64_t position) const;
  /// Number of the given positions that pass.
  int64_t Count(absl::Span<const int64_t> positions) const;

 private:
  struct Range {
    int feature;
    float lo;
    float hi;
  };
  explicit TrackFilter(const TrackColumns* columns) : columns_(columns) {}

  const TrackColumns* columns_;
  bool empty_ = true;
  bool by_genre_ = false;
  absl::flat_hash_set<int32_t> genres_;
  int year_min_ = 0;
  int year_max_ = 0;
  bool by_year_ = false;
  int explicit_ = -1;  // -1 any, else the required flag
  absl::flat_hash_set<int32_t> excluded_artists_;
  std::vector<Range> ranges_;
};

}  // namespace cratedig::query
