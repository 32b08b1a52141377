#include "query_service/query_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/track_ids.h"

namespace cratedig::query {
absl::Status ValidateK(int k, absl::string_view field) {
  if (k < 1 || k > kMaxK) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be between 1 and ", kMaxK, ", got ", k));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> ResolveIds(const Snapshot& snapshot,
                                                const std::vector<std::string>& ids,
                                                absl::string_view field) {
  std::vector<int64_t> positions;
  positions.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!IsSpotifyId(ids[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "] '", ids[i].substr(0, 64),
                       "' is not a 22-character Spotify id"));
    }
    auto position = snapshot.Find(ids[i]);
    if (!position) {
      return absl::NotFoundError(absl::StrCat(field, "[", i, "]: track '", ids[i],
                                              "' is not in snapshot ",
                                              snapshot.version()));
    }
    positions.push_back(*position);
  }
  return positions;
}

}  // namespace cratedig::query
