#pragma once

// Search: the query's words in the lexical index (typo-tolerant, the last word as a
// prefix, title over artist over album) fused with the tracks whose name vectors are
// nearest the query's. Results that match every query word exactly come first (in lexical
// order), then the other results that match every query word, then the rest; within each
// of the last two tiers, weighted reciprocal rank fusion orders them, the lexical ranking
// weighing more than the vector one.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cratedig/v1/query_service.pb.h"
#include "query_service/snapshot.h"

namespace cratedig::query {

/// One Search result.
struct SearchResult {
  int64_t position = 0;
  /// Cosine distance between the query's and the track's name vectors (2 without one).
  float distance = 2.0f;
  /// Fused relevance, higher is better.
  float relevance = 0.0f;
  bool lexical = false;  // found by the lexical index
  bool vector = false;   // found among the nearest name vectors
  uint8_t fields = 0;    // LexicalField bits of the matched words
  int typos = 0;
  bool prefix = false;
  bool exact = false;
};

/// Reciprocal rank fusion constants: a result at rank r (from 1) of a list of weight w
/// scores w / (kFusionDepth + r); the scores of both lists add up.
inline constexpr double kFusionDepth = 60.0;
inline constexpr double kLexicalWeight = 1.0;
inline constexpr double kVectorWeight = 0.25;

/// Fuses a lexical and a vector ranking (positions, best first). The first
/// `exact_lexical` lexical results are exact matches, the first `complete_lexical` (at
/// least as many) match every query word.
std::vector<SearchResult> Fuse(const std::vector<int64_t>& lexical, size_t exact_lexical,
                               size_t complete_lexical,
                               const std::vector<int64_t>& vector);

/// The results offset .. offset + k - 1 of the query. InvalidArgument for an empty, too
/// long, invalid UTF-8 or letterless query, k outside 1..kMaxK, a negative offset,
/// offset + k above kMaxK or a bad filter (named "filter...", see track_filter.h). With a
/// filter, only tracks passing it are returned.
absl::StatusOr<std::vector<SearchResult>> Search(const Snapshot& snapshot,
                                                 absl::string_view query, int k,
                                                 int offset = 0,
                                                 const v1::TrackFilter* filter = nullptr);

/// Fills a ScoredTrack (the track, distance, position and the Search fields).
void ToScoredTrack(const Snapshot& snapshot, const SearchResult& result,
                   v1::ScoredTrack* out);

}  // namespace cratedig::query
