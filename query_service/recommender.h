#pragma once

// Recommend: tracks for a playlist, seeds and knobs (docs/recommend.md).
//
//  1. Anchors: the playlist's tracks and seed tracks, the most popular tracks of each
//     seed artist and seed genre (tracks without audio features cannot anchor).
//  2. Candidates: the recommendation index searched from the anchors by the strategy
//     (centroid and blend: the mean vector, minus half the negatives' mean; rrf / best:
//     each anchor's own neighbours), restricted to tracks passing the hard filters and
//     not excluded (the playlist, seed tracks, negatives and their duplicates);
//     knobs-only requests scan every track passing the filters.
//  3. Score = relevance - 0.5 * similarity to the nearest negative - target distance
//     (0.1 per standard deviation of the feature, weighted mean over targets). blend's
//     relevance: half the similarity to the mean, half that to the nearest anchor, plus
//     0.4 x the share of the anchors by the candidate's artist.
//  4. Selection: best first under max_per_artist (when unset, DefaultMaxPerArtist(k), or
//     an artist's share of the playlist of k if more),
//     optionally MMR; the candidate pool deepens (finally an exact scan) until k results
//     are found or none is left.
//  5. Explanations: the nearest anchor, the targets, the best-matching audio features.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/query_service.pb.h"
#include "query_service/snapshot.h"
#include "query_service/track_filter.h"

namespace cratedig::query {

enum class Strategy { kCentroid, kRrf, kBest, kBlend };

inline constexpr char kDefaultStrategy[] = "blend";
inline constexpr int kDefaultMaxPerArtist = 3;

/// The artist limit when the request sets none: 3, or 4% of k for lists longer than 75
/// (20 of 500), so that a long continuation can follow an artist the playlist is full of.
/// An artist credited on a share of the playlist's tracks may also take that share of k
/// (rounded up): a playlist of one artist continues with that artist. Relaxed only when
/// the catalog cannot fill k otherwise.
inline int DefaultMaxPerArtist(int k) { return std::max(kDefaultMaxPerArtist, k / 25); }

inline constexpr int kMaxSeeds = 5;
inline constexpr int kMaxNegatives = 1000;
inline constexpr int kMaxMmrK = 1000;

/// Name of a strategy ("blend", "centroid", "rrf", "best").
const char* StrategyName(Strategy strategy);

/// A target_X: aim `feature` (index into TrackFeatures()) at `value`.
struct Target {
  int feature;
  double value;
  double weight;
};

/// A validated request, positions resolved against one snapshot.
struct RecommendQuery {
  int k = 10;
  Strategy strategy = Strategy::kBlend;
  /// Playlist and seed-track positions: anchors, excluded from the results.
  std::vector<int64_t> playlist;
  std::vector<int64_t> negatives;
  std::vector<int32_t> seed_artists;  // TrackColumns artist ids
  std::vector<int32_t> seed_genres;   // TrackColumns genre ids
  std::optional<TrackFilter> filter;
  std::vector<Target> targets;
  /// nullopt: the default (soft); 0: no limit; N: strict.
  std::optional<int> max_per_artist;
  double mmr_lambda = 0;
  /// The exact nearest (Snapshot::audio_blocks) rather than the graph's; nullopt: exact
  /// once the blocks are built.
  std::optional<bool> exact;
};

/// Check `options` and resolve its ids against `snapshot`; `playlist` holds positions
/// already resolved. InvalidArgument naming the field (under `field`, e.g. "options") or
/// the knob (target_energy, min_tempo) for bad values; NotFound for unknown ids, artists
/// and genres.
absl::StatusOr<RecommendQuery> MakeRecommendQuery(const Snapshot& snapshot,
                                                  std::vector<int64_t> playlist, int k,
                                                  const v1::RecommendOptions& options,
                                                  absl::string_view field = "options");

struct Recommendation {
  int64_t position;
  float distance;
  float score;
  v1::Explanation explanation;
};

struct RecommendResult {
  std::vector<Recommendation> results;
  /// Recommendable tracks passing the hard filters, excluded tracks left out.
  int64_t matched = 0;
  Strategy strategy = Strategy::kBlend;
};

/// Answer `query`. FailedPrecondition when no playlist or seed track has audio features
/// and the request has no knob to go by.
absl::StatusOr<RecommendResult> Recommend(const Snapshot& snapshot,
                                          const RecommendQuery& query);

}  // namespace cratedig::query
