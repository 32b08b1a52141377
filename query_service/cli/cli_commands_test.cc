// Runs the `cratedig` commands in-process against fake QueryService and CatalogService
// servers on 127.0.0.1:0.

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "query_service/cli/cli.h"

namespace cratedig::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kId[] = "4uLU6hMCjMI75M1A2tKUQC";

void AddResult(const std::string& id, const std::string& name, float distance,
               v1::ScoredTrack* result) {
  result->mutable_track()->set_id(id);
  result->mutable_track()->set_name(name);
  result->mutable_track()->add_artists()->set_name("Pink Floyd");
  result->set_distance(distance);
}

// Answers like queryd with canned data; records the ids it was sent.
class FakeQueryService final : public v1::QueryService::Service {
 public:
  grpc::Status Search(grpc::ServerContext*, const v1::SearchRequest* request,
                      v1::SearchResponse* response) override {
    if (request->k() > 10000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "k must be at most 10000");
    }
    if (request->query() == "fail") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "query is bad");
    }
    last_search_ = *request;
    v1::ScoredTrack* result = response->add_results();
    AddResult(kId, request->query(), 0.5f, result);
    result->set_relevance(2.25f);
    result->set_signal(v1::SEARCH_SIGNAL_LEXICAL_AND_VECTOR);
    result->add_matched_fields(v1::SEARCH_FIELD_TITLE);
    result->add_matched_fields(v1::SEARCH_FIELD_ARTIST);
    result->set_typos(1);
    return grpc::Status::OK;
  }

  grpc::Status Recommend(grpc::ServerContext*, const v1::RecommendRequest* request,
                         v1::RecommendResponse* response) override {
    last_recommend_ = *request;
    for (const std::string& id : request->track_ids()) {
      AddResult(id, "seed", 0.0f, response->add_results());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetTracks(grpc::ServerContext*, const v1::GetTracksRequest* request,
                         v1::GetTracksResponse* response) override {
    for (const std::string& id : request->track_ids()) {
      if (id == kId) {
        AddResult(id, "Money", 0.0f, response->add_tracks());
      } else {
        response->add_missing_ids(id);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Predict(grpc::ServerContext*, const v1::PredictRequest* request,
                       v1::PredictResponse* response) override {
    AddResult(kId, request->search(), 0.25f, response->add_search_results());
    for (int64_t position : request->playlist_positions()) {
      AddResult(kId, absl::StrCat(position), 0.75f, response->add_recommender_results());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetQueryStatus(grpc::ServerContext*, const v1::GetQueryStatusRequest*,
                              v1::GetQueryStatusResponse* response) override {
    if (loaded_) {
      response->set_snapshot_version("000003");
      response->set_tracks(42);
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "no index snapshot loaded yet; retry later");
  }

  void set_loaded(bool loaded) { loaded_ = loaded; }
  const v1::RecommendRequest& last_recommend() const { return last_recommend_; }
  const v1::SearchRequest& last_search() const { return last_search_; }

 private:
  bool loaded_ = true;
  v1::RecommendRequest last_recommend_;
  v1::SearchRequest last_search_;
};

class FakeCatalogService final : public v1::CatalogService::Service {
 public:
  // Acknowledges every batch, counting its tracks as inserted.
  grpc::Status IngestCatalog(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::IngestCatalogResponse, v1::IngestCatalogRequest>*
          stream) override {
    v1::IngestCatalogRequest request;
    while (stream->Read(&request)) {
      v1::IngestCatalogResponse ack;
      ack.set_batch_id(request.batch_id());
      ack.set_tracks_inserted(request.tracks_size());
      stream->Write(ack);
    }
    return grpc::Status::OK;
  }

  grpc::Status Train(grpc::ServerContext*, const v1::TrainRequest*,
                     v1::TrainResponse* response) override {
    response->set_snapshot_version("000003");
    response->set_tracks(42);
    response->set_build_ms(17);
    return grpc::Status::OK;
  }
};

struct Output {
  int code;
  std::string out;
  std::string err;
};

class CliCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&query_service_);
    builder.RegisterService(&catalog_service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    options_.server = address_;
    options_.trainer = address_;
    options_.timeout_seconds = 10;
  }

  void TearDown() override { server_->Shutdown(); }

  Output Run(const std::vector<std::string>& args, const std::string& input = "") {
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    int code = RunCli(args, options_, in, out, err);
    return Output{code, out.str(), err.str()};
  }

  FakeQueryService query_service_;
  FakeCatalogService catalog_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  CliOptions options_;
};

std::string SearchJson(const std::string& name) {
  return absl::StrCat(R"({"results":[{"track_id":")", kId, R"(","track_name":")", name,
                      R"(","artists":["Pink Floyd"],"album":"","genres":[],)",
                      R"("distance":0.5,"relevance":2.25,"signal":"lexical+vector",)",
                      R"("matched_fields":["title","artist"],"typos":1,"prefix":false,)",
                      R"("exact":false}]})");
}

TEST_F(CliCommandsTest, SearchPrintsJson) {
  options_.json = true;
  Output output = Run({"search", "daft", "punk"});
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_EQ(output.out, SearchJson("daft punk") + "\n");
  EXPECT_EQ(output.err, "");
}

TEST_F(CliCommandsTest, SearchSendsTheOffsetAndTheFilter) {
  options_.offset = 20;
  options_.recommend.genres = {"rock"};
  options_.recommend.year_min = 1970;
  options_.recommend.year_max = 1979;
  options_.recommend.explicit_ = false;
  options_.recommend.knobs = {{"min_tempo", 100}, {"target_energy", 0.8}};
  ASSERT_EQ(Run({"search", "money"}).code, kExitOk);
  const v1::SearchRequest& r = query_service_.last_search();
  EXPECT_EQ(r.offset(), 20);
  ASSERT_TRUE(r.has_filter());
  EXPECT_EQ(r.filter().genres_size(), 1);
  EXPECT_EQ(r.filter().year_min(), 1970);
  EXPECT_EQ(r.filter().year_max(), 1979);
  ASSERT_TRUE(r.filter().has_explicit_());
  EXPECT_FALSE(r.filter().explicit_());
  ASSERT_EQ(r.filter().features_size(), 1);  // a target is no filter
  EXPECT_EQ(r.filter().features(0).feature(), "tempo");
  EXPECT_EQ(r.filter().features(0).min(), 100);

  options_.offset = 0;
  options_.recommend = RecommendFlags();
  ASSERT_EQ(Run({"search", "money"}).code, kExitOk);
  EXPECT_EQ(query_service_.last_search().offset(), 0);
  EXPECT_FALSE(query_service_.last_search().has_filter());
}

TEST_F(CliCommandsTest, SearchPrintsATableByDefault) {
  Output output = Run({"search", "money"});
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_EQ(output.out,
            "rank  distance  track  artists     genres\n"
            "   1    0.5000  money  Pink Floyd\n");
}

TEST_F(CliCommandsTest, InvalidArgumentIsOneErrorLine) {
  options_.json = true;
  options_.k = 20000;
  Output output = Run({"search", "money"});
  EXPECT_EQ(output.code, kExitFailure);
  EXPECT_EQ(output.out, "");
  EXPECT_EQ(output.err, "cratedig: search: INVALID_ARGUMENT: k must be at most 10000\n");
}

TEST_F(CliCommandsTest, BatchSearchGoesOnAfterAFailedLine) {
  Output output = Run({"search", "-"}, "money\n\nfail\n  time \n");
  EXPECT_EQ(output.code, kExitFailure);
  EXPECT_EQ(output.out, SearchJson("money") + "\n" + SearchJson("time") + "\n");
  EXPECT_EQ(output.err, "cratedig: search: line 3: INVALID_ARGUMENT: query is bad\n");
}

TEST_F(CliCommandsTest, RecommendNormalizesIdsAndPassesOthersThrough) {
  options_.json = true;
  Output output = Run({"recommend", absl::StrCat("spotify:track:", kId), "junk"});
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_THAT(output.out, HasSubstr(absl::StrCat(R"("track_id":")", kId, R"(")")));
  EXPECT_THAT(output.out, HasSubstr(R"("track_id":"junk")"));
}

TEST_F(CliCommandsTest, RecommendSendsTheKnobs) {
  options_.recommend.strategy = "best";
  options_.recommend.negatives = {absl::StrCat("spotify:track:", kId)};
  options_.recommend.genres = {"rock", "jazz"};
  options_.recommend.year_min = 1990;
  options_.recommend.explicit_ = true;
  options_.recommend.max_per_artist = 2;
  options_.recommend.exact = true;
  options_.recommend.seed_artists = {"Pink Floyd"};
  options_.recommend.seed_genres = {"rock"};
  options_.recommend.knobs = {{"target_energy", 0.8}, {"min_tempo", 120}};
  Output output = Run({"recommend"});  // Seedless: knobs alone.
  EXPECT_EQ(output.code, kExitOk) << output.err;
  const v1::RecommendOptions& o = query_service_.last_recommend().options();
  EXPECT_EQ(o.strategy(), "best");
  ASSERT_EQ(o.negative_track_ids_size(), 1);
  EXPECT_EQ(o.negative_track_ids(0), kId);
  EXPECT_EQ(o.filter().genres_size(), 2);
  EXPECT_EQ(o.filter().year_min(), 1990);
  EXPECT_FALSE(o.filter().has_year_max());
  EXPECT_TRUE(o.filter().explicit_());
  EXPECT_EQ(o.max_per_artist(), 2);
  EXPECT_TRUE(o.exact());
  EXPECT_EQ(o.seed_artists(0), "Pink Floyd");
  EXPECT_EQ(o.seed_genres(0), "rock");
  ASSERT_EQ(o.targets_size(), 1);
  EXPECT_EQ(o.targets(0).feature(), "energy");
  ASSERT_EQ(o.filter().features_size(), 1);
  EXPECT_EQ(o.filter().features(0).feature(), "tempo");
  EXPECT_EQ(o.filter().features(0).min(), 120);
  EXPECT_FALSE(o.filter().features(0).has_max());
  // No knob: no options beyond the defaults.
  options_.recommend = RecommendFlags();
  EXPECT_EQ(Run({"recommend", kId}).code, kExitOk);
  EXPECT_FALSE(query_service_.last_recommend().options().has_filter());
  EXPECT_FALSE(query_service_.last_recommend().options().has_max_per_artist());
  EXPECT_FALSE(query_service_.last_recommend().options().has_exact());
  // --exact=false asks for the graph.
  options_.recommend.exact = false;
  EXPECT_EQ(Run({"recommend", kId}).code, kExitOk);
  EXPECT_TRUE(query_service_.last_recommend().options().has_exact());
  EXPECT_FALSE(query_service_.last_recommend().options().exact());
}

TEST_F(CliCommandsTest, BatchTracksPrintsOneDocumentPerLine) {
  Output output = Run({"tracks", "-"}, absl::StrCat(kId, " x\ny\n"));
  EXPECT_EQ(output.code, kExitOk) << output.err;
  std::vector<std::string> lines = absl::StrSplit(output.out, '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr(R"("audio_features":null)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("missing":["x"])"));
  EXPECT_EQ(lines[1], R"({"results":[],"missing":["y"]})");
}

TEST_F(CliCommandsTest, StatusJsonIsExact) {
  options_.json = true;
  Output output = Run({"status"});
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_EQ(output.out, "{\"snapshot\":\"000003\",\"tracks\":42}\n");
}

TEST_F(CliCommandsTest, UnavailableFromAReachableDaemonNamesTheCommand) {
  query_service_.set_loaded(false);
  Output output = Run({"status"});
  EXPECT_EQ(output.code, kExitFailure);
  EXPECT_EQ(output.err,
            "cratedig: status: UNAVAILABLE: no index snapshot loaded yet; retry later\n");
}

TEST_F(CliCommandsTest, UnreachableDaemon) {
  server_->Shutdown();
  server_->Wait();
  Output output = Run({"status"});
  EXPECT_EQ(output.code, kExitFailure);
  EXPECT_THAT(output.err, StartsWith(absl::StrCat(
                              "cratedig: cannot reach query daemon at ", address_)));
  EXPECT_EQ(output.err.find('\n'), output.err.size() - 1);
}

TEST_F(CliCommandsTest, PredictReadsTheRequestFromStdin) {
  options_.json = true;
  Output output = Run({"predict", "-"}, R"({"search": "money", "playlist": [7]})");
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_THAT(output.out, StartsWith(R"({"search_results":[{"track_id":")"));
  EXPECT_THAT(output.out, HasSubstr(R"("recommender_results":[{"track_id")"));
  EXPECT_THAT(output.out, HasSubstr(R"("track_name":"7")"));
}

TEST_F(CliCommandsTest, PredictRejectsABadRequest) {
  Output output = Run({"predict", "-"}, R"({"playlist": [true]})");
  EXPECT_EQ(output.code, kExitFailure);
  EXPECT_EQ(output.err,
            "cratedig: predict: <stdin>: \"playlist\"[0] must be a track position or a "
            "Spotify id\n");
}

TEST_F(CliCommandsTest, TrainPrintsTheSnapshot) {
  EXPECT_EQ(Run({"train"}).out, "published snapshot 000003: 42 tracks in 17 ms\n");
  options_.json = true;
  EXPECT_EQ(Run({"train"}).out, R"({"snapshot":"000003","tracks":42,"build_ms":17})"
                                "\n");
}

TEST_F(CliCommandsTest, ImportReportsRowErrorsAndTheSummary) {
  std::string path = absl::StrCat(::testing::TempDir(), "/cli_import_test.csv");
  std::ofstream(path)
      << "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,"
         "danceability,energy,key,loudness,mode,speechiness,acousticness,"
         "instrumentalness,liveness,valence,tempo,time_signature,track_genre\n"
      << kId << ",Pink Floyd,The Dark Side of the Moon,Money,80,382000,False,0.5,0.6,"
      << "7,-9.0,1,0.05,0.1,0.0,0.1,0.5,120.0,4,rock\n"
      << "5de9Ho64dovuQI8Uhn5gPD,Someone,Album,,1,1000,False,0.5,0.6,"
      << "7,-9.0,1,0.05,0.1,0.0,0.1,0.5,120.0,4,rock\n";
  Output output = Run({"import", path});
  EXPECT_EQ(output.code, kExitOk) << output.err;
  EXPECT_EQ(output.out,
            "2 rows read, 1 stored, 0 merged, 0 unchanged, 1 skipped, 0 artists\n");
  EXPECT_THAT(output.err, HasSubstr(absl::StrCat(path, ":3:4: ")));

  options_.json = true;
  output = Run({"import", path});
  EXPECT_THAT(output.out, StartsWith(R"({"rows_read":)"));
  EXPECT_THAT(output.out, HasSubstr(R"("tracks_inserted":1,)"));

  EXPECT_EQ(Run({"import", path + ".missing"}).code, kExitFailure);
}

TEST_F(CliCommandsTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"search"}, {"predict"}, {"status", "x"}, {"import"}}) {
    Output output = Run(args);
    EXPECT_EQ(output.code, kExitUsage) << args.size();
    EXPECT_THAT(output.err, StartsWith("cratedig: "));
    EXPECT_EQ(output.err.find('\n'), output.err.size() - 1);
  }
  options_.timeout_seconds = 0;
  EXPECT_EQ(Run({"status"}).code, kExitUsage);
}

}  // namespace
}  // namespace cratedig::cli
