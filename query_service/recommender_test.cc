#include "query_service/recommender.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"
#include "trainer_service/snapshot_builder.h"

namespace cratedig::query {
namespace {

class RecommenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/recommender_test." +
                            std::to_string(::getpid()));
    std::filesystem::remove_all(*root_);
    std::vector<v1::Track> tracks = testing::SyntheticTracks(3000, 21);
    // Track 1 is track 0 under another id; track 2 lacks audio features.
    tracks[1].set_name(tracks[0].name());
    *tracks[1].mutable_artists() = tracks[0].artists();
    tracks[2].clear_audio_features();
    trainer::BuildOptions options;
    options.recommend_exhaustive_below = 0;  // The graph, as at 1.2M tracks.
    auto manifest = trainer::BuildSnapshot(tracks, {}, options, *root_, "000001");
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    auto loaded = Snapshot::Load(*root_ + "/000001");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*loaded);
  }
  void SetUp() override { ASSERT_NE(snapshot_, nullptr) << "no snapshot"; }
  const Snapshot& snapshot() { return **snapshot_; }

  absl::StatusOr<RecommendResult> Ask(std::vector<int64_t> playlist, int k,
                                      const v1::RecommendOptions& options) {
    auto query = MakeRecommendQuery(snapshot(), std::move(playlist), k, options);
    if (!query.ok()) return query.status();
    return Recommend(snapshot(), *query);
  }
  RecommendResult MustAsk(std::vector<int64_t> playlist, int k,
                          const v1::RecommendOptions& options) {
    auto result = Ask(std::move(playlist), k, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RecommendResult();
  }

  double Energy(int64_t position) {
    return snapshot().track(position).audio_features().energy();
  }
  double MeanEnergy(const RecommendResult& r) {
    double sum = 0;
    for (const Recommendation& x : r.results) sum += Energy(x.position);
    return r.results.empty() ? 0 : sum / r.results.size();
  }

  // Brute force: the recommendable positions passing `pred`, the playlist's duplicates
  // left out.
  template <typename Pred>
  absl::flat_hash_set<int64_t> Passing(const std::vector<int64_t>& playlist, Pred pred) {
    absl::flat_hash_set<int64_t> excluded;
    for (int64_t p : playlist) excluded.insert(snapshot().representative(p));
    absl::flat_hash_set<int64_t> out;
    for (int64_t i = 0; i < snapshot().size(); ++i) {
      if (snapshot().recommendable(i) && !excluded.contains(i) &&
          pred(snapshot().track(i))) {
        out.insert(i);
      }
    }
    return out;
  }

  static std::string* root_;
  static std::shared_ptr<const Snapshot>* snapshot_;
};

std::string* RecommenderTest::root_ = nullptr;
std::shared_ptr<const Snapshot>* RecommenderTest::snapshot_ = nullptr;

v1::RecommendOptions Range(const std::string& feature, std::optional<double> min,
                           std::optional<double> max) {
  v1::RecommendOptions o;
  v1::FeatureRange* r = o.mutable_filter()->add_features();
  r->set_feature(feature);
  if (min) r->set_min(*min);
  if (max) r->set_max(*max);
  return o;
}

TEST_F(RecommenderTest, EveryKnobHoldsAndMatchedAgreesWithBruteForce) {
  const std::vector<int64_t> playlist = {0, 10, 20};
  for (const TrackFeature& f : TrackFeatures()) {
    const std::string name = f.name;
    // A bound around the middle of the catalog's values.
    std::vector<double> values;
    for (int64_t i = 0; i < snapshot().size(); ++i) {
      const float v = snapshot().columns().feature(*FindTrackFeature(name), i);
      if (!std::isnan(v)) values.push_back(v);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    double lo = values.front(), hi = values.back();
    if (values.size() > 4) {
      lo = (values[values.size() / 3] + values[values.size() / 3 + 1]) / 2;
      hi = (values[values.size() * 2 / 3] + values[values.size() * 2 / 3 + 1]) / 2;
    }
    const int fi = *FindTrackFeature(name);
    for (auto strategy : {"blend", "centroid", "rrf"}) {
      v1::RecommendOptions o = Range(name, lo, hi);
      o.set_strategy(strategy);
      o.set_max_per_artist(0);
      RecommendResult r = MustAsk(playlist, 40, o);
      auto want = Passing(playlist, [&](const v1::Track&) { return true; });
      absl::flat_hash_set<int64_t> passing;
      for (int64_t p : want) {
        const float v = snapshot().columns().feature(fi, p);
        if (!std::isnan(v) && v >= lo && v <= hi) passing.insert(p);
      }
      EXPECT_EQ(r.matched, static_cast<int64_t>(passing.size())) << name;
      EXPECT_EQ(r.results.size(), std::min<size_t>(40, passing.size())) << name;
      for (const Recommendation& x : r.results) {
        EXPECT_TRUE(passing.contains(x.position)) << name << " " << x.position;
      }
    }
  }
}

TEST_F(RecommenderTest, TightFiltersStillFillKWithTheExactlyFilteredTracks) {
  v1::RecommendOptions o = Range("energy", 0.9, {});
  o.mutable_filter()->add_genres("jazz");
  o.mutable_filter()->set_year_min(1990);
  o.mutable_filter()->set_explicit_(false);
  o.set_max_per_artist(0);
  const std::vector<int64_t> playlist = {5, 6, 7};
  auto want = Passing(playlist, [](const v1::Track& t) {
    return t.audio_features().energy() >= 0.9 &&
           std::find(t.genres().begin(), t.genres().end(), "jazz") != t.genres().end() &&
           t.album().release_date().year() >= 1990 && !t.explicit_();
  });
  ASSERT_GT(want.size(), 5u);
  ASSERT_LT(want.size(), 100u);
  for (auto strategy : {"blend", "centroid", "rrf", "best"}) {
    o.set_strategy(strategy);
    RecommendResult r = MustAsk(playlist, 5, o);
    EXPECT_EQ(r.results.size(), 5u) << strategy;
    RecommendResult all = MustAsk(playlist, 1000, o);
    absl::flat_hash_set<int64_t> got;
    for (const Recommendation& x : all.results) got.insert(x.position);
    EXPECT_EQ(got, want) << strategy;
    EXPECT_EQ(all.matched, static_cast<int64_t>(want.size()));
  }
}

TEST_F(RecommenderTest, ATargetMovesTheResultsMeanTowardIt) {
  const std::vector<int64_t> playlist = {3, 4, 5, 6};
  v1::RecommendOptions plain;
  const double base = MeanEnergy(MustAsk(playlist, 50, plain));
  double means[2];
  int i = 0;
  for (double target : {0.2, 0.8}) {
    v1::RecommendOptions o;
    v1::FeatureTarget* t = o.add_targets();
    t->set_feature("energy");
    t->set_value(target);
    means[i++] = MeanEnergy(MustAsk(playlist, 50, o));
  }
  std::cerr << "mean energy of the top 50: no target " << base << ", target 0.2 "
            << means[0] << ", target 0.8 " << means[1] << "\n";
  EXPECT_LT(std::fabs(means[0] - 0.2), std::fabs(base - 0.2));
  EXPECT_LT(std::fabs(means[1] - 0.8), std::fabs(base - 0.8));
  EXPECT_GT(means[1] - means[0], 0.3);

  // Tempo in BPM, with knobs alone: the results sit around the target.
  v1::RecommendOptions tempo;
  v1::FeatureTarget* t = tempo.add_targets();
  t->set_feature("tempo");
  t->set_value(150);
  RecommendResult r = MustAsk({}, 20, tempo);
  ASSERT_EQ(r.results.size(), 20u);
  for (const Recommendation& x : r.results) {
    EXPECT_NEAR(snapshot().track(x.position).audio_features().tempo(), 150, 5);
    ASSERT_GT(x.explanation.features_size(), 0);
    EXPECT_EQ(x.explanation.features(0).feature(), "tempo");
    EXPECT_EQ(x.explanation.features(0).value(),
              snapshot().track(x.position).audio_features().tempo());
    EXPECT_EQ(x.explanation.features(0).reference(), 150);
    EXPECT_TRUE(x.explanation.features(0).is_target());
  }
}

TEST_F(RecommenderTest, KnobsAloneReturnEveryTrackInsideTheBoundsUpToK) {
  v1::RecommendOptions o = Range("tempo", 120, 125);
  auto want = Passing({}, [](const v1::Track& t) {
    return t.audio_features().tempo() >= 120 && t.audio_features().tempo() <= 125;
  });
  o.set_max_per_artist(0);
  RecommendResult r = MustAsk({}, 10000, o);
  EXPECT_EQ(r.matched, static_cast<int64_t>(want.size()));
  absl::flat_hash_set<int64_t> got;
  for (const Recommendation& x : r.results) got.insert(x.position);
  EXPECT_EQ(got, want);
}

TEST_F(RecommenderTest, NeverThePlaylistItsDuplicatesOrTheNegatives) {
  v1::RecommendOptions o;
  o.set_max_per_artist(0);
  o.add_negative_track_ids(snapshot().track(50).id());
  for (auto strategy : {"blend", "centroid", "rrf", "best"}) {
    o.set_strategy(strategy);
    RecommendResult r = MustAsk({0, 30}, 10000, o);
    for (const Recommendation& x : r.results) {
      EXPECT_NE(x.position, 0);
      EXPECT_NE(x.position, 1) << "the duplicate of track 0";
      EXPECT_NE(x.position, 2) << "no audio features";
      EXPECT_NE(x.position, 30);
      EXPECT_NE(x.position, 50) << "a negative";
    }
    // k = 10,000 exceeds the catalog: every other recommendable track, once each.
    absl::flat_hash_set<int64_t> seen;
    for (const Recommendation& x : r.results) EXPECT_TRUE(seen.insert(x.position).second);
    EXPECT_EQ(static_cast<int64_t>(r.results.size()), r.matched) << strategy;
    EXPECT_EQ(r.matched, snapshot().audio_index().size() - 3);
  }
}

TEST_F(RecommenderTest, NegativesPushTheResultsAway) {
  const std::vector<int64_t> playlist = {8, 9, 10};
  v1::RecommendOptions o;
  const std::vector<float> neg = snapshot().features().Transform(snapshot().track(11));
  auto similarity = [&](const RecommendResult& r) {
    double sum = 0;
    for (const Recommendation& x : r.results) {
      std::vector<float> v =
          snapshot().features().Transform(snapshot().track(x.position));
      for (size_t d = 0; d < v.size(); ++d) sum += v[d] * neg[d];
    }
    return sum / r.results.size();
  };
  for (auto strategy : {"blend", "centroid", "rrf", "best"}) {
    o.set_strategy(strategy);
    o.clear_negative_track_ids();
    const double before = similarity(MustAsk(playlist, 20, o));
    o.add_negative_track_ids(snapshot().track(11).id());
    const double after = similarity(MustAsk(playlist, 20, o));
    EXPECT_LT(after, before) << strategy;
  }
}

TEST_F(RecommenderTest, MaxPerArtistHolds) {
  // The most results by one artist, among the artists `counted` accepts (by name).
  auto most_by_one = [&](const RecommendResult& r, auto counted) {
    absl::flat_hash_map<std::string, int> count;
    int most = 0;
    for (const Recommendation& x : r.results) {
      const std::string& artist = snapshot().track(x.position).artists(0).name();
      if (counted(artist)) most = std::max(most, ++count[artist]);
    }
    return most;
  };
  auto per_artist = [&](const RecommendResult& r) {
    return most_by_one(r, [](const std::string&) { return true; });
  };
  // The playlist {12, 13} is by artists 12 and 13.
  auto in_playlist = [](const std::string& a) {
    return a == "Artist 12" || a == "Artist 13";
  };
  auto per_playlist_artist = [&](const RecommendResult& r) {
    return most_by_one(r, in_playlist);
  };
  auto per_other_artist = [&](const RecommendResult& r) {
    return most_by_one(r, [&](const std::string& a) { return !in_playlist(a); });
  };
  v1::RecommendOptions o;
  for (auto strategy : {"blend", "centroid", "rrf", "best"}) {
    o.set_strategy(strategy);
    o.clear_max_per_artist();
    RecommendResult r = MustAsk({12, 13}, 40, o);
    EXPECT_EQ(r.results.size(), 40u);
    // Each playlist artist, on half the playlist, may take half of k.
    EXPECT_LE(per_other_artist(r), kDefaultMaxPerArtist) << strategy;
    EXPECT_LE(per_playlist_artist(r), 20) << strategy;
    o.set_max_per_artist(1);
    r = MustAsk({12, 13}, 40, o);
    EXPECT_EQ(r.results.size(), 40u);
    EXPECT_EQ(per_artist(r), 1) << strategy;
    // 50 artists: a strict limit of 1 cannot give 60.
    EXPECT_EQ(MustAsk({12, 13}, 60, o).results.size(), 50u);
    // The default limit grows with k: 4% of it above 75.
    o.clear_max_per_artist();
    r = MustAsk({12, 13}, 500, o);
    EXPECT_EQ(r.results.size(), 500u);
    EXPECT_LE(per_other_artist(r), DefaultMaxPerArtist(500)) << strategy;
    EXPECT_GT(per_other_artist(r), kDefaultMaxPerArtist) << strategy;
    // Five artists left by the filter hold 20 tracks under the default limit (4 at
    // k = 100): it gives way to fill k.
    v1::RecommendOptions few = o;
    for (int a = 5; a < 50; ++a) {
      few.mutable_filter()->add_exclude_artists(absl::StrCat("Artist ", a));
    }
    r = MustAsk({12, 13}, 100, few);
    EXPECT_EQ(r.results.size(), 100u) << strategy;
    EXPECT_GT(per_artist(r), DefaultMaxPerArtist(100)) << strategy;
  }
  // A playlist of one artist (artist 0 has every 50th track) may continue with it under
  // the default limit; a strict limit still holds, and so does the default for an artist
  // on a fifth of the playlist (ceil(10 / 5) = 2 < 3).
  const std::vector<int64_t> one_artist = {50, 100, 150, 200, 250};
  o.set_strategy("blend");
  o.clear_max_per_artist();
  EXPECT_GT(per_artist(MustAsk(one_artist, 10, o)), kDefaultMaxPerArtist);
  o.set_max_per_artist(3);
  EXPECT_EQ(per_artist(MustAsk(one_artist, 10, o)), 3);
  o.clear_max_per_artist();
  EXPECT_LE(per_artist(MustAsk({50, 51, 52, 53, 54}, 10, o)), kDefaultMaxPerArtist);
  EXPECT_EQ(DefaultMaxPerArtist(10), 3);
  EXPECT_EQ(DefaultMaxPerArtist(75), 3);
  EXPECT_EQ(DefaultMaxPerArtist(100), 4);
  EXPECT_EQ(DefaultMaxPerArtist(10000), 400);
  // Knobs alone order only the head of the catalog first; the limit still holds.
  v1::RecommendOptions knobs;
  v1::FeatureTarget* t = knobs.add_targets();
  t->set_feature("valence");
  t->set_value(0.3);
  knobs.set_max_per_artist(1);
  RecommendResult r = MustAsk({}, 60, knobs);
  EXPECT_EQ(r.results.size(), 50u);
  EXPECT_EQ(per_artist(r), 1);
  knobs.clear_max_per_artist();
  r = MustAsk({}, 70, knobs);
  EXPECT_EQ(r.results.size(), 70u);
  EXPECT_LE(per_artist(r), 3);
  for (size_t i = 1; i < r.results.size(); ++i) {
    EXPECT_GE(r.results[i - 1].score, r.results[i].score);
  }
}

TEST_F(RecommenderTest, MmrSpreadsTheResults) {
  auto spread = [&](const RecommendResult& r) {
    std::vector<std::vector<float>> v;
    for (const Recommendation& x : r.results)
      v.push_back(snapshot().features().Transform(snapshot().track(x.position)));
    double sum = 0;
    int pairs = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      for (size_t j = i + 1; j < v.size(); ++j, ++pairs) {
        for (size_t d = 0; d < v[i].size(); ++d) sum += v[i][d] * v[j][d];
      }
    }
    return sum / pairs;
  };
  v1::RecommendOptions o;
  o.set_max_per_artist(0);
  const double plain = spread(MustAsk({14, 15}, 20, o));
  o.set_mmr_lambda(0.5);
  RecommendResult mmr = MustAsk({14, 15}, 20, o);
  EXPECT_EQ(mmr.results.size(), 20u);
  EXPECT_LT(spread(mmr), plain);
}

TEST_F(RecommenderTest, SeedsArtistsAndGenres) {
  const v1::Track& t = snapshot().track(100);
  v1::RecommendOptions o;
  o.add_seed_artists(t.artists(0).id());
  o.add_seed_genres("soul");
  o.add_seed_track_ids(snapshot().track(101).id());
  RecommendResult r = MustAsk({}, 10, o);
  ASSERT_EQ(r.results.size(), 10u);
  for (const Recommendation& x : r.results) {
    EXPECT_NE(x.position, 101);
    EXPECT_FALSE(x.explanation.closest_track_id().empty());
  }
  // By name too.
  v1::RecommendOptions by_name;
  by_name.add_seed_artists(t.artists(0).name());
  EXPECT_EQ(MustAsk({}, 10, by_name).results.size(), 10u);
}

TEST_F(RecommenderTest, ExplanationsNameTheClosestPlaylistTrack) {
  const std::vector<int64_t> playlist = {20, 21, 22, 23};
  v1::RecommendOptions o;
  o.set_strategy("best");
  RecommendResult r = MustAsk(playlist, 10, o);
  ASSERT_EQ(r.results.size(), 10u);
  for (const Recommendation& x : r.results) {
    const v1::Explanation& e = x.explanation;
    std::vector<float> v = snapshot().features().Transform(snapshot().track(x.position));
    float best = -2;
    std::string best_id;
    for (int64_t p : playlist) {
      std::vector<float> a = snapshot().features().Transform(snapshot().track(p));
      float dot = 0;
      for (size_t d = 0; d < v.size(); ++d) dot += v[d] * a[d];
      if (dot > best) {
        best = dot;
        best_id = snapshot().track(p).id();
      }
    }
    EXPECT_EQ(e.closest_track_id(), best_id);
    EXPECT_NEAR(e.closest_similarity(), best, 1e-4);
    EXPECT_NEAR(x.distance, 1 - best, 1e-4);
    EXPECT_EQ(e.features_size(), 3);
  }
}

// options.exact, true or unset (the default): on a coarse graph (M 4, breadth 10) that
// often misses, the answer of the same catalog scanned exhaustively (the trainer's
// --recommend_exhaustive_below), to the track and distance, once the snapshot's blocks
// are built; the graph's own answer (exact: false) differs somewhere, so the bounded scan
// is what makes them equal.
TEST_F(RecommenderTest, ExactIsTheExhaustiveScansAnswer) {
  const std::string root = *root_ + "-exact";
  std::vector<v1::Track> tracks = testing::SyntheticTracks(3000, 21);
  trainer::BuildOptions build;
  build.recommend_exhaustive_below = 1'000'000;
  ASSERT_TRUE(trainer::BuildSnapshot(tracks, {}, build, root, "000001").ok());
  build.recommend_exhaustive_below = 0;
  build.m = 4;
  build.ef_construction = 8;
  build.ef_search = 10;
  ASSERT_TRUE(trainer::BuildSnapshot(tracks, {}, build, root, "000002").ok());
  auto scanned = Snapshot::Load(root + "/000001");
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  auto coarse = Snapshot::Load(root + "/000002");
  ASSERT_TRUE(coarse.ok()) << coarse.status();
  ASSERT_TRUE((*scanned)->manifest().recommend_index().exhaustive());
  ASSERT_FALSE((*coarse)->manifest().recommend_index().exhaustive());
  ASSERT_NE((*coarse)->audio_blocks(),
            nullptr);  // waits: the default uses them once built
  EXPECT_EQ((*scanned)->audio_blocks(), nullptr);
  auto ask = [&](const Snapshot& s, const std::vector<int64_t>& playlist, int k,
                 const v1::RecommendOptions& options) {
    auto query = MakeRecommendQuery(s, playlist, k, options);
    EXPECT_TRUE(query.ok()) << query.status();
    auto result = query.ok() ? Recommend(s, *query)
                             : absl::StatusOr<RecommendResult>(query.status());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RecommendResult();
  };
  std::mt19937 rng(3);
  int graph_differs = 0;
  for (int q = 0; q < 20; ++q) {
    std::vector<int64_t> playlist;
    for (int n = 2 + q % 7; n > 0; --n) playlist.push_back(3 + rng() % 2990);
    for (int k : {10, 500}) {
      v1::RecommendOptions options;
      options.set_max_per_artist(0);
      const RecommendResult truth = ask(**scanned, playlist, k, options);
      const RecommendResult by_default = ask(**coarse, playlist, k, options);
      options.set_exact(true);
      const RecommendResult exact = ask(**coarse, playlist, k, options);
      options.set_exact(false);
      const RecommendResult graph = ask(**coarse, playlist, k, options);
      for (const RecommendResult* got : {&by_default, &exact}) {
        ASSERT_EQ(got->results.size(), truth.results.size());
        for (size_t i = 0; i < got->results.size(); ++i) {
          EXPECT_EQ(got->results[i].position, truth.results[i].position) << q << " " << i;
          EXPECT_EQ(got->results[i].distance, truth.results[i].distance);
        }
      }
      for (size_t i = 0; i < graph.results.size() && i < truth.results.size(); ++i) {
        if (graph.results[i].position != truth.results[i].position) {
          ++graph_differs;
          break;
        }
      }
    }
  }
  EXPECT_GT(graph_differs, 0);
  std::filesystem::remove_all(root);
}

TEST_F(RecommenderTest, BadKnobsAreInvalidArgumentNamingThem) {
  auto message = [&](const v1::RecommendOptions& o, absl::StatusCode code,
                     std::vector<int64_t> playlist = {0}) {
    auto r = Ask(std::move(playlist), 10, o);
    EXPECT_EQ(r.status().code(), code) << r.status();
    return std::string(r.status().message());
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  v1::RecommendOptions o;
  o.set_strategy("median");
  EXPECT_NE(message(o, kInvalid).find("options.strategy 'median'"), std::string::npos);
  o.Clear();
  o.add_targets()->set_feature("energetic");
  EXPECT_NE(message(o, kInvalid).find("target_energetic is not a knob"),
            std::string::npos);
  o.Clear();
  v1::FeatureTarget* t = o.add_targets();
  t->set_feature("energy");
  t->set_value(1.5);
  EXPECT_NE(message(o, kInvalid).find("target_energy = 1.5 is outside 0..1"),
            std::string::npos);
  t->set_value(0.5);
  *o.add_targets() = *t;
  EXPECT_NE(message(o, kInvalid).find("target_energy is given twice"), std::string::npos);
  o = Range("tempo", {}, -1);
  EXPECT_NE(message(o, kInvalid).find("max_tempo = -1"), std::string::npos);
  o = Range("loudness_db", 1, {});
  EXPECT_NE(message(o, kInvalid).find("'loudness_db'"), std::string::npos);
  o.Clear();
  o.set_max_per_artist(-1);
  EXPECT_NE(message(o, kInvalid).find("options.max_per_artist"), std::string::npos);
  o.Clear();
  o.set_mmr_lambda(2);
  EXPECT_NE(message(o, kInvalid).find("options.mmr_lambda"), std::string::npos);
  o.Clear();
  for (int i = 0; i < 6; ++i) o.add_seed_genres("pop");
  EXPECT_NE(message(o, kInvalid).find("6 seeds; at most 5"), std::string::npos);
  o.Clear();
  EXPECT_NE(message(o, kInvalid, {}).find("is required"), std::string::npos);
  o.add_seed_genres("polka");
  EXPECT_NE(message(o, absl::StatusCode::kNotFound).find("options.seed_genres[0]"),
            std::string::npos);
  o.Clear();
  o.add_seed_artists("Nobody At All");
  EXPECT_NE(message(o, absl::StatusCode::kNotFound).find("options.seed_artists[0]"),
            std::string::npos);
  o.Clear();
  o.add_negative_track_ids("0000000000000000000000");
  EXPECT_NE(message(o, absl::StatusCode::kNotFound).find("options.negative_track_ids[0]"),
            std::string::npos);
  // A playlist of tracks without audio features and no knob.
  EXPECT_NE(message(v1::RecommendOptions(), absl::StatusCode::kFailedPrecondition, {2})
                .find("audio features"),
            std::string::npos);
}

}  // namespace
}  // namespace cratedig::query
