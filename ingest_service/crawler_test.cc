// The crawl against tests/fakes/fake_spotify.py: the outbox ends with the fake's whole
// catalog, each track once, after faults, a stop in the middle and failed items.

#include "ingest_service/crawler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/fakes/fake_spotify_server.h"

namespace cratedig::ingest {
namespace {

using ::cratedig::testing::FakeSpotifyServer;
using Json = nlohmann::json;

std::string TempDir() {
  std::string templ = ::testing::TempDir() + "crawler_test_XXXXXX";
  char* dir = mkdtemp(templ.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

const std::vector<std::string> kGenreQueries = {
    "genre:\"latin\"", "genre:\"rock\"",    "genre:\"k-pop\"",
    "genre:\"jazz\"",  "genre:\"hip hop\"", "genre:\"música popular\"",
    "genre:\"j-pop\"", "genre:\"électro\""};

class CrawlerTest : public ::testing::Test {
 protected:
  // Starts the fake with `args` plus a ground-truth dump, and opens a fresh state.
  void StartFake(std::vector<std::string> args) {
    dir_ = TempDir();
    args.push_back(absl::StrCat("--dump=", dir_, "/truth.json"));
    absl::StatusOr<std::unique_ptr<FakeSpotifyServer>> fake =
        FakeSpotifyServer::Start(args);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    std::ifstream in(dir_ + "/truth.json");
    truth_ = Json::parse(in);
    absl::StatusOr<std::unique_ptr<CrawlState>> state = CrawlState::Open(dir_ + "/state");
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = *std::move(state);
  }

  std::unique_ptr<SpotifyClient> Client(const absl::Notification* cancel = nullptr) {
    SpotifyClientOptions o;
    o.api_url = o.accounts_url = fake_->url();
    o.max_rps = 0;
    o.max_attempts = 5;
    o.initial_backoff = absl::Milliseconds(5);
    o.max_backoff = absl::Milliseconds(20);
    o.default_retry_after = absl::Milliseconds(20);
    o.request_timeout = absl::Seconds(5);
    o.cancel = cancel != nullptr ? cancel : &cancel_;
    return NewSpotifyClient(NewCurlHttpClient(), {"test-client", "test-secret"}, o);
  }

  CrawlOptions Options(int page_size, int batch_ids) {
    CrawlOptions o;
    o.queries = kGenreQueries;
    o.pages = 100;
    o.page_size = page_size;
    o.batch_ids = batch_ids;
    return o;
  }

  // Drains the outbox; returns how often each track id was in it.
  std::map<std::string, v1::Track> DrainOutbox(std::map<std::string, int>* copies) {
    std::map<std::string, v1::Track> tracks;
    for (;;) {
      auto batches = state_->PeekOutbox(100);
      EXPECT_TRUE(batches.ok()) << batches.status();
      if (!batches.ok() || batches->empty()) return tracks;
      for (const v1::IngestCatalogRequest& b : *batches) {
        for (const v1::Track& t : b.tracks()) {
          tracks[t.id()] = t;
          ++(*copies)[t.id()];
        }
        EXPECT_TRUE(state_->AckOutbox(b.batch_id()).ok());
      }
    }
  }

  // Checks that the outbox held every track of the fake exactly once, with its fields.
  void ExpectGroundTruth(const std::map<std::string, v1::Track>& got,
                         const std::map<std::string, int>& copies) {
    EXPECT_EQ(got.size(), truth_["tracks"].size());
    for (const Json& want : truth_["tracks"]) {
      std::string id = want["id"];
      auto it = got.find(id);
      ASSERT_NE(it, got.end()) << "missing track " << id;
      EXPECT_EQ(copies.at(id), 1) << id;
      const v1::Track& t = it->second;
      EXPECT_EQ(t.name(), want["name"].get<std::string>());
      EXPECT_EQ(t.album().id(), want["album_id"].get<std::string>());
      EXPECT_EQ(t.duration_ms(), want["duration_ms"].get<int64_t>());
      EXPECT_EQ(t.explicit_(), want["explicit"].get<bool>());
      EXPECT_EQ(t.has_popularity(), !want["popularity"].is_null());
      EXPECT_EQ(t.has_audio_features(), !want["features"].is_null()) << id;
      if (t.has_audio_features()) {
        EXPECT_DOUBLE_EQ(t.audio_features().tempo(),
                         want["features"]["tempo"].get<double>());
        EXPECT_EQ(t.audio_features().key(), want["features"]["key"].get<int>());
      }
    }
  }

  std::string dir_;
  Json truth_;
  absl::Notification cancel_;
  std::unique_ptr<FakeSpotifyServer> fake_;
  std::unique_ptr<CrawlState> state_;
};

TEST_F(CrawlerTest, DevModeCrawlFetchesEveryTrackOnceWithoutDeprecatedFields) {
  StartFake({"--artists=12", "--dev_mode", "--features_403", "--big_album=60"});
  std::unique_ptr<SpotifyClient> client = Client();
  Crawler crawler(client.get(), state_.get(), Options(10, 1), &cancel_);
  absl::StatusOr<int64_t> failed = crawler.Run();
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(*failed, 0);
  EXPECT_TRUE(crawler.audio_features_forbidden());
  std::map<std::string, int> copies;
  ExpectGroundTruth(DrainOutbox(&copies), copies);
  auto counts = state_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->artists_done, 12);
  EXPECT_EQ(counts->albums_done, truth_["albums"].get<int64_t>());
  double per_track =
      static_cast<double>(client->stats().requests) / truth_["tracks"].size();
  std::cout << "dev mode: " << client->stats().requests << " requests for "
            << truth_["tracks"].size() << " tracks = " << per_track << " per track\n";
}

TEST_F(CrawlerTest, EveryFifthRequestRateLimitedStillGetsEverything) {
  StartFake({"--artists=20", "--every_429=5", "--retry_after=0"});
  std::unique_ptr<SpotifyClient> client = Client();
  Crawler crawler(client.get(), state_.get(), Options(50, 50), &cancel_);
  absl::StatusOr<int64_t> failed = crawler.Run();
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(*failed, 0);
  EXPECT_GT(client->stats().rate_limited, 0);
  std::map<std::string, int> copies;
  ExpectGroundTruth(DrainOutbox(&copies), copies);
  std::cout << "batch mode with 429s: " << client->stats().requests << " requests for "
            << truth_["tracks"].size() << " tracks\n";
}

TEST_F(CrawlerTest, DevModeWithEveryFifthRequestRateLimitedStillGetsEverything) {
  StartFake({"--artists=10", "--dev_mode", "--every_429=5", "--retry_after=0"});
  std::unique_ptr<SpotifyClient> client = Client();
  Crawler crawler(client.get(), state_.get(), Options(10, 1), &cancel_);
  absl::StatusOr<int64_t> failed = crawler.Run();
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(*failed, 0);
  EXPECT_GT(client->stats().rate_limited, 0);
  std::map<std::string, int> copies;
  ExpectGroundTruth(DrainOutbox(&copies), copies);
}

TEST_F(CrawlerTest, StoppedCrawlGoesOnWhereItStopped) {
  StartFake({"--artists=16", "--every_5xx=13", "--every_truncated=17", "--every_401=29"});
  std::map<std::string, int> copies;
  std::map<std::string, v1::Track> got;
  {
    std::unique_ptr<SpotifyClient> client = Client();
    Crawler crawler(client.get(), state_.get(), Options(10, 1), &cancel_);
    std::thread stopper([&] {
      while (crawler.tracks_fetched() < 150) absl::SleepFor(absl::Milliseconds(2));
      cancel_.Notify();
    });
    absl::StatusOr<int64_t> failed = crawler.Run();
    stopper.join();
    EXPECT_TRUE(absl::IsCancelled(failed.status())) << failed.status();
    got = DrainOutbox(&copies);
    EXPECT_LT(got.size(), truth_["tracks"].size());
  }
  absl::Notification fresh;  // cancel_ stays notified: the restart gets its own
  std::unique_ptr<SpotifyClient> client = Client(&fresh);
  Crawler crawler(client.get(), state_.get(), Options(10, 1), &fresh);
  absl::StatusOr<int64_t> failed = crawler.Run();
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(*failed, 0);
  for (const auto& [id, t] : DrainOutbox(&copies)) got[id] = t;
  ExpectGroundTruth(got, copies);
}

TEST_F(CrawlerTest, FailedItemsAreRetriedByTheNextRun) {
  // The first 6 requests fail and a call makes 2 attempts: 3 queries fail for this run.
  StartFake({"--artists=10", "--fail_first=6"});
  SpotifyClientOptions o;
  o.api_url = o.accounts_url = fake_->url();
  o.max_rps = 0;
  o.max_attempts = 2;
  o.initial_backoff = absl::Milliseconds(1);
  std::unique_ptr<SpotifyClient> client =
      NewSpotifyClient(NewCurlHttpClient(), {"test-client", "test-secret"}, o);
  Crawler crawler(client.get(), state_.get(), Options(10, 1), &cancel_);
  std::map<std::string, int> copies;
  std::map<std::string, v1::Track> got;
  int64_t failed = 1;
  for (int run = 0; run < 3 && failed > 0; ++run) {
    absl::StatusOr<int64_t> result = crawler.Run();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, run == 0 ? 3 : 0);
    failed = *result;
    for (const auto& [id, t] : DrainOutbox(&copies)) got[id] = t;
  }
  EXPECT_EQ(failed, 0);
  ExpectGroundTruth(got, copies);
}

TEST(SplitQueriesTest, CommasInsideQuotesStay) {
  EXPECT_EQ(SplitQueries("a,b,,genre:\"rock, pop\",tag:new"),
            (std::vector<std::string>{"a", "b", "genre:\"rock, pop\"", "tag:new"}));
}

}  // namespace
}  // namespace cratedig::ingest

namespace cratedig::ingest {
namespace {

// Public playlists by id, on the route of each API generation: /tracks (extended quota)
// and, after its 403 in development mode, /items. Each playlist comes in one batch with
// its tracks, each once in playlist order, with no episode or removed track; an unknown
// id fails alone, naming the playlist.
TEST_F(CrawlerTest, PlaylistsByIdComeWithTheirTracksInOrderOnEitherRoute) {
  for (bool dev_mode : {false, true}) {
    SCOPED_TRACE(dev_mode ? "dev mode" : "extended quota");
    std::vector<std::string> args = {"--artists=6", "--every_5xx=9", "--every_429=11",
                                     "--retry_after=0"};
    if (dev_mode) args.push_back("--dev_mode");
    StartFake(args);
    std::unique_ptr<SpotifyClient> client = Client();
    CrawlOptions options = Options(10, 1);
    options.queries.clear();
    for (const Json& p : truth_["playlists"]) options.playlists.push_back(p["id"]);
    ASSERT_EQ(options.playlists.size(), 3u);
    const std::string unknown = "0000000000000000000000";
    options.playlists.push_back(unknown);
    Crawler crawler(client.get(), state_.get(), options, &cancel_);
    absl::StatusOr<int64_t> failed = crawler.Run();
    ASSERT_TRUE(failed.ok()) << failed.status();
    EXPECT_EQ(*failed, 1);  // the unknown playlist

    std::map<std::string, v1::Playlist> playlists;
    std::map<std::string, v1::Track> tracks;
    auto batches = state_->PeekOutbox(100);
    ASSERT_TRUE(batches.ok()) << batches.status();
    for (const v1::IngestCatalogRequest& b : *batches) {
      for (const v1::Track& t : b.tracks()) tracks[t.id()] = t;
      for (const v1::Playlist& p : b.playlists()) playlists[p.id()] = p;
    }
    ASSERT_EQ(playlists.size(), 3u);
    for (const Json& want : truth_["playlists"]) {
      const v1::Playlist& got = playlists[want["id"].get<std::string>()];
      EXPECT_EQ(got.source(), "spotify");
      std::vector<std::string> ids(got.track_ids().begin(), got.track_ids().end());
      EXPECT_EQ(ids, want["track_ids"].get<std::vector<std::string>>());
      for (const std::string& id : ids) {
        ASSERT_TRUE(tracks.count(id)) << id;
        EXPECT_FALSE(tracks[id].album().id().empty()) << id;
        EXPECT_FALSE(tracks[id].artists().empty()) << id;
      }
    }
    auto counts = state_->Counts();
    ASSERT_TRUE(counts.ok()) << counts.status();
    EXPECT_EQ(counts->playlists_done, 3);
    EXPECT_EQ(counts->playlists_total, 4);
    EXPECT_EQ(counts->failed, 1);
    auto stats = fake_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    Json by_endpoint = Json::parse(*stats)["by_endpoint"];
    // Extended quota: /tracks only. Development mode: one 403 on /tracks, then /items.
    EXPECT_EQ(by_endpoint.value("playlists/items", 0) > 0, dev_mode) << *stats;
  }
}

TEST(ParsePlaylistIdsTest, TakesIdsUrisAndLinksAndNamesABadOne) {
  auto ids = ParsePlaylistIds(
      "37i9dQZF1DXcBWIGoYBM5M  # Today's Top Hits\n\n"
      "spotify:playlist:5ABHKGoOzxkaa28ttQV9sE,"
      "https://open.spotify.com/playlist/1A2B3C4D5E6F7G8H9I0J1K?si=abc\n"
      "37i9dQZF1DXcBWIGoYBM5M\n");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids,
              ::testing::ElementsAre("37i9dQZF1DXcBWIGoYBM5M", "5ABHKGoOzxkaa28ttQV9sE",
                                     "1A2B3C4D5E6F7G8H9I0J1K"));
  auto bad = ParsePlaylistIds("37i9dQZF1DXcBWIGoYBM5M\nnot-a-playlist\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("playlist 2 'not-a-playlist'"));
  CrawlOptions none;
  none.queries.clear();
  EXPECT_FALSE(none.Validate().ok());
  none.playlists = {"37i9dQZF1DXcBWIGoYBM5M"};
  EXPECT_TRUE(none.Validate().ok());
}

}  // namespace
}  // namespace cratedig::ingest
