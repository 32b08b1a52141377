// The life of a cratedig deployment, through the real binaries: three daemons on free
// loopback ports, a query daemon with nothing to serve, imports through the CLI and
// through ingestd (malformed rows reported, re-imports harmless), a training run, the
// snapshot reaching queryd, a restart from disk, and a clean exit on SIGTERM.

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/cluster.h"

namespace cratedig::subprocess {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kTracksCsv[] = "tests/testdata/tracks_sample.csv";
constexpr char kHitsCsv[] = "tests/testdata/hits_sample.csv";
constexpr char kBadRowsCsv[] = "tests/testdata/bad_rows.csv";
// tracks_sample.csv: 200 rows; line 51 is malformed (column 9); the 199 others hold 191
// distinct ids (8 tracks are listed under two genres).
constexpr int kTrackRows = 200;
constexpr int kTrackIds = 191;
// hits_sample.csv: 60 rows, 60 ids, 2 of them also in tracks_sample.csv.
constexpr int kHitRows = 60;
constexpr int kHitNewIds = 58;
// bad_rows.csv: 5 rows, 3 readable ones with new ids.
constexpr int kBadFileRows = 5;
constexpr int kBadFileGoodRows = 3;
constexpr int kCatalogTracks = kTrackIds + kHitNewIds + kBadFileGoodRows;
constexpr char kQueryService[] = "cratedig.v1.QueryService";

// Prints the daemons' logs (and keeps their directory) when the test failed.
class LogsOnFailure {
 public:
  explicit LogsOnFailure(Cluster* cluster) : cluster_(cluster) {}
  ~LogsOnFailure() {
    if (!::testing::Test::HasFailure()) return;
    cluster_->KeepDir();
    std::cerr << "daemon logs (directory " << cluster_->dir() << " kept):\n"
              << cluster_->Logs();
  }

 private:
  Cluster* cluster_;
};

Json ParseJson(const std::string& text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(json.is_discarded()) << "not JSON: " << text;
  return json;
}

void ExpectHealth(const std::shared_ptr<grpc::Channel>& channel,
                  const std::string& service, Health want) {
  absl::StatusOr<Health> health = CheckHealth(channel, service);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, want) << "service '" << service << "'";
}

// Before any snapshot, queryd is up but NOT_SERVING and answers queries UNAVAILABLE.
void CheckQueryDaemonWithoutSnapshot(Cluster& c) {
  ExpectHealth(c.query_channel(), "", Health::kNotServing);
  ExpectHealth(c.query_channel(), kQueryService, Health::kNotServing);
  ExpectHealth(c.trainer_channel(), "", Health::kServing);
  ExpectHealth(c.ingest_channel(), "", Health::kServing);

  v1::QueryService::Stub& q = c.queries();
  v1::SearchRequest search;
  search.set_query("money");
  v1::SearchResponse search_response;
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return q.Search(ctx, search, &search_response);
            }).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  v1::RecommendRequest recommend;
  recommend.add_track_ids("4jw4BotdO2WfbF0U1J7mXc");
  v1::RecommendResponse recommend_response;
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return q.Recommend(ctx, recommend, &recommend_response);
            }).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  v1::GetTracksRequest tracks;
  tracks.add_track_ids("4jw4BotdO2WfbF0U1J7mXc");
  v1::GetTracksResponse tracks_response;
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return q.GetTracks(ctx, tracks, &tracks_response);
            }).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  v1::PredictRequest predict;
  predict.set_search("money");
  v1::PredictResponse predict_response;
  grpc::Status predicted = CallWithDeadline(
      [&](auto* ctx) { return q.Predict(ctx, predict, &predict_response); });
  EXPECT_EQ(predicted.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(predicted.error_message(), HasSubstr("no index snapshot loaded yet"));
  v1::GetQueryStatusResponse status;
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return q.GetQueryStatus(ctx, v1::GetQueryStatusRequest(), &status);
              }).ok());
  EXPECT_EQ(status.snapshot_version(), "");

  absl::StatusOr<CommandResult> cli = c.Cli({"--json", "status"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 0) << cli->err;
  EXPECT_EQ(ParseJson(cli->out), Json::parse(R"({"snapshot":"","tracks":0})"));
  cli = c.Cli({"search", "money"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 1);
  EXPECT_THAT(cli->err, HasSubstr("UNAVAILABLE"));
}

int64_t CatalogTracks(Cluster& c) {
  v1::GetCatalogStatusResponse status;
  grpc::Status rpc = CallWithDeadline([&](auto* ctx) {
    return c.catalog().GetCatalogStatus(ctx, v1::GetCatalogStatusRequest(), &status);
  });
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_EQ(status.snapshot_version(), "");
  return status.tracks();
}

// `cratedig import` reports the malformed row as FILE:LINE:COLUMN and imports the rest.
void ImportTracksThroughCli(Cluster& c) {
  const std::string path = SourcePath(kTracksCsv);
  absl::StatusOr<CommandResult> cli = c.Cli({"import", path});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 0) << cli->err;
  EXPECT_THAT(cli->err, HasSubstr(absl::StrCat(path, ":51:9: ")));
  EXPECT_THAT(cli->out, HasSubstr(absl::StrCat(kTrackRows, " rows read, ", kTrackIds,
                                               " stored, ")));
  EXPECT_THAT(cli->out, HasSubstr(" 1 skipped"));
}

// ingestd's ImportFiles reads files on its host and reports unreadable rows, file by
// file.
void ImportFilesThroughIngestd(Cluster& c) {
  v1::IngestService::Stub& ingest = c.importer();
  v1::ImportFilesRequest request;
  request.add_paths(SourcePath(kHitsCsv));
  request.add_paths(SourcePath(kBadRowsCsv));
  v1::ImportFilesResponse response;
  grpc::Status status = CallWithDeadline(
      [&](auto* ctx) { return ingest.ImportFiles(ctx, request, &response); });
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  const v1::ImportSummary& s = response.summary();
  EXPECT_EQ(s.rows_read(), kHitRows + kBadFileRows);
  EXPECT_EQ(s.rows_skipped(), 2);
  EXPECT_EQ(s.tracks_inserted(), kBadFileGoodRows);  // the hits are stored already
  EXPECT_EQ(s.tracks_unchanged(), kHitRows);
  ASSERT_EQ(s.errors_size(), 2);
  EXPECT_EQ(s.errors(0).file(), SourcePath(kBadRowsCsv));
  EXPECT_EQ(s.errors(0).line(), 3);  // invalid UTF-8 in track_name
  EXPECT_EQ(s.errors(0).column(), 5);
  EXPECT_THAT(s.errors(0).message(), HasSubstr("UTF-8"));
  EXPECT_EQ(s.errors(1).line(), 5);  // a field short: the whole row
  EXPECT_EQ(s.errors(1).column(), 0);
  EXPECT_FALSE(s.errors(1).message().empty());

  v1::ImportFilesRequest empty;
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return ingest.ImportFiles(ctx, empty, &response);
            }).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ImportFilesRequest missing;
  missing.add_paths(c.dir() + "/no-such-file.csv");
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return ingest.ImportFiles(ctx, missing, &response);
            }).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Importing the same file again stores nothing new and changes nothing.
void ReimportChangesNothing(Cluster& c) {
  absl::StatusOr<CommandResult> cli = c.Cli({"--json", "import", SourcePath(kTracksCsv)});
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_EQ(cli->exit_code, 0) << cli->err;
  Json summary = ParseJson(cli->out);
  EXPECT_EQ(summary["rows_read"], kTrackRows);
  EXPECT_EQ(summary["tracks_inserted"], 0);
  EXPECT_EQ(summary["tracks_updated"], 0);
  EXPECT_EQ(summary["tracks_unchanged"], kTrackRows - 1);
  EXPECT_EQ(summary["rows_skipped"], 1);
  ASSERT_EQ(summary["errors"].size(), 1u);
  EXPECT_EQ(summary["errors"][0]["file"], SourcePath(kTracksCsv));
  EXPECT_EQ(summary["errors"][0]["line"], 51);
  EXPECT_EQ(summary["errors"][0]["column"], 9);
  EXPECT_EQ(CatalogTracks(c), kTrackIds);

  v1::ImportFilesRequest request;
  request.add_paths(SourcePath(kHitsCsv));
  v1::ImportFilesResponse first, again;
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return c.importer().ImportFiles(ctx, request, &first);
              }).ok());
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return c.importer().ImportFiles(ctx, request, &again);
              }).ok());
  EXPECT_EQ(first.summary().tracks_inserted(), kHitNewIds);
  EXPECT_EQ(again.summary().tracks_inserted(), 0);
  EXPECT_EQ(again.summary().tracks_updated(), 0);
  EXPECT_EQ(again.summary().tracks_unchanged(), kHitRows);
  EXPECT_EQ(CatalogTracks(c), kTrackIds + kHitNewIds);
}

TEST(E2eLifecycleTest, ImportTrainServeRestartAndStop) {
  absl::StatusOr<std::unique_ptr<Cluster>> started = Cluster::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Cluster& c = **started;
  LogsOnFailure logs(&c);

  CheckQueryDaemonWithoutSnapshot(c);
  v1::TrainResponse trained;
  EXPECT_EQ(CallWithDeadline([&](auto* ctx) {
              return c.catalog().Train(ctx, v1::TrainRequest(), &trained);
            }).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "training an empty catalog";

  ImportTracksThroughCli(c);
  ReimportChangesNothing(c);
  ImportFilesThroughIngestd(c);
  EXPECT_EQ(CatalogTracks(c), kCatalogTracks);

  absl::StatusOr<CommandResult> cli = c.Cli({"--json", "train"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_EQ(cli->exit_code, 0) << cli->err;
  Json train = ParseJson(cli->out);
  EXPECT_EQ(train["snapshot"], "000001");
  EXPECT_EQ(train["tracks"], kCatalogTracks);
  EXPECT_GE(train["build_ms"].get<int64_t>(), 0);

  absl::StatusOr<v1::GetQueryStatusResponse> serving = c.WaitUntilServing("000001");
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_EQ(serving->tracks(), kCatalogTracks);
  ExpectHealth(c.query_channel(), "", Health::kServing);
  ExpectHealth(c.query_channel(), kQueryService, Health::kServing);
  std::ifstream current(c.query_data_dir() + "/snapshots/CURRENT");
  std::string line;
  std::getline(current, line);
  EXPECT_EQ(line, "000001") << "queryd's own copy of the snapshot";

  for (auto [channel, service] :
       {std::pair{c.query_channel(), kQueryService},
        std::pair{c.trainer_channel(), "cratedig.v1.CatalogService"},
        std::pair{c.trainer_channel(), "cratedig.v1.SnapshotService"},
        std::pair{c.ingest_channel(), "cratedig.v1.IngestService"}}) {
    absl::StatusOr<std::string> listed = ListServicesByReflection(channel);
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_THAT(*listed, HasSubstr(service));
  }

  // Every daemon exits 0, promptly, on SIGTERM (once this process closed its connections:
  // see Cluster::CloseChannels; the daemons' own connections to each other stay open).
  c.CloseChannels();
  for (DaemonProcess* d : {&c.ingest(), &c.query(), &c.trainer()}) {
    const absl::Time start = absl::Now();
    absl::StatusOr<int> code = d->Stop(absl::Seconds(8));
    const absl::Duration took = absl::Now() - start;
    ASSERT_TRUE(code.ok()) << d->name() << ": " << code.status();
    EXPECT_EQ(*code, 0) << d->name();
    EXPECT_LT(took, absl::Seconds(2)) << d->name();
    std::cerr << d->name() << " stopped on SIGTERM in " << absl::FormatDuration(took)
              << "\n";
  }

  // A restarted queryd serves its copy from disk at once, without a trainer.
  absl::StatusOr<std::unique_ptr<DaemonProcess>> restarted =
      DaemonProcess::Start("queryd-restarted", BinaryPath("queryd"),
                           {"--listen=127.0.0.1:0", "--data_dir=" + c.query_data_dir()},
                           c.dir() + "/queryd-restarted.log");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto channel =
      grpc::CreateChannel((*restarted)->address(), grpc::InsecureChannelCredentials());
  ExpectHealth(channel, "", Health::kServing);
  v1::GetQueryStatusResponse status;
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return v1::QueryService::NewStub(channel)->GetQueryStatus(
                    ctx, v1::GetQueryStatusRequest(), &status);
              }).ok());
  EXPECT_EQ(status.snapshot_version(), "000001");
  absl::StatusOr<int> code = (*restarted)->Stop(absl::Seconds(8));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace cratedig::subprocess
