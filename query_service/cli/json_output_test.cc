#include "query_service/cli/json_output.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cratedig::cli {
namespace {

std::vector<std::string> Keys(const Json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
  return keys;
}

v1::ScoredTrack BareTrack() {
  v1::ScoredTrack result;
  v1::Track* track = result.mutable_track();
  track->set_id("4uLU6hMCjMI75M1A2tKUQC");
  track->set_name("Money");
  track->add_artists()->set_name("Pink Floyd");
  track->add_artists()->set_name("Roger Waters");
  track->add_genres("art rock");
  result.set_distance(0.25f);
  return result;
}

v1::ScoredTrack FullTrack() {
  v1::ScoredTrack result = BareTrack();
  v1::Track* track = result.mutable_track();
  track->mutable_album()->set_name("The Dark Side of the Moon");
  v1::ReleaseDate* date = track->mutable_album()->mutable_release_date();
  date->set_year(1973);
  date->set_month(3);
  date->set_precision(v1::RELEASE_DATE_PRECISION_MONTH);
  track->set_popularity(0);
  track->mutable_audio_features()->set_danceability(0.5);
  track->mutable_audio_features()->set_key(0);
  return result;
}

TEST(JsonOutputTest, ResultHasExactlyTheSearchKeys) {
  Json json = ResultToJson(BareTrack());
  EXPECT_EQ(Keys(json), (std::vector<std::string>{"track_id", "track_name", "artists",
                                                  "album", "genres", "distance"}));
  EXPECT_EQ(DumpJson(json),
            R"({"track_id":"4uLU6hMCjMI75M1A2tKUQC","track_name":"Money",)"
            R"("artists":["Pink Floyd","Roger Waters"],"album":"","genres":["art rock"],)"
            R"("distance":0.25})");
}

TEST(JsonOutputTest, TrackDetailsWithEverything) {
  Json json = TrackDetailsToJson(FullTrack());
  EXPECT_EQ(Keys(json), (std::vector<std::string>{
                            "track_id", "track_name", "artists", "album", "genres",
                            "distance", "audio_features", "release_date", "popularity"}));
  EXPECT_EQ(json["album"], "The Dark Side of the Moon");
  EXPECT_EQ(DumpJson(json["audio_features"]), R"({"danceability":0.5,"key":0})");
  EXPECT_EQ(json["release_date"], "1973-03");
  EXPECT_EQ(DumpJson(json["popularity"]), "0");
}

TEST(JsonOutputTest, TrackDetailsWithoutOptionalFieldsAreNull) {
  Json json = TrackDetailsToJson(BareTrack());
  EXPECT_EQ(Keys(json), (std::vector<std::string>{
                            "track_id", "track_name", "artists", "album", "genres",
                            "distance", "audio_features", "release_date", "popularity"}));
  EXPECT_TRUE(json["audio_features"].is_null());
  EXPECT_TRUE(json["release_date"].is_null());
  EXPECT_TRUE(json["popularity"].is_null());
}

TEST(JsonOutputTest, EmptyAudioFeaturesMessageIsNull) {
  v1::Track track;
  track.mutable_audio_features();
  EXPECT_TRUE(AudioFeaturesToJson(track).is_null());
}

TEST(JsonOutputTest, ReleaseDatePrecision) {
  v1::ReleaseDate date;
  EXPECT_FALSE(FormatReleaseDate(date).has_value());
  date.set_year(1999);
  date.set_month(7);
  date.set_day(4);
  date.set_precision(v1::RELEASE_DATE_PRECISION_YEAR);
  EXPECT_EQ(FormatReleaseDate(date), "1999");
  date.set_precision(v1::RELEASE_DATE_PRECISION_MONTH);
  EXPECT_EQ(FormatReleaseDate(date), "1999-07");
  date.set_precision(v1::RELEASE_DATE_PRECISION_DAY);
  EXPECT_EQ(FormatReleaseDate(date), "1999-07-04");
  date.set_precision(v1::RELEASE_DATE_PRECISION_UNSPECIFIED);
  EXPECT_EQ(FormatReleaseDate(date), "1999-07-04");
}

TEST(JsonOutputTest, DistanceUsesTheFloatsShortestForm) {
  EXPECT_EQ(DumpJson(DistanceToJson(0.1f)), "0.1");
  EXPECT_EQ(DumpJson(DistanceToJson(0.0f)), "0.0");
  EXPECT_EQ(DumpJson(DistanceToJson(1.2345678f)), "1.2345678");
}

TEST(JsonOutputTest, DumpKeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(DumpJson(Json("Sigur Rós")), "\"Sigur Rós\"");
  EXPECT_EQ(DumpJson(Json(std::string("a\xff"
                                      "b"))),
            "\"a\xEF\xBF\xBD"
            "b\"");
}

TEST(JsonOutputTest, TopLevelShapes) {
  v1::GetQueryStatusResponse status;
  status.set_snapshot_version("000003");
  status.set_tracks(42);
  EXPECT_EQ(DumpJson(QueryStatusToJson(status)), R"({"snapshot":"000003","tracks":42})");

  v1::TrainResponse train;
  train.set_snapshot_version("000003");
  train.set_tracks(42);
  train.set_build_ms(1500);
  EXPECT_EQ(DumpJson(TrainResponseToJson(train)),
            R"({"snapshot":"000003","tracks":42,"build_ms":1500})");

  v1::GetTracksResponse tracks;
  *tracks.add_tracks() = FullTrack();
  tracks.add_missing_ids("0000000000000000000000");
  Json tracks_json = GetTracksResponseToJson(tracks);
  EXPECT_EQ(Keys(tracks_json), (std::vector<std::string>{"results", "missing"}));
  EXPECT_EQ(tracks_json["results"][0]["release_date"], "1973-03");
  EXPECT_EQ(DumpJson(tracks_json["missing"]), R"(["0000000000000000000000"])");

  v1::PredictResponse predict;
  *predict.add_recommender_results() = BareTrack();
  Json predict_json = PredictResponseToJson(predict);
  EXPECT_EQ(Keys(predict_json),
            (std::vector<std::string>{"search_results", "recommender_results",
                                      "recommender_matched"}));
  EXPECT_EQ(predict_json["search_results"], Json::array());
  EXPECT_EQ(predict_json["recommender_results"][0], RecommendationToJson(BareTrack()));

  v1::RecommendResponse recommend;
  recommend.set_matched(7);
  recommend.set_strategy("rrf");
  EXPECT_EQ(DumpJson(RecommendResponseToJson(recommend)),
            R"({"results":[],"matched":7,"strategy":"rrf"})");

  v1::SearchResponse search;
  EXPECT_EQ(DumpJson(SearchResponseToJson(search)), R"({"results":[]})");
}

TEST(JsonOutputTest, RecommendationAddsDetailsAndTheExplanation) {
  v1::ScoredTrack result = FullTrack();
  result.set_score(0.5f);
  v1::Explanation* e = result.mutable_explanation();
  e->set_closest_track_id("4uLU6hMCjMI75M1A2tKUQC");
  e->set_closest_track_name("Money");
  e->set_closest_similarity(0.25f);
  v1::FeatureMatch* m = e->add_features();
  m->set_feature("energy");
  m->set_value(0.75);
  m->set_reference(0.8);
  m->set_is_target(true);
  e->add_shared_genres("rock");
  Json json = RecommendationToJson(result);
  std::vector<std::string> keys = Keys(json);
  std::vector<std::string> search_keys = Keys(ResultToJson(result));
  ASSERT_GE(keys.size(), search_keys.size());
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + search_keys.size()),
            search_keys);
  EXPECT_EQ(json["release_date"], "1973-03");
  EXPECT_EQ(json["score"], 0.5);
  EXPECT_EQ(
      DumpJson(json["explanation"]),
      R"({"closest_track_id":"4uLU6hMCjMI75M1A2tKUQC","closest_track_name":"Money",)"
      R"("similarity":0.25,"features":[{"feature":"energy","value":0.75,)"
      R"("reference":0.8,"target":true}],"shared_genres":["rock"]})");
  // Knobs alone: no closest track.
  Json bare = RecommendationToJson(BareTrack());
  EXPECT_TRUE(bare["explanation"]["closest_track_id"].is_null());
  EXPECT_TRUE(bare["release_date"].is_null());
}

TEST(JsonOutputTest, ImportSummaryUsesProtoFieldNames) {
  v1::ImportSummary summary;
  summary.set_rows_read(3);
  summary.set_tracks_inserted(1);
  summary.set_rows_skipped(1);
  v1::RowError* error = summary.add_errors();
  error->set_file("a.csv");
  error->set_line(2);
  error->set_column(5);
  error->set_message("bad tempo");
  EXPECT_EQ(DumpJson(ImportSummaryToJson(summary)),
            R"({"rows_read":3,"tracks_inserted":1,"tracks_updated":0,)"
            R"("tracks_unchanged":0,"artists_upserted":0,"rows_skipped":1,)"
            R"("errors":[{"file":"a.csv","line":2,"column":5,"message":"bad tempo"}],)"
            R"("playlists_upserted":0})");
}

}  // namespace
}  // namespace cratedig::cli
