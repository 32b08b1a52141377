#include "query_service/query_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/track_ids.h"

namespace cratedig::query {
namespace {

// Number of code points of valid UTF-8 (the caller checked validity via NormalizeText).
int64_t CodePoints(absl::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

std::vector<Scored> ToScored(const std::vector<Neighbor>& neighbors) {
  std::vector<Scored> out;
  out.reserve(neighbors.size());
  for (const Neighbor& n : neighbors)
    out.push_back({n.label, std::max(0.0f, n.distance)});
  return out;
}

}  // namespace

absl::Status ValidateK(int k, absl::string_view field) {
  if (k < 1 || k > kMaxK) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be between 1 and ", kMaxK, ", got ", k));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Scored>> Search(const Snapshot& snapshot,
                                           absl::string_view query, int k) {
  if (auto s = ValidateK(k, "k"); !s.ok()) return s;
  if (query.empty()) return absl::InvalidArgumentError("query must not be empty");
  if (query.size() > 4 * kMaxQueryChars) {  // Longer than any 256-character UTF-8 text.
    return absl::InvalidArgumentError(
        absl::StrCat("query must be at most ", kMaxQueryChars, " characters"));
  }
  auto vector = snapshot.embedder().Embed(query);
  if (!vector.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("query: ", vector.status().message()));
  }
  if (CodePoints(query) > kMaxQueryChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("query must be at most ", kMaxQueryChars, " characters"));
  }
  if (std::all_of(vector->begin(), vector->end(), [](float x) { return x == 0; })) {
    return absl::InvalidArgumentError("query must contain a letter or a digit");
  }
  const AnnIndex& index = snapshot.text_index();
  auto found =
      index.Search(vector->data(), k, snapshot.manifest().search_index().ef_search());
  if (!found.ok()) return found.status();
  return ToScored(*found);
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
