#pragma once

// Sends the crawl's outbox to the trainer over IngestCatalog streams; a batch leaves the
// outbox only when the trainer acknowledged it (after storing it durably). While the
// trainer is down or slow the batches wait in the outbox and are sent again later.

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "ingest_service/crawl_state.h"

namespace cratedig::ingest {

struct OutboxSenderOptions {
  /// Batches written per IngestCatalog stream before waiting for their acknowledgements.
  int batches_per_stream = 64;
  /// Deadline of one stream.
  absl::Duration rpc_timeout = absl::Seconds(120);
  /// Longest wait between attempts while the trainer is unreachable.
  absl::Duration max_backoff = absl::Seconds(5);
  /// How often an empty outbox is looked at again.
  absl::Duration poll_interval = absl::Milliseconds(200);
};

/// Owns one sending thread. Thread-safe. `state` and `trainer` must outlive it.
class OutboxSender {
 public:
  OutboxSender(CrawlState* state, v1::CatalogService::StubInterface* trainer,
               OutboxSenderOptions options);
  /// Stops the thread.
  ~OutboxSender();

  void Start();
  void Stop();

  /// Waits until the outbox is empty (true) or `cancel` is notified (false).
  bool WaitUntilEmpty(const absl::Notification* cancel);

  int64_t acknowledged() const { return acknowledged_; }
  int64_t failures() const { return failures_; }

 private:
  void Loop();
  // Sends the oldest batches on one stream; OK when all of them were acknowledged.
  absl::Status SendSome(bool* empty);

  CrawlState* state_;
  v1::CatalogService::StubInterface* trainer_;
  const OutboxSenderOptions options_;
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<int64_t> acknowledged_{0};
  std::atomic<int64_t> failures_{0};
  std::atomic<bool> empty_{false};
};

}  // namespace cratedig::ingest
