// ingestd crawling tests/fakes/fake_spotify.py (a few thousand tracks, with 429s, 5xx,
// slow and truncated answers and expired tokens) into trainerd and queryd, with one
// SIGKILL of ingestd and one restart of trainerd in the middle; then the catalog served
// after `cratedig train` must be the fake's ground truth: nothing missing, nothing twice,
// the same fields and audio features.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/daemon.h"
#include "tests/fakes/fake_spotify_server.h"
#include "tests/integration/cluster.h"
#include "trainer_service/catalog_store.h"

namespace cratedig::subprocess {
namespace {

using Json = nlohmann::json;

constexpr char kQueries[] =
    "genre:\"latin\",genre:\"rock\",genre:\"k-pop\",genre:\"jazz\",genre:\"hip hop\","
    "genre:\"música popular\",genre:\"j-pop\",genre:\"électro\"";

class CrawlTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "logs in " << dir_ << ":\n";
      for (const char* name : {"trainerd.log", "queryd.log", "ingestd.log"}) {
        std::cerr << "--- " << name << " ---\n" << FileTail(dir_ + "/" + name) << "\n";
      }
      return;
    }
    ingest_.reset();
    query_.reset();
    trainer_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  absl::Status StartTrainer(const std::string& listen) {
    trainer_.reset();
    absl::StatusOr<std::unique_ptr<DaemonProcess>> d = DaemonProcess::Start(
        "trainerd", BinaryPath("trainerd"),
        {"--listen=" + listen, "--data_dir=" + dir_ + "/trainer", "--train_debounce=0"},
        dir_ + "/trainerd.log");
    if (!d.ok()) return d.status();
    trainer_ = *std::move(d);
    return absl::OkStatus();
  }

  absl::Status StartIngest() {
    absl::StatusOr<std::unique_ptr<DaemonProcess>> d = DaemonProcess::Start(
        "ingestd", BinaryPath("ingestd"),
        {"--listen=127.0.0.1:0", "--trainer=" + trainer_->address(),
         "--state_dir=" + dir_ + "/crawl", "--credentials_file=" + dir_ + "/credentials",
         "--spotify_api_url=" + fake_->url(), "--spotify_accounts_url=" + fake_->url(),
         absl::StrCat("--queries=", kQueries), "--pages=100", "--page_size=50",
         "--batch_ids=50", "--max_rps=150", "--default_retry_after=20ms",
         "--initial_backoff=10ms", "--progress_interval=1s", "--refresh_interval=1h",
         "--request_timeout=2s"},
        dir_ + "/ingestd.log");
    if (!d.ok()) return d.status();
    ingest_ = *std::move(d);
    ingest_stub_ = v1::IngestService::NewStub(MakeChannel(ingest_->address()));
    return absl::OkStatus();
  }

  // Polls GetCrawlStatus until `done` holds, for at most `timeout`.
  v1::GetCrawlStatusResponse WaitFor(
      const std::function<bool(const v1::GetCrawlStatusResponse&)>& done,
      absl::Duration timeout) {
    v1::GetCrawlStatusResponse status;
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(2));
      status.Clear();
      grpc::Status s =
          ingest_stub_->GetCrawlStatus(&context, v1::GetCrawlStatusRequest(), &status);
      if (s.ok() && done(status)) return status;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "crawl status not reached in time: " << status.ShortDebugString();
    return status;
  }

  std::string dir_;
  Json truth_;
  std::unique_ptr<testing::FakeSpotifyServer> fake_;
  std::unique_ptr<DaemonProcess> trainer_, query_, ingest_;
  std::unique_ptr<v1::IngestService::Stub> ingest_stub_;
};

void ExpectSameTrack(const v1::Track& got, const Json& want) {
  const std::string id = want["id"];
  EXPECT_EQ(got.name(), want["name"].get<std::string>()) << id;
  EXPECT_EQ(got.album().id(), want["album_id"].get<std::string>()) << id;
  EXPECT_EQ(got.duration_ms(), want["duration_ms"].get<int64_t>()) << id;
  EXPECT_EQ(got.explicit_(), want["explicit"].get<bool>()) << id;
  EXPECT_EQ(got.popularity(), want["popularity"].get<int>()) << id;
  ASSERT_EQ(got.artists_size(), static_cast<int>(want["artist_ids"].size())) << id;
  for (int i = 0; i < got.artists_size(); ++i) {
    EXPECT_EQ(got.artists(i).id(), want["artist_ids"][i].get<std::string>()) << id;
  }
  const Json& f = want["features"];
  ASSERT_EQ(got.has_audio_features(), !f.is_null()) << id;
  if (f.is_null()) return;
  const v1::AudioFeatures& a = got.audio_features();
  const std::pair<double, const char*> values[] = {
      {a.acousticness(), "acousticness"},
      {a.danceability(), "danceability"},
      {a.energy(), "energy"},
      {a.instrumentalness(), "instrumentalness"},
      {a.liveness(), "liveness"},
      {a.loudness(), "loudness"},
      {a.speechiness(), "speechiness"},
      {a.tempo(), "tempo"},
      {a.valence(), "valence"}};
  for (const auto& [value, name] : values) {
    EXPECT_NEAR(value, f[name].get<double>(), 1e-4) << id << " " << name;
  }
  EXPECT_EQ(a.key(), f["key"].get<int>()) << id;
  EXPECT_EQ(a.mode(), f["mode"].get<int>()) << id;
  EXPECT_EQ(a.time_signature(), f["time_signature"].get<int>()) << id;
}

TEST_F(CrawlTest, CrawlSurvivesKillAndTrainerRestartAndServesTheGroundTruth) {
  absl::StatusOr<std::string> dir = MakeTempDir("cratedig-crawl");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = *dir;
  std::ofstream(dir_ + "/credentials") << "SPOTIFY_CLIENT_ID=test-client\n"
                                       << "SPOTIFY_CLIENT_SECRET=test-secret\n";
  auto fake = testing::FakeSpotifyServer::Start(
      {"--artists=150", "--every_429=7", "--retry_after=0", "--every_5xx=23",
       "--every_truncated=31", "--every_401=97", "--every_slow=53", "--slow_ms=100",
       "--dump=" + dir_ + "/truth.json"});
  ASSERT_TRUE(fake.ok()) << fake.status();
  fake_ = *std::move(fake);
  truth_ = Json::parse(std::ifstream(dir_ + "/truth.json"));
  const int64_t total = truth_["tracks"].size();
  ASSERT_GT(total, 2000);
  ASSERT_TRUE(StartTrainer("127.0.0.1:0").ok());
  const std::string trainer_address = trainer_->address();
  auto query =
      DaemonProcess::Start("queryd", BinaryPath("queryd"),
                           {"--listen=127.0.0.1:0", "--trainer=" + trainer_address,
                            "--data_dir=" + dir_ + "/query"},
                           dir_ + "/queryd.log");
  ASSERT_TRUE(query.ok()) << query.status();
  query_ = *std::move(query);

  // Crawl a fifth, then SIGKILL ingestd in the middle of whatever it was doing.
  ASSERT_TRUE(StartIngest().ok());
  WaitFor([&](const auto& s) { return s.tracks() >= total / 5; }, absl::Seconds(40));
  kill(ingest_->pid(), SIGKILL);
  ingest_.reset();

  // Restart: it goes on; the trainer goes away for a while and comes back on its port.
  ASSERT_TRUE(StartIngest().ok());
  WaitFor([&](const auto& s) { return s.tracks() >= total / 2; }, absl::Seconds(40));
  ASSERT_TRUE(trainer_->Stop().ok());
  WaitFor([&](const auto& s) { return s.outbox_batches() > 2; }, absl::Seconds(20));
  ASSERT_TRUE(StartTrainer(trainer_address).ok());
  v1::GetCrawlStatusResponse done = WaitFor(
      [](const auto& s) {
        return s.phase() == "waiting" && s.outbox_batches() == 0 &&
               s.failed_items() == 0 && s.albums_done() == s.albums_total() &&
               s.albums_total() > 0;
      },
      absl::Seconds(60));
  std::cout << "crawl status: " << done.ShortDebugString() << "\n"
            << "fake: " << fake_->Stats().value_or("?") << "\n";

  absl::StatusOr<CommandResult> train =
      RunCommand({BinaryPath("cratedig"), "--trainer=" + trainer_address,
                  "--server=" + query_->address(), "--timeout=60", "--json", "train"});
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->exit_code, 0) << train->err;
  Json trained = Json::parse(train->out);
  EXPECT_EQ(trained["tracks"].get<int64_t>(), total) << "duplicates or missing tracks";

  auto queries = v1::QueryService::NewStub(MakeChannel(query_->address()));
  v1::GetTracksRequest request;
  for (const Json& t : truth_["tracks"])
    request.add_track_ids(t["id"].get<std::string>());
  v1::GetTracksResponse response;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  grpc::Status status;
  do {  // until queryd serves the new snapshot
    grpc::ClientContext context;
    SetDeadline(&context);
    response.Clear();
    status = queries->GetTracks(&context, request, &response);
    if (status.ok() && response.snapshot_version() == trained["snapshot"]) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.missing_ids_size(), 0)
      << "first missing: " << response.missing_ids(0);
  ASSERT_EQ(response.tracks_size(), total);
  for (int i = 0; i < response.tracks_size(); ++i) {
    ExpectSameTrack(response.tracks(i).track(), truth_["tracks"][i]);
    if (HasFailure()) break;
  }
}

TEST_F(CrawlTest, RefusedCredentialsEndOnceWithAClearMessage) {
  absl::StatusOr<std::string> dir = MakeTempDir("cratedig-crawl");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = *dir;
  std::ofstream(dir_ + "/credentials") << "SPOTIFY_CLIENT_ID=test-client\n"
                                       << "SPOTIFY_CLIENT_SECRET=not-the-secret-42\n";
  auto fake = testing::FakeSpotifyServer::Start({"--artists=3"});
  ASSERT_TRUE(fake.ok()) << fake.status();
  absl::StatusOr<CommandResult> run = RunCommand(
      {BinaryPath("ingestd"), "--listen=127.0.0.1:0", "--trainer=127.0.0.1:1",
       "--state_dir=" + dir_ + "/crawl", "--credentials_file=" + dir_ + "/credentials",
       "--spotify_api_url=" + (*fake)->url(), "--spotify_accounts_url=" + (*fake)->url(),
       "--once"},
      "", absl::Seconds(30));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 3) << run->err;
  EXPECT_NE(run->err.find("Spotify refused the client credentials"), std::string::npos)
      << run->err;
  EXPECT_EQ(run->err.find("not-the-secret-42"), std::string::npos) << run->err;
}

// ingestd --once crawls public playlists by id (development mode: the /tracks route
// answers 403 and the crawl moves to /items; faults on the way), through the outbox into
// the trainer, which stores them; an id that is not one is refused before any request.
TEST_F(CrawlTest, CrawlsPublicPlaylistsByIdIntoTheTrainer) {
  absl::StatusOr<std::string> dir = MakeTempDir("cratedig-crawl");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = *dir;
  std::ofstream(dir_ + "/credentials") << "SPOTIFY_CLIENT_ID=test-client\n"
                                       << "SPOTIFY_CLIENT_SECRET=test-secret\n";
  auto fake = testing::FakeSpotifyServer::Start(
      {"--artists=8", "--dev_mode", "--every_429=9", "--retry_after=0", "--every_5xx=13",
       "--dump=" + dir_ + "/truth.json"});
  ASSERT_TRUE(fake.ok()) << fake.status();
  fake_ = *std::move(fake);
  truth_ = Json::parse(std::ifstream(dir_ + "/truth.json"));
  ASSERT_EQ(truth_["playlists"].size(), 3u);
  ASSERT_TRUE(StartTrainer("127.0.0.1:0").ok());
  const std::string first = truth_["playlists"][0]["id"];
  std::ofstream(dir_ + "/playlists")
      << "# two by link and uri\n"
      << "https://open.spotify.com/playlist/"
      << truth_["playlists"][1]["id"].get<std::string>()
      << "?si=x\nspotify:playlist:" << truth_["playlists"][2]["id"].get<std::string>()
      << "\n";
  std::vector<std::string> argv = {BinaryPath("ingestd"),
                                   "--listen=127.0.0.1:0",
                                   "--trainer=" + trainer_->address(),
                                   "--state_dir=" + dir_ + "/crawl",
                                   "--credentials_file=" + dir_ + "/credentials",
                                   "--spotify_api_url=" + fake_->url(),
                                   "--spotify_accounts_url=" + fake_->url(),
                                   "--queries=",
                                   "--playlists=" + first,
                                   "--playlists_file=" + dir_ + "/playlists",
                                   "--max_rps=0",
                                   "--default_retry_after=20ms",
                                   "--initial_backoff=10ms",
                                   "--once"};
  absl::StatusOr<CommandResult> run = RunCommand(argv, "", absl::Seconds(60));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->exit_code, 0) << run->err;

  auto catalog = v1::CatalogService::NewStub(MakeChannel(trainer_->address()));
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetCatalogStatusResponse status;
  ASSERT_TRUE(
      catalog->GetCatalogStatus(&context, v1::GetCatalogStatusRequest(), &status).ok());
  EXPECT_EQ(status.playlists(), 3);
  size_t playlist_tracks = 0;
  std::set<std::string> distinct;
  for (const Json& p : truth_["playlists"]) {
    for (const Json& id : p["track_ids"]) distinct.insert(id.get<std::string>());
    playlist_tracks += p["track_ids"].size();
  }
  EXPECT_EQ(status.tracks(), static_cast<int64_t>(distinct.size()));
  ASSERT_GT(playlist_tracks, 100u);
  // Each playlist reached the trainer with its name and its tracks in order.
  auto store = trainer::CatalogStore::Open(dir_ + "/trainer");
  ASSERT_TRUE(store.ok()) << store.status();
  std::map<std::string, v1::Playlist> stored;
  ASSERT_TRUE(
      (*store)
          ->ForEachPlaylist([&](v1::Playlist&& p) { stored[p.id()] = std::move(p); })
          .ok());
  ASSERT_EQ(stored.size(), 3u);
  for (const Json& p : truth_["playlists"]) {
    const v1::Playlist& got = stored[p["id"].get<std::string>()];
    EXPECT_EQ(got.name(), p["name"].get<std::string>());
    EXPECT_EQ(got.source(), "spotify");
    EXPECT_EQ(std::vector<std::string>(got.track_ids().begin(), got.track_ids().end()),
              p["track_ids"].get<std::vector<std::string>>());
  }

  argv.back() = "--playlists=not-a-playlist";
  argv.push_back("--once");
  run = RunCommand(argv, "", absl::Seconds(30));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 2) << run->err;
  EXPECT_NE(run->err.find("'not-a-playlist' is not a Spotify playlist id"),
            std::string::npos)
      << run->err;
}

}  // namespace
}  // namespace cratedig::subprocess
