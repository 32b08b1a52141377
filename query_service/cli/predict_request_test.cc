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
