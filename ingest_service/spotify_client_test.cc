// SpotifyClient against tests/fakes/fake_spotify.py: token reuse and refresh, 429 with
// Retry-After, bounded retries with backoff, broken JSON, and parsing incl. null fields.

#include "ingest_service/spotify_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "ingest_service/spotify_json.h"
#include "tests/fakes/fake_spotify_server.h"

namespace cratedig::ingest {
namespace {

using ::cratedig::testing::FakeSpotifyServer;
using ::testing::HasSubstr;
using ::testing::Not;

struct Harness {
  std::unique_ptr<FakeSpotifyServer> fake;
  std::unique_ptr<SpotifyClient> client;
};

SpotifyClientOptions FastOptions(const std::string& url) {
  SpotifyClientOptions options;
  options.api_url = url;
  options.accounts_url = url;
  options.max_rps = 0;
  options.max_attempts = 4;
  options.initial_backoff = absl::Milliseconds(10);
  options.max_backoff = absl::Milliseconds(40);
  options.default_retry_after = absl::Milliseconds(100);
  options.request_timeout = absl::Seconds(5);
  return options;
}

Harness Start(const std::vector<std::string>& args, SpotifyClientOptions* tweak = nullptr,
              SpotifyCredentials credentials = {"test-client", "test-secret"}) {
  Harness s;
  absl::StatusOr<std::unique_ptr<FakeSpotifyServer>> fake =
      FakeSpotifyServer::Start(args);
  EXPECT_TRUE(fake.ok()) << fake.status();
  if (!fake.ok()) return s;
  s.fake = *std::move(fake);
  SpotifyClientOptions options = FastOptions(s.fake->url());
  if (tweak != nullptr) {
    tweak->api_url = options.api_url;
    tweak->accounts_url = options.accounts_url;
    options = *tweak;
  }
  s.client = NewSpotifyClient(NewCurlHttpClient(), credentials, options);
  return s;
}

nlohmann::json Stats(const Harness& s) {
  absl::StatusOr<std::string> text = s.fake->Stats();
  EXPECT_TRUE(text.ok()) << text.status();
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

TEST(SpotifyClientTest, ReusesOneTokenAndPagesSearch) {
  Harness s = Start({"--artists=30"});
  ASSERT_NE(s.client, nullptr);
  int64_t seen = 0;
  for (int offset = 0; offset < 30; offset += 10) {
    auto page = s.client->SearchArtists("genre:\"latin\"", offset, 10);
    ASSERT_TRUE(page.ok()) << page.status();
    seen += page->items.size();
    EXPECT_EQ(page->has_next, offset + 10 < page->total);
  }
  EXPECT_GT(seen, 0);
  EXPECT_EQ(s.client->stats().token_fetches, 1);
  EXPECT_EQ(s.client->stats().requests, 3);
}

TEST(SpotifyClientTest, RefreshesTokenOn401) {
  Harness s = Start({"--every_401=3"});
  ASSERT_NE(s.client, nullptr);
  for (int i = 0; i < 8; ++i) {
    auto page = s.client->SearchArtists("a", 0, 5);
    ASSERT_TRUE(page.ok()) << page.status();
  }
  EXPECT_GE(s.client->stats().token_fetches, 3);
}

TEST(SpotifyClientTest, RefreshesTokenShortlyBeforeExpiry) {
  Harness s = Start({"--token_ttl=2"});
  ASSERT_NE(s.client, nullptr);
  ASSERT_TRUE(s.client->SearchArtists("a", 0, 5).ok());
  absl::SleepFor(absl::Milliseconds(1600));  // past 3/4 of the lifetime, before expiry
  ASSERT_TRUE(s.client->SearchArtists("a", 0, 5).ok());
  EXPECT_EQ(s.client->stats().token_fetches, 2);
  EXPECT_EQ(Stats(s)["injected"].value("401", 0), 0);
}

TEST(SpotifyClientTest, HonoursRetryAfterBeforeAnyFurtherRequest) {
  Harness s = Start({"--every_429=2", "--retry_after=1"});
  ASSERT_NE(s.client, nullptr);
  absl::Time start = absl::Now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.client->SearchArtists("a", 0, 5).ok());
  EXPECT_GE(absl::Now() - start, absl::Seconds(2));
  EXPECT_GE(s.client->stats().rate_limited, 2);
  EXPECT_EQ(Stats(s)["violations"], 0);
}

TEST(SpotifyClientTest, SpacesRequestsByMaxRps) {
  SpotifyClientOptions options = FastOptions("");
  options.max_rps = 20;
  Harness s = Start({}, &options);
  ASSERT_NE(s.client, nullptr);
  absl::Time start = absl::Now();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.client->SearchArtists("a", 0, 5).ok());
  EXPECT_GE(absl::Now() - start,
            absl::Milliseconds(400));  // token + 10 requests, 50 ms apart
}

TEST(SpotifyClientTest, BacksOffAnywayWhenRetryAfterIsZero) {
  Harness s = Start({"--every_429=2", "--retry_after=0"});
  ASSERT_NE(s.client, nullptr);
  absl::Time start = absl::Now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.client->SearchArtists("a", 0, 5).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
}

TEST(SpotifyClientTest, RetriesServerErrorsWithinABound) {
  Harness s = Start({"--every_5xx=1"});
  ASSERT_NE(s.client, nullptr);
  absl::Time start = absl::Now();
  auto page = s.client->SearchArtists("a", 0, 5);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable) << page.status();
  EXPECT_THAT(page.status().message(), HasSubstr("gave up after 4 attempts"));
  EXPECT_EQ(s.client->stats().requests, 4);
  // Backoffs of at most 10, 20, 40, 40 ms (jitter only shortens them).
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(SpotifyClientTest, RetriesTruncatedJsonAndSlowAnswers) {
  SpotifyClientOptions options = FastOptions("");
  options.request_timeout = absl::Milliseconds(500);
  Harness s =
      Start({"--every_truncated=2", "--every_slow=3", "--slow_ms=1500"}, &options);
  ASSERT_NE(s.client, nullptr);
  for (int i = 0; i < 6; ++i) {
    auto page = s.client->SearchArtists("a", 0, 5);
    ASSERT_TRUE(page.ok()) << page.status();
  }
  EXPECT_GE(s.client->stats().retries, 3);
}

TEST(SpotifyClientTest, RefusedCredentialsAreUnauthenticatedAndNotEchoed) {
  Harness s = Start({}, nullptr, {"test-client", "wrong-secret-xyz"});
  ASSERT_NE(s.client, nullptr);
  auto page = s.client->SearchArtists("a", 0, 5);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(page.status().message(), HasSubstr("refused the client credentials"));
  EXPECT_THAT(page.status().message(), Not(HasSubstr("wrong-secret-xyz")));
}

TEST(SpotifyClientTest, DevModeLeavesDeprecatedFieldsAbsent) {
  Harness s = Start({"--dev_mode", "--features_403"});
  ASSERT_NE(s.client, nullptr);
  auto page = s.client->SearchArtists("genre:\"rock\"", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_FALSE(page->items.empty());
  const v1::Artist& artist = page->items[0];
  EXPECT_FALSE(artist.has_popularity());
  EXPECT_FALSE(artist.has_followers());
  EXPECT_EQ(artist.genres_size(), 0);
  EXPECT_EQ(s.client->SearchArtists("a", 0, 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto albums = s.client->ArtistAlbums(artist.id(), "album", 0, 10);
  ASSERT_TRUE(albums.ok()) << albums.status();
  ASSERT_FALSE(albums->items.empty());
  auto tracks = s.client->AlbumTracks(albums->items[0].id(), 0, 50);
  ASSERT_TRUE(tracks.ok()) << tracks.status();
  ASSERT_FALSE(tracks->items.empty());
  auto details = s.client->GetTracks({tracks->items[0].id()});
  ASSERT_TRUE(details.ok()) << details.status();
  ASSERT_TRUE((*details)[0].has_value());
  EXPECT_FALSE((*details)[0]->has_popularity());
  EXPECT_TRUE((*details)[0]->has_explicit_());
  EXPECT_EQ(s.client->GetAudioFeatures({tracks->items[0].id()}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SpotifyClientTest, BatchCallsGiveEmptyEntriesForUnknownIds) {
  Harness s = Start({});
  ASSERT_NE(s.client, nullptr);
  auto page = s.client->SearchArtists("genre:\"jazz\"", 0, 50);
  ASSERT_TRUE(page.ok()) << page.status();
  auto artists = s.client->GetArtists({page->items[0].id(), "0000000000000000000000"});
  ASSERT_TRUE(artists.ok()) << artists.status();
  ASSERT_EQ(artists->size(), 2u);
  EXPECT_TRUE((*artists)[0]->has_popularity());
  EXPECT_GT((*artists)[0]->genres_size(), 0);
  EXPECT_FALSE((*artists)[1].has_value());
  auto single = s.client->GetTracks({"0000000000000000000000"});
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_FALSE((*single)[0].has_value());
}

// Get Playlist answers the playlist's name (the fake's names have non-ASCII letters);
// an unknown playlist is NotFound, an answer without a string name DataLoss.
TEST(SpotifyClientTest, PlaylistNameOrNotFound) {
  Harness s =
      Start({"--dev_mode", "--artists=4",
             "--dump=" + ::testing::TempDir() + "/spotify_client_test_truth.json"});
  ASSERT_NE(s.client, nullptr);
  const nlohmann::json truth = nlohmann::json::parse(
      std::ifstream(::testing::TempDir() + "/spotify_client_test_truth.json"));
  ASSERT_FALSE(truth["playlists"].empty());
  for (const nlohmann::json& p : truth["playlists"]) {
    auto name = s.client->PlaylistName(p["id"].get<std::string>());
    ASSERT_TRUE(name.ok()) << name.status();
    EXPECT_EQ(*name, p["name"].get<std::string>());
  }
  EXPECT_TRUE(
      absl::IsNotFound(s.client->PlaylistName("0000000000000000000000").status()));
  EXPECT_EQ(*ParsePlaylistName(nlohmann::json{{"name", "Mix"}, {"id", "x"}}), "Mix");
  for (const char* bad : {R"({"name": null})", R"({"name": 7})", "[]", "{}", "null"}) {
    EXPECT_TRUE(absl::IsDataLoss(ParsePlaylistName(nlohmann::json::parse(bad)).status()))
        << bad;
  }
}

TEST(SpotifyJsonTest, NullAndMissingFieldsStayAbsent) {
  auto json = ParseJsonBody(R"({"id":"x","name":"Ñandú, \"live\" 🎸","popularity":null,
      "explicit":null,"duration_ms":1000,"artists":[{"id":"a","name":"坂本龍一"}],
      "album":{"id":"b","name":"n","release_date":"1999-03","release_date_precision":"month"}})");
  ASSERT_TRUE(json.ok());
  v1::Track t = ParseTrack(*json);
  EXPECT_EQ(t.name(), "Ñandú, \"live\" 🎸");
  EXPECT_FALSE(t.has_popularity());
  EXPECT_FALSE(t.has_explicit_());
  EXPECT_EQ(t.duration_ms(), 1000);
  EXPECT_EQ(t.artists(0).name(), "坂本龍一");
  EXPECT_EQ(t.album().release_date().month(), 3);
  EXPECT_EQ(t.album().release_date().precision(), v1::RELEASE_DATE_PRECISION_MONTH);
  v1::AudioFeatures f =
      ParseAudioFeatures(nlohmann::json::parse(R"({"key":-1,"tempo":null})"));
  EXPECT_TRUE(f.has_key());
  EXPECT_EQ(f.key(), -1);
  EXPECT_FALSE(f.has_tempo());
  EXPECT_FALSE(f.has_energy());
  // Whole numbers beyond int64 (found by the spotify fuzzer: a double of 3e66 was cast)
  // are absent, not wrapped.
  f = ParseAudioFeatures(nlohmann::json::parse(
      R"({"key":3.3e66,"mode":18446744073709551615,"time_signature":-1e300})"));
  EXPECT_FALSE(f.has_key());
  EXPECT_FALSE(f.has_mode());
  EXPECT_FALSE(f.has_time_signature());
  EXPECT_EQ(ParseJsonBody(R"({"items": [)").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cratedig::ingest
