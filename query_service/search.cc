#include "query_service/search.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/lexical_index.h"
#include "common/text.h"
#include "query_service/query_engine.h"
#include "query_service/track_filter.h"

namespace cratedig::query {
namespace {

// Code points of valid UTF-8 (the caller checked validity through the embedder).
int64_t CodePoints(absl::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// Both rankings are fetched this deep at least, so that fusion has candidates to reorder.
constexpr int kMinFetch = 50;

}  // namespace

std::vector<SearchResult> Fuse(const std::vector<int64_t>& lexical, size_t exact_lexical,
                               size_t complete_lexical,
                               const std::vector<int64_t>& vector) {
  absl::flat_hash_map<int64_t, size_t> slot;
  std::vector<SearchResult> out;
  std::vector<double> score;
  std::vector<int> tier;  // 2 exact, 1 every query word, 0 the rest
  auto add = [&](int64_t position, double weight, size_t rank) -> SearchResult& {
    auto [it, inserted] = slot.try_emplace(position, out.size());
    if (inserted) {
      out.emplace_back();
      out.back().position = position;
      score.push_back(0.0);
      tier.push_back(0);
    }
    score[it->second] += weight / (kFusionDepth + static_cast<double>(rank + 1));
    return out[it->second];
  };
  for (size_t r = 0; r < lexical.size(); ++r) {
    SearchResult& result = add(lexical[r], kLexicalWeight, r);
    result.lexical = true;
    result.exact = r < exact_lexical;
    tier[slot[lexical[r]]] = result.exact ? 2 : r < complete_lexical ? 1 : 0;
  }
  for (size_t r = 0; r < vector.size(); ++r)
    add(vector[r], kVectorWeight, r).vector = true;
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Exact matches keep the lexical order (their slots come first, in that order).
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (tier[a] != tier[b]) return tier[a] > tier[b];
    if (tier[a] == 2) return a < b;
    if (score[a] != score[b]) return score[a] > score[b];
    return out[a].position < out[b].position;
  });
  std::vector<SearchResult> fused;
  fused.reserve(order.size());
  for (size_t i : order) {
    fused.push_back(out[i]);
    fused.back().relevance = static_cast<float>(score[i] + tier[i]);
  }
  return fused;
}

absl::StatusOr<std::vector<SearchResult>> Search(const Snapshot& snapshot,
                                                 absl::string_view query, int k,
                                                 int offset,
                                                 const v1::TrackFilter* filter) {
  if (auto s = ValidateK(k, "k"); !s.ok()) return s;
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat("offset must be >= 0, got ", offset));
  }
  if (offset > kMaxK - k) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset + k must be at most ", kMaxK, ", got ", offset, " + ", k));
  }
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
  // A query without words is an error; one whose words have no vector (word vectors that
  // do not know them) is searched by the lexical index alone.
  auto words = TextWords(query);
  if (!words.ok() || words->empty()) {
    return absl::InvalidArgumentError("query must contain a letter or a digit");
  }
  const bool has_vector =
      std::any_of(vector->begin(), vector->end(), [](float x) { return x != 0; });
  std::optional<TrackFilter> bound;
  if (filter != nullptr) {
    auto created = TrackFilter::Create(*filter, snapshot.columns(), "filter");
    if (!created.ok()) return created.status();
    if (!created->empty()) bound = std::move(*created);
  }
  LabelFilter keep;
  if (bound) keep = [&bound](int64_t position) { return bound->Matches(position); };
  const int want = offset + k;
  const int fetch = std::min(kMaxK, std::max(want, kMinFetch));

  std::vector<int64_t> lexical_positions;
  size_t exact = 0, complete = 0;
  absl::flat_hash_map<int64_t, LexicalHit> lexical_hits;
  if (const LexicalIndex* lexical = snapshot.lexical_index()) {
    int words = 0;
    auto hits = lexical->Search(query, fetch, &words, keep);
    if (!hits.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query: ", hits.status().message()));
    }
    for (const LexicalHit& h : *hits) {
      if (h.exact(words) && exact == lexical_positions.size()) ++exact;
      if (h.words == words && complete == lexical_positions.size()) ++complete;
      lexical_positions.push_back(h.position);
      lexical_hits.emplace(h.position, h);
    }
  }
  const AnnIndex& index = snapshot.text_index();
  // The vector ranking only adds to the lexical one: twice the fetch is breadth enough.
  std::vector<int64_t> vector_positions;
  if (has_vector) {
    auto nearest = index.Search(vector->data(), fetch, 2 * fetch, keep);
    if (!nearest.ok()) return nearest.status();
    for (const Neighbor& n : *nearest) vector_positions.push_back(n.label);
  }

  std::vector<SearchResult> fused =
      Fuse(lexical_positions, exact, complete, vector_positions);
  if (fused.size() <= static_cast<size_t>(offset)) return std::vector<SearchResult>();
  fused.erase(fused.begin(), fused.begin() + offset);
  if (fused.size() > static_cast<size_t>(k)) fused.resize(k);
  for (SearchResult& r : fused) {
    if (auto it = lexical_hits.find(r.position); it != lexical_hits.end()) {
      r.fields = it->second.fields;
      r.typos = it->second.typos;
      r.prefix = it->second.prefixes > 0;
    }
    if (!has_vector) continue;
    auto distance = index.Distance(r.position, vector->data());
    r.distance = distance.ok() ? std::clamp(*distance, 0.0f, 2.0f) : 2.0f;
  }
  return fused;
}

void ToScoredTrack(const Snapshot& snapshot, const SearchResult& result,
                   v1::ScoredTrack* out) {
  *out->mutable_track() = snapshot.track(result.position);
  out->set_distance(result.distance);
  out->set_position(result.position);
  out->set_relevance(result.relevance);
  out->set_signal(result.lexical && result.vector ? v1::SEARCH_SIGNAL_LEXICAL_AND_VECTOR
                  : result.lexical                ? v1::SEARCH_SIGNAL_LEXICAL
                                                  : v1::SEARCH_SIGNAL_VECTOR);
  if (result.fields & (kFieldTitle | kFieldTitleVersion)) {
    out->add_matched_fields(v1::SEARCH_FIELD_TITLE);
  }
  if (result.fields & kFieldArtist) out->add_matched_fields(v1::SEARCH_FIELD_ARTIST);
  if (result.fields & kFieldAlbum) out->add_matched_fields(v1::SEARCH_FIELD_ALBUM);
  out->set_typos(result.typos);
  out->set_prefix(result.prefix);
  out->set_exact(result.exact);
}

}  // namespace cratedig::query
