#include "ingest_service/crawl_daemon.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "ingest_service/rate_limiter.h"

namespace cratedig::ingest {

absl::StatusOr<std::unique_ptr<CrawlDaemon>> CrawlDaemon::Create(
    CrawlDaemonOptions options, SpotifyCredentials credentials,
    std::unique_ptr<HttpClient> http, v1::CatalogService::StubInterface* trainer) {
  absl::Status valid = options.crawl.Validate();
  if (valid.ok()) valid = options.client.Validate();
  if (!valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<CrawlState>> state = CrawlState::Open(options.state_dir);
  if (!state.ok()) return state.status();
  std::unique_ptr<CrawlDaemon> d(new CrawlDaemon(std::move(options), *std::move(state)));
  d->options_.client.cancel = &d->cancel_;
  d->client_ =
      NewSpotifyClient(std::move(http), std::move(credentials), d->options_.client);
  d->crawler_ = std::make_unique<Crawler>(d->client_.get(), d->state_.get(),
                                          d->options_.crawl, &d->cancel_);
  d->sender_ =
      std::make_unique<OutboxSender>(d->state_.get(), trainer, d->options_.sender);
  return d;
}

CrawlDaemon::~CrawlDaemon() { Stop(); }

void CrawlDaemon::Start() {
  sender_->Start();
  crawl_thread_ = std::thread([this] { CrawlLoop(); });
  progress_thread_ = std::thread([this] {
    while (!cancel_.WaitForNotificationWithTimeout(options_.progress_interval))
      LogProgress();
  });
}

void CrawlDaemon::Stop() {
  if (!cancel_.HasBeenNotified()) cancel_.Notify();
  if (crawl_thread_.joinable()) crawl_thread_.join();
  if (progress_thread_.joinable()) progress_thread_.join();
  sender_->Stop();
  if (!finished_.HasBeenNotified()) finished_.Notify();
}

absl::Status CrawlDaemon::WaitUntilFinished() {
  finished_.WaitForNotification();
  absl::MutexLock lock(&mu_);
  return result_;
}

void CrawlDaemon::Finish(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    result_ = std::move(status);
  }
  if (!finished_.HasBeenNotified()) finished_.Notify();
}

void CrawlDaemon::SetPhase(const std::string& phase) {
  absl::MutexLock lock(&mu_);
  phase_ = phase;
}

void CrawlDaemon::CrawlLoop() {
  while (!cancel_.HasBeenNotified()) {
    if (!options_.once) {
      absl::StatusOr<int64_t> completed = state_->LastCompletion();
      if (completed.ok() && *completed > 0) {
        absl::Time next = absl::FromUnixSeconds(*completed) + options_.refresh_interval;
        SetPhase("waiting");
        if (!SleepUnlessCancelled(next - absl::Now(), &cancel_)) return;
      }
    }
    if (!RunOnce()) return;
  }
}

bool CrawlDaemon::RunOnce() {
  SetPhase("crawling");
  absl::StatusOr<int64_t> failed = crawler_->Run();
  if (absl::IsCancelled(failed.status())) return false;
  if (!failed.ok()) {
    CD_LOG(ERROR) << "crawl run stopped: " << failed.status();
    {
      absl::MutexLock lock(&mu_);
      last_error_ = std::string(failed.status().message());
    }
    SetPhase("failed");
    if (options_.once) {
      Finish(failed.status());
      return false;
    }
    return SleepUnlessCancelled(options_.retry_failed_after, &cancel_);
  }
  LogProgress();
  CD_LOG(INFO) << "crawl run finished failed_items=" << *failed;
  if (*failed > 0) {
    SetPhase("waiting");
    if (options_.once) {
      Finish(absl::UnavailableError(absl::StrCat(
          *failed, " queries, artists or albums failed; run again to retry them")));
      return false;
    }
    return SleepUnlessCancelled(options_.retry_failed_after, &cancel_);
  }
  SetPhase("sending");
  if (!sender_->WaitUntilEmpty(&cancel_)) return false;
  SetPhase(options_.once ? "done" : "waiting");
  if (options_.once) {
    LogProgress();
    Finish(absl::OkStatus());
    return false;
  }
  return true;
}

int64_t CrawlDaemon::EtaSeconds(const CrawlCounts& c) {
  absl::MutexLock lock(&mu_);
  if (albums_at_start_ < 0 || run_at_start_ != c.run) {
    albums_at_start_ = c.albums_done;
    run_at_start_ = c.run;
    return -1;
  }
  double elapsed = absl::ToDoubleSeconds(absl::Now() - started_);
  int64_t done_here = c.albums_done - albums_at_start_;
  if (done_here <= 0 || elapsed <= 0 || c.queries_done < c.queries_total) return -1;
  double albums_per_artist =
      static_cast<double>(c.albums_total) / std::max<int64_t>(1, c.artists_done);
  double left = static_cast<double>(c.albums_total - c.albums_done) +
                albums_per_artist * static_cast<double>(c.artists_total - c.artists_done);
  return static_cast<int64_t>(left * elapsed / static_cast<double>(done_here));
}

v1::GetCrawlStatusResponse CrawlDaemon::Status() {
  v1::GetCrawlStatusResponse s;
  s.set_crawl_enabled(true);
  absl::StatusOr<CrawlCounts> c = state_->Counts();
  if (c.ok()) {
    s.set_run(c->run);
    s.set_queries_done(c->queries_done);
    s.set_queries_total(c->queries_total);
    s.set_artists_done(c->artists_done);
    s.set_artists_total(c->artists_total);
    s.set_albums_done(c->albums_done);
    s.set_albums_total(c->albums_total);
    s.set_tracks(c->tracks);
    s.set_failed_items(c->failed);
    s.set_outbox_batches(c->outbox_batches);
    s.set_playlists_done(c->playlists_done);
    s.set_playlists_total(c->playlists_total);
    s.set_eta_seconds(EtaSeconds(*c));
  }
  const SpotifyClientStats& st = client_->stats();
  s.set_requests(st.requests);
  s.set_retries(st.retries);
  s.set_errors(st.errors);
  s.set_rate_limit_waits(st.rate_limited);
  s.set_rate_limit_wait_ms(st.rate_limit_wait_ms);
  s.set_batches_acknowledged(sender_->acknowledged());
  s.set_audio_features_forbidden(crawler_->audio_features_forbidden());
  absl::MutexLock lock(&mu_);
  std::string crawler_phase = crawler_->phase();
  s.set_phase(crawler_phase != "idle" ? crawler_phase : phase_);
  s.set_last_error(last_error_);
  return s;
}

void CrawlDaemon::LogProgress() {
  v1::GetCrawlStatusResponse s = Status();
  CD_LOG(INFO) << "crawl phase=" << s.phase() << " run=" << s.run()
               << " queries=" << s.queries_done() << "/" << s.queries_total()
               << " artists=" << s.artists_done() << "/" << s.artists_total()
               << " albums=" << s.albums_done() << "/" << s.albums_total()
               << " playlists=" << s.playlists_done() << "/" << s.playlists_total()
               << " tracks=" << s.tracks() << " failed=" << s.failed_items()
               << " requests=" << s.requests() << " errors=" << s.errors()
               << " rate_limit_waits=" << s.rate_limit_waits()
               << " outbox=" << s.outbox_batches()
               << " acked=" << s.batches_acknowledged() << " eta_s=" << s.eta_seconds();
}

}  // namespace cratedig::ingest
