#include "ingest_service/catalog_import.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/fake_catalog_service_internal.h"
#include "ingest_service/test_util_internal.h"

namespace cratedig::ingest {
namespace {

using ::testing::AllOf;
using testing::CatalogFixture;
using ::testing::ElementsAre;
using testing::FakeTrainer;
using ::testing::HasSubstr;

int64_t CountTracks(const std::vector<v1::IngestCatalogRequest>& batches) {
  int64_t n = 0;
  for (const auto& b : batches) n += b.tracks_size();
  return n;
}

int64_t CountArtists(const std::vector<v1::IngestCatalogRequest>& batches) {
  int64_t n = 0;
  for (const auto& b : batches) n += b.artists_size();
  return n;
}

// A hit-predictor CSV with `rows` distinct valid tracks.
std::string ManyTracks(int rows) {
  std::string csv =
      "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,"
      "instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,"
      "sections,"
      "target\n";
  for (int i = 0; i < rows; ++i) {
    std::string id = absl::StrCat(i);
    id = std::string(22 - id.size(), 'A') + id;
    absl::StrAppend(&csv, "Song ", i, ",Band,spotify:track:", id,
                    ",0.4,0.6,3,-7.7,1,0.04,0.49,0,0.07,0.8,185.6,173533,3,32.9,9,1\n");
  }
  return csv;
}

TEST(ImportCatalogFilesTest, SendsEveryRowAndSumsAcknowledgements) {
  FakeTrainer trainer;
  ImportOptions options;
  options.batch_size = 2;
  std::vector<std::string> progress;
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({CatalogFixture("tidytuesday_spotify_songs.csv"),
                          CatalogFixture("maharshipandya_tracks.csv"),
                          CatalogFixture("yamaerenay600k_artists.csv")},
                         trainer.stub.get(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  std::vector<v1::IngestCatalogRequest> batches = trainer.service.batches();
  // tidytuesday 4 tracks (2 batches) then its 2 playlists (1), maharshipandya 4 tracks
  // (2), artists 3 (2).
  ASSERT_EQ(batches.size(), 7u);
  for (size_t i = 0; i < batches.size(); ++i)
    EXPECT_EQ(batches[i].batch_id(), int64_t(i + 1));
  EXPECT_THAT(batches[0].source(), HasSubstr("tidytuesday_spotify_songs.csv"));
  EXPECT_EQ(batches[2].playlists_size(), 2);
  EXPECT_THAT(batches[6].source(), HasSubstr("yamaerenay600k_artists.csv"));
  EXPECT_EQ(CountTracks(batches), 8);
  EXPECT_EQ(CountArtists(batches), 3);
  EXPECT_EQ(batches[3].tracks(0).id(), "5SuOikwiRyPMVoIQDJUgSV");

  EXPECT_EQ(summary->rows_read(), 4 + 9 + 5);
  EXPECT_EQ(summary->tracks_inserted(), 7);  // tidytuesday repeats one track
  EXPECT_EQ(summary->tracks_unchanged(), 1);
  EXPECT_EQ(summary->tracks_updated(), 0);
  EXPECT_EQ(summary->artists_upserted(), 3);
  EXPECT_EQ(summary->rows_skipped(), 5 + 2);
  ASSERT_EQ(summary->errors_size(), 7);
  EXPECT_EQ(summary->errors(0).line(), 6);
  EXPECT_EQ(summary->errors(0).column(), 6);
  EXPECT_THAT(summary->errors(0).file(), HasSubstr("maharshipandya_tracks.csv"));
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_THAT(progress[1], AllOf(HasSubstr("maharshipandya_tracks.csv"),
                                 HasSubstr("maharshipandya-tracks"), HasSubstr("rows=9"),
                                 HasSubstr("errors=5")));
}

std::string PlaylistFixture(const std::string& name) {
  return std::string(CRATEDIG_SOURCE_DIR) + "/tests/testdata/playlists/" + name;
}

std::vector<v1::Playlist> SentPlaylists(
    const std::vector<v1::IngestCatalogRequest>& batches) {
  std::vector<v1::Playlist> out;
  for (const auto& b : batches)
    out.insert(out.end(), b.playlists().begin(), b.playlists().end());
  return out;
}

std::vector<std::string> Ids(const v1::Playlist& p) {
  return {p.track_ids().begin(), p.track_ids().end()};
}

// tidytuesday: one row per (playlist, subgenre, track); a playlist collected under three
// subgenres repeats its tracks in separate blocks, in a different order.
TEST(ImportCatalogFilesTest, TidyTuesdayPlaylistsAreDeduplicatedInFirstSeenOrder) {
  FakeTrainer trainer;
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({PlaylistFixture("tidytuesday_playlists.csv")},
                         trainer.stub.get(), ImportOptions{});
  ASSERT_TRUE(summary.ok()) << summary.status();
  std::vector<v1::IngestCatalogRequest> batches = trainer.service.batches();
  EXPECT_EQ(CountTracks(batches), 9);
  std::vector<v1::Playlist> playlists = SentPlaylists(batches);
  ASSERT_EQ(playlists.size(), 2u);
  EXPECT_EQ(playlists[0].id(), "4JkkvMpVl4lSioqQjeAL0q");
  EXPECT_EQ(playlists[0].source(), "tidytuesday");
  EXPECT_THAT(Ids(playlists[0]),
              ElementsAre("2tnVG71enUj33Ic2nFN6kZ", "1ZPWWSwCkxKfqdp4H0RFCo",
                          "5yY9lUy8nbvjM1Uyo1Uqoc", "1M4qEo4HE3PRaCOM7EXNJq",
                          "070hrICPvpyzXkbqkRC7Ao"));
  EXPECT_EQ(playlists[1].id(), "37i9dQZF1DXcZDD7cfEKhW");
  EXPECT_EQ(playlists[1].name(), "Pop Remix");
  EXPECT_THAT(Ids(playlists[1]),
              ElementsAre("6f807x0ima9a1j3VPbc7VN", "0r7CVbZTWZgbTCYdfa2P31"));
  EXPECT_EQ(summary->playlists_upserted(), 2);
  // Tracks come before the playlists that name them.
  EXPECT_EQ(batches.back().tracks_size(), 0);
}

TEST(ImportCatalogFilesTest, MillionPlaylistDatasetSliceImportsTracksAndPlaylists) {
  FakeTrainer trainer;
  absl::StatusOr<v1::ImportSummary> summary = ImportCatalogFiles(
      {PlaylistFixture("mpd.slice.0-2.json")}, trainer.stub.get(), ImportOptions{});
  ASSERT_TRUE(summary.ok()) << summary.status();
  std::vector<v1::IngestCatalogRequest> batches = trainer.service.batches();
  std::vector<v1::Playlist> playlists = SentPlaylists(batches);
  ASSERT_EQ(playlists.size(), 2u);
  EXPECT_EQ(playlists[0].id(), "mpd:0");
  EXPECT_EQ(playlists[0].name(), "Throwbacks");
  EXPECT_EQ(playlists[0].source(), "mpd");
  // In "pos" order, not file order.
  EXPECT_THAT(Ids(playlists[0]),
              ElementsAre("0UaMYEvWZi0ZqiDOoHU3YI", "6I9VzXrHxO9rA9A5euc8Ak",
                          "0WqIKmW4BTrj3eJFmnCKMv"));
  EXPECT_THAT(Ids(playlists[1]), ElementsAre("6I9VzXrHxO9rA9A5euc8Ak"));
  ASSERT_GE(CountTracks(batches), 3);
  const v1::Track& first = batches[0].tracks(0);
  EXPECT_EQ(first.name(), "Lose Control (feat. Ciara & Fat Man Scoop)");
  ASSERT_EQ(first.artists_size(), 1);
  EXPECT_EQ(first.artists(0).name(), "Missy Elliott");
  EXPECT_EQ(first.artists(0).id(), "2wIVse2owClT7go1WT98tk");
  EXPECT_EQ(first.album().name(), "The Cookbook");
  EXPECT_EQ(first.duration_ms(), 226863);
  // The local file and the playlist without a pid are reported, not dropped.
  EXPECT_EQ(summary->rows_skipped(), 2);
  ASSERT_EQ(summary->errors_size(), 2);
  EXPECT_THAT(summary->errors(0).message(),
              HasSubstr("playlists[1].tracks[1].track_uri"));
  EXPECT_THAT(summary->errors(1).message(), HasSubstr("playlists[2]: pid"));
}

TEST(ImportCatalogFilesTest, JsonThatIsNoPlaylistSliceIsRefused) {
  FakeTrainer trainer;
  std::string path = ::testing::TempDir() + "/not_mpd.json";
  {
    std::ofstream out(path);
    out << R"({"tracks": []})";
  }
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({path}, trainer.stub.get(), ImportOptions{});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("playlists"));
  EXPECT_TRUE(trainer.service.batches().empty());
}

TEST(ImportCatalogFilesTest, AggregateFilesAreReportedAsSkipped) {
  FakeTrainer trainer;
  std::vector<std::string> progress;
  ImportOptions options;
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({CatalogFixture("yamaerenay160k_data_by_genres.csv"),
                          CatalogFixture("yamaerenay160k_data_w_genres_2021.csv")},
                         trainer.stub.get(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rows_read(), 2);
  EXPECT_EQ(summary->artists_upserted(), 2);
  EXPECT_EQ(summary->rows_skipped(), 0);
  ASSERT_EQ(summary->errors_size(), 1);
  EXPECT_EQ(summary->errors(0).line(), 0);
  EXPECT_EQ(summary->errors(0).column(), 0);
  EXPECT_THAT(summary->errors(0).file(), HasSubstr("data_by_genres.csv"));
  EXPECT_THAT(summary->errors(0).message(),
              HasSubstr("not a track or artist table (per-genre aggregates)"));
  EXPECT_THAT(progress[0], HasSubstr("skipped"));
  EXPECT_EQ(trainer.service.batches().size(), 1u);
}

TEST(ImportCatalogFilesTest, ManySmallBatchesDoNotDeadlock) {
  FakeTrainer trainer;
  std::string path = testing::WriteTempFile("many.csv", ManyTracks(20000));
  ImportOptions options;
  options.batch_size = 2;
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({path}, trainer.stub.get(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->tracks_inserted(), 20000);
  EXPECT_EQ(trainer.service.batches().size(), 10000u);
}

TEST(ImportCatalogFilesTest, KeepsAtMostOneHundredErrors) {
  FakeTrainer trainer;
  std::string csv = ManyTracks(10);
  for (int i = 0; i < 150; ++i) csv += "bad,row\n";
  absl::StatusOr<v1::ImportSummary> summary = ImportCatalogFiles(
      {testing::WriteTempFile("bad.csv", csv)}, trainer.stub.get(), ImportOptions{});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rows_read(), 160);
  EXPECT_EQ(summary->rows_skipped(), 150);
  EXPECT_EQ(summary->errors_size(), kMaxRowErrorsKept);
  EXPECT_EQ(summary->errors(99).line(), 111);
}

TEST(ImportCatalogFilesTest, TrainerErrorPropagatesWithAcknowledgedCount) {
  FakeTrainer trainer;
  trainer.service.FailAtBatch(
      3, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "disk full"));
  ImportOptions options;
  options.batch_size = 10;
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({testing::WriteTempFile("fail.csv", ManyTracks(1000))},
                         trainer.stub.get(), options);
  ASSERT_EQ(summary.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(summary.status().message(), AllOf(HasSubstr("disk full"), HasSubstr("3 of"),
                                                HasSubstr("acknowledged")));
}

TEST(ImportCatalogFilesTest, MissingAcknowledgementsAreAnError) {
  FakeTrainer trainer;
  trainer.service.AckOnly(2);
  ImportOptions options;
  options.batch_size = 10;
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({testing::WriteTempFile("unacked.csv", ManyTracks(50))},
                         trainer.stub.get(), options);
  ASSERT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(summary.status().message(), HasSubstr("2 of 5 batches"));
}

TEST(ImportCatalogFilesTest, UnknownBatchIdIsAnError) {
  FakeTrainer trainer;
  trainer.service.AckWrongId(42);
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({CatalogFixture("tidytuesday_spotify_songs.csv")},
                         trainer.stub.get(), ImportOptions{});
  ASSERT_EQ(summary.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(summary.status().message(), HasSubstr("batch 42"));
}

TEST(ImportCatalogFilesTest, TrainerDownIsUnavailable) {
  std::unique_ptr<v1::CatalogService::Stub> stub = v1::CatalogService::NewStub(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  ImportOptions options;
  options.rpc_timeout = absl::Seconds(5);
  absl::StatusOr<v1::ImportSummary> summary = ImportCatalogFiles(
      {CatalogFixture("tidytuesday_spotify_songs.csv")}, stub.get(), options);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(summary.status().message(), HasSubstr("0 of"));
}

TEST(ImportCatalogFilesTest, BadInputsFailBeforeAnythingIsSent) {
  FakeTrainer trainer;
  absl::StatusOr<v1::ImportSummary> summary =
      ImportCatalogFiles({CatalogFixture("tidytuesday_spotify_songs.csv"),
                          CatalogFixture("unknown_header.csv")},
                         trainer.stub.get(), ImportOptions{});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("unknown_header.csv"));
  summary = ImportCatalogFiles({CatalogFixture("nope.csv")}, trainer.stub.get(),
                               ImportOptions{});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(trainer.service.batches().empty());

  summary = ImportCatalogFiles({}, trainer.stub.get(), ImportOptions{});
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(), "paths must not be empty");
  ImportOptions zero;
  zero.batch_size = 0;
  EXPECT_EQ(ImportCatalogFiles({CatalogFixture("tidytuesday_spotify_songs.csv")},
                               trainer.stub.get(), zero)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cratedig::ingest
