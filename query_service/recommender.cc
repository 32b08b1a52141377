#include "query_service/recommender.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/ann.h"
#include "common/features.h"
#include "query_service/query_engine.h"

namespace cratedig::query {
namespace {

// Scoring (see recommender.h).
constexpr double kRocchioBeta = 0.5;
constexpr double kNegativeWeight = 0.5;
constexpr double kTargetStrength = 0.1;
constexpr double kMissingTargetDeviation = 3.0;
constexpr double kMaxTargetWeight = 100.0;
// Anchors drawn from each seed artist and seed genre.
constexpr int kArtistSeedTracks = 5;
constexpr int kGenreSeedTracks = 10;
// Per-track strategies search from at most this many anchors (evenly spaced).
constexpr size_t kMaxFusedAnchors = 100;
constexpr int kRrfConstant = 60;
// blend: relevance = kBlendMean x similarity to the mean + (1 - kBlendMean) x similarity
// to the nearest anchor + kArtistAffinity x the share of anchors by the candidate's
// artist; over at least kBlendPool candidates nearest the mean and the kArtistCandidates
// most popular tracks of each anchor's artists
// (docs/recommend-quality.md, "The blend strategy").
constexpr float kBlendMean = 0.5f;
constexpr float kArtistAffinity = 0.4f;
constexpr int kBlendPool = 20;
constexpr int kArtistCandidates = 10;
constexpr int kMinPerAnchor = 50;
// Anchors the graph search of their mean also starts from (spread over the playlist).
constexpr size_t kMaxSearchSeeds = 32;
// Candidates re-ranked when targets are given.
constexpr int kTargetPool = 1000;
// Explanations compare with every anchor up to this many (result, anchor) pairs.
constexpr int64_t kExplainPairs = 2'000'000;
constexpr int kExplainedFeatures = 3;
// The audio features explanations may name.
constexpr const char* kExplainable[] = {"acousticness",     "danceability", "energy",
                                        "instrumentalness", "liveness",     "loudness",
                                        "speechiness",      "tempo",        "valence"};

using Vec = std::vector<float>;

float Dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

absl::Status Invalid(absl::string_view a, absl::string_view b = "",
                     absl::string_view c = "") {
  return absl::InvalidArgumentError(absl::StrCat(a, b, c));
}

// Up to `cap` elements of `v`, evenly spaced, in order.
std::vector<size_t> Spread(size_t n, size_t cap) {
  std::vector<size_t> out;
  if (n <= cap) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (size_t i = 0; i < cap; ++i) out.push_back(i * n / cap);
  return out;
}

struct Candidate {
  Candidate(int64_t l, float r, float d) : label(l), relevance(r), distance(d) {}
  int64_t label;
  float relevance;
  float distance;
  float score = 0;
  Vec vector;  // filled when scoring needs it
};

class Run {
 public:
  Run(const Snapshot& s, const RecommendQuery& q)
      : s_(s), q_(q), dim_(s.audio_index().dim()), columns_(s.columns()) {}

  absl::StatusOr<RecommendResult> Answer();

 private:
  void CollectAnchors();
  void AddAnchor(int64_t position);
  bool Allowed(int64_t label) const {
    return !excluded_.contains(label) && (!q_.filter || q_.filter->Matches(label));
  }
  // The index's nearest to `query`, the graph search also started from `seeds`
  // (positions of the anchors the query was made from).
  absl::StatusOr<std::vector<Neighbor>> Nearest(const Vec& query, int depth,
                                                absl::Span<const int64_t> seeds) const;
  absl::StatusOr<std::vector<Candidate>> Pool(int depth);
  void Score(std::vector<Candidate>* pool);
  double TargetDeviation(int64_t position) const;
  std::vector<size_t> Select(const std::vector<Candidate>& pool, size_t sorted, int limit,
                             std::vector<size_t>* overflow) const;
  int64_t CountMatched() const;
  // The most tracks of `artist` selection takes: `limit`; under the default limit, the
  // artist's share of the playlist's anchors of k when that is more.
  int ArtistLimit(int32_t artist, int limit) const;
  size_t MmrPool() const { return 3 * static_cast<size_t>(q_.k); }
  v1::Explanation Explain(const Candidate& c) const;
  // The unit vector of a track in the recommendation index's space (content features,
  // blended with playlist co-occurrence when the snapshot has it); empty when none.
  Vec VectorOf(int64_t position) const { return s_.RecommendVector(position); }

  const Snapshot& s_;
  const RecommendQuery& q_;
  const int dim_;
  const TrackColumns& columns_;
  absl::flat_hash_set<int64_t> excluded_;  // representatives
  absl::flat_hash_set<int64_t> anchor_set_;
  std::vector<int64_t> anchors_;
  // Anchors from the playlist itself (not from seed tracks, artists or genres), and how
  // many of them each artist is credited on.
  int playlist_anchors_ = 0;
  absl::flat_hash_map<int32_t, int> playlist_artists_;
  // Every anchor's artists: how many anchors each is credited on, and in the anchors'
  // order.
  absl::flat_hash_map<int32_t, int> anchor_artists_;
  std::vector<int32_t> anchor_artist_order_;
  std::vector<Vec> anchor_vectors_;
  std::vector<Vec> negative_vectors_;
  Vec centroid_;  // unit; empty without anchors
  // Candidates the last Pool found by searching (blend adds others).
  size_t searched_ = 0;
};

void Run::AddAnchor(int64_t position) {
  if (!FeatureModel::HasCompleteAudio(s_.track(position))) return;
  Vec vector = VectorOf(position);
  if (vector.empty()) return;
  if (!anchor_set_.insert(position).second) return;
  anchors_.push_back(position);
  anchor_vectors_.push_back(std::move(vector));
}

void Run::CollectAnchors() {
  for (int64_t p : q_.playlist) AddAnchor(p);
  playlist_anchors_ = static_cast<int>(anchors_.size());
  for (int64_t p : anchors_) {
    for (int32_t artist : columns_.artists(p)) ++playlist_artists_[artist];
  }
  for (int32_t artist : q_.seed_artists) {
    int taken = 0;
    for (int64_t p : columns_.tracks_of_artist(artist)) {
      if (taken == kArtistSeedTracks) break;
      if (s_.recommendable(p)) {
        AddAnchor(p);
        ++taken;
      }
    }
  }
  for (int32_t genre : q_.seed_genres) {
    int taken = 0;
    for (int64_t p : columns_.tracks_of_genre(genre)) {
      if (taken == kGenreSeedTracks) break;
      if (s_.recommendable(p)) {
        AddAnchor(p);
        ++taken;
      }
    }
  }
  for (int64_t p : anchors_) {
    for (int32_t artist : columns_.artists(p)) {
      if (anchor_artists_[artist]++ == 0) anchor_artist_order_.push_back(artist);
    }
  }
  if (anchors_.empty()) return;
  // The prototype's query: the mean of the anchors' scaled rows, normalised; negatives
  // pull it away by half their own normalised mean (Rocchio).
  std::vector<double> sum(dim_, 0.0);
  for (int64_t p : anchors_) {
    Vec row = s_.RecommendRow(p);
    if (row.size() != static_cast<size_t>(dim_)) continue;
    for (int d = 0; d < dim_; ++d) sum[d] += row[d];
  }
  centroid_.assign(sum.begin(), sum.end());
  if (!NormalizeInPlace(&centroid_)) {
    centroid_.clear();
    return;
  }
  if (!negative_vectors_.empty()) {
    Vec neg(dim_, 0.0f);
    for (const Vec& v : negative_vectors_) {
      for (int d = 0; d < dim_; ++d) neg[d] += v[d];
    }
    if (NormalizeInPlace(&neg)) {
      Vec moved = centroid_;
      for (int d = 0; d < dim_; ++d)
        moved[d] -= static_cast<float>(kRocchioBeta) * neg[d];
      if (NormalizeInPlace(&moved)) centroid_ = std::move(moved);
    }
  }
}

absl::StatusOr<std::vector<Neighbor>> Run::Nearest(
    const Vec& query, int depth, absl::Span<const int64_t> seeds) const {
  const AnnIndex& index = s_.audio_index();
  const v1::IndexInfo& info = s_.manifest().recommend_index();
  auto allowed = [this](int64_t label) { return Allowed(label); };
  if (info.exhaustive()) return index.ScanExact(query.data(), depth, allowed);
  // Asked for, the blocks are waited for; by default, used once built (about 1 s after
  // the snapshot loads), the graph's answer given until then.
  const BlockScan* blocks = !q_.exact.has_value() ? s_.audio_blocks_if_built()
                            : *q_.exact           ? s_.audio_blocks()
                                                  : nullptr;
  if (blocks != nullptr) {
    return blocks->Search(query.data(), static_cast<size_t>(std::max(depth, 0)), allowed);
  }
  std::vector<int64_t> labels;
  for (size_t i : Spread(seeds.size(), kMaxSearchSeeds)) {
    labels.push_back(s_.representative(seeds[i]));
  }
  return index.Search(query.data(), depth, info.ef_search(), allowed, labels);
}

absl::StatusOr<std::vector<Candidate>> Run::Pool(int depth) {
  std::vector<Candidate> pool;
  if (centroid_.empty()) {  // Knobs alone: every allowed track.
    for (int64_t p = 0; p < s_.size(); ++p) {
      if (s_.recommendable(p) && Allowed(p)) pool.emplace_back(p, 0.0f, 0.0f);
    }
    searched_ = pool.size();
    return pool;
  }
  if (q_.strategy == Strategy::kCentroid) {
    auto found = Nearest(centroid_, depth, anchors_);
    if (!found.ok()) return found.status();
    for (const Neighbor& n : *found) {
      const float d = std::max(0.0f, n.distance);
      pool.emplace_back(n.label, 1.0f - d, d);
    }
    searched_ = pool.size();
    return pool;
  }
  if (q_.strategy == Strategy::kBlend) {
    auto found = Nearest(centroid_, std::max(depth, kBlendPool), anchors_);
    if (!found.ok()) return found.status();
    const std::vector<size_t> used = Spread(anchors_.size(), kMaxFusedAnchors);
    // The mean's nearest, then the anchors' artists' most popular tracks; similarities
    // read from the index's stored vectors (a track in no playlist keeps its shorter
    // one).
    const AnnIndex& index = s_.audio_index();
    std::vector<int64_t> stored;  // per candidate, its index in `index`
    absl::flat_hash_set<int64_t> in;
    for (const Neighbor& n : *found) {
      in.insert(n.label);
      pool.emplace_back(n.label, 1.0f - std::max(0.0f, n.distance), 0.0f);
      stored.push_back(index.StoredIndex(n.label));
    }
    // In order: the pool does not depend on hashing.
    for (int32_t artist : anchor_artist_order_) {
      int taken = 0;
      for (int64_t p : columns_.tracks_of_artist(artist)) {
        if (taken == kArtistCandidates) break;
        if (!s_.recommendable(p) || !Allowed(p) || in.contains(p)) continue;
        const int64_t i = index.StoredIndex(p);
        if (i < 0) continue;
        ++taken;
        in.insert(p);
        pool.emplace_back(
            p, 1.0f - std::max(0.0f, index.StoredDistance(i, centroid_.data())), 0.0f);
        stored.push_back(i);
      }
    }
    const float per_anchor = 1.0f / static_cast<float>(anchors_.size());
    for (size_t j = 0; j < pool.size(); ++j) {  // relevance: the similarity to the mean
      Candidate& c = pool[j];
      float nearest = -1;
      if (stored[j] >= 0) {
        for (size_t a : used) {
          nearest = std::max(
              nearest, 1.0f - index.StoredDistance(stored[j], anchor_vectors_[a].data()));
        }
      }
      int shared = 0;
      for (int32_t artist : columns_.artists(c.label)) {
        if (auto it = anchor_artists_.find(artist); it != anchor_artists_.end())
          shared = std::max(shared, it->second);
      }
      c.distance = std::max(0.0f, 1.0f - nearest);
      c.relevance = kBlendMean * c.relevance + (1 - kBlendMean) * nearest +
                    kArtistAffinity * per_anchor * static_cast<float>(shared);
    }
    searched_ = found->size();
    return pool;
  }
  // rrf / best: each anchor's own neighbours, fused.
  const std::vector<size_t> used = Spread(anchors_.size(), kMaxFusedAnchors);
  const int per_anchor = std::min<int>(
      std::max<int>(kMinPerAnchor,
                    static_cast<int>((2 * static_cast<int64_t>(depth) + used.size() - 1) /
                                     used.size())),
      std::max(depth, kMinPerAnchor));
  absl::flat_hash_map<int64_t, size_t> at;
  const double rrf_max = static_cast<double>(used.size()) / (kRrfConstant + 1);
  for (size_t a : used) {
    auto found = Nearest(anchor_vectors_[a], per_anchor, {anchors_[a]});
    if (!found.ok()) return found.status();
    for (size_t rank = 0; rank < found->size(); ++rank) {
      const Neighbor& n = (*found)[rank];
      const float d = std::max(0.0f, n.distance);
      auto [it, inserted] = at.emplace(n.label, pool.size());
      if (inserted) pool.emplace_back(n.label, 0.0f, d);
      Candidate& c = pool[it->second];
      c.distance = std::min(c.distance, d);
      if (q_.strategy == Strategy::kRrf) {
        c.relevance += static_cast<float>(1.0 / (kRrfConstant + rank + 1) / rrf_max);
      } else {
        c.relevance = 1.0f - c.distance;
      }
    }
  }
  if (static_cast<int>(pool.size()) < depth) {
    // Too few: fill from the exact nearest of the mean (the filters may be tight).
    auto found = Nearest(centroid_, depth, anchors_);
    if (!found.ok()) return found.status();
    for (const Neighbor& n : *found) {
      if (at.contains(n.label)) continue;
      Candidate c(n.label, 0.0f, 1.0f);
      Vec v = VectorOf(n.label);
      for (const Vec& a : anchor_vectors_)
        c.distance = std::min(c.distance, 1 - Dot(v, a));
      c.distance = std::max(0.0f, c.distance);
      // Found by no anchor: after every fused candidate for rrf.
      c.relevance = q_.strategy == Strategy::kRrf ? 0.0f : 1.0f - c.distance;
      c.vector = std::move(v);
      at.emplace(n.label, pool.size());
      pool.push_back(std::move(c));
    }
  }
  searched_ = pool.size();
  return pool;
}

double Run::TargetDeviation(int64_t position) const {
  double sum = 0, weights = 0;
  for (const Target& t : q_.targets) {
    const float v = columns_.feature(t.feature, position);
    const double dev = std::isnan(v)
                           ? kMissingTargetDeviation
                           : std::fabs(v - t.value) / columns_.spread(t.feature);
    sum += t.weight * dev;
    weights += t.weight;
  }
  return weights > 0 ? sum / weights : 0.0;
}

void Run::Score(std::vector<Candidate>* pool) {
  const bool need_vectors = !negative_vectors_.empty();
  const int popularity = *FindTrackFeature("popularity");
  for (Candidate& c : *pool) {
    double score = c.relevance;
    if (q_.strategy == Strategy::kRrf && !centroid_.empty()) {
      score += 1e-3 * (1.0 - c.distance);  // ties (and unfused fill) by similarity
    }
    if (need_vectors && c.vector.empty()) c.vector = VectorOf(c.label);
    if (!negative_vectors_.empty()) {
      float nearest = -1;
      for (const Vec& n : negative_vectors_)
        nearest = std::max(nearest, Dot(c.vector, n));
      score -= kNegativeWeight * nearest;
    }
    if (!q_.targets.empty()) score -= kTargetStrength * TargetDeviation(c.label);
    if (centroid_.empty()) {  // Knobs alone: ties by popularity.
      const float pop = columns_.feature(popularity, c.label);
      score += 1e-4 * (std::isnan(pop) ? 0.0 : pop / 100.0);
    }
    c.score = static_cast<float>(score);
  }
}

// Sorts the best `m` candidates to the front, best first (ties by label).
void Order(std::vector<Candidate>* pool, size_t m) {
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.label < b.label;
  };
  if (m >= pool->size()) {
    std::sort(pool->begin(), pool->end(), better);
  } else {
    std::partial_sort(pool->begin(), pool->begin() + m, pool->end(), better);
  }
}

int Run::ArtistLimit(int32_t artist, int limit) const {
  if (q_.max_per_artist.has_value() || playlist_anchors_ == 0) return limit;
  auto it = playlist_artists_.find(artist);
  if (it == playlist_artists_.end()) return limit;
  // ceil(k x share): a playlist all of one artist may continue with that artist.
  const int64_t share =
      (int64_t{q_.k} * it->second + playlist_anchors_ - 1) / playlist_anchors_;
  return static_cast<int>(std::max<int64_t>(limit, share));
}

// Indexes into the pool (sorted in its first `sorted` places) of the chosen results, at
// most `limit` tracks per artist (0: no limit); candidates held back by the limit go to
// `overflow`.
std::vector<size_t> Run::Select(const std::vector<Candidate>& pool, size_t sorted,
                                int limit, std::vector<size_t>* overflow) const {
  std::vector<size_t> chosen;
  absl::flat_hash_map<int32_t, int> per_artist;
  auto fits = [&](size_t i) {
    if (limit <= 0) return true;
    for (int32_t a : columns_.artists(pool[i].label)) {
      auto it = per_artist.find(a);
      if (it != per_artist.end() && it->second >= ArtistLimit(a, limit)) return false;
    }
    return true;
  };
  auto take = [&](size_t i) {
    chosen.push_back(i);
    for (int32_t a : columns_.artists(pool[i].label)) ++per_artist[a];
  };
  const size_t k = static_cast<size_t>(q_.k);
  if (q_.mmr_lambda <= 0) {
    for (size_t i = 0; i < sorted && chosen.size() < k; ++i) {
      if (fits(i)) {
        take(i);
      } else {
        overflow->push_back(i);
      }
    }
    return chosen;
  }
  // MMR over the best MmrPool(k) candidates: lambda * score - (1 - lambda) * similarity
  // to the nearest chosen result.
  const double lambda = q_.mmr_lambda;
  const size_t n = std::min(sorted, MmrPool());
  std::vector<float> nearest(n, -1.0f);
  std::vector<bool> done(n, false);
  while (chosen.size() < k) {
    size_t best = n;
    double best_value = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (!fits(i)) {
        done[i] = true;
        overflow->push_back(i);
        continue;
      }
      const double value =
          lambda * pool[i].score - (1 - lambda) * std::max(0.0f, nearest[i]);
      if (value > best_value) {
        best_value = value;
        best = i;
      }
    }
    if (best == n) break;
    done[best] = true;
    take(best);
    for (size_t i = 0; i < n; ++i) {
      if (!done[i])
        nearest[i] = std::max(nearest[i], Dot(pool[i].vector, pool[best].vector));
    }
  }
  std::sort(overflow->begin(), overflow->end());
  return chosen;
}

int64_t Run::CountMatched() const {
  int64_t matched = 0;
  if (!q_.filter) {
    matched = s_.audio_index().size();
    for (int64_t label : excluded_) matched -= s_.recommendable(label);
    return matched;
  }
  for (int64_t p = 0; p < s_.size(); ++p) {
    matched += s_.recommendable(p) && Allowed(p);
  }
  return matched;
}

v1::Explanation Run::Explain(const Candidate& c) const {
  v1::Explanation e;
  const v1::Track& result = s_.track(c.label);
  for (const Target& t : q_.targets) {
    const std::optional<double> v = TrackFeatureValue(result, t.feature);
    if (!v) continue;
    v1::FeatureMatch* m = e.add_features();
    m->set_feature(TrackFeatures()[t.feature].name);
    m->set_value(*v);
    m->set_reference(t.value);
    m->set_is_target(true);
  }
  if (anchors_.empty()) return e;
  const Vec v = c.vector.empty() ? VectorOf(c.label) : c.vector;
  const std::vector<size_t> used = Spread(
      anchors_.size(), static_cast<int64_t>(anchors_.size()) * q_.k <= kExplainPairs
                           ? anchors_.size()
                           : kMaxFusedAnchors);
  size_t closest = used.front();
  float similarity = -2;
  for (size_t a : used) {
    const float sim = Dot(v, anchor_vectors_[a]);
    if (sim > similarity) {
      similarity = sim;
      closest = a;
    }
  }
  const int64_t anchor = anchors_[closest];
  const v1::Track& track = s_.track(anchor);
  e.set_closest_track_id(track.id());
  e.set_closest_track_name(track.name());
  e.set_closest_similarity(similarity);
  std::vector<std::pair<double, int>> matches;
  for (const char* name : kExplainable) {
    const int f = *FindTrackFeature(name);
    const float a = columns_.feature(f, anchor);
    const float b = columns_.feature(f, c.label);
    if (std::isnan(a) || std::isnan(b)) continue;
    matches.push_back({std::fabs(a - b) / columns_.spread(f), f});
  }
  std::sort(matches.begin(), matches.end());
  for (size_t i = 0; i < matches.size() && i < kExplainedFeatures; ++i) {
    const int f = matches[i].second;
    v1::FeatureMatch* m = e.add_features();
    m->set_feature(TrackFeatures()[f].name);
    m->set_value(TrackFeatureValue(result, f).value_or(0));
    m->set_reference(TrackFeatureValue(track, f).value_or(0));
  }
  for (const std::string& g : result.genres()) {
    if (std::find(track.genres().begin(), track.genres().end(), g) !=
        track.genres().end())
      e.add_shared_genres(g);
  }
  return e;
}

absl::StatusOr<RecommendResult> Run::Answer() {
  for (int64_t p : q_.playlist) excluded_.insert(s_.representative(p));
  for (int64_t p : q_.negatives) {
    excluded_.insert(s_.representative(p));
    if (Vec v = VectorOf(p); !v.empty()) negative_vectors_.push_back(std::move(v));
  }
  CollectAnchors();
  const bool knobs = q_.filter.has_value() || !q_.targets.empty();
  if (centroid_.empty() && !knobs) {
    return absl::FailedPreconditionError(
        "none of the playlist's or seeds' tracks has audio features to recommend from");
  }
  RecommendResult out;
  out.strategy = q_.strategy;
  // Knobs alone: the pool is every matching track, counted below.
  if (!centroid_.empty()) out.matched = CountMatched();

  const int64_t indexed = s_.audio_index().size();
  const int limit = q_.max_per_artist.value_or(DefaultMaxPerArtist(q_.k));
  int64_t depth = q_.k;
  if (limit > 0) depth *= 2;
  if (!q_.targets.empty()) depth = std::max<int64_t>(depth, kTargetPool);
  if (q_.mmr_lambda > 0) depth = std::max<int64_t>(depth, 3 * int64_t{q_.k});
  depth = std::min(depth, std::max<int64_t>(indexed, 1));
  std::vector<Candidate> pool;
  std::vector<size_t> chosen, overflow;
  while (true) {
    auto next = Pool(static_cast<int>(depth));
    if (!next.ok()) return next.status();
    pool = *std::move(next);
    if (centroid_.empty()) out.matched = static_cast<int64_t>(pool.size());
    Score(&pool);
    // A knobs-only pool holds every matching track: order only what selection may reach.
    size_t sorted = centroid_.empty()
                        ? std::min(pool.size(), std::max<size_t>(8 * size_t(q_.k), 1024))
                        : pool.size();
    Order(&pool, sorted);
    if (q_.mmr_lambda > 0) {
      for (size_t i = 0; i < sorted && i < MmrPool(); ++i) {
        if (pool[i].vector.empty()) pool[i].vector = VectorOf(pool[i].label);
      }
    }
    overflow.clear();
    chosen = Select(pool, sorted, limit, &overflow);
    if (static_cast<int>(chosen.size()) < q_.k && sorted < pool.size()) {
      sorted = pool.size();
      Order(&pool, sorted);
      overflow.clear();
      chosen = Select(pool, sorted, limit, &overflow);
    }
    const bool exhausted = centroid_.empty() ||  // knobs alone: the pool held every track
                           static_cast<int64_t>(searched_) < depth || depth >= indexed;
    if (static_cast<int>(chosen.size()) >= q_.k || exhausted) break;
    depth = std::min(depth * 4, indexed);
  }
  // The default limit gives way rather than leave the list short.
  if (!q_.max_per_artist.has_value()) {
    for (size_t i : overflow) {
      if (static_cast<int>(chosen.size()) >= q_.k) break;
      chosen.push_back(i);
    }
  }
  out.results.reserve(chosen.size());
  for (size_t i : chosen) {
    const Candidate& c = pool[i];
    out.results.push_back({c.label, c.distance, c.score, Explain(c)});
  }
  return out;
}

}  // namespace

const char* StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kRrf:
      return "rrf";
    case Strategy::kBest:
      return "best";
    case Strategy::kBlend:
      return "blend";
    case Strategy::kCentroid:
      break;
  }
  return "centroid";
}

absl::StatusOr<RecommendQuery> MakeRecommendQuery(const Snapshot& snapshot,
                                                  std::vector<int64_t> playlist, int k,
                                                  const v1::RecommendOptions& options,
                                                  absl::string_view field) {
  if (auto s = ValidateK(k, "k"); !s.ok()) return s;
  const std::string f(field);
  RecommendQuery q;
  q.k = k;
  q.playlist = std::move(playlist);
  const std::string strategy =
      options.strategy().empty() ? kDefaultStrategy : options.strategy();
  if (strategy == "centroid") {
    q.strategy = Strategy::kCentroid;
  } else if (strategy == "rrf") {
    q.strategy = Strategy::kRrf;
  } else if (strategy == "best") {
    q.strategy = Strategy::kBest;
  } else if (strategy == "blend") {
    q.strategy = Strategy::kBlend;
  } else {
    return Invalid(f, ".strategy '",
                   absl::StrCat(options.strategy().substr(0, 64),
                                "' is not one of blend, centroid, rrf, best"));
  }
  if (options.negative_track_ids_size() > kMaxNegatives) {
    return Invalid(f, ".negative_track_ids",
                   absl::StrCat(" must hold at most ", kMaxNegatives, " ids"));
  }
  auto negatives = ResolveIds(
      snapshot,
      {options.negative_track_ids().begin(), options.negative_track_ids().end()},
      f + ".negative_track_ids");
  if (!negatives.ok()) return negatives.status();
  q.negatives = *std::move(negatives);

  const int seeds = options.seed_track_ids_size() + options.seed_artists_size() +
                    options.seed_genres_size();
  if (seeds > kMaxSeeds) {
    return Invalid(
        f, ".seed_track_ids, seed_artists and seed_genres",
        absl::StrCat(" hold ", seeds, " seeds; at most ", kMaxSeeds, " in total"));
  }
  auto seed_tracks = ResolveIds(
      snapshot, {options.seed_track_ids().begin(), options.seed_track_ids().end()},
      f + ".seed_track_ids");
  if (!seed_tracks.ok()) return seed_tracks.status();
  q.playlist.insert(q.playlist.end(), seed_tracks->begin(), seed_tracks->end());
  const TrackColumns& columns = snapshot.columns();
  for (int i = 0; i < options.seed_artists_size(); ++i) {
    std::vector<int32_t> ids = columns.FindArtists(options.seed_artists(i));
    if (ids.empty()) {
      return absl::NotFoundError(absl::StrCat(f, ".seed_artists[", i, "]: no artist '",
                                              options.seed_artists(i).substr(0, 64),
                                              "' in snapshot ", snapshot.version()));
    }
    q.seed_artists.insert(q.seed_artists.end(), ids.begin(), ids.end());
  }
  for (int i = 0; i < options.seed_genres_size(); ++i) {
    std::optional<int32_t> id = columns.FindGenre(options.seed_genres(i));
    if (!id) {
      return absl::NotFoundError(absl::StrCat(
          f, ".seed_genres[", i, "]: no track has genre '",
          options.seed_genres(i).substr(0, 64), "' in snapshot ", snapshot.version()));
    }
    q.seed_genres.push_back(*id);
  }

  auto filter = TrackFilter::Create(options.filter(), columns, f + ".filter");
  if (!filter.ok()) return filter.status();
  if (!filter->empty()) q.filter = *filter;

  std::vector<bool> targeted(TrackFeatures().size(), false);
  for (int i = 0; i < options.targets_size(); ++i) {
    const v1::FeatureTarget& t = options.targets(i);
    std::optional<int> feature = FindTrackFeature(t.feature());
    if (!feature) {
      return Invalid(f,
                     absl::StrCat(".targets[", i, "]: target_", t.feature().substr(0, 64),
                                  " is not a knob; features are "),
                     TrackFeatureNames());
    }
    const TrackFeature& info = TrackFeatures()[*feature];
    const std::string knob = absl::StrCat("target_", info.name);
    if (targeted[*feature]) return Invalid(knob, " is given twice");
    targeted[*feature] = true;
    if (!(t.value() >= info.lowest && t.value() <= info.highest)) {
      return Invalid(knob, absl::StrCat(" = ", t.value(), " is outside ", info.lowest,
                                        "..", info.highest));
    }
    if (!(t.weight() >= 0 && t.weight() <= kMaxTargetWeight)) {
      return Invalid(knob, absl::StrCat(" weight ", t.weight(), " is outside 0..",
                                        kMaxTargetWeight));
    }
    q.targets.push_back({*feature, t.value(), t.weight() == 0 ? 1.0 : t.weight()});
  }
  if (options.has_max_per_artist()) {
    if (options.max_per_artist() < 0) {
      return Invalid(f, ".max_per_artist",
                     absl::StrCat(" = ", options.max_per_artist(), " must be >= 0"));
    }
    q.max_per_artist = options.max_per_artist();
  }
  const double mmr = options.mmr_lambda();
  if (!(mmr >= 0 && mmr <= 1)) {
    return Invalid(f, ".mmr_lambda", absl::StrCat(" = ", mmr, " is outside 0..1"));
  }
  if (mmr > 0 && k > kMaxMmrK) {
    return Invalid(f, ".mmr_lambda",
                   absl::StrCat(" needs k <= ", kMaxMmrK, ", got k = ", k));
  }
  q.mmr_lambda = mmr;
  if (options.has_exact()) q.exact = options.exact();
  if (q.playlist.empty() && q.seed_artists.empty() && q.seed_genres.empty() &&
      q.targets.empty() && !q.filter) {
    return Invalid("track_ids, a seed (", f,
                   ".seed_track_ids, seed_artists, seed_genres), a target or a filter "
                   "is required");
  }
  return q;
}

absl::StatusOr<RecommendResult> Recommend(const Snapshot& snapshot,
                                          const RecommendQuery& query) {
  return Run(snapshot, query).Answer();
}

}  // namespace cratedig::query
