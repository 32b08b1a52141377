#include "query_service/cli/predict_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_cat.h"

namespace cratedig::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kId[] = "4uLU6hMCjMI75M1A2tKUQC";

TEST(PredictRequestTest, ParsesThePrototypesRequest) {
  absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(
      R"({"search": "money", "playlist": [509, 637], "search_neighbors": 20,
          "recommender_neighbors": 10000})",
      "req.json");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->search(), "money");
  EXPECT_THAT(request->playlist_positions(), ElementsAre(509, 637));
  EXPECT_TRUE(request->playlist_track_ids().empty());
  EXPECT_EQ(request->search_neighbors(), 20);
  EXPECT_EQ(request->recommender_neighbors(), 10000);
}

TEST(PredictRequestTest, ParsesTheRecommendationKnobs) {
  absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(
      absl::StrCat(
          R"({"playlist": [1], "strategy": "rrf", "negatives": ["spotify:track:)", kId,
          R"("], "seed_artists": ["Nirvana"], "seed_genres": ["grunge"],
          "genres": ["rock", "pop"], "year_min": 1990, "year_max": 1999, "explicit": false,
          "exclude_artists": ["Bush"], "max_per_artist": 2, "mmr_lambda": 0.5, "exact": true,
          "target_energy": 0.8, "min_tempo": 120, "max_tempo": 140, "target_foo": 1,
          "unrelated": "ignored"})"),
      "req.json");
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::RecommendOptions& o = request->recommender_options();
  EXPECT_EQ(o.strategy(), "rrf");
  EXPECT_THAT(o.negative_track_ids(), ElementsAre(kId));
  EXPECT_THAT(o.seed_artists(), ElementsAre("Nirvana"));
  EXPECT_THAT(o.seed_genres(), ElementsAre("grunge"));
  EXPECT_THAT(o.filter().genres(), ElementsAre("rock", "pop"));
  EXPECT_EQ(o.filter().year_min(), 1990);
  EXPECT_EQ(o.filter().year_max(), 1999);
  EXPECT_TRUE(o.filter().has_explicit_());
  EXPECT_FALSE(o.filter().explicit_());
  EXPECT_THAT(o.filter().exclude_artists(), ElementsAre("Bush"));
  EXPECT_EQ(o.max_per_artist(), 2);
  EXPECT_EQ(o.mmr_lambda(), 0.5);
  EXPECT_TRUE(o.exact());
  ASSERT_EQ(o.targets_size(), 2);  // target_foo goes to the daemon, which names it.
  EXPECT_EQ(o.targets(0).feature(), "energy");
  EXPECT_EQ(o.targets(0).value(), 0.8);
  EXPECT_EQ(o.targets(1).feature(), "foo");
  ASSERT_EQ(o.filter().features_size(), 1);
  EXPECT_EQ(o.filter().features(0).feature(), "tempo");
  EXPECT_EQ(o.filter().features(0).min(), 120);
  EXPECT_EQ(o.filter().features(0).max(), 140);

  auto bad = ParsePredictRequest(R"({"target_energy": "high"})", "req.json");
  EXPECT_EQ(bad.status().message(), "req.json: \"target_energy\" must be a number");
  bad = ParsePredictRequest(R"({"genres": "rock"})", "req.json");
  EXPECT_EQ(bad.status().message(), "req.json: \"genres\" must be an array of strings");
  // Without recommendation keys the options stay empty.
  auto plain = ParsePredictRequest(R"({"playlist": [1]})", "req.json");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_recommender_options());
}

TEST(PredictRequestTest, StringsAreTrackIdsAndIntegersPositions) {
  absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(
      absl::StrCat(R"({"playlist": [")", kId, R"(", 3, "spotify:track:)", kId,
                   R"(", "not-an-id", -1]})"),
      "req.json");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->playlist_positions(), ElementsAre(3, -1));
  EXPECT_THAT(request->playlist_track_ids(), ElementsAre(kId, kId, "not-an-id"));
}

TEST(PredictRequestTest, MissingAndNullKeysKeepDefaults) {
  for (const char* text :
       {"{}", R"({"search": null, "playlist": null, "extra": [1.5]})"}) {
    absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(text, "req.json");
    ASSERT_TRUE(request.ok()) << request.status();
    EXPECT_EQ(request->ByteSizeLong(), 0u) << text;
  }
}

TEST(PredictRequestTest, BadPlaylistItemNamesItsIndex) {
  for (const char* item : {"1.5", "true", "null", "[1]", "{}", "18446744073709551615"}) {
    absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(
        absl::StrCat(R"({"playlist": [1, "x", )", item, "]}"), "req.json");
    ASSERT_FALSE(request.ok()) << item;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(request.status().message(),
              R"(req.json: "playlist"[2] must be a track position or a Spotify id)");
  }
}

TEST(PredictRequestTest, BadFieldTypesNameTheField) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"search": 5})", R"(r.json: "search" must be a string)"},
           Case{R"({"playlist": "x"})", R"(r.json: "playlist" must be an array)"},
           Case{R"({"search_neighbors": "20"})",
                R"(r.json: "search_neighbors" must be an integer)"},
           Case{R"({"recommender_neighbors": 1e3})",
                R"(r.json: "recommender_neighbors" must be an integer)"},
           Case{R"({"search_neighbors": 3000000000})",
                R"(r.json: "search_neighbors" must be an integer)"},
           Case{"[1, 2]", "r.json: the request must be a JSON object"},
       }) {
    absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(c.text, "r.json");
    ASSERT_FALSE(request.ok()) << c.text;
    EXPECT_EQ(request.status().message(), c.message);
  }
}

TEST(PredictRequestTest, MalformedJsonReportsTheParserPosition) {
  absl::StatusOr<v1::PredictRequest> request =
      ParsePredictRequest("{\"search\": \"money\",\n \"playlist\": [1,, 2]}", "r.json");
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("r.json: invalid JSON: "));
  EXPECT_THAT(request.status().message(), HasSubstr("line 2, column 17"));
  EXPECT_THAT(request.status().message(), Not(HasSubstr("[json.exception")));

  EXPECT_FALSE(ParsePredictRequest("", "r.json").ok());
}

// Found by tests/fuzz (predict_request): nlohmann throws out_of_range, not parse_error,
// for a number beyond a double, and the client died of the uncaught exception.
TEST(PredictRequestTest, NumberBeyondADoubleIsAnError) {
  for (const char* text : {R"({"search_neighbors": 8e8888})", R"({"playlist": [1e999]})",
                           R"({"search":8e8888`888{"s8888.88888,)"}) {
    absl::StatusOr<v1::PredictRequest> request = ParsePredictRequest(text, "r.json");
    ASSERT_FALSE(request.ok()) << text;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(request.status().message(), HasSubstr("r.json: invalid JSON: "));
    EXPECT_THAT(request.status().message(), Not(HasSubstr("[json.exception")));
  }
}

TEST(PredictRequestTest, ReadsStdinForDash) {
  std::istringstream in(R"({"search": "x"})");
  absl::StatusOr<std::string> text = ReadRequestFile("-", in);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"search": "x"})");
}

TEST(PredictRequestTest, MissingFileIsNotFound) {
  std::istringstream in;
  absl::StatusOr<std::string> text = ReadRequestFile("/nonexistent/req.json", in);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(text.status().message(), HasSubstr("cannot open /nonexistent/req.json"));
}

}  // namespace
}  // namespace cratedig::cli
