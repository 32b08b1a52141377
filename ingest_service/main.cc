// ingestd: serves cratedig.v1.IngestService (plus health and reflection), reading catalog
// files and streaming them to the trainer; with --state_dir it also crawls the Spotify
// Web API (see docs/ingest.md). Flags and wiring only; the logic is in ingest_lib.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/daemon.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "ingest_service/catalog_import.h"
#include "ingest_service/crawl_daemon.h"
#include "ingest_service/ingest_grpc_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address to serve IngestService on, HOST:PORT; port 0 picks a free port");
ABSL_FLAG(std::string, trainer, "",
          "address of trainerd's CatalogService, HOST:PORT (required)");
ABSL_FLAG(
    std::string, state_dir, "",
    "crawl the Spotify Web API, keeping the crawl state and outbox here; without it "
    "ingestd only imports files");
ABSL_FLAG(std::string, credentials_file, "",
          "file with SPOTIFY_CLIENT_ID=... and SPOTIFY_CLIENT_SECRET=... lines; default: "
          "those environment variables");
ABSL_FLAG(std::string, queries, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z",
          "comma-separated artist searches (any search text, e.g. genre:\"latin\")");
ABSL_FLAG(int, pages, 10, "search pages per query");
ABSL_FLAG(std::string, playlists, "",
          "public playlists to crawl (every page of their tracks, sent with the "
          "playlist): comma-separated Spotify ids, spotify:playlist: uris or "
          "open.spotify.com links; --queries= crawls only these");
ABSL_FLAG(std::string, playlists_file, "",
          "a file of playlists to crawl, one id, uri or link a line ('#' comments)");
ABSL_FLAG(int, page_size, 10,
          "page size of search and artist albums: 10 at most for a development-mode app, "
          "50 with extended quota");
ABSL_FLAG(
    int, batch_ids, 1,
    "ids per track/artist details request: 1 (development mode: /v1/tracks/{id}) or up "
    "to 50 (extended quota: batch endpoints, audio features 100 at a time)");
ABSL_FLAG(std::string, include_groups, "album",
          "include_groups of the artist albums call");
ABSL_FLAG(bool, track_details, true,
          "fetch /v1/tracks details (popularity, explicit) besides the album listing");
ABSL_FLAG(double, max_rps, 5, "Web API requests per second over the whole daemon");
ABSL_FLAG(int, max_attempts, 6, "attempts per request for 5xx, timeouts, broken answers");
ABSL_FLAG(
    absl::Duration, initial_backoff, absl::Milliseconds(500),
    "first wait before retrying a 5xx, timeout or broken answer; doubles up to 30s");
ABSL_FLAG(absl::Duration, default_retry_after, absl::Seconds(1),
          "wait after a 429 that has no (or a zero) Retry-After header");
ABSL_FLAG(absl::Duration, request_timeout, absl::Seconds(30), "timeout of one request");
ABSL_FLAG(absl::Duration, refresh_interval, absl::Hours(24),
          "time from the end of a crawl to the start of the next");
ABSL_FLAG(absl::Duration, progress_interval, absl::Seconds(5),
          "how often progress is logged");
ABSL_FLAG(bool, once, false,
          "crawl once, deliver everything to the trainer, then exit (0 when complete)");
ABSL_FLAG(std::string, spotify_api_url, "https://api.spotify.com", "Web API base URL");
ABSL_FLAG(std::string, spotify_accounts_url, "https://accounts.spotify.com",
          "accounts service base URL (POST /api/token)");

namespace {

cratedig::ingest::CrawlDaemonOptions CrawlFlags() {
  cratedig::ingest::CrawlDaemonOptions o;
  o.state_dir = absl::GetFlag(FLAGS_state_dir);
  o.crawl.queries = cratedig::ingest::SplitQueries(absl::GetFlag(FLAGS_queries));
  o.crawl.pages = absl::GetFlag(FLAGS_pages);
  std::string playlists = absl::GetFlag(FLAGS_playlists);
  if (const std::string file = absl::GetFlag(FLAGS_playlists_file); !file.empty()) {
    std::ifstream in(file);
    if (!in.is_open()) {
      CD_LOG(ERROR) << "--playlists_file: cannot read " << file;
      std::exit(2);
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StrAppend(&playlists, "\n", text.str());
  }
  absl::StatusOr<std::vector<std::string>> ids =
      cratedig::ingest::ParsePlaylistIds(playlists);
  if (!ids.ok()) {
    CD_LOG(ERROR) << "--playlists: " << ids.status().message();
    std::exit(2);
  }
  o.crawl.playlists = *std::move(ids);
  o.crawl.page_size = absl::GetFlag(FLAGS_page_size);
  o.crawl.batch_ids = absl::GetFlag(FLAGS_batch_ids);
  o.crawl.include_groups = absl::GetFlag(FLAGS_include_groups);
  o.crawl.track_details = absl::GetFlag(FLAGS_track_details);
  o.client.api_url = absl::GetFlag(FLAGS_spotify_api_url);
  o.client.accounts_url = absl::GetFlag(FLAGS_spotify_accounts_url);
  o.client.max_rps = absl::GetFlag(FLAGS_max_rps);
  o.client.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  o.client.request_timeout = absl::GetFlag(FLAGS_request_timeout);
  o.client.default_retry_after = absl::GetFlag(FLAGS_default_retry_after);
  o.client.initial_backoff = absl::GetFlag(FLAGS_initial_backoff);
  o.once = absl::GetFlag(FLAGS_once);
  o.refresh_interval = absl::GetFlag(FLAGS_refresh_interval);
  o.progress_interval = absl::GetFlag(FLAGS_progress_interval);
  return o;
}

// Returns the crawl, or null when --state_dir is not set; exits on bad settings.
std::unique_ptr<cratedig::ingest::CrawlDaemon> MakeCrawl(
    cratedig::v1::CatalogService::StubInterface* trainer) {
  if (absl::GetFlag(FLAGS_state_dir).empty()) {
    if (absl::GetFlag(FLAGS_once)) {
      CD_LOG(ERROR) << "--once needs --state_dir (it crawls the Spotify Web API)";
      std::exit(2);
    }
    return nullptr;
  }
  absl::StatusOr<cratedig::ingest::SpotifyCredentials> credentials =
      cratedig::ingest::LoadSpotifyCredentials(absl::GetFlag(FLAGS_credentials_file));
  if (!credentials.ok()) {
    CD_LOG(ERROR) << credentials.status();
    std::exit(2);
  }
  absl::StatusOr<std::unique_ptr<cratedig::ingest::CrawlDaemon>> crawl =
      cratedig::ingest::CrawlDaemon::Create(CrawlFlags(), *std::move(credentials),
                                            cratedig::ingest::NewCurlHttpClient(),
                                            trainer);
  if (!crawl.ok()) {
    CD_LOG(ERROR) << crawl.status();
    std::exit(2);
  }
  return *std::move(crawl);
}

// With --once: stops the daemon once the crawl finished.
std::thread ShutdownWhenFinished(cratedig::ingest::CrawlDaemon* crawl) {
  return std::thread([crawl] {
    crawl->finished().WaitForNotification();
    cratedig::RequestShutdown();
  });
}

// 0 when the crawl is complete, 3 when Spotify refused the credentials, 1 otherwise.
int OnceExitCode(cratedig::ingest::CrawlDaemon* crawl) {
  absl::Status result = crawl->WaitUntilFinished();
  if (!result.ok()) {
    CD_LOG(ERROR) << "crawl did not complete: " << result;
    return absl::IsUnauthenticated(result) ? 3 : 1;
  }
  CD_LOG(INFO) << "crawl complete";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the blocked signal mask.
  cratedig::WatchShutdownSignals();
  absl::SetProgramUsageMessage(
      "ingestd --trainer=HOST:PORT [--listen=HOST:PORT] [--state_dir=DIR [--once]]");
  absl::ParseCommandLine(argc, argv);
  cratedig::SetLogProgramName("ingestd");
  const std::string trainer = absl::GetFlag(FLAGS_trainer);
  if (trainer.empty()) {
    CD_LOG(ERROR)
        << "--trainer is required: the address of trainerd, e.g. 127.0.0.1:50052";
    return 2;
  }
  absl::StatusOr<cratedig::DaemonFlags> flags = cratedig::DaemonFlagsFromCommandLine();
  if (!flags.ok()) {
    CD_LOG(ERROR) << flags.status();
    return 2;
  }
  auto channel = cratedig::MakeSecureChannel(trainer, flags->trainer);
  if (!channel.ok()) {
    CD_LOG(ERROR) << channel.status();
    return 2;
  }
  std::shared_ptr<cratedig::v1::CatalogService::StubInterface> stub =
      cratedig::v1::CatalogService::NewStub(*channel);
  cratedig::ingest::IngestGrpcService service(stub, cratedig::ingest::ImportOptions{});
  std::unique_ptr<cratedig::ingest::CrawlDaemon> crawl = MakeCrawl(stub.get());
  std::thread once_watcher;
  if (crawl != nullptr) {
    service.SetCrawlStatusSource([&crawl] { return crawl->Status(); });
  }

  cratedig::DaemonOptions options;
  options.name = "ingestd";
  options.listen = absl::GetFlag(FLAGS_listen);
  options.services = {&service};
  options.access = flags->server;
  options.max_concurrent_calls = flags->max_concurrent_calls;
  options.on_started = [&](grpc::Server*) {
    if (crawl == nullptr) return;
    crawl->Start();
    if (absl::GetFlag(FLAGS_once)) once_watcher = ShutdownWhenFinished(crawl.get());
  };
  options.on_stopping = [&] {
    if (crawl != nullptr) crawl->Stop();
  };
  CD_LOG(INFO) << "starting listen=" << options.listen << " trainer=" << trainer
               << (crawl != nullptr ? " crawl=on" : "");
  absl::Status status = cratedig::RunDaemon(options);
  if (once_watcher.joinable()) once_watcher.join();
  if (!status.ok()) {
    CD_LOG(ERROR) << status;
    return 1;
  }
  if (crawl != nullptr && absl::GetFlag(FLAGS_once)) return OnceExitCode(crawl.get());
  return 0;
}
