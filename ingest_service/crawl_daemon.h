#pragma once

// The crawl side of ingestd: the crawl loop (a run, then the next one every
// refresh_interval, or exactly one with `once`), the outbox sender and the progress log,
// each on its own thread, plus the status the GetCrawlStatus RPC answers.

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/ingest_service.pb.h"
#include "ingest_service/crawl_state.h"
#include "ingest_service/crawler.h"
#include "ingest_service/outbox_sender.h"
#include "ingest_service/spotify_client.h"

namespace cratedig::ingest {

struct CrawlDaemonOptions {
  /// Directory of the crawl state (SQLite); created when missing.
  std::string state_dir;
  CrawlOptions crawl;
  /// Its `cancel` is set by the daemon.
  SpotifyClientOptions client;
  OutboxSenderOptions sender;
  /// Crawl once, deliver the outbox, then report through WaitUntilFinished().
  bool once = false;
  /// Time from the end of a complete run to the start of the next.
  absl::Duration refresh_interval = absl::Hours(24);
  /// Time before failed items are retried when a run ended with failures.
  absl::Duration retry_failed_after = absl::Minutes(1);
  /// How often progress is logged.
  absl::Duration progress_interval = absl::Seconds(5);
};

/// Owns the crawl's threads. Thread-safe.
class CrawlDaemon {
 public:
  /// Opens the state. `trainer` must outlive the daemon.
  static absl::StatusOr<std::unique_ptr<CrawlDaemon>> Create(
      CrawlDaemonOptions options, SpotifyCredentials credentials,
      std::unique_ptr<HttpClient> http, v1::CatalogService::StubInterface* trainer);
  /// Stops the threads.
  ~CrawlDaemon();

  void Start();
  /// Stops crawling and sending; what is fetched stays in the state for the next start.
  void Stop();

  /// With `once`: blocks until the run is complete and the outbox delivered (OK), or the
  /// crawl failed (Unauthenticated for refused credentials; Unavailable when items
  /// failed). Cancelled when stopped first.
  absl::Status WaitUntilFinished();
  /// Notified when WaitUntilFinished would return.
  const absl::Notification& finished() const { return finished_; }

  v1::GetCrawlStatusResponse Status();

 private:
  CrawlDaemon(CrawlDaemonOptions options, std::unique_ptr<CrawlState> state)
      : options_(std::move(options)), state_(std::move(state)) {}
  void CrawlLoop();
  // Runs one crawl run; returns false when the loop must end.
  bool RunOnce();
  void Finish(absl::Status status);
  void LogProgress();
  void SetPhase(const std::string& phase);
  int64_t EtaSeconds(const CrawlCounts& c);

  CrawlDaemonOptions options_;
  std::unique_ptr<CrawlState> state_;
  std::unique_ptr<SpotifyClient> client_;
  std::unique_ptr<Crawler> crawler_;
  std::unique_ptr<OutboxSender> sender_;
  absl::Notification cancel_;
  absl::Notification finished_;
  std::thread crawl_thread_, progress_thread_;
  const absl::Time started_ = absl::Now();

  absl::Mutex mu_;
  std::string phase_ ABSL_GUARDED_BY(mu_) = "starting";
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Status result_ ABSL_GUARDED_BY(mu_) = absl::CancelledError("crawl stopped");
  // Albums done when this process first saw the counts, for the rate behind the ETA.
  int64_t albums_at_start_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t run_at_start_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cratedig::ingest
