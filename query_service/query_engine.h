#pragma once

// What Search and Recommend share, independent of gRPC: the id lookups and the limits
// every request is checked against. Search lives in search.h, Recommend in recommender.h.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "query_service/snapshot.h"

namespace cratedig::query {

inline constexpr int kMaxK = 10000;
inline constexpr int kMaxPlaylist = 1000;
inline constexpr int kMaxQueryChars = 256;
inline constexpr int kMaxLookupIds = 10000;

/// One result: a position in the snapshot's track table and its cosine distance.
struct Scored {
  int64_t position;
  float distance;
};

/// Check that `k` is in 1..kMaxK; the error names `field`.
absl::Status ValidateK(int k, absl::string_view field);

/// Positions of the given Spotify ids: InvalidArgument for a malformed id, NotFound for
/// an id the snapshot lacks (both name the field `field` and the id).
absl::StatusOr<std::vector<int64_t>> ResolveIds(const Snapshot& snapshot,
                                                const std::vector<std::string>& ids,
                                                absl::string_view field);

}  // namespace cratedig::query
