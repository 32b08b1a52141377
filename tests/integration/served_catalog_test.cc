// queryd serving a trained catalog, checked against the prototype's semantics computed by
// brute force over the snapshot the trainer published, plus the status of every kind of
// bad input and the `cratedig` client's --json shapes and batch mode.
//
// Each test (its own ctest process) starts the three daemons, imports
// tests/testdata/tracks_sample.csv through `cratedig import` and hits_sample.csv through
// ingestd, trains, and waits until queryd serves the snapshot.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/text.h"
#include "query_service/snapshot.h"
#include "tests/integration/brute_force.h"
#include "tests/integration/cluster.h"

namespace cratedig::subprocess {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

constexpr int kCatalogTracks = 191 + 58;               // distinct ids of the two fixtures
constexpr char kLithium[] = "5vHLwhxxlGzmClMcxRRFPr";  // listed under alt-rock and grunge
// The same song (Hank Williams, "Rockin' Chair Money") under two ids.
constexpr char kRockinChairA[] = "2gzzLgdrVn8b45XJZzBsZW";
constexpr char kRockinChairB[] = "76ISgVglOIcgBYjK1fxmu4";
// "sex money feelings die", whose audio feature cells are empty in the fixture.
constexpr char kNoAudio[] = "0g4fzRkbLeCDUCoe5iUOcf";
constexpr char kUnknownId[] = "0000000000000000000000";

struct Served {
  std::unique_ptr<Cluster> cluster;
  std::shared_ptr<const query::Snapshot> snapshot;
  std::unique_ptr<BruteForce> brute;
};

absl::StatusOr<std::unique_ptr<Served>> StartServedCatalog() {
  auto served = std::make_unique<Served>();
  // The checks below recompute the prototype's preprocessing and recommendation exactly.
  ClusterOptions options;
  options.trainer_args = {"--prototype_features", "--cooccurrence_blend=0"};
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Start(options);
  if (!cluster.ok()) return cluster.status();
  served->cluster = *std::move(cluster);
  Cluster& c = *served->cluster;
  absl::StatusOr<CommandResult> import =
      c.Cli({"import", SourcePath("tests/testdata/tracks_sample.csv")});
  if (!import.ok()) return import.status();
  if (import->exit_code != 0)
    return absl::InternalError("cratedig import: " + import->err);
  v1::ImportFilesRequest files;
  files.add_paths(SourcePath("tests/testdata/hits_sample.csv"));
  v1::ImportFilesResponse imported;
  grpc::Status status = CallWithDeadline(
      [&](auto* ctx) { return c.importer().ImportFiles(ctx, files, &imported); });
  if (!status.ok()) return absl::InternalError("ImportFiles: " + status.error_message());
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(60));
  v1::TrainResponse trained;
  status = c.catalog().Train(&context, v1::TrainRequest(), &trained);
  if (!status.ok()) return absl::InternalError("Train: " + status.error_message());
  absl::StatusOr<v1::GetQueryStatusResponse> serving =
      c.WaitUntilServing(trained.snapshot_version());
  if (!serving.ok()) return serving.status();
  absl::StatusOr<std::shared_ptr<const query::Snapshot>> snapshot = query::Snapshot::Load(
      c.trainer_data_dir() + "/snapshots/" + trained.snapshot_version());
  if (!snapshot.ok()) return snapshot.status();
  served->snapshot = *std::move(snapshot);
  served->brute = std::make_unique<BruteForce>(*served->snapshot);
  return served;
}

class ServedCatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<Served>> served = StartServedCatalog();
    if (!served.ok()) {
      *setup_error_ = served.status().ToString();
      return;
    }
    served_ = served->release();
    std::cerr << "started, imported, trained and served in "
              << absl::FormatDuration(absl::Now() - start) << "\n";
  }
  static void TearDownTestSuite() {
    delete served_;
    served_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(served_, nullptr) << *setup_error_; }
  void TearDown() override {
    if (HasFailure() && served_ != nullptr) {
      served_->cluster->KeepDir();
      std::cerr << "daemon logs (directory " << served_->cluster->dir() << " kept):\n"
                << served_->cluster->Logs();
    }
  }

  Cluster& cluster() { return *served_->cluster; }
  const query::Snapshot& snapshot() { return *served_->snapshot; }
  const BruteForce& brute() { return *served_->brute; }
  v1::QueryService::Stub& queries() { return served_->cluster->queries(); }

  int64_t PositionOf(const std::string& id) {
    std::optional<int64_t> p = snapshot().Find(id);
    EXPECT_TRUE(p.has_value()) << id;
    return p.value_or(0);
  }

  grpc::Status Search(const std::string& query, int k, v1::SearchResponse* response) {
    v1::SearchRequest request;
    request.set_query(query);
    request.set_k(k);
    return CallWithDeadline(
        [&](auto* ctx) { return queries().Search(ctx, request, response); });
  }
  // Recommend with `strategy` (empty: the server's default).
  grpc::Status Recommend(const std::vector<std::string>& ids, int k,
                         v1::RecommendResponse* response,
                         const std::string& strategy = "") {
    v1::RecommendRequest request;
    for (const std::string& id : ids) request.add_track_ids(id);
    request.set_k(k);
    request.mutable_options()->set_strategy(strategy);
    return CallWithDeadline(
        [&](auto* ctx) { return queries().Recommend(ctx, request, response); });
  }
  grpc::Status Predict(const v1::PredictRequest& request, v1::PredictResponse* response) {
    return CallWithDeadline(
        [&](auto* ctx) { return queries().Predict(ctx, request, response); });
  }
  grpc::Status GetTracks(const std::vector<std::string>& ids,
                         v1::GetTracksResponse* response) {
    v1::GetTracksRequest request;
    for (const std::string& id : ids) request.add_track_ids(id);
    return CallWithDeadline(
        [&](auto* ctx) { return queries().GetTracks(ctx, request, response); });
  }

  // Checks the results against the exact ranking and that each result's track is the one
  // at its position.
  void ExpectExact(const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results,
                   const std::vector<Neighbor>& exact, int k) {
    std::vector<Returned> returned;
    for (const v1::ScoredTrack& r : results) {
      ASSERT_GE(r.position(), 0);
      ASSERT_LT(r.position(), snapshot().size());
      EXPECT_EQ(r.track().id(), snapshot().track(r.position()).id());
      returned.push_back({r.position(), r.distance()});
    }
    EXPECT_EQ(CompareWithExact(returned, exact, k), "");
  }

  // Checks Search results against the snapshot: k of them (or every indexed track), no
  // duplicate, only tracks representing their duplicate group, each with its exact
  // name-vector distance; the vector-only results nearest first; and the tracks whose
  // title (version suffix aside) has exactly the query's words first, all of them when k
  // allows.
  void ExpectSearch(const std::string& query,
                    const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& results,
                    int k) {
    absl::StatusOr<std::vector<Neighbor>> ranked = brute().RankForSearch(query);
    ASSERT_TRUE(ranked.ok()) << ranked.status();
    absl::flat_hash_map<int64_t, float> distance;
    for (const Neighbor& n : *ranked) distance[n.label] = n.distance;
    EXPECT_EQ(results.size(), std::min<int>(k, ranked->size()));
    absl::flat_hash_set<int64_t> seen;
    float last_vector_only = -1;
    const std::vector<std::string> words = *TextWords(query);
    std::vector<int64_t> whole_titles;
    for (int64_t p = 0; p < snapshot().size(); ++p) {
      if (snapshot().representative(p) != p) continue;
      std::vector<std::string> title = *TextWords(CoreTitle(snapshot().track(p).name()));
      if (absl::flat_hash_set<std::string>(title.begin(), title.end()) ==
          absl::flat_hash_set<std::string>(words.begin(), words.end())) {
        whole_titles.push_back(p);
      }
    }
    bool exact_part = true;
    for (int i = 0; i < results.size(); ++i) {
      const v1::ScoredTrack& r = results[i];
      SCOPED_TRACE(absl::StrCat("rank ", i, ": ", r.track().name()));
      ASSERT_TRUE(seen.insert(r.position()).second) << "returned twice";
      ASSERT_TRUE(distance.contains(r.position())) << "not an indexed track";
      EXPECT_EQ(r.track().id(), snapshot().track(r.position()).id());
      EXPECT_NEAR(r.distance(), distance[r.position()], 1e-4);
      EXPECT_NE(r.signal(), v1::SEARCH_SIGNAL_UNSPECIFIED);
      if (r.signal() == v1::SEARCH_SIGNAL_VECTOR) {
        EXPECT_GE(r.distance(), last_vector_only - 1e-5f);
        last_vector_only = r.distance();
        EXPECT_EQ(r.matched_fields_size(), 0);
      }
      if (!r.exact()) exact_part = false;
      EXPECT_TRUE(!r.exact() || exact_part) << "an exact match after an inexact one";
      const bool whole_title = std::find(whole_titles.begin(), whole_titles.end(),
                                         r.position()) != whole_titles.end();
      if (i < static_cast<int>(whole_titles.size())) {
        EXPECT_TRUE(whole_title) << "a title with exactly the query's words comes first";
      }
      if (whole_title) {
        EXPECT_TRUE(r.exact());
      }
    }
  }

  // Runs cratedig; expects exit code `code`.
  CommandResult Cli(const std::vector<std::string>& args, const std::string& input = "",
                    int code = 0) {
    absl::StatusOr<CommandResult> r = cluster().Cli(args, input);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    EXPECT_EQ(r->exit_code, code)
        << "cratedig " << absl::StrJoin(args, " ") << "\nstdout:\n"
        << r->out << "\nstderr:\n"
        << r->err;
    return *r;
  }

  static Served* served_;
  static std::string* setup_error_;
};

Served* ServedCatalogTest::served_ = nullptr;
std::string* ServedCatalogTest::setup_error_ = new std::string();

std::vector<std::string> Ids(
    const google::protobuf::RepeatedPtrField<v1::ScoredTrack>& r) {
  std::vector<std::string> ids;
  for (const v1::ScoredTrack& t : r) ids.push_back(t.track().id());
  return ids;
}

Json ParseJson(const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(json.is_discarded()) << "not JSON: " << text;
  return json;
}

std::vector<std::string> JsonIds(const Json& results) {
  std::vector<std::string> ids;
  for (const Json& r : results) ids.push_back(r.value("track_id", ""));
  return ids;
}

TEST_F(ServedCatalogTest, StatusShowsTheTrainedCatalog) {
  v1::GetQueryStatusResponse status;
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return queries().GetQueryStatus(ctx, v1::GetQueryStatusRequest(),
                                                &status);
              }).ok());
  EXPECT_EQ(status.snapshot_version(), snapshot().version());
  EXPECT_EQ(status.tracks(), kCatalogTracks);
  EXPECT_EQ(snapshot().size(), kCatalogTracks);
  EXPECT_EQ(snapshot().manifest().counts().search_indexed(),
            static_cast<int64_t>(brute().text_labels().size()));
  EXPECT_EQ(snapshot().manifest().counts().recommend_indexed(),
            static_cast<int64_t>(brute().audio_labels().size()));
}

// The comparison the brute-force checks rely on: it must refuse what it should refuse.
TEST(CompareWithExactTest, AllowsSwapsOnlyBetweenTiedDistances) {
  const std::vector<Neighbor> exact = {{7, 0.1f}, {3, 0.2f}, {5, 0.2f}, {1, 0.5f}};
  EXPECT_EQ(CompareWithExact({{7, 0.1f}, {3, 0.2f}, {5, 0.2f}}, exact, 3), "");
  EXPECT_EQ(CompareWithExact({{7, 0.1f}, {5, 0.2f}, {3, 0.2f}}, exact, 3), "");
  EXPECT_EQ(CompareWithExact({{7, 0.1f}, {5, 0.20005f}}, exact, 2), "");
  EXPECT_NE(CompareWithExact({{3, 0.2f}, {7, 0.1f}}, exact, 2), "");  // untied swap
  EXPECT_NE(CompareWithExact({{7, 0.1f}, {1, 0.2f}}, exact, 2), "");  // wrong track
  EXPECT_NE(CompareWithExact({{7, 0.1f}, {9, 0.2f}}, exact, 2), "");  // not eligible
  EXPECT_NE(CompareWithExact({{7, 0.1f}, {7, 0.1f}}, exact, 2), "");  // twice
  EXPECT_NE(CompareWithExact({{7, 0.1f}}, exact, 2), "");             // too few
  EXPECT_NE(CompareWithExact({{7, 0.1f}, {3, 0.3f}}, exact, 2), "");  // distance off
  EXPECT_EQ(CompareWithExact({{7, 0.1f}, {3, 0.2f}, {5, 0.2f}, {1, 0.5f}}, exact, 100),
            "");
}

// The snapshot's preprocessing is the prototype's: min-max scaling fitted on the tracks
// that represent their duplicate group and have every audio feature, the 1% genre cut,
// and vectors that are those rows normalised.
TEST_F(ServedCatalogTest, FeaturesFollowThePrototypesPreprocessing) {
  const v1::Preprocessing& p = snapshot().manifest().preprocessing();
  std::vector<std::string> names;
  for (const v1::ScaledColumn& c : p.columns()) names.push_back(c.name());
  EXPECT_THAT(names, ElementsAre("danceability", "key", "loudness", "mode", "speechiness",
                                 "acousticness", "instrumentalness", "liveness", "tempo",
                                 "recency_days"));
  std::vector<int64_t> fitted;
  for (int64_t i = 0; i < snapshot().size(); ++i) {
    const bool fit = snapshot().representative(i) == i &&
                     brute().HasCompleteAudio(snapshot().track(i));
    EXPECT_EQ(snapshot().recommendable(i), fit) << snapshot().track(i).id();
    if (fit) fitted.push_back(i);
  }
  ASSERT_FALSE(fitted.empty());
  for (int c = 0; c + 1 < p.columns_size(); ++c) {
    double lo = 1e300, hi = -1e300, sum = 0;
    for (int64_t i : fitted) {
      double x = *AudioValue(snapshot().track(i).audio_features(), p.columns(c).name());
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
    EXPECT_DOUBLE_EQ(p.columns(c).min(), lo) << p.columns(c).name();
    EXPECT_DOUBLE_EQ(p.columns(c).max(), hi) << p.columns(c).name();
    EXPECT_NEAR(p.columns(c).fill(), sum / fitted.size(), 1e-9 * (1 + std::fabs(hi)))
        << p.columns(c).name();
  }
  absl::flat_hash_map<std::string, int> holders;
  for (int64_t i : fitted) {
    absl::flat_hash_set<std::string> genres(snapshot().track(i).genres().begin(),
                                            snapshot().track(i).genres().end());
    for (const std::string& g : genres) ++holders[g];
  }
  std::vector<std::string> kept;
  for (const auto& [genre, n] : holders) {
    if (n >= p.min_genre_share() * fitted.size()) kept.push_back(genre);
  }
  EXPECT_DOUBLE_EQ(p.min_genre_share(), 0.01);
  EXPECT_THAT(p.genres(), ::testing::UnorderedElementsAreArray(kept));
  EXPECT_GT(p.genres_size(), 10);
  for (int64_t i : fitted) {
    std::vector<float> want = Normalized(brute().FeatureRow(snapshot().track(i)));
    std::vector<float> got = snapshot().features().Transform(snapshot().track(i));
    ASSERT_EQ(got.size(), want.size());
    for (size_t d = 0; d < got.size(); ++d) {
      ASSERT_NEAR(got[d], want[d], 1e-6)
          << snapshot().track(i).id() << " dimension " << d;
    }
  }
}

TEST_F(ServedCatalogTest, SearchAgreesWithTheSnapshot) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"money", 10},     {"Money", 20},          {"MONEY!!!", 5},
      {"love", 10},      {"love song", 15},      {"night", 10},
      {"fire", 5},       {"rain", 10},           {"heart", 10},
      {"dance", 10},     {"summer", 5},          {"girl", 10},
      {"blue", 5},       {"home", 10},           {"baby", 1},
      {"christmas", 20}, {"corazón", 10},        {"CORAZON", 10},
      {"amor", 10},      {"rockin chair", 5},    {"mony", 10},
      {"the", 10},       {"kids in america", 3}, {"you", 10000}};
  for (const auto& [query, k] : cases) {
    SCOPED_TRACE(absl::StrCat("query '", query, "' k=", k));
    v1::SearchResponse response;
    grpc::Status status = Search(query, k, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_EQ(response.snapshot_version(), snapshot().version());
    ExpectSearch(query, response.results(), k);
  }
  // A name query finds that name first.
  v1::SearchResponse money;
  ASSERT_TRUE(Search("money", 5, &money).ok());
  ASSERT_GT(money.results_size(), 0);
  EXPECT_THAT(absl::AsciiStrToLower(money.results(0).track().name()), HasSubstr("money"));
}

TEST_F(ServedCatalogTest, SearchReturnsOneTrackPerSongAndTracksWithoutAudio) {
  v1::SearchResponse response;
  ASSERT_TRUE(Search("Rockin' Chair Money", 10, &response).ok());
  std::vector<std::string> ids = Ids(response.results());
  const int copies = std::count(ids.begin(), ids.end(), kRockinChairA) +
                     std::count(ids.begin(), ids.end(), kRockinChairB);
  EXPECT_EQ(copies, 1) << "the song's two ids share one entry in the search index";
  for (const v1::ScoredTrack& r : response.results()) {
    EXPECT_EQ(snapshot().representative(r.position()), r.position()) << r.track().id();
  }
  ASSERT_TRUE(Search("sex money feelings die", 3, &response).ok());
  ASSERT_GT(response.results_size(), 0);
  EXPECT_EQ(response.results(0).track().id(), kNoAudio);
  EXPECT_NEAR(response.results(0).distance(), 0.0, 1e-4);
  EXPECT_FALSE(snapshot().recommendable(PositionOf(kNoAudio)));
}

TEST_F(ServedCatalogTest, RecommendMatchesBruteForce) {
  // Playlists of positions: seeded random ones, plus the edge cases.
  std::vector<int64_t> all;
  for (int64_t p = 0; p < snapshot().size(); ++p) {
    if (snapshot().track(p).id() != kNoAudio) all.push_back(p);
  }
  std::mt19937 random(20241126);
  std::vector<std::pair<std::vector<int64_t>, int>> cases;
  const std::vector<std::pair<int, int>> shapes = {{1, 10}, {2, 5},  {3, 20},   {5, 1},
                                                   {8, 50}, {4, 10}, {10, 100}, {20, 10}};
  for (const auto& [size, k] : shapes) {
    std::vector<int64_t> playlist;
    std::sample(all.begin(), all.end(), std::back_inserter(playlist), size, random);
    std::shuffle(playlist.begin(), playlist.end(), random);
    cases.push_back({playlist, k});
  }
  // A duplicate's id: its representative is excluded too.
  const int64_t a = PositionOf(kRockinChairA), b = PositionOf(kRockinChairB);
  cases.push_back({{snapshot().representative(a) == a ? b : a}, 10});
  // A track without audio features counts for exclusion only.
  cases.push_back({{PositionOf(kNoAudio), PositionOf(kLithium)}, 10});
  // More results than recommendable tracks: all of them.
  cases.push_back({{PositionOf(kLithium)}, 10000});

  for (const auto& [playlist, k] : cases) {
    SCOPED_TRACE(absl::StrCat("playlist {", absl::StrJoin(playlist, ","), "} k=", k));
    std::vector<std::string> ids;
    absl::flat_hash_set<int64_t> excluded;
    for (int64_t p : playlist) {
      ids.push_back(snapshot().track(p).id());
      excluded.insert(snapshot().representative(p));
    }
    v1::RecommendResponse response;
    // The prototype's strategy, which BruteForce ranks.
    grpc::Status status = Recommend(ids, k, &response, "centroid");
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_EQ(response.snapshot_version(), snapshot().version());
    absl::StatusOr<std::vector<Neighbor>> exact = brute().RankForRecommend(playlist);
    ASSERT_TRUE(exact.ok()) << exact.status();
    ExpectExact(response.results(), *exact, k);
    for (const v1::ScoredTrack& r : response.results()) {
      EXPECT_FALSE(excluded.contains(snapshot().representative(r.position())))
          << r.track().id() << " is (a duplicate of) a playlist track";
      EXPECT_TRUE(snapshot().recommendable(r.position())) << r.track().id();
    }
  }
}

// The default strategy, blend, by its definition: the max(k, 20) tracks nearest the
// playlist's mean and the 10 most popular tracks of each playlist track's artists, ranked
// by half the similarity to the mean, half the similarity to the nearest playlist track,
// plus 0.4 x the share of the playlist's tracks by the candidate's artist (no artist
// limit here, so that nothing else reorders them).
TEST_F(ServedCatalogTest, BlendRanksByItsDefinition) {
  // An artist's identity: its Spotify id, or its name when the source had none.
  auto key = [](const v1::ArtistRef& a) {
    return a.id().empty() ? "name:" + absl::AsciiStrToLower(a.name()) : a.id();
  };
  std::vector<int64_t> all;
  absl::flat_hash_map<std::string, std::vector<int64_t>> by_artist;
  for (int64_t p = 0; p < snapshot().size(); ++p) {
    const v1::Track& t = snapshot().track(p);
    if (!brute().HasCompleteAudio(t) || !snapshot().recommendable(p)) continue;
    all.push_back(p);
    if (t.artists_size() > 0) by_artist[key(t.artists(0))].push_back(p);
  }
  std::mt19937 random(20261127);
  std::vector<std::pair<std::vector<int64_t>, int>> cases;
  for (const auto& [size, k] :
       std::vector<std::pair<int, int>>{{1, 10}, {3, 5}, {6, 20}}) {
    std::vector<int64_t> playlist;
    std::sample(all.begin(), all.end(), std::back_inserter(playlist), size, random);
    cases.push_back({playlist, k});
  }
  // Two tracks of an artist with more in the catalog, and one other track: the artist's
  // other tracks get the affinity.
  const std::vector<int64_t>* prolific = nullptr;
  for (const auto& [artist, tracks] : by_artist) {
    if (tracks.size() >= 3 && (prolific == nullptr || tracks.size() > prolific->size()))
      prolific = &tracks;
  }
  ASSERT_NE(prolific, nullptr);
  cases.push_back({{(*prolific)[0], (*prolific)[1], all[all.size() / 2]}, 10});

  for (const auto& [playlist, k] : cases) {
    SCOPED_TRACE(absl::StrCat("playlist {", absl::StrJoin(playlist, ","), "} k=", k));
    v1::RecommendRequest request;
    for (int64_t p : playlist) request.add_track_ids(snapshot().track(p).id());
    request.set_k(k);
    request.mutable_options()->set_max_per_artist(0);  // strategy unset: the default
    v1::RecommendResponse response;
    grpc::Status status = CallWithDeadline(
        [&](auto* ctx) { return queries().Recommend(ctx, request, &response); });
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.strategy(), "blend");

    absl::StatusOr<std::vector<Neighbor>> nearest = brute().RankForRecommend(playlist);
    ASSERT_TRUE(nearest.ok()) << nearest.status();
    std::vector<std::vector<float>> anchors;
    absl::flat_hash_map<std::string, int> anchor_artists;
    std::vector<std::string> artists;  // in the playlist's order
    for (int64_t p : playlist) {
      anchors.push_back(Normalized(brute().FeatureRow(snapshot().track(p))));
      for (const v1::ArtistRef& a : snapshot().track(p).artists())
        if (anchor_artists[key(a)]++ == 0) artists.push_back(key(a));
    }
    // The candidates: the mean's nearest, then each artist's most popular (ties by
    // position) eligible tracks.
    absl::flat_hash_map<int64_t, float> distance;  // to the mean, of every eligible track
    for (const Neighbor& n : *nearest) distance[n.label] = n.distance;
    std::vector<int64_t> pool;
    absl::flat_hash_set<int64_t> in;
    for (size_t i = 0; i < nearest->size() && i < std::max<size_t>(k, 20); ++i) {
      pool.push_back((*nearest)[i].label);
      in.insert(pool.back());
    }
    for (const std::string& artist : artists) {
      std::vector<int64_t> tracks;
      for (int64_t p = 0; p < snapshot().size(); ++p) {
        if (!distance.contains(p) || in.contains(p)) continue;
        for (const v1::ArtistRef& a : snapshot().track(p).artists()) {
          if (key(a) == artist) {
            tracks.push_back(p);
            break;
          }
        }
      }
      auto popularity = [&](int64_t p) {
        const v1::Track& t = snapshot().track(p);
        return t.has_popularity() ? t.popularity() : -1;
      };
      std::stable_sort(tracks.begin(), tracks.end(), [&](int64_t a, int64_t b) {
        return popularity(a) > popularity(b);
      });
      for (size_t i = 0; i < tracks.size() && i < 10; ++i) {
        pool.push_back(tracks[i]);
        in.insert(tracks[i]);
      }
    }
    absl::flat_hash_map<int64_t, float> want;  // position -> relevance
    std::vector<float> ranked;
    for (int64_t p : pool) {
      const std::vector<float> v = Normalized(brute().FeatureRow(snapshot().track(p)));
      float closest = -1;
      for (const std::vector<float>& a : anchors) {
        float dot = 0;
        for (size_t d = 0; d < v.size(); ++d) dot += v[d] * a[d];
        closest = std::max(closest, dot);
      }
      int shared = 0;
      for (const v1::ArtistRef& a : snapshot().track(p).artists()) {
        if (auto it = anchor_artists.find(key(a)); it != anchor_artists.end())
          shared = std::max(shared, it->second);
      }
      const float relevance = 0.5f * (1 - std::max(0.0f, distance[p])) + 0.5f * closest +
                              0.4f * static_cast<float>(shared) / playlist.size();
      want[p] = relevance;
      ranked.push_back(relevance);
    }
    std::sort(ranked.rbegin(), ranked.rend());
    ASSERT_EQ(response.results_size(), k);
    for (int i = 0; i < k; ++i) {
      const v1::ScoredTrack& r = response.results(i);
      ASSERT_TRUE(want.contains(r.position()))
          << "rank " << i << ": " << r.track().id() << " is not a candidate";
      EXPECT_NEAR(r.score(), want[r.position()], 1e-4) << "rank " << i;
      EXPECT_NEAR(r.score(), ranked[i], 1e-4) << "rank " << i;
    }
    if (playlist.size() == 3 && playlist[0] == (*prolific)[0]) {
      EXPECT_EQ(key(response.results(0).track().artists(0)),
                key(snapshot().track(playlist[0]).artists(0)))
          << "two of three playlist tracks are by this artist";
    }
  }
}

TEST_F(ServedCatalogTest, RecommendFromTracksWithoutAudioFails) {
  v1::RecommendResponse response;
  grpc::Status status = Recommend({kNoAudio}, 10, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
}

TEST_F(ServedCatalogTest, GetTracksReturnsKnownAndReportsMissing) {
  v1::GetTracksResponse response;
  grpc::Status status =
      GetTracks({kLithium, kUnknownId, kRockinChairA, "not-an-id", kLithium}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.snapshot_version(), snapshot().version());
  EXPECT_THAT(Ids(response.tracks()), ElementsAre(kLithium, kRockinChairA, kLithium));
  EXPECT_THAT(response.missing_ids(), ElementsAre(kUnknownId, "not-an-id"));
  ASSERT_EQ(response.tracks_size(), 3);
  const v1::ScoredTrack& lithium = response.tracks(0);
  EXPECT_EQ(lithium.position(), PositionOf(kLithium));
  EXPECT_EQ(lithium.distance(), 0.0f);
  EXPECT_EQ(lithium.track().name(), "Lithium");
  ASSERT_EQ(lithium.track().artists_size(), 1);
  EXPECT_EQ(lithium.track().artists(0).name(), "Nirvana");
  EXPECT_THAT(lithium.track().genres(), UnorderedElementsAre("alt-rock", "grunge"))
      << "the two rows of the id are merged";
  EXPECT_EQ(lithium.track().popularity(), 73);
  EXPECT_TRUE(lithium.track().has_audio_features());

  ASSERT_TRUE(GetTracks({kUnknownId}, &response).ok());
  EXPECT_EQ(response.tracks_size(), 0);
  EXPECT_THAT(response.missing_ids(), ElementsAre(kUnknownId));
}

TEST_F(ServedCatalogTest, PredictCombinesSearchAndRecommend) {
  const std::vector<int64_t> positions = {3, 40, PositionOf(kLithium)};
  v1::PredictRequest request;
  request.set_search("money");
  request.add_playlist_positions(positions[0]);
  request.add_playlist_positions(positions[1]);
  request.add_playlist_track_ids(kLithium);
  request.set_search_neighbors(7);  // recommender_neighbors 0: the default, 10
  request.mutable_recommender_options()->set_strategy("centroid");
  v1::PredictResponse response;
  grpc::Status status = Predict(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.snapshot_version(), snapshot().version());
  ExpectSearch("money", response.search_results(), 7);
  absl::StatusOr<std::vector<Neighbor>> recommend = brute().RankForRecommend(positions);
  ASSERT_TRUE(recommend.ok());
  ExpectExact(response.recommender_results(), *recommend, 10);

  // The same answers as the separate RPCs.
  v1::SearchResponse searched;
  ASSERT_TRUE(Search("money", 7, &searched).ok());
  EXPECT_EQ(Ids(response.search_results()), Ids(searched.results()));
  v1::RecommendResponse recommended;
  ASSERT_TRUE(Recommend({snapshot().track(positions[0]).id(),
                         snapshot().track(positions[1]).id(), kLithium},
                        10, &recommended, "centroid")
                  .ok());
  EXPECT_EQ(Ids(response.recommender_results()), Ids(recommended.results()));

  // Search only, playlist only.
  v1::PredictRequest search_only;
  search_only.set_search("love");
  ASSERT_TRUE(Predict(search_only, &response).ok());
  EXPECT_EQ(response.search_results_size(), 10);
  EXPECT_EQ(response.recommender_results_size(), 0);
  v1::PredictRequest playlist_only;
  playlist_only.add_playlist_positions(positions[0]);
  playlist_only.set_recommender_neighbors(3);
  ASSERT_TRUE(Predict(playlist_only, &response).ok());
  EXPECT_EQ(response.search_results_size(), 0);
  EXPECT_EQ(response.recommender_results_size(), 3);
}

// One bad request and the status it must get.
struct BadCase {
  std::string name;
  std::function<grpc::Status()> call;
  grpc::StatusCode code;
};

TEST_F(ServedCatalogTest, BadInputGetsTheRightStatus) {
  v1::SearchResponse s;
  v1::RecommendResponse r;
  v1::GetTracksResponse g;
  v1::PredictResponse p;
  auto search = [&](std::string q, int k) {
    return [=, &s] { return Search(q, k, &s); };
  };
  auto recommend = [&](std::vector<std::string> ids, int k) {
    return [=, &r] { return Recommend(ids, k, &r); };
  };
  auto predict = [&](std::function<void(v1::PredictRequest*)> fill) {
    return [=, &p] {
      v1::PredictRequest request;
      fill(&request);
      return Predict(request, &p);
    };
  };
  std::string e_acute;
  for (int i = 0; i < 257; ++i) e_acute += "é";
  std::vector<std::string> many_ids(1001, kLithium);
  std::vector<std::string> too_many_lookups(10001, kLithium);
  using grpc::StatusCode;
  const std::vector<BadCase> cases = {
      {"search k=0", search("money", 0), StatusCode::INVALID_ARGUMENT},
      {"search k=-1", search("money", -1), StatusCode::INVALID_ARGUMENT},
      {"search k=10001", search("money", 10001), StatusCode::INVALID_ARGUMENT},
      {"search k=10000", search("money", 10000), StatusCode::OK},
      {"empty query", search("", 10), StatusCode::INVALID_ARGUMENT},
      {"letterless query", search("!!! ?? …", 10), StatusCode::INVALID_ARGUMENT},
      {"blank query", search("   ", 10), StatusCode::INVALID_ARGUMENT},
      {"257 characters", search(std::string(257, 'a'), 10), StatusCode::INVALID_ARGUMENT},
      {"256 characters", search(std::string(256, 'a'), 10), StatusCode::OK},
      {"256 two-byte characters", search(e_acute.substr(0, 512), 10), StatusCode::OK},
      {"257 two-byte characters", search(e_acute, 10), StatusCode::INVALID_ARGUMENT},
      {"empty playlist", recommend({}, 10), StatusCode::INVALID_ARGUMENT},
      {"recommend k=0", recommend({kLithium}, 0), StatusCode::INVALID_ARGUMENT},
      {"recommend k=10001", recommend({kLithium}, 10001), StatusCode::INVALID_ARGUMENT},
      {"malformed id", recommend({kLithium, "spotify:track:xyz"}, 10),
       StatusCode::INVALID_ARGUMENT},
      {"21-character id", recommend({std::string(kLithium).substr(1)}, 10),
       StatusCode::INVALID_ARGUMENT},
      {"unknown id", recommend({kLithium, kUnknownId}, 10), StatusCode::NOT_FOUND},
      {"1001 playlist tracks", recommend(many_ids, 10), StatusCode::INVALID_ARGUMENT},
      {"no ids to look up", [&] { return GetTracks({}, &g); },
       StatusCode::INVALID_ARGUMENT},
      {"10001 ids to look up", [&] { return GetTracks(too_many_lookups, &g); },
       StatusCode::INVALID_ARGUMENT},
      {"predict nothing", predict([](auto*) {}), StatusCode::INVALID_ARGUMENT},
      {"predict position -1",
       predict([](v1::PredictRequest* q) { q->add_playlist_positions(-1); }),
       StatusCode::INVALID_ARGUMENT},
      {"predict position past the end",
       predict([](v1::PredictRequest* q) { q->add_playlist_positions(kCatalogTracks); }),
       StatusCode::INVALID_ARGUMENT},
      {"predict unknown id",
       predict([](v1::PredictRequest* q) { q->add_playlist_track_ids(kUnknownId); }),
       StatusCode::NOT_FOUND},
      {"predict malformed id",
       predict([](v1::PredictRequest* q) { q->add_playlist_track_ids("abc"); }),
       StatusCode::INVALID_ARGUMENT},
      {"predict search_neighbors=10001", predict([](v1::PredictRequest* q) {
         q->set_search("money");
         q->set_search_neighbors(10001);
       }),
       StatusCode::INVALID_ARGUMENT},
      {"predict recommender_neighbors=-5", predict([](v1::PredictRequest* q) {
         q->add_playlist_positions(0);
         q->set_recommender_neighbors(-5);
       }),
       StatusCode::INVALID_ARGUMENT},
      {"predict letterless search",
       predict([](v1::PredictRequest* q) { q->set_search("..."); }),
       StatusCode::INVALID_ARGUMENT},
      {"predict 1001 playlist tracks", predict([](v1::PredictRequest* q) {
         for (int i = 0; i < 500; ++i) q->add_playlist_positions(0);
         for (int i = 0; i < 501; ++i) q->add_playlist_track_ids(kLithium);
       }),
       StatusCode::INVALID_ARGUMENT},
      // queryd takes requests of at most 4 MiB.
      {"5 MiB query", search(std::string(5 << 20, 'a'), 10),
       StatusCode::RESOURCE_EXHAUSTED},
  };
  for (const BadCase& c : cases) {
    grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << status.error_message();
    if (c.code != StatusCode::OK) {
      EXPECT_FALSE(status.error_message().empty()) << c.name;
    }
  }
}

// Invalid UTF-8 in a proto3 string field: protobuf 3.21 logs an error on the client but
// sends the bytes; the server's generated parser rejects the message before queryd's
// handler runs, and the daemon's interceptor turns gRPC's bare INTERNAL into
// INVALID_ARGUMENT. queryd keeps serving.
TEST_F(ServedCatalogTest, InvalidUtf8IsACleanError) {
  const std::string latin1 = "caf\xe9 \xff";
  v1::SearchResponse s;
  grpc::Status status = Search(latin1, 10, &s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));
  v1::PredictRequest predict;
  predict.set_search(latin1);
  v1::PredictResponse p;
  status = Predict(predict, &p);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));

  // The same bytes from a client that does not look at them (hand-encoded SearchRequest).
  grpc::GenericStub generic(cluster().query_channel());
  const std::string bytes = absl::StrCat(std::string(1, '\x0a'),
                                         std::string(1, static_cast<char>(latin1.size())),
                                         latin1, std::string("\x10\x05", 2));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext context;
  SetDeadline(&context);
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/cratedig.v1.QueryService/Search", grpc::StubOptions(),
                    &request, &response,
                    [&done](grpc::Status st) { done.set_value(st); });
  status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));

  CommandResult cli = Cli({"search", latin1}, "", 1);
  EXPECT_THAT(cli.err, HasSubstr("cratedig: search: INVALID_ARGUMENT"));

  // Still serving.
  ASSERT_TRUE(Search("money", 3, &s).ok());
  EXPECT_EQ(s.results_size(), 3);
  absl::StatusOr<Health> health = CheckHealth(cluster().query_channel(), "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(*health, Health::kServing);
}

TEST_F(ServedCatalogTest, CliJsonShapes) {
  Json status = ParseJson(Cli({"--json", "status"}).out);
  EXPECT_EQ(status,
            Json({{"snapshot", snapshot().version()}, {"tracks", kCatalogTracks}}));

  Json search = ParseJson(Cli({"--json", "--k=3", "search", "money"}).out);
  ASSERT_TRUE(search.is_object());
  ASSERT_EQ(search.size(), 1u);
  ASSERT_EQ(search["results"].size(), 3u);
  v1::SearchResponse searched;
  ASSERT_TRUE(Search("money", 3, &searched).ok());
  EXPECT_EQ(JsonIds(search["results"]), Ids(searched.results()));
  for (const Json& r : search["results"]) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : r.items()) keys.push_back(key);
    EXPECT_THAT(keys, UnorderedElementsAre("track_id", "track_name", "artists", "album",
                                           "genres", "distance", "relevance", "signal",
                                           "matched_fields", "typos", "prefix", "exact"));
    EXPECT_TRUE(r["track_name"].is_string());
    EXPECT_TRUE(r["artists"].is_array());
    EXPECT_TRUE(r["album"].is_string());
    EXPECT_TRUE(r["genres"].is_array());
    EXPECT_TRUE(r["distance"].is_number());
  }
  EXPECT_NEAR(search["results"][0]["distance"].get<double>(),
              searched.results(0).distance(), 1e-6);

  Json recommend = ParseJson(Cli({"--json", "--k=4", "recommend", kLithium}).out);
  v1::RecommendResponse recommended;
  ASSERT_TRUE(Recommend({kLithium}, 4, &recommended).ok());
  EXPECT_EQ(JsonIds(recommend["results"]), Ids(recommended.results()));

  // Ids as URIs and links; the details shape; missing ids.
  Json tracks =
      ParseJson(Cli({"--json", "tracks", absl::StrCat("spotify:track:", kLithium),
                     absl::StrCat("https://open.spotify.com/track/", kNoAudio, "?si=abc"),
                     kUnknownId})
                    .out);
  ASSERT_EQ(tracks["results"].size(), 2u);
  EXPECT_EQ(tracks["missing"], Json::array({kUnknownId}));
  const Json& lithium = tracks["results"][0];
  EXPECT_EQ(lithium["track_id"], kLithium);
  EXPECT_EQ(lithium["track_name"], "Lithium");
  EXPECT_EQ(lithium["artists"], Json::array({"Nirvana"}));
  EXPECT_EQ(lithium["popularity"], 73);
  EXPECT_TRUE(lithium["audio_features"].is_object());
  EXPECT_TRUE(lithium["audio_features"].contains("danceability"));
  EXPECT_TRUE(lithium["release_date"].is_null()) << "the fixture has no release dates";
  EXPECT_EQ(lithium["distance"], 0);
  EXPECT_TRUE(tracks["results"][1]["audio_features"].is_null());

  // predict REQUEST.json: the prototype's request shape.
  const std::string request_path = cluster().dir() + "/request.json";
  std::ofstream(request_path) << Json({{"search", "money"},
                                       {"playlist", {3, kLithium}},
                                       {"search_neighbors", 3},
                                       {"recommender_neighbors", 4}})
                                     .dump();
  Json predicted = ParseJson(Cli({"--json", "predict", request_path}).out);
  ASSERT_TRUE(predicted.is_object());
  EXPECT_EQ(predicted.size(), 3u);  // search_results, recommender_results, matched
  EXPECT_EQ(JsonIds(predicted["search_results"]), Ids(searched.results()));
  v1::PredictRequest request;
  request.set_search("money");
  request.add_playlist_positions(3);
  request.add_playlist_track_ids(kLithium);
  request.set_search_neighbors(3);
  request.set_recommender_neighbors(4);
  v1::PredictResponse response;
  ASSERT_TRUE(Predict(request, &response).ok());
  EXPECT_EQ(JsonIds(predicted["recommender_results"]),
            Ids(response.recommender_results()));
  EXPECT_EQ(predicted["recommender_results"].size(), 4u);

  // The human-readable forms.
  CommandResult human = Cli({"predict", request_path});
  EXPECT_THAT(human.out, HasSubstr("search results:"));
  EXPECT_THAT(human.out, HasSubstr("recommendations:"));
  EXPECT_THAT(human.out, HasSubstr(searched.results(0).track().name().substr(0, 20)));
  human = Cli({"status"});
  EXPECT_THAT(human.out,
              HasSubstr(absl::StrCat("serving snapshot ", snapshot().version())));
  Cli({"search"}, "", 2);  // usage error: no query
}

TEST_F(ServedCatalogTest, SearchPagesAndFiltersThroughTheCli) {
  // Pages: --offset=5 --k=5 is ranks 6..10 of k=10.
  v1::SearchResponse ten;
  ASSERT_TRUE(Search("love", 10, &ten).ok());
  ASSERT_EQ(ten.results_size(), 10);
  Json first = ParseJson(Cli({"--json", "--k=5", "search", "love"}).out);
  Json second = ParseJson(Cli({"--json", "--k=5", "--offset=5", "search", "love"}).out);
  std::vector<std::string> ids = Ids(ten.results());
  EXPECT_EQ(JsonIds(first["results"]),
            std::vector<std::string>(ids.begin(), ids.begin() + 5));
  EXPECT_EQ(JsonIds(second["results"]),
            std::vector<std::string>(ids.begin() + 5, ids.end()));

  // What found each result, as queryd said.
  for (int i = 0; i < 5; ++i) {
    const v1::ScoredTrack& r = ten.results(i);
    const Json& j = first["results"][i];
    const char* signal = r.signal() == v1::SEARCH_SIGNAL_LEXICAL  ? "lexical"
                         : r.signal() == v1::SEARCH_SIGNAL_VECTOR ? "vector"
                                                                  : "lexical+vector";
    EXPECT_EQ(j["signal"], signal);
    EXPECT_EQ(j["matched_fields"].size(), static_cast<size_t>(r.matched_fields_size()));
    EXPECT_EQ(j["typos"], r.typos());
    EXPECT_EQ(j["prefix"], r.prefix());
    EXPECT_EQ(j["exact"], r.exact());
    EXPECT_NEAR(j["relevance"].get<double>(), r.relevance(), 1e-5);
  }
  EXPECT_THAT(first["results"][0]["matched_fields"].dump(), HasSubstr("title"));

  // Filters: every result passes them, checked on the snapshot.
  Json fast = ParseJson(
      Cli({"--json", "--k=20", "search", "--min_tempo=120", "--explicit=false", "love"})
          .out);
  ASSERT_FALSE(fast["results"].empty());
  for (const Json& x : fast["results"]) {
    const v1::Track& t = snapshot().track(PositionOf(x["track_id"].get<std::string>()));
    EXPECT_GE(t.audio_features().tempo(), 120) << x.dump();
    EXPECT_FALSE(t.explicit_()) << x.dump();
  }
  const std::string genre = snapshot().track(PositionOf(kLithium)).genres(0);
  Json genre_only =
      ParseJson(Cli({"--json", "--k=50", "--genre=" + genre, "search", "love"}).out);
  ASSERT_FALSE(genre_only["results"].empty());
  for (const Json& x : genre_only["results"]) {
    EXPECT_THAT(x["genres"].dump(), HasSubstr(genre)) << x.dump();
  }
  // Released in a year no track of the fixture has: nothing.
  Json none = ParseJson(Cli({"--json", "--year_min=2000", "search", "love"}).out);
  EXPECT_TRUE(none["results"].empty()) << none.dump();

  // Bad paging and filters: INVALID_ARGUMENT from queryd naming the field.
  CommandResult bad = Cli({"search", "--offset=-1", "love"}, "", 1);
  EXPECT_THAT(bad.err, HasSubstr("offset"));
  bad = Cli({"search", "--min_energy=2", "love"}, "", 1);
  EXPECT_THAT(bad.err, HasSubstr("energy"));
}

TEST_F(ServedCatalogTest, RecommendKnobsThroughQuerydAndTheCli) {
  // Brute force over the served snapshot: recommendable tracks with tempo >= 100.
  auto tempo_at_least = [&](double bpm, int64_t excluded) {
    std::set<std::string> ids;
    for (int64_t i = 0; i < snapshot().size(); ++i) {
      const v1::Track& t = snapshot().track(i);
      if (snapshot().recommendable(i) && i != excluded &&
          t.audio_features().tempo() >= bpm)
        ids.insert(t.id());
    }
    return ids;
  };
  const std::set<std::string> fast = tempo_at_least(100, PositionOf(kLithium));
  ASSERT_GT(fast.size(), 10u);
  Json r =
      ParseJson(Cli({"--json", "--k=8", "recommend", "--target_energy=0.9",
                     "--min_tempo=100", "--max_per_artist=1", "--strategy=rrf", kLithium})
                    .out);
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["matched"], fast.size());
  EXPECT_EQ(r["strategy"], "rrf");
  ASSERT_EQ(r["results"].size(), 8u);
  std::set<std::string> artists;
  for (const Json& x : r["results"]) {
    EXPECT_TRUE(fast.count(x["track_id"].get<std::string>())) << x.dump();
    for (const char* key :
         {"release_date", "genres", "artists", "explanation", "score"}) {
      EXPECT_TRUE(x.contains(key)) << key;
    }
    EXPECT_EQ(x["explanation"]["closest_track_id"], kLithium);
    EXPECT_EQ(x["explanation"]["features"][0]["feature"], "energy");
    EXPECT_TRUE(artists.insert(x["artists"][0].get<std::string>()).second)
        << "max_per_artist=1 broken by " << x.dump();
  }

  // Knobs alone, every match returned.
  Json seedless = ParseJson(
      Cli({"--json", "--k=1000", "recommend", "--min_tempo=100", "--max_per_artist=0"})
          .out);
  std::set<std::string> got;
  for (const Json& x : seedless["results"]) got.insert(x["track_id"].get<std::string>());
  EXPECT_EQ(got, tempo_at_least(100, -1));

  // Bad knobs: INVALID_ARGUMENT from queryd naming them; a value that is no number is a
  // usage error.
  CommandResult bad = Cli({"recommend", "--target_loudnes=-5", kLithium}, "", 1);
  EXPECT_THAT(bad.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(bad.err, HasSubstr("target_loudnes"));
  bad = Cli({"recommend", "--min_energy=2", kLithium}, "", 1);
  EXPECT_THAT(bad.err, HasSubstr("min_energy = 2 is outside 0..1"));
  bad = Cli({"recommend", "--target_energy=high", kLithium}, "", 2);
  EXPECT_THAT(bad.err, HasSubstr("invalid value 'high' for --target_energy"));

  // The same knobs in Predict's request file.
  const std::string request_path = cluster().dir() + "/knobs.json";
  std::ofstream(request_path) << Json({{"playlist", {kLithium}},
                                       {"recommender_neighbors", 5},
                                       {"min_tempo", 100},
                                       {"target_energy", 0.9}})
                                     .dump();
  Json predicted = ParseJson(Cli({"--json", "predict", request_path}).out);
  EXPECT_EQ(predicted["recommender_matched"], fast.size());
  ASSERT_EQ(predicted["recommender_results"].size(), 5u);
  for (const Json& x : predicted["recommender_results"]) {
    EXPECT_TRUE(fast.count(x["track_id"].get<std::string>())) << x.dump();
  }
}

TEST_F(ServedCatalogTest, CliBatchModeAnswersOneJsonLinePerInputLine) {
  CommandResult batch = Cli({"--k=2", "search", "-"}, "money\nlove\n\n!!!\r\nrain\n", 1);
  std::vector<std::string> lines = absl::StrSplit(batch.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << batch.out;
  const std::vector<std::string> queries = {"money", "love", "rain"};
  for (size_t i = 0; i < lines.size(); ++i) {
    Json line = ParseJson(lines[i]);
    v1::SearchResponse searched;
    ASSERT_TRUE(Search(queries[i], 2, &searched).ok());
    EXPECT_EQ(JsonIds(line["results"]), Ids(searched.results())) << queries[i];
  }
  EXPECT_THAT(batch.err, HasSubstr("line 4"));
  EXPECT_THAT(batch.err, HasSubstr("INVALID_ARGUMENT"));

  batch =
      Cli({"tracks", "-"}, absl::StrCat(kLithium, " ", kUnknownId, "\n", kNoAudio, "\n"));
  lines = absl::StrSplit(batch.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << batch.out;
  Json first = ParseJson(lines[0]);
  EXPECT_EQ(JsonIds(first["results"]), std::vector<std::string>{kLithium});
  EXPECT_EQ(first["missing"], Json::array({kUnknownId}));
  EXPECT_EQ(JsonIds(ParseJson(lines[1])["results"]), std::vector<std::string>{kNoAudio});

  batch = Cli({"--k=3", "recommend", "-"},
              absl::StrCat(kLithium, "\n", kRockinChairA, " ", kLithium, "\n"));
  lines = absl::StrSplit(batch.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << batch.out;
  v1::RecommendResponse recommended;
  ASSERT_TRUE(Recommend({kRockinChairA, kLithium}, 3, &recommended).ok());
  EXPECT_EQ(JsonIds(ParseJson(lines[1])["results"]), Ids(recommended.results()));
}

}  // namespace
}  // namespace cratedig::subprocess
