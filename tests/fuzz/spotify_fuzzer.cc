// libFuzzer target: Spotify Web API answers, as the crawler's client parses them. The
// first byte picks the call (bit 0x40: a playlist call; bit 0x80: the token answer is the
// fuzzed one); the rest is the body of every answer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ingest_service/http_client.h"
#include "ingest_service/spotify_client.h"

namespace {

using cratedig::ingest::HttpClient;
using cratedig::ingest::HttpRequest;
using cratedig::ingest::HttpResponse;

class FuzzedHttp final : public HttpClient {
 public:
  FuzzedHttp(std::string body, bool fuzz_token)
      : body_(std::move(body)), fuzz_token_(fuzz_token) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    HttpResponse response;
    response.status = 200;
    if (request.method == "POST" && !fuzz_token_) {
      response.body = R"({"access_token":"t","token_type":"Bearer","expires_in":3600})";
    } else {
      response.body = body_;
    }
    return response;
  }

 private:
  std::string body_;
  bool fuzz_token_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  cratedig::ingest::SpotifyClientOptions options;
  options.max_rps = 1e9;
  options.max_attempts = 1;
  options.initial_backoff = absl::ZeroDuration();
  options.max_backoff = absl::ZeroDuration();
  options.default_retry_after = absl::ZeroDuration();
  auto client = cratedig::ingest::NewSpotifyClient(
      std::make_unique<FuzzedHttp>(body, selector & 0x80), {"client-id", "client-secret"},
      options);
  if (selector & 0x40) {  // the playlist calls (the seeds above 0x40 are theirs)
    if (selector & 1) {
      (void)client->PlaylistName("37i9dQZF1DXcBWIGoYBM5M");
    } else {
      (void)client->PlaylistTracks("37i9dQZF1DXcBWIGoYBM5M", 0, 50);
    }
    return 0;
  }
  switch (selector % 8) {
    case 0:
      (void)client->SearchArtists("a", 0, 10);
      break;
    case 1:
      (void)client->ArtistAlbums("0OdUWJ0sBjDrqHygGUXeCF", "album", 0, 10);
      break;
    case 2:
      (void)client->AlbumTracks("6akEvsycLGftJxYudPjmqK", 0, 10);
      break;
    case 3:
      (void)client->GetTracks({"4jw4BotdO2WfbF0U1J7mXc"});
      break;
    case 4:
      (void)client->GetTracks({"4jw4BotdO2WfbF0U1J7mXc", "6rqhFgbbKwnb9MLmUQDhG6"});
      break;
    case 5:
      (void)client->GetArtists({"0OdUWJ0sBjDrqHygGUXeCF", "6olE6TJLqED3rqDCT0FyPh"});
      break;
    case 6:
      (void)client->GetAudioFeatures({"4jw4BotdO2WfbF0U1J7mXc"});
      break;
    default:
      (void)client->GetAudioFeatures(
          {"4jw4BotdO2WfbF0U1J7mXc", "6rqhFgbbKwnb9MLmUQDhG6"});
      break;
  }
  return 0;
}
