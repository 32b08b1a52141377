#pragma once

// The prototype's preprocessing, fitted by the trainer and saved in the snapshot so that
// query time transforms tracks exactly as training did:
//  - audio features danceability, key, loudness, mode, speechiness, acousticness,
//    instrumentalness, liveness, tempo, min-max scaled to 0..1;
//  - recency: days between the release date and the newest release in the catalog,
//    min-max scaled (missing release dates take the column mean);
//  - genres one-hot, keeping genres held by at least 1% of tracks.
// A track's vector is that row, L2-normalised (cosine space).
//
// With FeatureOptions::weights set, the groups are weighted instead: audio, recency and
// popularity are centred on their catalog mean, the audio block is divided by the square
// root of its width, the genre block takes the chosen representation (one-hot as the
// prototype, one-hot scaled to length 1, or a low-rank genre embedding learnt from which
// genres tracks share), and each group is multiplied by its weight before the row is
// L2-normalised.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/snapshot.pb.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig {

enum class GenreRepresentation { kOneHot, kWeightedOneHot, kEmbedding };

/// The name of a representation as in Preprocessing.genre_representation, and back.
const char* GenreRepresentationName(GenreRepresentation r);
absl::StatusOr<GenreRepresentation> ParseGenreRepresentation(absl::string_view name);

/// How the trainer builds content vectors.
struct FeatureOptions {
  /// Genres held by fewer tracks than this share are dropped.
  double min_genre_share = 0.01;
  /// The prototype's vectors when absent; weighted groups when present.
  std::optional<v1::FeatureWeights> weights;
  GenreRepresentation genres = GenreRepresentation::kOneHot;
  /// Width of the genre embedding (kEmbedding).
  int genre_dim = 16;
};

class FeatureModel {
 public:
  /// The scaled audio columns, in vector order.
  static const std::vector<std::string>& AudioColumns();

  /// Fit on the tracks (only tracks with every audio column count for min/max).
  static FeatureModel Fit(const std::vector<const v1::Track*>& tracks,
                          double min_genre_share = 0.01);
  static FeatureModel Fit(const std::vector<const v1::Track*>& tracks,
                          const FeatureOptions& options);
  /// Rebuild from a snapshot's saved parameters; InvalidArgument when inconsistent.
  static absl::StatusOr<FeatureModel> FromProto(const v1::Preprocessing& p);
  /// Write the fitted parameters into `p` (columns, genres, min_genre_share,
  /// reference_day); text fields are left alone.
  void ToProto(v1::Preprocessing* p) const;

  /// Vector width: audio columns + recency (+ popularity) + the genre block.
  int dim() const;
  /// Whether the groups are weighted (FeatureOptions::weights was set).
  bool weighted() const { return weights_.has_value(); }
  GenreRepresentation genre_representation() const { return representation_; }
  /// Whether the track has every audio column (incomplete rows are not recommendable).
  static bool HasCompleteAudio(const v1::Track& track);
  /// The track's unit feature vector. REQUIRES: HasCompleteAudio(track).
  std::vector<float> Transform(const v1::Track& track) const;
  /// The track's scaled feature row before normalisation (what Recommend averages over a
  /// playlist). REQUIRES: HasCompleteAudio(track).
  std::vector<float> TransformRaw(const v1::Track& track) const;
  /// The columns [first, second) of the genre block when it holds one column per genre
  /// (one-hot, plain or weighted: mostly zeros); an empty range for the dense embedding.
  std::pair<int, int> OneHotGenreColumns() const;
  /// Genres kept after the low-volume cut, in vector order.
  const std::vector<std::string>& genres() const { return genres_; }

 private:
  void IndexGenres();
  int genre_width() const;
  std::vector<double> ScaledRow(const v1::Track& track) const;
  void FillGenres(const v1::Track& track, double* block) const;

  std::vector<v1::ScaledColumn> columns_;  // audio columns then recency_days
  std::optional<v1::FeatureWeights> weights_;
  std::optional<v1::ScaledColumn> popularity_;  // when weights_->popularity() > 0
  GenreRepresentation representation_ = GenreRepresentation::kOneHot;
  int genre_dim_ = 0;
  std::vector<float> genre_embedding_;  // genres_ x genre_dim_
  std::vector<std::string> genres_;
  absl::flat_hash_map<std::string, int> genre_index_;  // genre -> position in genres_
  double min_genre_share_ = 0.01;
  int64_t reference_day_ = 0;
};

/// Days since 1970-01-01 of a release date (missing month/day count as the 1st);
/// nullopt-like -1 when the date is absent or has no year.
int64_t ReleaseDay(const v1::Track& track);

/// Like ReleaseDay, but without the -1 sentinel (which is also the real day 1969-12-31).
std::optional<int64_t> ReleaseDayIfKnown(const v1::Track& track);

}  // namespace cratedig
