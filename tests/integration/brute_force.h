#pragma once

// The prototype's query semantics computed the slow, exact way over a published snapshot,
// to check what queryd answers:
//  - Search: the k tracks whose name vector is nearest (cosine) the query's vector, among
//    the tracks representing their duplicate group (name + artists) whose name has a
//    vector;
//  - Recommend: the k tracks nearest (cosine) the mean of the playlist tracks' scaled
//    feature rows, normalised, among recommendable tracks, excluding the playlist's
//    tracks and their duplicates (same representative).
// The feature rows are rebuilt here from the snapshot's fitted parameters (min-max per
// audio column and for recency, the kept genres), not with common/features, so that the
// scaling itself is checked too. Text vectors come from the snapshot's embedder.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/ann.h"
#include "query_service/snapshot.h"

namespace cratedig::subprocess {

/// Exact answers over one snapshot. Thread-compatible; borrows the snapshot.
class BruteForce {
 public:
  explicit BruteForce(const query::Snapshot& snapshot);

  /// Every eligible track ranked for `query` (nearest first, ties by position).
  absl::StatusOr<std::vector<Neighbor>> RankForSearch(const std::string& query) const;
  /// Every eligible track ranked for the playlist (positions in the track table).
  absl::StatusOr<std::vector<Neighbor>> RankForRecommend(
      const std::vector<int64_t>& playlist) const;

  /// The prototype's scaled feature row of a track (before normalisation): each audio
  /// column and the release recency min-max scaled to 0..1 (clamped; a missing value
  /// takes the column's fill), then 1 for each kept genre the track has.
  std::vector<float> FeatureRow(const v1::Track& track) const;

  /// Whether the track has every audio column of the snapshot's preprocessing.
  bool HasCompleteAudio(const v1::Track& track) const;

  /// Positions in the search index (representatives whose name has a vector).
  const std::vector<int64_t>& text_labels() const { return text_labels_; }
  /// Positions in the recommendation index.
  const std::vector<int64_t>& audio_labels() const { return audio_labels_; }

 private:
  const query::Snapshot& snapshot_;
  absl::flat_hash_map<std::string, int> genre_index_;
  std::vector<int64_t> text_labels_;
  std::vector<float> text_rows_;
  std::vector<int64_t> audio_labels_;
  std::vector<float> audio_rows_;
};

/// Returns the audio feature named `name` (a field of AudioFeatures), if present.
std::optional<double> AudioValue(const v1::AudioFeatures& features,
                                 const std::string& name);

/// Returns `row` scaled to unit length (all zeros stays all zeros).
std::vector<float> Normalized(const std::vector<float>& row);

/// One result as queryd returned it.
struct Returned {
  int64_t position;
  float distance;
};

/// Compares queryd's top-k with the exact ranking: the same length (min(k, eligible)),
/// distances equal within `tolerance` rank by rank, no position twice, and each returned
/// position eligible with its own exact distance equal to that rank's (so two results may
/// only trade places when their distances tie). Returns "" when they agree, else what
/// differs.
std::string CompareWithExact(const std::vector<Returned>& returned,
                             const std::vector<Neighbor>& exact, int k,
                             float tolerance = 1e-4f);

}  // namespace cratedig::subprocess
